namespace Tuwen.Corpus.Sources;

/// <summary>Saved web pages (*.html, *.htm): the images of each page with their texts.</summary>
public sealed class HtmlPageSource : ICandidateSource
{
    public bool Accepts(string path)
        => path.EndsWith(".html", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".htm", StringComparison.OrdinalIgnoreCase);

    public IEnumerable<SourceItem> Read(string path, CancellationToken cancel)
    {
        cancel.ThrowIfCancellationRequested();
        using var stream = File.OpenRead(path);
        return HtmlImageExtractor.Extract(stream, pageUrl: null, origin: Path.GetFileName(path));
    }
}
