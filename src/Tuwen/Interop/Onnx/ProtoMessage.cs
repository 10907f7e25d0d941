using System.Buffers.Binary;
using System.Text;

namespace Tuwen.Interop.Onnx;

/// <summary>
/// A protocol-buffers message being written in wire format (varints, fixed32, length-delimited fields).
/// Small fields go to a scratch buffer; large payloads (tensor bytes) and finished child messages are kept
/// by reference as chunks, so a model of hundreds of megabytes is copied once, when it reaches the file,
/// instead of once per nesting level.
/// </summary>
public sealed class ProtoMessage
{
    private const int VarintWire = 0, Fixed32Wire = 5, LengthWire = 2;
    private const int LargePayload = 4096;

    private readonly List<byte[]> chunks = [];
    private readonly MemoryStream scratch = new();

    /// <summary>Bytes written so far, including pending small fields.</summary>
    public long Length => chunks.Sum(c => (long)c.Length) + scratch.Length;

    public ProtoMessage Int64(int field, long value)
    {
        Tag(field, VarintWire);
        Varint(scratch, unchecked((ulong)value));   // negative values take ten bytes, as protobuf's int64 does
        return this;
    }

    public ProtoMessage Float(int field, float value)
    {
        Tag(field, Fixed32Wire);
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(b, value);
        scratch.Write(b);
        return this;
    }

    public ProtoMessage String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    /// <summary>A length-delimited field; arrays of <see cref="LargePayload"/> bytes or more are kept by reference
    /// (the caller must not change them afterwards).</summary>
    public ProtoMessage Bytes(int field, byte[] value)
    {
        Tag(field, LengthWire);
        Varint(scratch, (ulong)value.Length);
        if (value.Length < LargePayload) scratch.Write(value);
        else { Flush(); chunks.Add(value); }
        return this;
    }

    /// <summary>A nested message; the child must be complete (it is taken by reference, not copied).</summary>
    public ProtoMessage Message(int field, ProtoMessage child)
    {
        Tag(field, LengthWire);
        Varint(scratch, (ulong)child.Length);
        Flush();
        child.Flush();
        chunks.AddRange(child.chunks);
        return this;
    }

    public void WriteTo(Stream stream)
    {
        Flush();
        foreach (var c in chunks) stream.Write(c);
    }

    public byte[] ToArray()
    {
        using var ms = new MemoryStream();
        WriteTo(ms);
        return ms.ToArray();
    }

    private void Tag(int field, int wireType) => Varint(scratch, (ulong)((field << 3) | wireType));

    private void Flush()
    {
        if (scratch.Length == 0) return;
        chunks.Add(scratch.ToArray());
        scratch.SetLength(0);
    }

    internal static void Varint(Stream s, ulong v)
    {
        while (v >= 0x80)
        {
            s.WriteByte((byte)(v | 0x80));
            v >>= 7;
        }
        s.WriteByte((byte)v);
    }
}
