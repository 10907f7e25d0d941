using Tuwen.Models;
using static TorchSharp.torch;

namespace Tuwen.Tests.Models;

public class MlpActivationTests
{
    [Fact]
    public void QuickGeluIsXTimesSigmoidOf1702X()
    {
        // By hand: 1·σ(1.702) = 1/(1+e^−1.702) = 0.8457958; −2·σ(−3.404) = −2/(1+e^3.404) = −0.0643414;
        // 0.5·σ(0.851) = 0.3503884. Exact GELU would give 0.8413447, −0.0455003, 0.3457312.
        using var x = tensor(new float[] { 1f, -2f, 0.5f });
        using var y = Mlp.QuickGelu(x);
        var v = y.data<float>().ToArray();
        Assert.Equal(0.8457958f, v[0], 5);
        Assert.Equal(-0.0643414f, v[1], 5);
        Assert.Equal(0.3503884f, v[2], 5);
    }

    [Fact]
    public void VisionActivationIsValidatedAndChangesTheTower()
    {
        var baseConfig = ModelConfig.Load("tiny");
        var bad = baseConfig with { Vision = baseConfig.Vision with { Activation = "relu" } };
        var error = Assert.Throws<TuwenException>(() => bad.Validate("test"));
        Assert.Contains("vision.activation", error.Message);

        manual_seed(7);
        using var gelu = new DualEncoder(baseConfig);
        var quick = baseConfig with { Vision = baseConfig.Vision with { Activation = "quick_gelu" } };
        manual_seed(7);
        using var quickModel = new DualEncoder(quick.Validate("test"));
        gelu.eval(); quickModel.eval();
        using var _ = no_grad();
        using var images = randn(1, 3, baseConfig.Vision.ImageSize, baseConfig.Vision.ImageSize);
        using var a = gelu.EncodeImage(images);
        using var b = quickModel.EncodeImage(images);
        // Same seed, same weights: only the activation differs, so the features must differ.
        using var diff = (a - b).abs().max();
        Assert.True(diff.item<float>() > 1e-4f);
    }
}
