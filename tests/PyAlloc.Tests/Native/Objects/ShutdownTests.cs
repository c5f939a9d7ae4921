using System;
using System.Text.RegularExpressions;
using NUnit.Framework;
using PyAlloc.Tests.Support;

namespace PyAlloc.Tests.Native.Objects;

/// <summary>
/// The end of a runtime through the binding, in a child process (<see cref="ShutdownChild"/>): the pending atexit
/// finalizers run newest first, and uncollectable garbage is reported on stderr as CPython's
/// _PyGC_DumpShutdownStats does.
/// </summary>
[TestFixture]
public sealed class ShutdownTests
{
    private static (string Stdout, string Stderr) RunChild(string scenario)
    {
        var (exit, stdout, stderr) = Processes.RunTestChild(ShutdownChild.Verb, scenario);
        Assert.That(exit, Is.Zero, $"the child failed:\n{stdout}\n{stderr}");
        return (stdout, stderr);
    }

    private static string AfterDispose(string stderr)
    {
        int at = stderr.IndexOf("--- dispose ---\n", StringComparison.Ordinal);
        Assert.That(at, Is.GreaterThanOrEqualTo(0), stderr);
        return stderr[(at + "--- dispose ---\n".Length)..];
    }

    /// <summary>CPython 3.12 (-W default): "gc:0: ResourceWarning: gc: 2 uncollectable objects at shutdown; use
    /// gc.set_debug(gc.DEBUG_UNCOLLECTABLE) to list them".</summary>
    [Test]
    public void Dispose_ReportsUncollectableGarbage()
    {
        var (stdout, stderr) = RunChild("garbage");
        Assert.That(stdout, Does.Contain("collected 2\n").And.EndWith("disposed\n"));
        Assert.That(AfterDispose(stderr), Is.EqualTo(
            "gc:0: ResourceWarning: gc: 2 uncollectable objects at shutdown; use gc.set_debug(gc.DEBUG_UNCOLLECTABLE) to list them\n"));
    }

    /// <summary>With DEBUG_UNCOLLECTABLE: no hint, and the objects listed on the next line.</summary>
    [Test]
    public void Dispose_ListsTheGarbage_UnderDebugUncollectable()
    {
        var (stdout, stderr) = RunChild("garbage-list");
        string a = Regex.Match(stdout, "a=(.*)\n").Groups[1].Value, b = Regex.Match(stdout, "b=(.*)\n").Groups[1].Value;
        Assert.That(AfterDispose(stderr), Is.EqualTo($"gc:0: ResourceWarning: gc: 2 uncollectable objects at shutdown\n      [{a}, {b}]\n")
                                            .Or.EqualTo($"gc:0: ResourceWarning: gc: 2 uncollectable objects at shutdown\n      [{b}, {a}]\n"));
    }

    /// <summary>weakref.finalize's _exitfunc: the atexit ones newest first, atexit=False never.</summary>
    [Test]
    public void Dispose_RunsTheAtExitFinalizers()
    {
        var (stdout, stderr) = RunChild("atexit");
        Assert.That(stdout, Is.EqualTo("finalizer 2\nfinalizer 1\ndisposed\n"));
        Assert.That(AfterDispose(stderr), Is.Empty);
    }
}
