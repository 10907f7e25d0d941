using System.Numerics.Tensors;
using static TorchSharp.torch;

namespace Tuwen.Search;

/// <summary>
/// Spherical k-means for the IVF coarse quantiser: centroids are kept unit-length and points go to the centroid
/// of largest inner product, matching the cosine the index searches by. The point × centroid products are one
/// matrix multiply per chunk (libtorch's GEMM): a million 512-d points against 1,000 lists is 0.5 T multiply-adds,
/// which a plain dot-product loop takes minutes for.
/// </summary>
public static class KMeans
{
    private const int ChunkRows = 16384;

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
        for (int iteration = 0; iteration < iterations; iteration++)
        {
            var assignment = Assign(data, count, centroids, dim);
            var sums = new double[clusters * dim];
            var sizes = new int[clusters];
            for (int i = 0; i < count; i++)
            {
                int c = assignment[i];
                sizes[c]++;
                var row = data.AsSpan(i * dim, dim);
                var sum = sums.AsSpan(c * dim, dim);
                for (int d = 0; d < dim; d++) sum[d] += row[d];
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

    /// <summary>The nearest centroid (largest inner product) of each of <paramref name="count"/> points.</summary>
    public static int[] Assign(ReadOnlySpan<float> points, int count, float[] centroids, int dim)
    {
        var assignment = new int[count];
        int clusters = centroids.Length / dim;
        using var outer = NewDisposeScope();
        using var centres = tensor(centroids, [clusters, dim]).t().contiguous();
        for (int start = 0; start < count; start += ChunkRows)
        {
            using var scope = NewDisposeScope();
            int rows = Math.Min(ChunkRows, count - start);
            var chunk = tensor(points.Slice(start * dim, rows * dim).ToArray(), [rows, dim]);
            var nearest = chunk.mm(centres).argmax(1).data<long>().ToArray();
            for (int i = 0; i < rows; i++) assignment[start + i] = (int)nearest[i];
        }
        return assignment;
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
