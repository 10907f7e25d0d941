using System.Text.Json.Nodes;
using Tuwen.Corpus;

namespace Tuwen.Tests.Corpus;

/// <summary>The join of images to Chinese names on hand-made documents: no packs needed.</summary>
public sealed class EmojiZhJoinTests
{
    private static readonly EmojiZhNames Names = EmojiZhHandMade.Names();

    private static EmojiZhStylePlan GooglePlan()
    {
        var paths = EmojiZhHandMade.GooglePngsInPack.Select(f => $"img/google/64/{f}").Append("emoji.json").ToHashSet();
        return EmojiZhSource.Plan("google", JsonNode.Parse(EmojiZhHandMade.EmojiJson)!, paths, Names);
    }

    private static EmojiZhPlannedSample Planned(string key) => GooglePlan().Samples.Single(s => s.Key == key);

    [Theory]
    [InlineData("2764-FE0F", "2764")]
    [InlineData("1F44D-1F3FB", "1f44d-1f3fb")]
    [InlineData("0023-FE0F-20E3", "23-20e3")]
    [InlineData("1f600", "1f600")]
    public void SequenceKeyDropsVariationSelectors(string unified, string key)
        => Assert.Equal(key, EmojiZhNames.SequenceKey(unified));

    [Theory]
    [InlineData("❤️", "2764")]
    [InlineData("❤", "2764")]
    [InlineData("👍🏻", "1f44d-1f3fb")]
    [InlineData("#️⃣", "23-20e3")]
    public void TextAndHexSpellingsMeet(string emoji, string key)
        => Assert.Equal(key, EmojiZhNames.SequenceKeyOfText(emoji));

    [Fact]
    public void CountsSayWhatBecameOfEveryListedImage()
    {
        var counts = GooglePlan().Counts;
        Assert.Equal(9, counts.Listed);
        Assert.Equal(7, counts.Pairs);
        Assert.Equal(1, counts.Unnamed);
        Assert.Equal(["1F9CC"], counts.UnnamedExamples);
        Assert.Equal(1, counts.MissingFromPack);
        Assert.Equal(["2600-FE0F"], counts.MissingExamples);
        Assert.Equal(1, counts.UnlistedInPack);
    }

    [Fact]
    public void CldrWinsOverEmojibaseAcrossTheVariationSelector()
    {
        var heart = Planned("google_2764-fe0f");
        Assert.Equal(["红心", "“红心”表情：心、爱"], heart.Captions);
        Assert.Equal(EmojiZhNames.CldrSource, heart.NameSource);
        Assert.Equal("2764-fe0f", heart.Unified);
        Assert.Equal("img/google/64/2764-fe0f.png", heart.ImagePath);
    }

    [Fact]
    public void SkinToneTakesTheDerivedNameOrInheritsEmojibaseTags()
    {
        var thumb = Planned("google_1f44d-1f3fb");
        Assert.Equal(EmojiZhNames.CldrDerivedSource, thumb.NameSource);
        Assert.Equal(["拇指向上: 较浅肤色", "“拇指向上: 较浅肤色”表情：赞"], thumb.Captions);
        Assert.Equal("拇指向上", Planned("google_1f44d").Captions[0]);

        var wave = Planned("google_1f44b-1f3fb");
        Assert.Equal(EmojiZhNames.EmojibaseSource, wave.NameSource);
        Assert.Equal(["挥手: 较浅肤色", "“挥手: 较浅肤色”表情：你好、再见"], wave.Captions);
        Assert.Equal("人体", wave.Group.Name);
        Assert.Equal("手伸开", wave.Subgroup);
    }

    [Fact]
    public void GroupComesFromEmojibaseOrFromTheCategory()
    {
        Assert.Equal("人的符号", Planned("google_0023-fe0f-20e3").Group.Name);
        // 1F600 is absent from the hand-made emojibase: its group is found through "Smileys & Emotion".
        var grinning = Planned("google_1f600");
        Assert.Equal(("smileys-emotion", "笑脸"), (grinning.Group.Key, grinning.Group.Name));
        Assert.Equal("Smileys & Emotion", grinning.Category);
        Assert.Equal("face-smiling", grinning.Subgroup);
    }

    [Fact]
    public void KeywordsThatAreTheNameOrAPartOfItAreLeftOut()
    {
        Assert.Equal(["嘿嘿", "“嘿嘿”表情：笑脸、高兴"], Planned("google_1f600").Captions);
        Assert.Equal(["旗: 中国", "“旗: 中国”表情"], EmojiZhSource.Captions(new EmojiZhName("旗: 中国", ["旗", "中国"], EmojiZhNames.CldrDerivedSource)));
        // A shorter word inside the name still links this emoji to its relatives, so it stays.
        Assert.Equal("“拇指向上: 较浅肤色”表情：拇指、赞",
            EmojiZhSource.Captions(new EmojiZhName("拇指向上: 较浅肤色", ["拇指", "拇指向上", "较浅肤色", "赞"], EmojiZhNames.CldrDerivedSource))[1]);
    }

    [Fact]
    public void OnlyImagesTheStyleDrawsAreListed()
    {
        var facebook = EmojiZhSource.ListImages(JsonNode.Parse(EmojiZhHandMade.EmojiJson)!, "facebook");
        Assert.Equal(["2764-FE0F"], facebook.Select(i => i.Unified));
    }

    [Fact]
    public void SubgroupNamesMatchAcrossSpellings()
    {
        Assert.Equal("天气", Names.SubgroupName("sky & weather"));
        Assert.Equal("unheard-of", Names.SubgroupName("unheard-of"));
        Assert.Equal("travel-places", EmojiZhNames.Slug("Travel & Places"));
    }

    [Fact]
    public void ZeroShotClassesAreGroupsWithImagesInEmojibaseOrder()
    {
        var classes = EmojiZhCorpus.ZeroShotClasses([GooglePlan()]);
        // 组件 (component) is in the messages but no image falls in it, so it is no class.
        Assert.Equal(["笑脸", "人体", "人的符号"], classes.Select(c => c.Name));
        Assert.Equal([2, 4, 1], classes.Select(c => c.Images));
    }

    [Fact]
    public void SamplesStreamFromAPackWithTheirOwnBytes()
    {
        using var folder = new TempFolder();
        EmojiZhHandMade.WriteGooglePack(folder.Path);
        var source = EmojiZhSource.Open(["google"], Names, folder.Path);
        var samples = source.Samples().ToList();
        Assert.Equal(7, samples.Count);
        Assert.Equal(7, Assert.Single(source.Counts).Pairs);
        var heart = samples.Single(s => s.Key == "google_2764-fe0f");
        Assert.Equal(EmojiZhHandMade.FakePng("2764-fe0f.png"), heart.Image);
        Assert.Equal("png", heart.ImageExtension);
        Assert.Equal("google", heart.Metadata["style"]!.GetValue<string>());
        Assert.Equal("emoji-zh", heart.Metadata["source"]!.GetValue<string>());
    }

    [Fact]
    public void MissingExtraStylePackSaysHowToFetchIt()
    {
        using var folder = new TempFolder();
        var error = Assert.Throws<TuwenException>(() => EmojiZhSource.Open(["apple"], Names, folder.Path));
        Assert.Contains(Path.Combine(folder.Path, "emoji-datasource-apple-16.0.0.tgz"), error.Message);
        Assert.Contains("TUWEN_EXTRA_PACKS=emoji-datasource-apple@16.0.0 ./tuwen", error.Message);
    }

    [Fact]
    public void UnknownStyleIsRefusedBeforeAnyPackIsRead()
    {
        var error = Assert.Throws<TuwenException>(() => EmojiZhSource.NormalizeStyles(["google", "noto"]));
        Assert.Equal("unknown emoji style 'noto'; valid styles: google, twitter, facebook, apple", error.Message);
        Assert.Equal(["google", "twitter"], EmojiZhSource.NormalizeStyles([" Google", "twitter", "google"]));
    }
}
