using System;
using System.Runtime.InteropServices;
using System.Text;
using PyAlloc.Core.Abi;
using PyAlloc.Core.Objects;
using PyAlloc.Core.Platform;
using PyAlloc.Core.Support;
using PyAlloc.Core.Tracing;

namespace PyAlloc.Native.Exports;

/// <summary>Sections 9 and 11 of pyalloc.h: tracemalloc, snapshots, the fatal error handler.</summary>
/// <remarks>
/// A pa_snapshot* is a live handle of <see cref="SnapshotHandles"/> (a GCHandle to a <see cref="Snapshot"/>).
/// Each export checks its arguments (the handle with <see cref="SnapshotHandles.Of"/>, a key with
/// <see cref="Snapshot.CheckKey"/>, buffers with <see cref="Validation"/>), calls one function of
/// <see cref="Tracemalloc"/>, <see cref="Snapshot"/> or <see cref="FormatToBuffer"/> (a new snapshot
/// made a handle by <see cref="SnapshotHandles.ToHandle"/>), and maps an exception through
/// <see cref="Boundary"/>. A handle lookup takes a lock, so it runs inside the try.
/// </remarks>
internal static unsafe class TracingExports
{
    /// <remarks>The C entry loads through the result without a check: a failure gives a flag that never traces.</remarks>
    [UnmanagedCallersOnly(EntryPoint = "pa__tracemalloc_flag")]
    public static int* TracemallocFlag()
    {
        try { return Tracemalloc.Flag; }
        catch (Exception e) { Boundary.Fail("pa_tracemalloc_is_tracing", e); return Tracemalloc.NeverTracing; }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_tracemalloc_start")]
    public static int Start(int nframe)
    {
        try { return Tracemalloc.Start(nframe); }
        catch (Exception e) { return Boundary.Fail("pa_tracemalloc_start", e, -1); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_tracemalloc_stop")]
    public static void Stop()
    {
        try { Tracemalloc.Stop(); }
        catch (Exception e) { Boundary.Fail("pa_tracemalloc_stop", e); }
    }

    // pa_tracemalloc_is_tracing is C (native/entry/entry.c): a load of Tracemalloc.Flag.

    [UnmanagedCallersOnly(EntryPoint = "pa_tracemalloc_get_traceback_limit")]
    public static int TracebackLimit()
    {
        try { return Tracemalloc.GetTracebackLimit(); }
        catch (Exception e) { return Boundary.Fail("pa_tracemalloc_get_traceback_limit", e, -1); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_tracemalloc_get_traced_memory")]
    public static void GetTracedMemory(nuint* current, nuint* peak)
    {
        try { Tracemalloc.GetTracedMemory(current, peak); }
        catch (Exception e) { Boundary.Fail("pa_tracemalloc_get_traced_memory", e); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_tracemalloc_reset_peak")]
    public static void ResetPeak()
    {
        try { Tracemalloc.ResetPeak(); }
        catch (Exception e) { Boundary.Fail("pa_tracemalloc_reset_peak", e); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_tracemalloc_get_memory")]
    public static nuint Memory()
    {
        try { return Tracemalloc.Memory; }
        catch (Exception e) { return Boundary.Fail("pa_tracemalloc_get_memory", e, (nuint)0); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_tracemalloc_clear_traces")]
    public static void ClearTraces()
    {
        try { Tracemalloc.ClearTraces(); }
        catch (Exception e) { Boundary.Fail("pa_tracemalloc_clear_traces", e); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_tracemalloc_get_traceback")]
    public static int GetTraceback(void* block, PaFrame* output, int cap)
    {
        try { return Tracemalloc.GetTraceback(block, output, cap); }
        catch (Exception e) { return Boundary.Fail("pa_tracemalloc_get_traceback", e, -1); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa__tracemalloc_track")]   // pa_tracemalloc_track(_at) in native/entry/entry.c
    public static int Track(uint domain, nuint address, nuint size, AllocationSite* site)
    {
        try { return Tracemalloc.Track(domain, address, size, site); }
        catch (Exception e) { return Boundary.Fail("pa_tracemalloc_track", e, -1); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_tracemalloc_untrack")]
    public static int Untrack(uint domain, nuint address)
    {
        try { return Tracemalloc.Untrack(domain, address); }
        catch (Exception e) { return Boundary.Fail("pa_tracemalloc_untrack", e, -1); }
    }

    // ------------------------------------------------------------ snapshots

    [UnmanagedCallersOnly(EntryPoint = "pa_tracemalloc_take_snapshot")]
    public static nint TakeSnapshot()
    {
        try { return SnapshotHandles.ToHandle(Snapshot.Take()); }
        catch (Exception e) { return Boundary.Fail("pa_tracemalloc_take_snapshot", e, (nint)0); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_snapshot_free")]
    public static void SnapshotFree(nint handle)
    {
        try { SnapshotHandles.Free(handle); }
        catch (Exception e) { Boundary.Fail("pa_snapshot_free", e); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_snapshot_trace_count")]
    public static nuint TraceCount(nint handle)
    {
        try { return SnapshotHandles.Of(handle, "pa_snapshot_trace_count") is { } s ? (nuint)s.TraceCount : nuint.MaxValue; }
        catch (Exception e) { return Boundary.Fail("pa_snapshot_trace_count", e, nuint.MaxValue); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_snapshot_traceback_limit")]
    public static int SnapshotTracebackLimit(nint handle)
    {
        try { return SnapshotHandles.Of(handle, "pa_snapshot_traceback_limit") is { } s ? s.TracebackLimit : -1; }
        catch (Exception e) { return Boundary.Fail("pa_snapshot_traceback_limit", e, -1); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_snapshot_statistics")]
    public static nuint Statistics(nint handle, int key, PaStatistic* output, nuint cap) =>
        StatisticsOf("pa_snapshot_statistics", handle, key, cumulative: false, output, cap);

    [UnmanagedCallersOnly(EntryPoint = "pa_snapshot_statistics_cumulative")]
    public static nuint StatisticsCumulative(nint handle, int key, PaStatistic* output, nuint cap) =>
        StatisticsOf("pa_snapshot_statistics_cumulative", handle, key, cumulative: true, output, cap);

    /* The two statistics exports: the same checks and call, their own names. */
    private static nuint StatisticsOf(string caller, nint handle, int key, bool cumulative, PaStatistic* output, nuint cap)
    {
        try
        {
            if (SnapshotHandles.Of(handle, caller) is not { } s || !Snapshot.CheckKey(key, cumulative, caller)
                || !Validation.CheckBuffer(output, cap, caller))
                return nuint.MaxValue;
            return s.Statistics((StatKey)key, cumulative, output, cap);
        }
        catch (Exception e) { return Boundary.Fail(caller, e, nuint.MaxValue); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_snapshot_compare_to")]
    public static nuint CompareTo(nint now, nint old, int key, PaStatisticDiff* output, nuint cap) =>
        CompareToOf("pa_snapshot_compare_to", now, old, key, cumulative: false, output, cap);

    [UnmanagedCallersOnly(EntryPoint = "pa_snapshot_compare_to_cumulative")]
    public static nuint CompareToCumulative(nint now, nint old, int key, PaStatisticDiff* output, nuint cap) =>
        CompareToOf("pa_snapshot_compare_to_cumulative", now, old, key, cumulative: true, output, cap);

    /* The two compare_to exports: the same checks and call, their own names. */
    private static nuint CompareToOf(string caller, nint now, nint old, int key, bool cumulative, PaStatisticDiff* output, nuint cap)
    {
        try
        {
            if (SnapshotHandles.Of(now, caller) is not { } s || SnapshotHandles.Of(old, caller) is not { } o
                || !Snapshot.CheckKey(key, cumulative, caller) || !Validation.CheckBuffer(output, cap, caller))
                return nuint.MaxValue;
            return s.CompareTo(o, (StatKey)key, cumulative, output, cap);
        }
        catch (Exception e) { return Boundary.Fail(caller, e, nuint.MaxValue); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_snapshot_get_trace")]
    public static int GetTrace(nint handle, nuint index, PaTrace* output)
    {
        const string caller = "pa_snapshot_get_trace";
        try
        {
            if (SnapshotHandles.Of(handle, caller) is not { } s || !Validation.CheckOut(output, caller))
                return -1;
            return s.GetTrace(index, output);
        }
        catch (Exception e) { return Boundary.Fail(caller, e, -1); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_snapshot_filter_traces")]
    public static nint FilterTraces(nint handle, PaFilter* filters, nuint count)
    {
        const string caller = "pa_snapshot_filter_traces";
        try
        {
            if (SnapshotHandles.Of(handle, caller) is not { } s)
                return 0;
            return SnapshotHandles.ToHandle(s.FilterTraces(filters, count));
        }
        catch (Exception e) { return Boundary.Fail(caller, e, (nint)0); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_snapshot_filter")]
    public static nint Filter(nint handle, int inclusive, byte* pattern, int lineno)
    {
        const string caller = "pa_snapshot_filter";
        try
        {
            if (SnapshotHandles.Of(handle, caller) is not { } s)
                return 0;
            return SnapshotHandles.ToHandle(s.Filter(inclusive != 0, pattern, lineno));
        }
        catch (Exception e) { return Boundary.Fail(caller, e, (nint)0); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_snapshot_dump")]
    public static int Dump(nint handle, byte* path)
    {
        const string caller = "pa_snapshot_dump";
        try
        {
            if (SnapshotHandles.Of(handle, caller) is not { } s)
                return -1;
            return s.DumpTo(path);
        }
        catch (Exception e) { return Boundary.Fail(caller, e, -1); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_snapshot_load")]
    public static nint Load(byte* path)
    {
        try { return SnapshotHandles.ToHandle(Snapshot.LoadFrom(path)); }
        catch (Exception e) { return Boundary.Fail("pa_snapshot_load", e, (nint)0); }
    }

    // ---------------------------------------------------------- formatting

    [UnmanagedCallersOnly(EntryPoint = "pa_traceback_format")]
    public static int TracebackFormat(PaFrame* frames, int count, int limit, int mostRecentFirst, byte* buffer, nuint cap)
    {
        try { return FormatToBuffer.Traceback(frames, count, limit, mostRecentFirst != 0, buffer, cap); }
        catch (Exception e) { return Boundary.Fail("pa_traceback_format", e, -1); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_statistic_format")]
    public static int StatisticFormat(PaStatistic* st, byte* buffer, nuint cap)
    {
        try { return FormatToBuffer.Statistic(st, buffer, cap); }
        catch (Exception e) { return Boundary.Fail("pa_statistic_format", e, -1); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_statistic_diff_format")]
    public static int StatisticDiffFormat(PaStatisticDiff* st, byte* buffer, nuint cap)
    {
        try { return FormatToBuffer.StatisticDiff(st, buffer, cap); }
        catch (Exception e) { return Boundary.Fail("pa_statistic_diff_format", e, -1); }
    }

    // ------------------------------------------------- fatal error handler

    /// <remarks>Cannot throw: <see cref="Fatal.SetHandler"/> stores two pointers.</remarks>
    [UnmanagedCallersOnly(EntryPoint = "pa_set_fatal_error_handler")]
    public static void SetFatalErrorHandler(delegate* unmanaged<byte*, void*, void> handler, void* user) =>
        Fatal.SetHandler(handler, user);
}
