using System.Text.Json.Nodes;
using Tuwen.Data;
using Tuwen.Interop.ChineseClip;
using Tuwen.Tests.Cli;
using Tuwen.Tests.Evaluation;
using Xunit;

namespace Tuwen.Tests.Interop;

public sealed class ChineseClipDatasetTests : IDisposable
{
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("tuwen-cnclip-");

    public void Dispose() => _temp.Delete(recursive: true);

    private string Dir(string name) => Path.Combine(_temp.FullName, name);

    /// <summary>Five real Flickr8K-CN validation images with their five native captions each, no id metadata.</summary>
    private static List<Sample> FlickrSamples(int count = 5)
    {
        var val = Flickr8kCnVal.Instance;
        return [.. Enumerable.Range(0, count).Select(i => Sample.Create(
            $"flickr-{i}",
            File.ReadAllBytes(Flickr8kCnVal.ImagePath(val.ImageIds[i])),
            "jpg",
            [.. val.Captions.Where((_, c) => val.CaptionToImage[c] == i)]))];
    }

    private static void WriteCnClip(string dir, string split, IEnumerable<Sample> samples)
    {
        using var writer = new ChineseClipWriter(dir, split);
        foreach (var sample in samples) writer.Write(sample);
    }

    private static void AssertSameImagesAndCaptions(IReadOnlyList<Sample> expected, IReadOnlyList<Sample> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Image, actual[i].Image);
            Assert.Equal(expected[i].Captions, actual[i].Captions);
        }
    }

    [Fact]
    public void FlickrSamples_WriteThenRead_KeepBytesCaptionsAndIds()
    {
        var samples = FlickrSamples();
        var dir = Dir("cn");
        WriteCnClip(dir, "valid", samples);

        Assert.Equal(5, File.ReadLines(ChineseClipDataset.ImagesPath(dir, "valid")).Count());
        Assert.Equal(25, File.ReadLines(ChineseClipDataset.TextsPath(dir, "valid")).Count());
        var images = ChineseClipDataset.ReadImages(ChineseClipDataset.ImagesPath(dir, "valid")).ToList();
        Assert.Equal([1L, 2, 3, 4, 5], images.Select(i => i.Id));
        var texts = ChineseClipDataset.ReadTexts(ChineseClipDataset.TextsPath(dir, "valid")).ToList();
        Assert.Equal(Enumerable.Range(1, 25).Select(i => (long)i), texts.Select(t => t.TextId));
        Assert.All(texts, t => Assert.Single(t.ImageIds));

        var counts = new ChineseClipReadCounts();
        var read = ChineseClipDataset.ReadSamples(dir, "valid", counts).ToList();
        AssertSameImagesAndCaptions(samples, read);
        Assert.Equal("cnclip-1", read[0].Key);
        Assert.Equal("jpg", read[0].ImageExtension);
        Assert.Equal(1, read[0].Metadata[ChineseClipDataset.ImageIdKey]!.GetValue<long>());
        Assert.Equal([1L, 2, 3, 4, 5], read[0].Metadata[ChineseClipDataset.TextIdsKey]!.AsArray().Select(n => n!.GetValue<long>()));
        Assert.Equal((5, 25, 5), (counts.Images, counts.Texts, counts.Samples));

        // Written again from what was read, the files are byte-identical: ids come back from metadata.
        var again = Dir("cn2");
        WriteCnClip(again, "valid", read);
        Assert.Equal(File.ReadAllBytes(ChineseClipDataset.ImagesPath(dir, "valid")), File.ReadAllBytes(ChineseClipDataset.ImagesPath(again, "valid")));
        Assert.Equal(File.ReadAllText(ChineseClipDataset.TextsPath(dir, "valid")), File.ReadAllText(ChineseClipDataset.TextsPath(again, "valid")));
    }

    [Fact]
    public void Shards_ToCnClip_ToShards_KeepImagesAndCaptions()
    {
        var samples = FlickrSamples();
        using (var writer = new ShardWriter(Dir("shards"), "flickr", 2))
            foreach (var sample in samples) writer.Write(sample);

        WriteCnClip(Dir("cn"), "valid", ShardReader.Read(ShardReader.FindShards(Dir("shards"))));
        using (var writer = new ShardWriter(Dir("shards2"), "back", 2))
            foreach (var sample in ChineseClipDataset.ReadSamples(Dir("cn"), "valid")) writer.Write(sample);

        AssertSameImagesAndCaptions(samples, [.. ShardReader.Read(ShardReader.FindShards(Dir("shards2")))]);
    }

    [Fact]
    public void TextNamingTwoImages_IsCaptionOfBoth_AndWritesBackAsOneLine()
    {
        var dir = Dir("hand");
        Directory.CreateDirectory(dir);
        byte[] png = [0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3];
        byte[] jpg = File.ReadAllBytes(Flickr8kCnVal.ImagePath(Flickr8kCnVal.Instance.ImageIds[0]));
        // Urlsafe alphabet without padding for one image, standard for the other: Chinese-CLIP reads both.
        var urlsafe = Convert.ToBase64String(png).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        File.WriteAllText(ChineseClipDataset.ImagesPath(dir, "train"), $"1000002\t{urlsafe}\n\n517602\t{Convert.ToBase64String(jpg)}\n77\t{urlsafe}\n");
        File.WriteAllText(ChineseClipDataset.TextsPath(dir, "train"),
            "{\"text_id\": 8428, \"text\": \"高级感托特包斜挎\", \"image_ids\": [1000002, 517602]}\n" +
            "{\"text_id\": 9, \"text\": \"一只狗\", \"image_ids\": [517602]}\n" +
            "{\"text_id\": 10, \"text\": \"无图\", \"image_ids\": []}\n");

        var counts = new ChineseClipReadCounts();
        var samples = ChineseClipDataset.ReadSamples(dir, "train", counts).ToList();
        Assert.Equal(["cnclip-1000002", "cnclip-517602"], samples.Select(s => s.Key));
        Assert.Equal(png, samples[0].Image);
        Assert.Equal("png", samples[0].ImageExtension);
        Assert.Equal(["高级感托特包斜挎"], samples[0].Captions);
        Assert.Equal(["高级感托特包斜挎", "一只狗"], samples[1].Captions);
        Assert.Equal((3L, 1L, 1L), (counts.Images, counts.UnlabeledTexts, counts.ImagesWithoutText));

        var back = Dir("back");
        WriteCnClip(back, "train", samples);
        var texts = ChineseClipDataset.ReadTexts(ChineseClipDataset.TextsPath(back, "train")).ToList();
        Assert.Equal([8428L, 9], texts.Select(t => t.TextId));
        Assert.Equal([1000002L, 517602], texts[0].ImageIds);
        Assert.Contains("高级感托特包斜挎", File.ReadAllText(ChineseClipDataset.TextsPath(back, "train")));
    }

    [Fact]
    public void MugeExcerpt_Parses()
    {
        var path = SharedData.Path("muge-notebook-sample", "valid_texts_excerpt.jsonl");
        var texts = ChineseClipDataset.ReadTexts(path).ToList();
        Assert.Equal(2, texts.Count);
        Assert.Equal(248816, texts[0].TextId);
        Assert.Equal("圣诞 抱枕", texts[0].Text);
        Assert.Equal([1006938L, 561749, 936929, 286314, 141999, 183846], texts[0].ImageIds);
    }

    [Theory]
    [InlineData("1\t!!!notbase64\n", "{\"text_id\":1,\"text\":\"a\",\"image_ids\":[1]}\n", "_imgs.tsv:1", "base64")]
    [InlineData("1\tAAAA\nx\tAAAA\n", "", "_imgs.tsv:2", "not an integer")]
    [InlineData("1\tAAAA\n\n1\tAAAA\n", "", "_imgs.tsv:3", "occurs twice")]
    [InlineData("1\tAAAA\n", "{\"text_id\":1,\"text\":\"a\",\"image_ids\":[1]}\n{oops\n", "_texts.jsonl:2", "not valid JSON")]
    [InlineData("1\tAAAA\n", "{\"text_id\":1,\"image_ids\":[1]}\n", "_texts.jsonl:1", "\"text\"")]
    [InlineData("1\tAAAA\n", "{\"text_id\":\"1\",\"text\":\"a\",\"image_ids\":[1]}\n", "_texts.jsonl:1", "text_id")]
    [InlineData("1\tAAAA\n", "{\"text_id\":1,\"text\":\"a\",\"image_ids\":[1]}\n{\"text_id\":1,\"text\":\"b\",\"image_ids\":[1]}\n", "_texts.jsonl:2", "occurs twice")]
    [InlineData("1\tAAAA\n", "{\"text_id\":1,\"text\":\"a\",\"image_ids\":[1,5]}\n{\"text_id\":2,\"text\":\"b\",\"image_ids\":[6]}\n", "_texts.jsonl:1", "2 text→image")]
    [InlineData("1\tAAAA\n", "{\"text_id\":1,\"text\":\"a\",\"image_ids\":[1]}\n", "_imgs.tsv:1", "not a JPEG")]
    public void BadInput_FailsWithFileAndLine(string tsv, string jsonl, string where, string what)
    {
        var dir = Dir("bad");
        Directory.CreateDirectory(dir);
        File.WriteAllText(ChineseClipDataset.ImagesPath(dir, "valid"), tsv);
        File.WriteAllText(ChineseClipDataset.TextsPath(dir, "valid"), jsonl);
        var error = Assert.Throws<TuwenException>(() => ChineseClipDataset.ReadSamples(dir, "valid").ToList());
        Assert.Contains("valid" + where, error.Message);
        Assert.Contains(what, error.Message);
    }

    [Fact]
    public void Writer_RejectsTwoSamplesWithTheSameImageId()
    {
        var meta = new JsonObject { [ChineseClipDataset.ImageIdKey] = 7 };
        using var writer = new ChineseClipWriter(Dir("dup"), "valid");
        writer.Write(Sample.Create("a", [0xFF, 0xD8, 0xFF], "jpg", ["甲"], meta.DeepClone().AsObject()));
        var error = Assert.Throws<TuwenException>(() => writer.Write(Sample.Create("b", [0xFF, 0xD8, 0xFF], "jpg", ["乙"], meta.DeepClone().AsObject())));
        Assert.Contains("image id 7", error.Message);
    }

    [Fact]
    public void CorpusConvert_Cli_RoundTripsShardsThroughCnClip()
    {
        var samples = FlickrSamples(3);
        using (var writer = new ShardWriter(Dir("shards"), "flickr", 2))
            foreach (var sample in samples) writer.Write(sample);

        var toCn = CliRunner.Run("corpus", "convert", "--from", "shards", "--to", "cnclip", "--input", Dir("shards"), "--out", Dir("cn"), "--split", "test");
        Assert.True(toCn.ExitCode == 0, toCn.Err);
        Assert.Contains("wrote 3 images", toCn.Out);
        Assert.True(File.Exists(ChineseClipDataset.ImagesPath(Dir("cn"), "test")));

        var back = CliRunner.Run("corpus", "convert", "--from", "cnclip", "--to", "shards", "--input", Dir("cn"), "--out", Dir("back"), "--split", "test");
        Assert.True(back.ExitCode == 0, back.Err);
        Assert.Contains("wrote 3 samples", back.Out);
        AssertSameImagesAndCaptions(samples, [.. ShardReader.Read(ShardReader.FindShards(Dir("back")))]);

        var missing = CliRunner.Run("corpus", "convert", "--from", "cnclip", "--to", "shards", "--input", Dir("cn"), "--out", Dir("x"), "--split", "nope");
        Assert.NotEqual(0, missing.ExitCode);
        Assert.Contains("nope_texts.jsonl", missing.Err);
        var same = CliRunner.Run("corpus", "convert", "--from", "cnclip", "--to", "cnclip", "--input", Dir("cn"), "--out", Dir("x"));
        Assert.NotEqual(0, same.ExitCode);
    }
}
