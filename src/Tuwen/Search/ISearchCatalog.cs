namespace Tuwen.Search;

/// <summary>What an index directory knows about one stored item besides its vector.</summary>
public sealed record CatalogItem(long Id, string Key, string? Caption, IReadOnlyList<string> Captions, string? Source);

/// <summary>
/// An opened index directory (`tuwen index build`): the image vectors, optionally the text vectors, the
/// metadata of both, thumbnails, and the checkpoint that made them (so the server embeds queries with the
/// same model). The server depends on this interface only.
/// </summary>
public interface ISearchCatalog : IDisposable
{
    /// <summary>The checkpoint (or ONNX export) directory and runtime name the vectors were made with.</summary>
    string ModelPath { get; }

    string Runtime { get; }

    IVectorIndex Images { get; }

    /// <summary>Null when the index was built without texts (image→text search then answers 400).</summary>
    IVectorIndex? Texts { get; }

    CatalogItem? Image(long id);

    CatalogItem? Text(long id);

    /// <summary>A small JPEG of the image (longest side ≤ 256 px), or null for an unknown id.</summary>
    byte[]? Thumbnail(long imageId);

    /// <summary>Adds one image (already embedded, L2-normalised) with its bytes and caption; returns its new id.</summary>
    long AddImage(ReadOnlySpan<float> vector, byte[] imageBytes, string? caption, string key);

    /// <summary>Deletes images by id; returns how many existed.</summary>
    long DeleteImages(ReadOnlySpan<long> ids);
}
