#!/usr/bin/env bash
# Activation checkpointing: peak resident memory and step time of the training step with vs without it,
# ViT-B/16 + BERT-base (configs/models/vit-b-16.json) at batch 8/16/32, fp32 and bf16. Each configuration
# runs in its own process (peak RSS = VmHWM); with and without run back to back, so each ratio is taken
# side by side. Prints and writes bench/results/grad-checkpoint.{md,json}.
# Usage: bench/grad-checkpoint/run.sh [MODEL=vit-b-16] [STEPS=2] [BATCHES="8 16 32"] [PRECISIONS="fp32 bf16"]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
model="${1:-vit-b-16}"; steps="${2:-2}"; batches="${3:-8 16 32}"; precisions="${4:-fp32 bf16}"
dotnet build "$root/bench/grad-checkpoint/GradCheckpoint.csproj" -c Release -nologo -v q -clp:ErrorsOnly
config="$root/configs/models/$model.json"
bin="$root/bench/grad-checkpoint/bin/Release/net10.0/GradCheckpoint.dll"
rows=()
for precision in $precisions; do
  for batch in $batches; do
    off=$(dotnet "$bin" "$config" "$batch" "$steps" "$precision" off)
    on=$(dotnet "$bin" "$config" "$batch" "$steps" "$precision" on)
    rows+=("$off|$on")
  done
done
python3 - "$root" "$model" "$steps" "${rows[@]}" <<'PY'
import json, sys, subprocess, datetime, os
root, model, steps, rows = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
commit = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
result = {"bench": "grad-checkpoint", "date": datetime.date.today().isoformat(), "commit": commit, "nproc": os.cpu_count(),
          "cpu": cpu, "model": model, "timed_steps": int(steps),
          "baseline": "the same training step without checkpointing, run just before", "rows": []}
md = [f"# grad-checkpoint ({result['date']}, commit {commit}, {os.cpu_count()} cores, {cpu})", "",
      f"Model `{model}`, synthetic batches, training step (forward, CLIP loss, backward, clip, AdamW), mean of {steps} "
      "timed steps after one warm-up step; peak RSS = the process's VmHWM. Baseline: the same step without checkpointing.", "",
      "| precision | batch | peak RSS off (MiB) | peak RSS on (MiB) | memory on/off | step off (s) | step on (s) | time on/off |",
      "|---|---:|---:|---:|---:|---:|---:|---:|"]
for row in rows:
    off, on = (json.loads(part) for part in row.split("|"))
    memory, time = on["peak_rss_mib"] / off["peak_rss_mib"], on["step_s"] / off["step_s"]
    result["rows"].append({"precision": off["precision"], "batch": off["batch"], "off": off, "on": on,
                           "memory_ratio": memory, "time_ratio": time})
    md.append(f"| {off['precision']} | {off['batch']} | {off['peak_rss_mib']} | {on['peak_rss_mib']} | {memory:.2f} | "
              f"{off['step_s']:.2f} | {on['step_s']:.2f} | {time:.2f} |")
os.makedirs(f"{root}/bench/results", exist_ok=True)
open(f"{root}/bench/results/grad-checkpoint.json", "w").write(json.dumps(result, indent=2) + "\n")
open(f"{root}/bench/results/grad-checkpoint.md", "w").write("\n".join(md) + "\n")
print("\n".join(md))
PY
