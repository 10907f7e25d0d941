namespace Tuwen.Distributed;

/// <summary>
/// The processes started by <c>mpirun</c>, Slurm's <c>srun --mpi=pmix</c> or the Kubernetes MPI Operator, as
/// one <see cref="IProcessGroup"/> over MPI_COMM_WORLD. Started without a launcher it is a world of one.
/// </summary>
public sealed class MpiProcessGroup : IProcessGroup
{
    private bool finalized;

    private MpiProcessGroup(int rank, int size)
    {
        Rank = rank;
        WorldSize = size;
        // Launchers say how many ranks share this machine; without that, assume all of them do.
        LocalSize = EnvInt("OMPI_COMM_WORLD_LOCAL_SIZE") ?? EnvInt("MPI_LOCALNRANKS") ?? EnvInt("SLURM_NTASKS_PER_NODE") ?? size;
    }

    public static MpiProcessGroup Start()
    {
        var (rank, size) = MpiLibrary.Initialize();
        return new MpiProcessGroup(rank, size);
    }

    public int Rank { get; }
    public int WorldSize { get; }
    public int LocalSize { get; }

    public void AllReduceSum(Span<float> values) => MpiLibrary.AllReduceSum(values);
    public void AllReduceSum(Span<double> values) => MpiLibrary.AllReduceSum(values);
    public void AllReduceSumBf16(Span<ushort> values) => MpiLibrary.AllReduceSumBf16(values);
    public void AllGather(ReadOnlySpan<float> local, Span<float> all) => MpiLibrary.AllGather(local, all);
    public void Broadcast(Span<byte> data, int root) => MpiLibrary.Broadcast(data, root);
    public void Barrier() => MpiLibrary.Barrier();
    public void Abort(int exitCode) => MpiLibrary.Abort(exitCode);

    public void Dispose()
    {
        if (finalized) return;
        finalized = true;
        MpiLibrary.Shutdown();
    }

    private static int? EnvInt(string name) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out var v) && v > 0 ? v : null;
}
