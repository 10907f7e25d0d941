using Tuwen.Distributed;

namespace Tuwen.Tests.Distributed;

/// <summary>
/// One rank of a pretend job, in process: the other ranks' contributions are given by the test. AllGather
/// places <see cref="OtherRows"/> of the other ranks around this rank's rows; AllReduceSum adds
/// <see cref="OthersSum"/> (what the other ranks together would contribute to each element).
/// </summary>
internal sealed class ScriptedGroup(int rank, int worldSize) : IProcessGroup
{
    public Func<int, float[]>? OtherRows { get; init; }
    public Func<int, float>? OthersSum { get; init; }
    public int AllReduceCalls { get; private set; }
    public List<int> AllReduceLengths { get; } = [];

    public int Rank => rank;
    public int WorldSize => worldSize;
    public int LocalSize => worldSize;

    public void AllReduceSum(Span<float> values)
    {
        AllReduceCalls++;
        AllReduceLengths.Add(values.Length);
        for (var i = 0; i < values.Length; i++) values[i] += OthersSum!(i);
    }

    public void AllReduceSum(Span<double> values) => throw new NotSupportedException();

    public void AllReduceSumBf16(Span<ushort> values)
    {
        AllReduceCalls++;
        AllReduceLengths.Add(values.Length);
        for (var i = 0; i < values.Length; i++) values[i] = Bf16.FromFloat(Bf16.ToFloat(values[i]) + OthersSum!(i));
    }

    public void AllGather(ReadOnlySpan<float> local, Span<float> all)
    {
        for (var r = 0; r < worldSize; r++)
            (r == rank ? local : OtherRows!(r)).CopyTo(all.Slice(r * local.Length, local.Length));
    }

    public void Broadcast(Span<byte> data, int root) => throw new NotSupportedException();
    public void Barrier() { }
    public void Abort(int exitCode) => throw new NotSupportedException();
    public void Dispose() { }
}
