namespace Tuwen.Search;

/// <summary>
/// How a pgvector table is indexed and searched. <see cref="Hnsw"/> false keeps no index at all, so every
/// search is an exact sequential scan (small tables, or a bulk load before <see cref="PgVectorIndex.BuildHnsw"/>).
/// </summary>
public sealed record PostgresIndexOptions
{
    public bool Hnsw { get; init; } = true;

    /// <summary>Links per node (pgvector's default 16).</summary>
    public int M { get; init; } = 16;

    /// <summary>Candidate list size while building (pgvector's default 64).</summary>
    public int EfConstruction { get; init; } = 64;

    /// <summary>Candidate list size while searching; raised to k when k is larger (HNSW returns at most ef_search rows).</summary>
    public int EfSearch { get; init; } = 100;

    /// <summary>Queries sent in one round trip by <see cref="PgVectorIndex.Search"/>.</summary>
    public int QueriesPerRoundTrip { get; init; } = 64;

    /// <summary>Memory for building the HNSW graph; a graph that does not fit is built far more slowly.</summary>
    public string MaintenanceWorkMem { get; init; } = "1GB";

    internal void Validate()
    {
        if (M is < 2 or > 100) throw new TuwenException($"HNSW m must be in 2..100, got {M}");
        if (EfConstruction < 2 * M || EfConstruction > 1000)
            throw new TuwenException($"HNSW ef_construction must be in 2·m..1000, got {EfConstruction}");
        if (EfSearch is < 1 or > 1000) throw new TuwenException($"HNSW ef_search must be in 1..1000, got {EfSearch}");
        if (QueriesPerRoundTrip < 1) throw new TuwenException($"queries per round trip must be ≥ 1, got {QueriesPerRoundTrip}");
    }
}
