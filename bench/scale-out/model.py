"""Analytic model of data-parallel ViT-B/16 CLIP training on N accelerators: step time = compute + feature
all-gather + exposed gradient all-reduce (ring formula). Standard library only. Every assumption is a named
constant in ASSUMPTIONS; the measured inputs (parameter count, buckets, FLOPs per pair, this CPU's training
rate) come from the bench's own measurements and bench/results/performance.json.

Usage: python3 model.py PERFORMANCE_JSON ALLREDUCE_JSON  → prints the model's rows as JSON.
"""
import json
import sys

GB = 1e9

# Assumptions, in one place (the report prints this table).
ASSUMPTIONS = {
    "per_gpu_batch": (128, "pairs per GPU; N = 256 gives a global batch of 32,768, CLIP's own"),
    "gpu_bf16_peak_tflops": (312.0, "A100-SXM4 dense bf16 tensor-core peak"),
    "mfu_conservative": (0.40, "a conservative MFU for ViT-B/16 CLIP training on A100"),
    # mfu_measured is read from performance.json (vit-b-16 bf16 on this CPU, against its measured bf16 matmul peak).
    "gpus_per_node": (8, "GPUs per node on NVLink/NVSwitch"),
    "nvlink_bus_gbps": (240.0, "effective all-reduce bus bandwidth inside one node, GB/s"),
    "ib_fast_node_gbps": (100.0, "4 × 200 Gb/s InfiniBand per node, GB/s (nominal)"),
    "ib_modest_node_gbps": (12.5, "1 × 100 Gb/s InfiniBand per node, GB/s (nominal)"),
    "ethernet_node_gbps": (1.25, "10 GbE per node, GB/s (nominal)"),
    "network_efficiency": (0.80, "fraction of a network link's nominal rate an all-reduce achieves"),
    "alpha_fabric_s": (5e-6, "per-hop latency on NVLink / InfiniBand"),
    "alpha_ethernet_s": (25e-6, "per-hop latency on 10 GbE with TCP"),
    "embed_dim": (512, "feature width gathered for the contrastive loss"),
    "backward_share": (2 / 3, "share of compute in the backward pass (ModelFlops: training = 3 forwards)"),
}
A = {k: v for k, (v, _) in ASSUMPTIONS.items()}


def ring_allreduce_s(bytes_, n, bus_gbps, alpha, calls):
    """t = 2(N−1)/N · S / B + 2(N−1)·α per call; a bucketed exchange pays the latency once per bucket."""
    if n == 1:
        return 0.0
    return 2 * (n - 1) / n * bytes_ / (bus_gbps * GB) + calls * 2 * (n - 1) * alpha


def ring_allgather_s(total_bytes, n, bus_gbps, alpha, calls):
    """Each rank receives (N−1)/N of the gathered result: t = (N−1)/N · G / B + (N−1)·α per call."""
    if n == 1:
        return 0.0
    return (n - 1) / n * total_bytes / (bus_gbps * GB) + calls * (n - 1) * alpha


def logits_flops(batch_local, batch_global, embed, global_rows):
    """Training FLOPs of the similarity matrix per worker (forward ×3 for the backward).
    global_rows: Tuwen today (every rank computes B_g × B_g, open_clip's local_loss=False);
    otherwise local rows against global columns, two products (open_clip's local_loss=True)."""
    if global_rows:
        return 3 * 2.0 * batch_global * batch_global * embed
    return 3 * 2 * 2.0 * batch_local * batch_global * embed


def step(n, batch, seconds_per_flop, flops_per_pair, param_count, wire_bytes, buckets, bus_gbps, alpha, global_rows=True):
    """One data-parallel step on N workers; returns the times and the rates with and without overlap."""
    batch_global = n * batch
    model_flops = batch * flops_per_pair
    loss_flops = logits_flops(batch, batch_global, A["embed_dim"], global_rows)
    compute = (model_flops + loss_flops) * seconds_per_flop
    single = (batch * flops_per_pair + logits_flops(batch, batch, A["embed_dim"], global_rows)) * seconds_per_flop
    allreduce = ring_allreduce_s(param_count * wire_bytes, n, bus_gbps, alpha, buckets)
    latency = ring_allreduce_s(0, n, bus_gbps, alpha, buckets)
    # Image and text features, fp32, two all-gathers in the forward pass: always exposed.
    gather = ring_allgather_s(2 * n * batch * A["embed_dim"] * 4, n, bus_gbps, alpha, 2)
    backward = A["backward_share"] * compute
    out = {"n": n, "global_batch": batch_global, "compute_s": compute, "loss_share_of_compute": loss_flops / (model_flops + loss_flops),
           "allreduce_s": allreduce, "allreduce_latency_s": latency, "gather_s": gather, "single_pairs_per_s": batch / single}
    # No overlap: Tuwen today (TorchSharp 0.107 has no gradient hooks: buckets are reduced after backward).
    # Full overlap: DDP's best case, the all-reduce hidden behind the backward pass as far as it is shorter.
    for case, exposed in (("no_overlap", allreduce), ("overlap", max(0.0, allreduce - backward))):
        t = compute + gather + exposed
        rate = batch_global / t
        out[case] = {"step_s": t, "pairs_per_s": rate, "efficiency": rate / (n * batch / single), "allreduce_share": exposed / t}
    return out


def hierarchical_allreduce_s(n, bytes_, node_gbps, alpha, calls):
    """For comparison: a two-level ring (NVLink reduce-scatter, one ring per GPU index across the N/8 nodes on
    S/8 each at the node's bandwidth / 8, NVLink all-gather): about the same bandwidth term, but 2(g−1) + 2(m−1)
    hops per call instead of 2(N−1)."""
    g = min(n, A["gpus_per_node"])
    m = n // g
    intra = 2 * (g - 1) / g * bytes_ / (A["nvlink_bus_gbps"] * GB) + calls * 2 * (g - 1) * alpha
    inter = 0.0 if m == 1 else 2 * (m - 1) / m * bytes_ / (node_gbps * A["network_efficiency"] * GB) + calls * 2 * (m - 1) * alpha
    return intra + inter


def fabric_bus_gbps(n, node_gbps):
    """Inside a node the NVLink figure; beyond it a node-aware ring (one channel per NIC, as NCCL builds it)
    sends 2(N−1)/N·S across each node boundary in total, split over the node's NICs: the node's network
    bandwidth is the ring's bus bandwidth, capped by NVLink."""
    if n <= A["gpus_per_node"]:
        return A["nvlink_bus_gbps"]
    return min(A["nvlink_bus_gbps"], node_gbps * A["network_efficiency"])


def scenarios(perf, allreduce):
    flops = perf["flops_per_pair"]["vit-b-16"]["training_per_pair"]
    vit = next(r for r in perf["training"] if r["model"] == "vit-b-16" and r["precision"] == "bf16")
    mfu_measured = vit["mfu_bf16_peak"]
    params = allreduce["parameters"]
    buckets = next(r["buckets"] for r in allreduce["rows"] if "buckets" in r)
    measured_bus = {r["wire"]: r["bus_gb_per_s"] for r in allreduce["rows"] if "buckets" in r}
    peak = A["gpu_bf16_peak_tflops"] * 1e12
    gpu = [
        ("A100, 4×200 Gb/s IB per node, MFU 0.40", A["mfu_conservative"], A["ib_fast_node_gbps"]),
        ("A100, 4×200 Gb/s IB per node, MFU %.2f (this CPU's)" % mfu_measured, mfu_measured, A["ib_fast_node_gbps"]),
        ("A100, 1×100 Gb/s IB per node, MFU 0.40", A["mfu_conservative"], A["ib_modest_node_gbps"]),
    ]
    rows = []
    for name, mfu, node_gbps in gpu:
        for n in (8, 64, 256):
            for wire, wb in (("fp32", 4), ("bf16", 2)):
                r = step(n, A["per_gpu_batch"], 1 / (peak * mfu), flops, params, wb, buckets, fabric_bus_gbps(n, node_gbps), A["alpha_fabric_s"])
                r["allreduce_hierarchical_s"] = hierarchical_allreduce_s(n, params * wb, node_gbps, A["alpha_fabric_s"], buckets)
                rows.append({"scenario": name, "wire": wire, "bus_gbps": fabric_bus_gbps(n, node_gbps), **r})
    # Nodes like this machine: one 2-core worker per node, its measured vit-b-16 bf16 rate at its measured batch.
    cpu_batch = vit["batch"]
    cpu_seconds_per_flop = 1 / (vit["tuwen"]["pairs_per_s"] * flops)
    for name, bus in (("this CPU per node, 10 GbE", lambda w: A["ethernet_node_gbps"] * A["network_efficiency"]),
                      ("this CPU per node, all-reduce at the bus bandwidth measured here", lambda w: measured_bus[w])):
        for n in (2, 8, 64, 256):
            for wire, wb in (("fp32", 4), ("bf16", 2)):
                r = step(n, cpu_batch, cpu_seconds_per_flop, flops, params, wb, buckets, bus(wire), A["alpha_ethernet_s"])
                rows.append({"scenario": name + f" (batch {cpu_batch} per node)", "wire": wire, "bus_gbps": bus(wire), **r})
    # The contrastive loss's own cost, Tuwen's B_g × B_g on every rank against local rows only.
    loss = []
    for n in (8, 64, 256):
        b = A["per_gpu_batch"]
        model_flops = b * flops
        loss.append({"n": n, "global_batch": n * b,
                     "global_rows_flops": logits_flops(b, n * b, A["embed_dim"], True),
                     "local_rows_flops": logits_flops(b, n * b, A["embed_dim"], False),
                     "model_flops": model_flops,
                     "global_rows_logits_mib": n * b * n * b * 4 / 2**20})
    return {"mfu_measured": mfu_measured, "flops_per_pair": flops, "parameters": params, "buckets": buckets, "rows": rows, "loss": loss}


if __name__ == "__main__":
    print(json.dumps(scenarios(json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))), indent=1))
