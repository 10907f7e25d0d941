using Tuwen.Models;
using static TorchSharp.torch;

namespace Tuwen.Tests.Models;

public class TokenReductionTests
{
    [Fact]
    public void OutputIsKTokensAndWeightsAreASoftmaxOverPositions()
    {
        using var reduction = new TokenReduction((4, 4), channels: 16, tokens: 3, groups: 4);
        using var x = randn([2, 16, 16], generator: new Generator(1));
        using var output = reduction.forward(x);
        Assert.Equal([2L, 3L, 16L], output.shape);
        using var weights = reduction.Weights(x);
        Assert.Equal([2L, 3L, 16L], weights.shape);
        using var sums = weights.sum(-1);
        Assert.True(sums.allclose(ones(2, 3), 1e-5, 1e-6));
        Assert.True(weights.min().item<float>() > 0);
        using var values = reduction.Values(x);
        Assert.True(output.allclose(weights.matmul(values), 1e-5, 1e-6));
    }

    [Fact]
    public void HandComputedReductionOfTwoTokens()
    {
        // C = 2, groups 2 (the grouped convs are diagonal), K = 1, grid 1×2, tokens t1 = (1,0), t2 = (0,1).
        // LN: t1 → (1,−1), t2 → (−1,1) (mean .5, std .5; eps 1e-5 moves this by 2e-5). Grouped conv = identity.
        // Attention map weights (ln3/2, 0): logits t1 = ln3/2, t2 = −ln3/2 → softmax = (3/4, 1/4).
        // Values (diag 2, 3): V t1 = (2,0), V t2 = (0,3) → out = .75·(2,0) + .25·(0,3) = (1.5, .75).
        using var reduction = new TokenReduction((1, 2), channels: 2, tokens: 1, groups: 2);
        var p = reduction.named_parameters().ToDictionary(n => n.name, n => n.parameter);
        using (no_grad())
        {
            p["attention_mix.weight"].copy_(tensor(new float[] { 1, 1 }, [2, 1, 1, 1]));
            p["attention_maps.weight"].copy_(tensor(new float[] { (float)(Math.Log(3) / 2), 0 }, [1, 2, 1, 1]));
            p["values.weight"].copy_(tensor(new float[] { 2, 3 }, [2, 1, 1, 1]));
        }
        using var x = tensor(new float[] { 1, 0, 0, 1 }, [1, 2, 2]);
        using var output = reduction.forward(x);
        var o = output.data<float>().ToArray();
        Assert.Equal(1.5f, o[0], 3);
        Assert.Equal(0.75f, o[1], 3);
    }

    [Fact]
    public void GradientsReachEveryReductionWeight()
    {
        using var reduction = new TokenReduction((4, 4), channels: 16, tokens: 3, groups: 4);
        var g = new Generator(2);
        using var x = randn([2, 16, 16], generator: g);
        using var target = randn([2, 3, 16], generator: g);
        using var loss = reduction.forward(x).mul(target).sum();
        loss.backward();
        foreach (var (name, parameter) in reduction.named_parameters())
            Assert.True(parameter.grad is { } grad && grad.abs().sum().item<float>() > 0, $"no gradient reached {name}");
        Assert.Contains(reduction.named_parameters(), n => n.name == "attention_maps.weight");
    }

    [Fact]
    public void GroupedConvolutionsKeepChannelGroupsApart()
    {
        // 16 channels in 4 groups of 4: a change in channel 1 (group 0) may change value channels 0–3 only.
        using var reduction = new TokenReduction((4, 4), channels: 16, tokens: 3, groups: 4);
        using var x = randn([1, 16, 16], generator: new Generator(4));
        using var changed = x.clone();
        changed[.., .., 1] = changed[.., .., 1] + 1f;
        using var before = reduction.Values(x);
        using var after = reduction.Values(changed);
        using var delta = after.sub(before).abs().amax([0, 1]);   // per value channel
        var d = delta.data<float>().ToArray();
        Assert.True(d.Take(4).Max() > 1e-3, "group 0's values did not respond to its own channel");
        Assert.All(d.Skip(4), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void RejectsMoreTokensThanTheGridAndGroupsThatDoNotDivide()
    {
        var tooMany = Assert.Throws<TuwenException>(() => new TokenReduction((4, 4), 16, tokens: 17, groups: 4));
        Assert.Contains("4×4", tooMany.Message);
        var groups = Assert.Throws<TuwenException>(() => new TokenReduction((4, 4), 16, tokens: 3, groups: 5));
        Assert.Contains("divide", groups.Message);
    }
}
