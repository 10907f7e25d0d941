using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Tuwen.Corpus;

/// <summary>A Chinese name for one emoji, its keywords, and which catalogue it came from.</summary>
public sealed record EmojiZhName(string Name, IReadOnlyList<string> Keywords, string Source);

/// <summary>An emoji group: the emojibase key (e.g. "smileys-emotion") and its Chinese name (笑脸).</summary>
public sealed record EmojiZhGroup(string Key, string Name, int Order);

/// <summary>
/// The Chinese names, keywords and groups of emoji from CLDR (annotations, annotationsDerived) and emojibase,
/// joined by code-point sequence. U+FE0F is dropped from every sequence: emoji-datasource spells "2764-FE0F",
/// CLDR keys the bare "❤", and emojibase varies; the selector only asks for emoji presentation, it does not
/// make a different emoji.
/// </summary>
public sealed class EmojiZhNames
{
    public const string CldrSource = "cldr";
    public const string CldrDerivedSource = "cldr-derived";
    public const string EmojibaseSource = "emojibase";

    public const string CldrPackName = "cldr-annotations-full";
    public const string CldrDerivedPackName = "cldr-annotations-derived-full";
    public const string CldrPackVersion = "48.2.0";
    public const string EmojibasePackName = "emojibase-data";
    public const string EmojibasePackVersion = "17.0.0";

    private const int VariationSelector16 = 0xFE0F;

    private readonly Dictionary<string, CldrEntry> _cldr;
    private readonly Dictionary<string, CldrEntry> _cldrDerived;
    private readonly Dictionary<string, EmojibaseEntry> _emojibase;
    private readonly Dictionary<int, EmojiZhGroup> _groupsByNumber;
    private readonly Dictionary<string, EmojiZhGroup> _groupsByKey;
    private readonly Dictionary<string, string> _subgroupNames;

    private EmojiZhNames(
        Dictionary<string, CldrEntry> cldr, Dictionary<string, CldrEntry> cldrDerived,
        Dictionary<string, EmojibaseEntry> emojibase, IReadOnlyList<EmojiZhGroup> groups,
        Dictionary<string, string> subgroupNames)
    {
        _cldr = cldr;
        _cldrDerived = cldrDerived;
        _emojibase = emojibase;
        Groups = groups;
        _groupsByNumber = groups.ToDictionary(g => g.Order);
        _groupsByKey = groups.ToDictionary(g => g.Key, StringComparer.Ordinal);
        _subgroupNames = subgroupNames;
    }

    /// <summary>All emojibase groups in emojibase's order (the order of the Unicode emoji charts).</summary>
    public IReadOnlyList<EmojiZhGroup> Groups { get; }

    /// <summary>Reads the pinned CLDR and emojibase packs from the npm folder (default $TUWEN_HOME/npm).</summary>
    public static EmojiZhNames Load(string? npmFolder = null)
    {
        const string cldrPath = "annotations/zh/annotations.json";
        const string derivedPath = "annotationsDerived/zh/annotations.json";
        const string dataPath = "zh/data.json";
        const string messagesPath = "zh/messages.json";
        var cldr = NpmPack.Locate(CldrPackName, CldrPackVersion, npmFolder);
        var derived = NpmPack.Locate(CldrDerivedPackName, CldrPackVersion, npmFolder);
        var emojibase = NpmPack.Locate(EmojibasePackName, EmojibasePackVersion, npmFolder);
        var emojibaseFiles = emojibase.ReadFiles(dataPath, messagesPath);
        return FromJson(
            cldr.ReadJson(cldrPath),
            derived.ReadJson(derivedPath),
            emojibase.ParseJson(dataPath, emojibaseFiles[dataPath]),
            emojibase.ParseJson(messagesPath, emojibaseFiles[messagesPath]));
    }

    /// <summary>
    /// Builds the catalogue from the four documents as the packs ship them: CLDR
    /// {"annotations": {"annotations": {EMOJI: {"default": [...], "tts": [...]}}}} (derived: "annotationsDerived"),
    /// emojibase data.json [{hexcode, label, tags, group, subgroup, skins: [...]}] and messages.json
    /// {"groups": [{key, message, order}], "subgroups": [...]}.
    /// </summary>
    public static EmojiZhNames FromJson(JsonNode cldrAnnotations, JsonNode cldrDerived, JsonNode emojibaseData, JsonNode emojibaseMessages)
    {
        var groups = ReadMessages(emojibaseMessages["groups"])
            .Select(m => new EmojiZhGroup(m.Key, m.Message, m.Order))
            .OrderBy(g => g.Order)
            .ToList();
        return new EmojiZhNames(
            ReadCldr(cldrAnnotations["annotations"]?["annotations"]),
            ReadCldr(cldrDerived["annotationsDerived"]?["annotations"]),
            ReadEmojibase(emojibaseData),
            groups,
            ReadMessages(emojibaseMessages["subgroups"]).ToDictionary(s => s.Key, s => s.Message, StringComparer.Ordinal));
    }

    /// <summary>"2764-FE0F" → "2764", "1F44D-1F3FB" → "1f44d-1f3fb": lower-case hex, U+FE0F dropped.</summary>
    public static string SequenceKey(string unifiedHex)
    {
        var codePoints = unifiedHex.Split('-', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(h => int.Parse(h, NumberStyles.HexNumber, CultureInfo.InvariantCulture))
            .Where(c => c != VariationSelector16);
        return string.Join('-', codePoints.Select(c => c.ToString("x", CultureInfo.InvariantCulture)));
    }

    /// <summary>The same key for emoji text ("❤️" → "2764").</summary>
    public static string SequenceKeyOfText(string emoji)
    {
        var codePoints = emoji.EnumerateRunes().Select(r => r.Value).Where(c => c != VariationSelector16);
        return string.Join('-', codePoints.Select(c => c.ToString("x", CultureInfo.InvariantCulture)));
    }

    /// <summary>
    /// The Chinese name of a sequence: CLDR's spoken name (tts) first, as the reviewed translation; then CLDR
    /// derived (skin tones, keycaps, families …); then emojibase's label. Keywords come with the name: CLDR's
    /// "default" list, or emojibase's tags where CLDR has none.
    /// </summary>
    public EmojiZhName? FindName(string unifiedHex)
    {
        var key = SequenceKey(unifiedHex);
        _emojibase.TryGetValue(key, out var emojibase);
        if (_cldr.TryGetValue(key, out var cldr)) return FromCldr(cldr, CldrSource, emojibase);
        if (_cldrDerived.TryGetValue(key, out var derived)) return FromCldr(derived, CldrDerivedSource, emojibase);
        if (emojibase is { Label.Length: > 0 }) return new EmojiZhName(emojibase.Label, emojibase.Tags, EmojibaseSource);
        return null;
    }

    /// <summary>
    /// The group of a sequence: emojibase's own group for it, else the group whose key matches emoji-datasource's
    /// category ("Smileys &amp; Emotion" → smileys-emotion). Null only if neither is known.
    /// </summary>
    public EmojiZhGroup? FindGroup(string unifiedHex, string category)
    {
        if (_emojibase.TryGetValue(SequenceKey(unifiedHex), out var entry)
            && entry.Group is { } number && _groupsByNumber.TryGetValue(number, out var group))
        {
            return group;
        }
        return _groupsByKey.GetValueOrDefault(Slug(category));
    }

    /// <summary>The Chinese name of an emoji-datasource subcategory ("sky &amp; weather"), or the subcategory itself.</summary>
    public string SubgroupName(string subcategory)
        => _subgroupNames.TryGetValue(Slug(subcategory), out var name) && name.Length > 0 ? name : subcategory;

    /// <summary>"Smileys &amp; Emotion" → "smileys-emotion", "sky &amp; weather" → "sky-weather" (emojibase's keys).</summary>
    public static string Slug(string category)
    {
        var slug = new StringBuilder();
        foreach (var word in category.ToLowerInvariant().Split([' ', '&', '-'], StringSplitOptions.RemoveEmptyEntries))
        {
            if (slug.Length > 0) slug.Append('-');
            slug.Append(word);
        }
        return slug.ToString();
    }

    private static EmojiZhName FromCldr(CldrEntry cldr, string source, EmojibaseEntry? emojibase)
    {
        var keywords = cldr.Keywords.Count > 0 ? cldr.Keywords : emojibase?.Tags ?? [];
        return new EmojiZhName(cldr.Name, keywords, source);
    }

    private static Dictionary<string, CldrEntry> ReadCldr(JsonNode? annotations)
    {
        var entries = new Dictionary<string, CldrEntry>(StringComparer.Ordinal);
        if (annotations is not JsonObject byEmoji) return entries;
        foreach (var (emoji, value) in byEmoji)
        {
            var name = Strings(value?["tts"]).FirstOrDefault();
            if (string.IsNullOrWhiteSpace(name)) continue;
            entries[SequenceKeyOfText(emoji)] = new CldrEntry(name, Strings(value?["default"]));
        }
        return entries;
    }

    private static Dictionary<string, EmojibaseEntry> ReadEmojibase(JsonNode data)
    {
        var entries = new Dictionary<string, EmojibaseEntry>(StringComparer.Ordinal);
        if (data is not JsonArray emojis) return entries;
        foreach (var emoji in emojis.OfType<JsonObject>())
        {
            var parent = AddEmojibase(entries, emoji, inheritedTags: []);
            if (parent is null || emoji["skins"] is not JsonArray skins) continue;
            // Skins carry no tags of their own; a thumbs-up in any skin tone means what the thumbs-up means.
            foreach (var skin in skins.OfType<JsonObject>()) AddEmojibase(entries, skin, parent.Tags);
        }
        return entries;
    }

    private static EmojibaseEntry? AddEmojibase(Dictionary<string, EmojibaseEntry> entries, JsonObject emoji, IReadOnlyList<string> inheritedTags)
    {
        if (emoji["hexcode"]?.GetValue<string>() is not { Length: > 0 } hexcode) return null;
        var tags = Strings(emoji["tags"]);
        var entry = new EmojibaseEntry(
            emoji["label"]?.GetValue<string>() ?? "",
            tags.Count > 0 ? tags : inheritedTags,
            emoji["group"]?.GetValue<int>());
        entries[SequenceKey(hexcode)] = entry;
        return entry;
    }

    private static IEnumerable<(string Key, string Message, int Order)> ReadMessages(JsonNode? messages)
    {
        if (messages is not JsonArray array) yield break;
        foreach (var message in array.OfType<JsonObject>())
        {
            if (message["key"]?.GetValue<string>() is not { } key || message["order"] is not { } order) continue;
            yield return (key, message["message"]?.GetValue<string>() ?? "", order.GetValue<int>());
        }
    }

    private static IReadOnlyList<string> Strings(JsonNode? array)
        => array is JsonArray items
            ? items.Select(i => i?.GetValue<string>()).OfType<string>().Where(s => s.Length > 0).ToList()
            : [];

    private sealed record CldrEntry(string Name, IReadOnlyList<string> Keywords);

    private sealed record EmojibaseEntry(string Label, IReadOnlyList<string> Tags, int? Group);
}
