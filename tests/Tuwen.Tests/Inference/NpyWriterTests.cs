using System.Text;
using Tuwen.Inference;
using Tuwen.Tests.Data;

namespace Tuwen.Tests.Inference;

public class NpyWriterTests
{
    [Fact]
    public void Header_and_bytes_are_numpy_v1_little_endian()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("a.npy");
        using (var writer = new NpyWriter(path, 2, EmbeddingDtype.Float32))
        {
            writer.Append([1f, -2f]);
            writer.Append([0.5f, 0f, 3f, 0.25f]);
            Assert.False(File.Exists(path));   // only the .tmp exists until Complete
            writer.Complete();
        }
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(128 + 6 * 4, bytes.Length);
        Assert.Equal([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, 118, 0], bytes[..10]);
        var header = Encoding.ASCII.GetString(bytes, 10, 118);
        Assert.Equal("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }".PadRight(117) + "\n", header);
        // 1.0f = 0x3F800000, -2.0f = 0xC0000000, little-endian.
        Assert.Equal([0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0], bytes[128..136]);
        Assert.False(File.Exists(path + ".tmp"));
    }

    [Fact]
    public void Float16_rounds_to_nearest()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("h.npy");
        using (var writer = new NpyWriter(path, 3, EmbeddingDtype.Float16))
        {
            writer.Append([1f, 0.1f, -65504f]);
            writer.Complete();
        }
        var bytes = File.ReadAllBytes(path);
        Assert.Contains("'descr': '<f2'", Encoding.ASCII.GetString(bytes, 10, 118));
        Assert.Contains("'shape': (1, 3)", Encoding.ASCII.GetString(bytes, 10, 118));
        // IEEE half: 1.0 = 0x3C00; 0.1 → 0x2E66 (0.0999755859375); -65504 = 0xFBFF.
        Assert.Equal([0x00, 0x3C, 0x66, 0x2E, 0xFF, 0xFB], bytes[128..]);
    }

    [Fact]
    public void An_unfinished_writer_leaves_no_file()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("x.npy");
        using (var writer = new NpyWriter(path, 2, EmbeddingDtype.Float32)) writer.Append([1f, 2f]);
        Assert.Empty(Directory.GetFiles(dir.Path));
        using var partial = new NpyWriter(path, 2, EmbeddingDtype.Float32);
        Assert.Throws<ArgumentException>(() => partial.Append([1f, 2f, 3f]));
    }
}
