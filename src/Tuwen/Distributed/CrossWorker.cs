using Tuwen.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Tuwen.Distributed;

/// <summary>
/// Cross-worker negatives: contrastive losses see the global batch. <see cref="Gather"/> concatenates every
/// rank's features in rank order; only this rank's slice carries gradient (open_clip's gather-with-grad,
/// Chinese-CLIP's all-gather). Because the trainer averages gradients over the ranks, the local slice's
/// gradient is multiplied by the world size here: then the averaged gradient of every parameter equals the
/// one-process gradient of the global-batch loss (the features' paths sum over ranks, the shared temperature,
/// which every rank sees whole, averages). The rank group is ambient, set by the trainer around each step
/// like <see cref="Autocast"/>, so objectives written for one process need one call to become global.
/// </summary>
public static class CrossWorker
{
    [ThreadStatic] private static IProcessGroup? current;

    /// <summary>The group of the step in progress on this thread; a world of one outside training.</summary>
    public static IProcessGroup Group => current ?? SingleProcess.Instance;

    public static IDisposable Enable(IProcessGroup group)
    {
        var previous = current;
        current = group;
        return new Restore(() => current = previous);
    }

    /// <summary>[rows, …] features of this rank → [world·rows, …] of all ranks; gradient flows to the local slice.</summary>
    public static Tensor Gather(Tensor local) => Gather(local, Group);

    public static Tensor Gather(Tensor local, IProcessGroup group)
    {
        if (group.WorldSize == 1) return local.alias();
        using var scope = NewDisposeScope();
        var all = GatherDetached(local, group);
        var detached = local.detach();
        // detached + (local − detached)·W: the local values exactly, with W times the gradient.
        using var world = ((double)group.WorldSize).ToScalar();
        var withGradient = detached.add(local.sub(detached).mul(world));
        var rows = local.shape[0];
        var parts = new List<Tensor>();
        if (group.Rank > 0) parts.Add(all.narrow(0, 0, group.Rank * rows));
        parts.Add(withGradient);
        if (group.Rank < group.WorldSize - 1) parts.Add(all.narrow(0, (group.Rank + 1) * rows, (group.WorldSize - group.Rank - 1) * rows));
        return cat(parts, 0).MoveToOuterDisposeScope();
    }

    /// <summary>All ranks' rows without gradient (keys for queues, features for cached gradients).</summary>
    public static Tensor GatherDetached(Tensor local, IProcessGroup group)
    {
        if (group.WorldSize == 1) return local.detach().alias();
        using var scope = NewDisposeScope();
        using var host = local.detach().to(ScalarType.Float32).cpu().contiguous();
        var shape = local.shape.ToArray();
        shape[0] *= group.WorldSize;
        var all = zeros(shape, ScalarType.Float32);
        group.AllGather(Floats(host), Floats(all));
        return all.to(local.dtype).to(local.device).MoveToOuterDisposeScope();
    }

    private static unsafe Span<float> Floats(Tensor t) => new((float*)t.storage<float>().data_ptr() + t.storage_offset(), checked((int)t.numel()));

    private sealed class Restore(Action undo) : IDisposable
    {
        public void Dispose() => undo();
    }
}
