using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
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
    public IReadOnlyList<Statistic> Statistics(PaStatKey key) => Statistics(key, cumulative: false);

    /// <summary><c>Snapshot.statistics(key_type, cumulative)</c>: with <paramref name="cumulative"/>, every frame of a trace
    /// counts the trace (<c>pa_snapshot_statistics_cumulative</c>), so a caller's line gets the memory of everything below it.</summary>
    /// <param name="key">By file or by file and line; cumulative statistics refuse <see cref="PaStatKey.Traceback"/>, as CPython.</param>
    /// <param name="cumulative">CPython's cumulative.</param>
    /// <returns>The groups, largest first.</returns>
    /// <exception cref="ObjectDisposedException">The snapshot has been disposed.</exception>
    /// <exception cref="PyAllocException">An unknown key, or <see cref="PaStatKey.Traceback"/> with <paramref name="cumulative"/>.</exception>
    public IReadOnlyList<Statistic> Statistics(PaStatKey key, bool cumulative)
    {
        PaSnapshot* h = Handle;
        delegate*<PaSnapshot*, PaStatKey, PaStatistic*, nuint, nuint> call = cumulative
            ? &NativeMethods.pa_snapshot_statistics_cumulative : &NativeMethods.pa_snapshot_statistics;
        nuint n = Check(call(h, key, null, 0));
        var raw = new PaStatistic[(int)n];
        var result = new List<Statistic>((int)n);
        var names = new Dictionary<nint, string>();
        fixed (PaStatistic* p = raw)
        {
            nuint m = Check(call(h, key, p, n));
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
    public IReadOnlyList<StatisticDiff> CompareTo(TraceSnapshot old, PaStatKey key) => CompareTo(old, key, cumulative: false);

    /// <summary><c>Snapshot.compare_to(old_snapshot, key_type, cumulative)</c> (<c>pa_snapshot_compare_to_cumulative</c>
    /// when <paramref name="cumulative"/>).</summary>
    /// <param name="old">The earlier snapshot.</param>
    /// <param name="key">By file or by file and line (cumulative refuses <see cref="PaStatKey.Traceback"/>).</param>
    /// <param name="cumulative">CPython's cumulative.</param>
    /// <returns>Every group of either snapshot, largest change first.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="old"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">Either snapshot has been disposed.</exception>
    /// <exception cref="PyAllocException">An unknown key, or <see cref="PaStatKey.Traceback"/> with <paramref name="cumulative"/>.</exception>
    public IReadOnlyList<StatisticDiff> CompareTo(TraceSnapshot old, PaStatKey key, bool cumulative)
    {
        ArgumentNullException.ThrowIfNull(old);
        PaSnapshot* h = Handle, o = old.Handle;
        delegate*<PaSnapshot*, PaSnapshot*, PaStatKey, PaStatisticDiff*, nuint, nuint> call = cumulative
            ? &NativeMethods.pa_snapshot_compare_to_cumulative : &NativeMethods.pa_snapshot_compare_to;
        nuint n = Check(call(h, o, key, null, 0));
        var raw = new PaStatisticDiff[(int)n];
        var result = new List<StatisticDiff>((int)n);
        var names = new Dictionary<nint, string>();
        fixed (PaStatisticDiff* p = raw)
        {
            nuint m = Check(call(h, o, key, p, n));
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

    /// <summary><c>Snapshot.traces</c>: every trace, with its domain, size and traceback (<c>pa_snapshot_get_trace</c>).</summary>
    /// <exception cref="ObjectDisposedException">The snapshot has been disposed.</exception>
    public IReadOnlyList<Trace> Traces
    {
        get
        {
            PaSnapshot* h = Handle;
            long count = TraceCount;
            var result = new Trace[count];
            var names = new Dictionary<nint, string>();
            for (long i = 0; i < count; i++)
            {
                PaTrace t;
                if (NativeMethods.pa_snapshot_get_trace(h, (nuint)i, &t) != 0)
                    throw new PyAllocException(PyMemory.LastError);
                result[i] = new Trace(t.Domain, (long)t.Size, Tracemalloc.Frames(t.Frames, t.Nframes, names));
            }
            GC.KeepAlive(this);
            return result;
        }
    }

    /// <summary><c>Snapshot.filter_traces(filters)</c> (<c>pa_snapshot_filter_traces</c>): a new snapshot with the traces that
    /// pass, by CPython's rules (some inclusive filter matches, when there is one; every exclusive filter lets it through).</summary>
    /// <param name="filters"><see cref="Filter"/> and <see cref="DomainFilter"/>s, in any mix; none gives a copy.</param>
    /// <returns>The filtered snapshot, to dispose.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="filters"/> or one of them is null.</exception>
    /// <exception cref="ObjectDisposedException">The snapshot has been disposed.</exception>
    public TraceSnapshot FilterTraces(params BaseFilter[] filters)
    {
        ArgumentNullException.ThrowIfNull(filters);
        var native = new PaFilter[filters.Length];
        var handles = new GCHandle[filters.Length];
        try
        {
            for (int i = 0; i < filters.Length; i++)
            {
                BaseFilter f = filters[i] ?? throw new ArgumentNullException(nameof(filters), $"filter {i} is null");
                byte* pattern = null;
                if (f is Filter { FilenamePattern: { } text })
                {
                    handles[i] = GCHandle.Alloc(Tracemalloc.Utf8(text, nameof(filters)), GCHandleType.Pinned);
                    pattern = (byte*)handles[i].AddrOfPinnedObject();
                }
                native[i] = f.ToNative(pattern);
            }
            PaSnapshot* result;
            fixed (PaFilter* p = native)
                result = NativeMethods.pa_snapshot_filter_traces(Handle, p, (nuint)native.Length);
            GC.KeepAlive(this);
            return result != null ? new TraceSnapshot(result) : throw new PyAllocException(PyMemory.LastError);
        }
        finally
        {
            foreach (GCHandle h in handles)
            {
                if (h.IsAllocated)
                    h.Free();
            }
        }
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

/// <summary>One trace of <see cref="TraceSnapshot.Traces"/> (CPython's <c>tracemalloc.Trace</c>).</summary>
/// <param name="Domain">0 for PyAlloc's own blocks, else the domain given to <see cref="Tracemalloc.Track"/>.</param>
/// <param name="Size">Bytes.</param>
/// <param name="Traceback">Where it was allocated, most recent frame first.</param>
public sealed record Trace(uint Domain, long Size, IReadOnlyList<TracebackFrame> Traceback);

/// <summary>CPython's <c>tracemalloc.BaseFilter</c>: a filter of <see cref="TraceSnapshot.FilterTraces"/>.</summary>
public abstract class BaseFilter
{
    private protected BaseFilter(bool inclusive) => Inclusive = inclusive;

    /// <summary>True: keep the traces that match; false: drop them.</summary>
    public bool Inclusive { get; }

    internal abstract unsafe PaFilter ToNative(byte* pattern);
}

/// <summary>CPython's <c>tracemalloc.Filter(inclusive, filename_pattern, lineno=None, all_frames=False, domain=None)</c>.</summary>
public sealed class Filter : BaseFilter
{
    /// <summary>A filter on traces' file names (and lines, and domain).</summary>
    /// <param name="inclusive">Keep (true) or drop (false) what matches.</param>
    /// <param name="filenamePattern">An <c>fnmatch</c> pattern: <c>*</c>, <c>?</c>, <c>[seq]</c>, <c>[!seq]</c>; case-sensitive.</param>
    /// <param name="lineno">A line the frame must also have; null for any line.</param>
    /// <param name="allFrames">Match any frame of the traceback, not only the most recent.</param>
    /// <param name="domain">Only traces of this domain (null: any).</param>
    /// <exception cref="ArgumentNullException"><paramref name="filenamePattern"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lineno"/> is 0 or less (PyAlloc's filters cannot name
    /// line 0: null is "any line").</exception>
    public Filter(bool inclusive, string filenamePattern, int? lineno = null, bool allFrames = false, uint? domain = null)
        : base(inclusive)
    {
        ArgumentNullException.ThrowIfNull(filenamePattern);
        if (lineno is <= 0)
            throw new ArgumentOutOfRangeException(nameof(lineno), lineno, "a line of 1 or more, or null for any line");
        FilenamePattern = filenamePattern;
        Lineno = lineno;
        AllFrames = allFrames;
        Domain = domain;
    }

    /// <summary>The fnmatch pattern.</summary>
    public string FilenamePattern { get; }
    /// <summary>The line, or null for any.</summary>
    public int? Lineno { get; }
    /// <summary>Whether any frame may match.</summary>
    public bool AllFrames { get; }
    /// <summary>The domain, or null for any.</summary>
    public uint? Domain { get; }

    internal override unsafe PaFilter ToNative(byte* pattern) => new()
    {
        Kind = PaFilterKind.Filter, Inclusive = Inclusive ? 1 : 0, FilenamePattern = pattern, Lineno = Lineno ?? 0,
        AllFrames = AllFrames ? 1 : 0, HasDomain = Domain.HasValue ? 1 : 0, Domain = Domain ?? 0,
    };
}

/// <summary>CPython's <c>tracemalloc.DomainFilter(inclusive, domain)</c>.</summary>
public sealed class DomainFilter : BaseFilter
{
    /// <summary>A filter on traces' domain.</summary>
    /// <param name="inclusive">Keep (true) or drop (false) the traces of <paramref name="domain"/>.</param>
    /// <param name="domain">The domain.</param>
    public DomainFilter(bool inclusive, uint domain)
        : base(inclusive) => Domain = domain;

    /// <summary>The domain.</summary>
    public uint Domain { get; }

    internal override unsafe PaFilter ToNative(byte* pattern) =>
        new() { Kind = PaFilterKind.DomainFilter, Inclusive = Inclusive ? 1 : 0, Domain = Domain };
}

/// <summary>One group of <see cref="TraceSnapshot.Statistics(PaStatKey)"/> (CPython's <c>tracemalloc.Statistic</c>).</summary>
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

/// <summary>One group of <see cref="TraceSnapshot.CompareTo(TraceSnapshot, PaStatKey)"/> (CPython's <c>tracemalloc.StatisticDiff</c>).</summary>
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
