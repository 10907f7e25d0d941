using TorchSharp;
using Tuwen.Objectives;
using static TorchSharp.torch;

namespace Tuwen.Tests.Objectives;

public class MomentumQueueTests
{
    private static Tensor Rows(params float[] firstColumn) =>
        tensor(firstColumn.SelectMany(v => new[] { v, -v }).ToArray(), [firstColumn.Length, 2]);

    private static float[] FirstColumn(MomentumQueue q) => q.Features[.., 0].data<float>().ToArray();

    [Fact]
    public void EnqueueOverwritesOldestRowsAndWrapsAround()
    {
        using var q = new MomentumQueue(5, 2, randomInit: false);
        Assert.Equal(0, q.Count);
        using (var a = Rows(1, 2, 3)) q.Enqueue(a, step: 1);
        Assert.Equal(new float[] { 1, 2, 3, 0, 0 }, FirstColumn(q));
        Assert.Equal(3, q.Pointer);
        Assert.Equal(3, q.Count);
        using (var valid = q.Valid) Assert.Equal(3, valid.shape[0]);
        // 3 more rows: two fill the end, the third wraps to row 0 (the oldest key, 1).
        using (var b = Rows(4, 5, 6)) q.Enqueue(b, step: 2);
        Assert.Equal(new float[] { 6, 2, 3, 4, 5 }, FirstColumn(q));
        Assert.Equal(new long[] { 2, 1, 1, 2, 2 }, q.Steps.data<long>().ToArray());
        Assert.Equal(1, q.Pointer);
        Assert.Equal(5, q.Count);
        Assert.Equal(new float[] { -6, -2, -3, -4, -5 }, q.Features[.., 1].data<float>().ToArray());
        using (var c = Rows(7, 8, 9, 10, 11)) q.Enqueue(c, step: 3);   // a full turn lands back on pointer 1
        Assert.Equal(new float[] { 11, 7, 8, 9, 10 }, FirstColumn(q));
        Assert.Equal(1, q.Pointer);
    }

    [Fact]
    public void RandomInitIsUnitRowsAndCountsAsFull()
    {
        using var q = new MomentumQueue(16, 8, randomInit: true, new Generator(3));
        Assert.Equal(16, q.Count);
        using var norms = q.Features.norm(1);
        Assert.True(norms.sub(1).abs().max().item<float>() < 1e-5);
        using var big = randn(17, 8);
        Assert.Throws<TuwenException>(() => q.Enqueue(big));
    }

    [Fact]
    public void StateRoundTripsBitForBit()
    {
        using var q = new MomentumQueue(4, 3, randomInit: true, new Generator(1));
        using (var k = randn(3, 3)) q.Enqueue(k, 9);
        var saved = q.State("q.").ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        using var r = new MomentumQueue(4, 3, randomInit: false);
        r.LoadState(saved, "q.");
        Assert.True(r.Features.equal(q.Features).all().item<bool>());
        Assert.True(r.Steps.equal(q.Steps).all().item<bool>());
        Assert.Equal((q.Pointer, q.Count), (r.Pointer, r.Count));
        using var wrong = new MomentumQueue(8, 3, randomInit: false);
        var e = Assert.Throws<TuwenException>(() => wrong.LoadState(saved, "q."));
        Assert.Contains("queue size changed", e.Message);
    }

    [Fact]
    public void MomentumUpdateIsTheEmaFormula()
    {
        using var source = nn.Linear(2, 1);
        using var target = nn.Linear(2, 1);
        using (no_grad())
        {
            source.weight!.copy_(tensor(new float[] { 1, 2 }, [1, 2])); source.bias!.copy_(tensor(new float[] { 3 }));
            target.weight!.copy_(tensor(new float[] { 5, -2 }, [1, 2])); target.bias!.copy_(tensor(new float[] { 0 }));
        }
        MomentumUpdate.Apply(target, source, 0.9);
        // 0.9·5 + 0.1·1 = 4.6; 0.9·(−2) + 0.1·2 = −1.6; 0.9·0 + 0.1·3 = 0.3
        Assert.Equal(new[] { 4.6f, -1.6f }, target.weight!.data<float>().ToArray().Select(v => MathF.Round(v, 5)));
        Assert.Equal(0.3f, target.bias!.item<float>(), 5);
        MomentumUpdate.CopyAndFreeze(target, source);
        Assert.True(target.weight!.equal(source.weight!).all().item<bool>());
        Assert.False(target.weight!.requires_grad);
    }
}
