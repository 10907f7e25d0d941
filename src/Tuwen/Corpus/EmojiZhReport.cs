namespace Tuwen.Corpus;

/// <summary>A zero-shot class: an emoji group and how many validation images it has.</summary>
public sealed record EmojiZhGroupCount(string Key, string Name, int Images);

/// <summary>What building emoji-zh found, per style of each split, and the zero-shot classes.</summary>
public sealed record EmojiZhReport(
    IReadOnlyList<EmojiZhStyleCounts> Train, IReadOnlyList<EmojiZhStyleCounts> Validation, IReadOnlyList<EmojiZhGroupCount> ZeroShotGroups)
{
    public int TrainPairs => Train.Sum(c => c.Pairs);
    public int ValidationPairs => Validation.Sum(c => c.Pairs);

    /// <summary>Lines for a person: one per style, then the classes.</summary>
    public IEnumerable<string> Lines()
    {
        foreach (var (split, counts) in Train.Select(c => ("train", c)).Concat(Validation.Select(c => ("validation", c))))
        {
            var line = $"{split} {counts.Style}: {counts.Pairs} pairs of {counts.Listed} listed images, {counts.Unnamed} without a Chinese name";
            if (counts.Unnamed > 0) line += $" (e.g. {string.Join(", ", counts.UnnamedExamples)})";
            line += $", {counts.MissingFromPack} missing from the pack";
            if (counts.MissingFromPack > 0) line += $" (e.g. {string.Join(", ", counts.MissingExamples)})";
            if (counts.UnlistedInPack > 0) line += $", {counts.UnlistedInPack} in the pack but not in emoji.json";
            yield return line;
        }
        yield return $"train {TrainPairs} pairs, validation {ValidationPairs} pairs";
        yield return "zero-shot classes: " + string.Join("、", ZeroShotGroups.Select(g => $"{g.Name}({g.Images})"));
    }
}
