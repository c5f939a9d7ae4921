# PyAlloc build driver for PowerShell: a faithful mirror of build.sh.
#
#   ./build.ps1                  build everything and run the main job
#   ./build.ps1 tour             build and run the tour (the main job)
#   ./build.ps1 tour --dotnet    build and run the same tour in C# over the .NET binding
#   ./build.ps1 test             build and run every test (C under CTest, .NET under NUnit);
#                                the last line is "N passed, N failed" over both
#   ./build.ps1 install PREFIX   install header, library, pkg-config and CMake files
#   ./build.ps1 pack             the NuGet package: build/packages/PyAlloc.<version>.nupkg
#                                (the .NET binding, libpyalloc.so and its debug file)
#   ./build.ps1 bench            build and run the benchmarks (--dotnet: only the .NET ones)
#   ./build.ps1 profile WORKLOAD record one benchmark workload of PyAlloc with perf
#                                (pair, batch, churn, threads, gc-ROW for any bench_gc row,
#                                chain, trace) into build/bench/perf-WORKLOAD.data; top symbols
#   ./build.ps1 clean            remove build/
#
# On Linux (pwsh) missing Debian packages are installed with apt-get, as build.sh
# does. On Windows the tools (CMake, a C compiler, cmocka) must be on PATH, and
# the library itself is Linux-only for now: src/PyAlloc.Core/Platform has no
# *.Windows.cs twin yet.
param(
    [Parameter(Position = 0)] [string] $Command = "",
    [Parameter(Position = 1, ValueFromRemainingArguments = $true)] [string[]] $Rest = @()
)
$ErrorActionPreference = "Stop"
Set-StrictMode -Version Latest

$Root = $PSScriptRoot
$Build = Join-Path $Root "build"
$CMakeBuild = Join-Path $Build "cmake"
$NativeDir = Join-Path $CMakeBuild "native"
$Jobs = [Environment]::ProcessorCount
$env:DOTNET_CLI_TELEMETRY_OPTOUT = "1"; $env:DOTNET_NOLOGO = "1"; $env:DOTNET_SKIP_FIRST_TIME_EXPERIENCE = "1"

function Log([string] $Message) { [Console]::Error.WriteLine("==> $Message") }
function Die([string] $Message) { [Console]::Error.WriteLine("build.ps1: $Message"); exit 1 }
function Has([string] $Tool) { [bool](Get-Command $Tool -ErrorAction SilentlyContinue) }

# ------------------------------------------------------------------- set-up
function Ensure-Deps {
    if ($IsLinux) {
        $missing = @()
        if (-not (Has cmake)) { $missing += "cmake" }
        if (-not (Has gcc)) { $missing += "gcc" }
        if (-not (Has g++)) { $missing += "g++" }
        if (-not (Has make)) { $missing += "make" }
        if (-not (Has pkg-config)) { $missing += "pkg-config" }
        if (-not (Has nm)) { $missing += "binutils" }
        if (-not (Test-Path /usr/include/cmocka.h)) { $missing += "libcmocka-dev" }
        if (-not (Test-Path /usr/include/zlib.h)) { $missing += "zlib1g-dev" }
        if (-not (Test-Path /usr/include/x86_64-linux-gnu/sys/sdt.h)) { $missing += "systemtap-sdt-dev" }
        if (-not (Has perf)) { $missing += "linux-perf" }
        if ($missing.Count -gt 0) {
            Log "installing Debian packages: $($missing -join ' ')"
            $sudo = if ((id -u) -eq "0") { @() } else { @("sudo") }
            & @sudo apt-get update -qq
            $env:DEBIAN_FRONTEND = "noninteractive"
            & @sudo apt-get install -y -qq --no-install-recommends @missing | Out-Null
        }
    }
    elseif (-not (Has cmake)) { Die "CMake is not on PATH" }
    if (-not (Has dotnet)) { Die "the .NET 10 SDK (dotnet) is not on PATH: install it from https://dot.net first" }
}

# Configure-And-Build [CMake args]: extra -D options for the configure step.
function Configure-And-Build {
    Ensure-Deps
    Log "configuring (CMake) and building: libpyalloc.so (NativeAOT), C programs, tests, benchmarks"
    cmake -S $Root -B $CMakeBuild -DCMAKE_BUILD_TYPE=RelWithDebInfo @args | Out-Null
    if ($LASTEXITCODE -ne 0) { Die "CMake configure failed" }
    cmake --build $CMakeBuild -j $Jobs
    if ($LASTEXITCODE -ne 0) { Die "the build failed" }
}

# ----------------------------------------------------------------- commands
function Main-Job {
    Configure-And-Build
    Log "running the main job: the tour (native/tour/tour.c)"
    & (Join-Path $NativeDir "tour")
}

function Run-Tour([string[]] $Arguments) {
    if ($Arguments.Count -eq 0) { Main-Job; return }
    if ($Arguments[0] -ne "--dotnet") { Die "usage: ./build.ps1 tour [--dotnet]" }
    Configure-And-Build
    Log "building the .NET tour (native/tour-dotnet)"
    dotnet build (Join-Path $Root "native/tour-dotnet/PyAlloc.Tour.csproj") -c Release --nologo
    if ($LASTEXITCODE -ne 0) { Die "the .NET tour did not build" }
    $lib = Join-Path $NativeDir "libpyalloc.so"
    Log "running the .NET tour with PYALLOC_LIBRARY=$lib"
    $env:PYALLOC_LIBRARY = $lib
    dotnet (Join-Path $Build "dotnet/bin/PyAlloc.Tour/Release/net10.0/PyAlloc.Tour.dll")
}

# The NUnit tests built in $Config (only those $Filter selects, when not empty):
# returns passed, failed (0, 1 when they did not build or did not run).
function Invoke-NUnit([string] $Config, [string] $Filter, [string] $LogFile) {
    $testArgs = @((Join-Path $Root "tests/PyAlloc.Tests/PyAlloc.Tests.csproj"), "-c", $Config,
                  "-p:PyAllocNativeDir=$NativeDir/", "--nologo")
    if ($Filter) { $testArgs += @("--filter", $Filter) }
    $log = dotnet test @testArgs 2>&1 | Tee-Object -FilePath $LogFile
    $line = $log | Select-String -Pattern '(Passed|Failed)! +- Failed: +(\d+), Passed: +(\d+)' | Select-Object -Last 1
    if ($line) { return [int]$line.Matches[0].Groups[3].Value, [int]$line.Matches[0].Groups[2].Value }
    return 0, 1
}

function Run-Tests {
    # The Debug library too: C suites run against it (cdebug.*, tests/c/CMakeLists.txt).
    Configure-And-Build -DPYALLOC_DEBUG_LIBRARY=ON
    $cPassed = 0; $cFailed = 0; $nPassed = 0; $nFailed = 0

    Log "C tests (CTest)"
    $log = ctest --test-dir $CMakeBuild -j $Jobs --output-on-failure 2>&1 | Tee-Object -FilePath (Join-Path $Build "ctest.log")
    $line = $log | Select-String -Pattern 'tests passed, (\d+) tests? failed out of (\d+)' | Select-Object -Last 1
    if ($line) {
        $cFailed = [int]$line.Matches[0].Groups[1].Value
        $cPassed = [int]$line.Matches[0].Groups[2].Value - $cFailed
    } else { $cFailed = 1 }
    # The clean run of the C suite under the debug hooks: the debug.* copies.
    $debugLines = @($log | Select-String -Pattern 'Test +#\d+: debug\.')
    $dTotal = $debugLines.Count
    $dFailed = @($debugLines | Where-Object { $_.Line -notmatch ' Passed +[0-9.]+ sec' }).Count
    # ... and against the Debug library: the cdebug.* tests and test_entry_checks.
    $kLines = @($log | Select-String -Pattern 'Test +#\d+: (cdebug\.|test_entry_checks\.)')
    $kTotal = $kLines.Count
    $kFailed = @($kLines | Where-Object { $_.Line -notmatch ' Passed +[0-9.]+ sec' }).Count

    Log ".NET tests (NUnit)"
    $nPassed, $nFailed = Invoke-NUnit "Release" "" (Join-Path $Build "dotnet-test.log")
    # The core's own tests again in a Debug build, where its Debug.Asserts run.
    Log ".NET: the core's tests in a Debug build (Debug.Assert runs)"
    $gPassed, $gFailed = Invoke-NUnit "Debug" "FullyQualifiedName~PyAlloc.Tests.Core" (Join-Path $Build "dotnet-test-debug.log")
    $nPassed += $gPassed; $nFailed += $gFailed

    Log ("C: $cPassed passed, $cFailed failed (of them again under PYALLOC_MALLOC=debug: " +
         "$($dTotal - $dFailed) passed, $dFailed failed; against the Debug library: " +
         "$($kTotal - $kFailed) passed, $kFailed failed); .NET: $nPassed passed, $nFailed failed " +
         "(of them the core's tests in a Debug build: $gPassed passed, $gFailed failed)")
    Write-Output "$($cPassed + $nPassed) passed, $($cFailed + $nFailed) failed"
    if ($cFailed + $nFailed -ne 0) { exit 1 }
}

function Install-To([string[]] $Arguments) {
    if ($Arguments.Count -lt 1) { Die "usage: ./build.ps1 install PREFIX" }
    Configure-And-Build
    cmake --install $CMakeBuild --prefix $Arguments[0]
    Log "installed into $($Arguments[0]) (pkg-config: PKG_CONFIG_PATH=$($Arguments[0])/lib/pkgconfig; CMake: -DCMAKE_PREFIX_PATH=$($Arguments[0]))"
}

# The NuGet package: the binding with libpyalloc.so (and its debug file) as the
# linux-x64 native asset (src/PyAlloc/PyAlloc.csproj says what goes in).
function Invoke-Pack {
    Configure-And-Build
    Log "packing build/packages/PyAlloc.*.nupkg"
    dotnet pack (Join-Path $Root "src/PyAlloc/PyAlloc.csproj") -c Release "-p:PyAllocNativeDir=$NativeDir/" `
        -o (Join-Path $Build "packages") --nologo
    if ($LASTEXITCODE -ne 0) { Die "dotnet pack failed ($LASTEXITCODE)" }
}

function Run-Bench([string[]] $Arguments) {
    Configure-And-Build
    bash (Join-Path $Root "bench/run.sh") $CMakeBuild @Arguments
}

# perf with software clock events (no hardware counters needed), call graphs.
function Run-Profile([string[]] $Arguments) {
    $w = if ($Arguments.Count -gt 0) { $Arguments[0] } else { "" }
    $b = Join-Path $CMakeBuild "bench/c"
    $cmd = switch ($w) {
        { $_ -in "pair", "batch", "churn", "threads" } { @("$b/bench_alloc", "--allocator", "pyalloc", "--workload", $w, "--runs", "3") }
        { $_ -like "gc-*" } { @("$b/bench_gc", "--workload", $w.Substring(3), "--runs", "3") }   # any bench_gc row
        "chain"     { @("$b/bench_gc", "--workload", "chain", "--runs", "3") }
        "trace"     { @("$b/bench_trace", "--runs", "3") }
        default     { Die "usage: ./build.ps1 profile pair|batch|churn|threads|gc-ROW (a bench_gc row: gc-full, gc-full-trav, gc-chain-list, ...)|chain|trace" }
    }
    if (-not (Has perf)) {
        Log "installing Debian package: linux-perf"
        $sudo = if ((id -u) -eq "0") { @() } else { @("sudo") }
        & @sudo apt-get update -qq
        $env:DEBIAN_FRONTEND = "noninteractive"
        & @sudo apt-get install -y -qq --no-install-recommends linux-perf | Out-Null
    }
    Configure-And-Build
    $out = Join-Path $Build "bench"
    New-Item -ItemType Directory -Force -Path $out | Out-Null
    $data = Join-Path $out "perf-$w.data"
    Log "recording: $($cmd -join ' ')"
    perf record -q -e cpu-clock -g -o $data -- @cmd
    if ($LASTEXITCODE -ne 0) { Die "perf record failed ($LASTEXITCODE)" }
    Log "top symbols ($data)"
    perf report -i $data --stdio --no-children -g none --sort dso,symbol 2>$null |
        Select-String -Pattern '^ +[0-9.]+%' | Select-Object -First 25 | ForEach-Object { $_.Line }
}

switch ($Command) {
    ""        { Main-Job }
    "tour"    { Run-Tour $Rest }
    "test"    { Run-Tests }
    "install" { Install-To $Rest }
    "pack"    { Invoke-Pack }
    "bench"   { Run-Bench $Rest }
    "profile" { Run-Profile $Rest }
    "clean"   { Remove-Item -Recurse -Force $Build -ErrorAction SilentlyContinue }
    { $_ -in "-h", "--help", "help" } { Get-Content $PSCommandPath | Select-Object -Skip 1 -First 19 | ForEach-Object { $_ -replace '^# ?', '' } }
    default   { Die "unknown command '$Command' (try ./build.ps1 help)" }
}
