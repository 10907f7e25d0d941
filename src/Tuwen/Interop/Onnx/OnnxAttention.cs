using TorchSharp;
using static TorchSharp.torch;

namespace Tuwen.Interop.Onnx;

/// <summary>
/// Multi-head self-attention as ONNX nodes, from a fused [3W, W] input projection (CLIP's in_proj layout; BERT's
/// separate query/key/value are stacked into it). The 1/√d scale is folded into the query rows at export.
/// </summary>
public static class OnnxAttention
{
    /// <param name="x">[B, L, W]</param>
    /// <param name="maskBias">additive [B, 1, 1, L] (0 to attend, a large negative to ignore), or null.</param>
    public static string SelfAttention(OnnxGraph g, string x, string prefix, Tensor inWeight, Tensor inBias,
        Tensor outWeight, Tensor outBias, int heads, string? maskBias)
    {
        var width = inWeight.shape[1];
        var d = width / heads;
        using var scope = NewDisposeScope();
        var scale = (1 / Math.Sqrt(d)).ToScalar();
        var w = inWeight.detach().to(ScalarType.Float32).clone();
        var b = inBias.detach().to(ScalarType.Float32).clone();
        w.narrow(0, 0, width).mul_(scale);
        b.narrow(0, 0, width).mul_(scale);
        var qkv = g.Transpose(g.Reshape(g.Linear(x, prefix + ".in_proj", w, b), 0, 0, 3, heads, d), 2, 0, 3, 1, 4);   // [3, B, H, L, D]
        var q = g.Select(qkv, 0, 0);
        var k = g.Select(qkv, 0, 1);
        var v = g.Select(qkv, 0, 2);
        var scores = g.MatMul(q, g.Transpose(k, 0, 1, 3, 2));                 // [B, H, L, L]
        if (maskBias != null) scores = g.Add(scores, maskBias);
        var y = g.MatMul(g.Softmax(scores), v);                                // [B, H, L, D]
        var merged = g.Reshape(g.Transpose(y, 0, 2, 1, 3), 0, 0, width);
        return g.Linear(merged, prefix + ".out_proj", outWeight, outBias);
    }
}
