using System.Diagnostics;
using System.Formats.Tar;
using System.Text;
using System.Text.Json.Nodes;
using SkiaSharp;
using Tuwen.Data;

namespace Tuwen.Tests.Data;

public sealed class ShardTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void RoundTripKeepsImagesCaptionsAndMetadata()
    {
        var written = Enumerable.Range(0, 7).Select(i => DataFixtures.NumberedSample(i)).ToList();
        using (var writer = new ShardWriter(_temp.Path, "rt", samplesPerShard: 3))
            foreach (var sample in written) writer.Write(sample);

        var counters = new ShardReadCounters();
        var read = ShardReader.Read(ShardReader.FindShards(_temp.Path), counters).ToList();

        Assert.Equal(written.Count, read.Count);
        Assert.Equal(7, counters.Samples);
        Assert.Equal(0, counters.IncompleteSamples);
        for (var i = 0; i < written.Count; i++)
        {
            Assert.Equal(written[i].Key, read[i].Key);
            Assert.Equal(written[i].Image, read[i].Image);
            Assert.Equal("png", read[i].ImageExtension);
            Assert.Equal(written[i].Captions, read[i].Captions);
            Assert.True(JsonNode.DeepEquals(written[i].Metadata, read[i].Metadata), read[i].Metadata.ToJsonString());
        }
    }

    [Fact]
    public void ShardsRollAtSamplesPerShardAndStatsDescribeThem()
    {
        using (var writer = new ShardWriter(_temp.Path, "roll", samplesPerShard: 4))
        {
            for (var i = 0; i < 10; i++) writer.Write(DataFixtures.NumberedSample(i));
            writer.Extra["by_style"] = new JsonObject { ["测试"] = 10 };
        }

        var shards = ShardReader.FindShards(_temp.Path);
        Assert.Equal(["roll-000000.tar", "roll-000001.tar", "roll-000002.tar"], shards.Select(Path.GetFileName));
        Assert.Equal([4, 4, 2], shards.Select(s => ShardReader.Read([s]).Count()));
        Assert.Empty(Directory.GetFiles(_temp.Path, "*.tmp"));

        var stats = ShardReader.ReadStats(_temp.Path);
        Assert.Equal("roll", stats.Name);
        Assert.Equal(10, stats.Samples);
        Assert.Equal(30, stats.Captions);
        Assert.Equal([4L, 4L, 2L], stats.Shards.Select(s => s.Samples));
        Assert.Equal(shards.Sum(s => new FileInfo(s).Length), stats.Bytes);
        Assert.Equal(10, (int)stats.Extra["by_style"]!["测试"]!);

        var raw = File.ReadAllText(_temp.Combine("stats.json"));
        Assert.Contains("\"测试\"", raw); // CJK unescaped
        var json = JsonNode.Parse(raw)!;
        Assert.Equal("roll-000001.tar", (string?)json["shards"]![1]!["file"]);
        Assert.Equal(10, (long)json["samples"]!);
    }

    [Fact]
    public void ShardIsAStandardUstarTarWithWebdatasetMemberNames()
    {
        var sample = Sample.Create("猫咪_01", DataFixtures.SolidPng(4, 4, SKColors.Red), ".PNG", ["一只猫", "猫在睡觉"],
            new JsonObject { ["source"] = "测试" });
        var plain = Sample.Create("k1", DataFixtures.SolidPng(4, 4, SKColors.Blue), "jpeg", ["蓝色"]);
        using (var writer = new ShardWriter(_temp.Path, "std"))
        {
            writer.Write(plain);
            writer.Write(sample);
        }
        var path = _temp.Combine("std-000000.tar");
        var bytes = File.ReadAllBytes(path);
        Assert.Equal("k1.jpg", Encoding.ASCII.GetString(bytes, 0, 6));
        Assert.Equal("ustar", Encoding.ASCII.GetString(bytes, 257, 5));
        Assert.Equal(0, bytes.Length % 512);

        var members = new Dictionary<string, byte[]>();
        using (var reader = new TarReader(File.OpenRead(path)))
        {
            while (reader.GetNextEntry() is { } entry)
            {
                var data = new byte[entry.Length];
                entry.DataStream!.ReadExactly(data);
                members.Add(entry.Name, data);
            }
        }
        Assert.Equal(["k1.jpg", "k1.txt", "k1.json", "猫咪_01.png", "猫咪_01.txt", "猫咪_01.json"], members.Keys);
        Assert.Equal("一只猫\n猫在睡觉", Encoding.UTF8.GetString(members["猫咪_01.txt"]));
        var metadataText = Encoding.UTF8.GetString(members["猫咪_01.json"]);
        Assert.Contains("\"source\":\"测试\"", metadataText);
        var metadata = JsonNode.Parse(metadataText)!;
        Assert.Equal("猫咪_01", (string?)metadata["key"]);
        Assert.Equal(["一只猫", "猫在睡觉"], metadata["captions"]!.AsArray().Select(c => (string?)c));

        if (File.Exists("/usr/bin/tar") || File.Exists("/bin/tar"))
        {
            var listing = Process.Start(new ProcessStartInfo("tar", ["-tf", path]) { RedirectStandardOutput = true })!;
            var names = listing.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            listing.WaitForExit();
            Assert.Equal(0, listing.ExitCode);
            Assert.Equal(members.Keys, names);
        }
    }

    [Fact]
    public void UnfinishedShardExistsOnlyUnderItsTemporaryName()
    {
        using var writer = new ShardWriter(_temp.Path, "tmp", samplesPerShard: 2);
        writer.Write(DataFixtures.NumberedSample(0));
        Assert.True(File.Exists(_temp.Combine("tmp-000000.tar.tmp")));
        Assert.False(File.Exists(_temp.Combine("tmp-000000.tar")));
        writer.Write(DataFixtures.NumberedSample(1));
        Assert.True(File.Exists(_temp.Combine("tmp-000000.tar")));
        Assert.False(File.Exists(_temp.Combine("tmp-000000.tar.tmp")));
        Assert.False(File.Exists(_temp.Combine("stats.json")));
        writer.Write(DataFixtures.NumberedSample(2));
        writer.Dispose();
        Assert.Equal(["stats.json", "tmp-000000.tar", "tmp-000001.tar"], Directory.GetFiles(_temp.Path).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void RewritingADatasetReplacesItsOldShards()
    {
        DataFixtures.WriteNumberedDataset(_temp.Path, 9, 2);
        Assert.Equal(5, ShardReader.FindShards(_temp.Path).Count);
        DataFixtures.WriteNumberedDataset(_temp.Path, 3, 2);
        Assert.Equal(2, ShardReader.FindShards(_temp.Path).Count);
        Assert.Equal(3, ShardReader.ReadStats(_temp.Path).Samples);
        Assert.Throws<TuwenException>(() => new ShardWriter(_temp.Path, "other"));
    }

    [Theory]
    [InlineData("a.b")]
    [InlineData("a/b")]
    [InlineData("")]
    [InlineData("with space")]
    public void InvalidKeysAreRejected(string key)
    {
        using var writer = new ShardWriter(_temp.Path, "keys");
        var sample = DataFixtures.NumberedSample(0) with { Key = key };
        Assert.Throws<TuwenException>(() => writer.Write(sample));
    }

    [Fact]
    public void DuplicateKeysCaptionLineBreaksAndOtherFormatsAreRejected()
    {
        using var writer = new ShardWriter(_temp.Path, "bad");
        writer.Write(DataFixtures.NumberedSample(0));
        Assert.Throws<TuwenException>(() => writer.Write(DataFixtures.NumberedSample(0)));
        Assert.Throws<TuwenException>(() => writer.Write(DataFixtures.NumberedSample(1) with { Captions = ["一行\n两行"] }));
        Assert.Throws<TuwenException>(() => writer.Write(DataFixtures.NumberedSample(2) with { Captions = [] }));
        Assert.Throws<TuwenException>(() => writer.Write(DataFixtures.NumberedSample(3) with { ImageExtension = "gif" }));
    }

    [Fact]
    public void SamplesMissingImageOrCaptionsAreSkippedAndCounted()
    {
        var path = _temp.Combine("foreign-000000.tar");
        using (var tar = new TarWriter(File.Create(path), TarEntryFormat.Ustar))
        {
            void Member(string name, byte[] data) => tar.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data) });
            Member("a.jpg", DataFixtures.SolidPng(2, 2, SKColors.Red));
            Member("a.txt", "红色"u8.ToArray());
            Member("b.txt", "只有文字"u8.ToArray());                  // no image
            Member("c.png", DataFixtures.SolidPng(2, 2, SKColors.Red)); // no caption
            Member("d.jpeg", DataFixtures.SolidPng(2, 2, SKColors.Red));
            Member("d.json", """{"captions":["来自JSON"],"label":3}"""u8.ToArray()); // captions only in the JSON
            // The key ends at the first '.', so both members are sample "e"; a seg.png field is a mask, not its image.
            Member("e.seg.png", DataFixtures.SolidPng(2, 2, SKColors.Red));
            Member("e.txt", "没有图片"u8.ToArray());
        }
        var counters = new ShardReadCounters();
        var samples = ShardReader.Read([path], counters).ToList();
        Assert.Equal(["a", "d"], samples.Select(s => s.Key));
        Assert.Equal(["来自JSON"], samples[1].Captions);
        Assert.Equal("jpeg", samples[1].ImageExtension);
        Assert.Equal(3, (int)samples[1].Metadata["label"]!);
        Assert.Equal(3, counters.IncompleteSamples);
    }

    [Fact]
    public void TruncatedShardsFailNamingTheFile()
    {
        DataFixtures.WriteNumberedDataset(_temp.Path, 4, 100);
        var full = File.ReadAllBytes(_temp.Combine("numbered-000000.tar"));
        // Cut inside a member, and cut exactly where the end-of-archive blocks begin.
        foreach (var length in new[] { full.Length / 2 + 100, full.Length - 1024 })
        {
            var cut = _temp.Combine($"cut{length}.tar");
            File.WriteAllBytes(cut, full[..length]);
            var error = Assert.Throws<TuwenException>(() => ShardReader.Read([cut]).ToList());
            Assert.Contains(cut, error.Message);
        }
        var garbage = _temp.Combine("garbage.tar");
        File.WriteAllBytes(garbage, [.. Enumerable.Range(0, 4096).Select(i => (byte)(i * 31))]);
        Assert.Contains(garbage, Assert.Throws<TuwenException>(() => ShardReader.Read([garbage]).ToList()).Message);
    }

    [Fact]
    public void FindShardsNeedsAnExistingPathWithShards()
    {
        Assert.Throws<TuwenException>(() => ShardReader.FindShards(_temp.Combine("missing")));
        Assert.Throws<TuwenException>(() => ShardReader.FindShards(_temp.Path));
        DataFixtures.WriteNumberedDataset(_temp.Path, 3, 1);
        Assert.Equal(3, ShardReader.FindShards(_temp.Path).Count);
        Assert.Single(ShardReader.FindShards(_temp.Combine("numbered-000001.tar")));
        Assert.Null(ShardReader.TryReadStats(_temp.Combine("missing")));
    }
}
