using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tuwen.Data;

namespace Tuwen.Interop.ChineseClip;

/// <summary>One line of Chinese-CLIP's <c>{split}_texts.jsonl</c>; <see cref="Source"/> is "file:line" for error messages.</summary>
public sealed record ChineseClipText(long TextId, string Text, IReadOnlyList<long> ImageIds, string Source);

/// <summary>What <see cref="ChineseClipDataset.ReadSamples"/> saw besides the samples it yielded.</summary>
public sealed class ChineseClipReadCounts
{
    public long Images { get; internal set; }
    public long Texts { get; internal set; }
    /// <summary>Texts with <c>"image_ids": []</c> (Chinese-CLIP's unlabeled test sets); they cannot become captions.</summary>
    public long UnlabeledTexts { get; internal set; }
    /// <summary>Images no text refers to; skipped because a Tuwen sample needs at least one caption.</summary>
    public long ImagesWithoutText { get; internal set; }
    public long Samples { get; internal set; }
}

/// <summary>
/// Chinese-CLIP's raw dataset layout (cn_clip/preprocess): <c>{split}_imgs.tsv</c> with lines
/// <c>image_id&lt;TAB&gt;base64(image bytes)</c> and <c>{split}_texts.jsonl</c> with lines
/// <c>{"text_id": int, "text": str, "image_ids": [int, …]}</c>. The image file is streamed line by line
/// because real splits are many gigabytes; the text file is held in memory since it is small by comparison
/// and every image needs to know which texts name it.
/// </summary>
public static class ChineseClipDataset
{
    public const string ImageIdKey = "cnclip_image_id";
    public const string TextIdsKey = "cnclip_text_ids";

    public static string ImagesPath(string directory, string split) => Path.Combine(directory, $"{split}_imgs.tsv");
    public static string TextsPath(string directory, string split) => Path.Combine(directory, $"{split}_texts.jsonl");

    /// <summary>Streams (image id, decoded bytes) from a <c>_imgs.tsv</c> file; fails on duplicate ids.</summary>
    public static IEnumerable<(long Id, byte[] Bytes)> ReadImages(string path)
    {
        var seen = new HashSet<long>();
        foreach (var (id, base64, source) in ReadImageLines(path))
        {
            if (!seen.Add(id)) throw new TuwenException($"{source}: image id {id} occurs twice");
            yield return (id, DecodeBase64(base64, source));
        }
    }

    /// <summary>Reads every line of a <c>_texts.jsonl</c> file; fails on malformed lines and duplicate text ids.</summary>
    public static IEnumerable<ChineseClipText> ReadTexts(string path)
    {
        var seen = new HashSet<long>();
        int lineNumber = 0;
        foreach (var line in OpenLines(path))
        {
            lineNumber++;
            if (line.Trim().Length == 0) continue;
            var source = $"{path}:{lineNumber}";
            var text = ParseText(line, source);
            if (!seen.Add(text.TextId)) throw new TuwenException($"{source}: text id {text.TextId} occurs twice");
            yield return text;
        }
    }

    /// <summary>
    /// One Tuwen sample per image that at least one text names, keyed <c>cnclip-{image_id}</c>, in TSV order.
    /// A text naming several images becomes a caption of each. The ids are kept in metadata
    /// (<see cref="ImageIdKey"/>, <see cref="TextIdsKey"/> aligned with the captions) so writing back restores them.
    /// </summary>
    public static IEnumerable<Sample> ReadSamples(string directory, string split, ChineseClipReadCounts? counts = null)
    {
        counts ??= new ChineseClipReadCounts();
        var imagesPath = ImagesPath(directory, split);
        var textsPath = TextsPath(directory, split);
        var byImage = new Dictionary<long, List<ChineseClipText>>();
        foreach (var text in ReadTexts(textsPath))
        {
            counts.Texts++;
            if (text.ImageIds.Count == 0) counts.UnlabeledTexts++;
            foreach (var id in text.ImageIds.Distinct())
            {
                if (!byImage.TryGetValue(id, out var list)) byImage[id] = list = [];
                list.Add(text);
            }
        }

        // A cheap id-only pass first, so dangling references and duplicate ids are reported before any
        // sample is handed on and a converter never leaves half a dataset behind for a broken input.
        var imageIds = new HashSet<long>();
        foreach (var (id, _, source) in ReadImageLines(imagesPath))
            if (!imageIds.Add(id)) throw new TuwenException($"{source}: image id {id} occurs twice");
        var dangling = byImage.Where(p => !imageIds.Contains(p.Key))
            .SelectMany(p => p.Value.Select(t => (ImageId: p.Key, Text: t))).OrderBy(d => d.Text.TextId).ToList();
        if (dangling.Count > 0)
        {
            var first = string.Join("; ", dangling.Take(5).Select(d => $"{d.Text.Source}: text {d.Text.TextId} names image {d.ImageId}"));
            throw new TuwenException($"{dangling.Count} text→image reference(s) name images missing from {imagesPath}: {first}");
        }

        foreach (var (id, base64, source) in ReadImageLines(imagesPath))
        {
            counts.Images++;
            if (!byImage.TryGetValue(id, out var texts))
            {
                counts.ImagesWithoutText++;
                continue;
            }
            var bytes = DecodeBase64(base64, source);
            var extension = ImageFormats.Sniff(bytes) ?? throw new TuwenException($"{source}: image {id} is not a JPEG, PNG, WebP or GIF");
            var metadata = new JsonObject
            {
                ["source"] = "cnclip",
                [ImageIdKey] = id,
                [TextIdsKey] = new JsonArray([.. texts.Select(t => JsonValue.Create(t.TextId))]),
            };
            counts.Samples++;
            yield return Sample.Create($"cnclip-{id}", bytes, extension, [.. texts.Select(t => t.Text)], metadata);
        }
    }

    /// <summary>
    /// Chinese-CLIP decodes with Python's urlsafe_b64decode, which also accepts the standard alphabet; the
    /// released files use the standard one. Both are accepted here, padding optional.
    /// </summary>
    internal static byte[] DecodeBase64(string base64, string source)
    {
        var builder = new StringBuilder(base64.Length + 3);
        foreach (var c in base64)
            builder.Append(c switch { '-' => '+', '_' => '/', _ => c });
        while (builder.Length % 4 != 0) builder.Append('=');
        try
        {
            var bytes = Convert.FromBase64String(builder.ToString());
            if (bytes.Length == 0) throw new TuwenException($"{source}: empty image");
            return bytes;
        }
        catch (FormatException)
        {
            throw new TuwenException($"{source}: image data is not valid base64");
        }
    }

    /// <summary>TSV lines split into id and still-encoded payload, so the id pass does not decode images.</summary>
    private static IEnumerable<(long Id, string Base64, string Source)> ReadImageLines(string path)
    {
        int lineNumber = 0;
        foreach (var line in OpenLines(path))
        {
            lineNumber++;
            if (line.Trim().Length == 0) continue;
            var source = $"{path}:{lineNumber}";
            int tab = line.IndexOf('\t');
            if (tab < 0) throw new TuwenException($"{source}: expected image_id<TAB>base64");
            if (!long.TryParse(line.AsSpan(0, tab).Trim(), out long id))
                throw new TuwenException($"{source}: image id \"{line[..Math.Min(tab, 40)]}\" is not an integer");
            yield return (id, line[(tab + 1)..].Trim(), source);
        }
    }

    private static IEnumerable<string> OpenLines(string path)
    {
        if (!File.Exists(path)) throw new TuwenException($"Chinese-CLIP dataset file not found: {path}");
        return File.ReadLines(path, Encoding.UTF8);
    }

    private static ChineseClipText ParseText(string line, string source)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(line);
        }
        catch (JsonException e)
        {
            throw new TuwenException($"{source}: not valid JSON ({e.Message})");
        }
        if (node is not JsonObject obj) throw new TuwenException($"{source}: expected a JSON object");
        long textId = ReadInteger(obj["text_id"], "text_id", source);
        var text = obj["text"] is JsonValue v && v.TryGetValue(out string? s) ? s
            : throw new TuwenException($"{source}: missing or non-string \"text\"");
        if (obj["image_ids"] is not JsonArray ids) throw new TuwenException($"{source}: missing or non-array \"image_ids\"");
        var imageIds = ids.Select(id => ReadInteger(id, "image_ids entry", source)).ToList();
        return new ChineseClipText(textId, text, imageIds, source);
    }

    private static long ReadInteger(JsonNode? node, string field, string source)
    {
        if (node is JsonValue value && value.GetValueKind() == JsonValueKind.Number
            // Parsed through the JSON text because a value built in code may hold an int, which TryGetValue<long> refuses.
            && long.TryParse(value.ToJsonString(), System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out long n)) return n;
        throw new TuwenException(node is null ? $"{source}: missing \"{field}\"" : $"{source}: \"{field}\" is not an integer");
    }
}
