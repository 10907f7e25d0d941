#!/usr/bin/env bash
# HTTP load run against the search server on loopback: wrk posts Chinese text queries to /knn-service for a
# fixed time; QPS, p50/p99 latency and errors go to bench/results/serve.md.
#   bench/serve/run.sh [CHECKPOINT] [VECTORS] [SECONDS] [CONNECTIONS]
# Until `tuwen index build` is on main, the index is N random unit vectors in the server tests' in-memory
# catalog (brute-force search), served by the same TuwenServer as `tuwen serve`; the text queries go through the
# checkpoint's real text encoder.
set -euo pipefail
cd "$(dirname "$0")/../.."
checkpoint=${1:-/tmp/qs-i6/checkpoint}
vectors=${2:-10000}
seconds=${3:-20}
connections=${4:-8}
port=${PORT:-18080}
[ -d "$checkpoint" ] || { echo "checkpoint not found: $checkpoint (train one with ./tuwen quickstart)" >&2; exit 2; }
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 2; }; }

dotnet build bench/serve -c Release 2>&1 | grep -E " error |Build succeeded" | sort -u
bin=bench/serve/bin/Release/net10.0/ServeBench
log=$(mktemp)
"$bin" "$checkpoint" "$vectors" "$port" >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
  kill -0 "$server" 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.5
done
head -n1 "$log"
# Warm-up (JIT, first forwards), then the measured run.
wrk -t2 -c"$connections" -d3s -s bench/serve/knn.lua "http://127.0.0.1:$port" >/dev/null
cmd="wrk -t2 -c$connections -d${seconds}s -s bench/serve/knn.lua http://127.0.0.1:$port"
out=$($cmd)
echo "$out"
result=$(echo "$out" | grep '^RESULT')
val() { echo "$result" | grep -oE "$1=[0-9.]+" | cut -d= -f2; }
errors=$(( $(val non2xx) + $(val socket_errors) ))
metrics=$(curl -sf "http://127.0.0.1:$port/metrics" | grep -E 'tuwen_http_requests_total\{route="/knn-service"' || true)

mkdir -p bench/results
cat > bench/results/serve.md <<MD
# tuwen serve under HTTP load (wrk, loopback)

- date: $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git rev-parse --short HEAD), nproc $(nproc), CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
- model: $checkpoint (text queries embedded per request by its text encoder, TorchSharp, one forward at a time)
- index: $vectors random unit vectors, brute-force in-memory test double (the embedded SIMD index is not yet on this branch)
- command: \`bench/serve/run.sh $checkpoint $vectors $seconds $connections\` → \`$cmd\`
  (POST /knn-service {"text": 8 Chinese queries in turn, "num_images": 10}; dedup on; rate limiting off; 3 s warm-up first)

| requests | seconds | QPS | p50 ms | p99 ms | errors (non-2xx + socket) |
|---:|---:|---:|---:|---:|---:|
| $(val requests) | $(val duration_s) | $(val qps) | $(val p50_ms) | $(val p99_ms) | $errors |

Server-side counts (/metrics):

\`\`\`
$metrics
\`\`\`
MD
cat bench/results/serve.md
[ "$errors" = 0 ] || { echo "errors during the load run: $errors" >&2; exit 1; }
