#!/usr/bin/env bash
# bf16 mixed precision vs fp32 on real data: `tuwen train` on the emoji-zh quickstart recipe for N steps,
# once per precision, same seed and data order. Prints the loss table and writes
# bench/results/mixed-precision.{md,json,png} (both curves overlaid).
# Needs the emoji-zh corpus (`tuwen quickstart` downloads it to ~/.cache/tuwen/corpora/emoji-zh).
# Usage: bench/mixed-precision/run.sh [STEPS=300] [BATCH=256 (the recipe's)]
#        [KEY=VALUE ...] (more recipe overrides, e.g. warmup_steps=5 for a short proof run)
# Logs every 10 steps, or every STEPS/20 when that is less (a short proof run still gets a curve).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
steps="${1:-300}"; batch="${2:-256}"; log_every=$(( steps / 20 < 10 ? (steps / 20 > 0 ? steps / 20 : 1) : 10 ))
extra=()
for kv in "${@:3}"; do extra+=(--set "$kv"); done
data="${TUWEN_EMOJI_ZH:-$HOME/.cache/tuwen/corpora/emoji-zh}/train"
if [ ! -d "$data" ]; then echo "error: emoji-zh training shards not found at $data (run \`tuwen quickstart\` once first)" >&2; exit 2; fi
bash "$root/scripts/build.sh"
dotnet build "$root/bench/mixed-precision/MixedPrecision.csproj" -c Release -nologo -v q -clp:ErrorsOnly
tuwen="$root/src/Tuwen.Cli/bin/Release/net10.0/Tuwen.Cli.dll"
runs="$(mktemp -d)"
trap 'rm -rf "$runs"' EXIT
for precision in fp32 bf16; do
  dotnet "$tuwen" train --data "$data" --config quickstart --out "$runs/$precision" \
    --set "steps=$steps" --set "log_every=$log_every" --set "save_every=$steps" --set "batch_size=$batch" --set "precision=$precision" "${extra[@]}" \
    | sed -n "/^steps /p"
done
dotnet "$root/bench/mixed-precision/bin/Release/net10.0/MixedPrecision.dll" "$runs/fp32" "$runs/bf16" "$batch" \
  "$(git -C "$root" rev-parse --short HEAD)" "$root/bench/results" "${*:3}"
