namespace Tuwen.Interop.Onnx;

/// <summary>ONNX element types (TensorProto.DataType) that the exporters use.</summary>
public enum OnnxType
{
    Float = 1,
    Int64 = 7,
    Bool = 9,
}

/// <summary>
/// One graph attribute value (AttributeProto): an int, a float or a list of ints — all the exporters need.
/// </summary>
public sealed record OnnxAttribute(string Name, long? Int = null, float? Float = null, long[]? Ints = null)
{
    public static OnnxAttribute Of(string name, long value) => new(name, Int: value);
    public static OnnxAttribute Of(string name, float value) => new(name, Float: value);
    public static OnnxAttribute List(string name, params long[] values) => new(name, Ints: values);
}

/// <summary>
/// The messages of onnx.proto written with <see cref="ProtoMessage"/>, by the field numbers the ONNX
/// specification fixes (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto,
/// TypeProto, TensorShapeProto, OperatorSetIdProto).
/// </summary>
public static class OnnxProto
{
    /// <summary>IR version 8 is the one that goes with opset 17.</summary>
    public const long IrVersion = 8;

    // AttributeProto.AttributeType
    private const long AttrFloat = 1, AttrInt = 2, AttrInts = 7;

    /// <summary>TensorProto with dims, data_type and little-endian raw_data.</summary>
    public static ProtoMessage Tensor(string name, OnnxType type, long[] dims, byte[] rawData)
    {
        var m = new ProtoMessage();
        foreach (var d in dims) m.Int64(1, d);
        m.Int64(2, (long)type);
        m.String(8, name);
        m.Bytes(9, rawData);
        return m;
    }

    /// <summary>ValueInfoProto of a tensor; a dimension is a fixed size (long) or a symbolic name (string, dim_param).</summary>
    public static ProtoMessage ValueInfo(string name, OnnxType type, IEnumerable<object> dims)
    {
        var shape = new ProtoMessage();
        foreach (var d in dims)
        {
            var dim = new ProtoMessage();
            if (d is string symbol) dim.String(2, symbol);
            else dim.Int64(1, Convert.ToInt64(d, System.Globalization.CultureInfo.InvariantCulture));
            shape.Message(1, dim);
        }
        var tensorType = new ProtoMessage().Int64(1, (long)type).Message(2, shape);
        var typeProto = new ProtoMessage().Message(1, tensorType);
        return new ProtoMessage().String(1, name).Message(2, typeProto);
    }

    public static ProtoMessage Attribute(OnnxAttribute a)
    {
        var m = new ProtoMessage().String(1, a.Name);
        if (a.Int is { } i) m.Int64(3, i).Int64(20, AttrInt);
        else if (a.Float is { } f) m.Float(2, f).Int64(20, AttrFloat);
        else if (a.Ints is { } list)
        {
            foreach (var v in list) m.Int64(8, v);
            m.Int64(20, AttrInts);
        }
        else throw new ArgumentException($"attribute {a.Name} has no value");
        return m;
    }

    public static ProtoMessage Node(string opType, string name, IEnumerable<string> inputs, IEnumerable<string> outputs, IEnumerable<OnnxAttribute> attributes)
    {
        var m = new ProtoMessage();
        foreach (var i in inputs) m.String(1, i);
        foreach (var o in outputs) m.String(2, o);
        m.String(3, name).String(4, opType);
        foreach (var a in attributes) m.Message(5, Attribute(a));
        return m;
    }

    public static ProtoMessage Graph(string name, IEnumerable<ProtoMessage> nodes, IEnumerable<ProtoMessage> initializers,
        IEnumerable<ProtoMessage> inputs, IEnumerable<ProtoMessage> outputs)
    {
        var m = new ProtoMessage();
        foreach (var n in nodes) m.Message(1, n);
        m.String(2, name);
        foreach (var t in initializers) m.Message(5, t);
        foreach (var i in inputs) m.Message(11, i);
        foreach (var o in outputs) m.Message(12, o);
        return m;
    }

    /// <summary>OperatorSetIdProto for the default domain at <paramref name="opset"/>.</summary>
    public static ProtoMessage OpsetImport(long opset) => new ProtoMessage().String(1, "").Int64(2, opset);

    public static ProtoMessage Model(ProtoMessage graph, long opset, string producerVersion, string docString) =>
        new ProtoMessage()
            .Int64(1, IrVersion)
            .String(2, "tuwen")
            .String(3, producerVersion)
            .String(6, docString)
            .Message(7, graph)
            .Message(8, OpsetImport(opset));
}
