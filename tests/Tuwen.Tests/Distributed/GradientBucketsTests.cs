using TorchSharp.Modules;
using Tuwen.Distributed;
using static TorchSharp.torch;

namespace Tuwen.Tests.Distributed;

public class GradientBucketsTests
{
    private static Parameter Param(int n, float grad, bool withGrad = true)
    {
        var p = new Parameter(zeros(n));
        if (withGrad)
        {
            using var g = full(n, grad);
            using var loss = (p * g).sum();
            loss.backward();
        }
        return p;
    }

    [Theory]
    [InlineData("fp32")]
    [InlineData("bf16")]
    public void GradientsBecomeTheMeanOverRanksInBucketsOfTheGivenSize(string wire)
    {
        // Parameters of 3, 5, 4 and 2 elements; this rank's gradients 1, 2, 3, (none); the other rank's all 5.
        var ps = new[] { Param(3, 1), Param(5, 2), Param(4, 3), Param(2, 0, withGrad: false) };
        var group = new ScriptedGroup(0, 2) { OthersSum = _ => 5f };
        // 8 elements (32 bytes) per bucket, filled from the last parameter backwards: [2, 4] [5, 3].
        using var buckets = new GradientBuckets(ps, group, wire, bucketMegabytes: 32.0 / (1 << 20));
        Assert.Equal(new long[] { 6, 8 }, buckets.Sizes);
        Assert.Equal(14 * (wire == "bf16" ? 2 : 4), buckets.PayloadBytes);
        buckets.Average();
        Assert.Equal(new[] { 6, 8 }, group.AllReduceLengths);
        Assert.Equal(new float[] { 3, 3, 3 }, ps[0].grad!.data<float>().ToArray());
        Assert.Equal(new float[] { 3.5f, 3.5f, 3.5f, 3.5f, 3.5f }, ps[1].grad!.data<float>().ToArray());
        Assert.Equal(new float[] { 4, 4, 4, 4 }, ps[2].grad!.data<float>().ToArray());
        Assert.Null(ps[3].grad);
    }

    [Fact]
    public void OneProcessLeavesGradientsAloneAndCallsNothing()
    {
        var ps = new[] { Param(3, 1) };
        var group = new ScriptedGroup(0, 1);
        using var buckets = new GradientBuckets(ps, group);
        buckets.Average();
        Assert.Equal(0, group.AllReduceCalls);
        Assert.Equal(new float[] { 1, 1, 1 }, ps[0].grad!.data<float>().ToArray());
    }

    [Fact]
    public void BadWireTypeOrBucketSizeIsAClearError()
    {
        Assert.Contains("fp32 or bf16", Assert.Throws<TuwenException>(() => new GradientBuckets([Param(1, 1)], SingleProcess.Instance, "fp16")).Message);
        Assert.Throws<TuwenException>(() => new GradientBuckets([Param(1, 1)], SingleProcess.Instance, "fp32", 0));
    }
}
