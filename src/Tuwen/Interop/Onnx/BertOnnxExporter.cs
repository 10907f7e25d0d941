using Tuwen.Models;
using static TorchSharp.torch;

namespace Tuwen.Interop.Onnx;

/// <summary>
/// The "bert" text tower (<see cref="BertTextEncoder"/>) and text_projection as an ONNX graph: word, position and
/// token-type-0 embeddings, post-LN layers (eps 1e-12) whose attention ignores padding (ids == 0, the mask built
/// inside the graph), the [CLS] hidden state, then the projection into the joint space. Ids [batch, length]
/// int64 → features [batch, E]; batch and length are both symbolic (length ≤ max_positions).
/// </summary>
public static class BertOnnxExporter
{
    private const float LayerNormEps = 1e-12f;

    /// <summary>Added to the scores of padding keys: softmax gives them exactly zero weight, as a boolean mask does.</summary>
    private const float MaskedScore = -1e9f;

    public static OnnxGraph Build(TextConfig c, IReadOnlyDictionary<string, Tensor> w)
    {
        var g = new OnnxGraph("tuwen_text_bert");
        var ids = g.Input("token_ids", OnnxType.Int64, "batch", "length");
        const string e = "bert.embeddings";
        var words = g.Node("Gather", [g.Weight(e + ".word_embeddings.weight", w[e + ".word_embeddings.weight"]), ids]);   // [B, L, W]
        // Positions 0..L-1 plus token type 0 as one table, cut to the input's length.
        using var type0 = w[e + ".token_type_embeddings.weight"][0];
        using var table = w[e + ".position_embeddings.weight"].add(type0);
        var length = g.Narrow(g.Node("Shape", [ids]), 0, 1, 1);
        var positions = g.Node("Slice", [g.Weight(e + ".position_and_type", table), g.Int64s(0), length, g.Int64s(0)]);
        var x = g.LayerNorm(g.Add(words, positions), e + ".LayerNorm", w[e + ".LayerNorm.weight"], w[e + ".LayerNorm.bias"], LayerNormEps);

        var padding = g.Node("Equal", [ids, g.Int64s(0)]);
        var maskBias = g.Unsqueeze(g.Node("Where", [padding, g.Scalar(MaskedScore), g.Scalar(0f)]), 1, 2);   // [B, 1, 1, L]

        for (var i = 0; i < c.Layers; i++)
        {
            var p = $"bert.encoder.layer.{i}";
            var a = p + ".attention";
            using var inWeight = cat([w[a + ".query.weight"], w[a + ".key.weight"], w[a + ".value.weight"]], 0);
            using var inBias = cat([w[a + ".query.bias"], w[a + ".key.bias"], w[a + ".value.bias"]], 0);
            var attended = OnnxAttention.SelfAttention(g, x, a, inWeight, inBias, w[a + ".output_dense.weight"], w[a + ".output_dense.bias"], c.Heads, maskBias);
            x = g.LayerNorm(g.Add(x, attended), a + ".output_LayerNorm", w[a + ".output_LayerNorm.weight"], w[a + ".output_LayerNorm.bias"], LayerNormEps);
            var h = g.GeluErf(g.Linear(x, p + ".intermediate_dense", w[p + ".intermediate_dense.weight"], w[p + ".intermediate_dense.bias"]));
            h = g.Linear(h, p + ".output_dense", w[p + ".output_dense.weight"], w[p + ".output_dense.bias"]);
            x = g.LayerNorm(g.Add(x, h), p + ".output_LayerNorm", w[p + ".output_LayerNorm.weight"], w[p + ".output_LayerNorm.bias"], LayerNormEps);
        }

        var cls = g.Select(x, 1, 0);
        var features = g.MatMul(cls, g.Weight("text_projection", w["text_projection"]));
        g.Output(features, "features", OnnxType.Float, "batch", w["text_projection"].shape[1]);
        return g;
    }
}
