using Tuwen.Data;
using Tuwen.Interop.ChineseClip;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Tuwen.Tests.Interop;

/// <summary>Chinese-CLIP .pt checkpoints loaded into Tuwen give Chinese-CLIP's own embeddings (≤ 1e-4, fp32).</summary>
public class ParityCheckpointTests(ITestOutputHelper output)
{
    [Theory]
    [MemberData(nameof(ParityFixtures.Architectures), MemberType = typeof(ParityFixtures))]
    public void EmbeddingsFromTokenIdsAndPixelsMatchChineseClip(string architecture)
    {
        using var imported = ChineseClipCheckpoint.Load(ParityFixtures.Path(architecture + ".pt"), ParityFixtures.Options(architecture));
        var reference = ParityFixtures.Reference(architecture);
        using var _ = no_grad();
        using var image = imported.Model.EncodeImage(reference["pixels"]);
        using var text = imported.Model.EncodeText(reference["token_ids"]);
        ParityFixtures.AssertClose(output, $"{architecture} image (pixels)", image, reference["image_emb"]);
        ParityFixtures.AssertClose(output, $"{architecture} text (token ids)", text, reference["text_emb"]);
        foreach (var t in reference.Values) t.Dispose();
    }

    [Theory]
    [MemberData(nameof(ParityFixtures.Architectures), MemberType = typeof(ParityFixtures))]
    public void EmbeddingsFromPngBytesThroughTheEvalTransformMatchChineseClip(string architecture)
    {
        using var imported = ChineseClipCheckpoint.Load(ParityFixtures.Path(architecture + ".pt"), ParityFixtures.Options(architecture));
        var reference = ParityFixtures.Reference(architecture);
        var transform = ImageTransform.ForEval(imported.Config.Vision.ImageSize);
        var pixels = ParityFixtures.Images.SelectMany(f => transform.Apply(File.ReadAllBytes(ParityFixtures.Path(f)))).ToArray();
        using var batch = tensor(pixels, [ParityFixtures.Images.Length, 3, transform.Size, transform.Size]);
        ParityFixtures.AssertClose(output, $"{architecture} pre-processed pixels", batch, reference["pixels"]);
        using var _ = no_grad();
        using var image = imported.Model.EncodeImage(batch);
        ParityFixtures.AssertClose(output, $"{architecture} image (PNG bytes)", image, reference["image_emb"]);
        foreach (var t in reference.Values) t.Dispose();
    }

    [Theory]
    [InlineData("vit-b-16", "vit", 32, 16, 16, 2, 2, 4)]
    [InlineData("vit-l-14", "vit", 28, 14, 24, 3, 3, 4)]
    [InlineData("vit-l-14-336", "vit", 42, 14, 24, 3, 3, 4)]
    [InlineData("vit-h-14", "vit", 28, 14, 30, 3, 3, 5)]
    [InlineData("rn50", "resnet", 64, 16, 2, 0, 2, 3)]
    public void InfersTheArchitectureFromShapes(string architecture, string type, int imageSize, int patch, int width, int layers, int heads, int textLayers)
    {
        using var imported = ChineseClipCheckpoint.Load(ParityFixtures.Path(architecture + ".pt"), ParityFixtures.Options(architecture));
        var c = imported.Config;
        Assert.Equal(type, c.Vision.Type);
        Assert.Equal(imageSize, c.Vision.ImageSize);
        Assert.Equal(width, c.Vision.Width);
        Assert.Equal(heads, c.Vision.Heads);
        Assert.Equal(textLayers, c.Text.Layers);
        Assert.Equal(300, c.Text.VocabSize);
        if (type == "vit")
        {
            Assert.Equal(patch, c.Vision.PatchSize);
            Assert.Equal(layers, c.Vision.Layers);
            Assert.Equal("quick_gelu", c.Vision.Activation);
        }
        else Assert.Equal([3, 4, 6, 3], c.Vision.StageDepths);
    }
}
