#!/usr/bin/env bash
# The benches' PyTorch peer: Debian's python3-torch with OpenBLAS (without it, fp32 matmuls fall back to the
# reference BLAS, ~25× slower — ../shared/docs/environment.md). Idempotent; run as root.
set -euo pipefail
need=()
for p in python3-torch libopenblas0-pthread; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then apt-get update -qq >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; fi
