using System.Text;
using NUnit.Framework;
using PyAlloc.Tests.Support;

namespace PyAlloc.Tests.Native.Tracing;

/// <summary>
/// <c>pa_statistic_format</c> / <c>pa_statistic_diff_format</c> through the binding: <c>str(Statistic)</c> and
/// <c>str(StatisticDiff)</c> of CPython 3.12 for given numbers (each expected text checked with python3.12:
/// <c>str(tracemalloc.Statistic(tracemalloc.Traceback((("tour.c", 5),)), size, count))</c>), and snprintf's
/// contract for the buffer.
/// </summary>
[TestFixture]
public sealed unsafe class StatisticFormatTests
{
    private static readonly byte* Tour = Sites.Of("tour.c\0"u8);

    private static PaStatistic Stat(PaFrame* frame, ulong size, ulong count)
    {
        *frame = new PaFrame { Filename = Tour, Lineno = 5 };
        return new PaStatistic { Filename = Tour, Lineno = 5, Frames = frame, Nframes = 1, Size = (nuint)size, Count = (nuint)count };
    }

    private static string Format(PaStatistic st)
    {
        byte* buf = stackalloc byte[512];
        int n = NativeMethods.pa_statistic_format(&st, buf, 512);
        Assert.That(n, Is.InRange(0, 511), PyMemory.LastError);
        return Encoding.UTF8.GetString(buf, n);
    }

    private static string Format(PaStatisticDiff st)
    {
        byte* buf = stackalloc byte[512];
        int n = NativeMethods.pa_statistic_diff_format(&st, buf, 512);
        Assert.That(n, Is.InRange(0, 511), PyMemory.LastError);
        return Encoding.UTF8.GetString(buf, n);
    }

    [TestCase(8000000UL, 1000UL, "tour.c:5: size=7812 KiB, count=1000, average=8000 B", Description = "7812.5 KiB rounds to even")]
    [TestCase(8008000UL, 1001UL, "tour.c:5: size=7820 KiB, count=1001, average=8000 B")]
    [TestCase(8000512UL, 1001UL, "tour.c:5: size=7813 KiB, count=1001, average=7993 B")]
    [TestCase(8001024UL, 1UL, "tour.c:5: size=7814 KiB, count=1, average=7814 KiB", Description = "7813.5 rounds to even")]
    [TestCase(0UL, 0UL, "tour.c:5: size=0 B, count=0", Description = "no average without traces")]
    [TestCase(10239UL, 1UL, "tour.c:5: size=10239 B, count=1, average=10239 B")]
    [TestCase(10240UL, 1UL, "tour.c:5: size=10.0 KiB, count=1, average=10.0 KiB")]
    [TestCase(102349UL, 1UL, "tour.c:5: size=100.0 KiB, count=1, average=100.0 KiB", Description = "99.95.. KiB prints as 100.0")]
    [TestCase(102400UL, 1UL, "tour.c:5: size=100 KiB, count=1, average=100 KiB")]
    [TestCase(101632UL, 1UL, "tour.c:5: size=99.2 KiB, count=1, average=99.2 KiB", Description = "99.25 rounds to even")]
    [TestCase(101120UL, 1UL, "tour.c:5: size=98.8 KiB, count=1, average=98.8 KiB", Description = "98.75 rounds to even")]
    [TestCase(10485760UL, 3UL, "tour.c:5: size=10.0 MiB, count=3, average=3413 KiB")]
    [TestCase(214748364800UL, 7UL, "tour.c:5: size=200 GiB, count=7, average=28.6 GiB")]
    [TestCase(109951162777600UL, 1UL, "tour.c:5: size=100 TiB, count=1, average=100 TiB")]
    [TestCase(5UL, 2UL, "tour.c:5: size=5 B, count=2, average=2 B", Description = "2.5 rounds to even")]
    [TestCase(7UL, 2UL, "tour.c:5: size=7 B, count=2, average=4 B", Description = "3.5 rounds to even")]
    [TestCase(25UL, 2UL, "tour.c:5: size=25 B, count=2, average=12 B", Description = "12.5 rounds to even")]
    [TestCase(1000UL, 3UL, "tour.c:5: size=1000 B, count=3, average=333 B")]
    public void StatisticFormat_IsCPythonsText(ulong size, ulong count, string expected)
    {
        PaFrame frame;
        Assert.That(Format(Stat(&frame, size, count)), Is.EqualTo(expected));
    }

    [TestCase(0UL, -8000000L, 0UL, -1000L, "tour.c:5: size=0 B (-7812 KiB), count=0 (-1000)")]
    [TestCase(8000000UL, 8000000L, 1000UL, 1000L, "tour.c:5: size=7812 KiB (+7812 KiB), count=1000 (+1000), average=8000 B")]
    [TestCase(8000UL, 0L, 1UL, 0L, "tour.c:5: size=8000 B (+0 B), count=1 (+0), average=8000 B")]
    [TestCase(102400UL, -101888L, 10UL, -5L, "tour.c:5: size=100 KiB (-99.5 KiB), count=10 (-5), average=10.0 KiB")]
    [TestCase(51UL, -53477376L, 1UL, -1L, "tour.c:5: size=51 B (-51.0 MiB), count=1 (-1), average=51 B")]
    [TestCase(0UL, -8001024L, 0UL, -1L, "tour.c:5: size=0 B (-7814 KiB), count=0 (-1)")]
    [TestCase(5368709120UL, 5368709120L, 1UL, 1L, "tour.c:5: size=5120 MiB (+5120 MiB), count=1 (+1), average=5120 MiB")]
    public void StatisticDiffFormat_IsCPythonsText(ulong size, long sizeDiff, ulong count, long countDiff, string expected)
    {
        var frame = new PaFrame { Filename = Tour, Lineno = 5 };
        var d = new PaStatisticDiff
        {
            Filename = Tour, Lineno = 5, Frames = &frame, Nframes = 1,
            Size = (nuint)size, SizeDiff = (nint)sizeDiff, Count = (nuint)count, CountDiff = (nint)countDiff,
        };
        Assert.That(Format(d), Is.EqualTo(expected));
    }

    /// <summary>str(Traceback) is its first element, and CPython 3.12 keeps frames oldest first: a traceback
    /// statistic prints its oldest frame (the last of the binding's most-recent-first array).</summary>
    [Test]
    public void TracebackStatistic_PrintsItsOldestFrame()
    {
        PaFrame* frames = stackalloc PaFrame[2];
        frames[0] = new PaFrame { Filename = Sites.Of("b.c\0"u8), Lineno = 2 };
        frames[1] = new PaFrame { Filename = Sites.Of("a.c\0"u8), Lineno = 1 };
        var st = new PaStatistic { Filename = frames[0].Filename, Lineno = 2, Frames = frames, Nframes = 2, Size = 10, Count = 1 };
        Assert.That(Format(st), Is.EqualTo("a.c:1: size=10 B, count=1, average=10 B"));
    }

    [Test]
    public void FormatBuffers_HaveSnprintfSemantics()
    {
        PaFrame frame;
        PaStatistic st = Stat(&frame, 8000000, 1000);
        const string full = "tour.c:5: size=7812 KiB, count=1000, average=8000 B";
        byte* buf = stackalloc byte[128];
        Assert.That(NativeMethods.pa_statistic_format(&st, null, 0), Is.EqualTo(full.Length));
        foreach (int cap in new[] { 1, 2, 10, full.Length - 1, full.Length, full.Length + 1, 128 })
        {
            new System.Span<byte>(buf, 128).Fill((byte)'#');
            Assert.That(NativeMethods.pa_statistic_format(&st, buf, (nuint)cap), Is.EqualTo(full.Length), $"cap {cap}");
            int kept = System.Math.Min(cap - 1, full.Length);
            Assert.That(Encoding.UTF8.GetString(buf, kept), Is.EqualTo(full[..kept]), $"cap {cap}");
            Assert.That(buf[kept], Is.Zero, $"cap {cap}: the NUL");
            if (kept + 1 < 128)
                Assert.That(buf[kept + 1], Is.EqualTo((byte)'#'), $"cap {cap}: nothing written past the NUL");
        }
    }

    [Test]
    public void Format_RefusesNullArguments()
    {
        PaFrame frame;
        PaStatistic st = Stat(&frame, 1, 1);
        byte* buf = stackalloc byte[16];
        PyMemory.ClearError();
        Assert.That(NativeMethods.pa_statistic_format(null, buf, 16), Is.EqualTo(-1));
        Assert.That(PyMemory.LastError, Does.Contain("pa_statistic_format"));
        Assert.That(NativeMethods.pa_statistic_format(&st, null, 16), Is.EqualTo(-1));
        PyMemory.ClearError();
        Assert.That(NativeMethods.pa_statistic_diff_format(null, buf, 16), Is.EqualTo(-1));
        Assert.That(PyMemory.LastError, Does.Contain("pa_statistic_diff_format"));
    }
}
