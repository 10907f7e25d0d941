using System.Text.Json;
using System.Text.Json.Nodes;
using Parquet;
using Parquet.Schema;
using Tuwen.Data;
using Tuwen.Interop.ChineseClip;

namespace Tuwen.Interop.Img2Dataset;

/// <summary>What <see cref="Img2DatasetReader.ReadSamples"/> saw besides the samples it yielded.</summary>
public sealed class Img2DatasetReadCounts
{
    public long Rows { get; internal set; }
    /// <summary>Rows img2dataset recorded as failed (no image bytes): nothing to convert.</summary>
    public long Failed { get; internal set; }
    /// <summary>Rows with an image but no caption; a Tuwen sample needs one.</summary>
    public long WithoutCaption { get; internal set; }
    public long Samples { get; internal set; }
}

/// <summary>
/// Reads img2dataset <c>output_format="parquet"</c> output (a folder of <c>*.parquet</c> shards or one file) as Tuwen
/// samples, one per successful row, keyed by its <c>key</c>, image bytes as stored. Captions and metadata written by
/// <see cref="Img2DatasetWriter"/> come back whole; for img2dataset's own files the caption is <c>caption</c> and
/// the metadata keeps <c>url</c>, the sizes, the hash and any extra input columns.
/// </summary>
public sealed class Img2DatasetReader
{
    readonly IReadOnlyList<string> _files;

    public Img2DatasetReader(string directoryOrFile)
    {
        if (File.Exists(directoryOrFile)) _files = [directoryOrFile];
        else if (Directory.Exists(directoryOrFile))
            _files = [.. Directory.EnumerateFiles(directoryOrFile, "*.parquet").Order(StringComparer.Ordinal)];
        else throw new TuwenException($"img2dataset output not found: {directoryOrFile}");
        if (_files.Count == 0) throw new TuwenException($"no .parquet files in {directoryOrFile}; expected img2dataset output written with output_format=parquet");
    }

    /// <summary>Rows in all files, from the Parquet footers.</summary>
    public long RowCount => _files.Sum(f => WithReader(f, r => r.Metadata?.NumRows ?? 0));

    public IEnumerable<Sample> ReadSamples(Img2DatasetReadCounts? counts = null)
    {
        counts ??= new Img2DatasetReadCounts();
        var keys = new HashSet<string>();
        foreach (var file in _files)
        {
            // One row group at a time: a group holds at most a shard's images.
            int groups = WithReader(file, r => r.RowGroupCount);
            for (int g = 0; g < groups; g++)
            {
                foreach (var sample in ReadGroup(file, g, counts))
                {
                    if (!keys.Add(sample.Key)) throw new TuwenException($"{file}: key {sample.Key} occurs twice");
                    counts.Samples++;
                    yield return sample;
                }
            }
        }
    }

    static List<Sample> ReadGroup(string file, int index, Img2DatasetReadCounts counts) => WithReader(file, reader =>
    {
        var fields = reader.Schema.GetDataFields();
        DataField? Field(string name) => fields.FirstOrDefault(f => f.Name == name);
        var keyField = Field(Img2DatasetColumns.Key) ?? throw new TuwenException($"{file}: no \"key\" column; not img2dataset output");
        var imageFields = fields.Where(f => IsBinary(f) && Img2DatasetColumns.ImageColumns.Contains(f.Name)).ToList();
        if (imageFields.Count == 0)
            throw new TuwenException($"{file}: no image column ({string.Join(", ", Img2DatasetColumns.ImageColumns)}); " +
                "img2dataset writes image bytes into Parquet only with output_format=parquet (its webdataset and files outputs keep a metadata-only .parquet beside the images)");

        using var group = reader.OpenRowGroupReader(index);
        int rows = checked((int)group.RowCount);
        var keys = Strings(group, keyField, rows);
        var captions = Strings(group, Field(Img2DatasetColumns.Caption), rows);
        var allCaptions = Strings(group, Field(Img2DatasetColumns.TuwenCaptions), rows);
        var metadata = Strings(group, Field(Img2DatasetColumns.TuwenMetadata), rows);
        var images = imageFields.Select(f => (f.Name, Bytes: ReadBytes(group, f, rows))).ToList();
        var extras = fields.Where(f => !Img2DatasetColumns.Standard.Contains(f.Name) || f.Name is Img2DatasetColumns.Url or Img2DatasetColumns.Width or Img2DatasetColumns.Height)
            .Select(f => (f.Name, Values: Scalars(group, f, rows))).Where(e => e.Values is not null).ToList();

        var samples = new List<Sample>();
        for (int i = 0; i < rows; i++)
        {
            counts.Rows++;
            var source = $"{file} row {i} of row group {index}";
            var image = images.Select(c => (c.Name, Bytes: c.Bytes[i])).FirstOrDefault(c => c.Bytes is { Length: > 0 });
            if (image.Bytes is null)
            {
                counts.Failed++;
                continue;
            }
            var key = keys[i] ?? throw new TuwenException($"{source}: key is null");
            var rowCaptions = allCaptions[i] is { } json ? ParseCaptions(json, source) : captions[i] is { Length: > 0 } c ? [c] : [];
            if (rowCaptions.Count == 0)
            {
                counts.WithoutCaption++;
                continue;
            }
            var meta = metadata[i] is { } m ? ParseMetadata(m, source) : ImportedMetadata(extras, i);
            var extension = ImageFormats.Sniff(image.Bytes) ?? image.Name;
            samples.Add(Sample.Create(key, image.Bytes, extension, rowCaptions, meta));
        }
        return samples;
    });

    static JsonObject ImportedMetadata(List<(string Name, object?[]? Values)> extras, int row)
    {
        var meta = new JsonObject { ["source"] = "img2dataset" };
        foreach (var (name, values) in extras)
            if (values![row] is { } value)
                meta[name] = value switch
                {
                    string s => JsonValue.Create(s),
                    int n => JsonValue.Create(n),
                    long n => JsonValue.Create(n),
                    _ => null,
                };
        return meta;
    }

    static List<string> ParseCaptions(string json, string source)
    {
        try
        {
            return JsonSerializer.Deserialize<List<string>>(json) ?? throw new JsonException("null");
        }
        catch (JsonException)
        {
            throw new TuwenException($"{source}: {Img2DatasetColumns.TuwenCaptions} is not a JSON list of strings");
        }
    }

    static JsonObject ParseMetadata(string json, string source)
    {
        try
        {
            return JsonNode.Parse(json) as JsonObject ?? throw new JsonException("not an object");
        }
        catch (JsonException)
        {
            throw new TuwenException($"{source}: {Img2DatasetColumns.TuwenMetadata} is not a JSON object");
        }
    }

    static string?[] Strings(ParquetRowGroupReader group, DataField? field, int rows)
    {
        var values = new string?[rows];
        if (field is not null && IsString(field))
            group.ReadAsync(field, values.AsMemory()!, null).AsTask().GetAwaiter().GetResult();
        return values;
    }

    static byte[]?[] ReadBytes(ParquetRowGroupReader group, DataField field, int rows)
    {
        var values = new byte[]?[rows];
        group.ReadAsync(field, values.AsMemory()!, null).AsTask().GetAwaiter().GetResult();
        return values;
    }

    // Extra input columns kept as metadata: strings and whole numbers, which is what URL lists carry; others are left out.
    static object?[]? Scalars(ParquetRowGroupReader group, DataField field, int rows)
    {
        if (IsString(field)) return Strings(group, field, rows);
        if (field.ClrType == typeof(int)) return Numbers<int>(group, field, rows);
        if (field.ClrType == typeof(long)) return Numbers<long>(group, field, rows);
        return null;
    }

    static object?[] Numbers<T>(ParquetRowGroupReader group, DataField field, int rows) where T : struct
    {
        var values = new T?[rows];
        group.ReadAsync<T>(field, values.AsMemory(), null).AsTask().GetAwaiter().GetResult();
        return [.. values.Select(v => (object?)v)];
    }

    // Parquet.Net 6 reports text and binary columns as memory types; older files and versions say string / byte[].
    static bool IsString(DataField f) => f.ClrType == typeof(string) || f.ClrType == typeof(ReadOnlyMemory<char>);

    static bool IsBinary(DataField f) => f.ClrType == typeof(byte[]) || f.ClrType == typeof(ReadOnlyMemory<byte>);

    static T WithReader<T>(string file, Func<ParquetReader, T> read)
    {
        using var stream = File.OpenRead(file);
        ParquetReader reader;
        try
        {
            reader = ParquetReader.CreateAsync(stream).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException or ParquetException)
        {
            throw new TuwenException($"{file} is not a readable Parquet file: {e.Message}");
        }
        try
        {
            return read(reader);
        }
        finally
        {
            reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }
}
