namespace Tuwen.Models;

/// <summary>
/// Analytic FLOPs of one image–text pair through a dual encoder: the matmuls and convolutions only (norms,
/// activations, softmax and embeddings are a few percent and memory-bound, so MFU conventionally leaves them
/// out), two FLOPs per multiply-add. Text is counted over the whole context length, pads included, because
/// the towers compute them. A training step costs three forwards: the backward pass computes gradients with
/// respect to both activations and weights, each a matmul of the forward's size.
/// </summary>
public sealed record ModelFlops(double ImageForward, double TextForward)
{
    public double Forward => ImageForward + TextForward;
    public double Training => 3 * Forward;

    /// <summary>Counts the vit (patch stem) image tower and the bert text tower; other towers are not modelled.</summary>
    public static ModelFlops PerPair(ModelConfig config) => new(VisionTransformer(config.Vision, config.EmbedDim), Bert(config.Text, config.EmbedDim));

    /// <summary>The B×B×E similarity matrix of a contrastive batch, shared out over its B pairs (forward only).</summary>
    public static double ContrastiveLogitsPerPair(int embedDim, int batch) => 2.0 * batch * embedDim;

    public static double VisionTransformer(VisionConfig v, int embedDim)
    {
        if (v.Type != "vit" || v.Stem != "patch")
            throw new TuwenException($"FLOPs are modelled for vit image towers with the patch stem, not '{v.Type}' / '{v.Stem}'");
        long grid = v.ImageSize / v.PatchSize, patches = grid * grid, width = v.Width;
        var patchEmbedding = 2.0 * patches * (3L * v.PatchSize * v.PatchSize) * width;
        var blocks = v.Layers * TransformerLayer(patches + 1, width, (long)(width * v.MlpRatio));
        var projection = 2.0 * width * embedDim;   // the class token only
        return patchEmbedding + blocks + projection;
    }

    public static double Bert(TextConfig t, int embedDim)
    {
        if (t.Type != "bert") throw new TuwenException($"FLOPs are modelled for bert text towers, not '{t.Type}'");
        var layers = t.Layers * TransformerLayer(t.ContextLength, t.Width, t.IntermediateSize);
        var projection = 2.0 * t.Width * embedDim;   // the [CLS] state only
        return layers + projection;
    }

    /// <summary>One self-attention + MLP layer over <paramref name="tokens"/> tokens (any head count: heads split the width).</summary>
    public static double TransformerLayer(long tokens, long width, long hidden)
    {
        var qkv = 2.0 * tokens * width * 3 * width;
        var scoresAndMix = 2 * (2.0 * tokens * tokens * width);   // Q·Kᵀ, then softmax·V
        var output = 2.0 * tokens * width * width;
        var mlp = 2 * (2.0 * tokens * width * hidden);
        return qkv + scoresAndMix + output + mlp;
    }
}
