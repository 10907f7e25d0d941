using TorchSharp;
using Tuwen.Models;
using static TorchSharp.torch;

namespace Tuwen.Objectives;

/// <summary>
/// A fixed-size ring buffer of past key features [Capacity, Dim] (MoCo's dictionary, R2D2's teacher queue).
/// Keys of a batch overwrite the oldest rows, wrapping around the end, so a batch size need not divide the
/// capacity (BriVL asserted it did because its GPUs wrote whole slices). Each row remembers the step it was
/// written at, so a consumer can down-weight stale entries. Rows never written are not <see cref="Valid"/>.
/// </summary>
public sealed class MomentumQueue : IDisposable
{
    private readonly Tensor features;
    private readonly Tensor steps;
    private long pointer;
    private long count;

    /// <param name="randomInit">Fill with random unit vectors and count them as valid (MoCo starts this way, so
    /// the first batches already have negatives); otherwise start empty.</param>
    /// <param name="device">Where the keys come from (the encoder's device); the random start is drawn on the CPU
    /// either way, so it does not depend on the device.</param>
    public MomentumQueue(int capacity, int dim, bool randomInit, Generator? generator = null, Device? device = null)
    {
        if (capacity < 1 || dim < 1) throw new TuwenException($"queue size and width must be positive (got {capacity}×{dim})");
        Capacity = capacity;
        Dim = dim;
        using (no_grad())
        {
            features = randomInit
                ? nn.functional.normalize(randn(capacity, dim, generator: generator), dim: 1).to(device ?? CPU).DetachFromDisposeScope()
                : zeros(capacity, dim, device: device).DetachFromDisposeScope();
        }
        steps = full(capacity, -1L, ScalarType.Int64, device).DetachFromDisposeScope();
        count = randomInit ? capacity : 0;
    }

    public int Capacity { get; }
    public int Dim { get; }

    /// <summary>Where the next key goes.</summary>
    public long Pointer => pointer;

    /// <summary>How many rows hold keys (or the random initialisation).</summary>
    public long Count => count;

    /// <summary>All rows [Capacity, Dim], valid or not; do not dispose.</summary>
    public Tensor Features => features;

    /// <summary>The rows holding keys [Count, Dim] (a view while the queue is full); dispose the result.</summary>
    public Tensor Valid => count == Capacity ? features.alias() : features.narrow(0, 0, count);

    /// <summary>Step at which each row was written [Capacity] (−1: initial or empty); do not dispose.</summary>
    public Tensor Steps => steps;

    /// <summary>Writes keys [B, Dim] (detached) over the oldest rows, wrapping around; B may exceed nothing but Capacity.</summary>
    public void Enqueue(Tensor keys, long step = -1)
    {
        if (keys.dim() != 2 || keys.shape[1] != Dim)
            throw new ArgumentException($"keys must be [B, {Dim}], got [{string.Join(",", keys.shape)}]");
        var b = keys.shape[0];
        if (b > Capacity) throw new TuwenException($"a batch of {b} keys does not fit a queue of {Capacity}");
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var k = keys.detach().to(features.dtype);
        var first = Math.Min(b, Capacity - pointer);
        features.narrow(0, pointer, first).copy_(k.narrow(0, 0, first));
        steps.narrow(0, pointer, first).fill_(step);
        if (first < b)
        {
            features.narrow(0, 0, b - first).copy_(k.narrow(0, first, b - first));
            steps.narrow(0, 0, b - first).fill_(step);
        }
        pointer = (pointer + b) % Capacity;
        count = Math.Min(Capacity, count + b);
    }

    /// <summary>Tensors to save under a prefix: features, steps, and [pointer, count].</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> State(string prefix)
    {
        yield return KeyValuePair.Create(prefix + "features", features);
        yield return KeyValuePair.Create(prefix + "steps", steps);
        yield return KeyValuePair.Create(prefix + "pointer", tensor(new[] { pointer, count }));
    }

    public void LoadState(IReadOnlyDictionary<string, Tensor> state, string prefix)
    {
        Tensor Get(string name) => state.TryGetValue(prefix + name, out var t) ? t
            : throw new TuwenException($"checkpoint lacks queue tensor '{prefix + name}'");
        var f = Get("features");
        if (!f.shape.SequenceEqual(features.shape))
            throw new TuwenException($"checkpoint queue '{prefix}features' is [{string.Join(",", f.shape)}], this run's queue is [{Capacity},{Dim}] (queue size changed?)");
        using var _ = no_grad();
        features.copy_(f);
        steps.copy_(Get("steps"));
        using var pointerAndCount = Get("pointer").cpu();
        var pc = pointerAndCount.data<long>().ToArray();
        (pointer, count) = (pc[0], pc[1]);
    }

    public void Dispose()
    {
        features.Dispose();
        steps.Dispose();
    }
}

/// <summary>Exponential moving average of weights: θ_key ← m·θ_key + (1−m)·θ_query (MoCo's momentum encoder,
/// R2D2's teacher). Buffers (e.g. BatchNorm statistics) are copied, as MoCo's key encoder does not average them.</summary>
public static class MomentumUpdate
{
    public static void Apply(nn.Module target, nn.Module source, double momentum)
    {
        if (momentum is < 0 or > 1) throw new TuwenException($"momentum must be in [0, 1], got {momentum}");
        using var _ = no_grad();
        var sourceParams = source.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        using var m = momentum.ToScalar();
        using var oneMinus = (1 - momentum).ToScalar();
        foreach (var (name, p) in target.named_parameters())
        {
            var s = sourceParams.TryGetValue(name, out var found) ? found
                : throw new InvalidOperationException($"momentum source has no parameter '{name}'");
            p.mul_(m).add_(s, oneMinus);
        }
        var sourceBuffers = source.named_buffers().ToDictionary(b => b.name, b => b.buffer);
        foreach (var (name, b) in target.named_buffers())
            if (sourceBuffers.TryGetValue(name, out var s)) b.copy_(s);
    }

    /// <summary>Makes target an exact copy of source and takes it out of autograd.</summary>
    public static void CopyAndFreeze(nn.Module target, nn.Module source)
    {
        using (no_grad())
        {
            var sourceParams = source.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            foreach (var (name, p) in target.named_parameters())
            {
                p.copy_(sourceParams.TryGetValue(name, out var s) ? s : throw new InvalidOperationException($"momentum source has no parameter '{name}'"));
                p.requires_grad = false;
            }
        }
        var sourceBuffers = source.named_buffers().ToDictionary(b => b.name, b => b.buffer);
        using (no_grad())
            foreach (var (name, b) in target.named_buffers())
                if (sourceBuffers.TryGetValue(name, out var s)) b.copy_(s);
    }
}
