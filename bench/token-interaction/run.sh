#!/usr/bin/env bash
# Cost of token-wise interaction with all image tokens (FILIP) vs Wukong's K = 12 reduced tokens, at ViT-B/32's
# 7×7 and ViT-B/16's 14×14 grids: similarity, loss forward+backward, and a whole training step (fp32, one thread, CPU time).
# Writes bench/results/token-interaction.{md,json}. Quality (retrieval, zero-shot) comes from the seed-methods bench.
# Usage: bench/token-interaction/run.sh [BATCH=64] [REPEATS=7]  (the train step runs REPEATS/2 times)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
batch="${1:-64}"; repeats="${2:-7}"
dotnet build "$root/bench/token-interaction/TokenInteraction.csproj" -c Release -nologo -v q -clp:ErrorsOnly
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
dotnet "$root/bench/token-interaction/bin/Release/net10.0/TokenInteraction.dll" "$batch" "$repeats" "$tmp/out" >/dev/null
python3 - "$root" "$batch" "$repeats" "$tmp/out" <<'PY'
import json, sys, subprocess, datetime, os
root, batch, repeats, out = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
commit = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
date = datetime.date.today().isoformat()
rows = json.load(open(out + ".rows.json"))
table = open(out + ".table.md").read()
result = {"bench": "token-interaction", "date": date, "commit": commit, "nproc": os.cpu_count(), "cpu": cpu,
          "batch": int(batch), "repeats": int(repeats), "baseline": "full-token FILIP interaction of the same grid", "rows": rows}
md = [f"# token-interaction ({date}, commit {commit}, {os.cpu_count()} cores, {cpu})", "",
      f"Command: `bench/token-interaction/run.sh {batch} {repeats}`", "", table,
      "- *similarity*: both token-wise similarities (s^I, s^T) of all pairs from ready normalised tokens, no autograd; "
      "the reduced rows include running the reduction layer on the batch's image tokens.",
      "- *loss fwd+bwd*: from the towers' projected tokens: [token reduction →] L2 norm → FILIP loss, forward and backward.",
      "- *train step*: a whole step (towers, loss, backward, AdamW) of a small dual encoder (6-layer 128-wide ViT at "
      "224 px with that grid, 2-layer BERT, joint space 256). Its towers are far smaller than ViT-B, so the "
      "interaction is a larger share of the step here than in Wukong's setting.",
      "- The multiply count n1·n2·D counts every text position (n2 = 32, pads included: they are masked after the "
      "product). The reduction adds h·w·(2C²/g + C·K) + K·h·w·C multiplies per image (not per pair): "
      + ", ".join(f"{r['reduction_multiplies_per_image']:,} for {r['grid'].split(' (')[0]}" for r in rows if r["reduced"]) + ".",
      "- CPU time on one thread measures the work even on a shared machine (this one had 2 cores and a load of 10–15 from other jobs); wall-clock medians are in token-interaction.json.", ""]
os.makedirs(f"{root}/bench/results", exist_ok=True)
open(f"{root}/bench/results/token-interaction.json", "w").write(json.dumps(result, indent=2) + "\n")
open(f"{root}/bench/results/token-interaction.md", "w").write("\n".join(md))
print("\n".join(md))
PY
