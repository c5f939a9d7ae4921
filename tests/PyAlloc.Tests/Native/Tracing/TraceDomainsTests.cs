using System;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using NUnit.Framework;

namespace PyAlloc.Tests.Native.Tracing;

/// <summary>
/// The rest of tracemalloc through the idiomatic layer (issue 17, items 2-5), mirroring
/// tests/c/test_trace_domains.c: Track/Untrack in domains, Snapshot.traces, cumulative statistics,
/// filter_traces with Filter and DomainFilter, Traceback.format.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed unsafe class TraceDomainsTests
{
    [SetUp]
    [TearDown]
    public void NotTracing() => Tracemalloc.Stop();

    private static int Here([CallerLineNumber] int line = 0) => line;

    [Test]
    public void TrackAndUntrack_AreFalseWhenNotTracing()
    {
        Assert.That(Tracemalloc.Track(3, 0x1000, 64), Is.False);
        Assert.That(Tracemalloc.Untrack(3, 0x1000), Is.False);
    }

    [Test]
    public void Track_NamesTheCallersLine_CountsInTracedMemory_AndReplacesASecondTime()
    {
        Tracemalloc.Start(1);
        Assert.That(Tracemalloc.Track(7, 0x1000, 4096), Is.True);
        Assert.That(Tracemalloc.TracedMemory.Current, Is.EqualTo(4096));
        Assert.That(Tracemalloc.Track(7, 0x1000, 100), Is.True); int line = Here();
        Assert.That(Tracemalloc.TracedMemory, Is.EqualTo((100L, 4096L)), "the second call replaced the trace");

        using (TraceSnapshot s = Tracemalloc.TakeSnapshot())
        {
            Trace t = s.Traces.Single(x => x.Domain == 7);
            Assert.That(t.Size, Is.EqualTo(100));
            Assert.That(Path.GetFileName(t.Traceback[0].Filename), Is.EqualTo(nameof(TraceDomainsTests) + ".cs"));
            Assert.That(t.Traceback[0].Lineno, Is.EqualTo(line));
        }
        Assert.That(Tracemalloc.Untrack(9, 0x1000), Is.True, "an unknown block: true, as CPython's 0");
        Assert.That(Tracemalloc.Untrack(7, 0x1000), Is.True);
        Assert.That(Tracemalloc.TracedMemory.Current, Is.Zero);
    }

    /* Three traces in three domains, from three C# lines: a snapshot to filter and group. */
    private static TraceSnapshot ThreeDomains(out int line1, out int line2)
    {
        Tracemalloc.Start(1);
        Tracemalloc.Track(1, 0x1000, 100); line1 = Here();
        Tracemalloc.Track(2, 0x2000, 10); line2 = Here();
        Tracemalloc.Track(2, 0x3000, 1);
        return Tracemalloc.TakeSnapshot();
    }

    [Test]
    public void FilterTraces_MixesFiltersAsCPython()
    {
        using TraceSnapshot s = ThreeDomains(out int line1, out _);
        string file = "*" + nameof(TraceDomainsTests) + ".cs";
        using (TraceSnapshot none = s.FilterTraces())
            Assert.That(none.TraceCount, Is.EqualTo(3), "no filter: a copy");
        using (TraceSnapshot d2 = s.FilterTraces(new DomainFilter(true, 2)))
            Assert.That(d2.Traces.Select(t => t.Size), Is.EquivalentTo(new[] { 10L, 1L }));
        using (TraceSnapshot notD2 = s.FilterTraces(new DomainFilter(false, 2)))
            Assert.That(notD2.Traces.Single().Size, Is.EqualTo(100));
        using (TraceSnapshot lineOrD2 = s.FilterTraces(new Filter(true, file, line1), new DomainFilter(true, 2)))
            Assert.That(lineOrD2.TraceCount, Is.EqualTo(3), "inclusive filters are OR'ed");
        using (TraceSnapshot both = s.FilterTraces(new Filter(true, file), new Filter(false, file, line1)))
            Assert.That(both.Traces.Select(t => t.Size), Is.EquivalentTo(new[] { 10L, 1L }), "and each exclusive one must pass");
        using (TraceSnapshot inD1 = s.FilterTraces(new Filter(true, file, domain: 1)))
            Assert.That(inD1.Traces.Single().Domain, Is.EqualTo(1u));
        using (TraceSnapshot allFrames = s.FilterTraces(new Filter(true, "*.nothing", allFrames: true)))
            Assert.That(allFrames.TraceCount, Is.Zero);
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Filter(true, "*", 0));
        Assert.Throws<ArgumentNullException>(() => s.FilterTraces(new DomainFilter(true, 1), null!));
    }

    [Test]
    public void CumulativeStatistics_CountEveryFrame_AndRefuseTracebacks()
    {
        using TraceSnapshot s = ThreeDomains(out int line1, out int line2);
        var byLine = s.Statistics(PaStatKey.Lineno, cumulative: true);
        Assert.That(byLine.Select(st => (st.Lineno, st.Size)), Is.EquivalentTo(new[] { (line1, 100L), (line2, 10L), (line2 + 1, 1L) }));
        var byFile = s.Statistics(PaStatKey.Filename, cumulative: true);
        Assert.That(byFile.Single().Size, Is.EqualTo(111));
        var e = Assert.Throws<PyAllocException>(() => s.Statistics(PaStatKey.Traceback, cumulative: true));
        Assert.That(e!.Message, Does.Contain("cumulative mode cannot be used"));
        using TraceSnapshot empty = s.FilterTraces(new DomainFilter(true, 99));
        var diff = s.CompareTo(empty, PaStatKey.Filename, cumulative: true);
        Assert.That(diff.Single().SizeDiff, Is.EqualTo(111));
    }

    [Test]
    public void FormatTraceback_IsCPythonsTracebackFormat()
    {
        TracebackFrame[] frames = [new("c.c", 3), new("b.c", 2), new("a.c", 1)];   // most recent first
        Assert.That(Tracemalloc.FormatTraceback(frames),
            Is.EqualTo(new[] { "  File \"a.c\", line 1", "  File \"b.c\", line 2", "  File \"c.c\", line 3" }));
        Assert.That(Tracemalloc.FormatTraceback(frames, mostRecentFirst: true)[0], Is.EqualTo("  File \"c.c\", line 3"));
        Assert.That(Tracemalloc.FormatTraceback(frames, limit: 1), Is.EqualTo(new[] { "  File \"c.c\", line 3" }));
        Assert.That(Tracemalloc.FormatTraceback(frames, limit: 0), Is.Empty);
        Assert.That(Tracemalloc.FormatTraceback(frames, limit: -2), Is.EqualTo(new[] { "  File \"a.c\", line 1" }));

        string path = Path.Combine(Path.GetTempPath(), $"pyalloc-format-{Environment.ProcessId}.cs");
        File.WriteAllText(path, "first\n   var x = new Node();  \n");
        try
        {
            Assert.That(Tracemalloc.FormatTraceback([new TracebackFrame(path, 2)]),
                Is.EqualTo(new[] { $"  File \"{path}\", line 2", "    var x = new Node();" }));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
