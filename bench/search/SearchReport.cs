using System.Globalization;
using System.Text;

namespace SearchBench;

internal static class SearchReport
{
    public const string PgBegin = "<!-- pgvector:begin (rows written by bench/search/pgvector*, kept by bench/search/run.sh) -->";
    public const string PgEnd = "<!-- pgvector:end -->";

    public static string Markdown(Dictionary<string, object> meta, List<Dictionary<string, object>> rows, string? pgvector)
    {
        var md = new StringBuilder();
        string F(object v) => Convert.ToString(v, CultureInfo.InvariantCulture)!;
        md.AppendLine("# Search: embedded index on 1M × 512-d vectors").AppendLine();
        md.AppendLine($"- date {meta["date"]}, commit {meta["commit"]}, nproc {meta["nproc"]}, CPU {meta["cpu"]}, load after the run {meta["load_after"]}");
        md.AppendLine($"- command: `{meta["command"]}`");
        md.AppendLine($"- data: {meta["vectors"]:N0} seeded unit vectors, dim {meta["dim"]}, around {meta["clusters"]:N0} random unit centres with Gaussian noise of norm {meta["noise_norm"]} " +
            "(renormalised; cluster mates have cosine ≈ 0.64, other vectors ≈ 0), and " + $"{meta["queries"]} queries drawn the same way; k = {meta["k"]}.");
        md.AppendLine("- recall@10 is against exact float16 search over the same vectors, on the first 256 queries. Exact search reads all 1M vectors per " +
            "call, so its single-query numbers use the first 16 queries (p99 of 16 = their maximum) and its batches the first 256.");
        md.AppendLine("- clip-retrieval (the anchor) reports ≈ 20 QPS for its back end; the goal here is ≥ 200 QPS at recall@10 ≥ 0.95 on 2 cores.").AppendLine();
        md.AppendLine("| index | setting | QPS single | p50 ms | p99 ms | QPS batch 32 | batch p50 ms | recall@10 | build s | file MiB |");
        md.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in rows)
            md.AppendLine($"| {r["index"]} | {r["setting"]} | {F(r["qps_single"])} | {F(r["p50_ms"])} | {F(r["p99_ms"])} | {F(r["qps_batch32"])} | " +
                $"{F(r["batch32_p50_ms"])} | {F(r["recall_at_10"])} | {F(r["build_s"])} | {F(r["file_mib"])} |");
        md.AppendLine(PgBegin);
        md.AppendLine(pgvector ?? "| pgvector HNSW | _to be filled by the pgvector bench (pg engineer)_ | | | | | | | | |");
        md.AppendLine(PgEnd);
        md.AppendLine("| clip-retrieval (published, README) | back end with memory-mapped faiss indices, whole request incl. embedding the query | ≈ 20 | ≈ 50 | | | | | | |");
        return md.ToString();
    }
}
