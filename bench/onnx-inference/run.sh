#!/usr/bin/env bash
# Inference throughput of ONNX Runtime vs TorchSharp (fp32) on the same random-weight models: the vit-b-16 and
# rn50 image towers and the BERT-base text tower (vit-b-16's), batch 1, 8 and 64. Checkpoints are written by
# the bench program, exported with `tuwen export onnx`, and both engines are timed side by side in one process.
# Prints and writes bench/results/onnx-inference.{md,json}.
# Usage: bench/onnx-inference/run.sh [SECONDS_PER_BATCH=6]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
budget="${1:-6}"
# Both engines wait passively between parallel regions: ORT's runtime sets session.intra_op.allow_spinning=0, and
# libtorch's OpenMP workers get the same here. With their default busy-waiting, a 2-core machine shared with
# other builds turns every barrier into a scheduler round trip (measured: tiny ViT at batch 1 went from 86 to
# 2 images/s under a load of 8), which would measure the neighbours, not the engines.
export OMP_WAIT_POLICY=PASSIVE
work="$(mktemp -d /tmp/tuwen-onnx-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT
dotnet build "$root/bench/onnx-inference/OnnxInference.csproj" -c Release -nologo -v q -clp:ErrorsOnly
dotnet build "$root/src/Tuwen.Cli/Tuwen.Cli.csproj" -c Release -nologo -v q -clp:ErrorsOnly
bench="$root/bench/onnx-inference/bin/Release/net10.0/OnnxInference.dll"
tuwen="$root/src/Tuwen.Cli/bin/Release/net10.0/Tuwen.Cli.dll"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
rows=()
for model in vit-b-16 rn50; do
  dotnet "$bench" checkpoint "$root/configs/models/$model.json" "$work/$model"
  dotnet "$tuwen" export onnx --checkpoint "$work/$model" --out "$work/$model-onnx" >&2
  towers=image; [ "$model" = vit-b-16 ] && towers="image text"
  for tower in $towers; do
    while IFS= read -r line; do rows+=("$model|$line"); done < <(dotnet "$bench" measure "$work/$model" "$work/$model-onnx" "$tower" 1,8,64 "$budget")
  done
  rm -rf "${work:?}/$model" "${work:?}/$model-onnx"
done
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$root" "$budget" "$load_before" "$load_after" "${rows[@]}" <<'PY'
import json, sys, subprocess, datetime, os
root, budget, load_before, load_after, rows = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
commit = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
command = f"bench/onnx-inference/run.sh {budget}"
result = {"bench": "onnx-inference", "date": datetime.date.today().isoformat(), "commit": commit, "nproc": os.cpu_count(),
          "cpu": cpu, "command": command, "load_before": load_before, "load_after": load_after,
          "engines": {"torch": "TorchSharp-cpu 0.107.0 fp32, no_grad", "torch_bf16": "TorchSharp-cpu 0.107.0, bf16 products (Autocast, weights cast once), no_grad",
                      "onnx": "Microsoft.ML.OnnxRuntime 1.31.1 CPU, opset 17, ORT_ENABLE_ALL (fp32; no bf16 on x86 CPUs)"},
          "rows": []}
md = [f"# onnx-inference ({result['date']}, commit {commit}, {os.cpu_count()} cores, {cpu})", "",
      f"Command: `{command}` (about {budget} s of timed iterations per batch size and engine pair, after 1–2 warm-up runs).",
      f"Random-weight models; TorchSharp (fp32, and bf16 products) under no_grad vs ONNX Runtime fp32 on the `tuwen export onnx` graphs, all with {os.cpu_count()} threads,",
      "alternating iteration by iteration in one process. Ratio > 1: ONNX Runtime is faster.",
      f"Load average (1/5/15 min) before: {load_before}, after: {load_after} — the machine is shared with other builds, so absolute",
      "figures are noisy; the ratios are measured under the same load.", "",
      "| model | tower | batch | iterations | TorchSharp fp32 /s | ORT fp32 /s | ratio ORT/TorchSharp fp32 | max abs diff (max abs feature) | TorchSharp bf16 /s | ratio ORT/TorchSharp bf16 | bf16 max abs diff |",
      "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
names = {("vit-b-16", "image"): "ViT-B/16", ("vit-b-16", "text"): "BERT-base (12 layers, vit-b-16's text tower)", ("rn50", "image"): "RN50 (ModifiedResNet)"}
for row in rows:
    model, line = row.split("|", 1)
    r = json.loads(line); r["model"] = model
    result["rows"].append(r)
    unit = "images" if r["tower"] == "image" else "texts"
    md.append(f"| {names.get((model, r['tower']), model)} | {r['tower']} | {r['batch']} | {r['iterations']} | {r['torch_per_s']:.1f} {unit} | {r['onnx_per_s']:.1f} {unit} | {r['ratio']:.2f} | {r['max_abs_diff']:.1e} ({r['max_abs_feature']:.2g}) | {r['torch_bf16_per_s']:.1f} {unit} | {r['ratio_bf16']:.2f} | {r['max_abs_diff_bf16']:.1e} |")
os.makedirs(f"{root}/bench/results", exist_ok=True)
open(f"{root}/bench/results/onnx-inference.json", "w").write(json.dumps(result, indent=2) + "\n")
open(f"{root}/bench/results/onnx-inference.md", "w").write("\n".join(md) + "\n")
print("\n".join(md))
PY
