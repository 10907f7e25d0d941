using Tuwen.Data;

namespace Tuwen.Tests.Data;

public sealed class LoaderTests : IDisposable
{
    private const int DatasetSize = 53;
    private const int ContextLength = 8;
    private readonly TempDirectory _temp = new();
    private readonly IReadOnlyList<string> _shards;

    public LoaderTests()
    {
        DataFixtures.WriteNumberedDataset(_temp.Path, DatasetSize, samplesPerShard: 10);
        _shards = ShardReader.FindShards(_temp.Path);
    }

    public void Dispose() => _temp.Dispose();

    private LoaderOptions Options(int batchSize = 8, bool train = true) => new()
    {
        ShardPaths = _shards,
        BatchSize = batchSize,
        Transform = train ? ImageTransform.ForTraining(16, horizontalFlip: true) : ImageTransform.ForEval(16),
        EncodeText = DataFixtures.EncodeCaption,
        ContextLength = ContextLength,
        Shuffle = true,
        ShuffleBuffer = 20,
        Seed = 11,
        Epoch = 3,
    };

    /// <summary>A batch copied out of its tensors, so epochs can be compared after the batches are disposed.</summary>
    private sealed record Row(string Key, int Caption, float[] Pixels, long[] Tokens, long SamplesConsumed);

    private static List<List<Row>> Run(LoaderOptions options, Loader? loader = null)
    {
        loader ??= new Loader(options);
        var batches = new List<List<Row>>();
        foreach (var batch in loader)
        {
            using (batch)
            {
                var n = batch.Size;
                var pixels = batch.Images.data<float>().ToArray();
                var tokens = batch.TokenIds.data<long>().ToArray();
                var per = pixels.Length / n;
                batches.Add([.. Enumerable.Range(0, n).Select(i => new Row(batch.Keys[i], batch.CaptionIndex[i],
                    pixels[(i * per)..((i + 1) * per)], tokens[(i * ContextLength)..((i + 1) * ContextLength)], batch.SamplesConsumed))]);
            }
        }
        return batches;
    }

    private static void AssertSameRows(IEnumerable<Row> expected, IEnumerable<Row> actual)
    {
        var e = expected.ToList();
        var a = actual.ToList();
        Assert.Equal(e.Select(r => r.Key), a.Select(r => r.Key));
        Assert.Equal(e.Select(r => r.Caption), a.Select(r => r.Caption));
        for (var i = 0; i < e.Count; i++)
        {
            Assert.Equal(e[i].Pixels, a[i].Pixels);
            Assert.Equal(e[i].Tokens, a[i].Tokens);
        }
    }

    private static int IndexOf(Row row) => int.Parse(row.Key["sample".Length..]);

    [Fact]
    public void BatchesHaveTheirShapesAndRowsMatchTheirKeys()
    {
        using var enumerator = new Loader(Options()).GetEnumerator();
        Assert.True(enumerator.MoveNext());
        using var batch = enumerator.Current;
        Assert.Equal([8L, 3, 16, 16], batch.Images.shape);
        Assert.Equal(TorchSharp.torch.ScalarType.Float32, batch.Images.dtype);
        Assert.Equal([8L, ContextLength], batch.TokenIds.shape);
        Assert.Equal(TorchSharp.torch.ScalarType.Int64, batch.TokenIds.dtype);

        var rows = Run(Options()).SelectMany(b => b).ToList();
        Assert.Equal(DatasetSize, rows.Count);
        Assert.Equal(Enumerable.Range(0, DatasetSize), rows.Select(IndexOf).Order());
        foreach (var row in rows)
        {
            var index = IndexOf(row);
            // Token ids name the sample and caption (see EncodeCaption), padded with zeros to L.
            Assert.Equal([101, index, row.Caption, row.Tokens[3], 102, 0, 0, 0], row.Tokens);
            // Blue carries the sample number through any crop: (i/255 − mean)/std everywhere in the blue plane.
            var blue = (float)((index / 255.0 - 0.40821073) / 0.27577711);
            Assert.All(row.Pixels[(2 * 256)..], v => Assert.Equal(blue, v, 3));
        }
        Assert.NotEqual(Enumerable.Range(0, DatasetSize), rows.Select(IndexOf)); // shuffled
        Assert.True(rows.Select(r => r.Caption).Distinct().Count() == 3, "random captions should use all three");
    }

    [Fact]
    public void WorkerCountDoesNotChangeTheEpoch()
    {
        var one = Run(Options() with { Workers = 1, Prefetch = 1 });
        var two = Run(Options() with { Workers = 2 });
        var three = Run(Options() with { Workers = 3, Prefetch = 2 });
        Assert.Equal(one.Select(b => b.Count), two.Select(b => b.Count));
        AssertSameRows(one.SelectMany(b => b), two.SelectMany(b => b));
        AssertSameRows(one.SelectMany(b => b), three.SelectMany(b => b));
    }

    [Fact]
    public void EpochAndSeedChangeOrderCaptionsAndCrops()
    {
        var reference = Run(Options()).SelectMany(b => b).ToList();
        var nextEpoch = Run(Options() with { Epoch = 4 }).SelectMany(b => b).ToList();
        var otherSeed = Run(Options() with { Seed = 12 }).SelectMany(b => b).ToList();
        Assert.NotEqual(reference.Select(r => r.Key), nextEpoch.Select(r => r.Key));
        Assert.NotEqual(reference.Select(r => r.Key), otherSeed.Select(r => r.Key));
        var sameSampleNextEpoch = nextEpoch.Single(r => r.Key == reference[0].Key);
        Assert.NotEqual(reference[0].Pixels, sameSampleNextEpoch.Pixels);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(16)]
    [InlineData(50)]
    public void SkipGivesTheBatchesThatFollowTheFirstKSamples(int skip)
    {
        var full = Run(Options()).SelectMany(b => b).ToList();
        var resumed = Run(Options() with { Skip = skip, Workers = 1 });
        AssertSameRows(full.Skip(skip), resumed.SelectMany(b => b));
        Assert.All(resumed.SkipLast(1), b => Assert.Equal(8, b.Count));
    }

    [Fact]
    public void SamplesConsumedResumesRightAfterABatchDespiteCorruptImages()
    {
        using var temp = new TempDirectory();
        DataFixtures.WriteNumberedDataset(temp.Path, 30, 7, corrupt: [2, 9, 10]);
        var options = Options() with { ShardPaths = ShardReader.FindShards(temp.Path), BatchSize = 5 };
        var loader = new Loader(options);
        var full = Run(options, loader);
        Assert.Equal(3, loader.CorruptImages);
        Assert.Equal(27, full.Sum(b => b.Count));
        Assert.DoesNotContain(full.SelectMany(b => b), r => IndexOf(r) is 2 or 9 or 10);
        Assert.Equal(30, full[^1][^1].SamplesConsumed);
        for (var j = 0; j < full.Count - 1; j++)
        {
            var resumed = Run(options with { Skip = full[j][0].SamplesConsumed });
            Assert.Equal(full.Count - j - 1, resumed.Count);
            AssertSameRows(full.Skip(j + 1).SelectMany(b => b), resumed.SelectMany(b => b));
        }
    }

    [Fact]
    public void DropLastDropsOnlyTheShortFinalBatch()
    {
        var kept = Run(Options() with { BatchSize = 10 });
        Assert.Equal([10, 10, 10, 10, 10, 3], kept.Select(b => b.Count));
        var dropped = Run(Options() with { BatchSize = 10, DropLast = true });
        Assert.Equal([10, 10, 10, 10, 10], dropped.Select(b => b.Count));
        AssertSameRows(kept.Take(5).SelectMany(b => b), dropped.SelectMany(b => b));

        var loader = new Loader(Options() with { BatchSize = 10, DropLast = true });
        Assert.Equal(DatasetSize, loader.SamplesPerEpoch);
        Assert.Equal(5, loader.BatchesPerEpoch);
        Assert.Equal(6, new Loader(Options() with { BatchSize = 10 }).BatchesPerEpoch);
    }

    [Fact]
    public void WithoutShuffleTheDatasetOrderAndAFixedCaptionAreKept()
    {
        var rows = Run(Options(train: false) with { Shuffle = false, FixedCaption = 4 }).SelectMany(b => b).ToList();
        Assert.Equal(Enumerable.Range(0, DatasetSize), rows.Select(IndexOf));
        Assert.All(rows, r => Assert.Equal(1, r.Caption)); // 4 mod 3 captions
    }

    [Fact]
    public void LongEncodingsAreCutToTheContextLength()
    {
        var options = Options() with { EncodeText = _ => [.. Enumerable.Range(1, 20).Select(i => (long)i)], BatchSize = 60 };
        var rows = Run(options).Single();
        Assert.All(rows, r => Assert.Equal([1L, 2, 3, 4, 5, 6, 7, 8], r.Tokens));
    }

    [Fact]
    public async Task StoppingEarlyEndsTheThreadsAndAFailureReachesTheConsumer()
    {
        var loader = new Loader(Options() with { BatchSize = 2, Prefetch = 1 });
        var stop = Task.Run(() =>
        {
            foreach (var batch in loader)
            {
                batch.Dispose();
                break;
            }
        });
        await stop.WaitAsync(TimeSpan.FromSeconds(30)); // a TimeoutException here means breaking out hung

        var failing = new Loader(Options() with { EncodeText = caption => caption.Contains("样本7") ? throw new InvalidOperationException("tokenizer broke") : [1] });
        var error = Assert.Throws<InvalidOperationException>(() => Run(failing.Options, failing));
        Assert.Equal("tokenizer broke", error.Message);
    }

    [Fact]
    public void ATruncatedShardEndsTheEpochWithATuwenException()
    {
        var broken = _temp.Combine("numbered-000002.tar");
        var bytes = File.ReadAllBytes(broken);
        File.WriteAllBytes(broken, bytes[..(bytes.Length / 2)]);
        var error = Assert.Throws<TuwenException>(() => Run(Options()));
        Assert.Contains("numbered-000002.tar", error.Message);
    }

    [Fact]
    public void InvalidOptionsAreTuwenExceptions()
    {
        Assert.Throws<TuwenException>(() => new Loader(Options() with { BatchSize = 0 }));
        Assert.Throws<TuwenException>(() => new Loader(Options() with { Workers = 0 }));
        Assert.Throws<TuwenException>(() => new Loader(Options() with { ShardPaths = [] }));
        Assert.Throws<TuwenException>(() => new Loader(Options() with { ShardPaths = [_temp.Combine("nope.tar")] }));
    }
}
