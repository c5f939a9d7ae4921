using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Text.RegularExpressions;
using NUnit.Framework;
using static PyAlloc.Interop.NativeMethods;

namespace PyAlloc.Tests.Native;

/// <summary>
/// The debug hooks (section 11) through the binding. This process runs pymalloc (see
/// <see cref="AssemblySetup"/>), so the hooks are exercised in child processes
/// (<see cref="DebugHooksChild"/>, this assembly run as a program with PYALLOC_MALLOC=debug or
/// malloc_debug): a fatal error handler written in C# records the reports, and the default
/// handler's abort is observed from outside.
/// </summary>
[TestFixture]
public sealed unsafe class DebugHooksTests
{
    private sealed record StepResult(int Reports, string Result, string LastError, string Report);

    private static readonly Dictionary<string, Dictionary<string, StepResult>> s_runs = new();

    /// <summary>Runs the child in <paramref name="mode"/> with <paramref name="scenario"/>.</summary>
    private static (int ExitCode, string Stdout, string Stderr) RunChild(string mode, string scenario)
    {
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var info = new ProcessStartInfo(dotnet)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(typeof(DebugHooksChild).Assembly.Location);
        info.ArgumentList.Add(DebugHooksChild.Verb);
        info.ArgumentList.Add(scenario);
        info.Environment["PYALLOC_MALLOC"] = mode;
        info.Environment["PYALLOC_TRACEMALLOC"] = "";
        using Process process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        Assert.That(process.WaitForExit(120_000), Is.True, "the child did not finish");
        return (process.ExitCode, stdout, stderr.Result);
    }

    /// <summary>The steps of the <c>handler</c> scenario in <paramref name="mode"/>, run once per mode.</summary>
    private static Dictionary<string, StepResult> Steps(string mode)
    {
        lock (s_runs)
        {
            if (s_runs.TryGetValue(mode, out var known))
                return known;
            var (exit, stdout, stderr) = RunChild(mode, "handler");
            Assert.That(exit, Is.Zero, $"the child failed ({exit}):\n{stderr}\n{stdout}");
            var steps = new Dictionary<string, StepResult>();
            foreach (Match m in Regex.Matches(stdout, @"<<<(?<name>[^|]*)\|(?<count>\d+)\|(?<result>[^|]*)\|(?<error>[^\n]*)\n(?<report>.*?)\n>>>\n",
                                              RegexOptions.Singleline))
            {
                steps[m.Groups["name"].Value] = new StepResult(int.Parse(m.Groups["count"].Value), m.Groups["result"].Value,
                                                               m.Groups["error"].Value, m.Groups["report"].Value);
            }
            Assert.That(steps, Has.Count.GreaterThanOrEqualTo(14), $"the child's output:\n{stdout}\n{stderr}");
            return s_runs[mode] = steps;
        }
    }

    private static string[] Lines(string report) => report.Split('\n');

    private static void AssertEnds(StepResult step, string function, string reason) =>
        Assert.That(Lines(step.Report)[^1], Is.EqualTo($"Fatal PyAlloc error: {function}: {reason}"), step.Report);

    [TestCase("debug")]
    [TestCase("malloc_debug")]
    public void ReallocOfADamagedTracedBlock_ReportsWhereItWasAllocated(string mode)
    {
        StepResult step = Steps(mode)["traced-realloc"];
        Assert.That(step.Result, Is.EqualTo("(nil)"), "refused");
        Assert.That(step.Report, Does.Contain("Memory block allocated at (most recent call first):"));
        Assert.That(step.Report, Does.Not.Contain("Enable tracemalloc"));
        AssertEnds(step, "pa_realloc", "bad trailing pad byte");
    }

    [TestCase("debug")]
    [TestCase("malloc_debug")]
    public void GcResize_MakesAFreshDebugBlockOfTheNewSize_KeepingTheItems(string mode)
    {
        // Moved although pymalloc would keep the block; 16 + 24 + 2 * 8 = 0x38 bytes requested, API 'o'.
        StepResult step = Steps(mode)["resize"];
        Assert.That(step.Result, Is.EqualTo("True 11 22 2 0000000000000038" + "6F" + " 0"));
        Assert.That(step.Reports, Is.Zero);
    }

    [TestCase("debug")]
    [TestCase("malloc_debug")]
    public void GcResize_OfADamagedObject_IsReported_Refused_AndKeepsTheObject(string mode)
    {
        StepResult step = Steps(mode)["resize-damaged"];
        Assert.That(step.Reports, Is.EqualTo(1));
        Assert.That(step.Result, Does.StartWith("pa_object_gc_resize: bad trailing pad byte (debug memory block at p=0x")
                                     .And.EndWith(")/3/11"), "refused, unchanged; resized once repaired");
        Assert.That(Lines(step.Report)[0], Does.EndWith(": API 'o'"));
        Assert.That(step.Report, Does.Contain("        at tail+2: 0x00 *** OUCH"));
        AssertEnds(step, "pa_object_gc_resize", "bad trailing pad byte");
    }

    [TestCase("debug", "Debug")]
    [TestCase("malloc_debug", "MallocDebug")]
    public void Mode_IsTheDebugModeAskedFor(string mode, string expected) =>
        Assert.That(Steps(mode)["mode"].Result, Is.EqualTo(expected));

    [TestCase("debug")]
    [TestCase("malloc_debug")]
    public void Blocks_AreLaidOutAsCPythons(string mode)
    {
        // size 24 big-endian, 'm', 7 x FD, 24 x CD, 8 x FD, then the serial number.
        string bytes = Steps(mode)["layout"].Result;
        Assert.That(bytes, Does.StartWith("0000000000000018" + "6D" + "FDFDFDFDFDFDFD" + string.Concat(Enumerable.Repeat("CD", 24))
                                          + "FDFDFDFDFDFDFDFD"));
        Assert.That(Convert.ToUInt64(bytes[^16..], 16), Is.GreaterThan(0UL), "serial number");
        Assert.That(Steps(mode)["calloc"].Result, Is.EqualTo(string.Concat(Enumerable.Repeat("00", 12)) + "FDFDFDFDFDFDFDFD"));
        Assert.That(Steps(mode)["usable-size"].Result, Is.EqualTo("100"));
    }

    [TestCase("debug")]
    [TestCase("malloc_debug")]
    public void IntactBlocks_AreNotReported(string mode)
    {
        StepResult step = Steps(mode)["intact"];
        Assert.That(step.Result, Is.EqualTo("True"));
        Assert.That(step.Reports, Is.Zero);
    }

    [TestCase("debug")]
    [TestCase("malloc_debug")]
    public void Overflow_IsReportedToTheCSharpHandler_AndTheBlockIsKept(string mode)
    {
        var steps = Steps(mode);
        StepResult step = steps["overflow"];
        Assert.That(step.Reports, Is.EqualTo(1));
        string[] lines = Lines(step.Report);
        Assert.That(lines[0], Is.EqualTo($"Debug memory block at address p={step.Result}: API 'm'"));
        Assert.That(lines, Does.Contain("    24 bytes originally requested"));
        Assert.That(lines, Does.Contain("    The 7 pad bytes at p-7 are FORBIDDENBYTE, as expected."));
        Assert.That(lines, Does.Contain("        at tail+0: 0x00 *** OUCH"));
        Assert.That(lines, Does.Contain("Enable tracemalloc to get the memory block allocation traceback"));
        AssertEnds(step, "pa_free", "bad trailing pad byte");
        Assert.That(step.LastError, Does.StartWith("pa_free: bad trailing pad byte"));

        // Still there: checked, reallocated, freed with TryFree, each refused and reported.
        Assert.That(steps["overflow-check"].Result, Is.EqualTo("False"));
        AssertEnds(steps["overflow-check"], "pa_debug_check_block", "bad trailing pad byte");
        Assert.That(steps["overflow-realloc"].Result, Is.EqualTo("(nil)"));
        AssertEnds(steps["overflow-realloc"], "pa_realloc", "bad trailing pad byte");
        Assert.That(steps["overflow-free-checked"].Result, Does.StartWith("pa_free: bad trailing pad byte"));
        Assert.That(steps["overflow-repaired"].Reports, Is.Zero);
    }

    [TestCase("debug")]
    [TestCase("malloc_debug")]
    public void Underflow_IsReported(string mode)
    {
        StepResult step = Steps(mode)["underflow"];
        Assert.That(step.Reports, Is.EqualTo(1), "repaired, the second free is clean");
        Assert.That(Lines(step.Report), Does.Contain("    The 7 pad bytes at p-7 are not all FORBIDDENBYTE (0xfd):"));
        Assert.That(Lines(step.Report), Does.Contain("        at p-2: 0x42 *** OUCH"));
        AssertEnds(step, "pa_free", "bad leading pad byte");
    }

    [TestCase("debug")]
    [TestCase("malloc_debug")]
    public void DoubleFree_IsReported(string mode)
    {
        StepResult step = Steps(mode)["double-free"];
        Assert.That(step.Reports, Is.EqualTo(1));
        Assert.That(Lines(step.Report)[0], Is.EqualTo($"Debug memory block at address p={step.Result}: API 'm'"));
        Assert.That(Lines(step.Report), Does.Contain("    It was freed already: it is not a live block any more."));
        AssertEnds(step, "pa_free", "double free: the block was already freed");
    }

    [TestCase("debug")]
    [TestCase("malloc_debug")]
    public void AnObjectFreedWithPaFree_IsAWrongApi(string mode)
    {
        StepResult step = Steps(mode)["wrong-api"];
        Assert.That(step.Reports, Is.EqualTo(1));
        Assert.That(step.Result, Does.EndWith("refcnt=1"), "the object was left alone");
        Assert.That(Lines(step.Report)[0], Does.EndWith(": API 'o'"));
        AssertEnds(step, "pa_free", "bad ID: Allocated using API 'o', verified using API 'm'");
    }

    [TestCase("debug")]
    [TestCase("malloc_debug")]
    public void AForeignPointer_IsReportedWithoutReadingAroundIt(string mode)
    {
        StepResult step = Steps(mode)["foreign"];
        Assert.That(step.Reports, Is.EqualTo(1));
        Assert.That(Lines(step.Report)[0], Is.EqualTo($"Debug memory block at address p={step.Result}: not a live block"));
        AssertEnds(step, "pa_free", "bad pointer: not a live block of PyAlloc's debug allocator");
    }

    [TestCase("debug")]
    [TestCase("malloc_debug")]
    public void AManagedFatalErrorHandler_SeesTheReport_AndItsExceptionDoesNotCrossTheLibrary(string mode)
    {
        StepResult step = Steps(mode)["managed-handler"];
        Assert.That(step.Result, Is.EqualTo("False 1 True"), "CheckBlock saw the damage, the delegate ran once with the report");
        Assert.That(step.Reports, Is.Zero, "the C# [UnmanagedCallersOnly] recorder was replaced meanwhile");
        Assert.That(step.LastError, Does.StartWith("pa_debug_check_block:"));
    }

    [TestCase("debug")]
    [TestCase("malloc_debug")]
    public void CheckBlock_OfNull_IsAnErrorNotAReport(string mode)
    {
        StepResult step = Steps(mode)["check-null"];
        Assert.That(step.Result, Is.EqualTo("-1"));
        Assert.That(step.Reports, Is.Zero);
        Assert.That(step.LastError, Does.StartWith("pa_debug_check_block:"));
    }

    [TestCase("debug")]
    [TestCase("malloc_debug")]
    public void TheDefaultHandler_PrintsTheReportAndAborts(string mode)
    {
        var (exit, stdout, stderr) = RunChild(mode, "default-abort");
        Assert.That(exit, Is.EqualTo(128 + 6), $"not killed by SIGABRT; stderr:\n{stderr}");
        Assert.That(stdout, Does.Not.Contain("still alive"));
        Assert.That(stderr, Does.StartWith("Debug memory block at address p="));
        Assert.That(stderr, Does.Contain("\nFatal PyAlloc error: pa_free: bad trailing pad byte\n"));
    }

    // ------------------------------------------------------------- in this process (hooks off)

    [Test]
    public void CheckBlock_WithTheHooksOff_FailsWithAnError()
    {
        void* p = PyMemory.Alloc(10);
        PyMemory.ClearError();
        Assert.That(pa_debug_check_block(p), Is.EqualTo(-1));
        Assert.That(PyMemory.LastError, Does.StartWith("pa_debug_check_block: the debug hooks are not on"));
        var e = Assert.Throws<InvalidOperationException>(() => PyMemory.CheckBlock(p));
        Assert.That(e!.Message, Does.Contain("debug hooks are off"));
        Assert.Throws<ArgumentNullException>(() => PyMemory.CheckBlock(null));
        PyMemory.Free(p);
    }
}
