using System.Text;
using Tuwen.Interop.ChineseClip;
using Tuwen.Interop.Lmdb;
using Tuwen.Interop.PyTorch;

namespace Tuwen.Tests.Interop;

public sealed class LmdbTests : IDisposable
{
    readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("tuwen-lmdb-");

    public void Dispose() => _temp.Delete(recursive: true);

    string Dir(string name) => Path.Combine(_temp.FullName, name);

    static string FixtureDb(string name) => Path.Combine(LmdbFixture.Directory, "lmdb", LmdbFixture.Split, name);

    [Fact]
    public void ReadsThePairsChineseClipsBuildScriptWrote()
    {
        var pairs = new ChineseClipLmdbReader(LmdbFixture.Directory, LmdbFixture.Split).ReadPairs();
        Assert.Equal(LmdbFixture.Pairs, pairs.Select(p => (p.ImageId, p.TextId, p.Text)).ToArray());
    }

    [Fact]
    public void ReadsTheUpstreamLmdbAsTheSameSamplesAsItsTsvJsonl()
    {
        var counts = new ChineseClipReadCounts();
        var fromLmdb = new ChineseClipLmdbReader(LmdbFixture.Directory, LmdbFixture.Split).ReadSamples(counts).ToList();
        var fromTsv = ChineseClipDataset.ReadSamples(LmdbFixture.Directory, LmdbFixture.Split).ToDictionary(s => s.Key);
        var tsvImages = LmdbFixture.TsvImages();

        // LMDB iterates keys as bytes: "1001" < "1002" < "1004" < "1005" < "70000"; 1005 has no pair.
        Assert.Equal(["cnclip-1001", "cnclip-1002", "cnclip-1004", "cnclip-70000"], fromLmdb.Select(s => s.Key));
        foreach (var sample in fromLmdb)
        {
            var expected = fromTsv[sample.Key];
            Assert.Equal(expected.Image, sample.Image);
            Assert.Equal(tsvImages[(long)sample.Metadata[ChineseClipDataset.ImageIdKey]!], sample.Image);
            Assert.Equal(expected.ImageExtension, sample.ImageExtension);
            Assert.Equal(expected.Captions, sample.Captions);
            Assert.Equal(expected.Metadata.ToJsonString(), sample.Metadata.ToJsonString());
        }
        Assert.Equal(["两张图里都有“红色”的汽车", "小猫和汽车 cat & car"], fromLmdb[1].Captions);
        Assert.Equal("png", fromLmdb[1].ImageExtension);
        Assert.Equal((5, 1, 4), (counts.Images, counts.ImagesWithoutText, counts.Samples));
        Assert.Equal(5, counts.Texts); // text 4 names no image, so the build script wrote no pair for it
    }

    [Fact]
    public void ReadsAnUpstreamLmdbWithBranchPages()
    {
        // The "many" split: 685 pairs over 60 images, so both databases have depth 2 (python-lmdb's stat says so).
        var pairs = new ChineseClipLmdbReader(LmdbFixture.Directory, "many").ReadPairs();
        // The build script's order: JSONL lines, then each line's image_ids.
        var expected = ChineseClipDataset.ReadTexts(ChineseClipDataset.TextsPath(LmdbFixture.Directory, "many"))
            .SelectMany(t => t.ImageIds.Select(id => (id, t.TextId, t.Text))).ToArray();
        Assert.Equal(685, expected.Length);
        Assert.Equal(expected, pairs.Select(p => (p.ImageId, p.TextId, p.Text)).ToArray());

        var fromLmdb = new ChineseClipLmdbReader(LmdbFixture.Directory, "many").ReadSamples().ToDictionary(s => s.Key);
        var fromTsv = ChineseClipDataset.ReadSamples(LmdbFixture.Directory, "many").ToList();
        Assert.Equal(fromTsv.Count, fromLmdb.Count);
        foreach (var sample in fromTsv)
        {
            Assert.Equal(sample.Image, fromLmdb[sample.Key].Image);
            Assert.Equal(sample.Captions.Order(), fromLmdb[sample.Key].Captions.Order());
        }
    }

    [Fact]
    public void WrittenMultiLevelTreeReadsBackWithOverflowValues()
    {
        // 12,000 keys and values up to 9 KB: three levels, inline and overflow values, keys that are prefixes of others.
        var random = new Random(6);
        var entries = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        for (int i = 0; i < 12000; i++)
            entries[i.ToString()] = RandomBytes(random, i % 50 == 0 ? random.Next(2100, 9000) : random.Next(0, 120));
        using (var writer = new LmdbDataFileWriter(Dir("tree")))
        {
            foreach (var (k, v) in entries.Reverse()) writer.Put(Encoding.UTF8.GetBytes(k), v);
            writer.Complete();
        }
        using var db = LmdbDataFile.Open(Dir("tree"));
        Assert.Equal(12000, db.Entries);
        var all = db.ReadAll().ToList();
        Assert.Equal(entries.Keys, all.Select(e => Encoding.UTF8.GetString(e.Key)));
        Assert.All(all, e => Assert.Equal(entries[Encoding.UTF8.GetString(e.Key)], e.Value));
        foreach (var key in new[] { "0", "1", "10", "100", "1000", "11999", "5050", "9999" })
            Assert.Equal(entries[key], db.Get(Encoding.UTF8.GetBytes(key)));
        Assert.Null(db.Get("12000"u8));
        Assert.Null(db.Get("/"u8));
    }

    static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    [Fact]
    public void PairPicklesAreByteIdenticalToPythons()
    {
        // The fixture's values were written by Python's pickle.dumps; ours must be the same bytes.
        using var db = LmdbDataFile.Open(FixtureDb("pairs"));
        for (int i = 0; i < LmdbFixture.Pairs.Length; i++)
        {
            var value = db.Get(Encoding.UTF8.GetBytes(i.ToString()));
            var (imageId, textId, text) = LmdbFixture.Pairs[i];
            Assert.Equal(value, new ChineseClipLmdbPair(imageId, textId, text).ToPickle());
        }
    }

    [Theory]
    [InlineData("valid", 5, 7)]
    [InlineData("many", 60, 685)]
    public void BuildFromTsvJsonlMatchesTheUpstreamDatabases(string split, long images, long pairs)
    {
        Assert.Equal((images, pairs), ChineseClipLmdbWriter.Build(LmdbFixture.Directory, split, Dir("out")));
        foreach (var name in new[] { "imgs", "pairs" })
        {
            var upstream = Entries(Path.Combine(LmdbFixture.Directory, "lmdb", split, name));
            Assert.Equal(upstream, Entries(Path.Combine(ChineseClipLmdbStore.SplitPath(Dir("out"), split), name)));
        }
    }

    [Fact]
    public void MaliciousPickleInPairsIsRefused()
    {
        // (0, 0, posix.system('touch /tmp/pwned')) — what Python's pickle would execute on load.
        var evil = new List<byte> { 0x80, 4 };
        evil.AddRange(Encoding.ASCII.GetBytes("K\0K\0cposix\nsystem\n"));
        evil.Add(0x8c);
        var command = Encoding.ASCII.GetBytes("touch /tmp/pwned");
        evil.Add((byte)command.Length);
        evil.AddRange(command);
        evil.AddRange(new byte[] { 0x85, (byte)'R', 0x87, (byte)'.' });
        var dir = LmdbFixture.CopyTo(Dir("evil"));
        Overwrite(Path.Combine(dir, "lmdb", "valid", "pairs"), "3", evil.ToArray());

        var e = Assert.Throws<TuwenException>(() => new ChineseClipLmdbReader(dir, "valid").ReadSamples().ToList());
        Assert.Contains("posix.system", e.Message);
        Assert.Contains("could run code", e.Message);
        Assert.Contains("key \"3\"", e.Message);
    }

    [Fact]
    public void PairsAcceptNoGlobalsEvenTheOnesCheckpointsMayUse()
    {
        // collections.OrderedDict() is allowed in a torch checkpoint, but a pairs value never names a class.
        byte[] pickle = [0x80, 0x02, .. "ccollections\nOrderedDict\n)R."u8];
        Assert.IsType<Dictionary<object, object?>>(RestrictedUnpickler.Load(pickle, "checkpoint"));
        var e = Assert.Throws<TuwenException>(() => ChineseClipLmdbPair.FromPickle(pickle, "pairs key \"0\""));
        Assert.Contains("collections.OrderedDict", e.Message);
        Assert.Contains("only plain values", e.Message);
    }

    [Fact]
    public void PairOfTheWrongShapeIsRefused()
    {
        var dir = LmdbFixture.CopyTo(Dir("shape"));
        // pickle.dumps((1001, '1', 'x'))
        Overwrite(Path.Combine(dir, "lmdb", "valid", "pairs"), "0", Convert.FromHexString("8004950e000000000000004de9038c0131948c01789487942e"));
        var e = Assert.Throws<TuwenException>(() => new ChineseClipLmdbReader(dir, "valid").ReadPairs());
        Assert.Contains("(image_id, text_id, text)", e.Message);
    }

    [Fact]
    public void PairNamingAMissingImageIsAnError()
    {
        var dir = LmdbFixture.CopyTo(Dir("dangling"));
        Overwrite(Path.Combine(dir, "lmdb", "valid", "pairs"), "0", new ChineseClipLmdbPair(4242, 1, "无图").ToPickle());
        var e = Assert.Throws<TuwenException>(() => new ChineseClipLmdbReader(dir, "valid").ReadSamples().ToList());
        Assert.Contains("text 1 names image 4242", e.Message);
    }

    [Fact]
    public void TruncatedDataFileIsAnErrorNotACrash()
    {
        var dir = LmdbFixture.CopyTo(Dir("cut"));
        var data = Path.Combine(dir, "lmdb", "valid", "imgs", "data.mdb");
        var bytes = File.ReadAllBytes(data);
        File.WriteAllBytes(data, bytes[..(bytes.Length - 4096)]);
        var e = Assert.Throws<TuwenException>(() => new ChineseClipLmdbReader(dir, "valid").ReadSamples().ToList());
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void MissingCountKeyIsAnError()
    {
        var dir = LmdbFixture.CopyTo(Dir("nocount"));
        Overwrite(Path.Combine(dir, "lmdb", "valid", "pairs"), "6", null);
        var e = Assert.Throws<TuwenException>(() => new ChineseClipLmdbReader(dir, "valid").ReadPairs());
        Assert.Contains("num_samples says 7 pairs but it holds 6", e.Message);
        Assert.Contains("incomplete", e.Message);
    }

    [Fact]
    public void MissingSplitNamesWhereItLooked()
    {
        var e = Assert.Throws<TuwenException>(() => new ChineseClipLmdbReader(Dir("nothing"), "test"));
        Assert.Contains(Path.Combine(Dir("nothing"), "lmdb", "test"), e.Message);
    }

    /// <summary>Rewrites a copied database with one key replaced (or removed when <paramref name="value"/> is null).</summary>
    static void Overwrite(string path, string key, byte[]? value)
    {
        List<(byte[] Key, byte[] Value)> entries;
        using (var db = LmdbDataFile.Open(path)) entries = db.ReadAll().ToList();
        File.Delete(Path.Combine(path, "data.mdb"));
        using var writer = new LmdbDataFileWriter(path);
        var target = Encoding.UTF8.GetBytes(key);
        Assert.Contains(entries, e => e.Key.SequenceEqual(target));
        foreach (var (k, v) in entries)
        {
            if (!k.SequenceEqual(target)) writer.Put(k, v);
            else if (value is not null) writer.Put(k, value);
        }
        writer.Complete();
    }

    static List<(string Key, string Value)> Entries(string path)
    {
        using var db = LmdbDataFile.Open(path);
        return [.. db.ReadAll().Select(e => (Encoding.UTF8.GetString(e.Key), Convert.ToHexString(e.Value)))];
    }
}
