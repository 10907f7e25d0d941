"""Assembles the performance suite's measurements (written by run.sh into a work directory) into
bench/results/NAME.{md,json}: each figure beside its baseline from the same run, and each goal met or missed.
Usage: report.py ROOT WORK NAME MODE COMMAND LOAD_BEFORE LOAD_AFTER"""
import datetime, json, os, re, subprocess, sys

root, work, name, mode, command, load_before, load_after = sys.argv[1:8]
IMG2DATASET_PER_CORE = 1350 / 16
commit = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
date = datetime.date.today().isoformat()
result = {"bench": "performance", "mode": mode, "date": date, "commit": commit, "nproc": os.cpu_count(), "cpu": cpu,
          "command": command, "load_before": load_before, "load_after": load_after}
goals = []   # (goal, figure, met)


def lines(path):
    return [l for l in open(path).read().splitlines() if l.strip()] if os.path.exists(path) else []


def met(ok):
    return "met" if ok else "**missed**"


md = [f"# performance ({date}, commit {commit}, {os.cpu_count()} cores, {cpu})", "",
      f"Command: `{command}`{' — a smoke run at toy sizes, not the result' if mode == 'quick' else ''}. "
      f"Load average (1/5/15 min) before: {load_before}, after: {load_after}; on a shared machine absolute figures "
      "drift, so every comparison is a ratio of two figures measured in this run.", ""]

# (a) matmul peak: the best of the same GEMM shapes in each engine; the hardware's practical peak is the better one.
matmul = [json.loads(l) for l in lines(f"{work}/matmul.jsonl")]
result["matmul"] = matmul
peak = {d: max(r["gflops"] for r in matmul if r["dtype"] == d) for d in ("fp32", "bf16")}
result["peak_gflops"] = peak
md += ["## Matmul peak (GFLOPS, best of square and ViT-B/16-shaped GEMMs on 2 threads, before and after the training rows)", "",
       "| dtype | Tuwen (TorchSharp) | PyTorch peer | ratio Tuwen / PyTorch |", "|---|---:|---:|---:|"]
for d in ("fp32", "bf16"):
    ours = max((r for r in matmul if r["dtype"] == d and r["engine"].startswith("tuwen")), key=lambda r: r["gflops"])
    theirs = max((r for r in matmul if r["dtype"] == d and r["engine"].startswith("pytorch")), key=lambda r: r["gflops"])
    md.append(f"| {d} | {ours['gflops']:.0f} ({ours['shape']}) | {theirs['gflops']:.0f} ({theirs['shape']}) | {ours['gflops'] / theirs['gflops']:.2f} |")
md += ["", f"bf16 / fp32 peak: {peak['bf16'] / peak['fp32']:.2f}×. MFU below divides by the better engine's peak.", ""]

# (b, c) training throughput and MFU.
flops = {r["model"]: r for r in (json.loads(l) for l in lines(f"{work}/flops.jsonl"))}
result["flops_per_pair"] = flops


def pairs(path):
    rows = {}
    for l in lines(path):
        model, precision, side, batch, js = l.split(" ", 4)
        key, row = (model, precision, int(batch), side), json.loads(js)
        # Rows measured twice (both orders) keep the faster: neighbours only ever slow a run down.
        if key not in rows or row.get("pairs_per_s", 0) > rows[key].get("pairs_per_s", 0):
            rows[key] = row
    return rows


train = pairs(f"{work}/train.txt")
result["training"] = []
md += ["## Training step throughput (pairs/s) and MFU", "",
       "Same architecture, synthetic batches, precision and optimiser (AdamW, clip 1.0), one process per figure; full runs "
       "measure each pair twice (Tuwen first, then the peer first) and keep each side's best. PyTorch peer: "
       "`bench/train-throughput/peer.py` (eager, `torch.autocast` for bf16). MFU = pairs/s × analytic training "
       "FLOPs per pair (`ModelFlops`: 3 × forward matmuls, incl. the B×B logits) ÷ measured matmul peak.", "",
       "| model | batch | precision | GFLOP/pair | Tuwen pairs/s | PyTorch pairs/s | ratio (goal ≥ 1.2) | Tuwen MFU vs bf16 peak | vs fp32 peak | PyTorch MFU vs bf16 peak |",
       "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
for (model, precision, batch, side), ours in sorted(train.items()):
    if side != "tuwen":
        continue
    theirs = train[(model, precision, batch, "pytorch")]
    per_pair = flops[model]["training_per_pair"]
    ratio = ours["pairs_per_s"] / theirs["pairs_per_s"]
    mfu = {k: ours["pairs_per_s"] * per_pair / (peak[k] * 1e9) for k in peak}
    peer_mfu = theirs["pairs_per_s"] * per_pair / (peak["bf16"] * 1e9)
    result["training"].append({"model": model, "batch": batch, "precision": precision, "tuwen": ours, "pytorch": theirs,
                               "ratio": ratio, "training_flops_per_pair": per_pair, "mfu_bf16_peak": mfu["bf16"],
                               "mfu_fp32_peak": mfu["fp32"], "pytorch_mfu_bf16_peak": peer_mfu})
    md.append(f"| {model} | {batch} | {precision} | {per_pair / 1e9:.2f} | {ours['pairs_per_s']:.1f} | {theirs['pairs_per_s']:.1f} | "
              f"{ratio:.2f} ({met(ratio >= 1.2)}) | {100 * mfu['bf16']:.1f} % | {100 * mfu['fp32']:.1f} % | {100 * peer_mfu:.1f} % |")
    goals.append((f"training {model}@{batch} {precision} ≥ 1.2× PyTorch", f"{ratio:.2f}×", ratio >= 1.2))
    if model == "vit-b-16" and precision == "bf16":
        goals.append((f"MFU ≥ 40 % of the bf16 peak, vit-b-16@{batch} bf16", f"{100 * mfu['bf16']:.1f} %", mfu["bf16"] >= 0.4))
md.append("")

# (d) input pipeline.
decode = [json.loads(l) for l in lines(f"{work}/decode.jsonl")]
if decode:
    d = decode[0]
    result["decode"] = d
    per_core = d["per_cpu_s"]
    md += ["## Input pipeline", "",
           f"JPEG decode + resize to 224 + the quickstart's train augmentation (random resized crop, scale 0.6–1) on one thread, "
           f"{d['images']} decodes of {d['distinct']} ImageNet sample JPEGs (mean {d['mean_kib']:.0f} KiB). Per core = images per "
           "CPU-second of the process (robust to neighbours); wall-clock rate beside it. Baseline: img2dataset's published "
           f"1,350 images/s on 16 cores ≈ {IMG2DATASET_PER_CORE:.0f}/core.", "",
           "| measure | images/s per core | wall images/s | ratio vs img2dataset | goal ≥ 250/core |", "|---|---:|---:|---:|---|",
           f"| decode + resize + augment | {per_core:.0f} | {d['per_s_wall']:.0f} | {per_core / IMG2DATASET_PER_CORE:.2f} | {met(per_core >= 250)} |", ""]
    goals.append(("decode + resize + augment ≥ 250 images/s/core", f"{per_core:.0f}/s ({per_core / IMG2DATASET_PER_CORE:.2f}× img2dataset)", per_core >= 250))
run_text = open(f"{work}/train-run.txt").read() if os.path.exists(f"{work}/train-run.txt") else ""
wait = re.search(r"([\d.]+) pairs/s, waiting for data ([\d.]+) %", run_text)
if wait:
    windows = [json.loads(l) for l in lines(f"{work}/run/metrics.jsonl")]
    fracs = [w["data_wait_frac"] for w in windows if "data_wait_frac" in w]
    steady = sum(fracs[1:]) / len(fracs[1:]) if len(fracs) > 1 else None
    overall = float(wait.group(2)) / 100
    result["data_wait"] = {"pairs_per_s": float(wait.group(1)), "overall": overall, "windows": fracs, "after_first_window": steady}
    md += [f"`tuwen train` on the emoji-zh quickstart recipe (bf16, batch 256, 2 loader workers), the trainer "
           f"blocked on the loader: **{100 * overall:.1f} %** of step time over the run"
           + (f", {100 * steady:.1f} % after the first log window (the prefetch fill)" if steady is not None else "")
           + f" at {float(wait.group(1)):.0f} pairs/s. Goal < 5 %: {met(overall < 0.05)}.", ""]
    goals.append(("trainer blocked on data < 5 % (quickstart)", f"{100 * overall:.1f} %", overall < 0.05))
else:
    md += [f"Data wait: not measured ({run_text.strip() or 'no output from tuwen train'}).", ""]

# (e) inference, folded in from bench/onnx-inference.
onnx_path = f"{root}/bench/results/onnx-inference.json"
if os.path.exists(onnx_path):
    onnx = json.load(open(onnx_path))
    result["inference"] = onnx
    fresh = "measured in this run" if mode == "full" else f"not re-run by --quick: its last result, {onnx['date']}, commit {onnx['commit']}"
    md += [f"## Inference (bench/onnx-inference, {fresh})", "",
           "Embeddings per second, same random-weight model, no_grad, engines alternating in one process. ONNX Runtime runs fp32 "
           "(its x86 CPU provider has no bf16 kernels); TorchSharp runs fp32, and bf16 products with weights cast once (as `tuwen serve` "
           "and `tuwen embed` do for a bf16 checkpoint). The goal compares Tuwen's faster precision with ORT's only one; the fp32 column "
           "is the like-for-like figure.", "",
           "| model | tower | batch | TorchSharp fp32 /s | TorchSharp bf16 /s | ORT fp32 /s | fp32: Tuwen / ORT | bf16: Tuwen / ORT | goal ≥ ORT |",
           "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in onnx["rows"]:
        bf16 = r.get("torch_bf16_per_s")
        best = max(r["torch_per_s"], bf16 or 0) / r["onnx_per_s"]
        md.append(f"| {r['model']} | {r['tower']} | {r['batch']} | {r['torch_per_s']:.1f} | {bf16 or float('nan'):.1f} | {r['onnx_per_s']:.1f} | "
                  f"{r['torch_per_s'] / r['onnx_per_s']:.2f} | {(bf16 or float('nan')) / r['onnx_per_s']:.2f} | {met(best >= 1)} |")
        fp32 = r["torch_per_s"] / r["onnx_per_s"]
        goals.append((f"inference {r['model']} {r['tower']} batch {r['batch']} ≥ ORT",
                      f"fp32 {fp32:.2f}×, bf16 {(bf16 or float('nan')) / r['onnx_per_s']:.2f}× ORT fp32",
                      "met" if fp32 >= 1 else "met in bf16 only; fp32 **missed**" if best >= 1 else False))
    md.append("")
else:
    md += ["## Inference", "", "bench/results/onnx-inference.json not found.", ""]

# (f) peak memory by batch.
memory = pairs(f"{work}/memory.txt")
result["memory"] = []
md += ["## Peak resident memory (VmHWM) by batch, bf16 training step, one process per row", "",
       "| model | batch | Tuwen MiB | PyTorch MiB | ratio Tuwen / PyTorch |", "|---|---:|---:|---:|---:|"]
by_model = {}
for (model, precision, batch, side), ours in sorted(memory.items(), key=lambda kv: (kv[0][0], kv[0][2])):
    if side != "tuwen":
        continue
    theirs = memory[(model, precision, batch, "pytorch")]
    result["memory"].append({"model": model, "batch": batch, "precision": precision, "tuwen_mib": ours["peak_rss_mib"], "pytorch_mib": theirs["peak_rss_mib"]})
    by_model.setdefault(model, []).append((batch, ours["peak_rss_mib"], theirs["peak_rss_mib"]))
    md.append(f"| {model} | {batch} | {ours['peak_rss_mib']:.0f} | {theirs['peak_rss_mib']:.0f} | {ours['peak_rss_mib'] / theirs['peak_rss_mib']:.2f} |")
md.append("")
for model, rows in by_model.items():
    (b0, t0, p0), (b1, t1, p1) = rows[0], rows[-1]
    if b1 > b0:
        md.append(f"- {model}: {(t1 - t0) / (b1 - b0):.2f} MiB per extra pair in Tuwen, {(p1 - p0) / (b1 - b0):.2f} in PyTorch (batch {b0} → {b1}).")
md.append("")

# (g) the other engineers' benches.
md += ["## Other benches of this issue", ""]
for other in ("large-batch", "grad-checkpoint", "mixed-precision"):
    path = f"{root}/bench/results/{other}.md"
    if os.path.exists(path):
        body = open(path).read().strip().splitlines()
        md += [f"### {other}" + (" (not re-run by --quick)" if mode == "quick" else ""), ""] + ["###" + l if l.startswith("#") else l for l in body] + [""]
        result[other] = f"bench/results/{other}.md"
    else:
        md += [f"- {other}: no bench/results/{other}.md on this branch (bench/{other}/run.sh missing or not run)."]
        result[other] = None
md.append("")

# A goal's status is met / missed, or a sentence where the answer depends on the precision.
status = lambda ok: ok if isinstance(ok, str) else met(ok)
md += ["## Goals", "", "| goal | figure | status |", "|---|---|---|"] + [f"| {g} | {f} | {status(ok)} |" for g, f, ok in goals]
result["goals"] = [{"goal": g, "figure": f, "met": ok if isinstance(ok, bool) else ok.startswith("met"), "status": status(ok)} for g, f, ok in goals]
os.makedirs(f"{root}/bench/results", exist_ok=True)
open(f"{root}/bench/results/{name}.json", "w").write(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
open(f"{root}/bench/results/{name}.md", "w").write("\n".join(md) + "\n")
print("\n".join(md))
