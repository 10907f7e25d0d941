namespace Tuwen.Tests.Search;

/// <summary>Seeded test vectors and an independent brute-force search in double precision.</summary>
internal static class SearchVectors
{
    public static float[] RandomUnit(int seed, int count, int dim)
    {
        var random = new Random(seed);
        var values = new float[count * dim];
        for (int i = 0; i < count; i++) Normalise(values.AsSpan(i * dim, dim), random, 0);
        return values;
    }

    /// <summary>
    /// Unit vectors around <paramref name="clusters"/> random unit centres: centre + Gaussian noise of
    /// <paramref name="spread"/> per component, renormalised; the same <paramref name="centreSeed"/> gives the same centres (what IVF exploits and real embeddings look like).
    /// </summary>
    public static float[] Clustered(int seed, int count, int dim, int clusters, double spread, int centreSeed = 1000)
    {
        var random = new Random(seed);
        var centres = RandomUnit(centreSeed, clusters, dim);
        var values = new float[count * dim];
        for (int i = 0; i < count; i++)
        {
            var row = values.AsSpan(i * dim, dim);
            centres.AsSpan(random.Next(clusters) * dim, dim).CopyTo(row);
            Normalise(row, random, spread);
        }
        return values;
    }

    private static void Normalise(Span<float> row, Random random, double spread)
    {
        double norm = 0;
        for (int d = 0; d < row.Length; d++)
        {
            double gaussian = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            row[d] = spread == 0 ? (float)gaussian : (float)(row[d] + spread * gaussian);
            norm += (double)row[d] * row[d];
        }
        for (int d = 0; d < row.Length; d++) row[d] = (float)(row[d] / Math.Sqrt(norm));
    }

    /// <summary>What float16 storage keeps of each value.</summary>
    public static float[] AsStoredHalf(float[] values) => [.. values.Select(v => (float)(Half)v)];

    /// <summary>Top-k (score descending, then id ascending) by inner products summed in double.</summary>
    public static (long Id, double Score)[] BruteForce(float[] stored, long[] ids, int dim, ReadOnlySpan<float> query, int k)
    {
        var scored = new (long Id, double Score)[ids.Length];
        for (int i = 0; i < ids.Length; i++)
        {
            double dot = 0;
            for (int d = 0; d < dim; d++) dot += (double)stored[i * dim + d] * query[d];
            scored[i] = (ids[i], dot);
        }
        return [.. scored.OrderByDescending(s => s.Score).ThenBy(s => s.Id).Take(k)];
    }

    /// <summary>
    /// Hits equal the brute force: same length, scores within float rounding, and the same id at each rank
    /// unless the two ids' exact scores tie within that rounding.
    /// </summary>
    public static void AssertSameTopK((long Id, double Score)[] expected, Tuwen.Search.SearchHit[] hits, float[] stored, long[] ids, int dim,
        ReadOnlySpan<float> query, double tolerance = 1e-5)
    {
        Assert.Equal(expected.Length, hits.Length);
        var exact = new Dictionary<long, double>();
        foreach (var (id, score) in BruteForce(stored, ids, dim, query, ids.Length)) exact[id] = score;
        for (int r = 0; r < hits.Length; r++)
        {
            Assert.True(Math.Abs(hits[r].Score - expected[r].Score) <= tolerance, $"rank {r}: score {hits[r].Score} vs {expected[r].Score}");
            Assert.True(hits[r].Id == expected[r].Id || Math.Abs(exact[hits[r].Id] - expected[r].Score) <= tolerance,
                $"rank {r}: id {hits[r].Id} (exact {exact[hits[r].Id]}) vs {expected[r].Id} ({expected[r].Score})");
        }
        Assert.Equal(hits.Length, hits.Select(h => h.Id).Distinct().Count());
    }

    public static double RecallAt(int k, (long Id, double Score)[][] truth, Tuwen.Search.SearchHit[][] found) =>
        truth.Zip(found).Average(p => p.First.Take(k).Select(t => t.Id).Intersect(p.Second.Take(k).Select(h => h.Id)).Count() / (double)Math.Min(k, p.First.Length));
}
