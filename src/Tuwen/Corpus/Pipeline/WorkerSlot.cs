namespace Tuwen.Corpus.Pipeline;

/// <summary>
/// Which share of the work units this process takes: unit u belongs to worker u mod count. Given on the command
/// line, or taken from the environment of a Kubernetes Indexed Job (JOB_COMPLETION_INDEX) or a Slurm job
/// array (SLURM_ARRAY_TASK_ID, with SLURM_ARRAY_TASK_COUNT and SLURM_ARRAY_TASK_MIN), so the same command runs
/// unchanged on every worker. No coordinator: the split is a pure function of the unit number.
/// </summary>
public readonly record struct WorkerSlot(int Index, int Count)
{
    public bool Owns(long unit) => unit % Count == Index;

    public static WorkerSlot Resolve(int? index, int? count, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var resolvedCount = count ?? ParseEnv(environment, "TUWEN_SHARD_COUNT") ?? ParseEnv(environment, "SLURM_ARRAY_TASK_COUNT") ?? 1;
        int? resolvedIndex = index;
        if (resolvedIndex is null)
        {
            if (ParseEnv(environment, "JOB_COMPLETION_INDEX") is { } job) resolvedIndex = job;
            else if (ParseEnv(environment, "SLURM_ARRAY_TASK_ID") is { } task)
                resolvedIndex = task - (ParseEnv(environment, "SLURM_ARRAY_TASK_MIN") ?? 0);
        }
        var slot = new WorkerSlot(resolvedIndex ?? 0, resolvedCount);
        if (slot.Count < 1) throw new TuwenException($"shard count must be at least 1, not {slot.Count}");
        if (slot.Index < 0 || slot.Index >= slot.Count)
            throw new TuwenException($"shard index {slot.Index} is not in 0..{slot.Count - 1} (set --shard-index/--shard-count, or the job's index variables)");
        return slot;
    }

    private static int? ParseEnv(Func<string, string?> environment, string name)
    {
        var value = environment(name);
        if (string.IsNullOrWhiteSpace(value)) return null;
        return int.TryParse(value, out var number) ? number : throw new TuwenException($"{name}={value} is not a number");
    }
}
