using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tuwen.Corpus;

/// <summary>One file of a pack, by its path below the pack's top folder; Content is null when it was not asked for.</summary>
public sealed record NpmPackEntry(string Path, long Length, byte[]? Content);

/// <summary>
/// A tarball as `npm pack` downloads it (NAME-VERSION.tgz: gzip over tar, every file under one top folder,
/// normally `package/`). Entries are addressed relative to that folder ("emoji.json", "img/google/64/1f600.png").
/// Reading is one forward pass over the gzip stream, with content copied only for the entries asked for:
/// the image packs are 60–100 MB compressed and hold large sprite sheets nobody here needs.
/// </summary>
public sealed class NpmPack
{
    private NpmPack(string name, string version, string filePath)
    {
        Name = name;
        Version = version;
        FilePath = filePath;
    }

    public string Name { get; }
    public string Version { get; }
    public string FilePath { get; }

    public static string FileName(string name, string version) => $"{name}-{version}.tgz";

    /// <param name="fetchedBySetup">
    /// False for packs the set-up does not fetch unless asked (e.g. apple's images), so the message says how to ask.
    /// </param>
    public static NpmPack Locate(string name, string version, string? folder = null, bool fetchedBySetup = true)
    {
        var path = Path.Combine(folder ?? TuwenPaths.NpmPacks, FileName(name, version));
        if (File.Exists(path)) return new NpmPack(name, version, path);
        var howToFetch = fetchedBySetup
            ? "run the set-up (`./tuwen` does it)"
            : $"fetch it with the set-up: `TUWEN_EXTRA_PACKS={name}@{version} ./tuwen`";
        throw new TuwenException($"npm pack {name}@{version} is missing: expected {path}; {howToFetch}");
    }

    /// <summary>
    /// Every regular file of the pack in tarball order. Lazy: the file stays open while the caller enumerates.
    /// </summary>
    public IEnumerable<NpmPackEntry> Scan(Func<string, bool> readContent)
    {
        using var file = new FileStream(FilePath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var tar = new TarReader(gzip);
        while (NextEntry(tar) is { } entry)
        {
            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile)) continue;
            var path = BelowTopFolder(entry.Name);
            var content = readContent(path) ? ReadContent(entry) : null;
            yield return new NpmPackEntry(path, entry.Length, content);
        }
    }

    /// <summary>The content of the entries that pass <paramref name="wanted"/>, streamed in tarball order.</summary>
    public IEnumerable<NpmPackEntry> ReadEntries(Func<string, bool> wanted)
        => Scan(wanted).Where(e => e.Content is not null);

    /// <summary>
    /// The named files, read in one pass that stops as soon as all are found. A missing one is a
    /// TuwenException: a pinned pack without it is not the pack this code was written against.
    /// </summary>
    public IReadOnlyDictionary<string, byte[]> ReadFiles(params string[] paths)
    {
        var wanted = new HashSet<string>(paths, StringComparer.Ordinal);
        var found = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var entry in ReadEntries(wanted.Contains))
        {
            found[entry.Path] = entry.Content!;
            if (found.Count == wanted.Count) return found;
        }
        var missing = string.Join(", ", wanted.Where(p => !found.ContainsKey(p)));
        throw new TuwenException($"{FilePath} has no {missing}; delete it and run the set-up (`./tuwen`) to fetch it again");
    }

    public JsonNode ReadJson(string path) => ParseJson(path, ReadFiles(path)[path]);

    public JsonNode ParseJson(string path, byte[] content)
    {
        try
        {
            return JsonNode.Parse(content) ?? throw new JsonException("the document is null");
        }
        catch (JsonException e)
        {
            throw new TuwenException($"{path} in {FilePath} is not valid JSON ({e.Message}); delete the pack and run the set-up (`./tuwen`) again", e);
        }
    }

    // Kept apart from Scan because an iterator cannot yield inside a try that has a catch.
    private TarEntry? NextEntry(TarReader tar)
    {
        try
        {
            return tar.GetNextEntry();
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException)
        {
            throw Corrupt(e);
        }
    }

    private byte[] ReadContent(TarEntry entry)
    {
        var content = new byte[entry.Length];
        if (entry.Length == 0) return content;
        try
        {
            // The gzip stream cannot seek, so the data stream is only valid until the next entry is asked for.
            entry.DataStream!.ReadExactly(content);
            return content;
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
        {
            throw Corrupt(e);
        }
    }

    private TuwenException Corrupt(Exception e)
        => new($"{FilePath} is not a readable npm tarball ({e.Message}); delete it and run the set-up (`./tuwen`) to fetch it again", e);

    private static string BelowTopFolder(string tarPath)
    {
        var slash = tarPath.IndexOf('/');
        return slash < 0 ? tarPath : tarPath[(slash + 1)..];
    }
}
