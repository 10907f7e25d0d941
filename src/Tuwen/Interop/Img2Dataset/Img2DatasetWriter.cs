using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Parquet;
using Parquet.Schema;
using SkiaSharp;
using Tuwen.Data;

namespace Tuwen.Interop.Img2Dataset;

/// <summary>
/// Writes Tuwen samples as img2dataset <c>output_format="parquet"</c> shards (<c>00000.parquet</c>, …) with its
/// columns (see <see cref="Img2DatasetColumns"/>): every sample is a successful row, image bytes unchanged in the
/// column named after their format, width/height read from the image header (nothing was resized, so the
/// original sizes are the same), sha256 of the bytes, the first caption as <c>caption</c>. img2dataset re-encodes
/// every image to one format; Tuwen never re-encodes, so a shard whose samples mix formats gets one binary column
/// per format, null where a row's image is in another. The other captions and the metadata go in
/// <see cref="Img2DatasetColumns.TuwenCaptions"/> / <see cref="Img2DatasetColumns.TuwenMetadata"/>.
/// </summary>
public sealed class Img2DatasetWriter : IDisposable
{
    static readonly JsonSerializerOptions Json = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    readonly string _directory;
    readonly int _samplesPerShard;
    readonly List<Sample> _pending = [];
    readonly HashSet<string> _keys = [];
    readonly List<string> _written = [];
    int _shard;
    bool _done;

    public Img2DatasetWriter(string directory, int samplesPerShard = 10000)
    {
        if (samplesPerShard < 1) throw new TuwenException("samples per shard must be at least 1");
        Directory.CreateDirectory(directory);
        if (Directory.EnumerateFiles(directory, "*.parquet").Any())
            throw new TuwenException($"{directory} already holds .parquet files; write img2dataset output to an empty directory");
        (_directory, _samplesPerShard) = (directory, samplesPerShard);
    }

    public long Samples { get; private set; }
    public int Shards => _shard;

    public void Write(Sample sample)
    {
        ObjectDisposedException.ThrowIf(_done, this);
        if (sample.Image is null || sample.Image.Length == 0) throw new TuwenException($"sample {sample.Key} has no image bytes");
        if (sample.Captions.Count == 0) throw new TuwenException($"sample {sample.Key} has no caption");
        if (!_keys.Add(sample.Key)) throw new TuwenException($"sample key {sample.Key} occurs twice");
        _pending.Add(sample);
        Samples++;
        if (_pending.Count == _samplesPerShard) Flush();
    }

    /// <summary>Writes the last, partial shard.</summary>
    public void Complete()
    {
        ObjectDisposedException.ThrowIf(_done, this);
        if (_pending.Count > 0) Flush();
        _done = true;
    }

    /// <summary>Without <see cref="Complete"/> (a failed conversion) the shards written so far are removed again.</summary>
    public void Dispose()
    {
        if (_done) return;
        _done = true;
        foreach (var file in _written) File.Delete(file);
    }

    void Flush()
    {
        var rows = _pending;
        var imageColumns = rows.Select(s => Img2DatasetColumns.ImageColumnFor(s.ImageExtension)).Distinct().Order(StringComparer.Ordinal).ToList();
        var sizes = rows.Select(s => ImageSize(s.Image)).ToList();
        var url = new DataField<string>(Img2DatasetColumns.Url, true);
        var strings = new (DataField<string> Field, IReadOnlyCollection<string?> Values)[]
        {
            (new DataField<string>(Img2DatasetColumns.TuwenCaptions, true), [.. rows.Select(s => JsonSerializer.Serialize(s.Captions, Json))]),
            (new DataField<string>(Img2DatasetColumns.TuwenMetadata, true), [.. rows.Select(s => s.Metadata.ToJsonString(Json))]),
            (new DataField<string>(Img2DatasetColumns.Caption, true), [.. rows.Select(s => s.Captions[0])]),
            (url, [.. rows.Select(s => s.Metadata["url"] is JsonValue v && v.TryGetValue(out string? u) ? u : null)]),
            (new DataField<string>(Img2DatasetColumns.Key, true), [.. rows.Select(s => s.Key)]),
            (new DataField<string>(Img2DatasetColumns.Status, true), [.. rows.Select(_ => Img2DatasetColumns.Success)]),
            (new DataField<string>(Img2DatasetColumns.ErrorMessage, true), [.. rows.Select(_ => (string?)null)]),
        };
        var ints = new (DataField<int> Field, int?[] Values)[]
        {
            (new DataField<int>(Img2DatasetColumns.Width, true), [.. sizes.Select(s => s?.Width)]),
            (new DataField<int>(Img2DatasetColumns.Height, true), [.. sizes.Select(s => s?.Height)]),
            (new DataField<int>(Img2DatasetColumns.OriginalWidth, true), [.. sizes.Select(s => s?.Width)]),
            (new DataField<int>(Img2DatasetColumns.OriginalHeight, true), [.. sizes.Select(s => s?.Height)]),
        };
        var sha = (Field: new DataField<string>(Img2DatasetColumns.Sha256, true),
            Values: rows.Select(s => Convert.ToHexStringLower(SHA256.HashData(s.Image))).ToList());
        var images = imageColumns.Select(c => (Field: new DataField<byte[]>(c, true),
            Values: rows.Select(s => Img2DatasetColumns.ImageColumnFor(s.ImageExtension) == c ? s.Image : null).ToList())).ToList();

        // Column order as img2dataset writes it: extra input columns, caption, url, its own fields, hash, image.
        var schema = new ParquetSchema([.. strings.Select(s => (Field)s.Field), .. ints.Select(i => (Field)i.Field), sha.Field, .. images.Select(i => (Field)i.Field)]);
        var path = Path.Combine(_directory, _shard.ToString("D5", CultureInfo.InvariantCulture) + ".parquet");
        var temporary = path + ".tmp";
        using (var stream = File.Create(temporary))
        {
            var writer = ParquetWriter.CreateAsync(schema, stream).GetAwaiter().GetResult();
            try
            {
                using var group = writer.CreateRowGroup();
                foreach (var (field, values) in strings) group.WriteAsync(field, values!).GetAwaiter().GetResult();
                foreach (var (field, values) in ints) group.WriteAsync<int>(field, values.AsMemory()).GetAwaiter().GetResult();
                group.WriteAsync(sha.Field, sha.Values).GetAwaiter().GetResult();
                foreach (var (field, values) in images) group.WriteAsync(field, values!).GetAwaiter().GetResult();
            }
            finally
            {
                writer.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        }
        File.Move(temporary, path);
        _written.Add(path);
        _shard++;
        _pending.Clear();
    }

    // Header only: SKCodec reads the dimensions without decoding pixels.
    static (int Width, int Height)? ImageSize(byte[] image)
    {
        using var data = SKData.CreateCopy(image);
        using var codec = SKCodec.Create(data);
        return codec is null ? null : (codec.Info.Width, codec.Info.Height);
    }
}
