using Tuwen.Models;
using static TorchSharp.torch;

namespace Tuwen.Tests.Models;

public class DualEncoderTests
{
    [Fact]
    public void VitB16MatchesChineseClipParameterCountAndRuns()
    {
        var config = ModelConfig.Load("vit-b-16");
        using var model = new DualEncoder(config);
        // Hand count: ViT-B/16 visual 86,192,640 (conv 589,824 + cls 768 + pos 197·768 + 2 LN + 12 blocks of
        // 7,087,872 + proj 768·512); RoBERTa-wwm-ext-base without pooler 101,677,056 (embeddings
        // 21,128·768 + 512·768 + 2·768 + LN, 12 layers of 7,087,872); text_projection 393,216; logit_scale 1.
        Assert.Equal(86_192_640, model.ParameterCount("visual."));
        Assert.Equal(101_677_056, model.ParameterCount("bert."));
        Assert.Equal(188_262_913, model.ParameterCount());
        // Chinese-CLIP publishes 188M for this size (anchors: chinese-clip-vit-base-patch16).
        Assert.InRange(model.ParameterCount() / 1e6, 187.5, 188.5);

        model.eval();
        using var _ = no_grad();
        using var images = randn(2, 3, 224, 224);
        using var ids = tensor(new long[] { 101, 2769, 4263, 102, 0, 0, 101, 1920, 102, 0, 0, 0 }, [2, 6]);
        using var features = model.forward(images, ids);
        Assert.Equal(new long[] { 2, 512 }, features.Image.shape);
        Assert.Equal(new long[] { 2, 512 }, features.Text.shape);
        using var norms = features.Text.norm(1);
        Assert.Equal(1.0, norms[0].item<float>(), 4);
        Assert.Equal(1 / 0.07, features.LogitScale.item<float>(), 3);
    }

    [Fact]
    public void PaddingDoesNotChangeTextFeatures()
    {
        var config = ModelConfig.Load("tiny") with { Text = ModelConfig.Load("tiny").Text with { VocabSize = 200 } };
        using var model = new DualEncoder(config);
        model.eval();
        using var _ = no_grad();
        using var shortIds = tensor(new long[] { 101, 150, 160, 102 }, [1, 4]);
        using var padded = tensor(new long[] { 101, 150, 160, 102, 0, 0, 0, 0 }, [1, 8]);
        using var a = model.EncodeText(shortIds);
        using var b = model.EncodeText(padded);
        Assert.True(a.allclose(b, rtol: 1e-4, atol: 1e-5), "padding tokens leaked into attention");
    }

    [Theory]
    [InlineData("patch")]
    [InlineData("conv")]
    public void BothStemsGiveTheSameTokenGrid(string stem)
    {
        var tiny = ModelConfig.Load("tiny");
        var config = tiny with { Vision = tiny.Vision with { Stem = stem, ImageSize = 32, PatchSize = 8 }, Text = tiny.Text with { VocabSize = 200 } };
        using var model = new DualEncoder(config);
        model.eval();
        using var _ = no_grad();
        using var images = randn(2, 3, 32, 32);
        using var tokens = model.Visual.ForwardTokens(images);
        Assert.Equal(new long[] { 2, 1 + 4 * 4, config.Vision.Width }, tokens.shape);
    }

    [Fact]
    public void ConvStemNeedsAPowerOfTwoPatch()
    {
        var tiny = ModelConfig.Load("tiny");
        Assert.Throws<TuwenException>(() => new DualEncoder(tiny with { Vision = tiny.Vision with { Stem = "conv", ImageSize = 60, PatchSize = 12 } }));
        Assert.Throws<TuwenException>(() => new DualEncoder(tiny with { Vision = tiny.Vision with { Stem = "pixels" } }));
    }

    [Fact]
    public void BadConfigKeyIsAClearError()
    {
        var e = Assert.Throws<TuwenException>(() => ModelConfig.Parse("{\"embed_dimm\": 3}", "x.json"));
        Assert.Contains("embed_dimm", e.Message);
        Assert.Throws<TuwenException>(() => ModelConfig.Load("no-such-size"));
    }
}
