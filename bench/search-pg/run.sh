#!/usr/bin/env bash
# pgvector HNSW on COUNT clustered 512-d unit vectors (bench/search's seeded data) in a private PostgreSQL 15 cluster on 127.0.0.1 (started
# here in a temp dir, stopped and deleted at the end): bulk insert (binary COPY) and HNSW build rate, then
# 1,000 queries per ef_search — p50/p99 latency and QPS of single queries, QPS of batched queries, recall@10
# against an exact search. Writes bench/results/search-pgvector.{md,json}.
# Usage: bench/search-pg/run.sh [COUNT=100000] [EF_SEARCH_LIST=40,100,200] [M=16] [EF_CONSTRUCTION=64]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
count="${1:-100000}"; efs="${2:-40,100,200}"; m="${3:-16}"; efc="${4:-64}"
dim=512; queries=1000
bin=/usr/lib/postgresql/15/bin
[ -f /usr/share/postgresql/15/extension/vector.control ] || { echo "PostgreSQL 15 + pgvector missing: run scripts/setup.sh" >&2; exit 2; }
# The HNSW graph must fit in maintenance_work_mem to be built in memory: about 2.5 KB per 512-d vector at m=16.
mwm="$(( (count * 3 + 1023) / 1024 + 64 ))MB"
work="$(mktemp -d /tmp/tuwen-pg-bench.XXXXXX)"
run_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$work"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
cleanup() { run_pg "$bin/pg_ctl" -D "$work/data" -m immediate -w stop >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
run_pg "$bin/initdb" -D "$work/data" -A trust -U postgres -E UTF8 --no-sync >/dev/null
# One parallel build worker besides the leader: two processes for two cores. Durability is off: the cluster
# is thrown away, and fsync would measure the disk, not pgvector.
run_pg "$bin/pg_ctl" -D "$work/data" -l "$work/server.log" -w -t 60 -o \
  "-p $port -k $work -c listen_addresses=127.0.0.1 -c shared_buffers=2GB -c max_parallel_maintenance_workers=1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_wal_size=8GB" \
  start >/dev/null
dotnet build "$root/bench/search-pg/SearchPgBench.csproj" -c Release -nologo -v q -clp:ErrorsOnly
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
dotnet "$root/bench/search-pg/bin/Release/net10.0/SearchPgBench.dll" \
  "Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres" "$count" "$dim" "$queries" "$m" "$efc" "$efs" "$mwm" "$work/result.json"
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
size="$(psql -h 127.0.0.1 -p "$port" -U postgres -At -c "select pg_size_pretty(pg_total_relation_size('bench_${count}_${dim}')), pg_size_pretty(pg_relation_size('bench_${count}_${dim}_embedding_hnsw'))")"
python3 - "$root" "$work/result.json" "bench/search-pg/run.sh $*" "$load_before" "$load_after" "$size" <<'PY'
import json, sys, subprocess, datetime, os
root, path, command, load_before, load_after, size = sys.argv[1:7]
r = json.load(open(path))
commit = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
pgv = "pgvector 0.8.0 (Debian 13 source) on PostgreSQL 15, Npgsql 10.0.3 + Pgvector 0.3.2"
total, index = size.split("|")
r.update({"bench": "search-pgvector", "date": datetime.date.today().isoformat(), "commit": commit, "nproc": os.cpu_count(),
          "cpu": cpu, "command": command.strip(), "load_before": load_before, "load_after": load_after, "engine": pgv,
          "table_size": total, "hnsw_size": index})
n = r["count"]
md = [f"# search-pgvector ({r['date']}, commit {commit}, {os.cpu_count()} cores, {cpu})", "",
      f"Command: `{r['command']}`. {pgv}; private cluster on 127.0.0.1 (shared_buffers 2GB, one parallel build",
      f"worker, fsync off), client in the same machine. {n:,} clustered {r['dim']}-d unit vectors (bench/search's generator: 10,000 centres, noise norm 0.75, seed 7), {r['queries']:,} queries from the same clusters, k = {r['k']}.",
      f"Load average (1/5/15 min) before: {load_before}, after: {load_after} — the machine is shared with other engineers' builds,",
      "so absolute figures are noisy.", "",
      f"- Insert (binary COPY, 20,000 rows per call, no index): {r['insert_seconds']:.1f} s = {r['insert_per_s']:,.0f} vectors/s",
      f"- HNSW build (m = {r['m']}, ef_construction = {r['ef_construction']}, maintenance_work_mem {r['maintenance_work_mem']}): "
      f"{r['build_seconds']:.1f} s = {r['build_per_s']:,.0f} vectors/s",
      f"- Size: table + index {total}, HNSW index {index}", "",
      "| backend | vectors | index | ef_search | queries | QPS (1 client, 1 query per call) | p50 ms | p99 ms | QPS (batched, 64 queries per round trip) | recall@10 |",
      "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
for row in r["rows"]:
    md.append(f"| pgvector | {n:,} | {row['index']} | {row['ef_search'] or '–'} | {row['queries']:,} | {row['sequential_qps']:.0f} | {row['p50_ms']:.2f} | {row['p99_ms']:.2f} | "
              f"{row['batched_qps']:.0f} | {row['recall_at_10']:.3f} |")
os.makedirs(f"{root}/bench/results", exist_ok=True)
open(f"{root}/bench/results/search-pgvector.json", "w").write(json.dumps(r, indent=2) + "\n")
open(f"{root}/bench/results/search-pgvector.md", "w").write("\n".join(md) + "\n")
print("\n".join(md))
PY
