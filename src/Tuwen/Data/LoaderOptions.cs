namespace Tuwen.Data;

/// <summary>
/// What a <see cref="Loader"/> reads and how. One loader enumeration is one epoch (or its rest after
/// <see cref="Skip"/>); for the same (Seed, Epoch) order, captions and augmentation are identical whatever
/// <see cref="Workers"/> and <see cref="Prefetch"/> are.
/// </summary>
public sealed record LoaderOptions
{
    public required IReadOnlyList<string> ShardPaths { get; init; }
    public required int BatchSize { get; init; }
    public required ImageTransform Transform { get; init; }

    /// <summary>Caption → token ids; runs on the loader's worker threads, so it must be thread-safe.</summary>
    public required Func<string, long[]> EncodeText { get; init; }

    /// <summary>Token row length L; shorter encodings are padded with 0, longer ones cut.</summary>
    public required int ContextLength { get; init; }

    /// <summary>Shuffle shard order and pass samples through a seeded shuffle buffer.</summary>
    public bool Shuffle { get; init; }

    public int ShuffleBuffer { get; init; } = 2000;
    public int Seed { get; init; }
    public int Epoch { get; init; }

    /// <summary>Samples of this epoch already consumed (<see cref="Batch.SamplesConsumed"/> of the last batch trained on).</summary>
    public long Skip { get; init; }

    public bool DropLast { get; init; }
    public int Workers { get; init; } = 2;

    /// <summary>Batches assembled ahead of the consumer.</summary>
    public int Prefetch { get; init; } = 4;

    /// <summary>
    /// Null: one caption drawn at random per sample and epoch (training). A number: that caption index,
    /// modulo the sample's caption count, so passing the epoch cycles through all captions.
    /// </summary>
    public int? FixedCaption { get; init; }

    /// <summary>This process's part of the data in a data-parallel job; null = all of it.
    /// With a partition, <see cref="Skip"/> and <see cref="Batch.SamplesConsumed"/> count the whole job's samples.</summary>
    public DataPartition? Partition { get; init; }

    internal void Validate()
    {
        if (ShardPaths is null || ShardPaths.Count == 0) throw new TuwenException("the loader has no shards to read");
        if (BatchSize < 1) throw new TuwenException($"batch size must be at least 1, not {BatchSize}");
        if (ContextLength < 1) throw new TuwenException($"context length must be at least 1, not {ContextLength}");
        if (ShuffleBuffer < 1) throw new TuwenException($"shuffle buffer must be at least 1, not {ShuffleBuffer}");
        if (Skip < 0) throw new TuwenException($"skip must not be negative, not {Skip}");
        if (Workers < 1) throw new TuwenException($"workers must be at least 1, not {Workers}");
        if (Prefetch < 1) throw new TuwenException($"prefetch must be at least 1, not {Prefetch}");
        if (FixedCaption < 0) throw new TuwenException($"caption index must not be negative, not {FixedCaption}");
        Partition?.Validate(ShardPaths.Count);
        ArgumentNullException.ThrowIfNull(Transform);
        ArgumentNullException.ThrowIfNull(EncodeText);
        foreach (var path in ShardPaths)
        {
            if (!File.Exists(path)) throw new TuwenException($"shard not found: {path}");
        }
    }
}

/// <summary>Seeds derived from (seed, epoch, purpose, index), so no random draw depends on thread timing.</summary>
internal static class LoaderSeeds
{
    public const ulong ShardOrder = 1;
    public const ulong ShuffleBuffer = 2;
    public const ulong Sample = 3;

    public static int Derive(int seed, int epoch, ulong purpose, long index)
    {
        var hash = SplitMix((uint)seed);
        hash = SplitMix(hash ^ (uint)epoch);
        hash = SplitMix(hash ^ purpose);
        hash = SplitMix(hash ^ (ulong)index);
        return (int)(hash >> 33);
    }

    public static Random For(LoaderOptions options, ulong purpose, long index = 0)
        => new(Derive(options.Seed, options.Epoch, purpose, index));

    private static ulong SplitMix(ulong state)
    {
        var z = state + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
