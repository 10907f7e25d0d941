using System.IO.Compression;
using System.Text;
using Tuwen.Interop.PyTorch;
using static TorchSharp.torch;

namespace Tuwen.Tests.Interop;

/// <summary>
/// The fixtures (nested_state_dict.pt, plain.pt, cnclip_layout.pt) were written by bench/cnclip-interop/make_pt_fixtures.py with Debian's torch 1.13;
/// the expected values below are the ones that script puts in, so no Python is needed here.
/// </summary>
public class TorchCheckpointReaderTests : IDisposable
{
    static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Interop", "Fixtures", name);

    readonly string _dir = Directory.CreateTempSubdirectory("tuwen-pt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static void AssertTensor<T>(Tensor t, ScalarType dtype, long[] shape, T[] values) where T : unmanaged
    {
        Assert.Equal(dtype, t.dtype);
        Assert.Equal(shape, t.shape);
        Assert.True(t.is_contiguous());
        Assert.Equal(values, t.data<T>().ToArray());
    }

    [Fact]
    public void ReadsTheNestedPrefixedStateDictExactly()
    {
        var sd = TorchCheckpointReader.ReadStateDict(Fixture("nested_state_dict.pt"));
        try
        {
            Assert.Equal(new[] { "w", "h", "i", "t", "base", "view" }, sd.Keys.ToArray());
            AssertTensor(sd["w"], ScalarType.Float32, [2, 3], new float[] { 1, 2, 3, 4, 5, 6 });
            Assert.Equal(ScalarType.Float16, sd["h"].dtype);
            Assert.Equal(new long[] { 4 }, sd["h"].shape);
            // Raw IEEE half bit patterns of 0.5, -1, 2.25, 65504: checks the bytes were copied, not converted.
            Assert.Equal(new byte[] { 0x00, 0x38, 0x00, 0xbc, 0x80, 0x40, 0xff, 0x7b }, sd["h"].bytes.ToArray());
            using (var h32 = sd["h"].to(ScalarType.Float32))
                Assert.Equal(new float[] { 0.5f, -1f, 2.25f, 65504f }, h32.data<float>().ToArray());
            AssertTensor(sd["i"], ScalarType.Int64, [4], new long[] { -3, 0, 7, 1L << 40 });
            // arange(6).reshape(2, 3).t(): stride (1, 3) in the file.
            AssertTensor(sd["t"], ScalarType.Float32, [3, 2], new float[] { 0, 3, 1, 4, 2, 5 });
            AssertTensor(sd["base"], ScalarType.Float32, [12], Enumerable.Range(0, 12).Select(k => k * 0.5f).ToArray());
            // base[4:10].view(2, 3): the same storage at offset 4.
            AssertTensor(sd["view"], ScalarType.Float32, [2, 3], new float[] { 2, 2.5f, 3, 3.5f, 4, 4.5f });
            // Shared in Python, independent here.
            sd["view"].zero_();
            Assert.Equal(2f, sd["base"][4].item<float>());
        }
        finally
        {
            foreach (var t in sd.Values) t.Dispose();
        }
    }

    [Fact]
    public void ReadsAPlainTopLevelStateDict()
    {
        var sd = TorchCheckpointReader.ReadStateDict(Fixture("plain.pt"));
        using var a = Assert.Single(sd).Value;
        Assert.Equal("a", sd.Keys.Single());
        AssertTensor(a, ScalarType.Float32, [2], new float[] { 1.5f, -2.5f });
    }

    [Fact]
    public void ReadsAChineseClipStyleCheckpointWithOptimizerState()
    {
        // fp16 nn.Linear state_dict (with torch's _metadata) next to an AdamW state; only the weights come back.
        var sd = TorchCheckpointReader.ReadStateDict(Fixture("cnclip_layout.pt"));
        try
        {
            Assert.Equal(new[] { "weight", "bias" }, sd.Keys.ToArray());
            Assert.All(sd.Values, t => Assert.Equal(ScalarType.Float16, t.dtype));
            using var w = sd["weight"].to(ScalarType.Float32);
            using var b = sd["bias"].to(ScalarType.Float32);
            AssertTensor(w, ScalarType.Float32, [2, 3], new float[] { 1, -1, 0.25f, 2, 0, -0.5f });
            AssertTensor(b, ScalarType.Float32, [2], new float[] { 0.125f, -8 });
        }
        finally
        {
            foreach (var t in sd.Values) t.Dispose();
        }
    }

    string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    // Copies the nested fixture into a new zip, letting the test replace or drop entries.
    string Rewrite(string name, Func<string, byte[], byte[]?> change)
    {
        var path = Path.Combine(_dir, name);
        using (var src = ZipFile.OpenRead(Fixture("nested_state_dict.pt")))
        using (var dst = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            foreach (var e in src.Entries)
            {
                using var s = e.Open();
                using var ms = new MemoryStream();
                s.CopyTo(ms);
                var bytes = change(e.FullName, ms.ToArray());
                if (bytes is null) continue;
                using var w = dst.CreateEntry(e.FullName.Replace("nested_state_dict/", "other_name/")).Open();
                w.Write(bytes);
            }
        }
        return path;
    }

    static string Error(string path) =>
        Assert.Throws<TuwenException>(() => TorchCheckpointReader.ReadStateDict(path)).Message;

    [Fact]
    public void ArchiveFolderNameDoesNotMatter()
    {
        var sd = TorchCheckpointReader.ReadStateDict(Rewrite("renamed.pt", (_, b) => b));
        Assert.Equal(6, sd.Count);
        foreach (var t in sd.Values) t.Dispose();
    }

    [Fact]
    public void NotAZipAndLegacyFormatAreRefusedClearly()
    {
        Assert.Contains("not a zip archive", Error(Write("text.pt", "hello"u8.ToArray())));
        // Pre-1.6 torch.save starts with a bare pickle (magic number first), not a zip.
        var legacy = Error(Write("legacy.pt", [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20]));
        Assert.Contains("older than 1.6", legacy);
        Assert.Contains("does not exist", Error(Path.Combine(_dir, "missing.pt")));
    }

    [Fact]
    public void ZipWithoutDataPklIsRefused()
    {
        var path = Rewrite("nopkl.pt", (n, b) => n.EndsWith("data.pkl") ? null : b);
        Assert.Contains("no ARCHIVE/data.pkl", Error(path));
    }

    [Fact]
    public void TruncatedOrMissingStorageIsRefused()
    {
        Assert.Contains("storage data/0 is truncated (20 bytes, 24 expected)",
            Error(Rewrite("short.pt", (n, b) => n.EndsWith("/data/0") ? b[..20] : b)));
        Assert.Contains("storage data/4 is missing",
            Error(Rewrite("gone.pt", (n, b) => n.EndsWith("/data/4") ? null : b)));
    }

    [Fact]
    public void MaliciousCheckpointIsRefusedAndRunsNothing()
    {
        var marker = Path.Combine(_dir, "pwned");
        var evil = Encoding.Latin1.GetBytes($"cos\nsystem\n(S'touch {marker}'\ntR.");
        var path = Rewrite("evil.pt", (n, b) => n.EndsWith("data.pkl") ? evil : b);
        Assert.Contains("references os.system, which could run code", Error(path));
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public void UnsupportedStorageDtypeIsRefused()
    {
        // \u escapes, not \x: C# \x takes up to four hex digits and would swallow the next letter.
        var pkl = Encoding.Latin1.GetBytes(
            "\u0080\u0002}(X\u0001\u0000\u0000\u0000actorch._utils\n_rebuild_tensor_v2\n((X\u0007\u0000\u0000\u0000storagectorch\nComplexFloatStorage\n" +
            "X\u0001\u0000\u0000\u00000X\u0003\u0000\u0000\u0000cpuK\u0001tQK\u0000K\u0001\u0085K\u0001\u0085\u0089}tRu.");
        var path = Rewrite("complex.pt", (n, b) => n.EndsWith("data.pkl") ? pkl : b);
        var message = Error(path);
        Assert.Contains("storage type torch.ComplexFloatStorage are not supported", message);
        Assert.Contains("torch.BFloat16Storage", message);
    }
}
