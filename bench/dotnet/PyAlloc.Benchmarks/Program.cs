using System;
using System.IO;
using System.Linq;
using System.Reflection;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Exporters.Csv;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace PyAlloc.Benchmarks;

/// <summary>Entry point: BenchmarkDotNet's switcher over every benchmark class of this assembly
/// (<c>--filter '*'</c> runs them all; <c>--list flat</c> names them).</summary>
public static class Program
{
    /// <summary>Runs the benchmarks chosen by <paramref name="args"/> with <see cref="BenchConfig"/>.</summary>
    /// <param name="args">BenchmarkDotNet's command line (e.g. <c>--filter '*Alloc*'</c>).</param>
    /// <returns>0 when every benchmark ran, 1 otherwise.</returns>
    public static int Main(string[] args)
    {
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, new BenchConfig());
        return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
    }
}

/// <summary>
/// The one configuration: a short in-process job, the GitHub markdown (and CSV) exporters, the memory
/// diagnoser, and the artifacts (results/*-report-github.md) under build/bench/dotnet/ of this checkout.
/// </summary>
/// <remarks>
/// Why in-process (<see cref="InProcessEmitToolchain"/>): by default BenchmarkDotNet generates a project,
/// builds it and runs it in a child process.  That generated project would have to inherit
/// Directory.Build.props (TreatWarningsAsErrors, output under build/dotnet) and get libpyalloc.so copied
/// next to it; the in-process toolchain has neither problem: the benchmarks run in this very process,
/// which already has libpyalloc.so beside it (the .csproj copies it from PyAllocNativeDir) or finds it
/// through PYALLOC_LIBRARY.  It also saves a build per run, which keeps the whole run short.  The cost is
/// less isolation between benchmarks (one JIT, one GC heap, one PyAlloc heap for all of them): each class
/// keeps its own state and releases it in its cleanup.
/// </remarks>
public sealed class BenchConfig : ManualConfig
{
    /// <summary>The configuration used by <see cref="Program.Main"/>.</summary>
    public BenchConfig()
    {
        // DefaultConfig's columns, loggers, analysers and validators (among them the check that the
        // code is optimised: run with -c Release), but our own job and exporters.
        IConfig d = DefaultConfig.Instance;
        AddColumnProvider(d.GetColumnProviders().ToArray());
        AddLogger(d.GetLoggers().ToArray());
        AddAnalyser(d.GetAnalysers().ToArray());
        AddValidator(d.GetValidators().ToArray());
        // A short job, in process: 1 launch, 3 warm-up and 5 measured iterations of 250 ms, about
        // 4 s per case, the 28 cases in about 2.5 minutes on 2 cores.  Numbers from such a short
        // run are indicative (see the Error column); raise the counts on the command line
        // (--iterationCount, --warmupCount) for a careful measurement.
        AddJob(Job.ShortRun
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(250))
            .WithIterationCount(5)
            .WithId("Short-InProcess"));
        // results/<Class>-report-github.md (and .csv), one per class so that each ratio is
        // against its own class's baseline.
        AddExporter(MarkdownExporter.GitHub, CsvExporter.Default);
        AddDiagnoser(MemoryDiagnoser.Default);
        WithArtifactsPath(Path.Combine(RepoRoot(), "build", "bench", "dotnet"));
        WithOptions(ConfigOptions.DisableLogFile);
    }

    /* The checkout's root, stamped into the assembly at build time (the .csproj's PyAllocRepoRoot),
       so that the results never land in the source tree whatever the working directory. */
    private static string RepoRoot() =>
        typeof(BenchConfig).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "PyAllocRepoRoot")?.Value
        ?? throw new InvalidOperationException("PyAllocRepoRoot is not stamped into the assembly");
}
