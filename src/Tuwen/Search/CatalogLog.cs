using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tuwen.Search;

/// <summary>
/// Item metadata and thumbnails as two append-only files the server reads by id without loading them:
/// <c>NAME.meta</c> holds records [id int64][json length int32, −1 = deleted][thumbnail offset int64][thumbnail
/// length int32][UTF-8 JSON], and <c>thumbnails.bin</c> (images only) the JPEGs back to back. Opening scans the
/// record headers once into an id → offset table; a deletion is a record too, so nothing is rewritten in place.
/// </summary>
internal sealed class CatalogLog : IDisposable
{
    private const int RecordHeader = 8 + 4 + 8 + 4;
    private readonly object _append = new();
    private readonly FileStream _meta;
    private readonly FileStream? _thumbs;
    private readonly Dictionary<long, (long Offset, int Length, long ThumbOffset, int ThumbLength)> _where = [];

    public long NextId { get; private set; }
    public long Count => _where.Count;
    public IEnumerable<long> DeletedIds => _deleted;
    private readonly List<long> _deleted = [];

    public CatalogLog(string metaPath, string? thumbnailsPath)
    {
        _meta = new FileStream(metaPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        _thumbs = thumbnailsPath == null ? null : new FileStream(thumbnailsPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        Span<byte> header = stackalloc byte[RecordHeader];
        long offset = 0;
        while (offset < _meta.Length)
        {
            if (offset + RecordHeader > _meta.Length || RandomAccess.Read(_meta.SafeFileHandle, header, offset) != RecordHeader)
                throw new TuwenException($"{metaPath} is truncated at byte {offset}");
            long id = BitConverter.ToInt64(header);
            int length = BitConverter.ToInt32(header[8..]);
            long thumbOffset = BitConverter.ToInt64(header[12..]);
            int thumbLength = BitConverter.ToInt32(header[20..]);
            if (length < -1 || offset + RecordHeader + Math.Max(0, length) > _meta.Length)
                throw new TuwenException($"{metaPath} is corrupt at byte {offset}");
            if (length == -1) { _where.Remove(id); _deleted.Add(id); }
            else _where[id] = (offset + RecordHeader, length, thumbOffset, thumbLength);
            NextId = Math.Max(NextId, id + 1);
            offset += RecordHeader + Math.Max(0, length);
        }
    }

    public bool Contains(long id) => _where.ContainsKey(id);

    public void Append(long id, StoredItem item, byte[]? thumbnail)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(item, StoredItem.Options);
        lock (_append)
        {
            long thumbOffset = 0;
            if (thumbnail != null && _thumbs != null)
            {
                thumbOffset = _thumbs.Length;
                RandomAccess.Write(_thumbs.SafeFileHandle, thumbnail, thumbOffset);
            }
            WriteRecord(id, json, thumbOffset, thumbnail?.Length ?? 0);
        }
    }

    public bool Delete(long id)
    {
        lock (_append)
        {
            if (!_where.ContainsKey(id)) return false;
            WriteRecord(id, null, 0, 0);
            return true;
        }
    }

    private void WriteRecord(long id, byte[]? json, long thumbOffset, int thumbLength)
    {
        var record = new byte[RecordHeader + (json?.Length ?? 0)];
        BitConverter.TryWriteBytes(record, id);
        BitConverter.TryWriteBytes(record.AsSpan(8), json?.Length ?? -1);
        BitConverter.TryWriteBytes(record.AsSpan(12), thumbOffset);
        BitConverter.TryWriteBytes(record.AsSpan(20), thumbLength);
        json?.CopyTo(record, RecordHeader);
        long offset = _meta.Length;
        RandomAccess.Write(_meta.SafeFileHandle, record, offset);
        if (json == null) _where.Remove(id);
        else _where[id] = (offset + RecordHeader, json.Length, thumbOffset, thumbLength);
        NextId = Math.Max(NextId, id + 1);
    }

    public StoredItem? Read(long id)
    {
        (long Offset, int Length, long, int) where;
        lock (_append) if (!_where.TryGetValue(id, out where)) return null;
        var bytes = new byte[where.Length];
        RandomAccess.Read(_meta.SafeFileHandle, bytes, where.Offset);
        return JsonSerializer.Deserialize<StoredItem>(bytes, StoredItem.Options);
    }

    public byte[]? Thumbnail(long id)
    {
        (long, int, long ThumbOffset, int ThumbLength) where;
        lock (_append) if (!_where.TryGetValue(id, out where) || where.ThumbLength == 0 || _thumbs == null) return null;
        var bytes = new byte[where.ThumbLength];
        RandomAccess.Read(_thumbs.SafeFileHandle, bytes, where.ThumbOffset);
        return bytes;
    }

    public void Flush()
    {
        _meta.Flush(flushToDisk: true);
        _thumbs?.Flush(flushToDisk: true);
    }

    public void Dispose()
    {
        _meta.Dispose();
        _thumbs?.Dispose();
    }
}

/// <summary>What the log stores per item (short JSON names keep a million records small).</summary>
internal sealed record StoredItem(
    [property: JsonPropertyName("k")] string Key,
    [property: JsonPropertyName("c")] IReadOnlyList<string> Captions,
    [property: JsonPropertyName("s")] string? Source)
{
    public static readonly JsonSerializerOptions Options = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public CatalogItem ToItem(long id) => new(id, Key, Captions.Count > 0 ? Captions[0] : null, Captions, Source);
}
