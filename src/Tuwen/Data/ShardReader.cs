using System.Formats.Tar;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tuwen.Data;

/// <summary>What a read pass met besides complete samples; safe to read while the pass runs.</summary>
public sealed class ShardReadCounters
{
    private long _samples;
    private long _incompleteSamples;

    public long Samples => Interlocked.Read(ref _samples);

    /// <summary>Member groups skipped for lacking an image or captions, or for a KEY.json that is no JSON object.</summary>
    public long IncompleteSamples => Interlocked.Read(ref _incompleteSamples);

    internal void CountSample() => Interlocked.Increment(ref _samples);
    internal void CountIncomplete() => Interlocked.Increment(ref _incompleteSamples);
}

/// <summary>
/// Streams samples out of webdataset tar shards. Consecutive members sharing a key (file name up to its
/// first '.') form one sample: an image member, KEY.txt (one caption per line) and optionally KEY.json.
/// Tars written by other webdataset tools read the same way; their samples may lack KEY.json, or carry
/// the captions only in KEY.json's "captions" array.
/// </summary>
public static class ShardReader
{
    /// <summary>The shards of a dataset directory (all *.tar, ordinal order), or the single tar file given.</summary>
    public static IReadOnlyList<string> FindShards(string datasetDirOrTarFile)
    {
        if (File.Exists(datasetDirOrTarFile))
        {
            if (!datasetDirOrTarFile.EndsWith(".tar", StringComparison.OrdinalIgnoreCase))
                throw new TuwenException($"{datasetDirOrTarFile} is not a .tar shard");
            return [Path.GetFullPath(datasetDirOrTarFile)];
        }
        if (!Directory.Exists(datasetDirOrTarFile))
            throw new TuwenException($"dataset not found: {datasetDirOrTarFile} is neither a directory nor a .tar file");
        var shards = Directory.GetFiles(Path.GetFullPath(datasetDirOrTarFile), "*.tar")
            .Where(p => p.EndsWith(".tar", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();
        if (shards.Count == 0) throw new TuwenException($"no shards (*.tar) in {datasetDirOrTarFile}");
        return shards;
    }

    /// <summary>stats.json of a dataset directory (or beside a shard); a <see cref="TuwenException"/> if missing.</summary>
    public static DatasetStats ReadStats(string datasetDirOrShard) => DatasetStats.Read(datasetDirOrShard);

    /// <summary>stats.json of a dataset directory (or beside a shard), or null if there is none.</summary>
    public static DatasetStats? TryReadStats(string datasetDirOrShard) => DatasetStats.TryRead(datasetDirOrShard);

    /// <summary>
    /// Streams the samples of the shards in the order given. Incomplete samples are skipped and counted in
    /// <paramref name="counters"/>; an unreadable, truncated or corrupt tar is a <see cref="TuwenException"/> naming it.
    /// </summary>
    public static IEnumerable<Sample> Read(IEnumerable<string> shardPaths, ShardReadCounters? counters = null)
    {
        ArgumentNullException.ThrowIfNull(shardPaths);
        counters ??= new ShardReadCounters();
        foreach (var path in shardPaths)
        {
            foreach (var sample in ReadShard(path, counters)) yield return sample;
        }
    }

    private static IEnumerable<Sample> ReadShard(string path, ShardReadCounters counters)
    {
        using var file = OpenShard(path);
        using var tar = new TarReader(file, leaveOpen: true);
        var group = new MemberGroup();
        while (true)
        {
            var member = NextMember(tar, file, path);
            if (member is null) break;
            var (key, extension, data) = member.Value;
            if (group.Key is not null && group.Key != key)
            {
                if (group.ToSample(counters) is { } sample) yield return sample;
                group = new MemberGroup();
            }
            group.Key = key;
            group.Add(extension, data);
        }
        if (group.Key is not null && group.ToSample(counters) is { } last) yield return last;
    }

    private static FileStream OpenShard(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TuwenException($"cannot open shard {path}: {e.Message}", e);
        }
    }

    /// <summary>The next regular-file member with its data, or null at a proper end of the archive.</summary>
    private static (string Key, string Extension, byte[] Data)? NextMember(TarReader tar, FileStream file, string path)
    {
        try
        {
            while (tar.GetNextEntry(copyData: false) is { } entry)
            {
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile)) continue;
                var (key, extension) = ShardFormat.SplitMemberName(entry.Name);
                // Members this reader has no use for (masks, features …) are passed over unread.
                var wanted = extension is ShardFormat.CaptionsExtension or ShardFormat.MetadataExtension
                    || ShardFormat.ImageExtensions.Contains(extension);
                if (!wanted) return (key, extension, []);
                if (entry.Length > file.Length || entry.Length > Array.MaxLength)
                    throw new InvalidDataException($"member {entry.Name} claims {entry.Length} bytes");
                var data = new byte[entry.Length];
                entry.DataStream?.ReadExactly(data);
                return (key, extension, data);
            }
            EnsureEndOfArchive(file, path);
            return null;
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException or ArgumentException or IOException)
        {
            throw new TuwenException($"shard {path} is truncated or corrupt: {e.Message}", e);
        }
    }

    // TarReader also stops quietly when a file is cut exactly between two members. A complete archive ends
    // with zero blocks, whereas a cut one ends with a member's last data block or header, which are never all
    // zero for the images, text and JSON stored here.
    private static void EnsureEndOfArchive(FileStream file, string path)
    {
        const int block = 512;
        Span<byte> tail = stackalloc byte[block];
        if (file.Length < block) throw new TuwenException($"shard {path} is truncated ({file.Length} bytes)");
        file.Seek(-block, SeekOrigin.End);
        file.ReadExactly(tail);
        if (tail.ContainsAnyExcept((byte)0))
            throw new TuwenException($"shard {path} is truncated: it lacks the end-of-archive blocks");
    }

    /// <summary>The members of one key, collected until the key changes.</summary>
    private sealed class MemberGroup
    {
        public string? Key;
        private byte[]? _image;
        private string _imageExtension = "";
        private byte[]? _captions;
        private byte[]? _metadata;

        public void Add(string extension, byte[] data)
        {
            if (extension == ShardFormat.CaptionsExtension) _captions = data;
            else if (extension == ShardFormat.MetadataExtension) _metadata = data;
            else if (_image is null && ShardFormat.ImageExtensions.Contains(extension))
            {
                _image = data;
                _imageExtension = extension;
            }
        }

        public Sample? ToSample(ShardReadCounters counters)
        {
            var metadata = ParseMetadata();
            var captions = metadata is null ? []
                : _captions is not null ? SplitCaptions(Encoding.UTF8.GetString(_captions))
                : CaptionsFrom(metadata);
            if (_image is null || metadata is null || captions.Count == 0)
            {
                counters.CountIncomplete();
                return null;
            }
            metadata.Remove("key");
            metadata.Remove("captions");
            counters.CountSample();
            return new Sample(Key!, _image, _imageExtension, captions, metadata);
        }

        /// <summary>The KEY.json object, an empty one if absent, null if it is not a JSON object.</summary>
        private JsonObject? ParseMetadata()
        {
            if (_metadata is null) return new JsonObject();
            try
            {
                return JsonNode.Parse(_metadata) as JsonObject;
            }
            catch (JsonException)
            {
                return null;
            }
        }

        private static List<string> SplitCaptions(string text)
            => [.. text.Split('\n').Select(line => line.TrimEnd('\r')).Where(line => line.Trim().Length > 0)];

        private static List<string> CaptionsFrom(JsonObject metadata)
            => metadata["captions"] is JsonArray array
                ? [.. array.Select(node => node is JsonValue value && value.TryGetValue<string>(out var s) ? s : null).OfType<string>().Where(s => s.Trim().Length > 0)]
                : [];
    }
}
