using Tuwen.Data;

namespace Tuwen.Tests.Data;

/// <summary>How the ranks of a data-parallel job split an epoch: by samples (the same global batches for any
/// world size, augmentations included) or by shards (disjoint, covering everything).</summary>
public sealed class DataPartitionTests : IDisposable
{
    private const int ContextLength = 8;
    private readonly TempDirectory temp = new();
    private readonly IReadOnlyList<string> shards;

    public DataPartitionTests()
    {
        DataFixtures.WriteNumberedDataset(temp.Path, 60, samplesPerShard: 10);
        shards = ShardReader.FindShards(temp.Path);
    }

    public void Dispose() => temp.Dispose();

    private LoaderOptions Options(int batch, DataPartition? partition, long skip = 0, bool dropLast = true) => new()
    {
        ShardPaths = shards, BatchSize = batch, Transform = ImageTransform.ForTraining(16, horizontalFlip: true),
        EncodeText = DataFixtures.EncodeCaption, ContextLength = ContextLength, Shuffle = true, ShuffleBuffer = 20,
        Seed = 5, Epoch = 2, Skip = skip, DropLast = dropLast, Workers = 2, Partition = partition,
    };

    private sealed record Row(string Key, int Caption, float[] Pixels);

    private static List<(List<Row> Rows, long Consumed)> Batches(LoaderOptions options)
    {
        var result = new List<(List<Row>, long)>();
        foreach (var batch in new Loader(options))
        {
            using (batch)
            {
                var pixels = batch.Images.data<float>().ToArray();
                var per = pixels.Length / batch.Size;
                result.Add(([.. Enumerable.Range(0, batch.Size).Select(i => new Row(batch.Keys[i], batch.CaptionIndex[i], pixels[(i * per)..((i + 1) * per)]))],
                    batch.SamplesConsumed));
            }
        }
        return result;
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void SampleSplitRanksTogetherMakeTheOneProcessBatches(int world)
    {
        const int global = 12;
        var one = Batches(Options(global, null));
        var ranks = Enumerable.Range(0, world).Select(r => Batches(Options(global / world, new DataPartition(r, world, DataSplit.Samples)))).ToList();
        Assert.Equal(5, one.Count);
        Assert.All(ranks, r => Assert.Equal(one.Count, r.Count));
        for (var b = 0; b < one.Count; b++)
        {
            var joined = ranks.SelectMany(r => r[b].Rows).ToList();
            Assert.Equal(one[b].Rows.Select(r => r.Key), joined.Select(r => r.Key));
            Assert.Equal(one[b].Rows.Select(r => r.Caption), joined.Select(r => r.Caption));
            for (var i = 0; i < joined.Count; i++) Assert.Equal(one[b].Rows[i].Pixels, joined[i].Pixels);   // same crops and flips
            // Every rank reports the end of the global batch: a checkpoint from any rank resumes the job exactly.
            Assert.All(ranks, r => Assert.Equal((b + 1) * global, r[b].Consumed));
            Assert.Equal((b + 1) * global, one[b].Consumed);
        }
    }

    [Fact]
    public void SampleSplitResumesOnAnotherWorldSize()
    {
        // 2 global batches on 2 ranks, then the rest on 3 ranks: the same batches as one process's.
        var one = Batches(Options(12, null));
        var skip = Batches(Options(6, new DataPartition(0, 2, DataSplit.Samples)))[1].Consumed;
        Assert.Equal(24, skip);
        var rest = Enumerable.Range(0, 3).Select(r => Batches(Options(4, new DataPartition(r, 3, DataSplit.Samples), skip))).ToList();
        Assert.Equal(3, rest[0].Count);
        for (var b = 0; b < 3; b++)
            Assert.Equal(one[b + 2].Rows.Select(r => r.Key), rest.SelectMany(r => r[b].Rows).Select(r => r.Key));
    }

    [Fact]
    public void ShardSplitGivesEachRankItsOwnShardsAndTogetherEverySample()
    {
        var seen = new List<string>();
        for (var rank = 0; rank < 3; rank++)
        {
            var rows = Batches(Options(5, new DataPartition(rank, 3, DataSplit.Shards), dropLast: false)).SelectMany(b => b.Rows).ToList();
            Assert.Equal(20, rows.Count);   // two shards of ten
            // Whole shards: the numbered samples of shard k are 10k … 10k+9.
            Assert.Equal(2, rows.Select(r => int.Parse(r.Key[6..]) / 10).Distinct().Count());
            seen.AddRange(rows.Select(r => r.Key));
        }
        Assert.Equal(60, seen.Distinct().Count());
        Assert.Equal(60, seen.Count);
    }

    [Fact]
    public void ShardSplitCountsTheJobsSamplesAndSkipsItsShare()
    {
        var full = Batches(Options(5, new DataPartition(1, 3, DataSplit.Shards)));
        Assert.Equal(new long[] { 15, 30, 45, 60 }, full.Select(b => b.Consumed));   // this rank's 5, 10, … times 3 ranks
        var resumed = Batches(Options(5, new DataPartition(1, 3, DataSplit.Shards), skip: 30));
        Assert.Equal(full.Skip(2).SelectMany(b => b.Rows).Select(r => r.Key), resumed.SelectMany(b => b.Rows).Select(r => r.Key));
    }

    [Fact]
    public void TooFewShardsForTheRanksIsAClearError()
    {
        var e = Assert.Throws<TuwenException>(() => new Loader(Options(2, new DataPartition(0, 7, DataSplit.Shards))));
        Assert.Contains("only 6", e.Message);
        Assert.Contains("data_split=samples", e.Message);
        Assert.Throws<TuwenException>(() => DataPartition.ParseSplit("nodes"));
    }
}
