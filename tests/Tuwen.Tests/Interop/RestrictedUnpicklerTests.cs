using System.Text;
using Tuwen.Interop.PyTorch;

namespace Tuwen.Tests.Interop;

public class RestrictedUnpicklerTests
{
    static byte[] Bytes(params object[] parts)
    {
        // Pickles are written out by hand so the tests need no Python; strings go in as Latin-1 opcode text.
        var ms = new MemoryStream();
        foreach (var p in parts)
        {
            if (p is string s) ms.Write(Encoding.Latin1.GetBytes(s));
            else if (p is byte b) ms.WriteByte(b);
            else if (p is int i) ms.WriteByte(checked((byte)i));
            else if (p is byte[] a) ms.Write(a);
            else throw new ArgumentException(p.GetType().Name);
        }
        return ms.ToArray();
    }

    static byte[] ShortUnicode(string s)
    {
        var utf8 = Encoding.UTF8.GetBytes(s);
        return Bytes(0x8c, utf8.Length, utf8);
    }

    [Fact]
    public void ReadsDictsListsTuplesAndScalars()
    {
        // {'a': [1, -2, 300, 70000, -129, 3.5], 'b': (True, False, None), 'c': <memo of the list>, 'd': '中文'}
        var pickle = Bytes(
            0x80, 4, 0x95, new byte[8], "}", 0x94, "(",
            ShortUnicode("a"), "]", 0x94, "(", "K", 1, 0x8a, 1, 0xfe, "M", 0x2c, 1, "J", 0x70, 0x11, 1, 0,
            0x8a, 2, 0x7f, 0xff, "G", new byte[] { 0x40, 0x0c, 0, 0, 0, 0, 0, 0 }, "e",
            ShortUnicode("b"), 0x88, 0x89, "N", 0x87,
            ShortUnicode("c"), "h", 1,
            ShortUnicode("d"), "X", 6, 0, 0, 0, Encoding.UTF8.GetBytes("中文"),
            "u", ".");
        var root = Assert.IsType<Dictionary<object, object?>>(RestrictedUnpickler.Load(pickle, "test"));
        var list = Assert.IsType<List<object?>>(root["a"]);
        Assert.Equal(new object?[] { 1L, -2L, 300L, 70000L, -129L, 3.5 }, list.ToArray());
        Assert.Equal(new object?[] { true, false, null }, Assert.IsType<object?[]>(root["b"]));
        Assert.Same(list, root["c"]);
        Assert.Equal("中文", root["d"]);
    }

    [Fact]
    public void OrderedDictIsBuiltAndItsMetadataIgnored()
    {
        var pickle = Bytes(0x80, 2, "ccollections\nOrderedDict\n", ")", "R", "(", ShortUnicode("k"), "K", 5, "u",
            "}", ShortUnicode("_metadata"), "}", "s", "b", ".");
        var root = Assert.IsType<Dictionary<object, object?>>(RestrictedUnpickler.Load(pickle, "test"));
        Assert.Equal(5L, root["k"]);
        Assert.Single(root);
    }

    [Fact]
    public void PersistentIdAndRebuildTensorBecomeATensorRef()
    {
        var pickle = Bytes(0x80, 2, "ctorch._utils\n_rebuild_tensor_v2\n", "(",
            "(", ShortUnicode("storage"), "ctorch\nFloatStorage\n", ShortUnicode("0"), ShortUnicode("cpu"), "K", 6,
            "t", "Q", "K", 1, "K", 2, "K", 2, 0x86, "K", 1, "K", 2, 0x86, 0x89, "}", "t", "R", ".");
        var t = Assert.IsType<TensorRef>(RestrictedUnpickler.Load(pickle, "test"));
        Assert.Equal(new StorageRef("torch.FloatStorage", "0", "cpu", 6), t.Storage);
        Assert.Equal(1, t.Offset);
        Assert.Equal(new long[] { 2, 2 }, t.Size);
        Assert.Equal(new long[] { 1, 2 }, t.Stride);
    }

    static string Marker() => Path.Combine(Path.GetTempPath(), $"tuwen-pwned-{Guid.NewGuid():N}");

    [Fact]
    public void Protocol0OsSystemIsRefusedAndNothingRuns()
    {
        var marker = Marker();
        var pickle = Bytes($"cos\nsystem\n(S'touch {marker}'\ntR.");
        var e = Assert.Throws<TuwenException>(() => RestrictedUnpickler.Load(pickle, "evil.pt"));
        Assert.Contains("refusing to load evil.pt: the pickle references os.system, which could run code", e.Message);
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public void Protocol2StackGlobalIsRefused()
    {
        var marker = Marker();
        var pickle = Bytes(0x80, 2, ShortUnicode("builtins"), ShortUnicode("eval"), 0x93,
            ShortUnicode($"open('{marker}','w')"), 0x85, "R", ".");
        var e = Assert.Throws<TuwenException>(() => RestrictedUnpickler.Load(pickle, "evil.pt"));
        Assert.Contains("builtins.eval", e.Message);
        Assert.False(File.Exists(marker));
    }

    [Theory]
    [InlineData("subprocess", "Popen")]
    [InlineData("torch", "load")]
    [InlineData("collections", "OrderedDict.fromkeys")]
    public void OtherGlobalsAreRefused(string module, string name)
    {
        var pickle = Bytes(0x80, 2, $"c{module}\n{name}\n", ".");
        var e = Assert.Throws<TuwenException>(() => RestrictedUnpickler.Load(pickle, "x.pt"));
        Assert.Contains($"references {module}.{name}", e.Message);
    }

    [Fact]
    public void AllowedGlobalCannotBeCalledOutsideItsRole()
    {
        // A storage class is allowed as a name inside a persistent id, but calling it is not interpreted.
        var pickle = Bytes(0x80, 2, "ctorch\nFloatStorage\n", ")", "R", ".");
        var e = Assert.Throws<TuwenException>(() => RestrictedUnpickler.Load(pickle, "x.pt"));
        Assert.Contains("refusing to call torch.FloatStorage", e.Message);
    }

    [Fact]
    public void UnknownOpcodesAndTruncationAreErrors()
    {
        Assert.Contains("unsupported pickle opcode",
            Assert.Throws<TuwenException>(() => RestrictedUnpickler.Load(Bytes(0x80, 2, 0x81, "."), "x")).Message);
        Assert.Contains("truncated",
            Assert.Throws<TuwenException>(() => RestrictedUnpickler.Load(Bytes(0x80, 2, "X", 9, 0, 0, 0, "ab"), "x")).Message);
        Assert.Contains("truncated",
            Assert.Throws<TuwenException>(() => RestrictedUnpickler.Load(Bytes(0x80, 2, "}"), "x")).Message);
    }

    [Fact]
    public void StorageKeysThatCouldLeaveTheDataFolderAreRefused()
    {
        var pickle = Bytes(0x80, 2, "(", ShortUnicode("storage"), "ctorch\nFloatStorage\n", ShortUnicode("../x"),
            ShortUnicode("cpu"), "K", 1, "t", "Q", ".");
        Assert.Contains("not a plain name",
            Assert.Throws<TuwenException>(() => RestrictedUnpickler.Load(pickle, "x")).Message);
    }
}
