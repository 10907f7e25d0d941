using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace Tuwen.Training;

/// <summary>
/// The safetensors file format (8-byte little-endian header length, JSON header with dtype / shape /
/// data_offsets per tensor, then the raw little-endian bytes), so checkpoints open in Python too.
/// </summary>
public static class SafeTensors
{
    private static readonly Dictionary<ScalarType, string> Names = new()
    {
        [ScalarType.Float32] = "F32", [ScalarType.Float64] = "F64", [ScalarType.BFloat16] = "BF16",
        [ScalarType.Float16] = "F16", [ScalarType.Int64] = "I64", [ScalarType.Int32] = "I32",
        [ScalarType.Byte] = "U8", [ScalarType.Int8] = "I8", [ScalarType.Bool] = "BOOL",
    };

    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var items = tensors.OrderBy(t => t.Key, StringComparer.Ordinal).ToList();
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
        {
            var meta = new JsonObject();
            foreach (var (k, v) in metadata) meta[k] = v;
            header["__metadata__"] = meta;
        }
        long offset = 0;
        var contiguous = new List<Tensor>(items.Count);
        foreach (var (name, t) in items)
        {
            if (!Names.TryGetValue(t.dtype, out var dt)) throw new ArgumentException($"safetensors: unsupported dtype {t.dtype} for {name}");
            var c = t.detach().cpu().contiguous();
            contiguous.Add(c);
            long n = c.numel() * c.element_size();
            header[name] = new JsonObject
            {
                ["dtype"] = dt,
                ["shape"] = new JsonArray(c.shape.Select(s => (JsonNode)s).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + n),
            };
            offset += n;
        }
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        var padded = (json.Length + 7) / 8 * 8;   // keeps the data 8-byte aligned, as the reference writer does
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        Span<byte> len = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)padded);
        fs.Write(len);
        fs.Write(json);
        for (var i = json.Length; i < padded; i++) fs.WriteByte((byte)' ');
        foreach (var c in contiguous)
        {
            if (c.numel() > 0) fs.Write(c.bytes);
            c.Dispose();
        }
        fs.Flush(flushToDisk: true);
    }

    public static Dictionary<string, Tensor> Load(string path) => Load(path, out _);

    public static Dictionary<string, Tensor> Load(string path, out Dictionary<string, string> metadata)
    {
        if (!File.Exists(path)) throw new TuwenException($"file not found: {path}");
        using var fs = File.OpenRead(path);
        Span<byte> len = stackalloc byte[8];
        if (fs.Read(len) != 8) throw new TuwenException($"not a safetensors file (too short): {path}");
        var headerLen = BinaryPrimitives.ReadUInt64LittleEndian(len);
        if (headerLen > 100_000_000 || (long)headerLen + 8 > fs.Length) throw new TuwenException($"not a safetensors file (bad header length): {path}");
        var headerBytes = new byte[headerLen];
        fs.ReadExactly(headerBytes);
        JsonObject header;
        try { header = JsonNode.Parse(headerBytes)?.AsObject() ?? throw new JsonException("empty"); }
        catch (JsonException e) { throw new TuwenException($"not a safetensors file (bad header: {e.Message}): {path}"); }
        var dataStart = 8 + (long)headerLen;
        metadata = new Dictionary<string, string>();
        var result = new Dictionary<string, Tensor>();
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__")
            {
                foreach (var (k, v) in node!.AsObject()) metadata[k] = v?.GetValue<string>() ?? "";
                continue;
            }
            var o = node!.AsObject();
            var dtName = o["dtype"]!.GetValue<string>();
            var dtype = Names.FirstOrDefault(p => p.Value == dtName).Key;
            if (!Names.ContainsKey(dtype) || Names[dtype] != dtName) throw new TuwenException($"safetensors: unsupported dtype {dtName} in {path}");
            var shape = o["shape"]!.AsArray().Select(s => s!.GetValue<long>()).ToArray();
            var offs = o["data_offsets"]!.AsArray().Select(s => s!.GetValue<long>()).ToArray();
            var t = empty(shape, dtype);
            long n = offs[1] - offs[0];
            if (n != t.numel() * t.element_size() || dataStart + offs[1] > fs.Length)
                throw new TuwenException($"safetensors: truncated or inconsistent tensor '{name}' in {path}");
            if (n > 0)
            {
                fs.Position = dataStart + offs[0];
                fs.ReadExactly(t.bytes);
            }
            result[name] = t;
        }
        return result;
    }
}
