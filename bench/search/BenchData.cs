namespace SearchBench;

/// <summary>
/// Seeded clustered unit vectors: each is one of <c>clusters</c> random unit centres plus Gaussian noise of
/// σ per component (noise norm ≈ σ√dim), renormalised. With the defaults (10,000 centres, σ√dim = 0.75) a
/// vector's cosine to its cluster mates is ≈ 0.64 and to the rest ≈ 0 ± 0.04, so true neighbours sit in one
/// region of the sphere as real embeddings' do, and IVF lists mean something; purely uniform random vectors
/// would have no neighbourhoods at all (every cosine ≈ 0), which no approximate index can exploit.
/// </summary>
internal sealed class BenchData(int dim, int clusters, double noiseNorm, int seed)
{
    private readonly float[] _centres = Centres(dim, clusters, seed);

    private static float[] Centres(int dim, int clusters, int seed)
    {
        var centres = new float[clusters * dim];
        Parallel.For(0, clusters, c => Fill(centres.AsSpan(c * dim, dim), new Random(seed * 7919 + c), null, 1.0));
        return centres;
    }

    /// <summary>Row <paramref name="row"/> of the stream named <paramref name="stream"/> (0 = corpus, 1 = queries): the same every run.</summary>
    public void Row(int stream, long row, Span<float> into)
    {
        var random = new Random(HashCode.Combine(seed, stream, row));
        int centre = random.Next(clusters);
        Fill(into, random, _centres.AsSpan(centre * dim, dim).ToArray(), noiseNorm / Math.Sqrt(dim));
    }

    public float[] Rows(int stream, long first, int count)
    {
        var rows = new float[(long)count * dim];
        Parallel.For(0, count, i => Row(stream, first + i, rows.AsSpan(i * dim, dim)));
        return rows;
    }

    private static void Fill(Span<float> row, Random random, float[]? centre, double sigma)
    {
        double norm = 0;
        for (int d = 0; d < row.Length; d += 2)
        {
            // Box–Muller: two Gaussians per pair of uniforms.
            double radius = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())), angle = 2 * Math.PI * random.NextDouble();
            row[d] = (float)((centre?[d] ?? 0) + sigma * radius * Math.Cos(angle));
            if (d + 1 < row.Length) row[d + 1] = (float)((centre?[d + 1] ?? 0) + sigma * radius * Math.Sin(angle));
        }
        foreach (var v in row) norm += (double)v * v;
        float scale = (float)(1 / Math.Sqrt(norm));
        for (int d = 0; d < row.Length; d++) row[d] *= scale;
    }
}
