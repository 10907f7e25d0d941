using Tuwen.Corpus.Pipeline;
using Tuwen.Corpus.Sources;
using Tuwen.Corpus.Text;

namespace Tuwen.Tests.Corpus.Build;

public sealed class TextRuleTests
{
    private static TextPipeline Pipeline(CorpusBuildOptions? options = null, CaptionFrequency? frequency = null)
        => new(options ?? new CorpusBuildOptions(), frequency);

    [Theory]
    [InlineData("一只猫坐在窗台上", null)]
    [InlineData("https://example.com/a.jpg", "text.url_only")]
    [InlineData("IMG_0001.JPG", "text.file_name")]
    [InlineData("000.jpg", "text.file_name")]
    [InlineData("2024-01-01 12:00", "text.no_letters")]
    [InlineData("a cat on a mat", "text.no_chinese")]
    [InlineData("猫", "text.too_short")]
    [InlineData("这是一段非常非常长的说明文字这是一段非常非常长的说明文字这是一段非常非常长的说明文字这是一段非常非常长的说明文字这是一段非常非常长的说明文字", "text.too_long")]
    public void Each_rule_drops_for_its_reason(string text, string? reason)
    {
        var (caption, dropReason) = Pipeline().Choose(new CandidateTexts(Caption: text));
        Assert.Equal(reason, dropReason);
        Assert.Equal(reason is null, caption is not null);
    }

    [Theory]
    [InlineData("联系电话13812345678的小猫", "联系电话<电话>的小猫")]
    [InlineData("客服 +86 138-1234-5678 在线", "客服 <电话> 在线")]
    [InlineData("发邮件到 cat@example.com 领养", "发邮件到 <邮箱> 领养")]
    [InlineData("身份证号11010519491231002X的照片", "身份证号<证件号>的照片")]
    [InlineData("座机010-12345678咨询", "座机<电话>咨询")]
    [InlineData("2023年12月的猫", "2023年12月的猫")]
    public void Privacy_is_masked(string text, string expected)
    {
        var (caption, _) = Pipeline().Choose(new CandidateTexts(Caption: text));
        Assert.Equal(expected, caption!.Text);
    }

    [Fact]
    public void Privacy_drop_mode_drops_and_keep_mode_keeps()
    {
        var texts = new CandidateTexts(Caption: "联系电话13812345678的小猫");
        Assert.Equal("text.privacy", Pipeline(new CorpusBuildOptions { Privacy = PrivacyAction.Drop }).Choose(texts).DropReason);
        Assert.Equal(texts.Caption, Pipeline(new CorpusBuildOptions { Privacy = PrivacyAction.Keep }).Choose(texts).Caption!.Text);
    }

    [Fact]
    public void Sensitive_words_come_from_the_users_file()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllLines(path, ["# comment", "坏词", "", "违禁品"]);
            var pipeline = Pipeline(new CorpusBuildOptions { SensitiveWordsFile = path });
            Assert.Equal("text.sensitive", pipeline.Choose(new CandidateTexts(Caption: "这里有违禁品出售")).DropReason);
            Assert.Null(pipeline.Choose(new CandidateTexts(Caption: "这里有水果出售")).DropReason);
            Assert.Equal(2, SensitiveWordRule.Load(path).Count);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Over_frequent_captions_are_dropped_after_counting()
    {
        var pipeline = Pipeline();
        var frequency = new CaptionFrequency();
        for (var i = 0; i < 11; i++) frequency.AddImage(pipeline.CountedTexts(new CandidateTexts(Alt: "点击查看大图")));
        for (var i = 0; i < 10; i++) frequency.AddImage(pipeline.CountedTexts(new CandidateTexts(Alt: "西湖的春天")));
        var counted = Pipeline(frequency: frequency);
        Assert.Equal("text.over_frequent", counted.Choose(new CandidateTexts(Alt: "点击查看大图")).DropReason);
        Assert.Null(counted.Choose(new CandidateTexts(Alt: "西湖的春天")).DropReason);
        // The next text is tried when the preferred one fails, and is tagged by its field.
        var (caption, _) = counted.Choose(new CandidateTexts(Alt: "点击查看大图", Nearby: "杭州西湖边的柳树"));
        Assert.Equal(("杭州西湖边的柳树", "nearby", false), (caption!.Text, caption.Field, caption.Strong));
    }

    [Fact]
    public void Correlation_setting_limits_the_fields_used()
    {
        var texts = new CandidateTexts(Alt: "apple", Title: "红色的苹果", Nearby: "今日水果价格", PageTitle: "水果网");
        Assert.Equal(("红色的苹果", "title", "strong"), Tag(Pipeline().Choose(texts).Caption!));
        Assert.Equal(("今日水果价格", "nearby", "weak"), Tag(Pipeline(new CorpusBuildOptions { Correlation = Correlation.Weak }).Choose(texts).Caption!));
        var strongOnly = Pipeline(new CorpusBuildOptions { Correlation = Correlation.Strong });
        Assert.Equal("text.no_chinese", strongOnly.Choose(texts with { Title = null }).DropReason);
        Assert.Equal("text.empty", strongOnly.Choose(new CandidateTexts(Nearby: "只有旁边的文字")).DropReason);
    }

    private static (string, string, string) Tag(ChosenCaption c) => (c.Text, c.Field, c.Correlation);

    [Fact]
    public void Normalisation_collapses_space_and_removes_broken_characters()
    {
        var pipeline = Pipeline();
        Assert.Equal("小 猫", pipeline.Normalize("  小\t\n猫\u200B\uFFFD "));
        Assert.Null(pipeline.Normalize("\uFFFD\uFFFD"));
        Assert.Equal("猫", pipeline.Normalize("猫\uD800"));   // a lone surrogate cannot be written as UTF-8
    }

    [Fact]
    public void Traditional_to_simplified_is_optional_and_its_table_is_consistent()
    {
        var texts = new CandidateTexts(Caption: "點擊查看這個國家的圖片");
        Assert.Equal("點擊查看這個國家的圖片", Pipeline().Choose(texts).Caption!.Text);
        Assert.Equal("点击查看这个国家的图片", Pipeline(new CorpusBuildOptions { TraditionalToSimplified = true }).Choose(texts).Caption!.Text);
        Assert.True(TraditionalToSimplified.Coverage >= 400, $"{TraditionalToSimplified.Coverage} characters");
        foreach (var (traditional, simplified) in TraditionalToSimplified.Pairs)
        {
            Assert.True(ChineseRule.IsHan(traditional) && ChineseRule.IsHan(simplified));
            // A simplified character is never itself rewritten: conversion is idempotent.
            Assert.False(TraditionalToSimplified.Pairs.ContainsKey(simplified), $"{simplified} is both a target and a source");
        }
    }
}
