using System.Text;
using System.Text.RegularExpressions;

namespace Tuwen.Corpus.Sources;

/// <summary>
/// Saved web pages (*.html, *.htm): the images of each page with their texts. The page's own address, which
/// relative image links need, comes from the "saved from url" mark browsers write into saved pages, else from
/// the page's &lt;base&gt;, canonical link or og:url.
/// </summary>
public sealed partial class HtmlPageSource : ICandidateSource
{
    public bool Accepts(string path)
        => path.EndsWith(".html", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".htm", StringComparison.OrdinalIgnoreCase);

    public IEnumerable<SourceItem> Read(string path, CancellationToken cancel)
    {
        cancel.ThrowIfCancellationRequested();
        var bytes = File.ReadAllBytes(path);
        var head = Encoding.Latin1.GetString(bytes, 0, Math.Min(bytes.Length, 4096));
        var saved = SavedFrom().Match(head);
        var pageUrl = saved.Success && Uri.TryCreate(saved.Groups[1].Value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri.AbsoluteUri
            : null;
        using var stream = new MemoryStream(bytes, writable: false);
        return HtmlImageExtractor.Extract(stream, pageUrl, origin: Path.GetFileName(path));
    }

    [GeneratedRegex(@"<!--\s*saved from url=\(\d+\)(\S+?)\s*-->", RegexOptions.IgnoreCase)]
    private static partial Regex SavedFrom();
}
