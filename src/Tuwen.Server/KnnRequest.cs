using System.Text.Json.Serialization;

namespace Tuwen.Server;

/// <summary>
/// The body of POST /knn-service. Field names follow clip-retrieval's back end (text, image as base64,
/// image_url, embedding_input, modality, num_images, num_result_ids, deduplicate, indice_name) so its clients
/// can switch; image_id and rerank are Tuwen's additions. Exactly one query field may be given.
/// </summary>
public sealed record KnnRequest
{
    [JsonPropertyName("text")] public string? Text { get; init; }

    /// <summary>Base64 of a JPEG, PNG, GIF or WebP file (a data: URL prefix is accepted).</summary>
    [JsonPropertyName("image")] public string? Image { get; init; }

    [JsonPropertyName("image_url")] public string? ImageUrl { get; init; }

    /// <summary>A stored image's id: "more like this".</summary>
    [JsonPropertyName("image_id")] public string? ImageId { get; init; }

    [JsonPropertyName("embedding_input")] public float[]? Embedding { get; init; }

    /// <summary>"image" (search the images, default) or "text" (search the captions).</summary>
    [JsonPropertyName("modality")] public string? Modality { get; init; }

    [JsonPropertyName("num_images")] public int? NumImages { get; init; }

    /// <summary>clip-retrieval's candidate count before filtering; here the floor of the candidates searched.</summary>
    [JsonPropertyName("num_result_ids")] public int? NumResultIds { get; init; }

    [JsonPropertyName("deduplicate")] public bool? Deduplicate { get; init; }

    /// <summary>Re-rank the top K with the R2D2 cross encoders (0 or absent: no re-ranking).</summary>
    [JsonPropertyName("rerank")] public int? Rerank { get; init; }

    [JsonPropertyName("indice_name")] public string? IndiceName { get; init; }
}

/// <summary>One result, as clip-retrieval returns it (id, similarity, caption, url) plus Tuwen's scores.</summary>
public sealed record KnnResult(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("similarity")] float Similarity,
    [property: JsonPropertyName("caption")] string? Caption,
    [property: JsonPropertyName("url")] string? Url,
    [property: JsonPropertyName("key")] string? Key,
    [property: JsonPropertyName("cosine")] float Cosine,
    [property: JsonPropertyName("match_probability")] float? MatchProbability);

/// <summary>POST /metadata, as clip-retrieval's: ids → their stored metadata.</summary>
public sealed record MetadataRequest([property: JsonPropertyName("ids")] string[]? Ids, [property: JsonPropertyName("modality")] string? Modality);

/// <summary>POST /admin/images: one image to add to the index.</summary>
public sealed record AddImageRequest(
    [property: JsonPropertyName("image")] string? Image,
    [property: JsonPropertyName("caption")] string? Caption,
    [property: JsonPropertyName("key")] string? Key);

/// <summary>POST /admin/delete: ids to remove from the index.</summary>
public sealed record DeleteImagesRequest([property: JsonPropertyName("ids")] string[]? Ids);
