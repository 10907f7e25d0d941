using System.Formats.Tar;
using System.Text;
using System.Text.Json.Nodes;

namespace Tuwen.Data;

/// <summary>
/// Writes samples into webdataset tar shards NAME-000000.tar, NAME-000001.tar … of at most
/// <c>samplesPerShard</c> samples each, and stats.json on <see cref="Dispose"/>. One dataset per directory:
/// shards of an earlier dataset with the same name are replaced. A shard is written as NAME-XXXXXX.tar.tmp
/// and renamed only once complete, so a crash never leaves a half shard under a final name.
/// </summary>
public sealed class ShardWriter : IDisposable
{
    // A fixed member time makes shards byte-identical for the same samples, so rebuilt corpora can be compared by hash.
    private static readonly DateTimeOffset MemberTime = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private const UnixFileMode MemberMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    private readonly int _samplesPerShard;
    private readonly List<ShardStats> _shards = [];
    private readonly HashSet<string> _keys = new(StringComparer.Ordinal);
    private FileStream? _shardFile;
    private TarWriter? _tar;
    private long _samplesInShard;
    private long _captions;
    private bool _disposed;

    public ShardWriter(string directory, string name, int samplesPerShard = 1000)
    {
        if (string.IsNullOrWhiteSpace(name) || name.IndexOfAny(['/', '\\', ' ']) >= 0)
            throw new TuwenException($"dataset name \"{name}\" must be non-empty without '/', '\\' or spaces");
        if (samplesPerShard < 1) throw new TuwenException($"samples per shard must be at least 1, not {samplesPerShard}");
        Directory = Path.GetFullPath(directory);
        Name = name;
        _samplesPerShard = samplesPerShard;
        System.IO.Directory.CreateDirectory(Directory);
        RemoveEarlierDataset();
    }

    public string Directory { get; }
    public string Name { get; }

    /// <summary>Free-form counts the producer wants kept with the dataset; written as stats.json "extra".</summary>
    public JsonObject Extra { get; } = new();

    public long Samples { get; private set; }

    /// <summary>Final paths of the shards completed so far.</summary>
    public IReadOnlyList<string> ShardPaths => _shards.Select(s => Path.Combine(Directory, s.File)).ToList();

    public void Write(Sample sample)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(sample);
        ShardFormat.ValidateKey(sample.Key);
        var extension = ShardFormat.StoredImageExtension(sample.ImageExtension);
        if (sample.Image is null || sample.Image.Length == 0) throw new TuwenException($"sample {sample.Key} has no image bytes");
        if (sample.Captions is null || sample.Captions.Count == 0) throw new TuwenException($"sample {sample.Key} has no caption");
        foreach (var caption in sample.Captions)
        {
            // Captions are stored one per line in KEY.txt; a line break would split one caption into two.
            if (string.IsNullOrWhiteSpace(caption) || caption.AsSpan().IndexOfAny('\n', '\r') >= 0)
                throw new TuwenException($"sample {sample.Key} has an empty caption or one with a line break");
        }
        if (!_keys.Add(sample.Key)) throw new TuwenException($"sample key {sample.Key} occurs twice in dataset {Name}");

        var tar = _tar ?? OpenShard();
        WriteMember(tar, $"{sample.Key}.{extension}", sample.Image);
        WriteMember(tar, $"{sample.Key}.{ShardFormat.CaptionsExtension}", Encoding.UTF8.GetBytes(string.Join('\n', sample.Captions)));
        WriteMember(tar, $"{sample.Key}.{ShardFormat.MetadataExtension}", Encoding.UTF8.GetBytes(MetadataJson(sample)));
        Samples++;
        _captions += sample.Captions.Count;
        if (++_samplesInShard == _samplesPerShard) CloseShard();
    }

    /// <summary>Closes the last shard and writes stats.json.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        CloseShard();
        new DatasetStats(Name, _shards, Samples, _captions, _shards.Sum(s => s.Bytes), Extra).WriteAtomically(Directory);
    }

    internal static string MetadataJson(Sample sample)
    {
        var json = new JsonObject { ["key"] = sample.Key, ["captions"] = new JsonArray([.. sample.Captions.Select(c => JsonValue.Create(c))]) };
        foreach (var (name, value) in sample.Metadata)
        {
            if (name is "key" or "captions") continue;
            json[name] = value?.DeepClone();
        }
        return json.ToJsonString(ShardFormat.CompactJson);
    }

    private TarWriter OpenShard()
    {
        var path = Path.Combine(Directory, ShardFormat.ShardFileName(Name, _shards.Count) + ".tmp");
        _shardFile = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        _tar = new TarWriter(_shardFile, TarEntryFormat.Ustar, leaveOpen: true);
        _samplesInShard = 0;
        return _tar;
    }

    private void CloseShard()
    {
        if (_tar is null || _shardFile is null) return;
        _tar.Dispose(); // writes the end-of-archive blocks
        _shardFile.Flush(flushToDisk: true);
        var length = _shardFile.Length;
        var temporary = _shardFile.Name;
        _shardFile.Dispose();
        var file = ShardFormat.ShardFileName(Name, _shards.Count);
        File.Move(temporary, Path.Combine(Directory, file), overwrite: true);
        _shards.Add(new ShardStats(file, _samplesInShard, length));
        _tar = null;
        _shardFile = null;
    }

    private static void WriteMember(TarWriter tar, string memberName, byte[] data)
    {
        // Plain ustar headers for the usual short ASCII names; pax (UTF-8 path record) only where ustar cannot hold the name.
        var fitsUstar = memberName.Length <= 100 && Ascii.IsValid(memberName);
        TarEntry entry = fitsUstar
            ? new UstarTarEntry(TarEntryType.RegularFile, memberName)
            : new PaxTarEntry(TarEntryType.RegularFile, memberName);
        entry.Mode = MemberMode;
        entry.ModificationTime = MemberTime;
        using var stream = new MemoryStream(data, writable: false);
        entry.DataStream = stream;
        tar.WriteEntry(entry);
    }

    private void RemoveEarlierDataset()
    {
        var existing = DatasetStats.TryRead(Directory);
        if (existing is not null && existing.Name != Name)
            throw new TuwenException($"{Directory} already holds dataset \"{existing.Name}\"; write \"{Name}\" to another directory");
        File.Delete(Path.Combine(Directory, ShardFormat.StatsFileName));
        foreach (var path in System.IO.Directory.EnumerateFiles(Directory, Name + "-*.tar*"))
        {
            var file = Path.GetFileName(path);
            var suffix = file[(Name.Length + 1)..];
            var isOurs = suffix.Length >= 10 && suffix[..6].All(char.IsAsciiDigit) && suffix[6..] is ".tar" or ".tar.tmp";
            if (isOurs) File.Delete(path);
        }
    }
}
