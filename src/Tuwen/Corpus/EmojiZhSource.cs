using System.Text.Json.Nodes;
using Tuwen.Data;

namespace Tuwen.Corpus;

/// <summary>One 64-px image that emoji-datasource's emoji.json says a style has (skin-tone variations included).</summary>
public sealed record EmojiDatasourceImage(string Unified, string ImageFile, string Category, string Subcategory);

/// <summary>A sample decided before its image bytes are read: everything but the PNG.</summary>
public sealed record EmojiZhPlannedSample(
    string Key, string Style, string ImagePath, string Unified, IReadOnlyList<string> Captions,
    EmojiZhGroup Group, string Category, string Subgroup, string NameSource);

/// <summary>What one style's pack gave: images emoji.json lists, pairs, and why the rest were not pairs.</summary>
public sealed record EmojiZhStyleCounts(
    string Style, int Listed, int Pairs, int Unnamed, IReadOnlyList<string> UnnamedExamples,
    int MissingFromPack, IReadOnlyList<string> MissingExamples, int UnlistedInPack);

/// <summary>The plan of one style: its samples in emoji.json order, and the counts.</summary>
public sealed record EmojiZhStylePlan(string Style, IReadOnlyList<EmojiZhPlannedSample> Samples, EmojiZhStyleCounts Counts);

/// <summary>
/// Emoji images of some drawing styles (emoji-datasource-STYLE packs) paired with Chinese names and keywords.
/// Opening a source scans each style's pack once for emoji.json and the list of images, so the counts are
/// known before any sample is produced; <see cref="Samples"/> then streams each pack a second time and
/// yields samples as their PNGs come by, holding no more than one image at a time.
/// </summary>
public sealed class EmojiZhSource
{
    public const string PackVersion = "16.0.0";
    public const string SourceName = "emoji-zh";
    private const int ExamplesKept = 5;

    /// <summary>The styles emoji-datasource draws, in the order the set-up knows them.</summary>
    public static IReadOnlyList<string> KnownStyles { get; } = ["google", "twitter", "facebook", "apple"];

    // The set-up fetches these three; apple's pack only when asked through TUWEN_EXTRA_PACKS.
    private static readonly HashSet<string> StylesFetchedBySetup = ["google", "twitter", "facebook"];

    private readonly IReadOnlyList<(EmojiZhStylePlan Plan, NpmPack Pack)> _styles;

    private EmojiZhSource(IReadOnlyList<(EmojiZhStylePlan Plan, NpmPack Pack)> styles) => _styles = styles;

    public IReadOnlyList<EmojiZhStyleCounts> Counts => _styles.Select(s => s.Plan.Counts).ToList();

    public IReadOnlyList<EmojiZhStylePlan> Plans => _styles.Select(s => s.Plan).ToList();

    public static string PackName(string style) => $"emoji-datasource-{style}";

    /// <summary>Locates and scans the packs of <paramref name="styles"/> in $TUWEN_HOME/npm (or <paramref name="npmFolder"/>).</summary>
    public static EmojiZhSource Open(IEnumerable<string> styles, EmojiZhNames names, string? npmFolder = null)
    {
        var normalized = NormalizeStyles(styles);
        var packs = normalized
            .Select(style => (Style: style, Pack: NpmPack.Locate(PackName(style), PackVersion, npmFolder, StylesFetchedBySetup.Contains(style))))
            .ToList();
        return new EmojiZhSource(packs.Select(p => (Scan(p.Style, p.Pack, names), p.Pack)).ToList());
    }

    /// <summary>Lower-cases, drops repeats, and rejects a style emoji-datasource does not draw.</summary>
    public static IReadOnlyList<string> NormalizeStyles(IEnumerable<string> styles)
    {
        var normalized = styles.Select(s => s.Trim().ToLowerInvariant()).Where(s => s.Length > 0).Distinct().ToList();
        foreach (var style in normalized.Where(s => !KnownStyles.Contains(s)))
            throw new TuwenException($"unknown emoji style '{style}'; valid styles: {string.Join(", ", KnownStyles)}");
        if (normalized.Count == 0)
            throw new TuwenException($"no emoji style given; valid styles: {string.Join(", ", KnownStyles)}");
        return normalized;
    }

    /// <summary>The samples of every style in turn, in the order their PNGs lie in the tarball.</summary>
    public IEnumerable<Sample> Samples()
    {
        foreach (var (plan, pack) in _styles)
        {
            var byPath = plan.Samples.ToDictionary(s => s.ImagePath, StringComparer.Ordinal);
            foreach (var entry in pack.ReadEntries(byPath.ContainsKey))
                yield return ToSample(byPath[entry.Path], entry.Content!);
        }
    }

    public static Sample ToSample(EmojiZhPlannedSample planned, byte[] png)
    {
        // A fresh metadata object per sample: writers add to it, and a second enumeration must not see that.
        var metadata = new JsonObject
        {
            ["style"] = planned.Style,
            ["unified"] = planned.Unified,
            ["group"] = planned.Group.Name,
            ["group_en"] = planned.Category,
            ["subgroup"] = planned.Subgroup,
            ["name_source"] = planned.NameSource,
            ["source"] = SourceName,
        };
        return Sample.Create(planned.Key, png, "png", planned.Captions, metadata);
    }

    /// <summary>
    /// Joins one style's images to Chinese names: pure, so it can be tried on hand-made documents.
    /// <paramref name="packPaths"/> are the pack's file paths below `package/`.
    /// </summary>
    public static EmojiZhStylePlan Plan(string style, JsonNode emojiJson, IReadOnlySet<string> packPaths, EmojiZhNames names)
    {
        var images = ListImages(emojiJson, style);
        var planned = new List<EmojiZhPlannedSample>();
        var unnamed = new List<string>();
        var missing = new List<string>();
        foreach (var image in images)
        {
            var imagePath = ImagePath(style, image.ImageFile);
            if (!packPaths.Contains(imagePath))
            {
                missing.Add(image.Unified);
                continue;
            }
            if (names.FindName(image.Unified) is not { } name)
            {
                unnamed.Add(image.Unified);
                continue;
            }
            var unified = image.Unified.ToLowerInvariant();
            var group = names.FindGroup(image.Unified, image.Category)
                ?? new EmojiZhGroup(EmojiZhNames.Slug(image.Category), image.Category, int.MaxValue);
            planned.Add(new EmojiZhPlannedSample(
                $"{style}_{unified}", style, imagePath, unified, Captions(name),
                group, image.Category, names.SubgroupName(image.Subcategory), name.Source));
        }
        var listedPaths = images.Select(i => ImagePath(style, i.ImageFile)).ToHashSet(StringComparer.Ordinal);
        var imagePrefix = ImagePath(style, "");
        var unlisted = packPaths.Count(p => p.StartsWith(imagePrefix, StringComparison.Ordinal) && p.EndsWith(".png", StringComparison.Ordinal) && !listedPaths.Contains(p));
        var counts = new EmojiZhStyleCounts(
            style, images.Count, planned.Count, unnamed.Count, unnamed.Take(ExamplesKept).ToList(),
            missing.Count, missing.Take(ExamplesKept).ToList(), unlisted);
        return new EmojiZhStylePlan(style, planned, counts);
    }

    /// <summary>
    /// [the name, a phrase from the keywords]. The phrase quotes the name and lists the keywords that are not
    /// the name or one of its colon-separated parts (“红心”表情：心、爱): a second wording that still agrees
    /// with the first, carrying the words people use for the emoji (高兴, 赞). Shorter words inside the name
    /// (心 in 红心, 拇指 in 拇指向上) stay: they are what ties one heart or one thumb to the others. The
    /// full-width quotes keep CLDR names with a colon ("拇指向上: 较浅肤色") readable as one unit; 表情 is
    /// what Chinese speakers call an emoji in chat.
    /// </summary>
    public static IReadOnlyList<string> Captions(EmojiZhName name)
    {
        var nameParts = name.Name.Split([':', '：'], StringSplitOptions.TrimEntries).Append(name.Name).ToHashSet(StringComparer.Ordinal);
        var extra = name.Keywords
            .Select(k => k.Trim())
            .Where(k => k.Length > 0 && !nameParts.Contains(k))
            .Distinct(StringComparer.Ordinal)
            .ToList();
        var phrase = extra.Count > 0 ? $"“{name.Name}”表情：{string.Join("、", extra)}" : $"“{name.Name}”表情";
        return [name.Name, phrase];
    }

    /// <summary>The images emoji.json marks has_img_STYLE, each base emoji followed by its skin-tone variations.</summary>
    public static IReadOnlyList<EmojiDatasourceImage> ListImages(JsonNode emojiJson, string style)
    {
        var hasImage = $"has_img_{style}";
        var images = new List<EmojiDatasourceImage>();
        if (emojiJson is not JsonArray emojis) return images;
        foreach (var emoji in emojis.OfType<JsonObject>())
        {
            var category = emoji["category"]?.GetValue<string>() ?? "";
            var subcategory = emoji["subcategory"]?.GetValue<string>() ?? "";
            AddIfDrawn(images, emoji, hasImage, category, subcategory);
            if (emoji["skin_variations"] is not JsonObject variations) continue;
            foreach (var (_, variation) in variations)
            {
                if (variation is JsonObject v) AddIfDrawn(images, v, hasImage, category, subcategory);
            }
        }
        return images;
    }

    private static void AddIfDrawn(List<EmojiDatasourceImage> images, JsonObject emoji, string hasImage, string category, string subcategory)
    {
        if (emoji[hasImage]?.GetValue<bool>() != true) return;
        if (emoji["unified"]?.GetValue<string>() is not { Length: > 0 } unified) return;
        var file = emoji["image"]?.GetValue<string>() ?? $"{unified.ToLowerInvariant()}.png";
        images.Add(new EmojiDatasourceImage(unified, file, category, subcategory));
    }

    private static string ImagePath(string style, string imageFile) => $"img/{style}/64/{imageFile}";

    private static EmojiZhStylePlan Scan(string style, NpmPack pack, EmojiZhNames names)
    {
        const string emojiJsonPath = "emoji.json";
        byte[]? emojiJson = null;
        var paths = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in pack.Scan(p => p == emojiJsonPath))
        {
            paths.Add(entry.Path);
            emojiJson ??= entry.Content;
        }
        if (emojiJson is null)
            throw new TuwenException($"{pack.FilePath} has no {emojiJsonPath}; delete it and run the set-up (`./tuwen`) to fetch it again");
        return Plan(style, pack.ParseJson(emojiJsonPath, emojiJson), paths, names);
    }
}
