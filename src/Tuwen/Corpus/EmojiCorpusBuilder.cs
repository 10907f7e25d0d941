using System.Text.Json.Nodes;
using Tuwen.Data;

namespace Tuwen.Corpus;

/// <summary>Where emoji-zh was written and what was found while writing it.</summary>
public sealed record EmojiCorpusResult(string TrainDir, string ValidationDir, IReadOnlyList<string> ReportLines, IReadOnlyList<string> ZeroShotClasses, bool Reused);

/// <summary>
/// Writes emoji-zh as two webdataset shard sets, train/ and val/, under one directory. The styles and the
/// zero-shot classes go into each stats.json, so a later run can tell whether the corpus on disk is the
/// one it asks for and reuse it instead of rebuilding.
/// </summary>
public static class EmojiCorpusBuilder
{
    public static string DefaultDirectory => Path.Combine(TuwenPaths.Home, "corpora", "emoji-zh");

    public static EmojiCorpusResult Build(EmojiZhCorpusOptions options, string directory, int samplesPerShard = 1000, bool force = false, CancellationToken cancel = default)
    {
        var trainDir = Path.Combine(directory, "train");
        var valDir = Path.Combine(directory, "val");
        var styles = string.Join(",", options.Styles ?? EmojiZhCorpusOptions.DefaultStyles);
        var valStyles = string.Join(",", options.ValidationStyles ?? EmojiZhCorpusOptions.DefaultValidationStyles);
        if (!force && TryReuse(trainDir, valDir, styles, valStyles) is { } reused) return reused;

        var splits = EmojiZhCorpus.Open(options);
        var extra = new JsonObject
        {
            ["source"] = "emoji-zh",
            ["styles"] = styles,
            ["validation_styles"] = valStyles,
            ["zero_shot_classes"] = new JsonArray(splits.ZeroShotClasses.Select(c => (JsonNode)c).ToArray()),
            ["report"] = new JsonArray(splits.Report.Lines().Select(l => (JsonNode)l).ToArray()),
        };
        Write(splits.Train, trainDir, "emoji-zh-train", samplesPerShard, extra, cancel);
        Write(splits.Validation, valDir, "emoji-zh-val", samplesPerShard, extra, cancel);
        return new EmojiCorpusResult(trainDir, valDir, splits.Report.Lines().ToList(), splits.ZeroShotClasses, Reused: false);
    }

    private static void Write(IEnumerable<Sample> samples, string dir, string name, int samplesPerShard, JsonObject extra, CancellationToken cancel)
    {
        if (Directory.Exists(dir))
            foreach (var old in Directory.GetFiles(dir, "*.tar").Concat(Directory.GetFiles(dir, "stats.json"))) File.Delete(old);
        using var writer = new ShardWriter(dir, name, samplesPerShard);
        foreach (var (k, v) in extra) writer.Extra[k] = v?.DeepClone();
        foreach (var sample in samples)
        {
            cancel.ThrowIfCancellationRequested();
            writer.Write(sample);
        }
    }

    private static EmojiCorpusResult? TryReuse(string trainDir, string valDir, string styles, string valStyles)
    {
        var train = DatasetStats.TryRead(trainDir);
        var val = DatasetStats.TryRead(valDir);
        if (train is null || val is null) return null;
        bool Matches(DatasetStats s) => s.Extra["styles"]?.GetValue<string>() == styles && s.Extra["validation_styles"]?.GetValue<string>() == valStyles
            && s.Shards.All(sh => File.Exists(Path.Combine(s == train ? trainDir : valDir, sh.File)));
        if (!Matches(train) || !Matches(val)) return null;
        var classes = val.Extra["zero_shot_classes"]?.AsArray().Select(n => n!.GetValue<string>()).ToList() ?? [];
        var lines = val.Extra["report"]?.AsArray().Select(n => n!.GetValue<string>()).ToList() ?? [];
        return new EmojiCorpusResult(trainDir, valDir, lines, classes, Reused: true);
    }
}
