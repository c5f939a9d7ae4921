#!/usr/bin/env bash
# Runs the benchmarks built in the CMake build directory $1 and writes their
# results to build/bench/ (CSV beside the printed table).
#   bench/run.sh BUILD_DIR [--runs N] [--workload pair|batch|churn|all]
set -euo pipefail
build="$1"; shift
out="$(cd "$(dirname "$0")/.." && pwd)/build/bench"
mkdir -p "$out"
echo "== allocator: PyAlloc vs the system allocator and installed peers"
echo "== machine: $(nproc) cores, $(uname -r); $(date -u +%Y-%m-%dT%H:%MZ)"
"$build/bench/c/bench_alloc" --csv "$out/alloc.csv" "$@"
echo
echo "CSV: $out/alloc.csv"
