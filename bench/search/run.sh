#!/usr/bin/env bash
# Embedded search index bench: 1M seeded clustered 512-d unit vectors (see bench/search/BenchData.cs), 1,000
# queries; exact float16, exact int8 and IVF (√N lists) at nprobe 8–128: QPS (single and batches of 32), p50/p99,
# recall@10 vs exact, build time, file size. A few minutes on 2 cores; needs ≈ 4 GB of memory and 1.5 GB of /tmp.
# Writes bench/results/search.{md,json} (keeping the pgvector rows between their markers).
# Usage: bench/search/run.sh [COUNT=1000000] [QUERIES=1000]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
count="${1:-1000000}"
queries="${2:-1000}"
export OMP_WAIT_POLICY=PASSIVE
work="$(mktemp -d /tmp/tuwen-search-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT
dotnet build "$root/bench/search/SearchBench.csproj" -c Release -nologo -v q -clp:ErrorsOnly
export BENCH_COMMIT="$(git -C "$root" rev-parse --short HEAD)"
dotnet "$root/bench/search/bin/Release/net10.0/SearchBench.dll" "$root/bench/results" "$work" "$count" "$queries" \
  "bench/search/run.sh $count $queries"
