using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tuwen.Data;

namespace Tuwen.Search;

/// <summary>
/// An index directory opened for search: index.json (model, runtime, dim, kind, counts, created),
/// images.tvx / texts.tvx (<see cref="EmbeddedVectorIndex"/> files), images.meta / texts.meta and
/// thumbnails.bin (<see cref="CatalogLog"/>), and images.pending: vectors added since the index file was last
/// rewritten ([id int64][dim float32] records, replayed on open, folded in by <see cref="Compact"/>).
/// </summary>
public sealed class SearchCatalog : ISearchCatalog
{
    public const string ManifestFileName = "index.json";
    public const string Schema = "tuwen.index/1";
    private readonly string _dir;
    private readonly JsonObject _manifest;
    private readonly EmbeddedVectorIndex _images;
    private readonly EmbeddedVectorIndex? _texts;
    private readonly CatalogLog _imageLog;
    private readonly CatalogLog? _textLog;
    private readonly FileStream _pending;
    // With a PostgreSQL connection string: searches go to pgvector mirrors of the (still authoritative) files.
    private readonly PgVectorIndex? _imageStore;
    private readonly PgVectorIndex? _textStore;
    private readonly object _changes = new();

    public string Directory => _dir;
    public string ModelPath { get; }
    public string Runtime { get; }
    public string Kind => Images.Kind;
    public IVectorIndex Images => (IVectorIndex?)_imageStore ?? _images;
    public IVectorIndex? Texts => (IVectorIndex?)_textStore ?? _texts;
    public JsonObject Manifest => _manifest;

    private SearchCatalog(string dir, JsonObject manifest, string? vectorStore)
    {
        _dir = dir;
        _manifest = manifest;
        ModelPath = manifest["model"]?.GetValue<string>() ?? throw Corrupt(dir, "no model");
        Runtime = manifest["runtime"]?.GetValue<string>() ?? "torch";
        _images = EmbeddedVectorIndex.Open(Path.Combine(dir, "images.tvx"));
        _imageLog = new CatalogLog(Path.Combine(dir, "images.meta"), Path.Combine(dir, "thumbnails.bin"));
        if (File.Exists(Path.Combine(dir, "texts.tvx")))
        {
            _texts = EmbeddedVectorIndex.Open(Path.Combine(dir, "texts.tvx"));
            _textLog = new CatalogLog(Path.Combine(dir, "texts.meta"), null);
        }
        _pending = new FileStream(Path.Combine(dir, "images.pending"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        ReplayPending();
        var deleted = _imageLog.DeletedIds.ToArray();
        if (deleted.Length > 0) _images.Delete(deleted);
        if (vectorStore != null)
        {
            var prefix = PostgresMirror.TablePrefix(dir, manifest["created"]?.GetValue<string>());
            _imageStore = PostgresMirror.Open(vectorStore, prefix + "_images", _images);
            if (_texts != null) _textStore = PostgresMirror.Open(vectorStore, prefix + "_texts", _texts);
        }
    }

    private static TuwenException Corrupt(string dir, string why) => new($"{Path.Combine(dir, ManifestFileName)} is not a valid index manifest ({why})");

    /// <summary>
    /// Opens an index directory made by `tuwen index build`. With <paramref name="vectorStore"/> (a PostgreSQL
    /// connection string) the vectors are mirrored into pgvector tables and searched there, for corpora that
    /// outgrow one machine's memory; metadata and thumbnails stay in the directory.
    /// </summary>
    public static SearchCatalog Open(string dir, string? vectorStore = null)
    {
        if (!System.IO.Directory.Exists(dir)) throw new TuwenException($"index directory not found: {dir}");
        var path = Path.Combine(dir, ManifestFileName);
        if (!File.Exists(path)) throw new TuwenException($"{dir} is not an index directory (no {ManifestFileName})");
        JsonObject manifest;
        try { manifest = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw Corrupt(dir, "not a JSON object"); }
        catch (JsonException e) { throw Corrupt(dir, e.Message.Split('\n')[0]); }
        if (manifest["schema"]?.GetValue<string>() != Schema) throw Corrupt(dir, $"schema is not {Schema}");
        return new SearchCatalog(dir, manifest, vectorStore);
    }

    private void ReplayPending()
    {
        int dim = _images.Dim;
        int record = 8 + 4 * dim;
        if (_pending.Length % record != 0) _pending.SetLength(_pending.Length / record * record); // a torn last write
        var bytes = new byte[record];
        var vector = new float[dim];
        for (long offset = 0; offset < _pending.Length; offset += record)
        {
            RandomAccess.Read(_pending.SafeFileHandle, bytes, offset);
            Buffer.BlockCopy(bytes, 8, vector, 0, 4 * dim);
            long id = BitConverter.ToInt64(bytes);
            if (_imageLog.Contains(id)) _images.Add([id], vector);
        }
    }

    public CatalogItem? Image(long id) => _imageLog.Read(id)?.ToItem(id);

    public CatalogItem? Text(long id) => _textLog?.Read(id)?.ToItem(id);

    public byte[]? Thumbnail(long imageId) => _imageLog.Thumbnail(imageId);

    public long AddImage(ReadOnlySpan<float> vector, byte[] imageBytes, string? caption, string key)
    {
        if (vector.Length != _images.Dim) throw new TuwenException($"vector has {vector.Length} values, the index holds dimension {_images.Dim}");
        var thumbnail = Thumbnails.Make(imageBytes) ?? throw new TuwenException("the image does not decode (JPEG, PNG, WebP, GIF or BMP expected)");
        lock (_changes)
        {
            long id = _imageLog.NextId;
            var record = new byte[8 + 4 * vector.Length];
            BitConverter.TryWriteBytes(record, id);
            System.Runtime.InteropServices.MemoryMarshal.AsBytes(vector).CopyTo(record.AsSpan(8));
            // Vector first: a pending vector without metadata is dropped on open, metadata without a vector is never shown.
            RandomAccess.Write(_pending.SafeFileHandle, record, _pending.Length);
            _pending.Flush(flushToDisk: true);
            _imageLog.Append(id, new StoredItem(key, caption == null ? [] : [caption], "added"), thumbnail);
            _imageLog.Flush();
            _images.Add([id], vector);
            _imageStore?.Add([id], vector);
            return id;
        }
    }

    public long DeleteImages(ReadOnlySpan<long> ids)
    {
        lock (_changes)
        {
            long removed = 0;
            foreach (var id in ids)
                if (_imageLog.Delete(id)) removed++;
            _imageLog.Flush();
            _images.Delete(ids);
            _imageStore?.Delete(ids);
            return removed;
        }
    }

    /// <summary>Rewrites the vector files without deleted rows and with the pending ones, then empties images.pending.</summary>
    public void Compact()
    {
        lock (_changes)
        {
            _images.Save();
            _pending.SetLength(0);
            _pending.Flush(flushToDisk: true);
            _manifest["images"] = _images.Count;
            WriteManifest(_dir, _manifest);
        }
    }

    internal static void WriteManifest(string dir, JsonObject manifest) =>
        AtomicFile.WriteText(Path.Combine(dir, ManifestFileName), w => w.Write(manifest.ToJsonString(new JsonSerializerOptions
        {
            WriteIndented = true,
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        }) + "\n"));

    internal static string Now() => DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    public void Dispose()
    {
        _imageStore?.Dispose();
        _textStore?.Dispose();
        _images.Dispose();
        _texts?.Dispose();
        _imageLog.Dispose();
        _textLog?.Dispose();
        _pending.Dispose();
    }
}
