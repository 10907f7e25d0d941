namespace Tuwen.Tests.Search;

/// <summary>Seeded random unit vectors and the exact cosine top-k over them, computed in double as the reference.</summary>
static class PostgresRandomVectors
{
    public static float[] Unit(int count, int dim, int seed)
    {
        var rng = new Random(seed);
        var v = new float[count * dim];
        var row = new double[dim];
        for (var i = 0; i < count; i++)
        {
            double norm = 0;
            for (var d = 0; d < dim; d++)
            {
                // Box–Muller: isotropic Gaussian directions, so the points are uniform on the sphere.
                var g = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
                row[d] = g;
                norm += g * g;
            }
            norm = Math.Sqrt(norm);
            for (var d = 0; d < dim; d++) v[i * dim + d] = (float)(row[d] / norm);
        }
        return v;
    }

    /// <summary>(id, cosine) of the k best stored vectors for one query, best first; ties by smaller id.</summary>
    public static (long Id, double Score)[] BruteForce(float[] stored, long[] ids, int dim, ReadOnlySpan<float> query, int k)
    {
        var scored = new (long Id, double Score)[ids.Length];
        for (var i = 0; i < ids.Length; i++)
        {
            double dot = 0, nq = 0, ns = 0;
            for (var d = 0; d < dim; d++)
            {
                double a = query[d], b = stored[i * dim + d];
                dot += a * b;
                nq += a * a;
                ns += b * b;
            }
            scored[i] = (ids[i], dot / Math.Sqrt(nq * ns));
        }
        return scored.OrderByDescending(s => s.Score).ThenBy(s => s.Id).Take(k).ToArray();
    }
}
