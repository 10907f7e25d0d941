using Tuwen.Models;
using Xunit;

namespace Tuwen.Tests.Models;

public class ModelFlopsTests
{
    // 32 px images in 16 px patches: 4 patches + class token = 5 tokens of width 8, MLP 32; text: 6 tokens of width 8, FFN 16.
    private static readonly ModelConfig Small = new()
    {
        EmbedDim = 4,
        Vision = new VisionConfig { ImageSize = 32, PatchSize = 16, Width = 8, Layers = 1, Heads = 2, MlpRatio = 4 },
        Text = new TextConfig { ContextLength = 6, Width = 8, Layers = 1, Heads = 2, IntermediateSize = 16, MaxPositions = 8, VocabSize = 200 },
    };

    [Fact]
    public void Small_config_matches_the_hand_count()
    {
        // Image: conv 2·4·(3·16·16)·8 = 49152; block: qkv 2·5·8·24 = 1920, QKᵀ 2·5·5·8 = 400, ·V 400, out 2·5·8·8 = 640,
        // MLP 2·(2·5·8·32) = 5120 → 8480; projection 2·8·4 = 64.
        // Text: qkv 2·6·8·24 = 2304, QKᵀ 2·6·6·8 = 576, ·V 576, out 2·6·8·8 = 768, FFN 2·(2·6·8·16) = 3072 → 7296; projection 64.
        var flops = ModelFlops.PerPair(Small);
        Assert.Equal(49152 + 8480 + 64, flops.ImageForward);
        Assert.Equal(7296 + 64, flops.TextForward);
        Assert.Equal(65056, flops.Forward);
        Assert.Equal(3 * 65056, flops.Training);
    }

    [Fact]
    public void Each_layer_adds_one_layer_count()
    {
        var deeper = Small with { Vision = Small.Vision with { Layers = 3 }, Text = Small.Text with { Layers = 2 } };
        var flops = ModelFlops.PerPair(deeper);
        Assert.Equal(49152 + 3 * 8480 + 64, flops.ImageForward);
        Assert.Equal(2 * 7296 + 64, flops.TextForward);
    }

    [Fact]
    public void Contrastive_logits_are_linear_in_the_batch_per_pair()
    {
        // 10×10 logits of 4-d features: 2·10·10·4 = 800 FLOPs over 10 pairs.
        Assert.Equal(80, ModelFlops.ContrastiveLogitsPerPair(4, 10));
    }

    [Fact]
    public void Vit_b_16_image_tower_matches_the_published_count()
    {
        // ViT-B/16 at 224 px is published as 17.6 G multiply-adds (≈ 35.1 GFLOPs at two per multiply-add).
        var image = ModelFlops.VisionTransformer(ModelConfig.Load("vit-b-16").Vision, 512);
        Assert.InRange(image, 34.8e9, 35.4e9);
    }

    [Fact]
    public void Unmodelled_towers_are_a_clear_error()
    {
        var swin = Small with { Vision = Small.Vision with { Type = "swin" } };
        var e = Assert.Throws<TuwenException>(() => ModelFlops.PerPair(swin));
        Assert.Contains("swin", e.Message);
        var stem = Small with { Vision = Small.Vision with { Stem = "conv" } };
        Assert.Throws<TuwenException>(() => ModelFlops.PerPair(stem));
    }
}
