using Tuwen.Corpus;
using Tuwen.Data;

namespace Tuwen.Tests.Corpus;

/// <summary>
/// The default emoji-zh corpus built once from the real packs in $TUWEN_HOME/npm (the test command's set-up
/// fetches them). Missing packs fail every test that uses this, with the file that is missing: a skipped test
/// would let a machine without data pass.
/// </summary>
public sealed class EmojiZhFixture
{
    public EmojiZhFixture()
    {
        var missing = RequiredPacks.Select(p => Path.Combine(TuwenPaths.NpmPacks, p)).Where(p => !File.Exists(p)).ToList();
        if (missing.Count > 0)
            throw new InvalidOperationException($"emoji-zh packs missing: {string.Join(", ", missing)}; run ./test (its set-up fetches them)");
        Splits = EmojiZhCorpus.Open();
        Train = Splits.Train.ToList();
        Validation = Splits.Validation.ToList();
        TrainByKey = Train.ToDictionary(s => s.Key);
        ValidationByKey = Validation.ToDictionary(s => s.Key);
    }

    public static IReadOnlyList<string> RequiredPacks { get; } =
    [
        "emoji-datasource-google-16.0.0.tgz",
        "emoji-datasource-twitter-16.0.0.tgz",
        "emoji-datasource-facebook-16.0.0.tgz",
        "cldr-annotations-full-48.2.0.tgz",
        "cldr-annotations-derived-full-48.2.0.tgz",
        "emojibase-data-17.0.0.tgz",
    ];

    public EmojiZhSplits Splits { get; }
    public IReadOnlyList<Sample> Train { get; }
    public IReadOnlyList<Sample> Validation { get; }
    public IReadOnlyDictionary<string, Sample> TrainByKey { get; }
    public IReadOnlyDictionary<string, Sample> ValidationByKey { get; }
}

[CollectionDefinition(Name)]
public sealed class EmojiZhCollection : ICollectionFixture<EmojiZhFixture>
{
    public const string Name = "emoji-zh packs";
}
