using Tuwen.Search;

namespace Tuwen.Server.Tests;

/// <summary>A test double of an index directory: vectors in lists, brute-force cosine search.</summary>
public sealed class InMemoryIndex(int dim, string kind = "brute-force") : IVectorIndex
{
    private readonly SortedDictionary<long, float[]> _vectors = [];

    public string Kind => kind;
    public int Dim => dim;
    public long Count => _vectors.Count;

    public SearchHit[][] Search(ReadOnlySpan<float> queries, int queryCount, int k)
    {
        var result = new SearchHit[queryCount][];
        for (var q = 0; q < queryCount; q++)
        {
            var query = queries.Slice(q * dim, dim);
            var hits = new List<SearchHit>(_vectors.Count);
            foreach (var (id, v) in _vectors)
            {
                var score = 0f;
                for (var j = 0; j < dim; j++) score += v[j] * query[j];
                hits.Add(new SearchHit(id, score));
            }
            hits.Sort((a, b) => b.Score != a.Score ? b.Score.CompareTo(a.Score) : a.Id.CompareTo(b.Id));
            result[q] = hits.Take(k).ToArray();
        }
        return result;
    }

    public void Add(ReadOnlySpan<long> ids, ReadOnlySpan<float> vectors)
    {
        for (var i = 0; i < ids.Length; i++) _vectors[ids[i]] = vectors.Slice(i * dim, dim).ToArray();
    }

    public long Delete(ReadOnlySpan<long> ids)
    {
        long n = 0;
        foreach (var id in ids) if (_vectors.Remove(id)) n++;
        return n;
    }

    public bool TryGetVector(long id, Span<float> into)
    {
        if (!_vectors.TryGetValue(id, out var v)) return false;
        v.CopyTo(into);
        return true;
    }

    public void Dispose() { }
}

/// <summary>A test double of <see cref="ISearchCatalog"/> over <see cref="InMemoryIndex"/>; thumbnails are the stored bytes.</summary>
public sealed class InMemoryCatalog(string modelPath, int dim, bool withTexts = true) : ISearchCatalog
{
    private readonly Dictionary<long, (CatalogItem Item, byte[] Bytes)> _images = [];
    private readonly Dictionary<long, CatalogItem> _texts = [];
    private long _nextId;

    public string ModelPath => modelPath;
    public string Runtime => "torch";
    public IVectorIndex Images { get; } = new InMemoryIndex(dim);
    public IVectorIndex? Texts { get; } = withTexts ? new InMemoryIndex(dim) : null;

    public CatalogItem? Image(long id) => _images.TryGetValue(id, out var e) ? e.Item : null;
    public CatalogItem? Text(long id) => _texts.GetValueOrDefault(id);
    public byte[]? Thumbnail(long imageId) => _images.TryGetValue(imageId, out var e) ? e.Bytes : null;

    public long AddImage(ReadOnlySpan<float> vector, byte[] imageBytes, string? caption, string key)
    {
        var id = _nextId++;
        _images[id] = (new CatalogItem(id, key, caption, caption == null ? [] : [caption], null), imageBytes);
        Images.Add([id], vector);
        return id;
    }

    public void AddText(long id, ReadOnlySpan<float> vector, string caption)
    {
        _texts[id] = new CatalogItem(id, $"text-{id}", caption, [caption], null);
        Texts!.Add([id], vector);
    }

    public long DeleteImages(ReadOnlySpan<long> ids)
    {
        foreach (var id in ids) _images.Remove(id);
        return Images.Delete(ids);
    }

    public void Dispose() { }
}
