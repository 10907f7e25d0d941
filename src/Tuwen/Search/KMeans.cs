using System.Numerics.Tensors;

namespace Tuwen.Search;

/// <summary>
/// Spherical k-means for the IVF coarse quantiser: centroids are kept unit-length and points go to the centroid
/// of largest inner product, matching the cosine the index searches by.
/// </summary>
public static class KMeans
{
    /// <summary>Trains <paramref name="clusters"/> centroids ([clusters, dim] row-major) on <paramref name="points"/> ([count, dim]).</summary>
    public static float[] Train(ReadOnlySpan<float> points, int count, int dim, int clusters, int iterations = 10, int seed = 1)
    {
        if (clusters < 1) throw new TuwenException($"IVF needs at least one list, not {clusters}");
        if (count < clusters) throw new TuwenException($"k-means needs at least as many points ({count}) as lists ({clusters})");
        if (points.Length != (long)count * dim) throw new TuwenException($"k-means points hold {points.Length} floats, expected {count} × {dim}");
        var data = points.ToArray();
        var random = new Random(seed);
        var centroids = new float[clusters * dim];
        var start = Enumerable.Range(0, count).OrderBy(_ => random.Next()).Take(clusters).ToArray();
        for (int c = 0; c < clusters; c++) data.AsSpan(start[c] * dim, dim).CopyTo(centroids.AsSpan(c * dim, dim));
        var assignment = new int[count];
        for (int iteration = 0; iteration < iterations; iteration++)
        {
            Parallel.For(0, count, i => assignment[i] = Nearest(data.AsSpan(i * dim, dim), centroids, dim));
            var sums = new double[clusters * dim];
            var sizes = new int[clusters];
            for (int i = 0; i < count; i++)
            {
                int c = assignment[i];
                sizes[c]++;
                for (int d = 0; d < dim; d++) sums[c * dim + d] += data[i * dim + d];
            }
            for (int c = 0; c < clusters; c++)
            {
                var centroid = centroids.AsSpan(c * dim, dim);
                // An emptied list restarts at a random point, so no list stays useless.
                if (sizes[c] == 0) data.AsSpan(random.Next(count) * dim, dim).CopyTo(centroid);
                else for (int d = 0; d < dim; d++) centroid[d] = (float)sums[c * dim + d];
                float norm = TensorPrimitives.Norm(centroid);
                if (norm > 0) TensorPrimitives.Divide(centroid, norm, centroid);
            }
        }
        return centroids;
    }

    /// <summary>The index of the centroid with the largest inner product with <paramref name="point"/>.</summary>
    public static int Nearest(ReadOnlySpan<float> point, float[] centroids, int dim)
    {
        int best = 0;
        float bestDot = float.NegativeInfinity;
        for (int c = 0; c < centroids.Length / dim; c++)
        {
            float dot = TensorPrimitives.Dot(point, centroids.AsSpan(c * dim, dim));
            if (dot > bestDot) { bestDot = dot; best = c; }
        }
        return best;
    }
}
