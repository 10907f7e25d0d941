#!/usr/bin/env bash
# `tuwen corpus build` as a Slurm job array plus a dependent de-duplication job.
# Every array task runs the same command; Slurm sets SLURM_ARRAY_TASK_ID / _MIN / _COUNT, which pick the
# task's share of the work units (unit u → task u mod count). A requeued or resubmitted task continues
# from the units already finished. INPUT and OUT must be on a file system all nodes share.
# Usage: deploy/corpus/slurm-array.sh INPUT OUT [WORKERS=8] [extra `corpus build` flags …]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
input="${1:?input (URL lists, HTML directory or WARC files)}"; out="${2:?output directory}"; workers="${3:-8}"
shift $(( $# < 3 ? $# : 3 ))
cli="$root/src/Tuwen.Cli/bin/Release/net10.0/Tuwen.Cli.dll"
bash "$root/scripts/build.sh"
mkdir -p "$out"

array=$(sbatch --parsable --job-name=corpus-build --array=0-$((workers - 1)) \
  --cpus-per-task=4 --mem=8G --time=24:00:00 --requeue \
  --output="$out/slurm-%A_%a.log" \
  --wrap="dotnet '$cli' corpus build '$input' --out '$out' --no-merge $*")
echo "submitted worker array $array ($workers tasks)"

dedup=$(sbatch --parsable --job-name=corpus-dedup --dependency=afterok:"$array" \
  --cpus-per-task=2 --mem=16G --time=12:00:00 --output="$out/slurm-dedup-%j.log" \
  --wrap="dotnet '$cli' corpus dedup '$out'")
echo "submitted de-duplication $dedup (runs after all workers succeed)"
