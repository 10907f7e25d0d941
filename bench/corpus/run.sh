#!/usr/bin/env bash
# Corpus pipeline throughput on a loopback web server; writes bench/results/corpus.{md,json}.
# Usage: bench/corpus/run.sh [IMAGES=2000] [WIDTH=640] [HEIGHT=480]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bash "$root/scripts/setup.sh"
dotnet build "$root/bench/corpus/CorpusBench.csproj" -c Release -nologo -v q -clp:ErrorsOnly
cd "$root"
dotnet "$root/bench/corpus/bin/Release/net10.0/CorpusBench.dll" "$root/bench/results" "${1:-2000}" "${2:-640}" "${3:-480}"
