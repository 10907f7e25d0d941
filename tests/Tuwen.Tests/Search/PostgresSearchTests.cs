using Tuwen.Search;

namespace Tuwen.Tests.Search;

/// <summary>pgvector search against an exact brute force over the same random unit vectors.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresSearchTests(PostgresCluster cluster)
{
    const int Dim = 48, Count = 3000, Queries = 60, K = 10;

    static (long[] Ids, float[] Vectors, float[] Queries) Data()
    {
        // Ids are spread out and not in insertion order, so a mix-up of row index and id shows.
        var ids = Enumerable.Range(0, Count).Select(i => 1_000_003L * ((i * 7919L) % Count) + 17).ToArray();
        return (ids, SearchVectors.RandomUnit(7, Count, Dim), SearchVectors.RandomUnit(8, Queries, Dim));
    }

    [Fact]
    public void Without_an_index_search_equals_brute_force_exactly()
    {
        var (ids, vectors, queries) = Data();
        using var index = PgVectorIndex.Open(cluster.ConnectionString, PostgresCluster.NewTable(), Dim,
            new PostgresIndexOptions { Hnsw = false, QueriesPerRoundTrip = 16 });
        index.Add(ids, vectors);
        Assert.Equal(Count, index.Count);

        var hits = index.Search(queries, Queries, K);
        Assert.Equal(Queries, hits.Length);
        for (var q = 0; q < Queries; q++)
        {
            var expected = SearchVectors.BruteForce(vectors, ids, Dim, queries.AsSpan(q * Dim, Dim), K);
            Assert.Equal(expected.Select(e => e.Id), hits[q].Select(h => h.Id));
            for (var i = 0; i < K; i++) Assert.Equal(expected[i].Score, hits[q][i].Score, 1e-5);
        }
    }

    [Fact]
    public void Hnsw_with_a_generous_ef_search_finds_the_exact_top_k()
    {
        var (ids, vectors, queries) = Data();
        var table = PostgresCluster.NewTable();
        var options = new PostgresIndexOptions { Hnsw = false, M = 16, EfConstruction = 100, EfSearch = 200 };
        using var index = PgVectorIndex.Open(cluster.ConnectionString, table, Dim, options);
        index.Add(ids, vectors);
        index.BuildHnsw();
        Assert.True(PostgresTestSql.UsesHnsw(cluster, table, Dim), "the search plan does not use the HNSW index");

        var hits = index.Search(queries, Queries, K);
        int found = 0;
        for (var q = 0; q < Queries; q++)
        {
            var expected = SearchVectors.BruteForce(vectors, ids, Dim, queries.AsSpan(q * Dim, Dim), K);
            Assert.Equal(K, hits[q].Length);
            Assert.Equal(expected[0].Id, hits[q][0].Id);
            Assert.Equal(expected[0].Score, hits[q][0].Score, 1e-5);
            found += hits[q].Select(h => h.Id).Intersect(expected.Select(e => e.Id)).Count();
            Assert.True(hits[q].Zip(hits[q].Skip(1)).All(p => p.First.Score >= p.Second.Score), "hits are not best first");
        }
        var recall = found / (double)(Queries * K);
        Assert.True(recall >= 0.99, $"recall@10 {recall:F3} < 0.99");
    }

    [Fact]
    public void K_beyond_ef_search_still_returns_k_hits()
    {
        var (ids, vectors, queries) = Data();
        using var index = PgVectorIndex.Open(cluster.ConnectionString, PostgresCluster.NewTable(), Dim,
            new PostgresIndexOptions { EfSearch = 10 });
        index.Add(ids.AsSpan(0, 500), vectors.AsSpan(0, 500 * Dim));
        var hits = index.Search(queries.AsSpan(0, Dim), 1, 300);
        Assert.Equal(300, hits[0].Length);
        Assert.Equal(300, hits[0].Select(h => h.Id).Distinct().Count());
    }
}
