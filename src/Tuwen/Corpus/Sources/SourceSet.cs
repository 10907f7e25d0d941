using System.Security.Cryptography;
using System.Text;

namespace Tuwen.Corpus.Sources;

/// <summary>
/// All inputs of a build as one numbered stream of candidates. Files are taken in ordinal path order
/// (directories recursively), so every worker and every restart numbers the same candidate the same way;
/// that number is the sample key and decides which work unit, and so which worker, handles it.
/// </summary>
public sealed class SourceSet
{
    private readonly IReadOnlyList<(string Path, ICandidateSource Source)> _files;

    public SourceSet(IReadOnlyList<string> inputs, string urlColumn = "url", string captionColumn = "caption")
    {
        if (inputs.Count == 0) throw new TuwenException("no input given: name URL lists, HTML directories or WARC files");
        ICandidateSource[] sources = [new UrlListSource(urlColumn, captionColumn), new HtmlPageSource(), new WarcSource()];
        var files = new List<(string, ICandidateSource)>();
        foreach (var input in inputs)
        {
            if (Directory.Exists(input))
            {
                var found = Directory.EnumerateFiles(input, "*", SearchOption.AllDirectories)
                    .Select(Path.GetFullPath)
                    .Order(StringComparer.Ordinal)
                    .Select(p => (p, sources.FirstOrDefault(s => s.Accepts(p))))
                    .Where(f => f.Item2 is not null)
                    .ToList();
                if (found.Count == 0) throw new TuwenException($"{input} holds no URL lists, HTML pages or WARC files");
                files.AddRange(found!);
            }
            else if (File.Exists(input))
            {
                var source = sources.FirstOrDefault(s => s.Accepts(input))
                    ?? throw new TuwenException($"{input}: unknown input kind (expected .tsv .csv .jsonl .txt [.gz], .parquet, .html, .warc[.gz] or a directory)");
                files.Add((Path.GetFullPath(input), source));
            }
            else throw new TuwenException($"input not found: {input}");
        }
        _files = files;
    }

    public IReadOnlyList<string> Files => _files.Select(f => f.Path).ToList();

    /// <summary>
    /// Names, sizes and modification times of the inputs: a restart with changed inputs would number
    /// candidates differently, so it must be refused rather than mixed with finished work.
    /// </summary>
    public string Fingerprint()
    {
        var text = new StringBuilder();
        foreach (var (path, _) in _files)
        {
            var info = new FileInfo(path);
            text.Append(path).Append('|').Append(info.Length).Append('|').Append(info.LastWriteTimeUtc.Ticks).Append('\n');
        }
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..16];
    }

    public IEnumerable<Candidate> Enumerate(CancellationToken cancel = default)
    {
        long index = 0;
        foreach (var (path, source) in _files)
        {
            foreach (var item in source.Read(path, cancel)) yield return new Candidate(index++, item);
        }
    }
}
