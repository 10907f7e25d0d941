using Tuwen.Data;
using Tuwen.Inference;
using Tuwen.Search;

namespace Tuwen.Server;

/// <summary>
/// What the endpoints search with: the catalog (vectors + metadata + thumbnails), the embedding runtime of the
/// model that made its vectors, and — when that model is an R2D2 checkpoint — the cross-encoder re-ranker.
/// Model calls are serialised (one forward at a time uses all cores better than interleaved ones) and run off
/// the request threads; index reads run concurrently, index changes exclusively.
/// </summary>
public sealed class SearchService : IDisposable
{
    private readonly SemaphoreSlim _model = new(1, 1);
    private readonly ReaderWriterLockSlim _index = new();
    private readonly ImageTransform _transform;
    private readonly bool _ownsParts;

    public SearchService(ISearchCatalog catalog, IEmbeddingRuntime runtime, bool ownsParts = true)
    {
        Catalog = catalog;
        Runtime = runtime;
        _ownsParts = ownsParts;
        if (catalog.Images.Dim != runtime.EmbedDim)
            throw new TuwenException($"the index holds {catalog.Images.Dim}-d vectors but the model {catalog.ModelPath} makes {runtime.EmbedDim}-d ones");
        _transform = ImageTransform.ForEval(runtime.ImageSize);
        Reranker = CrossEncoderReranker.For(runtime, _transform);
    }

    /// <summary>Opens the catalog's own model (ModelPath with its Runtime).</summary>
    public static SearchService Open(ISearchCatalog catalog) => new(catalog, EmbeddingRuntimes.Open(catalog.Runtime, catalog.ModelPath));

    public ISearchCatalog Catalog { get; }

    public IEmbeddingRuntime Runtime { get; }

    /// <summary>Null unless the checkpoint is an R2D2 one.</summary>
    public CrossEncoderReranker? Reranker { get; }

    public string? RerankUnavailableReason => Reranker == null
        ? $"re-ranking needs an R2D2 checkpoint (with cross encoders); this index was made with a {Runtime.Name} model without them"
        : null;

    public Task<float[]> EmbedTextAsync(string text) => OnModelAsync(() =>
    {
        var ids = Runtime.Tokenizer.Encode(text, Runtime.ContextLength);
        return Normalised(Runtime.EmbedTexts(ids, 1));
    });

    public Task<float[]> EmbedImageAsync(byte[] encoded) => OnModelAsync(() => Normalised(Runtime.EmbedImages(Pixels(encoded), 1)));

    /// <summary>Decodes and pre-processes an (already sniffed) image; a file that does not decode is the client's fault.</summary>
    public float[] Pixels(byte[] encoded)
    {
        try { return _transform.Apply(encoded); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw ApiRejection.BadRequest("image: the file does not decode as an image");
        }
    }

    /// <summary>Runs a model call on a pool thread, one at a time.</summary>
    public async Task<T> OnModelAsync<T>(Func<T> work)
    {
        await _model.WaitAsync().ConfigureAwait(false);
        try { return await Task.Run(work).ConfigureAwait(false); }
        finally { _model.Release(); }
    }

    public SearchHit[] Search(IVectorIndex index, float[] query, int k)
    {
        _index.EnterReadLock();
        try { return index.Search(query, 1, k)[0]; }
        finally { _index.ExitReadLock(); }
    }

    public T Read<T>(Func<ISearchCatalog, T> read)
    {
        _index.EnterReadLock();
        try { return read(Catalog); }
        finally { _index.ExitReadLock(); }
    }

    public T Write<T>(Func<ISearchCatalog, T> write)
    {
        _index.EnterWriteLock();
        try { return write(Catalog); }
        finally { _index.ExitWriteLock(); }
    }

    public static float[] Normalised(float[] v)
    {
        double sum = 0;
        foreach (var x in v) sum += (double)x * x;
        var norm = (float)Math.Sqrt(sum);
        if (norm > 0) for (var i = 0; i < v.Length; i++) v[i] /= norm;
        return v;
    }

    public void Dispose()
    {
        if (_ownsParts)
        {
            Runtime.Dispose();
            Catalog.Dispose();
        }
        _model.Dispose();
        _index.Dispose();
    }
}
