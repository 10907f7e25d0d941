namespace Tuwen.Search;

/// <summary>One search result: the stored vector's id and its cosine similarity to the query.</summary>
public readonly record struct SearchHit(long Id, float Score);

/// <summary>
/// A store of L2-normalised vectors searched by cosine (= inner product). The embedded exact and approximate
/// indexes and the PostgreSQL + pgvector backend implement it, so the server and `tuwen index` never care
/// which one they hold.
/// </summary>
public interface IVectorIndex : IDisposable
{
    /// <summary>"exact", "exact-int8", "ivf", "pgvector", …: shown by health and metrics.</summary>
    string Kind { get; }

    int Dim { get; }

    long Count { get; }

    /// <summary>
    /// Top-<paramref name="k"/> hits per query, best first. <paramref name="queries"/> is
    /// [<paramref name="queryCount"/>, Dim] row-major and L2-normalised; batching queries is the fast path.
    /// </summary>
    SearchHit[][] Search(ReadOnlySpan<float> queries, int queryCount, int k);

    /// <summary>Adds (or replaces, for an id already present) L2-normalised vectors [ids.Length, Dim].</summary>
    void Add(ReadOnlySpan<long> ids, ReadOnlySpan<float> vectors);

    /// <summary>Removes the ids; returns how many were present.</summary>
    long Delete(ReadOnlySpan<long> ids);

    /// <summary>The stored vector of an id (for "more like this" by id); false when absent.</summary>
    bool TryGetVector(long id, Span<float> into);
}
