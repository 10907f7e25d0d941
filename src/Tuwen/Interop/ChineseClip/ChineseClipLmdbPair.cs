using System.Buffers.Binary;
using System.Text;
using Tuwen.Interop.PyTorch;

namespace Tuwen.Interop.ChineseClip;

/// <summary>
/// One value of Chinese-CLIP's <c>lmdb/{split}/pairs</c> database: the Python tuple <c>(image_id, text_id, text)</c>
/// as <c>pickle.dumps</c> writes it. Encoding reproduces Python 3.8+'s default (protocol 4) byte for byte, so
/// files written here are indistinguishable from the build script's; decoding goes through
/// <see cref="RestrictedUnpickler.LoadPlain"/>, which accepts protocols 2–5 and refuses anything that names code.
/// </summary>
public readonly record struct ChineseClipLmdbPair(long ImageId, long TextId, string Text)
{
    const byte Proto = 0x80, Frame = 0x95, Memoize = 0x94, Tuple3 = 0x87, Stop = (byte)'.';
    const byte BinInt = (byte)'J', BinInt1 = (byte)'K', BinInt2 = (byte)'M', Long1 = 0x8a;
    const byte ShortBinUnicode = 0x8c, BinUnicode = (byte)'X';

    /// <summary>The pickle bytes Python's <c>pickle.dumps((image_id, text_id, text))</c> produces (protocol 4).</summary>
    public byte[] ToPickle()
    {
        var body = new List<byte>(32 + Text.Length * 3);
        WriteInt(body, ImageId);
        WriteInt(body, TextId);
        var utf8 = Encoding.UTF8.GetBytes(Text);
        if (utf8.Length < 256)
        {
            body.Add(ShortBinUnicode);
            body.Add((byte)utf8.Length);
        }
        else
        {
            body.Add(BinUnicode);
            Span<byte> length = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(length, checked((uint)utf8.Length));
            body.AddRange(length);
        }
        body.AddRange(utf8);
        // Python memoizes every string and the tuple; the memo entries are never referenced here but keep the bytes identical.
        body.Add(Memoize);
        body.Add(Tuple3);
        body.Add(Memoize);
        body.Add(Stop);

        var pickle = new byte[2 + 9 + body.Count];
        pickle[0] = Proto;
        pickle[1] = 4;
        pickle[2] = Frame;
        // The frame covers everything after its header, STOP included.
        BinaryPrimitives.WriteUInt64LittleEndian(pickle.AsSpan(3, 8), (ulong)body.Count);
        body.CopyTo(pickle, 11);
        return pickle;
    }

    /// <summary>Reads a pairs value; <paramref name="source"/> (database and key) names it in error messages.</summary>
    public static ChineseClipLmdbPair FromPickle(byte[] pickle, string source)
    {
        var value = RestrictedUnpickler.LoadPlain(pickle, source);
        if (value is object?[] { Length: 3 } t && t[0] is long imageId && t[1] is long textId && t[2] is string text)
            return new ChineseClipLmdbPair(imageId, textId, text);
        throw new TuwenException($"cannot read {source}: expected a pickled (image_id, text_id, text) tuple of two integers and a string, got {Describe(value)}");
    }

    static string Describe(object? value) => value switch
    {
        null => "None",
        object?[] t => $"a tuple of {t.Length} ({string.Join(", ", t.Select(v => v?.GetType().Name ?? "None"))})",
        _ => value.GetType().Name,
    };

    // Python picks the narrowest opcode: unsigned 1 or 2 bytes, signed 4 bytes, else LONG1 with minimal two's complement.
    static void WriteInt(List<byte> body, long value)
    {
        if (value is >= 0 and <= byte.MaxValue)
        {
            body.Add(BinInt1);
            body.Add((byte)value);
        }
        else if (value is >= 0 and <= ushort.MaxValue)
        {
            body.Add(BinInt2);
            body.Add((byte)value);
            body.Add((byte)(value >> 8));
        }
        else if (value is >= int.MinValue and <= int.MaxValue)
        {
            body.Add(BinInt);
            Span<byte> four = stackalloc byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(four, (int)value);
            body.AddRange(four);
        }
        else
        {
            Span<byte> eight = stackalloc byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(eight, value);
            int n = 8;
            // Drop top bytes that only repeat the sign, keeping the sign bit of the last byte right.
            while (n > 1 && ((eight[n - 1] == 0 && (eight[n - 2] & 0x80) == 0) || (eight[n - 1] == 0xFF && (eight[n - 2] & 0x80) != 0)))
                n--;
            body.Add(Long1);
            body.Add((byte)n);
            body.AddRange(eight[..n]);
        }
    }
}
