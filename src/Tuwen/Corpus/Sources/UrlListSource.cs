using System.IO.Compression;
using System.Text;
using System.Text.Json;

namespace Tuwen.Corpus.Sources;

/// <summary>
/// URL lists as img2dataset reads them: TSV and CSV with a header row, JSONL, plain text (one URL a line),
/// each optionally gzipped, and Parquet. The URL and caption columns are named by <c>url</c> and
/// <c>caption</c> unless configured otherwise; a row without a URL is counted, not skipped silently.
/// </summary>
public sealed class UrlListSource(string urlColumn = "url", string captionColumn = "caption") : ICandidateSource
{
    private static readonly string[] Extensions = [".tsv", ".csv", ".jsonl", ".txt", ".parquet"];

    public bool Accepts(string path)
    {
        var name = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? path[..^3] : path;
        return Extensions.Any(e => name.EndsWith(e, StringComparison.OrdinalIgnoreCase));
    }

    public IEnumerable<SourceItem> Read(string path, CancellationToken cancel)
    {
        var gz = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase);
        var name = (gz ? path[..^3] : path).ToLowerInvariant();
        if (name.EndsWith(".parquet")) return ParquetUrlList.Read(path, urlColumn, captionColumn, cancel);
        if (name.EndsWith(".jsonl")) return ReadJsonl(path, gz, cancel);
        if (name.EndsWith(".txt")) return ReadText(path, gz, cancel);
        return ReadDelimited(path, gz, name.EndsWith(".csv") ? ',' : '\t', cancel);
    }

    private static TextReader Open(string path, bool gz)
    {
        Stream stream = File.OpenRead(path);
        if (gz) stream = new GZipStream(stream, CompressionMode.Decompress);
        // Invalid UTF-8 becomes U+FFFD rather than an exception: one bad byte must not cost the whole file.
        return new StreamReader(stream, new UTF8Encoding(false, false), detectEncodingFromByteOrderMarks: true, 1 << 16);
    }

    private IEnumerable<SourceItem> ReadText(string path, bool gz, CancellationToken cancel)
    {
        using var reader = Open(path, gz);
        var origin = Path.GetFileName(path);
        while (reader.ReadLine() is { } line)
        {
            cancel.ThrowIfCancellationRequested();
            var url = line.Trim();
            if (url.Length == 0) continue;
            yield return new SourceItem(url, new CandidateTexts(), origin);
        }
    }

    private IEnumerable<SourceItem> ReadJsonl(string path, bool gz, CancellationToken cancel)
    {
        using var reader = Open(path, gz);
        var origin = Path.GetFileName(path);
        while (reader.ReadLine() is { } line)
        {
            cancel.ThrowIfCancellationRequested();
            if (string.IsNullOrWhiteSpace(line)) continue;
            yield return ParseJsonLine(line, origin);
        }
    }

    private SourceItem ParseJsonLine(string line, string origin)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) return SourceItem.Bad(origin, "source.bad_row");
            var url = StringProperty(doc.RootElement, urlColumn);
            if (string.IsNullOrWhiteSpace(url)) return SourceItem.Bad(origin, "source.no_url");
            return new SourceItem(url.Trim(), new CandidateTexts(Caption: StringProperty(doc.RootElement, captionColumn)), origin);
        }
        catch (JsonException)
        {
            return SourceItem.Bad(origin, "source.bad_row");
        }
    }

    private static string? StringProperty(JsonElement obj, string name)
        => obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private IEnumerable<SourceItem> ReadDelimited(string path, bool gz, char separator, CancellationToken cancel)
    {
        using var reader = Open(path, gz);
        var origin = Path.GetFileName(path);
        var rows = DelimitedRows.Read(reader, separator).GetEnumerator();
        if (!rows.MoveNext()) yield break;
        var header = rows.Current;
        var urlIndex = header.FindIndex(h => h.Trim().Equals(urlColumn, StringComparison.OrdinalIgnoreCase));
        var captionIndex = header.FindIndex(h => h.Trim().Equals(captionColumn, StringComparison.OrdinalIgnoreCase));
        if (urlIndex < 0)
            throw new TuwenException($"{path}: no \"{urlColumn}\" column in the header ({string.Join(", ", header.Take(10))}); name it with --url-column");
        while (rows.MoveNext())
        {
            cancel.ThrowIfCancellationRequested();
            var row = rows.Current;
            if (row.Count == 1 && row[0].Length == 0) continue;
            var url = urlIndex < row.Count ? row[urlIndex].Trim() : "";
            if (url.Length == 0) { yield return SourceItem.Bad(origin, "source.no_url"); continue; }
            var caption = captionIndex >= 0 && captionIndex < row.Count ? row[captionIndex] : null;
            yield return new SourceItem(url, new CandidateTexts(Caption: caption), origin);
        }
    }
}

/// <summary>CSV (RFC 4180 quoting, quoted fields may span lines) and TSV (no quoting) rows.</summary>
internal static class DelimitedRows
{
    public static IEnumerable<List<string>> Read(TextReader reader, char separator)
    {
        if (separator == '\t')
        {
            while (reader.ReadLine() is { } line) yield return [.. line.Split('\t')];
            yield break;
        }
        var field = new StringBuilder();
        var row = new List<string>();
        var quoted = false;
        var any = false;
        int c;
        while ((c = reader.Read()) >= 0)
        {
            any = true;
            var ch = (char)c;
            if (quoted)
            {
                if (ch != '"') { field.Append(ch); continue; }
                if (reader.Peek() == '"') { reader.Read(); field.Append('"'); }
                else quoted = false;
            }
            else if (ch == '"' && field.Length == 0) quoted = true;
            else if (ch == separator) { row.Add(field.ToString()); field.Clear(); }
            else if (ch == '\n')
            {
                row.Add(field.ToString().TrimEnd('\r'));
                field.Clear();
                yield return row;
                row = [];
                any = false;
            }
            else field.Append(ch);
        }
        if (any) { row.Add(field.ToString()); yield return row; }
    }
}
