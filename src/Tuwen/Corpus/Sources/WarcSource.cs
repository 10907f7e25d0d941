using System.IO.Compression;
using System.Text;

namespace Tuwen.Corpus.Sources;

/// <summary>
/// WARC files (1.0 and 1.1, the Common Crawl format): plain, or gzipped record by record as Common Crawl
/// writes them. The HTML of each <c>response</c> record becomes the images and texts of that page, with the
/// record's WARC-Target-URI as the base for relative links. A damaged file yields one counted bad item and
/// ends there: the records before the damage are kept.
/// </summary>
public sealed class WarcSource : ICandidateSource
{
    // A page larger than this is not an article with pictures; reading it would only cost memory.
    private const int MaxRecordBytes = 64 << 20;

    static WarcSource() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    public bool Accepts(string path)
        => path.EndsWith(".warc", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".warc.gz", StringComparison.OrdinalIgnoreCase);

    public IEnumerable<SourceItem> Read(string path, CancellationToken cancel)
    {
        var origin = Path.GetFileName(path);
        using var file = File.OpenRead(path);
        // GZipStream reads concatenated members, so per-record gzip needs nothing special.
        using Stream stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)
            ? new GZipStream(file, CompressionMode.Decompress)
            : file;
        var input = new BufferedStream(stream, 1 << 16);
        while (true)
        {
            cancel.ThrowIfCancellationRequested();
            WarcRecord? record;
            string? error = null;
            try { record = WarcRecord.ReadNext(input, MaxRecordBytes); }
            catch (Exception e) when (e is InvalidDataException or IOException or FormatException)
            {
                record = null;
                error = "source.damaged_warc";
            }
            if (error is not null) { yield return SourceItem.Bad(origin, error); yield break; }
            if (record is null) yield break;
            if (!record.IsHtmlResponse(out var body, out var charset)) continue;
            foreach (var item in Extract(body, charset, record.TargetUri, origin)) yield return item;
        }
    }

    private static IReadOnlyList<SourceItem> Extract(byte[] body, string? charset, string? pageUrl, string origin)
    {
        Encoding? encoding = null;
        if (charset is not null)
        {
            try { encoding = Encoding.GetEncoding(charset); }
            catch (ArgumentException) { encoding = null; }
        }
        // A declared charset decides; otherwise the parser looks for a BOM and <meta charset>.
        if (encoding is not null) return HtmlImageExtractor.Extract(encoding.GetString(body), pageUrl, origin);
        using var stream = new MemoryStream(body, writable: false);
        return HtmlImageExtractor.Extract(stream, pageUrl, origin);
    }
}
