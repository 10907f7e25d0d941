using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Parquet.Serialization;
using Tuwen.Inference;

namespace Tuwen.Search;

/// <summary>Reads a `tuwen embed` output directory back: the .npy parts as float rows and their Parquet metadata rows.</summary>
internal static partial class EmbeddingsReader
{
    /// <summary>Every part of <paramref name="folder"/> in part order as (metadata rows, features [rows, dim]).</summary>
    public static IEnumerable<(IList<TRow> Rows, float[] Features)> Parts<TRow>(string embeddingsDir, string folder, string metadataFolder, int dim)
        where TRow : class, new()
    {
        var dir = Path.Combine(embeddingsDir, folder);
        if (!Directory.Exists(dir)) yield break;
        foreach (var npy in Directory.GetFiles(dir, "*.npy").Order(StringComparer.Ordinal))
        {
            var part = Path.GetFileNameWithoutExtension(npy)[(folder.Length + 1)..];
            var metadataPath = Path.Combine(embeddingsDir, metadataFolder, $"{metadataFolder}_{part}.parquet");
            if (!File.Exists(metadataPath)) throw new TuwenException($"{npy} has no metadata ({metadataPath} is missing)");
            IList<TRow> rows;
            using (var stream = File.OpenRead(metadataPath))
                rows = [.. ParquetSerializer.DeserializeAsync<TRow>(stream).GetAwaiter().GetResult().Data];
            var features = ReadNpy(npy, dim);
            if (features.Length != (long)rows.Count * dim) throw new TuwenException($"{npy} holds {features.Length / dim} rows but its metadata {rows.Count}");
            yield return (rows, features);
        }
    }

    /// <summary>A (rows, dim) float16 or float32 little-endian C-order .npy matrix as floats.</summary>
    public static float[] ReadNpy(string path, int dim)
    {
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream);
        var magic = reader.ReadBytes(8);
        if (magic.Length < 8 || magic[0] != 0x93 || Encoding.ASCII.GetString(magic, 1, 5) != "NUMPY") throw new TuwenException($"{path} is not a .npy file");
        int headerLength = magic[6] == 1 ? reader.ReadUInt16() : reader.ReadInt32();
        var header = Encoding.ASCII.GetString(reader.ReadBytes(headerLength));
        var shape = ShapePattern().Match(header);
        bool half = header.Contains("'<f2'"), single = header.Contains("'<f4'");
        if (!shape.Success || !(half || single) || header.Contains("'fortran_order': True"))
            throw new TuwenException($"{path}: expected a (rows, dim) <f2 or <f4 C-order matrix, header {header.Trim()}");
        long rows = long.Parse(shape.Groups[1].Value, CultureInfo.InvariantCulture);
        int columns = int.Parse(shape.Groups[2].Value, CultureInfo.InvariantCulture);
        if (columns != dim) throw new TuwenException($"{path} has dimension {columns}, the manifest says {dim}");
        var values = new float[rows * columns];
        var bytes = new byte[values.Length * (half ? 2 : 4)];
        try { stream.ReadExactly(bytes); }
        catch (EndOfStreamException) { throw new TuwenException($"{path} is truncated"); }
        if (half) System.Numerics.Tensors.TensorPrimitives.ConvertToSingle(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Half>(bytes), values);
        else Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return values;
    }

    [GeneratedRegex(@"'shape':\s*\((\d+),\s*(\d+)\)")]
    private static partial Regex ShapePattern();
}
