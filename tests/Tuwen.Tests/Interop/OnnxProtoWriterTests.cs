using Tuwen.Interop.Onnx;

namespace Tuwen.Tests.Interop;

/// <summary>The wire format checked byte by byte against messages encoded by hand from the protobuf rules:
/// tag = field·8 + wire type (0 varint, 2 length-delimited, 5 fixed32), varints 7 bits at a time, low first.</summary>
public class OnnxProtoWriterTests
{
    [Fact]
    public void OpsetImportIsAnEmptyDomainAndVersion17()
    {
        // field 1 (string) "" → 0A 00; field 2 (varint) 17 → 10 11
        Assert.Equal(new byte[] { 0x0A, 0x00, 0x10, 0x11 }, OnnxProto.OpsetImport(17).ToArray());
    }

    [Fact]
    public void ValueInfoWithASymbolicBatchAxisNestsFourMessages()
    {
        byte[] expected =
        [
            0x0A, 0x01, (byte)'x',                  // ValueInfoProto.name = "x"
            0x12, 0x13,                             // .type, 19 bytes
            0x0A, 0x11,                             //   TypeProto.tensor_type, 17 bytes
            0x08, 0x01,                             //     elem_type = FLOAT (1)
            0x12, 0x0D,                             //     shape, 13 bytes
            0x0A, 0x07,                             //       dim, 7 bytes
            0x12, 0x05, (byte)'b', (byte)'a', (byte)'t', (byte)'c', (byte)'h',   // dim_param = "batch"
            0x0A, 0x02,                             //       dim, 2 bytes
            0x08, 0x03,                             //         dim_value = 3
        ];
        Assert.Equal(expected, OnnxProto.ValueInfo("x", OnnxType.Float, ["batch", 3L]).ToArray());
    }

    [Fact]
    public void VarintsNegativeIntsAndFloatsFollowTheWireRules()
    {
        var m = new ProtoMessage().Int64(1, 300).Int64(1, -1).Float(2, 1.5f);
        byte[] expected =
        [
            0x08, 0xAC, 0x02,                                                   // 300 = 0b10_0101100
            0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01,   // −1 as 64-bit two's complement: ten bytes
            0x15, 0x00, 0x00, 0xC0, 0x3F,                                       // fixed32, 1.5f = 0x3FC00000 little-endian
        ];
        Assert.Equal(expected, m.ToArray());
    }

    [Fact]
    public void IntListAttributeRepeatsTheFieldAndNamesItsType()
    {
        byte[] expected =
        [
            0x0A, 0x04, (byte)'p', (byte)'e', (byte)'r', (byte)'m',   // name
            0x40, 0x00, 0x40, 0x02, 0x40, 0x01,                       // ints (field 8, varint) 0, 2, 1
            0xA0, 0x01, 0x07,                                         // type (field 20 → tag 160 = A0 01) = INTS (7)
        ];
        Assert.Equal(expected, OnnxProto.Attribute(OnnxAttribute.List("perm", 0, 2, 1)).ToArray());
    }

    [Fact]
    public void LargePayloadsKeptByReferenceStillGetTheRightLengthsWhenNested()
    {
        var payload = Enumerable.Range(0, 5000).Select(i => (byte)i).ToArray();
        var tensor = new ProtoMessage().Int64(2, 1).Bytes(9, payload);
        var graph = new ProtoMessage().Message(5, tensor);
        var bytes = graph.ToArray();
        // tensor: 10 01 | 4A, varint 5000 = 88 27, payload → 2 + 3 + 5000 = 5005 bytes = varint 8D 27
        Assert.Equal(new byte[] { 0x2A, 0x8D, 0x27, 0x10, 0x01, 0x4A, 0x88, 0x27 }, bytes[..8]);
        Assert.Equal(8 + 5000, bytes.Length);
        Assert.Equal(payload, bytes[8..]);
        Assert.Equal(bytes.Length, graph.Length);
    }
}
