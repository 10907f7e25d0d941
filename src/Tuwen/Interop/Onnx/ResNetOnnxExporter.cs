using TorchSharp;
using Tuwen.Models;
using static TorchSharp.torch;

namespace Tuwen.Interop.Onnx;

/// <summary>
/// The "resnet" image tower (<see cref="ResNetImageEncoder"/>, CLIP's ModifiedResNet) as an ONNX graph:
/// 3-convolution stem, bottlenecks that downsample by average pooling, BatchNormalization in inference mode
/// (running statistics), and attention pooling with the mean cell as the only query, straight into the joint
/// space. Images [batch, 3, S, S] → features [batch, E], batch dynamic.
/// </summary>
public static class ResNetOnnxExporter
{
    private const float BatchNormEps = 1e-5f;   // torch's BatchNorm2d default, which the tower uses

    public static OnnxGraph Build(VisionConfig c, int embedDim, IReadOnlyDictionary<string, Tensor> w)
    {
        var g = new OnnxGraph("tuwen_image_resnet");
        var images = g.Input("images", OnnxType.Float, "batch", 3, c.ImageSize, c.ImageSize);
        string ConvBn(string x, string conv, string bn, long kernel, long stride, long pad) =>
            g.BatchNorm(g.Conv(x, g.Weight(conv + ".weight", w[conv + ".weight"]), kernel, stride, pad), bn, w, BatchNormEps);

        var x = g.Relu(ConvBn(images, "visual.conv1", "visual.bn1", 3, 2, 1));
        x = g.Relu(ConvBn(x, "visual.conv2", "visual.bn2", 3, 1, 1));
        x = g.Relu(ConvBn(x, "visual.conv3", "visual.bn3", 3, 1, 1));
        x = g.AveragePool(x, 2);
        for (var stage = 0; stage < c.StageDepths.Length; stage++)
            for (var b = 0; b < c.StageDepths[stage]; b++)
            {
                var p = $"visual.layer{stage + 1}.{b}";
                var stride = b == 0 && stage > 0 ? 2 : 1;
                var h = g.Relu(ConvBn(x, p + ".conv1", p + ".bn1", 1, 1, 0));
                h = g.Relu(ConvBn(h, p + ".conv2", p + ".bn2", 3, 1, 1));
                if (stride > 1) h = g.AveragePool(h, stride);
                h = ConvBn(h, p + ".conv3", p + ".bn3", 1, 1, 0);
                var identity = x;
                if (w.ContainsKey(p + ".downsample.0.weight"))
                {
                    if (stride > 1) identity = g.AveragePool(identity, stride);
                    identity = ConvBn(identity, p + ".downsample.0", p + ".downsample.1", 1, 1, 0);
                }
                x = g.Relu(g.Add(h, identity));
            }
        var features = AttentionPool(g, x, c.Heads, w);
        g.Output(features, "features", OnnxType.Float, "batch", embedDim);
        return g;
    }

    /// <summary>CLIP's AttentionPool2d: [B, C, H, W] → [B, E].</summary>
    private static string AttentionPool(OnnxGraph g, string map, int heads, IReadOnlyDictionary<string, Tensor> w)
    {
        const string p = "visual.attnpool";
        var pos = w[p + ".positional_embedding"];
        long channels = pos.shape[1], d = channels / heads;
        var cells = g.Transpose(g.Reshape(map, 0, channels, -1), 0, 2, 1);                                   // [B, HW, C]
        var mean = g.Node("ReduceMean", [cells], OnnxAttribute.List("axes", 1L), OnnxAttribute.Of("keepdims", 1L));
        var x = g.Add(g.Concat(1, mean, cells), g.Weight(p + ".positional_embedding", pos));                // [B, 1+HW, C]

        using var scope = NewDisposeScope();
        var scale = (1 / Math.Sqrt(d)).ToScalar();
        var q = g.Linear(g.Narrow(x, 1, 0, 1), p + ".q_proj", w[p + ".q_proj.weight"].mul(scale), w[p + ".q_proj.bias"].mul(scale));
        var k = g.Linear(x, p + ".k_proj", w[p + ".k_proj.weight"], w[p + ".k_proj.bias"]);
        var v = g.Linear(x, p + ".v_proj", w[p + ".v_proj.weight"], w[p + ".v_proj.bias"]);
        var qh = g.Transpose(g.Reshape(q, 0, 1, heads, d), 0, 2, 1, 3);                                      // [B, H, 1, D]
        var kt = g.Transpose(g.Reshape(k, 0, -1, heads, d), 0, 2, 3, 1);                                    // [B, H, D, L]
        var vh = g.Transpose(g.Reshape(v, 0, -1, heads, d), 0, 2, 1, 3);                                    // [B, H, L, D]
        var pooled = g.MatMul(g.Softmax(g.MatMul(qh, kt)), vh);                                              // [B, H, 1, D]
        var merged = g.Reshape(pooled, 0, channels);
        return g.Linear(merged, p + ".c_proj", w[p + ".c_proj.weight"], w[p + ".c_proj.bias"]);
    }
}
