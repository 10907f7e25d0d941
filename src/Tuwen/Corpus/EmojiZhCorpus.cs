using Tuwen.Data;

namespace Tuwen.Corpus;

/// <summary>Which drawing styles train and which validate. Null keeps the default.</summary>
public sealed record EmojiZhCorpusOptions
{
    public static IReadOnlyList<string> DefaultStyles { get; } = ["google", "twitter"];
    public static IReadOnlyList<string> DefaultValidationStyles { get; } = ["facebook"];

    public IReadOnlyList<string>? Styles { get; init; }
    public IReadOnlyList<string>? ValidationStyles { get; init; }

    /// <summary>Where the npm packs lie; default $TUWEN_HOME/npm.</summary>
    public string? NpmFolder { get; init; }

    /// <summary>"google, twitter" as a command line gives it.</summary>
    public static IReadOnlyList<string> ParseStyleList(string commaSeparated)
        => commaSeparated.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>
/// The two sample streams of emoji-zh and what was counted. Each stream reads its packs again whenever it is
/// enumerated. <see cref="ZeroShotClasses"/> are the Chinese group names to classify validation images into;
/// every validation sample's metadata "group" is one of them.
/// </summary>
public sealed record EmojiZhSplits(
    IEnumerable<Sample> Train, IEnumerable<Sample> Validation, EmojiZhReport Report, IReadOnlyList<string> ZeroShotClasses);

/// <summary>
/// The default corpus: emoji drawn by Google and Twitter for training, by Facebook for validation, each
/// captioned with its Chinese CLDR name and keywords. The same emoji, with the same captions, is in both
/// splits on purpose: what validation measures is whether the model recognises a meaning in a drawing style it
/// has not seen, not whether it knows emoji it was never told about.
/// </summary>
public static class EmojiZhCorpus
{
    public static EmojiZhSplits Open(EmojiZhCorpusOptions? options = null)
    {
        options ??= new EmojiZhCorpusOptions();
        // Styles are checked before anything is read, so a typo costs no pack scan.
        var train = EmojiZhSource.NormalizeStyles(options.Styles ?? EmojiZhCorpusOptions.DefaultStyles);
        var validation = EmojiZhSource.NormalizeStyles(options.ValidationStyles ?? EmojiZhCorpusOptions.DefaultValidationStyles);
        // One style in both would put the very same image in both splits: no longer a test of style transfer.
        if (train.Intersect(validation).FirstOrDefault() is { } shared)
            throw new TuwenException($"emoji style '{shared}' is both a training and a validation style; give each style to one split");

        var names = EmojiZhNames.Load(options.NpmFolder);
        var trainSource = EmojiZhSource.Open(train, names, options.NpmFolder);
        var validationSource = EmojiZhSource.Open(validation, names, options.NpmFolder);
        var zeroShot = ZeroShotClasses(validationSource.Plans);
        return new EmojiZhSplits(
            trainSource.Samples(),
            validationSource.Samples(),
            new EmojiZhReport(trainSource.Counts, validationSource.Counts, zeroShot),
            zeroShot.Select(g => g.Name).ToList());
    }

    /// <summary>
    /// The groups that have at least one validation image, in emojibase's order. A group without images (组件,
    /// "component", when the validation style draws no skin-tone swatches) would be a class no image can
    /// belong to: it only adds a distractor and shifts chance level. When the swatches are drawn, 组件 is a real
    /// class of the validation set and stays, so every validation image has its class in the list.
    /// The classes are far from balanced (skin-tone variants put most images in 人体), which is why the counts
    /// come along: plain accuracy alone would reward always answering 人体.
    /// </summary>
    public static IReadOnlyList<EmojiZhGroupCount> ZeroShotClasses(IEnumerable<EmojiZhStylePlan> validation)
        => validation.SelectMany(p => p.Samples)
            .GroupBy(s => s.Group)
            .OrderBy(g => g.Key.Order).ThenBy(g => g.Key.Key, StringComparer.Ordinal)
            .Select(g => new EmojiZhGroupCount(g.Key.Key, g.Key.Name, g.Count()))
            .ToList();
}
