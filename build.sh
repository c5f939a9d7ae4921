#!/usr/bin/env bash
# PyAlloc build driver (build.ps1 is its Windows mirror).
#
#   ./build.sh                 build everything and run the main job: the tour of the
#                              article, replayed through PyAlloc (native/tour/tour.c)
#   ./build.sh tour            build and run the tour (the main job, as above)
#   ./build.sh tour --dotnet   build and run the same tour written in C# over the .NET
#                              binding (native/tour-dotnet), with PYALLOC_LIBRARY set
#   ./build.sh test            build and run every test (C under CTest, .NET under NUnit);
#                              the last line is "N passed, N failed" over both.  The C
#                              count includes the debug.* copies: every C case run again
#                              with the debug hooks on (PYALLOC_MALLOC=debug)
#   ./build.sh install PREFIX  install header, library, pkg-config and CMake files
#   ./build.sh pack            the NuGet package: build/packages/PyAlloc.<version>.nupkg
#                              (the .NET binding, libpyalloc.so and its debug file)
#   ./build.sh bench           build and run the benchmarks (installs the peers
#                              mimalloc, jemalloc, tcmalloc from Debian when missing);
#                              the .NET ones (BenchmarkDotNet) last, when dotnet is there
#   ./build.sh bench --dotnet  build and run only the .NET benchmarks (bench/dotnet)
#   ./build.sh profile WORKLOAD  record one benchmark workload of PyAlloc with perf
#                              (pair, batch, churn, threads, gc-ROW for any bench_gc row:
#                              gc-full, gc-full-trav, gc-chain-list, gc-pause ..., chain,
#                              trace) into build/bench/perf-WORKLOAD.data; top symbols
#   ./build.sh clean           remove build/
#
# Missing tools are installed first (Debian packages through apt-get, NuGet
# packages through dotnet restore); the .NET 10 SDK itself must be on PATH.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUILD="$ROOT/build"
CMAKE_BUILD="$BUILD/cmake"
NATIVE_DIR="$CMAKE_BUILD/native"
JOBS="$(nproc 2>/dev/null || echo 2)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'build.sh: %s\n' "$*" >&2; exit 1; }

# ----------------------------------------------------------------- set-up
ensure_deps() {
    local missing=()
    command -v cmake >/dev/null      || missing+=(cmake)
    command -v gcc >/dev/null        || missing+=(gcc)
    command -v g++ >/dev/null        || missing+=(g++)
    command -v make >/dev/null       || missing+=(make)
    command -v pkg-config >/dev/null || missing+=(pkg-config)
    command -v nm >/dev/null         || missing+=(binutils)
    [ -f /usr/include/cmocka.h ]     || missing+=(libcmocka-dev)
    [ -f /usr/include/zlib.h ]       || missing+=(zlib1g-dev)      # NativeAOT links -lz
    [ -f /usr/include/valgrind/memcheck.h ] || missing+=(valgrind)  # native/track; the memcheck tests
    ldconfig -p | grep -q 'libasan\.so\.8 ' || missing+=(libasan8) # gcc's ASan runtime: the ASan tests
    [ -f /usr/include/x86_64-linux-gnu/sys/sdt.h ] || [ -f /usr/include/sys/sdt.h ] \
        || missing+=(systemtap-sdt-dev)                            # <sys/sdt.h>: native/probes
    command -v perf >/dev/null       || missing+=(linux-perf)     # the probes' perf workflow (tests/probes)
    # CPython to embed (native/python-host) and its test package: pyenv's 3.12
    # when present, else Debian's (3.11).
    if ! compgen -G "$HOME/.pyenv/versions/3.12*/lib/libpython3.12.so" >/dev/null; then
        compgen -G "/usr/include/python3*/Python.h" >/dev/null || missing+=(python3-dev)
        compgen -G "/usr/lib/python3*/test/regrtest.py" >/dev/null || missing+=(libpython3.11-testsuite)
    fi
    if [ "${#missing[@]}" -gt 0 ]; then
        log "installing Debian packages: ${missing[*]}"
        local sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
    command -v dotnet >/dev/null || die "the .NET 10 SDK (dotnet) is not on PATH: install it from https://dot.net first"
}

# configure_and_build [CMAKE_ARGS...]: extra -D options for the configure step.
configure_and_build() {
    ensure_deps
    log "configuring (CMake) and building: libpyalloc.so (NativeAOT), C programs, tests, benchmarks"
    cmake -S "$ROOT" -B "$CMAKE_BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
    cmake --build "$CMAKE_BUILD" -j "$JOBS"
}

# ------------------------------------------------------------------ commands
main_job() {
    configure_and_build
    log "running the main job: the tour (native/tour/tour.c)"
    "$NATIVE_DIR/tour"
}

run_tour() {
    case "${1:-}" in
        "") main_job ;;
        --dotnet)
            configure_and_build
            log "building the .NET tour (native/tour-dotnet)"
            dotnet build "$ROOT/native/tour-dotnet/PyAlloc.Tour.csproj" -c Release --nologo -v quiet >/dev/null \
                || dotnet build "$ROOT/native/tour-dotnet/PyAlloc.Tour.csproj" -c Release --nologo
            log "running the .NET tour with PYALLOC_LIBRARY=$NATIVE_DIR/libpyalloc.so"
            PYALLOC_LIBRARY="$NATIVE_DIR/libpyalloc.so" dotnet "$BUILD/dotnet/bin/PyAlloc.Tour/Release/net10.0/PyAlloc.Tour.dll"
            ;;
        *) die "usage: ./build.sh tour [--dotnet]" ;;
    esac
}

# nunit_run CONFIG FILTER LOG: the NUnit tests built in CONFIG (only those FILTER
# selects, when not empty); sets NUNIT_PASSED and NUNIT_FAILED (1 failed when
# they did not build or did not run).
nunit_run() {
    local config="$1" filter="$2" log_file="$3" line
    local args=("$ROOT/tests/PyAlloc.Tests/PyAlloc.Tests.csproj" -c "$config"
                -p:PyAllocNativeDir="$NATIVE_DIR/" --nologo)
    [ -z "$filter" ] || args+=(--filter "$filter")
    dotnet test "${args[@]}" 2>&1 | tee "$log_file" || true
    line="$(grep -E '(Passed|Failed)! +- Failed: +[0-9]+, Passed: +[0-9]+' "$log_file" | tail -n 1 || true)"
    if [ -n "$line" ]; then
        NUNIT_FAILED="$(sed -E 's/.*Failed: +([0-9]+),.*/\1/' <<<"$line")"
        NUNIT_PASSED="$(sed -E 's/.*Passed: +([0-9]+),.*/\1/' <<<"$line")"
    else
        NUNIT_PASSED=0 NUNIT_FAILED=1
    fi
}

run_tests() {
    # The Debug library too: C suites run against it with the C entry's checks and the core's
    # Debug.Asserts on (cdebug.*, tests/c/CMakeLists.txt).
    configure_and_build -DPYALLOC_DEBUG_LIBRARY=ON
    local c_passed=0 c_failed=0 n_passed=0 n_failed=0 d_total=0 d_failed=0 k_total=0 k_failed=0 g_passed=0 g_failed=0 log_file line

    log "C tests (CTest)"
    log_file="$BUILD/ctest.log"
    ctest --test-dir "$CMAKE_BUILD" -j "$JOBS" --output-on-failure 2>&1 | tee "$log_file" || true
    line="$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log_file" | tail -n 1 || true)"
    if [ -n "$line" ]; then
        c_failed="$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")"
        c_passed=$(( $(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line") - c_failed ))
    else
        c_failed=1   # CTest did not report: count that as a failure
    fi
    # The clean run of the C suite under the debug hooks: the debug.* copies.
    d_total="$(grep -cE 'Test +#[0-9]+: debug\.' "$log_file" || true)"
    d_failed="$(grep -E 'Test +#[0-9]+: debug\.' "$log_file" | grep -vcE ' Passed +[0-9.]+ sec' || true)"
    # ... and against the Debug library: the cdebug.* tests and test_entry_checks.
    k_total="$(grep -cE 'Test +#[0-9]+: (cdebug\.|test_entry_checks\.)' "$log_file" || true)"
    k_failed="$(grep -E 'Test +#[0-9]+: (cdebug\.|test_entry_checks\.)' "$log_file" | grep -vcE ' Passed +[0-9.]+ sec' || true)"

    log ".NET tests (NUnit)"
    nunit_run Release "" "$BUILD/dotnet-test.log"
    n_passed=$NUNIT_PASSED n_failed=$NUNIT_FAILED
    # The core's own tests again in a Debug build, where its Debug.Asserts run
    # (the library itself is published in Release).
    log ".NET: the core's tests in a Debug build (Debug.Assert runs)"
    nunit_run Debug "FullyQualifiedName~PyAlloc.Tests.Core" "$BUILD/dotnet-test-debug.log"
    g_passed=$NUNIT_PASSED g_failed=$NUNIT_FAILED
    n_passed=$((n_passed + g_passed)) n_failed=$((n_failed + g_failed))

    log "C: $c_passed passed, $c_failed failed (of them again under PYALLOC_MALLOC=debug:" \
        "$((d_total - d_failed)) passed, $d_failed failed; against the Debug library:" \
        "$((k_total - k_failed)) passed, $k_failed failed); .NET: $n_passed passed, $n_failed failed" \
        "(of them the core's tests in a Debug build: $g_passed passed, $g_failed failed)"
    echo "$((c_passed + n_passed)) passed, $((c_failed + n_failed)) failed"
    [ $((c_failed + n_failed)) -eq 0 ]
}

install_to() {
    [ $# -ge 1 ] || die "usage: ./build.sh install PREFIX"
    configure_and_build
    cmake --install "$CMAKE_BUILD" --prefix "$1"
    log "installed into $1 (pkg-config: PKG_CONFIG_PATH=$1/lib/pkgconfig; CMake: -DCMAKE_PREFIX_PATH=$1)"
}

# The benchmark's peers (bench/c/bench_alloc.c dlopens them): Debian's runtime
# packages, installed when their shared library is missing.
ensure_bench_deps() {
    local missing=()
    ldconfig -p | grep -q 'libmimalloc\.so\.2 '         || missing+=(libmimalloc2.0)
    ldconfig -p | grep -q 'libjemalloc\.so\.2 '         || missing+=(libjemalloc2)
    ldconfig -p | grep -q 'libtcmalloc_minimal\.so\.4 ' || missing+=(libtcmalloc-minimal4)
    if [ "${#missing[@]}" -gt 0 ]; then
        log "installing the benchmark's peers: ${missing[*]}"
        local sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

run_bench() {
    # the peers are for the C benchmark only
    case " $* " in *" --dotnet "*) ;; *) ensure_bench_deps ;; esac
    configure_and_build
    "$ROOT/bench/run.sh" "$CMAKE_BUILD" "$@"
}

# The NuGet package: the binding with libpyalloc.so (and its debug file) as the
# linux-x64 native asset (src/PyAlloc/PyAlloc.csproj says what goes in).
pack() {
    configure_and_build
    log "packing build/packages/PyAlloc.*.nupkg"
    dotnet pack "$ROOT/src/PyAlloc/PyAlloc.csproj" -c Release -p:PyAllocNativeDir="$NATIVE_DIR/" \
        -o "$BUILD/packages" --nologo
}

# perf with software clock events (no hardware counters needed), call graphs.
run_profile() {
    local w="${1:-}" b="$CMAKE_BUILD/bench/c" cmd
    case "$w" in
        pair|batch|churn|threads) cmd=("$b/bench_alloc" --allocator pyalloc --workload "$w" --runs 3) ;;
        gc-*)      cmd=("$b/bench_gc" --workload "${w#gc-}" --runs 3) ;;   # any bench_gc row: gc-full, gc-chain-list, ...
        chain)     cmd=("$b/bench_gc" --workload chain --runs 3) ;;
        trace)     cmd=("$b/bench_trace" --runs 3) ;;
        *) die "usage: ./build.sh profile pair|batch|churn|threads|gc-ROW (a bench_gc row: gc-full, gc-full-trav, gc-chain-list, ...)|chain|trace" ;;
    esac
    if ! command -v perf >/dev/null; then
        log "installing Debian package: linux-perf"
        local sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends linux-perf >/dev/null
    fi
    configure_and_build
    local out="$BUILD/bench" data
    mkdir -p "$out"
    data="$out/perf-$w.data"
    log "recording: ${cmd[*]}"
    perf record -q -e cpu-clock -g -o "$data" -- "${cmd[@]}"
    log "top symbols ($data; libpyalloc.so's from its own symbol table, lines from libpyalloc.so.X.Y.Z.debug beside it)"
    local report
    # -g none: the flat profile; "|| true": head closes the pipe early
    report="$(perf report -i "$data" --stdio --no-children -g none --sort dso,symbol 2>/dev/null \
        | grep -E '^ +[0-9.]+%' | head -n 25 || true)"
    printf '%s\n' "$report"
    if grep -qE 'libpyalloc\.so +\[\.\] PyAlloc_' <<<"$report"; then
        log "C# method names (PyAlloc_Core_...) resolved in libpyalloc.so"
    elif grep -q 'libpyalloc.so' <<<"$report"; then
        log "WARNING: no C# method names in libpyalloc.so's samples: perf did not find its symbols ($NATIVE_DIR)"
    fi
}

case "${1:-}" in
    "")      main_job ;;
    profile) shift; run_profile "$@" ;;
    tour)    shift; run_tour "$@" ;;
    test)    run_tests ;;
    install) shift; install_to "$@" ;;
    pack)    pack ;;
    bench)   shift; run_bench "$@" ;;
    clean)   rm -rf "$BUILD" ;;
    -h|--help|help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//' ;;
    *)       die "unknown command '$1' (try ./build.sh help)" ;;
esac
