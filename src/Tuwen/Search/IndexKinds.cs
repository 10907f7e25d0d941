namespace Tuwen.Search;

/// <summary>The embedded index kinds `tuwen index build --kind` offers, and how each is made.</summary>
public static class IndexKinds
{
    public static readonly string[] Names = ["exact", "exact-int8", "ivf", "ivf-int8"];

    public static VectorEncoding Encoding(string kind) => kind.EndsWith("-int8", StringComparison.Ordinal) ? VectorEncoding.Int8 : VectorEncoding.Float16;

    public static bool Approximate(string kind) => kind.StartsWith("ivf", StringComparison.Ordinal);

    public static void Check(string kind)
    {
        if (!Names.Contains(kind)) throw new TuwenException($"unknown index kind '{kind}' (choose from {string.Join(", ", Names)})");
    }

    /// <summary>IVF lists for <paramref name="rows"/> vectors: about √rows (1,000 lists for 1M), so a list holds about √rows vectors.</summary>
    public static int DefaultLists(long rows) => (int)Math.Clamp(Math.Round(Math.Sqrt(rows)), 1, 65536);

    /// <summary>Lists probed by default: 16 of 1,000 gave recall@10 ≥ 0.95 on the bench's clustered 1M vectors (bench/results/search.md); at least 8.</summary>
    public static int DefaultProbes(int lists) => Math.Clamp(Math.Max(lists / 64, 8), 1, lists);

    /// <summary>
    /// An empty index of <paramref name="kind"/> at <paramref name="path"/>; for IVF, <paramref name="sample"/>
    /// ([sampleCount, dim]) trains the k-means lists.
    /// </summary>
    public static EmbeddedVectorIndex Create(string kind, string path, int dim, float[] sample, int sampleCount, long expectedRows,
        int? lists = null, int? nprobe = null)
    {
        Check(kind);
        if (!Approximate(kind)) return EmbeddedVectorIndex.CreateExact(path, dim, Encoding(kind));
        int listCount = Math.Min(lists ?? DefaultLists(expectedRows), Math.Max(1, sampleCount));
        var centroids = KMeans.Train(sample.AsSpan(0, sampleCount * dim), sampleCount, dim, listCount);
        return EmbeddedVectorIndex.CreateIvf(path, dim, centroids, nprobe ?? DefaultProbes(listCount), Encoding(kind));
    }

    /// <summary>Training points for the IVF lists: 64 per expected list, at most 64K, taken uniformly at random (reservoir sampling).</summary>
    public static int SampleSize(long rows) => (int)Math.Min(rows, Math.Min(65536, 64L * DefaultLists(rows)));
}
