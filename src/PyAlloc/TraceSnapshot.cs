using System;
using System.Collections.Generic;
using System.Text;

using PyAlloc.Interop;

namespace PyAlloc;

/// <summary>
/// A tracemalloc snapshot (<c>pa_snapshot</c>, CPython's <c>tracemalloc.Snapshot</c>): a copy of the traces at one
/// moment, independent of the tracer; statistics, comparisons, filters, and a file format.
/// </summary>
/// <remarks>
/// <para>Made by <see cref="Tracemalloc.TakeSnapshot"/>, <see cref="Filter"/> or <see cref="Load"/>. Everything it
/// returns is a managed copy, so nothing dangles after <see cref="Dispose"/>; a snapshot that is not disposed is
/// freed by its finaliser. Members throw <see cref="ObjectDisposedException"/> after <see cref="Dispose"/> and
/// <see cref="PyAllocException"/> for failures the library reports.</para>
/// <para>Use a snapshot from one thread at a time: the library builds and caches each grouping on first use,
/// without a lock of its own.</para>
/// </remarks>
public sealed unsafe class TraceSnapshot : IDisposable
{
    private PaSnapshot* _handle;

    /// <summary>Takes ownership of a <c>pa_snapshot*</c> (from <see cref="NativeMethods"/>).</summary>
    /// <param name="handle">A snapshot no one else frees.</param>
    /// <exception cref="ArgumentNullException"><paramref name="handle"/> is null.</exception>
    public TraceSnapshot(PaSnapshot* handle)
    {
        ArgumentNullException.ThrowIfNull(handle);
        _handle = handle;
    }

    /// <summary>Frees the snapshot if <see cref="Dispose"/> was not called.</summary>
    ~TraceSnapshot() => Free();

    /// <summary>The <c>pa_snapshot*</c>, for <see cref="NativeMethods"/>.</summary>
    /// <exception cref="ObjectDisposedException">The snapshot has been disposed.</exception>
    public PaSnapshot* Handle => _handle != null ? _handle : throw new ObjectDisposedException(nameof(TraceSnapshot));

    /// <summary>True once <see cref="Dispose"/> has freed the snapshot.</summary>
    public bool IsDisposed => _handle == null;

    /// <summary>The number of traces (<c>len(snapshot.traces)</c>).</summary>
    /// <exception cref="ObjectDisposedException">The snapshot has been disposed.</exception>
    public long TraceCount => (long)Check(NativeMethods.pa_snapshot_trace_count(Handle));

    /// <summary><c>Snapshot.traceback_limit</c>: the nframe the traces were taken with.</summary>
    /// <exception cref="ObjectDisposedException">The snapshot has been disposed.</exception>
    public int TracebackLimit
    {
        get
        {
            int limit = NativeMethods.pa_snapshot_traceback_limit(Handle);
            return limit >= 0 ? limit : throw new PyAllocException(PyMemory.LastError);
        }
    }

    /// <summary><c>Snapshot.statistics(key_type)</c> (<c>pa_snapshot_statistics</c>): the traces grouped by
    /// <paramref name="key"/>, largest first (size, then count, then traceback, as CPython sorts them).</summary>
    /// <param name="key">By file, by file and line, or by whole traceback.</param>
    /// <returns>The groups, each with its frames and CPython's text (<see cref="Statistic.ToString"/>).</returns>
    /// <exception cref="ObjectDisposedException">The snapshot has been disposed.</exception>
    /// <exception cref="PyAllocException">An unknown key.</exception>
    public IReadOnlyList<Statistic> Statistics(PaStatKey key)
    {
        PaSnapshot* h = Handle;
        nuint n = Check(NativeMethods.pa_snapshot_statistics(h, key, null, 0));
        var raw = new PaStatistic[(int)n];
        var result = new List<Statistic>((int)n);
        var names = new Dictionary<nint, string>();
        fixed (PaStatistic* p = raw)
        {
            nuint m = Check(NativeMethods.pa_snapshot_statistics(h, key, p, n));
            for (int i = 0; i < (int)Math.Min(n, m); i++)
            {
                result.Add(new Statistic(
                    Tracemalloc.Frames(p[i].Frames, p[i].Nframes, names),
                    Tracemalloc.Name(p[i].Filename, names), p[i].Lineno,
                    (long)p[i].Size, (long)p[i].Count, Format(&p[i])));
            }
        }
        GC.KeepAlive(this);
        return result;
    }

    /// <summary><c>Snapshot.compare_to(old_snapshot, key_type)</c> (<c>pa_snapshot_compare_to</c>): the difference
    /// from <paramref name="old"/>, group by group, largest change first (|size_diff|, size, |count_diff|, count,
    /// traceback, as CPython sorts them).</summary>
    /// <param name="old">The earlier snapshot.</param>
    /// <param name="key">By file, by file and line, or by whole traceback.</param>
    /// <returns>Every group of either snapshot; a group only <paramref name="old"/> has is there with size and count 0.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="old"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">Either snapshot has been disposed.</exception>
    /// <exception cref="PyAllocException">An unknown key.</exception>
    public IReadOnlyList<StatisticDiff> CompareTo(TraceSnapshot old, PaStatKey key)
    {
        ArgumentNullException.ThrowIfNull(old);
        PaSnapshot* h = Handle, o = old.Handle;
        nuint n = Check(NativeMethods.pa_snapshot_compare_to(h, o, key, null, 0));
        var raw = new PaStatisticDiff[(int)n];
        var result = new List<StatisticDiff>((int)n);
        var names = new Dictionary<nint, string>();
        fixed (PaStatisticDiff* p = raw)
        {
            nuint m = Check(NativeMethods.pa_snapshot_compare_to(h, o, key, p, n));
            for (int i = 0; i < (int)Math.Min(n, m); i++)
            {
                result.Add(new StatisticDiff(
                    Tracemalloc.Frames(p[i].Frames, p[i].Nframes, names),
                    Tracemalloc.Name(p[i].Filename, names), p[i].Lineno,
                    (long)p[i].Size, p[i].SizeDiff, (long)p[i].Count, p[i].CountDiff, Format(&p[i])));
            }
        }
        GC.KeepAlive(this);
        GC.KeepAlive(old);
        return result;
    }

    /// <summary><c>Snapshot.filter_traces([Filter(inclusive, filename_pattern, lineno)])</c> (<c>pa_snapshot_filter</c>):
    /// a new snapshot with the traces whose most recent frame matches (or, not <paramref name="inclusive"/>, does not).</summary>
    /// <param name="inclusive">Keep the matching traces (true) or the others (false).</param>
    /// <param name="filenamePattern">An <c>fnmatch</c> pattern: <c>*</c>, <c>?</c>, <c>[seq]</c>, <c>[!seq]</c>; case-sensitive.</param>
    /// <param name="lineno">A line the match also needs, or 0 for any line.</param>
    /// <returns>The filtered snapshot, to dispose.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="filenamePattern"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="filenamePattern"/> contains a NUL character.</exception>
    /// <exception cref="ObjectDisposedException">The snapshot has been disposed.</exception>
    public TraceSnapshot Filter(bool inclusive, string filenamePattern, int lineno = 0)
    {
        byte[] pattern = Tracemalloc.Utf8(filenamePattern, nameof(filenamePattern));
        PaSnapshot* f;
        fixed (byte* p = pattern)
            f = NativeMethods.pa_snapshot_filter(Handle, inclusive ? 1 : 0, p, lineno);
        GC.KeepAlive(this);
        if (f == null)
            throw new PyAllocException(PyMemory.LastError);
        return new TraceSnapshot(f);
    }

    /// <summary><c>Snapshot.dump(filename)</c> (<c>pa_snapshot_dump</c>): writes the snapshot to a file
    /// (PyAlloc's own versioned, checksummed format; not CPython's pickle).</summary>
    /// <param name="path">The file to write (replaced if it exists).</param>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The snapshot has been disposed.</exception>
    /// <exception cref="PyAllocException">The file cannot be written.</exception>
    public void Dump(string path)
    {
        byte[] bytes = Tracemalloc.Utf8(path, nameof(path));
        int rc;
        fixed (byte* p = bytes)
            rc = NativeMethods.pa_snapshot_dump(Handle, p);
        GC.KeepAlive(this);
        if (rc != 0)
            throw new PyAllocException(PyMemory.LastError);
    }

    /// <summary><c>Snapshot.load(filename)</c> (<c>pa_snapshot_load</c>): reads a snapshot written by <see cref="Dump"/>.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The snapshot, to dispose.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="PyAllocException">The file is missing, truncated, damaged or not a snapshot.</exception>
    public static TraceSnapshot Load(string path)
    {
        byte[] bytes = Tracemalloc.Utf8(path, nameof(path));
        PaSnapshot* s;
        fixed (byte* p = bytes)
            s = NativeMethods.pa_snapshot_load(p);
        if (s == null)
            throw new PyAllocException(PyMemory.LastError);
        return new TraceSnapshot(s);
    }

    /// <summary>Frees the snapshot (<c>pa_snapshot_free</c>); what it returned stays valid (managed copies).</summary>
    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    private void Free()
    {
        PaSnapshot* h = _handle;
        _handle = null;
        if (h != null)
            NativeMethods.pa_snapshot_free(h);
    }

    private static nuint Check(nuint result) =>
        result != unchecked((nuint)NativeMethods.PA_SIZE_ERROR) ? result : throw new PyAllocException(PyMemory.LastError);

    /* str(Statistic) by the library: a stack buffer, or one of the exact size for a long text. */
    private static string Format(PaStatistic* st)
    {
        byte* small = stackalloc byte[256];
        int n = NativeMethods.pa_statistic_format(st, small, 256);
        if (n < 0)
            throw new PyAllocException(PyMemory.LastError);
        if (n < 256)
            return Encoding.UTF8.GetString(small, n);
        byte[] big = new byte[n + 1];
        fixed (byte* b = big)
            NativeMethods.pa_statistic_format(st, b, (nuint)big.Length);
        return Encoding.UTF8.GetString(big, 0, n);
    }

    private static string Format(PaStatisticDiff* st)
    {
        byte* small = stackalloc byte[256];
        int n = NativeMethods.pa_statistic_diff_format(st, small, 256);
        if (n < 0)
            throw new PyAllocException(PyMemory.LastError);
        if (n < 256)
            return Encoding.UTF8.GetString(small, n);
        byte[] big = new byte[n + 1];
        fixed (byte* b = big)
            NativeMethods.pa_statistic_diff_format(st, b, (nuint)big.Length);
        return Encoding.UTF8.GetString(big, 0, n);
    }
}

/// <summary>One group of <see cref="TraceSnapshot.Statistics"/> (CPython's <c>tracemalloc.Statistic</c>).</summary>
public sealed class Statistic
{
    private readonly string _text;

    internal Statistic(IReadOnlyList<TracebackFrame> traceback, string filename, int lineno, long size, long count, string text)
    {
        Traceback = traceback;
        Filename = filename;
        Lineno = lineno;
        Size = size;
        Count = count;
        _text = text;
    }

    /// <summary>The group's traceback, MOST RECENT frame first (CPython's <c>Traceback</c> holds them oldest first):
    /// the whole traceback when grouped by <see cref="PaStatKey.Traceback"/>, else the one frame.</summary>
    public IReadOnlyList<TracebackFrame> Traceback { get; }

    /// <summary>The file of the group's most recent frame.</summary>
    public string Filename { get; }

    /// <summary>The line of the group's most recent frame (0 when grouped by <see cref="PaStatKey.Filename"/>).</summary>
    public int Lineno { get; }

    /// <summary>Bytes of the group's traces.</summary>
    public long Size { get; }

    /// <summary>The number of traces in the group.</summary>
    public long Count { get; }

    /// <summary><c>str(Statistic)</c>, exactly as CPython 3.12 prints it, e.g.
    /// "tour.c:5: size=7812 KiB, count=1000, average=8000 B"; a traceback group prints its oldest frame, as CPython does.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => _text;
}

/// <summary>One group of <see cref="TraceSnapshot.CompareTo"/> (CPython's <c>tracemalloc.StatisticDiff</c>).</summary>
public sealed class StatisticDiff
{
    private readonly string _text;

    internal StatisticDiff(IReadOnlyList<TracebackFrame> traceback, string filename, int lineno, long size, long sizeDiff,
                           long count, long countDiff, string text)
    {
        Traceback = traceback;
        Filename = filename;
        Lineno = lineno;
        Size = size;
        SizeDiff = sizeDiff;
        Count = count;
        CountDiff = countDiff;
        _text = text;
    }

    /// <summary>The group's traceback, most recent frame first.</summary>
    public IReadOnlyList<TracebackFrame> Traceback { get; }

    /// <summary>The file of the group's most recent frame.</summary>
    public string Filename { get; }

    /// <summary>The line of the group's most recent frame.</summary>
    public int Lineno { get; }

    /// <summary>Bytes now.</summary>
    public long Size { get; }

    /// <summary>Bytes now minus bytes in the old snapshot.</summary>
    public long SizeDiff { get; }

    /// <summary>Traces now.</summary>
    public long Count { get; }

    /// <summary>Traces now minus traces in the old snapshot.</summary>
    public long CountDiff { get; }

    /// <summary><c>str(StatisticDiff)</c>, exactly as CPython 3.12 prints it, e.g.
    /// "tour.c:5: size=7812 KiB (+7812 KiB), count=1000 (+1000), average=8000 B".</summary>
    /// <returns>The text.</returns>
    public override string ToString() => _text;
}
