#!/usr/bin/env bash
# Every seed pre-training method on emoji-zh with the same tiny sizes, the same recipe (configs/train/
# quickstart.json: bf16, AdamW, lr 1e-3, warm-up + cosine), the same number of steps and the same seed;
# each trained by `tuwen train` in its own process and evaluated by `tuwen eval zeroshot` (retrieval +
# zero-shot) on the validation split. Writes bench/results/seed-methods.{md,json}; the baseline is CLIP.
# LiT's image tower is the CLIP run's (locked), so LiT is listed with that extra pre-training.
# Usage: bench/seed-methods/run.sh [STEPS=400] [BATCH=128]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
steps="${1:-400}"; batch="${2:-128}"
bash "$root/scripts/setup.sh"
bash "$root/scripts/build.sh"
tuwen=(dotnet "$root/src/Tuwen.Cli/bin/Release/net10.0/Tuwen.Cli.dll")
home="${TUWEN_HOME:-$HOME/.cache/tuwen}"
corpus="$home/corpora/emoji-zh"
[ -f "$corpus/val/stats.json" ] || "${tuwen[@]}" corpus emoji >/dev/null
out="${TUWEN_BENCH_DIR:-/tmp/tuwen-seed-methods}"
rm -rf "$out"; mkdir -p "$out"
warmup=$(( steps / 16 ))
common=(--config quickstart --data "$corpus/train" --set "steps=$steps" --set "batch_size=$batch"
        --set "warmup_steps=$warmup" --set "save_every=100000" --set "log_every=20")

# name | model config | objective | extra --set
methods=(
  "clip|tiny|clip|"
  "brivl-moco|tiny-brivl|brivl-moco|objective_options.queue_size=4096"
  "lit|tiny|lit|objective_options.image_checkpoint=$out/clip"
  "filip|tiny|filip|"
  "reduced-token|tiny|reduced-token|objective_options.tokens=4"
  "r2d2|tiny|r2d2|"
)
only="${SEED_METHODS:-}"   # e.g. SEED_METHODS="clip filip" for a subset
for row in "${methods[@]}"; do
  IFS='|' read -r name model objective extra <<<"$row"
  if [ -n "$only" ] && [[ " $only " != *" $name "* ]]; then continue; fi
  echo "== $name ($model, $objective)" >&2
  args=("${common[@]}" --out "$out/$name" --set "model=$model" --set "objective=$objective")
  [ -n "$extra" ] && args+=(--set "$extra")
  "${tuwen[@]}" train "${args[@]}" >"$out/$name.train.log" 2>"$out/$name.train.err" || { cat "$out/$name.train.err" >&2; exit 1; }
  tail -4 "$out/$name.train.log" >&2
  start=$(date +%s.%N)
  "${tuwen[@]}" eval zeroshot --checkpoint "$out/$name" --data "$corpus/val" --json >"$out/$name.eval.json"
  echo "$(date +%s.%N) - $start" | bc >"$out/$name.eval.seconds"
  if [ "$objective" = r2d2 ]; then
    "${tuwen[@]}" eval retrieval --checkpoint "$out/$name" --data "$corpus/val" --json --scoring cosine >"$out/$name.prerank.json"
  fi
done
python3 "$root/bench/seed-methods/table.py" "$root" "$out" "$steps" "$batch"
