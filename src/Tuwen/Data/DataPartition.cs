namespace Tuwen.Data;

/// <summary>How the ranks of a data-parallel job share an epoch.</summary>
public enum DataSplit
{
    /// <summary>Each rank reads its own shards (every W-th of the epoch's shuffled shard order): I/O scales
    /// with the ranks; the sample order depends on the world size (as with webdataset's split by node).</summary>
    Shards,

    /// <summary>Every rank reads the one shuffled stream and decodes only its slice of each global batch: the
    /// global batches, augmentations included, are the same for any world size, so runs are equivalent
    /// across world sizes and resume exactly with another one; each rank reads all bytes.</summary>
    Samples,
}

/// <summary>Rank <paramref name="Rank"/> of <paramref name="WorldSize"/> processes, reading per <paramref name="Split"/>.
/// The loader's batch size is then the local one (global batch / world size).</summary>
public sealed record DataPartition(int Rank, int WorldSize, DataSplit Split)
{
    public static DataSplit ParseSplit(string name) => name switch
    {
        "shards" => DataSplit.Shards,
        "samples" => DataSplit.Samples,
        _ => throw new TuwenException($"data_split must be shards or samples, not '{name}'"),
    };

    internal void Validate(int shardCount)
    {
        if (WorldSize < 1 || Rank < 0 || Rank >= WorldSize) throw new TuwenException($"bad data partition: rank {Rank} of {WorldSize}");
        if (Split == DataSplit.Shards && shardCount < WorldSize)
            throw new TuwenException($"data_split=shards gives each of the {WorldSize} processes its own shards, but there are only {shardCount}: " +
                "write the corpus in more shards, or set data_split=samples");
    }

    /// <summary>Whether the sample at stream position <paramref name="position"/> is this rank's.</summary>
    internal bool Keeps(long position, int localBatch) =>
        Split != DataSplit.Samples || (position / localBatch) % WorldSize == Rank;

    /// <summary>Skip (whole job's samples) → positions of this rank's stream to pass over.</summary>
    internal long LocalSkip(long skip) => Split == DataSplit.Shards ? skip / WorldSize : skip;

    /// <summary>This rank's stream position after its last sample → the whole job's samples consumed.</summary>
    internal long JobConsumed(long localNext, int localBatch)
    {
        if (Split == DataSplit.Shards) return localNext * WorldSize;
        // Samples: the end of the global batch holding the last sample, the same on every rank.
        var globalBatch = (long)localBatch * WorldSize;
        return localNext <= 0 ? 0 : ((localNext - 1) / globalBatch + 1) * globalBatch;
    }

    /// <summary>A stream position → the index its random draws derive from, distinct across ranks' streams.</summary>
    internal long SeedIndex(long position) => Split == DataSplit.Shards ? position * WorldSize + Rank : position;
}
