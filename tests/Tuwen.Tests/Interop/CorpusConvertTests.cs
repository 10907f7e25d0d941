using System.Text;
using Tuwen.Interop;
using Tuwen.Interop.ChineseClip;
using Tuwen.Interop.Lmdb;
using Tuwen.Tests.Cli;

namespace Tuwen.Tests.Interop;

/// <summary>Conversions between every format, through the registry and through `tuwen corpus convert`.</summary>
public sealed class CorpusConvertTests : IDisposable
{
    readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("tuwen-convert-");

    public void Dispose() => _temp.Delete(recursive: true);

    string Dir(string name) => Path.Combine(_temp.FullName, name);

    static void Convert(string from, string to, string input, string output, CorpusFormatOptions options)
    {
        var reader = CorpusFormats.Get(from).OpenReader(input, options);
        using var writer = CorpusFormats.Get(to).CreateWriter(output, options);
        foreach (var sample in reader.Read()) writer.Write(sample);
        writer.Complete();
    }

    /// <summary>text_id → (text, image ids in order) for texts that name images; image_id → bytes.</summary>
    static (Dictionary<long, (string, string)> Texts, Dictionary<long, byte[]> Images) ChineseClip(string dir, string split)
    {
        var texts = ChineseClipDataset.ReadTexts(ChineseClipDataset.TextsPath(dir, split))
            .Where(t => t.ImageIds.Count > 0)
            .ToDictionary(t => t.TextId, t => (t.Text, string.Join(",", t.ImageIds.Order())));
        var images = ChineseClipDataset.ReadImages(ChineseClipDataset.ImagesPath(dir, split)).ToDictionary(i => i.Id, i => i.Bytes);
        return (texts, images);
    }

    [Fact]
    public void EveryFormatInTurnKeepsImagesTextsIdsAndLinks()
    {
        // cnclip TSV/JSONL → cnclip-lmdb → shards → img2dataset → cnclip TSV/JSONL, all through the registry.
        var options = new CorpusFormatOptions("valid", SamplesPerShard: 2, ShardName: "rt");
        Convert("cnclip", "cnclip-lmdb", LmdbFixture.Directory, Dir("lmdb"), options);
        Convert("cnclip-lmdb", "shards", Dir("lmdb"), Dir("shards"), options);
        Convert("shards", "img2dataset", Dir("shards"), Dir("i2d"), options);
        Convert("img2dataset", "cnclip", Dir("i2d"), Dir("back"), options);

        var (texts, images) = ChineseClip(LmdbFixture.Directory, "valid");
        var (backTexts, backImages) = ChineseClip(Dir("back"), "valid");
        // Texts naming two images (2, 300) and images named by two texts (1001, 1002, 70000) come back linked the same.
        Assert.Equal(texts.OrderBy(t => t.Key), backTexts.OrderBy(t => t.Key));
        Assert.Equal("1002,70000", backTexts[2].Item2);
        // Image 1005 is named by no text: no format here can carry an image without a caption, so it is dropped.
        Assert.Equal([1001, 1002, 1004, 70000], backImages.Keys.Order());
        foreach (var (id, bytes) in backImages) Assert.Equal(images[id], bytes);
        // Text 4 names no image: LMDB pairs cannot hold it, nor can a sample.
        Assert.DoesNotContain(4, backTexts.Keys);
    }

    [Fact]
    public void CliBuildsTheSameLmdbAsChineseClipsScript()
    {
        var r = CliRunner.Run("corpus", "convert", "--from", "cnclip", "--to", "cnclip-lmdb", "--input", LmdbFixture.Directory, "--out", Dir("lmdb"));
        Assert.Equal(0, r.ExitCode);
        Assert.Contains($"wrote 5 images and 7 text–image pairs to {Path.Combine(Dir("lmdb"), "lmdb", "valid")}", r.Out);
        // Same keys and values as the upstream-built fixture, image 1005 (no text) included.
        foreach (var name in new[] { "imgs", "pairs" })
        {
            using var ours = LmdbDataFile.Open(Path.Combine(Dir("lmdb"), "lmdb", "valid", name));
            using var upstream = LmdbDataFile.Open(Path.Combine(LmdbFixture.Directory, "lmdb", "valid", name));
            Assert.Equal(upstream.ReadAll().Select(e => (System.Convert.ToHexString(e.Key), System.Convert.ToHexString(e.Value))),
                ours.ReadAll().Select(e => (System.Convert.ToHexString(e.Key), System.Convert.ToHexString(e.Value))));
        }
    }

    [Fact]
    public void CliConvertsShardsToLmdbThatReadsBackAsTheSameSamples()
    {
        Convert("cnclip", "shards", LmdbFixture.Directory, Dir("shards"), new CorpusFormatOptions());
        var r = CliRunner.Run("corpus", "convert", "--from", "shards", "--to", "cnclip-lmdb", "--input", Dir("shards"), "--out", Dir("lmdb"));
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("read 4 samples from 1 shard(s)", r.Out);
        Assert.Contains($"wrote 4 images and 7 text–image pairs to {Path.Combine(Dir("lmdb"), "lmdb", "valid")}", r.Out);
        Assert.Contains("converted 4 samples", r.Out);
        Assert.False(Directory.Exists(Path.Combine(Dir("lmdb"), ".tuwen-staging-valid")));

        var expected = ChineseClipDataset.ReadSamples(LmdbFixture.Directory, "valid").OrderBy(s => s.Key, StringComparer.Ordinal).ToList();
        var actual = new ChineseClipLmdbReader(Dir("lmdb"), "valid").ReadSamples().ToList();
        Assert.Equal(expected.Select(s => s.Key), actual.Select(s => s.Key));
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Image, actual[i].Image);
            // Each caption with its text id; the order of texts within an image follows the pairs, which may differ.
            Assert.Equal(CaptionIds(expected[i]), CaptionIds(actual[i]));
            Assert.Equal((long)expected[i].Metadata[ChineseClipDataset.ImageIdKey]!, (long)actual[i].Metadata[ChineseClipDataset.ImageIdKey]!);
        }
    }

    static IEnumerable<string> CaptionIds(Tuwen.Data.Sample s) =>
        s.Captions.Zip(s.Metadata[ChineseClipDataset.TextIdsKey]!.AsArray(), (c, id) => $"{id}:{c}").Order(StringComparer.Ordinal);

    [Fact]
    public void CliRefusesTextsNamingMissingImagesAndLeavesNoLmdb()
    {
        var dir = LmdbFixture.CopyTo(Dir("dangling-tsv"));
        File.AppendAllText(ChineseClipDataset.TextsPath(dir, "valid"), "{\"text_id\": 9, \"text\": \"无图\", \"image_ids\": [4242]}\n");
        CliRunner.AssertUserError(CliRunner.Run("corpus", "convert", "--from", "cnclip", "--to", "cnclip-lmdb", "--input", dir, "--out", Dir("x")),
            "names images missing from");
        Assert.False(Directory.Exists(Dir("x")) && Directory.EnumerateFiles(Dir("x"), "data.mdb", SearchOption.AllDirectories).Any());
    }

    [Fact]
    public void CliConvertsUpstreamLmdbToImg2DatasetAndBack()
    {
        var toParquet = CliRunner.Run("corpus", "convert", "--from", "cnclip-lmdb", "--to", "img2dataset", "--input", LmdbFixture.Directory, "--out", Dir("i2d"), "--shard-size", "3");
        Assert.Equal(0, toParquet.ExitCode);
        Assert.Contains("wrote 4 samples in 2 Parquet file(s)", toParquet.Out);
        var back = CliRunner.Run("corpus", "convert", "--from", "img2dataset", "--to", "cnclip", "--input", Dir("i2d"), "--out", Dir("back"), "--split", "test");
        Assert.Equal(0, back.ExitCode);
        Assert.Contains("read 4 rows (0 failed downloads and 0 without caption skipped)", back.Out);
        var (texts, images) = ChineseClip(LmdbFixture.Directory, "valid");
        var (backTexts, backImages) = ChineseClip(Dir("back"), "test");
        Assert.Equal(texts.OrderBy(t => t.Key), backTexts.OrderBy(t => t.Key));
        foreach (var (id, bytes) in backImages) Assert.Equal(images[id], bytes);
    }


    [Fact]
    public void CliMissingInputDirectory() =>
        CliRunner.AssertUserError(CliRunner.Run("corpus", "convert", "--from", "cnclip-lmdb", "--to", "shards", "--input", "/no/such/lmdb", "--out", Dir("x")), "/no/such/lmdb");

    [Fact]
    public void CliUnknownFormat() =>
        CliRunner.AssertUserError(CliRunner.Run("corpus", "convert", "--from", "lmdb", "--to", "shards", "--input", LmdbFixture.Directory, "--out", Dir("x")),
            "--from must be one of cnclip, cnclip-lmdb, shards, img2dataset, not \"lmdb\"");

    [Fact]
    public void CliCorruptBase64()
    {
        var dir = LmdbFixture.CopyTo(Dir("corrupt"));
        var tsv = ChineseClipDataset.ImagesPath(dir, "valid");
        var lines = File.ReadAllLines(tsv);
        lines[0] = lines[0][..^8] + "!!!!@@@@";
        File.WriteAllLines(tsv, lines);
        CliRunner.AssertUserError(CliRunner.Run("corpus", "convert", "--from", "cnclip", "--to", "img2dataset", "--input", dir, "--out", Dir("x")),
            $"{tsv}:1: image data is not valid base64");
        Assert.False(Directory.Exists(Dir("x")) && Directory.EnumerateFiles(Dir("x")).Any());
    }

    [Fact]
    public void CliTruncatedLmdb()
    {
        var dir = LmdbFixture.CopyTo(Dir("cut"));
        var data = Path.Combine(dir, "lmdb", "valid", "imgs", "data.mdb");
        using (var f = File.OpenWrite(data)) f.SetLength(f.Length - 100);
        CliRunner.AssertUserError(CliRunner.Run("corpus", "convert", "--from", "cnclip-lmdb", "--to", "shards", "--input", dir, "--out", Dir("x")), "is truncated");
    }

    [Fact]
    public void CliPairNamingAnUnknownImage()
    {
        var dir = LmdbFixture.CopyTo(Dir("dangling"));
        var pairs = Path.Combine(dir, "lmdb", "valid", "pairs");
        List<(byte[] Key, byte[] Value)> entries;
        using (var db = LmdbDataFile.Open(pairs)) entries = db.ReadAll().ToList();
        File.Delete(Path.Combine(pairs, "data.mdb"));
        using (var writer = new LmdbDataFileWriter(pairs))
        {
            foreach (var (k, v) in entries)
                writer.Put(k, Encoding.UTF8.GetString(k) == "5" ? new ChineseClipLmdbPair(999, 300, "小猫和汽车 cat & car").ToPickle() : v);
            writer.Complete();
        }
        CliRunner.AssertUserError(CliRunner.Run("corpus", "convert", "--from", "cnclip-lmdb", "--to", "cnclip", "--input", dir, "--out", Dir("x")),
            "text 300 names image 999");
        Assert.False(Directory.Exists(Dir("x")));
    }
}
