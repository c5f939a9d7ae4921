using NUnit.Framework;
using PyAlloc.Tests.Support;

namespace PyAlloc.Tests.Native;

/// <summary>
/// <see cref="PyAllocatorHook"/>, <see cref="PyMemory.GetAllocator"/>, <see cref="PyMemory.SetAllocator"/> and
/// <see cref="PyMemory.SetupDebugHooks"/> (CPython's PyMem_GetAllocator, PyMem_SetAllocator, PyMem_SetupDebugHooks),
/// each scenario in a child process of its own (<see cref="AllocatorHooksChild"/>): a hook is process-wide.
/// </summary>
[TestFixture]
public sealed class AllocatorHooksTests
{
    private static string Run(string scenario)
    {
        var (exit, stdout, stderr) = Processes.RunTestChild(AllocatorHooksChild.Verb, scenario);
        Assert.That(exit, Is.Zero, $"the child failed ({exit}):\n{stderr}\n{stdout}");
        Assert.That(stdout, Does.Contain("ok"));
        return stderr;
    }

    [Test]
    public void ACountingHook_SeesEveryCall_AndForwards() => Run("counting");

    [Test]
    public void ABudgetHook_RefusesWithAnErrorNamingTheHook() => Run("budget");

    [Test]
    public void AHookThatThrows_FailsTheAllocation_AndSaysWhy() =>
        Assert.That(Run("throwing"), Does.Contain("Exception ignored in PyAllocatorHook").And.Contain("the hook's own failure"));

    [Test]
    public void DebugHooksOverAHook_LayOutCheckAndReport() => Run("debug-over-hook");

    [Test]
    public void OnlyTheMemDomain_HasAnAllocator() => Run("domains");

    /// <summary>PYALLOC_MALLOCSTATS (CPython's PYTHONMALLOCSTATS) in a .NET process: a table per new arena and one at exit.</summary>
    [Test]
    public void MallocStatsVariable_PrintsATablePerArenaAndAtExit()
    {
        var (exit, stdout, stderr) = Processes.RunTestChild(AllocatorHooksChild.Verb, "mallocstats",
            ("PYALLOC_MALLOCSTATS", "1"), ("PYALLOC_MALLOC", "pymalloc"));
        Assert.That(exit, Is.Zero, stderr);
        Assert.That(stdout, Does.Contain("ok"));
        int tables = stderr.Split("# arenas allocated current").Length - 1;
        Assert.That(tables, Is.GreaterThanOrEqualTo(4), stderr);
    }
}
