using TorchSharp;
using Tuwen.Distributed;
using Tuwen.Objectives;
using static TorchSharp.torch;

namespace Tuwen.Tests.Distributed;

public class CrossWorkerTests
{
    [Fact]
    public void GatherPlacesRanksInOrderAndGivesTheLocalSliceWorldTimesItsGradient()
    {
        // Rank 1 of 3 with rows [[1,2],[3,4]]; ranks 0 and 2 hold constant rows 10·(r+1).
        var group = new ScriptedGroup(1, 3) { OtherRows = r => Enumerable.Repeat(10f * (r + 1), 4).ToArray() };
        using var local = tensor(new float[] { 1, 2, 3, 4 }, [2, 2]).requires_grad_();
        using var all = CrossWorker.Gather(local, group);
        Assert.Equal(new float[] { 10, 10, 10, 10, 1, 2, 3, 4, 30, 30, 30, 30 }, all.data<float>().ToArray());
        using var weights = arange(12, ScalarType.Float32).reshape(6, 2);
        using var loss = (all * weights).sum();
        loss.backward();
        // d loss / d local = weights rows 2..3, times the world size 3.
        Assert.Equal(new float[] { 12, 15, 18, 21 }, local.grad!.data<float>().ToArray());
    }

    [Fact]
    public void AveragedRankGradientsOfTheGatheredClipLossEqualTheOneProcessGradient()
    {
        // A linear "tower" P and a temperature s over a global batch of 4 pairs. One process: CLIP loss on all 4.
        // Two ranks: each holds 2 pairs, gathers the other's features (detached) and backpropagates the same
        // global loss; the trainer averages their gradients. Both must give the same dL/dP and dL/ds.
        manual_seed(3);
        using var x = randn(4, 5);
        using var t = randn(4, 5);
        using var p0 = randn(5, 3);
        (Tensor P, Tensor S) Params() => (p0.clone().requires_grad_(), tensor(2.5f).requires_grad_());
        Tensor Features(Tensor input, Tensor p) => nn.functional.normalize(input.matmul(p), dim: -1);

        var (p, s) = Params();
        using (var loss = ClipObjective.Compute(Features(x, p), Features(t, p), s).Loss) loss.backward();
        var expectedP = p.grad!.clone();
        var expectedS = s.grad!.item<float>();

        using var sumP = zeros(5, 3);
        var sumS = 0f;
        for (var rank = 0; rank < 2; rank++)
        {
            var (pr, sr) = Params();
            float[] Rows(Tensor input, int r) { using var _ = no_grad(); return Features(input.narrow(0, 2 * r, 2), p0).data<float>().ToArray(); }
            var imageGroup = new ScriptedGroup(rank, 2) { OtherRows = r => Rows(x, r) };
            var textGroup = new ScriptedGroup(rank, 2) { OtherRows = r => Rows(t, r) };
            using var image = CrossWorker.Gather(Features(x.narrow(0, 2 * rank, 2), pr), imageGroup);
            using var text = CrossWorker.Gather(Features(t.narrow(0, 2 * rank, 2), pr), textGroup);
            using (var loss = ClipObjective.Compute(image, text, sr).Loss) loss.backward();
            sumP.add_(pr.grad!);
            sumS += sr.grad!.item<float>();
        }
        using var two = 2.0.ToScalar();
        using var averaged = sumP.div(two);
        Assert.True(averaged.allclose(expectedP, rtol: 1e-5, atol: 1e-7), "tower gradient differs");
        Assert.Equal(expectedS, sumS / 2, 5);
        Assert.True(expectedP.abs().max().item<float>() > 1e-3);   // a gradient worth comparing
    }

    [Fact]
    public void OneProcessIsTheIdentity()
    {
        using var local = tensor(new float[] { 1, 2 }, [1, 2]).requires_grad_();
        using var all = CrossWorker.Gather(local);
        Assert.Equal(new long[] { 1, 2 }, all.shape);
        using var loss = all.sum();
        loss.backward();
        Assert.Equal(new float[] { 1, 1 }, local.grad!.data<float>().ToArray());
    }
}
