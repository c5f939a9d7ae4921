#!/usr/bin/env bash
# Runs the benchmarks built in the CMake build directory $1 and writes their
# results to build/bench/ (CSV beside the printed tables).
#   bench/run.sh BUILD_DIR [--runs N]
set -euo pipefail
build="$1"; shift
runs=7
if [ "${1:-}" = "--runs" ]; then runs="$2"; shift 2; fi
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/build/bench"
mkdir -p "$out"
echo "== machine: $(nproc) cores, $(uname -r); $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "== allocator: PyAlloc vs the system allocator and installed peers"
"$build/bench/c/bench_alloc" --runs "$runs" --csv "$out/alloc.csv"
echo

# The collector against CPython on the same graphs: the faster of 3.11 and 3.12
# on each workload (whichever of them pyenv has; plain python3 otherwise).
echo "== objects and collector: PyAlloc vs CPython, ns per object (median of $runs)"
pythons=()
for v in 3.11 3.12; do
    ver="$(pyenv versions --bare 2>/dev/null | grep "^$v" | tail -n 1 || true)"
    [ -n "$ver" ] && pythons+=("$ver")
done
"$build/bench/c/bench_gc" --runs "$runs" > "$out/gc_pyalloc.txt"
: > "$out/gc_python.txt"
if [ "${#pythons[@]}" -eq 0 ]; then
    python3 "$root/bench/python/bench_gc.py" --runs "$runs" 2>/dev/null | sed "s/^/python3 /" >> "$out/gc_python.txt"
else
    for ver in "${pythons[@]}"; do
        PYENV_VERSION="$ver" python3 "$root/bench/python/bench_gc.py" --runs "$runs" 2>/dev/null | sed "s/^/$ver /" >> "$out/gc_python.txt"
    done
fi
printf '%-8s %12s %12s %-10s %8s\n' workload pyalloc cpython version ratio
echo "workload,pyalloc_ns,cpython_ns,cpython_version,ratio" > "$out/gc.csv"
while read -r name _min med _max; do
    best="$(awk -v w="$name" '$2 == w { print $4, $1 }' "$out/gc_python.txt" | sort -g | head -n 1)"
    cp_ns="${best%% *}"; cp_ver="${best##* }"
    ratio="$(awk -v a="$med" -v b="$cp_ns" 'BEGIN { printf "%.2f", a / b }')"
    printf '%-8s %12s %12s %-10s %8s\n' "$name" "$med" "$cp_ns" "$cp_ver" "$ratio"
    echo "$name,$med,$cp_ns,$cp_ver,$ratio" >> "$out/gc.csv"
done < "$out/gc_pyalloc.txt"
echo
echo "CSV: $out/alloc.csv (ratio = PyAlloc / allocator), $out/gc.csv (ratio = PyAlloc / CPython); below 1 PyAlloc is faster"
python3 "$root/bench/chart.py" "$out"
