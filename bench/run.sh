#!/usr/bin/env bash
# Runs the benchmarks built in the CMake build directory $1 and writes their
# results to build/bench/ (CSV beside the printed tables).
#   bench/run.sh BUILD_DIR [--runs N] [--dotnet | --no-dotnet]
# --dotnet runs only the .NET part (BenchmarkDotNet, bench/dotnet/), --no-dotnet
# only the C and Python part; by default both, the .NET part when dotnet is on PATH.
set -euo pipefail
build="$1"; shift
runs=7
c_part=1 dotnet_part=1
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs="$2"; shift 2 ;;
        --dotnet) c_part=0; shift ;;
        --no-dotnet) dotnet_part=0; shift ;;
        *) echo "bench/run.sh: unknown option '$1'" >&2; exit 2 ;;
    esac
done
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/build/bench"
mkdir -p "$out"
echo "== machine: $(nproc) cores, $(uname -r); $(date -u +%Y-%m-%dT%H:%MZ)"
echo

# What a .NET caller sees (bench/dotnet/PyAlloc.Benchmarks, BenchmarkDotNet): pa_malloc/pa_free
# through the binding against NativeMemory, and objects and collections through PyRuntime.  A short
# in-process job (about 2.5 minutes on 2 cores); BenchmarkDotNet's long log goes to a file and only
# its markdown tables are printed.  PYALLOC_LIBRARY names the library just built, whatever copy
# sits beside the program.
run_dotnet() {
    local proj="$root/bench/dotnet/PyAlloc.Benchmarks/PyAlloc.Benchmarks.csproj"
    local results="$out/dotnet/results" log="$out/dotnet/benchmarkdotnet.log"
    echo "== .NET caller: PyAlloc through the binding vs NativeMemory (BenchmarkDotNet, short job)"
    dotnet build "$proj" -c Release -p:PyAllocNativeDir="$build/native/" --nologo -v quiet >/dev/null \
        || dotnet build "$proj" -c Release -p:PyAllocNativeDir="$build/native/" --nologo
    mkdir -p "$out/dotnet"
    rm -rf "$results"   # old tables would be printed again below
    if ! PYALLOC_LIBRARY="$build/native/libpyalloc.so" \
        dotnet "$root/build/dotnet/bin/PyAlloc.Benchmarks/Release/net10.0/PyAlloc.Benchmarks.dll" \
        --filter '*' > "$log" 2>&1; then
        tail -n 40 "$log"
        echo "bench/run.sh: the .NET benchmarks failed (full log: $log)" >&2
        return 1
    fi
    for f in "$results"/*-report-github.md; do
        echo "-- $(basename "$f" -report-github.md | sed 's/^PyAlloc\.Benchmarks\.//')"
        # the table only: the environment header is the same for every class
        grep '^|' "$f"
        echo
    done
    grep -m1 'BenchmarkDotNet v' "$log" || true
    echo "Markdown: $results/*-report-github.md (Ratio = PyAlloc / NativeMemory); log: $log"
}

if [ "$c_part" -eq 0 ]; then
    run_dotnet
    exit 0
fi
echo "== allocator: PyAlloc vs the system allocator and installed peers"
"$build/bench/c/bench_alloc" --runs "$runs" --csv "$out/alloc.csv"
echo

# CPython itself on PyAlloc: Python programs run by native/python-host's pyalloc-python
# under CPython's pymalloc, PyAlloc, mimalloc and glibc (bench/python/bench_cpython_alloc.py).
host="$build/native/python-host/pyalloc-python"
if [ -x "$host" ]; then
    echo "== CPython on PyAlloc: Python programs, seconds, each allocator over CPython's pymalloc"
    python3 "$root/bench/python/bench_cpython_alloc.py" "$host" --runs "$(( runs < 5 ? runs : 5 ))" \
        --csv "$out/cpython_alloc.csv"
    echo
else
    echo "(pyalloc-python was not built: the CPython-on-PyAlloc programs are skipped)"
    echo
fi

# The collector against CPython on the same graphs: the faster of 3.11 and 3.12
# on each workload (whichever of them pyenv has; plain python3 otherwise).
echo "== objects and collector: PyAlloc vs CPython, ns per object (median of $runs;"
echo "   pause-p50/p99/max: ns per collection, pause-total: ns in the collector per garbage object)"
pythons=()
for v in 3.11 3.12; do
    ver="$(pyenv versions --bare 2>/dev/null | grep "^$v" | tail -n 1 || true)"
    [ -n "$ver" ] && pythons+=("$ver")
done
"$build/bench/c/bench_gc" --runs "$runs" > "$out/gc_pyalloc.txt"
: > "$out/gc_python.txt"
: > "$out/trace_python.txt"
if [ "${#pythons[@]}" -eq 0 ]; then
    python3 "$root/bench/python/bench_gc.py" --runs "$runs" 2>/dev/null | sed "s/^/python3 /" >> "$out/gc_python.txt"
else
    for ver in "${pythons[@]}"; do
        PYENV_VERSION="$ver" python3 "$root/bench/python/bench_gc.py" --runs "$runs" 2>/dev/null | sed "s/^/$ver /" >> "$out/gc_python.txt"
    done
fi
printf '%-12s %12s %12s %-10s %8s\n' workload pyalloc cpython version ratio
echo "workload,pyalloc_ns,cpython_ns,cpython_version,ratio" > "$out/gc.csv"
while read -r name _min med _max; do
    best="$(awk -v w="$name" '$2 == w { print $4, $1 }' "$out/gc_python.txt" | sort -g | head -n 1)"
    cp_ns="${best%% *}"; cp_ver="${best##* }"
    ratio="$(awk -v a="$med" -v b="$cp_ns" 'BEGIN { printf "%.2f", a / b }')"
    printf '%-12s %12s %12s %-10s %8s\n' "$name" "$med" "$cp_ns" "$cp_ver" "$ratio"
    echo "$name,$med,$cp_ns,$cp_ver,$ratio" >> "$out/gc.csv"
done < "$out/gc_pyalloc.txt"
echo

# tracemalloc's cost: the same loop traced (one frame) and untraced, in PyAlloc and
# in each CPython (bench/python/bench_trace.py, three rounds each); ratio = traced / untraced.
echo "== tracing: traced / untraced, 1,000,000 blocks of 16-271 bytes allocated and freed"
"$build/bench/c/bench_trace" --runs "$runs" > "$out/trace_pyalloc.txt"
cat "$out/trace_pyalloc.txt"
trace_median="$(awk 'NR > 1 { print $4 }' "$out/trace_pyalloc.txt" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')"
echo "which,ratio" > "$out/trace.csv"
echo "pyalloc,$trace_median" >> "$out/trace.csv"
echo "PyAlloc median ratio: $trace_median"
if [ "${#pythons[@]}" -eq 0 ]; then
    python3 "$root/bench/python/bench_trace.py" 2>/dev/null | tee -a "$out/trace_python.txt" | sed 's/^/CPython /'
else
    for ver in "${pythons[@]}"; do
        PYENV_VERSION="$ver" python3 "$root/bench/python/bench_trace.py" 2>/dev/null \
            | tee -a "$out/trace_python.txt" | sed 's/^/CPython /'
    done
fi
echo
echo "CSV: $out/alloc.csv (ratio = PyAlloc / allocator), $out/cpython_alloc.csv, $out/gc.csv (ratio = PyAlloc / CPython), $out/trace.csv; below 1 PyAlloc is faster"
python3 "$root/bench/chart.py" "$out"

if [ "$dotnet_part" -eq 1 ]; then
    if command -v dotnet >/dev/null; then
        echo
        run_dotnet
    else
        echo "(dotnet is not on PATH: the .NET benchmarks are skipped)"
    fi
fi
