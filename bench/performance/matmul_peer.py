"""PyTorch peer of the suite's matmul peak: the same shapes, dtypes and timing as `PerformanceBench matmul`.
Usage: matmul_peer.py SECONDS_PER_SHAPE THREADS → one JSON line per dtype."""
import json, sys, time
import torch

seconds = float(sys.argv[1])
torch.set_num_threads(int(sys.argv[2]))
shapes = [(1024, 1024, 1024), (2048, 2048, 2048), (1576, 768, 3072), (1576, 3072, 768)]
for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
    best, best_shape = 0.0, ""
    for m, k, n in shapes:
        a, b = torch.randn(m, k).to(dtype), torch.randn(k, n).to(dtype)
        for _ in range(2):
            a @ b
        start, iterations = time.perf_counter(), 0
        while time.perf_counter() - start < seconds or iterations < 3:
            a @ b
            iterations += 1
        gflops = 2 * m * k * n * iterations / (time.perf_counter() - start) / 1e9
        if gflops > best:
            best, best_shape = gflops, f"{m}x{k}x{n}"
    print(json.dumps({"engine": "pytorch " + torch.__version__, "dtype": name, "gflops": best, "shape": best_shape}))
