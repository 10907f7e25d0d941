using System.Runtime.InteropServices;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace Tuwen.Distributed;

/// <summary>
/// Averages gradients over the ranks in buckets of contiguous host memory (DDP's scheme: ~25 MB buckets,
/// parameters in reverse registration order so the last layers, whose gradients exist first, share a
/// bucket). Each bucket is one all-reduce: a few large messages instead of hundreds of small ones. On the
/// wire "fp32" or "bf16" (half the bytes; the sum is rounded to bf16, as PyTorch's bf16 compression hook
/// does). TorchSharp 0.107 exposes no gradient hooks, so buckets are reduced after the backward pass, not
/// overlapped with it.
/// </summary>
public sealed class GradientBuckets : IDisposable
{
    private readonly IProcessGroup group;
    private readonly bool bf16;
    private readonly List<Bucket> buckets = [];

    public GradientBuckets(IEnumerable<Parameter> parameters, IProcessGroup group, string wireType = "fp32", double bucketMegabytes = 25)
    {
        this.group = group;
        bf16 = wireType switch
        {
            "fp32" => false,
            "bf16" => true,
            _ => throw new TuwenException($"allreduce_dtype must be fp32 or bf16, not '{wireType}'"),
        };
        if (!(bucketMegabytes > 0)) throw new TuwenException($"allreduce_bucket_mb must be positive, not {bucketMegabytes}");
        var capacity = (long)(bucketMegabytes * (1 << 20) / sizeof(float));
        var current = new List<Parameter>();
        long elements = 0;
        foreach (var p in parameters.Where(p => p.requires_grad).Reverse())
        {
            if (current.Count > 0 && elements + p.numel() > capacity)
            {
                buckets.Add(new Bucket(current, elements));
                (current, elements) = ([], 0);
            }
            current.Add(p);
            elements += p.numel();
        }
        if (current.Count > 0) buckets.Add(new Bucket(current, elements));
    }

    public int Count => buckets.Count;

    /// <summary>Elements per bucket, in reduction order.</summary>
    public IReadOnlyList<long> Sizes => buckets.Select(b => b.Elements).ToList();

    /// <summary>Bytes one rank sends into each all-reduce per step (the payload, before the ring's factor).</summary>
    public long PayloadBytes => buckets.Sum(b => b.Elements) * (bf16 ? 2 : 4);

    /// <summary>grad ← (Σ over ranks of grad) / world size, for every parameter that has a gradient.</summary>
    public void Average()
    {
        if (group.WorldSize == 1) return;
        using var scope = NewDisposeScope();
        using var share = (1.0 / group.WorldSize).ToScalar();
        foreach (var bucket in buckets)
        {
            // A parameter outside this step's graph has no gradient on any rank (same model, same code): it
            // travels as zeros and stays without one.
            var offset = 0L;
            foreach (var p in bucket.Parameters)
            {
                using var slot = bucket.Flat.narrow(0, offset, p.numel());
                if (p.grad is { } g) slot.copy_(g.reshape(-1));
                else slot.zero_();
                offset += p.numel();
            }
            if (bf16)
            {
                using var wire = bucket.Flat.to(ScalarType.BFloat16);
                group.AllReduceSumBf16(MemoryMarshal.Cast<byte, ushort>(wire.bytes));
                bucket.Flat.copy_(wire);
            }
            else
            {
                group.AllReduceSum(bucket.Span);
            }
            bucket.Flat.mul_(share);
            offset = 0;
            foreach (var p in bucket.Parameters)
            {
                if (p.grad is { } g)
                {
                    using var slot = bucket.Flat.narrow(0, offset, p.numel());
                    g.copy_(slot.view(g.shape));
                }
                offset += p.numel();
            }
        }
    }

    public void Dispose()
    {
        foreach (var b in buckets) b.Flat.Dispose();
    }

    private sealed class Bucket(List<Parameter> parameters, long elements)
    {
        public readonly List<Parameter> Parameters = parameters;
        public readonly long Elements = elements;
        public readonly Tensor Flat = zeros(elements, ScalarType.Float32).DetachFromDisposeScope();

        public unsafe Span<float> Span => new((void*)Flat.storage<float>().data_ptr(), checked((int)Elements));
    }
}
