using Tuwen.Search;
using Tuwen.Tests.Data;
using static Tuwen.Tests.Search.SearchVectors;

namespace Tuwen.Tests.Search;

public class EmbeddedVectorIndexTests
{
    private const int Dim = 48;

    private static EmbeddedVectorIndex Exact(TempDirectory dir, float[] vectors, long[] ids, VectorEncoding encoding = VectorEncoding.Float16)
    {
        var index = EmbeddedVectorIndex.CreateExact(dir.Combine("v.tvx"), Dim, encoding);
        index.Add(ids, vectors);
        return index;
    }

    [Fact]
    public void Exact_search_equals_brute_force_with_ties_across_chunks_and_the_saved_file()
    {
        using var dir = new TempDirectory();
        int n = 9000;
        var vectors = RandomUnit(1, n, Dim);
        // Exact duplicates make equal scores: the id order must break them the same way the brute force does.
        for (int i = 0; i < 40; i++) vectors.AsSpan(0, Dim).CopyTo(vectors.AsSpan((100 + i * 200) * Dim, Dim));
        var ids = Enumerable.Range(0, n).Select(i => (long)(n - i) * 3).ToArray();
        var queries = RandomUnit(2, 12, Dim);
        vectors.AsSpan(0, Dim).CopyTo(queries.AsSpan(0, Dim));
        var stored = AsStoredHalf(vectors);
        using var index = Exact(dir, vectors, ids);
        var inMemory = index.Search(queries, 12, 50);
        index.Save();
        var saved = index.Search(queries, 12, 50);
        for (int q = 0; q < 12; q++)
        {
            var query = queries.AsSpan(q * Dim, Dim);
            var expected = BruteForce(stored, ids, Dim, query, 50);
            AssertSameTopK(expected, inMemory[q], stored, ids, Dim, query);
            Assert.Equal(inMemory[q], saved[q]);
        }
        // The 41 copies of the first vector tie for the top: ids ascending.
        var tied = new[] { 0 }.Concat(Enumerable.Range(0, 40).Select(i => 100 + i * 200)).Select(i => ids[i]).Order().ToArray();
        Assert.Equal(tied, inMemory[0].Take(41).Select(h => h.Id));
    }

    [Fact]
    public void K_above_the_count_returns_every_vector_and_an_empty_index_returns_nothing()
    {
        using var dir = new TempDirectory();
        var vectors = RandomUnit(3, 7, Dim);
        using var index = Exact(dir, vectors, [.. Enumerable.Range(0, 7).Select(i => (long)i)]);
        var hits = index.Search(vectors.AsSpan(0, Dim), 1, 100)[0];
        Assert.Equal(7, hits.Length);
        Assert.Equal(0, hits[0].Id);
        Assert.True(hits.Zip(hits.Skip(1)).All(p => p.First.Score >= p.Second.Score));
        using var empty = EmbeddedVectorIndex.CreateExact(dir.Combine("e.tvx"), Dim);
        Assert.Empty(empty.Search(vectors.AsSpan(0, Dim), 1, 5)[0]);
    }

    [Fact]
    public void A_batch_answers_exactly_as_its_queries_one_by_one()
    {
        using var dir = new TempDirectory();
        var vectors = Clustered(4, 6000, Dim, 20, 0.1);
        using var index = Exact(dir, vectors, [.. Enumerable.Range(0, 6000).Select(i => (long)i)]);
        var queries = Clustered(5, 33, Dim, 20, 0.1);
        var batch = index.Search(queries, 33, 10);
        for (int q = 0; q < 33; q++) Assert.Equal(index.Search(queries.AsSpan(q * Dim, Dim), 1, 10)[0], batch[q]);
    }

    [Fact]
    public void Int8_keeps_most_of_the_exact_top_10()
    {
        using var dir = new TempDirectory();
        var vectors = Clustered(6, 5000, Dim, 50, 0.15);
        var ids = Enumerable.Range(0, 5000).Select(i => (long)i).ToArray();
        using var int8 = Exact(dir, vectors, ids, VectorEncoding.Int8);
        Assert.Equal("exact-int8", int8.Kind);
        var queries = Clustered(7, 100, Dim, 50, 0.15);
        var found = int8.Search(queries, 100, 10);
        var truth = Enumerable.Range(0, 100).Select(q => BruteForce(vectors, ids, Dim, queries.AsSpan(q * Dim, Dim), 10)).ToArray();
        double recall = RecallAt(10, truth, found);
        Assert.True(recall >= 0.9, $"int8 recall@10 {recall}");
        // Per-vector scales keep each score within a quantisation step of the true inner product.
        for (int q = 0; q < 100; q++) Assert.True(Math.Abs(found[q][0].Score - truth[q][0].Score) < 0.02, $"{found[q][0].Score} vs {truth[q][0].Score}");
    }

    [Fact]
    public void Ivf_recall_at_10_meets_its_bound_and_probing_every_list_is_exact()
    {
        using var dir = new TempDirectory();
        int n = 20000, lists = 64;
        var vectors = Clustered(8, n, Dim, 200, 0.1);
        var ids = Enumerable.Range(0, n).Select(i => (long)i).ToArray();
        var centroids = KMeans.Train(vectors.AsSpan(0, 4096 * Dim), 4096, Dim, lists);
        using var ivf = EmbeddedVectorIndex.CreateIvf(dir.Combine("ivf.tvx"), Dim, centroids, nprobe: 8);
        ivf.Add(ids, vectors);
        ivf.Save();
        Assert.Equal("ivf", ivf.Kind);
        var queries = Clustered(9, 200, Dim, 200, 0.1);
        var stored = AsStoredHalf(vectors);
        var truth = Enumerable.Range(0, 200).Select(q => BruteForce(stored, ids, Dim, queries.AsSpan(q * Dim, Dim), 10)).ToArray();
        double recall = RecallAt(10, truth, ivf.Search(queries, 200, 10));
        Assert.True(recall >= 0.9, $"IVF nprobe 8/64 recall@10 {recall}");
        ivf.NProbe = 1;
        double one = RecallAt(10, truth, ivf.Search(queries, 200, 10));
        Assert.True(one < recall, $"one list ({one}) should miss more than eight ({recall})");
        ivf.NProbe = lists;
        var all = ivf.Search(queries, 200, 10);
        for (int q = 0; q < 200; q++) AssertSameTopK(truth[q], all[q], stored, ids, Dim, queries.AsSpan(q * Dim, Dim));
    }

    [Fact]
    public void Add_replace_and_delete_show_in_search_and_survive_save_and_reopen()
    {
        using var dir = new TempDirectory();
        var vectors = RandomUnit(10, 300, Dim);
        var ids = Enumerable.Range(0, 300).Select(i => (long)i).ToArray();
        var index = Exact(dir, vectors, ids);
        index.Save();
        var probe = vectors.AsSpan(5 * Dim, Dim).ToArray();
        Assert.Equal(5, index.Search(probe, 1, 1)[0][0].Id);

        Assert.Equal(2, index.Delete([5, 6, 999]));
        Assert.Equal(298, index.Count);
        Assert.DoesNotContain(index.Search(probe, 1, 300)[0], h => h.Id is 5 or 6);
        Assert.False(index.TryGetVector(5, new float[Dim]));

        // Id 7 now holds vector 5's direction; id 1000 is new.
        index.Add([7, 1000], [.. probe, .. vectors.AsSpan(9 * Dim, Dim)]);
        Assert.Equal(299, index.Count);
        var hits = index.Search(probe, 1, 2)[0];
        Assert.Equal(7, hits[0].Id);
        Assert.True(hits[0].Score > 0.999f);
        var back = new float[Dim];
        Assert.True(index.TryGetVector(1000, back));
        for (int d = 0; d < Dim; d++) Assert.InRange(back[d] - vectors[9 * Dim + d], -1e-3f, 1e-3f);

        index.Save();
        index.Dispose();
        using var reopened = EmbeddedVectorIndex.Open(dir.Combine("v.tvx"));
        Assert.Equal(299, reopened.Count);
        Assert.Equal(7, reopened.Search(probe, 1, 1)[0][0].Id);
        Assert.DoesNotContain(reopened.Search(probe, 1, 400)[0], h => h.Id is 5 or 6);
        Assert.Equal(299, reopened.Search(probe, 1, 400)[0].Length);
        Assert.True(reopened.TryGetVector(1000, back));
        Assert.InRange(back[0] - vectors[9 * Dim], -1e-3f, 1e-3f);
    }

    [Fact]
    public void Bad_inputs_are_user_errors()
    {
        using var dir = new TempDirectory();
        using var index = Exact(dir, RandomUnit(11, 10, Dim), [.. Enumerable.Range(0, 10).Select(i => (long)i)]);
        Assert.Throws<TuwenException>(() => index.Add([1], new float[Dim - 1]));
        Assert.Throws<TuwenException>(() => index.Search(new float[Dim + 1], 1, 5));
        Assert.Throws<TuwenException>(() => index.Search(new float[Dim], 1, 0));
        Assert.Throws<TuwenException>(() => index.TryGetVector(1, new float[3]));
        Assert.Throws<TuwenException>(() => EmbeddedVectorIndex.Open(dir.Combine("missing.tvx")));
        File.WriteAllText(dir.Combine("junk.tvx"), "not vectors at all, but long enough to hold a header of sixty-four bytes.");
        Assert.Contains("not a valid", Assert.Throws<TuwenException>(() => EmbeddedVectorIndex.Open(dir.Combine("junk.tvx"))).Message);
        index.Save();
        var bytes = File.ReadAllBytes(dir.Combine("v.tvx"));
        File.WriteAllBytes(dir.Combine("cut.tvx"), bytes[..^10]);
        Assert.Throws<TuwenException>(() => EmbeddedVectorIndex.Open(dir.Combine("cut.tvx")));
    }
}
