namespace Tuwen.Distributed;

/// <summary>
/// The collective operations data-parallel training needs, over the processes of one job. Every rank calls
/// the same operations in the same order with the same lengths; buffers are CPU memory (device tensors are
/// staged through the host, so no CUDA-aware transport is assumed).
/// </summary>
public interface IProcessGroup : IDisposable
{
    int Rank { get; }
    int WorldSize { get; }

    /// <summary>Processes of this job on this machine; used to share the cores between them.</summary>
    int LocalSize { get; }

    /// <summary>Element-wise sum over all ranks, in place.</summary>
    void AllReduceSum(Span<float> values);

    void AllReduceSum(Span<double> values);

    /// <summary>Element-wise sum of bfloat16 values (raw bits), in place; partial sums round to bf16.</summary>
    void AllReduceSumBf16(Span<ushort> values);

    /// <summary>Concatenates every rank's <paramref name="local"/> (all the same length) in rank order.</summary>
    void AllGather(ReadOnlySpan<float> local, Span<float> all);

    /// <summary>Overwrites <paramref name="data"/> on every rank with rank <paramref name="root"/>'s bytes.</summary>
    void Broadcast(Span<byte> data, int root);

    void Barrier();

    /// <summary>Stops every process of the job (a rank that fails must not leave the others waiting in a collective).</summary>
    void Abort(int exitCode);
}

/// <summary>A job of one process: every collective is the identity.</summary>
public sealed class SingleProcess : IProcessGroup
{
    public static readonly SingleProcess Instance = new();

    public int Rank => 0;
    public int WorldSize => 1;
    public int LocalSize => 1;
    public void AllReduceSum(Span<float> values) { }
    public void AllReduceSum(Span<double> values) { }
    public void AllReduceSumBf16(Span<ushort> values) { }
    public void AllGather(ReadOnlySpan<float> local, Span<float> all) => local.CopyTo(all);
    public void Broadcast(Span<byte> data, int root) { }
    public void Barrier() { }
    public void Abort(int exitCode) => Environment.Exit(exitCode);
    public void Dispose() { }
}
