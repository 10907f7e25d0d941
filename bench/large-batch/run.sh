#!/usr/bin/env bash
# Contrastive loss at large batch on the quickstart (`tiny`) model: one training step's pairs/s and the
# process's peak resident set (VmHWM), batch MICRO → MAX_BATCH doubling, for the plain full-matrix loss
# (baseline), the chunked loss (memory linear in the batch), gradient caching over micro-batches of MICRO
# (same loss and gradients as plain, activations of one micro-batch) and plain accumulation (a different,
# per-micro-batch loss, for its cost); then the loss and its backward alone, to 4× MAX_BATCH. Each
# configuration runs in its own process. Figures are ratios to plain at the same batch, measured in the same
# run. Prints and writes bench/results/large-batch.{md,json}.
# Usage: bench/large-batch/run.sh [MAX_BATCH=4096] [MICRO=256] [STEPS=3] [PRECISION=bf16]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
max_batch="${1:-4096}"; micro="${2:-256}"; steps="${3:-3}"; precision="${4:-bf16}"; vocab=4000
bash "$root/scripts/setup.sh"
dotnet build "$root/bench/large-batch/LargeBatch.csproj" -c Release -nologo -v q -clp:ErrorsOnly
bin="$root/bench/large-batch/bin/Release/net10.0/LargeBatch.dll"
config="$root/configs/models/tiny.json"
# glibc raises its mmap threshold after the first large free, then keeps freed multi-MB blocks in the heap:
# peak RSS would measure the allocator's retention (a chunked loss freeing a block per iteration looked
# quadratic), not live memory. A fixed threshold returns them at once; same setting for every mode.
export MALLOC_MMAP_THRESHOLD_=65536
rows=()
run() { # mode batch
  # A configuration that dies (out of memory) is a row saying so, not the end of the bench.
  if out=$(dotnet "$bin" "$config" $vocab "$2" "$1" "$micro" "$steps" "$precision" 2>/dev/null | tail -1); then rows+=("$out")
  else rows+=("{\"mode\":\"$1\",\"batch\":$2,\"micro\":$micro,\"error\":\"exit $?\"}"); fi
  echo "large-batch: ${rows[-1]}" >&2
}
batch=$micro
while [ "$batch" -le "$max_batch" ]; do
  for mode in plain chunked cached accum; do run $mode "$batch"; done
  batch=$((batch * 2))
done
# The loss alone, to 4× the largest training batch: its own memory, B² (plain) against chunk·B (chunked).
batch=$micro
while [ "$batch" -le $((max_batch * 4)) ]; do
  for mode in loss-plain loss-chunked; do run $mode "$batch"; done
  batch=$((batch * 2))
done
python3 - "$root" "$micro" "$steps" "$precision" "${rows[@]}" <<'PY'
import json, sys, subprocess, datetime, os
root, micro, steps, precision, rows = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], [json.loads(r) for r in sys.argv[5:]]
commit = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
result = {"bench": "large-batch", "date": datetime.date.today().isoformat(), "commit": commit, "nproc": os.cpu_count(), "cpu": cpu,
          "model": "tiny", "micro_batch": micro, "steps": int(steps), "precision": precision,
          "baseline": "plain full-matrix CLIP loss, one graph over the whole batch, same batch, same run", "rows": []}
plain = {(r["mode"].startswith("loss-"), r["batch"]): r for r in rows if r["mode"] in ("plain", "loss-plain") and "error" not in r}
md = [f"# large-batch ({result['date']}, commit {commit}, {os.cpu_count()} cores, {cpu})", "",
      f"Model `tiny`, {precision}, synthetic batches, {steps} timed steps after one warm-up, micro-batch / chunk {micro}; "
      "each row its own process. Ratios are to `plain` at the same batch. `Δloss` = |first-step loss − plain's| "
      "(cached and chunked compute the same loss; accum contrasts within each micro-batch only, a different loss). "
      "`loss-*` rows: the loss and its backward alone on random features [B, 128] (no model, no batch held), "
      "ratios to `loss-plain`. `step MB` = peak RSS − RSS before the first step (what the steps themselves add). "
      "Timings on a shared machine are noisy; memory figures are not. Every process runs with "
      "`MALLOC_MMAP_THRESHOLD_=65536` so RSS shows live memory, not glibc's retention of freed blocks.", "",
      "| batch | mode | pairs/s | × plain | peak RSS MB | × plain | step MB | × plain | Δloss |", "|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
for r in rows:
    base = plain.get((r["mode"].startswith("loss-"), r["batch"]))
    if "error" in r:
        md.append(f"| {r['batch']} | {r['mode']} | failed ({r['error']}) | | | | | | |")
    else:
        r["pairs_per_s_vs_plain"] = r["pairs_per_s"] / base["pairs_per_s"] if base else None
        r["peak_rss_vs_plain"] = r["peak_rss_mb"] / base["peak_rss_mb"] if base else None
        r["step_peak_vs_plain"] = r["step_peak_mb"] / base["step_peak_mb"] if base and base["step_peak_mb"] > 0 else None
        r["loss_delta_vs_plain"] = abs(r["first_loss"] - base["first_loss"]) if base else None
        fmt = lambda v, f: "–" if v is None else format(v, f)
        md.append(f"| {r['batch']} | {r['mode']} | {r['pairs_per_s']:.0f} | {fmt(r['pairs_per_s_vs_plain'], '.2f')} | "
                  f"{r['peak_rss_mb']:.0f} | {fmt(r['peak_rss_vs_plain'], '.2f')} | {r['step_peak_mb']:.0f} | {fmt(r['step_peak_vs_plain'], '.2f')} | {fmt(r['loss_delta_vs_plain'], '.1e')} |")
    result["rows"].append(r)
os.makedirs(f"{root}/bench/results", exist_ok=True)
open(f"{root}/bench/results/large-batch.json", "w").write(json.dumps(result, indent=2) + "\n")
open(f"{root}/bench/results/large-batch.md", "w").write("\n".join(md) + "\n")
print("\n".join(md))
PY
