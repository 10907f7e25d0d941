#!/usr/bin/env bash
# Training throughput of the quickstart model, Tuwen vs a plain PyTorch peer of the same architecture
# (Debian's python3-torch with OpenBLAS, 2 threads, bf16 via torch.autocast), on identical synthetic
# batches. Prints and writes bench/results/train-throughput.{md,json}; figures are ratios to the peer.
# Usage: bench/train-throughput/run.sh [MODEL=tiny] [STEPS=20]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
model="${1:-tiny}"; steps="${2:-20}"; batch=256; vocab=4000
bash "$root/scripts/setup.sh"
bash "$root/bench/pytorch-peer.sh"
dotnet build "$root/bench/train-throughput/TrainThroughput.csproj" -c Release -nologo -v q -clp:ErrorsOnly
config="$root/configs/models/$model.json"
bin="$root/bench/train-throughput/bin/Release/net10.0/TrainThroughput.dll"
rows=()
for precision in fp32 bf16; do
  ours=$(dotnet "$bin" "$config" $vocab $batch "$steps" $precision)
  peer=$(/usr/bin/python3 "$root/bench/train-throughput/peer.py" "$config" $vocab $batch "$steps" $precision)
  rows+=("$precision|$ours|$peer")
done
python3 - "$root" "$model" "${rows[@]}" <<'PY'
import json, sys, subprocess, datetime, os
root, model, rows = sys.argv[1], sys.argv[2], sys.argv[3:]
commit = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
result = {"bench": "train-throughput", "date": datetime.date.today().isoformat(), "commit": commit, "nproc": os.cpu_count(),
          "cpu": cpu, "model": model, "baseline": "plain PyTorch peer, same architecture and batches", "rows": []}
md = [f"# train-throughput ({result['date']}, commit {commit}, {os.cpu_count()} cores, {cpu})", "",
      f"Model `{model}`, batch 256, synthetic batches; baseline: plain PyTorch peer of the same architecture.", "",
      "| precision | Tuwen pairs/s | PyTorch pairs/s | ratio (Tuwen / PyTorch) |", "|---|---:|---:|---:|"]
for row in rows:
    precision, ours, peer = row.split("|")
    ours, peer = json.loads(ours), json.loads(peer)
    ratio = ours["pairs_per_s"] / peer["pairs_per_s"]
    result["rows"].append({"precision": precision, "tuwen": ours, "peer": peer, "ratio": ratio})
    md.append(f"| {precision} | {ours['pairs_per_s']:.0f} | {peer['pairs_per_s']:.0f} ({peer['engine']}) | {ratio:.2f} |")
os.makedirs(f"{root}/bench/results", exist_ok=True)
open(f"{root}/bench/results/train-throughput.json", "w").write(json.dumps(result, indent=2) + "\n")
open(f"{root}/bench/results/train-throughput.md", "w").write("\n".join(md) + "\n")
print("\n".join(md))
PY
