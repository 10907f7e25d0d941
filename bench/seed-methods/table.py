"""Collects bench/seed-methods/run.sh's runs into bench/results/seed-methods.{md,json} and prints the table."""
import datetime, json, os, re, subprocess, sys

root, out, steps, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
names = [n for n in ["clip", "brivl-moco", "lit", "filip", "reduced-token", "r2d2"] if os.path.exists(f"{out}/{n}.train.log")]
commit = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")

rows = []
for name in names:
    log = open(f"{out}/{name}.train.log").read()
    peak = re.search(r"peak memory: (\d+) MiB", log)
    ev = json.load(open(f"{out}/{name}.eval.json"))
    r, z = ev["retrieval"], ev["zero_shot"]
    row = {
        "method": name, "scoring": r.get("scoring") or "cosine",
        "t2i": [r["text_to_image"][k] for k in ("r1", "r5", "r10")],
        "i2t": [r["image_to_text"][k] for k in ("r1", "r5", "r10")],
        "mean_recall": r["mean_recall"], "zero_shot_top1": z["top1"], "zero_shot_mean_per_class": z["mean_per_class_accuracy"],
        "pairs_per_s": float(re.search(r"([\d.]+) pairs/s", log).group(1)),
        "peak_mib": int(peak.group(1)) if peak else None,
        "eval_s": round(float(open(f"{out}/{name}.eval.seconds").read()), 1),
    }
    if os.path.exists(f"{out}/{name}.prerank.json"):
        row["prerank_mean_recall"] = json.load(open(f"{out}/{name}.prerank.json"))["retrieval"]["mean_recall"]
    rows.append(row)

meta = {"bench": "seed-methods", "date": datetime.date.today().isoformat(), "commit": commit, "nproc": os.cpu_count(),
        "cpu": cpu, "steps": steps, "batch": batch, "baseline": "clip", "rows": rows}
json.dump(meta, open(f"{root}/bench/results/seed-methods.json", "w"), indent=2, ensure_ascii=False)

f = lambda v: f"{v:.2f}"
clip = rows[0]
lines = [
    f"# Seed methods on emoji-zh ({steps} steps × batch {batch}, same recipe and seed)",
    "",
    f"Command: `bench/seed-methods/run.sh {steps} {batch}` · commit {commit} · {os.cpu_count()} cores ({cpu}) · {meta['date']}",
    "",
    "Validation: emoji-zh val (facebook style, 3,645 images, 7,290 captions); zero-shot into the 10 emoji groups.",
    "T→I / I→T: recall@1/5/10 in %; MR: mean of the six recalls; pairs/s: training throughput (bf16);",
    "peak: the training process's peak resident memory; ×CLIP: MR relative to CLIP.",
    "",
    "| method | scoring | T→I R@1 | R@5 | R@10 | I→T R@1 | R@5 | R@10 | MR | ×CLIP | zero-shot top-1 | mean per-class | pairs/s | peak MiB | eval s |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
]
for r in rows:
    lines.append("| " + " | ".join([r["method"], r["scoring"], *map(f, r["t2i"]), *map(f, r["i2t"]), f(r["mean_recall"]),
                                     f"{r['mean_recall'] / clip['mean_recall']:.2f}" if clip["mean_recall"] > 0 else "–",
                                     f(r["zero_shot_top1"]), f(r["zero_shot_mean_per_class"]), f"{r['pairs_per_s']:.0f}",
                                     str(r["peak_mib"] or "–"), f"{r['eval_s']:.0f}"]) + " |")
for r in rows:
    if "prerank_mean_recall" in r:
        lines += ["", f"R2D2 two-stage retrieval: pre-ranking alone (dual encoder, cosine) MR {f(r['prerank_mean_recall'])} → "
                      f"re-ranked MR {f(r['mean_recall'])} ({r['mean_recall'] - r['prerank_mean_recall']:+.2f})."]
text = "\n".join(lines) + "\n"
open(f"{root}/bench/results/seed-methods.md", "w").write(text)
print(text)
