using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using NUnit.Framework;
using PyAlloc.Tests.Support;

namespace PyAlloc.Tests.Native.Tracing;

/// <summary>
/// tracemalloc through the binding and the real libpyalloc.so, mirroring tests/c/test_tracemalloc.c and
/// test_callsites.c: the idiomatic <see cref="Tracemalloc"/> and <see cref="TraceSnapshot"/>, with allocations
/// named by the _at calls (a C# call without a site is attributed to a JIT-made interop stub).
/// </summary>
/// <remarks>Tracing is process-wide: every test starts it and the tear-down stops it. The expected texts are
/// CPython 3.12's for the same numbers.</remarks>
[TestFixture]
public sealed unsafe class TracemallocTests : RuntimeFixture
{
    private static readonly byte* Article = Sites.Of("article.cs\0"u8);
    private static readonly byte* Order = Sites.Of("order.cs\0"u8);
    private static readonly byte* FileA = Sites.Of("a.c\0"u8);
    private static readonly byte* FileB = Sites.Of("b.c\0"u8);
    private static readonly byte* FileC = Sites.Of("c.c\0"u8);
    private static readonly byte* Site = Sites.Of("site.cs\0"u8);

    private readonly List<nint> _blocks = [];

    [SetUp]
    public void NotTracing()
    {
        Tracemalloc.Stop();
        _blocks.Clear();
    }

    [TearDown]
    public void StopTracingAndFree()
    {
        Tracemalloc.Stop();
        foreach (nint b in _blocks)
            NativeMethods.pa_free((void*)b);
        _blocks.Clear();
    }

    /// <summary>A block freed by the tear-down.</summary>
    private void* Keep(void* p)
    {
        Assert.That((nint)p, Is.Not.Zero, PyMemory.LastError);
        _blocks.Add((nint)p);
        return p;
    }

    private void* At(nuint n, byte* file, int line) => Keep(NativeMethods.pa_malloc_at(n, file, line));

    private void Free(void* p)
    {
        _blocks.Remove((nint)p);
        NativeMethods.pa_free(p);
    }

    // ------------------------------------------------------------------ the tracer

    [Test]
    public void StartStop_IsTracing_AndTheNframeRange()
    {
        Assert.That(Tracemalloc.IsTracing, Is.False);
        Assert.Throws<ArgumentOutOfRangeException>(() => Tracemalloc.Start(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Tracemalloc.Start(Tracemalloc.MaxFrames + 1));
        PyMemory.ClearError();
        Assert.That(NativeMethods.pa_tracemalloc_start(0), Is.EqualTo(-1), "the library refuses too");
        Assert.That(PyMemory.LastError, Does.Contain("nframe"));
        Assert.That(NativeMethods.pa_tracemalloc_start(101), Is.EqualTo(-1));
        Assert.That(Tracemalloc.IsTracing, Is.False);

        Tracemalloc.Start(5);
        Assert.That(Tracemalloc.IsTracing, Is.True);
        Assert.That(Tracemalloc.TracebackLimit, Is.EqualTo(5));
        Tracemalloc.Start(Tracemalloc.MaxFrames);
        Assert.That(Tracemalloc.TracebackLimit, Is.EqualTo(100));
        Tracemalloc.Stop();
        Assert.That(Tracemalloc.IsTracing, Is.False);
        Assert.That(Tracemalloc.TracebackLimit, Is.EqualTo(100), "stop leaves the limit, as CPython");
        Assert.That(Tracemalloc.TracedMemory, Is.EqualTo((0L, 0L)));
    }

    [Test]
    public void TracedMemory_CountsTheRequestedBytes_AndResetPeak()
    {
        Tracemalloc.Start();
        Assert.That(Tracemalloc.TracedMemory, Is.EqualTo((0L, 0L)));
        void* a = At(100, Order, 1);
        void* b = At(5000, Order, 2);
        Assert.That(Tracemalloc.TracedMemory, Is.EqualTo((5100L, 5100L)));
        void* c = Keep(NativeMethods.pa_calloc_at(3, 7, Order, 3));
        Assert.That(Tracemalloc.TracedMemory, Is.EqualTo((5121L, 5121L)));
        Free(a);
        Assert.That(Tracemalloc.TracedMemory, Is.EqualTo((5021L, 5121L)));
        _blocks.Remove((nint)b);
        b = Keep(NativeMethods.pa_realloc_at(b, 20000, Order, 4));
        Assert.That(Tracemalloc.TracedMemory, Is.EqualTo((20021L, 20021L)));
        Free(b);
        Assert.That(Tracemalloc.TracedMemory, Is.EqualTo((21L, 20021L)));
        Tracemalloc.ResetPeak();
        Assert.That(Tracemalloc.TracedMemory, Is.EqualTo((21L, 21L)));
        Free(c);
        Assert.That(Tracemalloc.TracedMemory, Is.EqualTo((0L, 21L)));
    }

    [Test]
    public void UntracedBlocks_ChangeNothing_AndClearTracesForgetsEveryTrace()
    {
        void* before = At(700, Order, 1);
        Tracemalloc.Start();
        Free(before);
        Assert.That(Tracemalloc.TracedMemory, Is.EqualTo((0L, 0L)));
        void* p = At(64, Order, 2);
        Assert.That(Tracemalloc.GetTraceback(p), Has.Count.EqualTo(1));
        Tracemalloc.ClearTraces();
        Assert.That(Tracemalloc.IsTracing, Is.True);
        Assert.That(Tracemalloc.TracedMemory, Is.EqualTo((0L, 0L)));
        Assert.That(Tracemalloc.GetTraceback(p), Is.Empty);
        using (TraceSnapshot s = Tracemalloc.TakeSnapshot())
            Assert.That(s.TraceCount, Is.Zero);
        Free(p);
        Assert.That(Tracemalloc.TracedMemory, Is.EqualTo((0L, 0L)));
    }

    [Test]
    public void TracerMemory_GrowsWithTraces_AndDropsAfterClearAndStop()
    {
        const int n = 20000;
        Tracemalloc.Start();
        long m1 = Tracemalloc.Memory;
        for (int i = 0; i < n; i++)
            At(16, Order, 1);
        long m2 = Tracemalloc.Memory;
        Assert.That(m2, Is.GreaterThanOrEqualTo(m1 + n * 16L), "a trace needs at least a block's address and size");
        Tracemalloc.ClearTraces();
        Assert.That(Tracemalloc.Memory, Is.LessThan(m2));
        for (int i = 0; i < 100; i++)
            At(16, Order, 2);
        Tracemalloc.Stop();
        Assert.That(Tracemalloc.Memory, Is.LessThan(m2));
    }

    [Test]
    public void TakeSnapshot_WhenNotTracing_ThrowsWithTheLibrarysMessage()
    {
        var e = Assert.Throws<PyAllocException>(() => Tracemalloc.TakeSnapshot());
        Assert.That(e!.Message, Does.Contain("not tracing"));
    }

    // ------------------------------------------------------------------ the article

    /// <summary>Part 6: <c>tracemalloc.start()</c>, a thousand rows from one line, <c>statistics("lineno")</c>, print
    /// the top 3. CPython 3.12 prints 1000 blocks of 8000 bytes as below (7812.5 KiB rounds to even).</summary>
    [Test]
    public void Article_ThousandRowsFromOneLine_PrintAsCPython()
    {
        Tracemalloc.Start();
        for (int i = 0; i < 1000; i++)
            At(8000, Article, 5);
        using TraceSnapshot snapshot = Tracemalloc.TakeSnapshot();
        IReadOnlyList<Statistic> top = snapshot.Statistics(PaStatKey.Lineno);
        foreach (Statistic stat in top.Take(3))
            TestContext.Out.WriteLine(stat);
        Assert.That(top, Has.Count.EqualTo(1));
        Assert.That(top[0].ToString(), Is.EqualTo("article.cs:5: size=7812 KiB, count=1000, average=8000 B"));
        Assert.That((top[0].Filename, top[0].Lineno, top[0].Size, top[0].Count), Is.EqualTo(("article.cs", 5, 8000000L, 1000L)));
        Assert.That(top[0].Traceback, Is.EqualTo(new[] { new TracebackFrame("article.cs", 5) }));
        Assert.That(top[0].Traceback[0].ToString(), Is.EqualTo("article.cs:5"));
        Assert.That(snapshot.TraceCount, Is.EqualTo(1000));
        Assert.That(snapshot.TracebackLimit, Is.EqualTo(1));
    }

    // ------------------------------------------------------------------ statistics

    /// <summary>Sorted as <c>Statistic._sort_key</c> reversed: size, then count, then traceback (here the line).</summary>
    [Test]
    public void Statistics_ByLineno_SortedBySizeThenCountThenTraceback()
    {
        Tracemalloc.Start();
        void Many(int count, nuint size, int line)
        {
            for (int i = 0; i < count; i++)
                At(size, Order, line);
        }
        Many(3, 100, 10);
        Many(1, 300, 20);
        Many(2, 150, 30);
        Many(5, 60, 40);
        Many(2, 150, 50);
        Many(1, 1000, 60);
        Many(4, 25, 70);
        using TraceSnapshot s = Tracemalloc.TakeSnapshot();
        var got = s.Statistics(PaStatKey.Lineno).Select(st => (st.Lineno, st.Size, st.Count)).ToArray();
        Assert.That(got, Is.EqualTo(new[]
        {
            (60, 1000L, 1L), (40, 300L, 5L), (10, 300L, 3L), (50, 300L, 2L), (30, 300L, 2L), (20, 300L, 1L), (70, 100L, 4L),
        }));
        Assert.That(s.Statistics(PaStatKey.Lineno)[1].ToString(), Is.EqualTo("order.cs:40: size=300 B, count=5, average=60 B"));
        Assert.That(s.Statistics(PaStatKey.Traceback).Select(st => st.Lineno), Is.EqualTo(got.Select(g => g.Lineno)),
            "one frame per trace: traceback groups are line groups");
    }

    [Test]
    public void Statistics_ByFilename_LineZero_AndTiesByCountThenName()
    {
        Tracemalloc.Start();
        At(100, FileB, 1);
        At(200, FileB, 2);
        for (int i = 0; i < 3; i++)
            At(100, FileA, 10 + i);
        At(150, FileC, 1);
        At(150, FileC, 1);
        using TraceSnapshot s = Tracemalloc.TakeSnapshot();
        IReadOnlyList<Statistic> st = s.Statistics(PaStatKey.Filename);
        Assert.That(st.Select(x => (x.Filename, x.Lineno, x.Size, x.Count)), Is.EqualTo(new[]
        {
            ("a.c", 0, 300L, 3L), ("c.c", 0, 300L, 2L), ("b.c", 0, 300L, 2L),
        }));
        Assert.That(st[0].ToString(), Is.EqualTo("a.c:0: size=300 B, count=3, average=100 B"));
        Assert.That(st[0].Traceback, Is.EqualTo(new[] { new TracebackFrame("a.c", 0) }));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void* FromHere() => At(64, Site, 7);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void* FromThere() => At(64, Site, 7);

    /// <summary>Grouped by traceback, with nframe 3: each group starts with the named site and has at most 3 frames
    /// (the native frames above a C# caller end at the managed code, which backtrace() cannot walk), and prints its
    /// oldest frame, as CPython's str(Traceback).</summary>
    [Test]
    public void Statistics_ByTraceback_SiteFirst_AtMostNframe_PrintedByTheOldestFrame()
    {
        Tracemalloc.Start(3);
        FromHere();
        FromThere();
        Keep(NativeMethods.pa_calloc_at(1, 64, Site, 7));
        using TraceSnapshot s = Tracemalloc.TakeSnapshot();
        IReadOnlyList<Statistic> byLine = s.Statistics(PaStatKey.Lineno);
        Assert.That(byLine.Select(x => (x.Filename, x.Lineno, x.Size, x.Count)), Is.EqualTo(new[] { ("site.cs", 7, 192L, 3L) }));
        IReadOnlyList<Statistic> byTraceback = s.Statistics(PaStatKey.Traceback);
        foreach (Statistic st in byTraceback)
            TestContext.Out.WriteLine($"{st}   [{string.Join(" <- ", st.Traceback)}]");
        Assert.That(byTraceback.Sum(x => x.Size), Is.EqualTo(192));
        Assert.That(byTraceback.Sum(x => x.Count), Is.EqualTo(3));
        foreach (Statistic st in byTraceback)
        {
            Assert.That(st.Traceback, Has.Count.InRange(1, 3));
            Assert.That(st.Traceback[0], Is.EqualTo(new TracebackFrame("site.cs", 7)));
            Assert.That((st.Filename, st.Lineno), Is.EqualTo(("site.cs", 7)), "the first (most recent) frame");
            Assert.That(st.ToString(), Is.EqualTo($"{st.Traceback[^1]}: size={st.Size} B, count={st.Count}, average=64 B"),
                "str(Traceback) is the oldest frame");
        }
    }

    // ------------------------------------------------------------------ compare_to

    [Test]
    public void CompareTo_NewGrownShrunkVanishedUnchanged_InCPythonsOrderAndWords()
    {
        byte* grow = Sites.Of("grow.c\0"u8), shrink = Sites.Of("shrink.c\0"u8), gone = Sites.Of("gone.c\0"u8);
        byte* same = Sites.Of("same.c\0"u8), fresh = Sites.Of("new.c\0"u8);
        Tracemalloc.Start();
        for (int i = 0; i < 3; i++) At(100, grow, 1);
        var shrinking = Enumerable.Range(0, 4).Select(_ => (nint)At(50, shrink, 1)).ToArray();
        var going = Enumerable.Range(0, 2).Select(_ => (nint)At(60, gone, 1)).ToArray();
        At(10, same, 1);
        using TraceSnapshot old = Tracemalloc.TakeSnapshot();
        for (int i = 0; i < 2; i++) At(100, grow, 1);
        foreach (nint p in shrinking.Skip(1)) Free((void*)p);
        foreach (nint p in going) Free((void*)p);
        At(1000, fresh, 1);
        using TraceSnapshot now = Tracemalloc.TakeSnapshot();

        IReadOnlyList<StatisticDiff> d = now.CompareTo(old, PaStatKey.Lineno);
        Assert.That(d.Select(x => x.ToString()), Is.EqualTo(new[]
        {
            "new.c:1: size=1000 B (+1000 B), count=1 (+1), average=1000 B",
            "grow.c:1: size=500 B (+200 B), count=5 (+2), average=100 B",
            "shrink.c:1: size=50 B (-150 B), count=1 (-3), average=50 B",
            "gone.c:1: size=0 B (-120 B), count=0 (-2)",
            "same.c:1: size=10 B (+0 B), count=1 (+0), average=10 B",
        }));
        Assert.That(d.Select(x => (x.Filename, x.Size, x.SizeDiff, x.Count, x.CountDiff)), Is.EqualTo(new[]
        {
            ("new.c", 1000L, 1000L, 1L, 1L), ("grow.c", 500L, 200L, 5L, 2L), ("shrink.c", 50L, -150L, 1L, -3L),
            ("gone.c", 0L, -120L, 0L, -2L), ("same.c", 10L, 0L, 1L, 0L),
        }));
        Assert.That(d[3].Traceback, Is.EqualTo(new[] { new TracebackFrame("gone.c", 1) }), "a vanished group keeps its frames");
        Assert.That(now.CompareTo(now, PaStatKey.Filename).All(x => x.SizeDiff == 0 && x.CountDiff == 0), Is.True);
    }

    [Test]
    public void CompareTo_NullOrDisposedSnapshots_Throw()
    {
        Tracemalloc.Start();
        using TraceSnapshot a = Tracemalloc.TakeSnapshot();
        TraceSnapshot b = Tracemalloc.TakeSnapshot();
        b.Dispose();
        Assert.Throws<ArgumentNullException>(() => a.CompareTo(null!, PaStatKey.Lineno));
        Assert.Throws<ObjectDisposedException>(() => a.CompareTo(b, PaStatKey.Lineno));
        Assert.Throws<ObjectDisposedException>(() => b.CompareTo(a, PaStatKey.Lineno));
        Assert.Throws<ObjectDisposedException>(() => b.Statistics(PaStatKey.Lineno));
        Assert.Throws<ObjectDisposedException>(() => _ = b.TraceCount);
        Assert.That(b.IsDisposed, Is.True);
        b.Dispose();                                  // twice is harmless
        Assert.Throws<PyAllocException>(() => a.Statistics((PaStatKey)7));
    }

    // ------------------------------------------------------------------ filters

    /// <summary>fnmatch as python3.12 answered for these five names (bit i: name i matches).</summary>
    [TestCase("*.c", 0x1B)]
    [TestCase("src/?eta.c", 0x02)]
    [TestCase("*/[ab]*", 0x03)]
    [TestCase("*/[!ab]*", 0x04)]
    [TestCase("[a-m]*", 0x04)]
    [TestCase("odd[[]1].c", 0x08)]
    [TestCase("odd[1].c", 0x00)]
    [TestCase("*[!c]", 0x04)]
    [TestCase("[z-a]*", 0x00)]
    [TestCase("", 0x00)]
    [TestCase("*", 0x1F)]
    public void Filter_MatchesAsFnmatch(string pattern, int matches)
    {
        byte*[] files =
        [
            Sites.Of("src/alpha.c\0"u8), Sites.Of("src/beta.c\0"u8), Sites.Of("lib/gamma.h\0"u8), Sites.Of("odd[1].c\0"u8), Sites.Of("x.c\0"u8),
        ];
        Tracemalloc.Start();
        for (int i = 0; i < files.Length; i++)
            At((nuint)1 << i, files[i], 1);
        using TraceSnapshot s = Tracemalloc.TakeSnapshot();
        using TraceSnapshot included = s.Filter(true, pattern);
        using TraceSnapshot excluded = s.Filter(false, pattern);
        Assert.That(included.Statistics(PaStatKey.Lineno).Sum(x => x.Size), Is.EqualTo(matches));
        Assert.That(excluded.Statistics(PaStatKey.Lineno).Sum(x => x.Size), Is.EqualTo(~matches & 0x1F));
        Assert.That(included.TraceCount + excluded.TraceCount, Is.EqualTo(5));
    }

    [Test]
    public void Filter_WithALine_AndTheResultStandsAlone()
    {
        byte* f = Sites.Of("f.c\0"u8), g = Sites.Of("g.c\0"u8);
        Tracemalloc.Start(3);
        At(10, f, 1);
        At(10, f, 1);
        for (int i = 0; i < 3; i++) At(20, f, 2);
        At(40, g, 1);
        TraceSnapshot s = Tracemalloc.TakeSnapshot();
        using TraceSnapshot line1 = s.Filter(true, "f.c", 1);
        using TraceSnapshot notLine1 = s.Filter(false, "f.c", 1);
        s.Dispose();
        Tracemalloc.Stop();
        Assert.That((line1.TraceCount, line1.Statistics(PaStatKey.Filename).Sum(x => x.Size)), Is.EqualTo((2L, 20L)));
        Assert.That((notLine1.TraceCount, notLine1.Statistics(PaStatKey.Filename).Sum(x => x.Size)), Is.EqualTo((4L, 100L)));
        Assert.That(line1.TracebackLimit, Is.EqualTo(3));
        using TraceSnapshot onlyG = notLine1.Filter(true, "g.*");
        Assert.That(onlyG.Statistics(PaStatKey.Lineno).Single().ToString(), Is.EqualTo("g.c:1: size=40 B, count=1, average=40 B"));
        Assert.Throws<ArgumentNullException>(() => line1.Filter(true, null!));
        Assert.Throws<ArgumentException>(() => line1.Filter(true, "a\0b"));
    }

    // ------------------------------------------------------------------ dump and load

    [Test]
    public void DumpAndLoad_RoundTrip_SameStatistics()
    {
        string dir = TestEnvironment.NewScratchDirectory();
        try
        {
            Tracemalloc.Start(2);
            for (int i = 0; i < 3; i++)
                At(300, FileA, 1);
            FromHere();
            FromThere();
            At(5, FileB, 9);
            string path = Path.Combine(dir, "snapshot.bin");
            using (TraceSnapshot s = Tracemalloc.TakeSnapshot())
            {
                s.Dump(path);
                Tracemalloc.Stop();
                using TraceSnapshot loaded = TraceSnapshot.Load(path);
                Assert.That(loaded.TraceCount, Is.EqualTo(s.TraceCount));
                Assert.That(loaded.TracebackLimit, Is.EqualTo(2));
                foreach (PaStatKey key in new[] { PaStatKey.Filename, PaStatKey.Lineno, PaStatKey.Traceback })
                {
                    Assert.That(loaded.Statistics(key).Select(x => x.ToString()), Is.EqualTo(s.Statistics(key).Select(x => x.ToString())), key.ToString());
                    Assert.That(loaded.Statistics(key).SelectMany(x => x.Traceback), Is.EqualTo(s.Statistics(key).SelectMany(x => x.Traceback)), key.ToString());
                }
                Assert.That(loaded.CompareTo(s, PaStatKey.Traceback).All(x => x.SizeDiff == 0 && x.CountDiff == 0), Is.True);
            }

            string bad = Path.Combine(dir, "bad.bin");
            byte[] bytes = File.ReadAllBytes(path);
            File.WriteAllBytes(bad, bytes[..(bytes.Length / 2)]);
            Assert.That(Assert.Throws<PyAllocException>(() => TraceSnapshot.Load(bad))!.Message, Does.Contain(bad).And.Contain("truncated"));
            bytes[bytes.Length / 2] ^= 0x40;
            File.WriteAllBytes(bad, bytes);
            Assert.That(Assert.Throws<PyAllocException>(() => TraceSnapshot.Load(bad))!.Message, Does.Contain(bad));
            File.WriteAllText(bad, "script.py:5: size=7813 KiB, count=1001, average=8.0 KiB\n");
            Assert.That(Assert.Throws<PyAllocException>(() => TraceSnapshot.Load(bad))!.Message, Does.Contain("not a PyAlloc snapshot"));
            string missing = Path.Combine(dir, "missing.bin");
            Assert.That(Assert.Throws<PyAllocException>(() => TraceSnapshot.Load(missing))!.Message,
                Does.Contain(missing).And.Contain("No such file or directory (errno 2)"), "a sentence from errno, not a .NET resource key");
            Assert.That(Assert.Throws<PyAllocException>(() => TraceSnapshot.Load("/dev/zero"))!.Message, Does.Contain("not a PyAlloc snapshot"));
            Assert.That(Assert.Throws<PyAllocException>(() => TraceSnapshot.Load(dir))!.Message, Does.Contain("Is a directory (errno 21)"));
            // A 0-frame traceback with a right checksum (issue 13): refused, naming the field.
            Tracemalloc.Start(2);
            At(300, FileA, 1);
            using (TraceSnapshot s = Tracemalloc.TakeSnapshot())
                s.Dump(path);
            byte[] crafted = File.ReadAllBytes(path);
            int at = 20;                                          // after magic, version, limit, string count
            for (uint i = 0, names = BitConverter.ToUInt32(crafted, 16); i < names; i++)
                at += 4 + (int)BitConverter.ToUInt32(crafted, at);
            at += 4;                                              // the traceback count; then the first frame count
            BitConverter.GetBytes(0u).CopyTo(crafted, at);
            ulong h = 0xCBF29CE484222325UL;
            for (int i = 0; i < crafted.Length - 8; i++)
                h = (h ^ crafted[i]) * 0x100000001B3UL;
            BitConverter.GetBytes(h).CopyTo(crafted, crafted.Length - 8);
            File.WriteAllBytes(bad, crafted);
            Assert.That(Assert.Throws<PyAllocException>(() => TraceSnapshot.Load(bad))!.Message, Does.Contain("traceback 0 has 0 frames"));
            Tracemalloc.Start();
            using TraceSnapshot empty = Tracemalloc.TakeSnapshot();
            string unwritable = Path.Combine(dir, "no-such-dir", "x.bin");
            Assert.That(Assert.Throws<PyAllocException>(() => empty.Dump(unwritable))!.Message,
                Does.Contain(unwritable).And.Contain("No such file or directory (errno 2)"));
            Assert.That(Assert.Throws<PyAllocException>(() => empty.Dump("/dev/full"))!.Message, Does.Contain("No space left on device (errno 28)"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // ------------------------------------------------------------------ get_traceback and objects

    [Test]
    public void GetTraceback_OfBlocksAndObjects_AndOfUntracedOnes()
    {
        void* before = At(32, Order, 1);
        using PyOwned untracedList = PyList.New(Rt);
        Tracemalloc.Start();
        Assert.That(Tracemalloc.GetTraceback(before), Is.Empty);
        Assert.That(Tracemalloc.GetTraceback(untracedList), Is.Empty);
        void* p = At(32, Site, 12);
        Assert.That(Tracemalloc.GetTraceback(p), Is.EqualTo(new[] { new TracebackFrame("site.cs", 12) }));
        using PyOwned list = PyOwned.Steal(new PyObjectRef(NativeMethods.pa_list_new_at(Rt.Handle, Site, 13)));
        Assert.That(Tracemalloc.GetTraceback(list), Is.EqualTo(new[] { new TracebackFrame("site.cs", 13) }));
        PyType holder = HolderType();
        using PyOwned o = PyOwned.Steal(new PyObjectRef(NativeMethods.pa_object_new_at(holder.Handle, Site, 14)));
        Assert.That(Tracemalloc.GetTraceback(o.Ref), Is.EqualTo(new[] { new TracebackFrame("site.cs", 14) }));
        Free(p);
        Assert.That(Tracemalloc.GetTraceback(p), Is.Empty);
        Assert.Throws<ArgumentNullException>(() => Tracemalloc.GetTraceback((void*)null));
        Assert.Throws<ArgumentNullException>(() => Tracemalloc.GetTraceback(PyObjectRef.Null));
    }

    /// <summary>A C# call without a site is traced too, at the address of the code that called into the library:
    /// a frame with a name (an address, since the JIT's stub has no symbol), never "&lt;unknown&gt;".</summary>
    [Test]
    public void PlainCallsFromCSharp_AreTracedAtACodeAddress()
    {
        Tracemalloc.Start();
        void* p = Keep(NativeMethods.pa_malloc(10));
        IReadOnlyList<TracebackFrame> tb = Tracemalloc.GetTraceback(p);
        TestContext.Out.WriteLine($"pa_malloc from C# is attributed to: {(tb.Count > 0 ? tb[0] : "(nothing)")}");
        Assert.That(tb, Has.Count.EqualTo(1));
        Assert.That(tb[0].Filename, Is.Not.Empty.And.Not.EqualTo("<unknown>"));
        Assert.That(tb[0].Filename, Does.Contain("0x"), "a code address, as dladdr describes it");
        Assert.That(Tracemalloc.TracedMemory.Current, Is.EqualTo(10));
        using TraceSnapshot s = Tracemalloc.TakeSnapshot();
        Assert.That(s.Statistics(PaStatKey.Lineno).Single().Size, Is.EqualTo(10));
    }

    /// <summary>An object is traced with its whole size, the collector's two words included: what the census counts.</summary>
    [Test]
    public void ObjectTraces_HaveTheCensusSize_AndVanishWhenTheObjectsDie()
    {
        PyType holder = HolderType();
        Tracemalloc.Start();
        PyOwned list = PyOwned.Steal(new PyObjectRef(NativeMethods.pa_list_new_at(Rt.Handle, Site, 20)));
        PyOwned item = PyOwned.Steal(new PyObjectRef(NativeMethods.pa_object_new_at(holder.Handle, Site, 21)));
        PyList.Append(list, item);
        IReadOnlyList<ObjectTypeCount> census = Rt.CountObjectsByType();
        long listBytes = census.Single(c => c.Name == "list").Bytes;
        long holderBytes = census.Single(c => c.Name == "Holder").Bytes;
        Assert.That(holderBytes, Is.EqualTo(2 * sizeof(nint) + sizeof(Holder)));
        using (TraceSnapshot s = Tracemalloc.TakeSnapshot())
        {
            var sizes = s.Statistics(PaStatKey.Lineno).ToDictionary(x => x.Lineno, x => x.Size);
            Assert.That(sizes, Is.EqualTo(new Dictionary<int, long> { [20] = listBytes, [21] = holderBytes }));
        }
        Assert.That(Tracemalloc.TracedMemory.Current, Is.EqualTo(listBytes + holderBytes));
        PyObjectRef itemRef = item.Ref;
        item.Dispose();
        list.Dispose();                               // the list and its item die
        Assert.That(Tracemalloc.TracedMemory.Current, Is.Zero);
        Assert.That(Tracemalloc.GetTraceback(itemRef.Pointer), Is.Empty);

        (PyObjectRef a, PyObjectRef _) = UnreachableCycle(holder);
        Assert.That(Tracemalloc.TracedMemory.Current, Is.EqualTo(2 * holderBytes), "a cycle lives until collected");
        Assert.That(Rt.Collect(), Is.EqualTo(2));
        Assert.That(Tracemalloc.TracedMemory.Current, Is.Zero);
        Assert.That(Tracemalloc.GetTraceback(a.Pointer), Is.Empty);
    }

    /// <summary>Disposing a runtime releases the objects still alive in it: their memory goes back, so their traces
    /// must go too (as for every other way an object's memory goes back). Mirrors test_callsites.c's
    /// objects_alive_at_runtime_free_lose_their_traces.</summary>
    [Test]
    public void RuntimeDispose_ForgetsTheTracesOfTheObjectsItReleases()
    {
        Tracemalloc.Start();
        var rt = new PyRuntime();
        PaObject* kept = NativeMethods.pa_list_new_at(rt.Handle, Site, 30);   // never released
        Assert.That(Tracemalloc.TracedMemory.Current, Is.GreaterThan(0));
        Assert.That(Tracemalloc.GetTraceback(kept), Has.Count.EqualTo(1));
        rt.Dispose();
        Assert.That(Tracemalloc.TracedMemory.Current, Is.Zero, "bytes still traced for the objects of a disposed runtime");
        using TraceSnapshot s = Tracemalloc.TakeSnapshot();
        Assert.That(s.Statistics(PaStatKey.Lineno).Select(x => x.ToString()), Is.Empty);
    }
}
