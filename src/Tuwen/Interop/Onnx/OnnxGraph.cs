using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Tuwen.Interop.Onnx;

/// <summary>
/// Builds one ONNX graph: named values, initializers taken from TorchSharp tensors (fp32 raw_data), and a
/// helper per operator the exporters use. Every helper returns the name of its output, so exporters read like
/// the forward pass they mirror. Opset 17.
/// </summary>
public sealed class OnnxGraph(string name)
{
    public const long Opset = 17;

    private readonly List<ProtoMessage> nodes = [];
    private readonly List<ProtoMessage> initializers = [];
    private readonly List<ProtoMessage> inputs = [];
    private readonly List<ProtoMessage> outputs = [];
    private readonly HashSet<string> names = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> int64Constants = new(StringComparer.Ordinal);
    private readonly Dictionary<float, string> floatConstants = [];
    private int counter;

    /// <summary>A graph input; dims are sizes (long/int) or symbolic names (string), e.g. "batch".</summary>
    public string Input(string inputName, OnnxType type, params object[] dims)
    {
        Claim(inputName);
        inputs.Add(OnnxProto.ValueInfo(inputName, type, dims));
        return inputName;
    }

    /// <summary>Declares <paramref name="value"/> a graph output under <paramref name="outputName"/>.</summary>
    public void Output(string value, string outputName, OnnxType type, params object[] dims)
    {
        Claim(outputName);
        nodes.Add(OnnxProto.Node("Identity", Fresh("Identity"), [value], [outputName], []));
        outputs.Add(OnnxProto.ValueInfo(outputName, type, dims));
    }

    /// <summary>An fp32 initializer with the tensor's values (copied now, so the tensor may be freed).</summary>
    public string Weight(string weightName, Tensor t)
    {
        using var scope = NewDisposeScope();
        var c = t.detach().to(ScalarType.Float32).contiguous();
        return Floats(weightName, c.data<float>().ToArray(), c.shape);
    }

    public string Floats(string weightName, float[] values, long[] dims)
    {
        Claim(weightName);
        initializers.Add(OnnxProto.Tensor(weightName, OnnxType.Float, dims, MemoryMarshal.AsBytes(values.AsSpan()).ToArray()));
        return weightName;
    }

    /// <summary>A 0-D fp32 constant, shared between nodes that use the same value.</summary>
    public string Scalar(float value) =>
        floatConstants.TryGetValue(value, out var existing) ? existing : floatConstants[value] = Floats(Fresh("scalar"), [value], []);

    /// <summary>A 1-D int64 constant (shapes, axes, indices), shared between nodes that use the same values.</summary>
    public string Int64s(params long[] values)
    {
        var key = string.Join(',', values);
        if (int64Constants.TryGetValue(key, out var existing)) return existing;
        var constName = Fresh("i64");
        Claim(constName);
        initializers.Add(OnnxProto.Tensor(constName, OnnxType.Int64, [values.Length], MemoryMarshal.AsBytes(values.AsSpan()).ToArray()));
        return int64Constants[key] = constName;
    }

    /// <summary>A 0-D int64 constant (Gather indices that drop the axis).</summary>
    public string Int64Scalar(long value)
    {
        var constName = Fresh("index");
        Claim(constName);
        initializers.Add(OnnxProto.Tensor(constName, OnnxType.Int64, [], BitConverter.GetBytes(value)));
        return constName;
    }

    public string Node(string opType, string[] nodeInputs, params OnnxAttribute[] attributes)
    {
        var output = Fresh(opType);
        Claim(output);
        nodes.Add(OnnxProto.Node(opType, output, nodeInputs, [output], attributes));
        return output;
    }

    public string Add(string a, string b) => Node("Add", [a, b]);
    public string Mul(string a, string b) => Node("Mul", [a, b]);
    public string MatMul(string a, string b) => Node("MatMul", [a, b]);
    public string Relu(string x) => Node("Relu", [x]);
    public string Reshape(string x, params long[] shape) => Node("Reshape", [x, Int64s(shape)]);
    public string Transpose(string x, params long[] perm) => Node("Transpose", [x], OnnxAttribute.List("perm", perm));
    public string Softmax(string x) => Node("Softmax", [x], OnnxAttribute.Of("axis", -1L));
    public string Concat(long axis, params string[] parts) => Node("Concat", parts, OnnxAttribute.Of("axis", axis));
    public string Unsqueeze(string x, params long[] axes) => Node("Unsqueeze", [x, Int64s(axes)]);

    /// <summary>x[..., index, ...] along <paramref name="axis"/>, that axis removed.</summary>
    public string Select(string x, long axis, long index) => Node("Gather", [x, Int64Scalar(index)], OnnxAttribute.Of("axis", axis));

    /// <summary>x.narrow(axis, start, length).</summary>
    public string Narrow(string x, long axis, long start, long length) =>
        Node("Slice", [x, Int64s(start), Int64s(start + length), Int64s(axis)]);

    /// <summary>x·Wᵀ + b for a torch-layout weight [out, in] (stored transposed, so the graph runs a plain MatMul).</summary>
    public string Linear(string x, string prefix, Tensor weight, Tensor? bias)
    {
        using var wt = weight.t();
        var y = MatMul(x, Weight(prefix + ".weight_t", wt));
        return bias is null ? y : Add(y, Weight(prefix + ".bias", bias));
    }

    public string LayerNorm(string x, string prefix, Tensor weight, Tensor bias, float epsilon) =>
        Node("LayerNormalization", [x, Weight(prefix + ".weight", weight), Weight(prefix + ".bias", bias)],
            OnnxAttribute.Of("axis", -1L), OnnxAttribute.Of("epsilon", epsilon));

    /// <summary>GELU in its exact form, 0.5·x·(1 + erf(x/√2)), as torch's default gelu.</summary>
    public string GeluErf(string x)
    {
        var erf = Node("Erf", [Mul(x, Scalar((float)(1 / Math.Sqrt(2))))]);
        return Mul(Mul(x, Scalar(0.5f)), Add(erf, Scalar(1f)));
    }

    /// <summary>x·σ(1.702x).</summary>
    public string QuickGelu(string x) => Mul(x, Node("Sigmoid", [Mul(x, Scalar(1.702f))]));

    public string Conv(string x, string w, long kernel, long stride, long pad) =>
        Node("Conv", [x, w], OnnxAttribute.List("kernel_shape", kernel, kernel), OnnxAttribute.List("strides", stride, stride),
            OnnxAttribute.List("pads", pad, pad, pad, pad));

    public string AveragePool(string x, long kernel) =>
        Node("AveragePool", [x], OnnxAttribute.List("kernel_shape", kernel, kernel), OnnxAttribute.List("strides", kernel, kernel));

    public string BatchNorm(string x, string prefix, IReadOnlyDictionary<string, Tensor> w, float epsilon) =>
        Node("BatchNormalization",
            [x, Weight(prefix + ".weight", w[prefix + ".weight"]), Weight(prefix + ".bias", w[prefix + ".bias"]),
             Weight(prefix + ".running_mean", w[prefix + ".running_mean"]), Weight(prefix + ".running_var", w[prefix + ".running_var"])],
            OnnxAttribute.Of("epsilon", epsilon));

    /// <summary>The serialised ModelProto.</summary>
    public ProtoMessage ToModel(string docString)
    {
        var graph = OnnxProto.Graph(name, nodes, initializers, inputs, outputs);
        var version = typeof(OnnxGraph).Assembly.GetName().Version?.ToString() ?? "0";
        return OnnxProto.Model(graph, Opset, version, docString);
    }

    public void Save(string path, string docString)
    {
        using var f = File.Create(path);
        ToModel(docString).WriteTo(f);
    }

    private string Fresh(string hint) => $"{hint}_{counter++}";

    private void Claim(string valueName)
    {
        if (!names.Add(valueName)) throw new InvalidOperationException($"ONNX value name '{valueName}' used twice");
    }
}
