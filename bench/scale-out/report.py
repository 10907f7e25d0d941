"""Writes bench/results/scale-out.{md,json} from run.sh's measurements and model.py's rows.
Usage: python3 report.py ROOT WORK_DIR LOAD_BEFORE LOAD_AFTER COMMAND"""
import datetime
import json
import os
import statistics
import subprocess
import sys

sys.dont_write_bytecode = True   # no __pycache__ beside the bench
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model  # noqa: E402

root, work, load_before, load_after, command = sys.argv[1:6]
commit = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
perf = json.load(open(f"{root}/bench/results/performance.json"))
allreduce = json.load(open(f"{work}/allreduce.json"))
runs = [json.loads(l) for l in open(f"{work}/train.jsonl")]


def measured(run):
    """pairs/s and time-weighted fractions over the log windows after the first (start-up, warm-up)."""
    m = run["metrics"]
    first, last = m[0], m[-1]
    seconds = last["train_s"] - first["train_s"]
    pairs = (last["step"] - first["step"]) * run["batch"]
    def frac(key):
        spans = [(m[i].get(key, 0.0), m[i]["train_s"] - m[i - 1]["train_s"]) for i in range(1, len(m))]
        return sum(f * dt for f, dt in spans) / max(1e-9, sum(dt for _, dt in spans))
    return {"pairs_per_s": pairs / seconds, "allreduce_frac": frac("allreduce_frac") if "world_size" in last else None,
            "data_wait_frac": frac("data_wait_frac"), "world_size": last.get("world_size", 1), "final_line": run["final"]}


groups = {}
for run in runs:
    groups.setdefault(run["label"], []).append({**measured(run), "model": run["model"], "batch": run["batch"]})
result = {"bench": "scale-out", "date": datetime.date.today().isoformat(), "commit": commit, "nproc": os.cpu_count(), "cpu": cpu,
          "command": command, "load_before": load_before, "load_after": load_after,
          "baseline": "one plain process (--launcher none) of the same model, batch and steps, same run", "measured": [], "allreduce": allreduce}
fmt = lambda v, f: "–" if v is None else format(v, f)
md = [f"# scale-out ({result['date']}, commit {commit}, {os.cpu_count()} cores, {cpu})", "",
      f"Command: `{command}`. Load average before {load_before}, after {load_after}: the machine is shared, so timings are "
      "noisy; re-run on a quiet machine before quoting them.", "",
      "## Measured on this machine", "",
      "`tuwen train` on the emoji-zh training shards with the quickstart recipe (global batch split over the ranks; the CLI "
      "gives each rank cores / local ranks threads). pairs/s over the log windows after the first (start-up and warm-up "
      "excluded); the best of the interleaved repeats (the least disturbed on a shared machine) and the median, as ratios to one "
      "plain process of the same model. allreduce_frac and data_wait_frac: time-weighted over those windows, median of the repeats. "
      "Two processes on two cores cannot add compute over one process using both cores: what the rows show is the "
      "cost of the collectives and of splitting the cores between processes instead of threads.", "",
      "| model, global batch | mode | pairs/s best (each run) | × 1 process, best | × 1 process, median | allreduce_frac | data_wait_frac |",
      "|---|---|---:|---:|---:|---:|---:|"]
base = {}
for label, rows in groups.items():
    mdl = label.split("/")[0]
    rates = [r["pairs_per_s"] for r in rows]
    best, median = max(rates), statistics.median(rates)
    if label.endswith("/1 process"):
        base[mdl] = (best, median)
    ratio = best / base[mdl][0] if mdl in base else None
    ratio_median = median / base[mdl][1] if mdl in base else None
    ar = [r["allreduce_frac"] for r in rows if r["allreduce_frac"] is not None]
    entry = {"label": label, "runs": rows, "pairs_per_s_best": best, "pairs_per_s_median": median, "vs_one_process": ratio,
             "vs_one_process_median": ratio_median, "allreduce_frac_median": statistics.median(ar) if ar else None,
             "data_wait_frac_median": statistics.median(r["data_wait_frac"] for r in rows)}
    result["measured"].append(entry)
    each = ", ".join(f"{v:.1f}" for v in rates)
    md.append(f"| {mdl}, {rows[0]['batch']} | {label.split('/', 1)[1]} | {best:.1f} ({each}) | {fmt(ratio, '.2f')} | {fmt(ratio_median, '.2f')} | "
              f"{fmt(entry['allreduce_frac_median'], '.3f')} | {entry['data_wait_frac_median']:.3f} |")

p = allreduce["parameters"]
md += ["", "## All-reduce measured here (vit-b-16 gradients, `mpirun -np 2`, shared memory)", "",
       f"{p:,} parameters in {allreduce['tensors']} tensors: {p * 4 / 1e6:.0f} MB per step in fp32, {p * 2 / 1e6:.0f} MB in bf16. "
       f"{allreduce['repeats']} timed calls after one warm-up, {allreduce['threads_per_rank']} thread per rank. Bus bandwidth = "
       "2(N−1)/N · bytes / time (ring all-reduce; (N−1)/N for the all-gather), the figure NCCL's tests report; "
       "bf16 rows are against the fp32 `GradientBuckets.Average` row.", "",
       "| operation | wire | MB | median s | best s | bus GB/s | × fp32 Average time |", "|---|---|---:|---:|---:|---:|---:|"]
fp32_avg = next(r for r in allreduce["rows"] if "buckets" in r and r["wire"] == "fp32")["median_s"]
for r in allreduce["rows"]:
    rel = r["median_s"] / fp32_avg if "buckets" in r else None
    md.append(f"| {r['what']} | {r['wire']} | {r['bytes'] / 1e6:.1f} | {r['median_s']:.4f} | {r['best_s']:.4f} | {r['bus_gb_per_s']:.2f} | {fmt(rel, '.2f')} |")

m = model.scenarios(perf, allreduce)
result["model"] = m
result["assumptions"] = {k: {"value": v, "meaning": d} for k, (v, d) in model.ASSUMPTIONS.items()}
md += ["", "## Model: ViT-B/16 data parallel on N GPUs", "",
       "Step time = compute + feature all-gather + exposed gradient all-reduce. Compute = (per-GPU batch × training FLOPs "
       f"per pair + the loss's logits FLOPs) ÷ (peak × MFU); training FLOPs per pair {m['flops_per_pair'] / 1e9:.1f} G "
       f"(`ModelFlops` for configs/models/vit-b-16.json, from performance.json). All-reduce: ring, t = 2(N−1)/N · S / B + "
       f"2(N−1)·α per call, {m['buckets']} calls (the buckets `GradientBuckets` makes of these parameters), S = "
       f"{p * 4 / 1e6:.0f} MB fp32 / {p * 2 / 1e6:.0f} MB bf16. B: NVLink inside a node (N ≤ 8); beyond it the node's network "
       "bandwidth × efficiency (a node-aware ring with one channel per NIC sends 2(N−1)/N · S across each node boundary in "
       "total, split over the node's NICs). Feature all-gather: image + text, fp32, 2 × N × batch × 512 × 4 bytes, ring, "
       "exposed. Logits: Tuwen computes the B_global × B_global matrix on every rank (6·B_g²·512 training FLOPs), "
       "counted in compute. No overlap = Tuwen today (TorchSharp 0.107 exposes no gradient hooks, so the all-reduce "
       "runs after backward); overlap = DDP's best case, exposed = max(0, all-reduce − backward), backward = 2/3 of compute. "
       "Efficiency = pairs/s ÷ (N × one GPU's pairs/s without communication). Wire-format conversion costs are ignored. "
       "`this CPU per node` rows: one 2-core worker per node training at its measured vit-b-16 bf16 rate (performance.json, "
       "batch 8), so their compute time embeds this CPU's MFU; their overlap case is an upper bound, since on a CPU the "
       "MPI reduction itself takes cores from the backward pass. The second of them uses the bus bandwidth measured above "
       "(two ranks sharing this machine's memory and cores) instead of 10 GbE.", "",
       "| assumption | value | meaning |", "|---|---:|---|"]
for k, (v, d) in model.ASSUMPTIONS.items():
    md.append(f"| {k} | {v:.4g} | {d} |")
md.append(f"| mfu_measured | {m['mfu_measured']:.3f} | vit-b-16 bf16 training on this CPU against its measured bf16 matmul peak (performance.json) |")
md += ["", "| scenario | N | global batch | wire | bus GB/s | compute ms | all-reduce ms (latency) | gather ms | no overlap: pairs/s | eff. | AR share | overlap: pairs/s | eff. | AR share |",
       "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
for r in m["rows"]:
    no, ov = r["no_overlap"], r["overlap"]
    md.append(f"| {r['scenario']} | {r['n']} | {r['global_batch']} | {r['wire']} | {r['bus_gbps']:.2f} | {r['compute_s'] * 1e3:.0f} | "
              f"{r['allreduce_s'] * 1e3:.0f} ({r['allreduce_latency_s'] * 1e3:.0f}) | {r['gather_s'] * 1e3:.1f} | "
              f"{no['pairs_per_s']:,.0f} | {no['efficiency']:.2f} | {no['allreduce_share']:.2f} | {ov['pairs_per_s']:,.0f} | {ov['efficiency']:.2f} | {ov['allreduce_share']:.2f} |")
md += ["", "Two-level ring for comparison (NVLink reduce-scatter, one inter-node ring per GPU index on S/8, NVLink all-gather: "
       "2(7) + 2(N/8 − 1) hops per call instead of 2(N − 1)), all-reduce ms:", "",
       "| scenario | N | wire | flat ring ms | two-level ms |", "|---|---:|---|---:|---:|"]
for r in m["rows"]:
    if "allreduce_hierarchical_s" in r and r["n"] > 8:
        md.append(f"| {r['scenario']} | {r['n']} | {r['wire']} | {r['allreduce_s'] * 1e3:.0f} | {r['allreduce_hierarchical_s'] * 1e3:.0f} |")
md += ["", "The contrastive loss per GPU (per-GPU batch 128): Tuwen's B_g × B_g logits on every rank against local rows × "
       "global columns (open_clip's `local_loss`), as a share of the model's training FLOPs per step:", "",
       "| N | global batch | B_g×B_g GFLOP | share | local×global GFLOP | share | B_g×B_g fp32 logits MiB |", "|---:|---:|---:|---:|---:|---:|---:|"]
for l in m["loss"]:
    md.append(f"| {l['n']} | {l['global_batch']} | {l['global_rows_flops'] / 1e9:.1f} | {l['global_rows_flops'] / l['model_flops']:.3f} | "
              f"{l['local_rows_flops'] / 1e9:.2f} | {l['local_rows_flops'] / l['model_flops']:.4f} | {l['global_rows_logits_mib']:.0f} |")
def row(prefix, n, wire):
    return next(r for r in m["rows"] if r["scenario"].startswith(prefix) and r["n"] == n and r["wire"] == wire)


fast, modest, fast_hi = "A100, 4×200 Gb/s IB per node, MFU 0.40", "A100, 1×100 Gb/s IB per node", "A100, 4×200 Gb/s IB per node, MFU 0."
hi = next(r for r in m["rows"] if r["scenario"].startswith("A100, 4×200") and "this CPU" in r["scenario"] and r["n"] == 256 and r["wire"] == "fp32")
tiny2 = next((e for e in result["measured"] if e["label"].startswith("tiny/mpirun -np 2")), None)
vit2 = next((e for e in result["measured"] if e["label"].startswith("vit-b-16/mpirun -np 2")), None)
eff = lambda r, case="no_overlap": r[case]["efficiency"]
lines = ["", "## Reading", ""]
if tiny2:
    vit_text = (f"; for vit-b-16 at batch 8, {vit2['vs_one_process']:.2f}× with the all-reduce of its {allreduce['parameters'] * 4 / 1e6:.0f} MB of gradients "
                f"{100 * (vit2['allreduce_frac_median'] or 0):.0f} % of step time") if vit2 else ""
    lines.append(f"- Measured: two ranks on this 2-core machine run the tiny model at {tiny2['vs_one_process']:.2f}× one plain process "
                 f"(best runs; {tiny2['vs_one_process_median']:.2f}× by medians), the all-reduce {100 * (tiny2['allreduce_frac_median'] or 0):.0f} % "
                 f"of step time{vit_text}. One machine has no compute to add: what differs is the collectives plus two 1-thread "
                 "processes against one 2-thread process. Open MPI binds a rank to one core when it starts at most two, so "
                 "`mpirun -np 1` without `--bind-to none` trains on half the machine.")
lines.append(f"- Inside one node the all-reduce is cheap: {row(fast, 8, 'fp32')['allreduce_s'] * 1e3:.0f} ms over NVLink against "
             f"{row(fast, 8, 'fp32')['compute_s'] * 1e3:.0f} ms of compute, efficiency {eff(row(fast, 8, 'fp32')):.2f} without overlap. "
             f"Scaling breaks down across nodes: with 4×200 Gb/s per node, no-overlap efficiency {eff(row(fast, 64, 'fp32')):.2f} at 64 GPUs "
             f"and {eff(row(fast, 256, 'fp32')):.2f} at 256 (MFU 0.40); at this CPU's MFU the GPU finishes its compute sooner and "
             f"256 GPUs fall to {eff(hi):.2f}. With 1×100 Gb/s per node: {eff(row(modest, 64, 'fp32')):.2f} and {eff(row(modest, 256, 'fp32')):.2f}.")
r256 = row(fast, 256, "fp32")
lines.append(f"- At 256 GPUs the flat ring's latency term ({m['buckets']} buckets × 2·255 hops × 5 µs = {r256['allreduce_latency_s'] * 1e3:.0f} ms) "
             f"is most of its {r256['allreduce_s'] * 1e3:.0f} ms; a two-level ring needs {r256['allreduce_hierarchical_s'] * 1e3:.0f} ms (NCCL picks "
             "trees or such rings by itself; our MPI all-reduce leaves the algorithm to Open MPI). Fewer, larger buckets cut the same term.")
lines.append(f"- bf16 on the wire halves the bandwidth term: with 1×100 Gb/s it lifts no-overlap efficiency at 64 GPUs from "
             f"{eff(row(modest, 64, 'fp32')):.2f} to {eff(row(modest, 64, 'bf16')):.2f}, but buys little where latency dominates "
             f"({eff(row(fast, 256, 'fp32')):.2f} → {eff(row(fast, 256, 'bf16')):.2f} at 256 with 4×200 Gb/s). Overlap with the backward pass "
             f"buys most: {eff(row(fast, 64, 'fp32')):.2f} → {eff(row(fast, 64, 'fp32'), 'overlap'):.2f} at 64 GPUs and "
             f"{eff(row(modest, 64, 'bf16')):.2f} → {eff(row(modest, 64, 'bf16'), 'overlap'):.2f} for bf16 on 1×100 Gb/s; it needs per-parameter "
             "gradient hooks, which TorchSharp 0.107 does not expose.")
l256 = m["loss"][-1]
lines.append(f"- The rest of the gap at 256 GPUs even with full overlap ({eff(r256, 'overlap'):.2f}) is the loss: every rank computes the "
             f"{l256['global_batch']}² logits, {100 * l256['global_rows_flops'] / l256['model_flops']:.0f} % of the model's FLOPs and "
             f"{l256['global_rows_logits_mib'] / 1024:.0f} GiB per fp32 matrix; local rows × global columns (open_clip's `local_loss`) "
             f"would be {100 * l256['local_rows_flops'] / l256['model_flops']:.2f} %. The feature all-gather stays under "
             f"{max(r['gather_s'] for r in m['rows'] if r['scenario'].startswith('A100')) * 1e3:.0f} ms everywhere.")
md += lines
os.makedirs(f"{root}/bench/results", exist_ok=True)
open(f"{root}/bench/results/scale-out.json", "w").write(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
open(f"{root}/bench/results/scale-out.md", "w").write("\n".join(md) + "\n")
print("\n".join(md))
