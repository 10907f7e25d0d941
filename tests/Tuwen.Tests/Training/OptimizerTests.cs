using Tuwen.Training;
using static TorchSharp.torch;

namespace Tuwen.Tests.Training;

public class OptimizerTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AdamWFirstStepMatchesHandComputed(bool fused)
    {
        // p=1, g=0.5, lr=0.1, wd=0.1: decay p·(1−0.01)=0.99; m̂=0.5, v̂=0.25 → update 0.1·0.5/0.5 = 0.1 → 0.89.
        using var p = nn.Parameter(tensor(new float[] { 1f, 1f }).view(1, 2));
        using var bias = nn.Parameter(tensor(new float[] { 1f }));
        p.grad = tensor(new float[] { 0.5f, 0.5f }).view(1, 2);
        bias.grad = tensor(new float[] { 0.5f });
        using var opt = new AdamW([("w", p), ("bias", bias)], 0.9, 0.999, 1e-8, 0.1) { Fused = fused };
        opt.Step(0.1);
        Assert.Equal(0.89, p[0, 0].item<float>(), 5);
        Assert.Equal(0.90, bias[0].item<float>(), 5);   // no decay on 1-d parameters
    }

    [Fact]
    public void ClipGradNormScalesToTheGlobalNorm()
    {
        // Gradients (3, 4) and (12): global norm √(9 + 16 + 144) = 13; clipping to 1.3 scales them by 1/10.
        using var w = nn.Parameter(zeros(2));
        using var b = nn.Parameter(zeros(1));
        w.grad = tensor(new float[] { 3f, 4f });
        b.grad = tensor(new float[] { 12f });
        using var opt = new AdamW([("w", w), ("b", b)], 0.9, 0.999, 1e-8, 0);
        Assert.Equal(13.0, opt.ClipGradNorm(1.3), 4);
        Assert.Equal(0.3, w.grad![0].item<float>(), 5);
        Assert.Equal(0.4, w.grad![1].item<float>(), 5);
        Assert.Equal(1.2, b.grad![0].item<float>(), 5);
        Assert.Equal(1.3, opt.ClipGradNorm(0), 4);        // 0 = measure only
        Assert.Equal(1.2, b.grad![0].item<float>(), 5);
    }

    [Fact]
    public void TheOnePassKernelFollowsTheTensorOpsOverSeveralSteps()
    {
        // 333,337 elements: the kernel's parallel blocks plus a scalar tail; 7: the tail alone; decay on the matrix only.
        TorchSharp.Modules.Parameter[] Make() => [nn.Parameter(randn([577, 577], generator: new Generator(1)).add_(1)), nn.Parameter(randn([7], generator: new Generator(2)))];
        var a = Make();
        var b = Make();
        using var fused = new AdamW([("w", a[0]), ("bias", a[1])], 0.9, 0.98, 1e-6, 0.2) { Fused = true };
        using var plain = new AdamW([("w", b[0]), ("bias", b[1])], 0.9, 0.98, 1e-6, 0.2) { Fused = false };
        for (var step = 0; step < 4; step++)
        {
            for (var i = 0; i < 2; i++)
            {
                var g = randn(a[i].shape, generator: new Generator((ulong)(10 + step * 2 + i)));
                a[i].grad = g.clone();
                b[i].grad = g;
            }
            fused.Step(1e-2 * (step + 1));
            plain.Step(1e-2 * (step + 1));
        }
        for (var i = 0; i < 2; i++)
        {
            Assert.False(a[i].equal(Make()[i]).all().item<bool>(), "the parameters did not move");
            Assert.InRange((a[i] - b[i]).abs().max().item<float>(), 0, 1e-6f);
        }
        var reference = plain.State();
        foreach (var entry in fused.State())
            Assert.InRange((entry.Value.to(ScalarType.Float64) - reference[entry.Key].to(ScalarType.Float64)).abs().max().item<double>(), 0, 1e-6);
    }

    [Theory]
    [InlineData("visual.proj", 2, true)]
    [InlineData("visual.positional_embedding", 2, false)]
    [InlineData("bert.embeddings.word_embeddings.weight", 2, false)]
    [InlineData("visual.ln_pre.weight", 1, false)]
    [InlineData("logit_scale", 0, false)]
    public void WeightDecayRule(string name, int dims, bool decays)
    {
        using var t = zeros(Enumerable.Repeat(2L, dims).ToArray());
        Assert.Equal(decays, AdamW.Decays(name, t));
    }

    [Fact]
    public void WarmupThenCosine()
    {
        var s = new LrSchedule(1.0, 0.1, 10, 110);
        Assert.Equal(0.1, s.At(0), 9);          // (0+1)/10
        Assert.Equal(1.0, s.At(9), 9);
        Assert.Equal(1.0, s.At(10), 9);         // cosine starts at the peak
        Assert.Equal(0.55, s.At(60), 9);        // halfway: floor + (peak−floor)/2
        Assert.Equal(0.1, s.At(110), 9);
    }
}
