using System.Globalization;
using System.Net;
using System.Text;
using Tuwen.Corpus.Pipeline;
using Tuwen.Data;

namespace Tuwen.Corpus.Output;

/// <summary>
/// report.html: one self-contained page (no scripts, no external files) with the counts by drop reason,
/// histograms of caption length and image size of the kept samples, and a grid of the first samples.
/// </summary>
public static class CorpusReport
{
    public const int GridSize = 24;

    /// <summary>Counts per bin, filled one kept sample at a time (a corpus does not fit in memory as a list).</summary>
    public sealed class Histograms
    {
        public Bins CaptionLength { get; } = new([0, 4, 8, 12, 16, 24, 32, 48, 64, 128]);
        public Bins ShorterSide { get; } = new([0, 200, 256, 384, 512, 768, 1024, 2048, 4096]);
        public long Samples { get; private set; }

        public void Add(HashRecord record)
        {
            CaptionLength.Add(record.CaptionLength);
            ShorterSide.Add(Math.Min(record.OriginalWidth, record.OriginalHeight));
            Samples++;
        }
    }

    /// <summary>Lower bin edges; the last bin is open-ended.</summary>
    public sealed class Bins(double[] edges)
    {
        public double[] Edges { get; } = edges;
        public long[] Counts { get; } = new long[edges.Length];

        public void Add(double value)
        {
            var bin = Edges.Length - 1;
            while (bin > 0 && value < Edges[bin]) bin--;
            Counts[bin]++;
        }
    }

    public static void Write(string path, string name, long candidates, DropCounts drops, Histograms histograms, IReadOnlyList<Sample> grid)
    {
        var html = new StringBuilder();
        html.Append("<!doctype html><html lang=\"zh\"><head><meta charset=\"utf-8\"><title>").Append(Escape(name)).Append(" — corpus report</title>");
        html.Append("<style>body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse}td,th{padding:2px 10px;border-bottom:1px solid #ddd;text-align:left}")
            .Append("td.n{text-align:right}.grid{display:flex;flex-wrap:wrap;gap:8px}.cell{width:160px;font-size:12px}.cell img{width:160px;height:160px;object-fit:contain;background:#eee}</style></head><body>");
        html.Append("<h1>").Append(Escape(name)).Append("</h1>");
        html.Append(CultureInfo.InvariantCulture, $"<p>{candidates} candidates, {histograms.Samples} kept ({Percent(histograms.Samples, candidates)}), {drops.Total} dropped.</p>");

        html.Append("<h2>Drops by reason</h2><table><tr><th>stage</th><th>reason</th><th>count</th><th>share of candidates</th></tr>");
        foreach (var (reason, count) in drops.Snapshot().OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal))
        {
            var dot = reason.IndexOf('.');
            var (stage, detail) = dot < 0 ? (reason, "") : (reason[..dot], reason[(dot + 1)..]);
            html.Append(CultureInfo.InvariantCulture, $"<tr><td>{Escape(stage)}</td><td>{Escape(detail)}</td><td class=n>{count}</td><td class=n>{Percent(count, candidates)}</td></tr>");
        }
        html.Append("</table>");

        html.Append("<h2>Caption length (characters)</h2>");
        html.Append(Histogram(histograms.CaptionLength));
        html.Append("<h2>Image size (shorter side of the original, px)</h2>");
        html.Append(Histogram(histograms.ShorterSide));

        html.Append("<h2>Samples</h2><div class=grid>");
        foreach (var sample in grid)
        {
            var mime = ImageFormats.ContentType(sample.ImageExtension);
            html.Append("<div class=cell><img alt=\"\" src=\"data:").Append(mime).Append(";base64,").Append(Convert.ToBase64String(sample.Image)).Append("\"><br>")
                .Append(Escape(sample.Key)).Append("<br>").Append(Escape(sample.Captions[0])).Append("</div>");
        }
        html.Append("</div></body></html>\n");
        AtomicFile.WriteText(path, w => w.Write(html.ToString()));
    }

    /// <summary>Horizontal bars as inline SVG; the last bin is open-ended.</summary>
    private static string Histogram(Bins bins)
    {
        var (edges, counts) = (bins.Edges, bins.Counts);
        var max = Math.Max(1, counts.Max());
        const int barHeight = 18, width = 400;
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width + 220}\" height=\"{counts.Length * barHeight + 4}\" font-size=\"12\">");
        for (var i = 0; i < counts.Length; i++)
        {
            var label = i + 1 < edges.Length ? $"{edges[i]}–{edges[i + 1]}" : $"≥ {edges[i]}";
            var length = (int)(width * counts[i] / (double)max);
            var y = i * barHeight;
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"0\" y=\"{y + 13}\">{label}</text><rect x=\"90\" y=\"{y + 2}\" width=\"{length}\" height=\"{barHeight - 4}\" fill=\"#4a7bd0\"/>")
                .Append(CultureInfo.InvariantCulture, $"<text x=\"{95 + length}\" y=\"{y + 13}\">{counts[i]}</text>");
        }
        return svg.Append("</svg>").ToString();
    }

    private static string Percent(long part, long whole) => whole == 0 ? "–" : (100.0 * part / whole).ToString("0.0", CultureInfo.InvariantCulture) + " %";

    private static string Escape(string text) => WebUtility.HtmlEncode(text);
}
