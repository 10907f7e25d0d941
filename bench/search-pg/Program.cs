using System.Diagnostics;
using System.Numerics;
using System.Text.Json;
using Tuwen.Search;

// pgvector HNSW on bench/search's clustered unit vectors: bulk insert rate, HNSW build time, then per ef_search the latency of
// single queries (p50/p99, sequential QPS), the QPS of batched queries, and recall@10 against an exact search.
// Usage: SearchPgBench CONNECTION COUNT DIM QUERIES M EF_CONSTRUCTION EF_SEARCH[,EF_SEARCH…] MAINTENANCE_WORK_MEM OUT.json
if (args.Length != 9)
{
    Console.Error.WriteLine("usage: SearchPgBench CONNECTION COUNT DIM QUERIES M EF_CONSTRUCTION EF_SEARCH[,…] MAINTENANCE_WORK_MEM OUT.json");
    return 2;
}
var (cs, count, dim, queryCount) = (args[0], int.Parse(args[1]), int.Parse(args[2]), int.Parse(args[3]));
var (m, efc) = (int.Parse(args[4]), int.Parse(args[5]));
var efSearches = args[6].Split(',').Select(int.Parse).ToArray();
var (mwm, outPath) = (args[7], args[8]);
const int K = 10, Chunk = 20_000;

void Log(string s) => Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {s}");

var sw = Stopwatch.StartNew();
// bench/search's data: 10,000 centres, noise norm 0.75, seed 7; corpus stream 0, query stream 1.
var data = new SearchBench.BenchData(dim, 10_000, 0.75, seed: 7);
var vectors = data.Rows(0, 0, count);
var queries = data.Rows(1, 0, queryCount);
Log($"generated {count:N0} + {queryCount:N0} vectors in {sw.Elapsed.TotalSeconds:F1} s");

sw.Restart();
var exact = ExactSearch.TopK(vectors, dim, queries, queryCount, K);
Log($"exact top-{K} of {queryCount} queries in {sw.Elapsed.TotalSeconds:F1} s");

var rows = new List<object>();
var ids = Enumerable.Range(0, count).Select(i => (long)i).ToArray();
var table = $"bench_{count}_{dim}";
var load = new PostgresIndexOptions { Hnsw = false, M = m, EfConstruction = efc, MaintenanceWorkMem = mwm };
double insertSeconds, buildSeconds;
using (var index = PgVectorIndex.Open(cs, table, dim, load))
{
    sw.Restart();
    for (var start = 0; start < count; start += Chunk)
    {
        var n = Math.Min(Chunk, count - start);
        index.Add(ids.AsSpan(start, n), vectors.AsSpan(start * dim, n * dim));
    }
    insertSeconds = sw.Elapsed.TotalSeconds;
    Log($"inserted {count:N0} in {insertSeconds:F1} s ({count / insertSeconds:F0}/s)");
    // Without an index every query scans the table: the exact baseline, timed on the first queries only.
    // (10 of them past 200k vectors: a scan of 1M takes seconds per query.)
    var scanQueries = Math.Min(queryCount, count <= 200_000 ? 100 : 10);
    rows.Add(Measure.Run(index, queries, scanQueries, dim, K, exact, efSearch: null));
    sw.Restart();
    index.BuildHnsw();
    buildSeconds = sw.Elapsed.TotalSeconds;
    Log($"built HNSW (m={m}, ef_construction={efc}) in {buildSeconds:F1} s ({count / buildSeconds:F0} vectors/s)");
}

foreach (var ef in efSearches)
{
    using var index = PgVectorIndex.Open(cs, table, dim, load with { Hnsw = true, EfSearch = ef, QueriesPerRoundTrip = 64 });
    rows.Add(Measure.Run(index, queries, queryCount, dim, K, exact, ef));
}

var result = new { count, dim, queries = queryCount, k = K, m, ef_construction = efc, maintenance_work_mem = mwm,
    insert_seconds = insertSeconds, insert_per_s = count / insertSeconds, build_seconds = buildSeconds,
    build_per_s = count / buildSeconds, rows };
File.WriteAllText(outPath, JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }));
return 0;

static class Measure
{
    public static object Run(PgVectorIndex index, float[] queries, int queryCount, int dim, int k, long[][] exact, int? efSearch)
    {
        var warm = Math.Min(20, queryCount);
        index.Search(queries.AsSpan(0, dim * warm), warm, k);
        var latencies = new double[queryCount];
        var hits = new SearchHit[queryCount][];
        var total = Stopwatch.StartNew();
        for (var q = 0; q < queryCount; q++)
        {
            var t = Stopwatch.GetTimestamp();
            hits[q] = index.Search(queries.AsSpan(q * dim, dim), 1, k)[0];
            latencies[q] = Stopwatch.GetElapsedTime(t).TotalMilliseconds;
        }
        var sequentialQps = queryCount / total.Elapsed.TotalSeconds;
        total.Restart();
        var batched = index.Search(queries.AsSpan(0, queryCount * dim), queryCount, k);
        var batchedQps = queryCount / total.Elapsed.TotalSeconds;
        Array.Sort(latencies);
        var found = 0;
        for (var q = 0; q < queryCount; q++) found += hits[q].Select(h => h.Id).Intersect(exact[q]).Count();
        var recall = found / (double)(queryCount * k);
        var row = new
        {
            index = efSearch is null ? "none (sequential scan)" : "hnsw",
            ef_search = efSearch,
            queries = queryCount,
            sequential_qps = sequentialQps,
            batched_qps = batchedQps,
            p50_ms = latencies[(int)(0.50 * (queryCount - 1))],
            p99_ms = latencies[(int)(0.99 * (queryCount - 1))],
            recall_at_10 = recall,
            batched_equals_single = batched.Zip(hits).All(p => p.First.Select(h => h.Id).SequenceEqual(p.Second.Select(h => h.Id))),
        };
        Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {row.index} ef_search={efSearch}: {sequentialQps:F0} QPS sequential, {batchedQps:F0} QPS batched, " +
            $"p50 {row.p50_ms:F2} ms, p99 {row.p99_ms:F2} ms, recall@10 {recall:F3} over {queryCount} queries");
        return row;
    }
}

/// <summary>SIMD inner product for the exact reference.</summary>
static class VectorDot
{
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var acc = Vector<float>.Zero;
        var i = 0;
        for (; i <= a.Length - Vector<float>.Count; i += Vector<float>.Count)
            acc += new Vector<float>(a[i..]) * new Vector<float>(b[i..]);
        var s = Vector.Sum(acc);
        for (; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }
}

/// <summary>The exact top-k by inner product (= cosine for unit vectors): the reference for recall.</summary>
static class ExactSearch
{
    public static long[][] TopK(float[] vectors, int dim, float[] queries, int queryCount, int k)
    {
        var count = vectors.Length / dim;
        var result = new long[queryCount][];
        Parallel.For(0, queryCount, q =>
        {
            var query = queries.AsSpan(q * dim, dim);
            var best = new PriorityQueue<long, float>(k + 1);
            for (var i = 0; i < count; i++)
            {
                var s = VectorDot.Dot(query, vectors.AsSpan(i * dim, dim));
                if (best.Count < k) best.Enqueue(i, s);
                else if (best.TryPeek(out _, out var worst) && s > worst) best.EnqueueDequeue(i, s);
            }
            result[q] = best.UnorderedItems.Select(e => e.Element).ToArray();
        });
        return result;
    }
}
