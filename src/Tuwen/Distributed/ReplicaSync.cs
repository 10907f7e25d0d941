using System.Text;
using static TorchSharp.torch;

namespace Tuwen.Distributed;

/// <summary>
/// Makes every rank's replica equal to rank 0's before the first step: parameters, buffers and objective
/// state (queues, momentum encoders), whether they came from the seed or from a checkpoint.
/// </summary>
public static class ReplicaSync
{
    /// <summary>Lines (no line breaks inside) that rank 0 computes, handed to every rank; the others never call <paramref name="make"/>.</summary>
    public static IReadOnlyList<string> LinesFromRankZero(IProcessGroup group, Func<IReadOnlyList<string>> make)
    {
        if (group.WorldSize == 1) return make();
        var bytes = group.Rank == 0 ? Encoding.UTF8.GetBytes(string.Join('\n', make())) : [];
        var length = BitConverter.GetBytes(bytes.Length);
        group.Broadcast(length, 0);
        if (group.Rank != 0) bytes = new byte[BitConverter.ToInt32(length)];
        group.Broadcast(bytes, 0);
        return Encoding.UTF8.GetString(bytes).Split('\n');
    }

    public static void FromRankZero(IProcessGroup group, IEnumerable<Tensor> tensors)
    {
        if (group.WorldSize == 1) return;
        using var _ = no_grad();
        foreach (var t in tensors)
        {
            // Host staging keeps this working for device tensors without a CUDA-aware MPI.
            using var host = t.detach().cpu().contiguous();
            group.Broadcast(host.bytes, 0);
            if (group.Rank != 0) t.copy_(host);
        }
    }
}
