using Tuwen.Models;
using static TorchSharp.torch;

namespace Tuwen.Interop.Onnx;

/// <summary>
/// The "vit" image tower (<see cref="VisionTransformer"/>) as an ONNX graph: patch convolution, class token,
/// positions, ln_pre, pre-norm blocks, ln_post on the class token and proj — images [batch, 3, S, S] →
/// features [batch, E], batch dynamic.
/// </summary>
public static class VitOnnxExporter
{
    private const float LayerNormEps = 1e-5f;   // torch's nn.LayerNorm default, which the tower uses

    public static OnnxGraph Build(VisionConfig c, int embedDim, IReadOnlyDictionary<string, Tensor> w)
    {
        if (c.Stem != "patch") throw new TuwenException($"ONNX export supports the ViT 'patch' stem only, not vision.stem '{c.Stem}'");
        var g = new OnnxGraph("tuwen_image_vit");
        var images = g.Input("images", OnnxType.Float, "batch", 3, c.ImageSize, c.ImageSize);
        var width = c.Width;
        var x = g.Conv(images, g.Weight("visual.conv1.weight", w["visual.conv1.weight"]), c.PatchSize, c.PatchSize, 0);
        x = g.Transpose(g.Reshape(x, 0, width, -1), 0, 2, 1);                  // [B, N, W]

        // The class token is expanded to [B, 1, W] from the input's own batch size: the batch axis stays symbolic.
        var batch = g.Narrow(g.Node("Shape", [images]), 0, 0, 1);
        using var cls = w["visual.class_embedding"].view(1, 1, width);
        var clsTokens = g.Node("Expand", [g.Weight("visual.class_embedding", cls), g.Concat(0, batch, g.Int64s(1, width))]);
        x = g.Add(g.Concat(1, clsTokens, x), g.Weight("visual.positional_embedding", w["visual.positional_embedding"]));
        x = g.LayerNorm(x, "visual.ln_pre", w["visual.ln_pre.weight"], w["visual.ln_pre.bias"], LayerNormEps);

        for (var i = 0; i < c.Layers; i++)
        {
            var p = $"visual.transformer.resblocks.{i}";
            var h = g.LayerNorm(x, p + ".ln_1", w[p + ".ln_1.weight"], w[p + ".ln_1.bias"], LayerNormEps);
            h = OnnxAttention.SelfAttention(g, h, p + ".attn", w[p + ".attn.in_proj_weight"], w[p + ".attn.in_proj_bias"],
                w[p + ".attn.out_proj.weight"], w[p + ".attn.out_proj.bias"], c.Heads, null);
            x = g.Add(x, h);
            h = g.LayerNorm(x, p + ".ln_2", w[p + ".ln_2.weight"], w[p + ".ln_2.bias"], LayerNormEps);
            h = g.Linear(h, p + ".mlp.c_fc", w[p + ".mlp.c_fc.weight"], w[p + ".mlp.c_fc.bias"]);
            h = c.Activation == "quick_gelu" ? g.QuickGelu(h) : g.GeluErf(h);
            x = g.Add(x, g.Linear(h, p + ".mlp.c_proj", w[p + ".mlp.c_proj.weight"], w[p + ".mlp.c_proj.bias"]));
        }

        var pooled = g.LayerNorm(g.Select(x, 1, 0), "visual.ln_post", w["visual.ln_post.weight"], w["visual.ln_post.bias"], LayerNormEps);
        var features = g.MatMul(pooled, g.Weight("visual.proj", w["visual.proj"]));
        g.Output(features, "features", OnnxType.Float, "batch", embedDim);
        return g;
    }
}
