using System.Numerics.Tensors;

namespace Tuwen.Search;

public sealed partial class EmbeddedVectorIndex
{
    /// <summary>Rows decoded to floats at a time: 64 × 512 floats = 128 KiB, which stays in L2 while every query of the batch passes over it.</summary>
    private const int BlockRows = 64;
    /// <summary>Rows per parallel work item: large enough to amortise scheduling, small enough to balance two to many cores.</summary>
    private const int ChunkRows = 4096;

    public SearchHit[][] Search(ReadOnlySpan<float> queries, int queryCount, int k)
    {
        if (k < 1) throw new TuwenException($"k must be at least 1, not {k}");
        if (queryCount < 0 || queries.Length != (long)queryCount * Dim)
            throw new TuwenException($"queries hold {queries.Length} floats, expected {queryCount} × {Dim}");
        var queryArray = queries.ToArray();
        var probes = ProbeLists(queryArray, queryCount);
        _lock.EnterReadLock();
        try
        {
            int keep = (int)Math.Min(k, Math.Max(_live, 1));
            var work = PlanWork(probes, queryCount);
            var best = new TopK[queryCount];
            for (int q = 0; q < queryCount; q++) best[q] = new TopK(keep);
            var merge = new object();
            Parallel.ForEach(work, () => new ScanState(queryCount, keep, Dim), (item, _, state) =>
            {
                Scan(item, queryArray, state);
                return state;
            }, state =>
            {
                lock (merge)
                    for (int q = 0; q < queryCount; q++)
                        if (state.Best[q] is { } local) best[q].MergeFrom(local);
            });
            return [.. best.Select(b => b.ToSortedHits())];
        }
        finally { _lock.ExitReadLock(); }
    }

    /// <summary>For each list, the queries that scan it: every query for exact search, the NProbe nearest centroids' lists for IVF.</summary>
    private int[][] ProbeLists(float[] queries, int queryCount)
    {
        if (!Approximate) return [[.. Enumerable.Range(0, queryCount)]];
        int nprobe = Math.Clamp(NProbe, 1, _lists);
        var chosen = new int[queryCount][];
        Parallel.For(0, queryCount, q =>
        {
            var nearest = new TopK(nprobe);
            var query = queries.AsSpan(q * Dim, Dim);
            for (int list = 0; list < _lists; list++) nearest.Push(TensorPrimitives.Dot(query, _centroids.AsSpan(list * Dim, Dim)), list);
            chosen[q] = [.. nearest.ToSortedHits().Select(h => (int)h.Id)];
        });
        var byList = new List<int>[_lists];
        for (int q = 0; q < queryCount; q++)
            foreach (var list in chosen[q]) (byList[list] ??= []).Add(q);
        return [.. byList.Select(l => l?.ToArray() ?? [])];
    }

    private readonly record struct WorkItem(int List, bool FromBase, int First, int Count, int[] Queries);

    private List<WorkItem> PlanWork(int[][] probes, int queryCount)
    {
        var work = new List<WorkItem>();
        for (int list = 0; list < _lists; list++)
        {
            var queries = probes.Length == 1 ? probes[0] : probes[list];
            if (queries.Length == 0) continue;
            if (_base != null)
                for (long r = _base.ListOffsets[list]; r < _base.ListOffsets[list + 1]; r += ChunkRows)
                    work.Add(new WorkItem(list, true, (int)r, (int)Math.Min(ChunkRows, _base.ListOffsets[list + 1] - r), queries));
            for (int r = 0; r < _delta[list].Count; r += ChunkRows)
                work.Add(new WorkItem(list, false, r, Math.Min(ChunkRows, _delta[list].Count - r), queries));
        }
        return work;
    }

    /// <summary>One worker's private top-k per query (made on first use) and its decode buffer.</summary>
    private sealed class ScanState(int queryCount, int keep, int dim)
    {
        public readonly TopK?[] Best = new TopK?[queryCount];
        public readonly float[] Block = new float[BlockRows * dim];
        private float[] _dots = [];
        public Span<float> DotsFor(int queries) => _dots.Length >= queries * BlockRows ? _dots : _dots = new float[queries * BlockRows];
        public TopK For(int query) => Best[query] ??= new TopK(keep);
    }

    private void Scan(WorkItem item, float[] queries, ScanState state)
    {
        int rowBytes = VectorCodec.RowBytes(Encoding, Dim);
        bool int8 = Encoding == VectorEncoding.Int8;
        var delta = _delta[item.List];
        for (int start = 0; start < item.Count; start += BlockRows)
        {
            int rows = Math.Min(BlockRows, item.Count - start);
            int first = item.First + start;
            var stored = item.FromBase ? _base!.RowBytes(first, rows) : delta.RowBytes(first, rows);
            var block = state.Block.AsSpan(0, rows * Dim);
            VectorCodec.Decode(Encoding, stored, block);
            ReadOnlySpan<long> ids = item.FromBase ? _base!.Ids.AsSpan(first, rows) : delta.Ids.AsSpan(first, rows);
            ReadOnlySpan<float> scales = !int8 ? default : item.FromBase ? _base!.Scales.AsSpan(first, rows) : delta.Scales.AsSpan(first, rows);
            var dots = state.DotsFor(item.Queries.Length);
            DotKernel.Dots(queries, item.Queries, block, rows, Dim, dots);
            for (int i = 0; i < item.Queries.Length; i++)
            {
                var best = state.For(item.Queries[i]);
                for (int r = 0; r < rows; r++)
                {
                    float dot = dots[i * rows + r];
                    if (int8) dot *= scales[r];
                    if (dot < best.Threshold) continue;
                    int row = item.FromBase ? first + r : delta.Rows[first + r];
                    if (_dead[row] == 0) best.Push(dot, ids[r]);
                }
            }
        }
    }

    /// <summary>The list each new vector goes to: its nearest centroid (IVF), or the single list (exact).</summary>
    private int[] AssignLists(ReadOnlySpan<float> vectors, int count)
    {
        if (!Approximate) return new int[count];
        // A few rows are cheaper by dot products than by starting a matrix multiply.
        if (count <= 8)
        {
            var lists = new int[count];
            for (int i = 0; i < count; i++) lists[i] = KMeans.Nearest(vectors.Slice(i * Dim, Dim), _centroids, Dim);
            return lists;
        }
        return KMeans.Assign(vectors, count, _centroids, Dim);
    }
}
