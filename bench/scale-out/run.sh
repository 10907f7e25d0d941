#!/usr/bin/env bash
# Data-parallel scale-out: `tuwen train` on the emoji-zh shards with the quickstart recipe (tiny, bf16, global
# batch 256) as one plain process, one MPI rank and two MPI ranks on this machine (optionally vit-b-16 at a small
# batch); the gradient all-reduce of vit-b-16 timed under mpirun -np 2 (fp32 and bf16 on the wire); and a ring
# all-reduce model of ViT-B/16 on 8/64/256 GPUs built from those measurements (bench/scale-out/model.py states its
# assumptions). Measured figures are ratios to the plain process. Writes bench/results/scale-out.{md,json}.
# Usage: bench/scale-out/run.sh [STEPS=60] [REPEATS=3] [VIT_STEPS=8 (0: skip)] [ALLREDUCE_REPEATS=3]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
steps="${1:-60}"; repeats="${2:-3}"; vit_steps="${3:-8}"; ar_repeats="${4:-3}"
data="$HOME/.cache/tuwen/corpora/emoji-zh/train"
if [ ! -f "$data/stats.json" ]; then
  echo "scale-out: no training shards at $data; make them with ./tuwen quickstart (it downloads and shards emoji-zh)" >&2
  exit 2
fi
command -v mpirun >/dev/null || { echo "scale-out: needs Open MPI's mpirun (scripts/setup.sh installs openmpi-bin)" >&2; exit 2; }
bash "$root/scripts/setup.sh"
bash "$root/scripts/build.sh"
dotnet build "$root/bench/scale-out/ScaleOut.csproj" -c Release -nologo -v q -clp:ErrorsOnly
cli="$root/src/Tuwen.Cli/bin/Release/net10.0/Tuwen.Cli.dll"
bench="$root/bench/scale-out/bin/Release/net10.0/ScaleOut.dll"
# Root in containers, more ranks than cores allowed, shared memory and loopback only, no CMA (as the tests run it).
mpi=(mpirun --allow-run-as-root --oversubscribe --mca btl self,vader)
export OMPI_MCA_btl_vader_single_copy_mechanism=none
# SCALE_OUT_KEEP=DIR keeps the raw measurements (train.jsonl, allreduce.json) for report.py.
if [ -n "${SCALE_OUT_KEEP:-}" ]; then work=$SCALE_OUT_KEEP; mkdir -p "$work"; rm -f "$work/train.jsonl"; else work=$(mktemp -d); trap 'rm -rf "$work"' EXIT; fi
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
train() { # label model batch steps log_every launcher-prefix...
  local label=$1 model=$2 batch=$3 n=$4 every=$5; shift 5
  local out="$work/$label"; rm -rf "$out"
  local final
  final=$("$@" dotnet "$cli" train --data "$data" --out "$out" --set model="$model" --set batch_size="$batch" \
    --set steps="$n" --set log_every="$every" --set save_every=100000 $([ "${1:-}" = mpirun ] && echo --launcher mpi || echo --launcher none) \
    2>/dev/null | tr '\r' '\n' | grep -o 'steps [0-9].*' || true)
  [ -f "$out/metrics.jsonl" ] || { echo "scale-out: $label failed" >&2; exit 1; }
  printf '{"label":"%s","model":"%s","batch":%s,"final":"%s","metrics":[%s]}\n' "$label" "$model" "$batch" "$final" \
    "$(paste -sd, "$out/metrics.jsonl")" >> "$work/train.jsonl"
  echo "scale-out: $label: $final" >&2
}
# Interleaved repeats, so the machine's load drifts over every mode alike.
for r in $(seq 1 "$repeats"); do
  train "tiny/1 process" tiny 256 "$steps" 10
  # Open MPI binds each rank to one core when there are at most two: one rank would get one core of two.
  train "tiny/mpirun -np 1 --bind-to none" tiny 256 "$steps" 10 "${mpi[@]}" --bind-to none -np 1
  train "tiny/mpirun -np 1 (default: bound to one core)" tiny 256 "$steps" 10 "${mpi[@]}" -np 1
  train "tiny/mpirun -np 2 (one core each)" tiny 256 "$steps" 10 "${mpi[@]}" -np 2
done
if [ "$vit_steps" -gt 0 ]; then
  train "vit-b-16/1 process" vit-b-16 8 "$vit_steps" 2
  train "vit-b-16/mpirun -np 2 (one core each)" vit-b-16 8 "$vit_steps" 2 "${mpi[@]}" -np 2
fi
"${mpi[@]}" -np 2 dotnet "$bench" "$root/configs/models/vit-b-16.json" "$ar_repeats" 128 2>/dev/null | grep -o '{.*' > "$work/allreduce.json"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
python3 "$root/bench/scale-out/report.py" "$root" "$work" "$load_before" "$load_after" \
  "bench/scale-out/run.sh $steps $repeats $vit_steps $ar_repeats"
