using System.Text.Json.Serialization;

namespace Tuwen.Inference;

/// <summary>
/// One row of <c>metadata/metadata_N.parquet</c>, aligned with row i of <c>img_emb/img_emb_N.npy</c>
/// (clip-retrieval's layout: <c>image_path</c> and <c>caption</c> columns, plus ours).
/// </summary>
public sealed class ImageEmbeddingRow
{
    /// <summary>Sample key (shards), path relative to the folder (image folder) or image id (Chinese-CLIP).</summary>
    [JsonPropertyName("key")] public string Key { get; set; } = "";
    /// <summary>Where the image is: the file path, or "shard.tar/key.ext" inside a shard, or "split_imgs.tsv#id".</summary>
    [JsonPropertyName("image_path")] public string ImagePath { get; set; } = "";
    /// <summary>The sample's first caption, if any (clip-retrieval's single caption column).</summary>
    [JsonPropertyName("caption")] public string? Caption { get; set; }
    /// <summary>All captions joined with newlines (shards hold several per image).</summary>
    [JsonPropertyName("captions")] public string? Captions { get; set; }
    /// <summary>The file the image was read from (shard, folder or TSV).</summary>
    [JsonPropertyName("source")] public string Source { get; set; } = "";
    /// <summary>Chinese-CLIP image id, when read from its dataset.</summary>
    [JsonPropertyName("image_id")] public long? ImageId { get; set; }
}

/// <summary>One row of <c>text_metadata/text_metadata_N.parquet</c>, aligned with row i of <c>text_emb/text_emb_N.npy</c>.</summary>
public sealed class TextEmbeddingRow
{
    /// <summary>The key of the image this caption belongs to (shards), or the text id (Chinese-CLIP).</summary>
    [JsonPropertyName("key")] public string Key { get; set; } = "";
    [JsonPropertyName("caption")] public string Caption { get; set; } = "";
    [JsonPropertyName("source")] public string Source { get; set; } = "";
    /// <summary>Chinese-CLIP text id, when read from its dataset.</summary>
    [JsonPropertyName("text_id")] public long? TextId { get; set; }
    /// <summary>Chinese-CLIP image ids of the text, space-separated, when read from its dataset.</summary>
    [JsonPropertyName("image_ids")] public string? ImageIds { get; set; }
}

/// <summary>An image to embed: its metadata row and a way to read its bytes (called on the reading thread).</summary>
public sealed record EmbedImage(ImageEmbeddingRow Row, Func<byte[]> Read);
