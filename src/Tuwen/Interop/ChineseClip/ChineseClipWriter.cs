using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tuwen.Data;

namespace Tuwen.Interop.ChineseClip;

/// <summary>
/// Writes Tuwen samples in Chinese-CLIP's raw layout: each sample is one image line in <c>{split}_imgs.tsv</c>
/// (streamed) and each caption one text in <c>{split}_texts.jsonl</c> (written on dispose, because a text
/// shared by several images — as read back from Chinese-CLIP data — must become one line naming them all).
/// Ids come from <see cref="ChineseClipDataset.ImageIdKey"/> / <see cref="ChineseClipDataset.TextIdsKey"/>
/// metadata when present, so a Chinese-CLIP → shards → Chinese-CLIP trip keeps them; otherwise new ones are
/// numbered from 1, skipping any already taken.
/// </summary>
public sealed class ChineseClipWriter : IDisposable
{
    private sealed class PendingText(long id, string text)
    {
        public long Id { get; } = id;
        public string Text { get; } = text;
        public List<long> ImageIds { get; } = [];
    }

    private readonly StreamWriter _images;
    private readonly string _textsPath;
    private readonly HashSet<long> _imageIds = [];
    private readonly Dictionary<long, PendingText> _texts = [];
    private readonly List<PendingText> _textOrder = [];
    private long _nextImageId = 1;
    private long _nextTextId = 1;
    private bool _disposed;

    public ChineseClipWriter(string directory, string split)
    {
        if (string.IsNullOrWhiteSpace(split) || split.IndexOfAny(['/', '\\']) >= 0)
            throw new TuwenException($"split name \"{split}\" must be non-empty without '/' or '\\'");
        Directory.CreateDirectory(directory);
        ImagesPath = ChineseClipDataset.ImagesPath(directory, split);
        _textsPath = ChineseClipDataset.TextsPath(directory, split);
        _images = new StreamWriter(ImagesPath, append: false, new UTF8Encoding(false)) { NewLine = "\n" };
    }

    public string ImagesPath { get; }
    public string TextsPath => _textsPath;
    public long Images => _imageIds.Count;
    public long Texts => _textOrder.Count;

    /// <summary>Writes one sample and returns the image id it was given.</summary>
    public long Write(Sample sample)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(sample);
        if (sample.Image is null || sample.Image.Length == 0) throw new TuwenException($"sample {sample.Key} has no image bytes");

        long imageId = OptionalLong(sample.Metadata[ChineseClipDataset.ImageIdKey], sample.Key) ?? NextFree(ref _nextImageId, _imageIds.Contains);
        if (!_imageIds.Add(imageId)) throw new TuwenException($"sample {sample.Key}: Chinese-CLIP image id {imageId} is already used by another sample");

        var textIds = sample.Metadata[ChineseClipDataset.TextIdsKey] as JsonArray;
        // Ids recorded for a different caption list (captions edited since) would pair texts wrongly; renumber instead.
        if (textIds is not null && textIds.Count != sample.Captions.Count) textIds = null;
        for (int i = 0; i < sample.Captions.Count; i++)
        {
            var caption = sample.Captions[i];
            long textId = (textIds is null ? null : OptionalLong(textIds[i], sample.Key)) ?? NextFree(ref _nextTextId, _texts.ContainsKey);
            if (!_texts.TryGetValue(textId, out var text))
            {
                _texts[textId] = text = new PendingText(textId, caption);
                _textOrder.Add(text);
            }
            else if (text.Text != caption)
            {
                throw new TuwenException($"sample {sample.Key}: text id {textId} is \"{caption}\" here but \"{text.Text}\" in an earlier sample");
            }
            if (!text.ImageIds.Contains(imageId)) text.ImageIds.Add(imageId);
        }

        _images.Write(imageId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        _images.Write('\t');
        // Standard alphabet, as in the released Chinese-CLIP files; their urlsafe_b64decode reads it unchanged.
        _images.Write(Convert.ToBase64String(sample.Image));
        _images.WriteLine();
        return imageId;
    }

    /// <summary>Closes the image file and writes the text file.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _images.Dispose();
        using var texts = new StreamWriter(_textsPath, append: false, new UTF8Encoding(false)) { NewLine = "\n" };
        // Chinese text stays readable in the file, as in Chinese-CLIP's own JSONL.
        var options = new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        foreach (var text in _textOrder)
        {
            var line = new JsonObject
            {
                ["text_id"] = text.Id,
                ["text"] = text.Text,
                ["image_ids"] = new JsonArray([.. text.ImageIds.Select(id => JsonValue.Create(id))]),
            };
            texts.WriteLine(line.ToJsonString(options));
        }
    }

    private static long NextFree(ref long next, Func<long, bool> taken)
    {
        while (taken(next)) next++;
        return next++;
    }

    private static long? OptionalLong(JsonNode? node, string key)
    {
        if (node is null) return null;
        if (node is JsonValue value && value.GetValueKind() == JsonValueKind.Number
            // Parsed through the JSON text because a value built in code may hold an int, which TryGetValue<long> refuses.
            && long.TryParse(value.ToJsonString(), System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out long n)) return n;
        throw new TuwenException($"sample {key}: Chinese-CLIP id metadata {node.ToJsonString()} is not an integer");
    }
}
