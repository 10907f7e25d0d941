using System.Buffers.Binary;
using System.Text.Json.Nodes;
using Tuwen.Training;
using static TorchSharp.torch;

namespace Tuwen.Tests.Training;

public class SafeTensorsTests
{
    [Fact]
    public void RoundTripAndByteLayout()
    {
        var path = Path.Combine(Path.GetTempPath(), $"st-{Guid.NewGuid():N}.safetensors");
        try
        {
            using var a = tensor(new float[] { 1.5f, -2f, 3f, 4f, 5f, 6f }, [2, 3]);
            using var b = tensor(new long[] { 7, 8 });
            SafeTensors.Save(path, [new("b", b), new("a", a)], new Dictionary<string, string> { ["format"] = "pt" });
            var bytes = File.ReadAllBytes(path);
            var n = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
            Assert.Equal(0, n % 8);
            var header = JsonNode.Parse(bytes.AsSpan(8, n).ToArray())!.AsObject();
            Assert.Equal("F32", header["a"]!["dtype"]!.GetValue<string>());
            Assert.Equal("[0,24]", header["a"]!["data_offsets"]!.ToJsonString());
            Assert.Equal("[24,40]", header["b"]!["data_offsets"]!.ToJsonString());
            Assert.Equal(1.5f, BitConverter.ToSingle(bytes, 8 + n));            // first float of "a"
            Assert.Equal(8L, BitConverter.ToInt64(bytes, 8 + n + 24 + 8));       // second long of "b"
            Assert.Equal(8 + n + 40, bytes.Length);

            var loaded = SafeTensors.Load(path, out var meta);
            Assert.Equal("pt", meta["format"]);
            Assert.True(loaded["a"].equal(a).all().item<bool>());
            Assert.True(loaded["b"].equal(b).all().item<bool>());
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void GarbageIsAClearError()
    {
        var path = Path.Combine(Path.GetTempPath(), $"st-{Guid.NewGuid():N}.safetensors");
        File.WriteAllText(path, "definitely not safetensors");
        try { Assert.Throws<TuwenException>(() => SafeTensors.Load(path)); }
        finally { File.Delete(path); }
    }
}
