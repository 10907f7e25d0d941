using Tuwen.Corpus;
using Tuwen.Data;

namespace Tuwen.Tests.Corpus;

/// <summary>Facts of the pinned packs (emoji-datasource 16.0.0, CLDR 48.2.0, emojibase 17.0.0), read from them.</summary>
[Collection(EmojiZhCollection.Name)]
public sealed class EmojiZhCorpusTests(EmojiZhFixture corpus)
{
    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    [Theory]
    [InlineData("google", 3786)]
    [InlineData("twitter", 3786)]
    public void TrainStylesPairEveryImageWithAChineseName(string style, int pairs)
    {
        var counts = corpus.Splits.Report.Train.Single(c => c.Style == style);
        Assert.Equal(pairs, counts.Listed);
        Assert.Equal(pairs, counts.Pairs);
        Assert.Equal(0, counts.Unnamed);
        Assert.Equal(0, counts.MissingFromPack);
        Assert.Equal(0, counts.UnlistedInPack);
        Assert.Equal(pairs, corpus.Train.Count(s => s.Metadata["style"]!.GetValue<string>() == style));
    }

    [Fact]
    public void FacebookValidatesWithEveryImagePaired()
    {
        var counts = Assert.Single(corpus.Splits.Report.Validation);
        Assert.Equal(("facebook", 3645, 3645, 0, 0), (counts.Style, counts.Listed, counts.Pairs, counts.Unnamed, counts.MissingFromPack));
        Assert.Equal(3645, corpus.Validation.Count);
        Assert.Equal(3786 * 2, corpus.Splits.Report.TrainPairs);
    }

    [Fact]
    public void GrinningFaceIsCalledByItsCldrName()
    {
        var sample = corpus.TrainByKey["google_1f600"];
        Assert.Equal(["嘿嘿", "“嘿嘿”表情：笑脸、脸、高兴"], sample.Captions);
        Assert.Equal("笑脸", sample.Metadata["group"]!.GetValue<string>());
        Assert.Equal("Smileys & Emotion", sample.Metadata["group_en"]!.GetValue<string>());
        Assert.Equal("笑脸", sample.Metadata["subgroup"]!.GetValue<string>());
        Assert.Equal("1f600", sample.Metadata["unified"]!.GetValue<string>());
        Assert.Equal("emoji-zh", sample.Metadata["source"]!.GetValue<string>());
    }

    [Fact]
    public void SkinToneVariationJoinsToTheDerivedName()
    {
        var sample = corpus.ValidationByKey["facebook_1f44d-1f3fb"];
        Assert.Equal("拇指向上: 较浅肤色", sample.Captions[0]);
        Assert.Equal(EmojiZhNames.CldrDerivedSource, sample.Metadata["name_source"]!.GetValue<string>());
        Assert.StartsWith("“拇指向上: 较浅肤色”表情：", sample.Captions[1]);
        Assert.Contains("顶一下", sample.Captions[1]);
        Assert.Equal("人体", sample.Metadata["group"]!.GetValue<string>());
    }

    [Fact]
    public void VariationSelectorIsIgnoredInTheJoinButKeptInTheKey()
    {
        var heart = corpus.TrainByKey["twitter_2764-fe0f"];
        Assert.Equal(["红心", "“红心”表情：心、爱"], heart.Captions);
        Assert.Equal("2764-fe0f", heart.Metadata["unified"]!.GetValue<string>());
        // emoji-datasource spells the keycap 0023-FE0F-20E3, CLDR keys it as the text "#️⃣": the two meet
        // only once the selector is gone and the hex is read as numbers (0023 = 23).
        var keycap = corpus.TrainByKey["google_0023-fe0f-20e3"];
        Assert.Equal(["按键: #", "“按键: #”表情"], keycap.Captions);
        Assert.Equal(EmojiZhNames.CldrDerivedSource, keycap.Metadata["name_source"]!.GetValue<string>());
    }

    [Fact]
    public void CldrNamesEveryGoogleImage()
    {
        var sources = corpus.Train.Where(s => s.Key.StartsWith("google_", StringComparison.Ordinal))
            .GroupBy(s => s.Metadata["name_source"]!.GetValue<string>())
            .ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(new Dictionary<string, int> { [EmojiZhNames.CldrSource] = 1585, [EmojiZhNames.CldrDerivedSource] = 2201 }, sources);
    }

    [Fact]
    public void FlagHasNoKeywordBeyondItsName()
    {
        Assert.Equal(["旗: 中国", "“旗: 中国”表情"], corpus.ValidationByKey["facebook_1f1e8-1f1f3"].Captions);
    }

    [Fact]
    public void EverySampleIsAPngWithTwoCaptionsAndAUniqueSafeKey()
    {
        var all = corpus.Train.Concat(corpus.Validation).ToList();
        Assert.Equal(all.Count, all.Select(s => s.Key).Distinct().Count());
        Assert.All(all, s =>
        {
            Assert.Equal("png", s.ImageExtension);
            Assert.True(s.Image.AsSpan().StartsWith(PngSignature), $"{s.Key} is not a PNG");
            Assert.DoesNotContain('.', s.Key);
            Assert.DoesNotContain('/', s.Key);
            Assert.Equal(2, s.Captions.Count);
            Assert.All(s.Captions, c => Assert.False(string.IsNullOrWhiteSpace(c), $"{s.Key} has an empty caption"));
            Assert.NotEqual(s.Captions[0], s.Captions[1]);
        });
    }

    [Fact]
    public void ZeroShotClassesAreTheChineseGroupsInEmojibaseOrder()
    {
        Assert.Equal(["笑脸", "人体", "组件", "野生动物", "食物飲料", "旅遊地點", "个人活动", "物件", "人的符号", "旗帜"], corpus.Splits.ZeroShotClasses);
        Assert.Equal(
            [165, 2148, 5, 157, 128, 218, 85, 261, 209, 269],
            corpus.Splits.Report.ZeroShotGroups.Select(g => g.Images));
        Assert.All(corpus.Splits.ZeroShotClasses, name => Assert.Matches(@"^\p{IsCJKUnifiedIdeographs}+$", name));
        var classes = corpus.Splits.ZeroShotClasses.ToHashSet();
        Assert.All(corpus.Validation, s => Assert.Contains(s.Metadata["group"]!.GetValue<string>(), classes));
        Assert.All(corpus.Train, s => Assert.Contains(s.Metadata["group"]!.GetValue<string>(), classes));
    }

    [Fact]
    public void SubgroupsAreChineseWhereEmojibaseNamesThem()
    {
        // emoji-datasource writes "sky & weather", emojibase "sky-weather": both must land on the same name.
        Assert.Equal("天气", corpus.TrainByKey["google_2600-fe0f"].Metadata["subgroup"]!.GetValue<string>());
        Assert.Equal("拳头", corpus.TrainByKey["google_1f44d"].Metadata["subgroup"]!.GetValue<string>());
        Assert.All(corpus.Validation, s => Assert.Matches(@"\p{IsCJKUnifiedIdeographs}", s.Metadata["subgroup"]!.GetValue<string>()));
    }

    [Fact]
    public void ReportNamesTheCounts()
    {
        var lines = corpus.Splits.Report.Lines().ToList();
        Assert.Contains("train google: 3786 pairs of 3786 listed images, 0 without a Chinese name, 0 missing from the pack", lines);
        Assert.Contains("validation facebook: 3645 pairs of 3645 listed images, 0 without a Chinese name, 0 missing from the pack", lines);
    }

    [Theory]
    [InlineData("google,emojione")]
    [InlineData("Google, tweeter")]
    public void UnknownStyleListsTheValidOnes(string styles)
    {
        var error = Assert.Throws<TuwenException>(() =>
            EmojiZhCorpus.Open(new EmojiZhCorpusOptions { Styles = EmojiZhCorpusOptions.ParseStyleList(styles) }));
        Assert.Contains("google, twitter, facebook, apple", error.Message);
        Assert.Contains(styles.Split(',')[1].Trim().ToLowerInvariant(), error.Message);
    }

    [Fact]
    public void StyleInBothSplitsIsRefused()
    {
        var error = Assert.Throws<TuwenException>(() =>
            EmojiZhCorpus.Open(new EmojiZhCorpusOptions { Styles = ["google"], ValidationStyles = ["Google"] }));
        Assert.Contains("'google'", error.Message);
    }

    [Fact]
    public void SecondEnumerationGivesFreshMetadata()
    {
        var first = corpus.Splits.Validation.First();
        first.Metadata["captions"] = "written by a shard writer";
        Assert.False(corpus.Splits.Validation.First().Metadata.ContainsKey("captions"));
    }
}
