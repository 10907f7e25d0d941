using System.Text;
using Tuwen.Interop;

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

    [Fact]
    public void BuildFromTsvJsonlMatchesTheUpstreamDatabases()
    {
        var (images, pairs) = ChineseClipLmdbWriter.Build(LmdbFixture.Directory, LmdbFixture.Split, Dir("out"));
        Assert.Equal((5, 7), (images, pairs));
        foreach (var name in new[] { "imgs", "pairs" })
            Assert.Equal(Entries(FixtureDb(name)), Entries(Path.Combine(ChineseClipLmdbStore.SplitPath(Dir("out"), LmdbFixture.Split), name)));
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
