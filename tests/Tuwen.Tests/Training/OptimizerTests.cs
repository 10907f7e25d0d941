using Tuwen.Training;
using static TorchSharp.torch;

namespace Tuwen.Tests.Training;

public class OptimizerTests
{
    [Fact]
    public void AdamWFirstStepMatchesHandComputed()
    {
        // p=1, g=0.5, lr=0.1, wd=0.1: decay p·(1−0.01)=0.99; m̂=0.5, v̂=0.25 → update 0.1·0.5/0.5 = 0.1 → 0.89.
        using var p = nn.Parameter(tensor(new float[] { 1f, 1f }).view(1, 2));
        using var bias = nn.Parameter(tensor(new float[] { 1f }));
        p.grad = tensor(new float[] { 0.5f, 0.5f }).view(1, 2);
        bias.grad = tensor(new float[] { 0.5f });
        using var opt = new AdamW([("w", p), ("bias", bias)], 0.9, 0.999, 1e-8, 0.1);
        opt.Step(0.1);
        Assert.Equal(0.89, p[0, 0].item<float>(), 5);
        Assert.Equal(0.90, bias[0].item<float>(), 5);   // no decay on 1-d parameters
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
