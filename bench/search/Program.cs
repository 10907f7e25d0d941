using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using SearchBench;
using Tuwen.Search;

// Embedded index bench: N clustered unit vectors (BenchData), exact fp16, exact int8 and IVF at several nprobe;
// QPS for single queries and batches of 32, p50/p99 latency, recall@10 against exact fp16, build time, file size.
// Usage: SearchBench OUT_DIR WORK_DIR [count=1000000] [queries=1000] [command line to record]
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
var outDir = args[0];
var work = args[1];
int count = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 1_000_000;
int queryCount = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 1000;
string command = args.Length > 4 ? args[4] : "bench/search/run.sh";
const int Dim = 512, K = 10, Batch = 32, Clusters = 10_000, ChunkRows = 50_000;
const double NoiseNorm = 0.75;
// Exact search reads every vector per batch: its measurements use a prefix of the queries to stay within minutes.
int truthQueries = Math.Min(queryCount, 256), exactSingles = Math.Min(queryCount, 16);
var data = new BenchData(Dim, Clusters, NoiseNorm, seed: 7);
var queries = data.Rows(1, 0, queryCount);
Directory.CreateDirectory(work);
var rows = new List<Dictionary<string, object>>();
SearchHit[][]? truth = null;

EmbeddedVectorIndex Build(string kind, out double seconds)
{
    var clock = Stopwatch.StartNew();
    var path = Path.Combine(work, kind + ".tvx");
    EmbeddedVectorIndex index;
    if (IndexKinds.Approximate(kind))
    {
        int sampleSize = IndexKinds.SampleSize(count);
        var random = new Random(3);
        var sampleRows = Enumerable.Range(0, sampleSize).Select(_ => (long)random.NextInt64(count)).ToArray();
        var sample = new float[(long)sampleSize * Dim];
        Parallel.For(0, sampleSize, i => data.Row(0, sampleRows[i], sample.AsSpan(i * Dim, Dim)));
        index = IndexKinds.Create(kind, path, Dim, sample, sampleSize, count);
    }
    else index = IndexKinds.Create(kind, path, Dim, [], 0, count);
    for (int first = 0; first < count; first += ChunkRows)
    {
        int n = Math.Min(ChunkRows, count - first);
        index.Add([.. Enumerable.Range(first, n).Select(i => (long)i)], data.Rows(0, first, n));
    }
    index.Save();
    seconds = clock.Elapsed.TotalSeconds;
    return index;
}

(double Qps, double P50, double P99, SearchHit[][] Hits) Measure(EmbeddedVectorIndex index, int queriesUsed, int batch)
{
    var latencies = new List<double>();
    var hits = new List<SearchHit[]>();
    var total = Stopwatch.StartNew();
    for (int q = 0; q < queriesUsed; q += batch)
    {
        int n = Math.Min(batch, queriesUsed - q);
        var clock = Stopwatch.StartNew();
        hits.AddRange(index.Search(queries.AsSpan(q * Dim, n * Dim), n, K));
        latencies.Add(clock.Elapsed.TotalMilliseconds);
    }
    double seconds = total.Elapsed.TotalSeconds;
    latencies.Sort();
    double Percentile(double p) => latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(p * latencies.Count) - 1)];
    return (queriesUsed / seconds, Percentile(0.5), Percentile(0.99), [.. hits]);
}

double Recall(SearchHit[][] found) =>
    truth!.Zip(found).Average(p => p.First.Select(h => h.Id).Intersect(p.Second.Select(h => h.Id)).Count() / (double)p.First.Length);

void Record(string kind, string setting, double build, long bytes, EmbeddedVectorIndex index, int singles, int batched)
{
    var single = Measure(index, singles, 1);
    var batch = Measure(index, batched, Batch);
    truth ??= batch.Hits[..truthQueries];
    double recall = Recall(batch.Hits[..truthQueries]);
    var row = new Dictionary<string, object>
    {
        ["index"] = kind, ["setting"] = setting, ["qps_single"] = Math.Round(single.Qps, 1), ["p50_ms"] = Math.Round(single.P50, 2),
        ["p99_ms"] = Math.Round(single.P99, 2), ["qps_batch32"] = Math.Round(batch.Qps, 1), ["batch32_p50_ms"] = Math.Round(batch.P50, 1),
        ["recall_at_10"] = Math.Round(recall, 4), ["single_queries"] = singles, ["batched_queries"] = batched,
        ["build_s"] = Math.Round(build, 1), ["file_mib"] = Math.Round(bytes / 1048576.0, 1),
        ["working_set_mib"] = Math.Round(Environment.WorkingSet / 1048576.0),
    };
    rows.Add(row);
    Console.Error.WriteLine(string.Join(", ", row.Select(r => $"{r.Key}={r.Value}")));
}

foreach (var kind in new[] { "exact", "exact-int8", "ivf" })
{
    using var index = Build(kind, out double build);
    long bytes = new FileInfo(index.Path).Length;
    if (kind == "ivf")
        foreach (int nprobe in new[] { 8, 16, 32, 64, 128 })
        {
            index.NProbe = nprobe;
            Record(kind, $"lists {IndexKinds.DefaultLists(count)}, nprobe {nprobe}", build, bytes, index, queryCount, queryCount);
        }
    else Record(kind, "all vectors", build, bytes, index, exactSingles, truthQueries);
    File.Delete(index.Path);
}

var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";
var commit = Environment.GetEnvironmentVariable("BENCH_COMMIT") ?? "?";
var meta = new Dictionary<string, object>
{
    ["bench"] = "search", ["date"] = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), ["commit"] = commit,
    ["nproc"] = Environment.ProcessorCount, ["cpu"] = cpu, ["command"] = command, ["vectors"] = count, ["dim"] = Dim,
    ["queries"] = queryCount, ["k"] = K, ["clusters"] = Clusters, ["noise_norm"] = NoiseNorm, ["load_after"] = File.ReadAllText("/proc/loadavg").Trim(),
    ["rows"] = rows,
};
File.WriteAllText(Path.Combine(outDir, "search.json"), JsonSerializer.Serialize(meta, new JsonSerializerOptions { WriteIndented = true }) + "\n");
File.WriteAllText(Path.Combine(outDir, "search.md"), SearchReport.Markdown(meta, rows, PreservedPgvector(Path.Combine(outDir, "search.md"))));
Console.Write(File.ReadAllText(Path.Combine(outDir, "search.md")));

// The pgvector rows are written by bench/search/pgvector* between these markers; a rerun of this bench keeps them.
static string? PreservedPgvector(string path)
{
    if (!File.Exists(path)) return null;
    var text = File.ReadAllText(path);
    int start = text.IndexOf(SearchReport.PgBegin, StringComparison.Ordinal), end = text.IndexOf(SearchReport.PgEnd, StringComparison.Ordinal);
    return start >= 0 && end > start ? text[(start + SearchReport.PgBegin.Length)..end].Trim('\n') : null;
}
