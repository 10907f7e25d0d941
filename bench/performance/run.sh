#!/usr/bin/env bash
# The performance suite: every figure beside its baseline measured in the same run. Matmul peak (TorchSharp vs
# the PyTorch peer), training pairs/s Tuwen vs a plain PyTorch peer (tiny at batch 256, vit-b-16 at batch 8,
# fp32 and bf16) with MFU from ModelFlops, input pipeline (decode + resize + augment on one core vs
# img2dataset's ≈ 84/core; the trainer's time blocked on data), inference (bench/onnx-inference), peak memory
# by batch, and the large-batch / grad-checkpoint / mixed-precision benches when they exist.
# Writes bench/results/performance.{md,json}; --quick is a smoke run (≈ 5 min, tiny sizes) that writes
# bench/results/performance-quick.{md,json} instead and re-runs none of the other benches.
# Usage: bench/performance/run.sh [--quick]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
mode=full; [ "${1:-}" = "--quick" ] && mode=quick
[ $# -gt 0 ] && [ "$1" != "--quick" ] && { echo "error: unknown option '$1' (usage: bench/performance/run.sh [--quick])" >&2; exit 2; }
if [ $mode = quick ]; then
  matmul_s=0.5; tiny_steps=3; tiny_warmup=2; vit_batch=2; vit_steps=1; warmup=1; decode_images=200; train_steps=12
  tiny_mem=(64 256); vit_mem=(1 2); orders=(tuwen-first); name=performance-quick
else
  matmul_s=3; tiny_steps=10; tiny_warmup=3; vit_batch=8; vit_steps=3; warmup=2; decode_images=1500; train_steps=60
  tiny_mem=(64 256 1024); vit_mem=(4 8 16); orders=(tuwen-first peer-first); name=performance
fi
vocab=4000
# OpenMP keeps its default (active) waiting, as users run it: run the suite on a quiet machine. (bench/onnx-inference
# sets passive waiting for itself.)
bash "$root/scripts/setup.sh"
bash "$root/bench/pytorch-peer.sh"
for project in bench/performance/PerformanceBench.csproj bench/train-throughput/TrainThroughput.csproj src/Tuwen.Cli/Tuwen.Cli.csproj; do
  dotnet build "$root/$project" -c Release -nologo -v q -clp:ErrorsOnly >&2
done
bench="$root/bench/performance/bin/Release/net10.0/PerformanceBench.dll"
train="$root/bench/train-throughput/bin/Release/net10.0/TrainThroughput.dll"
peer="$root/bench/train-throughput/peer.py"
tuwen="$root/src/Tuwen.Cli/bin/Release/net10.0/Tuwen.Cli.dll"
work="$(mktemp -d /tmp/tuwen-performance.XXXXXX)"
trap 'rm -rf "$work"' EXIT
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
say() { printf '[performance] %s\n' "$*" >&2; }

# The training programs run libtorch on 2 threads (bench/train-throughput), so the peak they are divided by does too.
# Measured before and after the training rows; the report keeps each engine's best (neighbours only slow it down).
threads=2
matmul_peak() {
  say "matmul peak ($1)"
  dotnet "$bench" matmul "$matmul_s" $threads >> "$work/matmul.jsonl"
  /usr/bin/python3 "$root/bench/performance/matmul_peer.py" "$matmul_s" $threads >> "$work/matmul.jsonl"
}
: > "$work/matmul.jsonl"
matmul_peak before

# Training rows and memory rows are "model precision side batch json" lines, one process each.
# ORDER "peer-first" runs the PyTorch peer first, so that load drifting during a pair favours neither side.
train_row() {   # MODEL BATCH STEPS WARMUP PRECISION FILE [ORDER]
  local config="$root/configs/models/$1.json" ours theirs
  if [ "${7:-}" = peer-first ]; then theirs="$(/usr/bin/python3 "$peer" "$config" $vocab "$2" "$3" "$5" "$4")"; fi
  ours="$(dotnet "$train" "$config" $vocab "$2" "$3" "$5" "$4")"
  if [ "${7:-}" != peer-first ]; then theirs="$(/usr/bin/python3 "$peer" "$config" $vocab "$2" "$3" "$5" "$4")"; fi
  printf '%s %s tuwen %s %s\n%s %s pytorch %s %s\n' "$1" "$5" "$2" "$ours" "$1" "$5" "$2" "$theirs" >> "$6"
}
: > "$work/train.txt"; : > "$work/memory.txt"; : > "$work/flops.jsonl"
# Tiny steps are short enough for .NET's tiered JIT to show in the first ones: it gets more warm-up steps.
# Full runs measure each training row twice, Tuwen first then the peer first; the report keeps each side's best.
for order in "${orders[@]}"; do
  for precision in fp32 bf16; do
    say "training tiny@256 $precision ($order)"; train_row tiny 256 "$tiny_steps" "$tiny_warmup" $precision "$work/train.txt" "$order"
    say "training vit-b-16@$vit_batch $precision ($order)"; train_row vit-b-16 "$vit_batch" "$vit_steps" "$warmup" $precision "$work/train.txt" "$order"
  done
done
dotnet "$bench" flops "$root/configs/models/tiny.json" 256 >> "$work/flops.jsonl"
dotnet "$bench" flops "$root/configs/models/vit-b-16.json" "$vit_batch" >> "$work/flops.jsonl"
for b in "${tiny_mem[@]}"; do say "memory tiny@$b"; train_row tiny "$b" 1 1 bf16 "$work/memory.txt"; done
for b in "${vit_mem[@]}"; do say "memory vit-b-16@$b"; train_row vit-b-16 "$b" 1 1 bf16 "$work/memory.txt"; done

matmul_peak after

say "decode + resize + augment, one thread"
dotnet "$bench" decode "$root/../shared/data/imagenet-sample-250/images" "$decode_images" > "$work/decode.jsonl"

corpus="${TUWEN_HOME:-$HOME/.cache/tuwen}/corpora/emoji-zh/train"
if [ -f "$corpus/stats.json" ]; then
  say "tuwen train quickstart, $train_steps steps"
  dotnet "$tuwen" train --data "$corpus" --config quickstart --set steps="$train_steps" --set log_every=5 --set save_every=100000 \
    --out "$work/run" > "$work/train-run.txt" 2> "$work/train-run.err" || { cat "$work/train-run.err" >&2; exit 1; }
else
  echo "emoji-zh training shards not found at $corpus (run ./tuwen quickstart once)" > "$work/train-run.txt"
fi

# Benches other engineers own: re-run them in the full suite when they exist, fold in their results.
if [ $mode = full ]; then
  say "inference (bench/onnx-inference/run.sh 3)"
  bash "$root/bench/onnx-inference/run.sh" 3 >&2
  for other in large-batch grad-checkpoint mixed-precision; do
    # grad-checkpoint's defaults (batch 32, two timed steps, fp32 and bf16) alone take longer than the rest of the suite.
    other_args=(); [ $other = grad-checkpoint ] && other_args=(vit-b-16 1 "8 16" "bf16 fp32")
    if [ -f "$root/bench/$other/run.sh" ]; then say "bench/$other/run.sh ${other_args[*]}"; bash "$root/bench/$other/run.sh" "${other_args[@]}" >&2
    else say "bench/$other/run.sh not on this branch: skipped"; fi
  done
fi
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
command="bench/performance/run.sh${1:+ $1}"
/usr/bin/python3 "$root/bench/performance/report.py" "$root" "$work" "$name" "$mode" "$command" "$load_before" "$load_after"
