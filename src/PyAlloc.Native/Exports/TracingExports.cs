using System;
using System.Runtime.InteropServices;
using System.Text;
using PyAlloc.Core.Platform;
using PyAlloc.Core.Support;
using PyAlloc.Core.Tracing;

namespace PyAlloc.Native.Exports;

/// <summary>Sections 9 and 11 of pyalloc.h: tracemalloc, snapshots, the fatal error handler.</summary>
/// <remarks>A pa_snapshot* is a GCHandle to a <see cref="Snapshot"/>.</remarks>
internal static unsafe class TracingExports
{
    [UnmanagedCallersOnly(EntryPoint = "pa__tracemalloc_flag")]
    public static int* TracemallocFlag() => Tracemalloc.Flag;

    [UnmanagedCallersOnly(EntryPoint = "pa_tracemalloc_start")]
    public static int Start(int nframe) => Tracemalloc.Start(nframe);

    [UnmanagedCallersOnly(EntryPoint = "pa_tracemalloc_stop")]
    public static void Stop()
    {
        try { Tracemalloc.Stop(); }
        catch (Exception e) { Errors.SetInternal("pa_tracemalloc_stop", e); }
    }

    // pa_tracemalloc_is_tracing is C (native/entry/entry.c): a load of Tracemalloc.Flag.

    [UnmanagedCallersOnly(EntryPoint = "pa_tracemalloc_get_traceback_limit")]
    public static int TracebackLimit()
    {
        _ = Tracemalloc.Flag; // first contact: PYALLOC_TRACEMALLOC applies
        return Tracemalloc.TracebackLimit;
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_tracemalloc_get_traced_memory")]
    public static void GetTracedMemory(nuint* current, nuint* peak)
    {
        Tracemalloc.GetTracedMemory(out nuint c, out nuint p);
        if (current != null)
            *current = c;
        if (peak != null)
            *peak = p;
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_tracemalloc_reset_peak")]
    public static void ResetPeak() => Tracemalloc.ResetPeak();

    [UnmanagedCallersOnly(EntryPoint = "pa_tracemalloc_get_memory")]
    public static nuint Memory() => Tracemalloc.Memory;

    [UnmanagedCallersOnly(EntryPoint = "pa_tracemalloc_clear_traces")]
    public static void ClearTraces() => Tracemalloc.ClearTraces();

    [UnmanagedCallersOnly(EntryPoint = "pa_tracemalloc_get_traceback")]
    public static int GetTraceback(void* block, PaFrame* output, int cap)
    {
        if (block == null || (output == null && cap > 0) || cap < 0)
            return Errors.Fail("pa_tracemalloc_get_traceback: block is NULL, or out is NULL with cap > 0");
        try { return Tracemalloc.GetTraceback(block, output, cap); }
        catch (Exception e) { Errors.SetInternal("pa_tracemalloc_get_traceback", e); return -1; }
    }

    // ------------------------------------------------------------ snapshots

    [UnmanagedCallersOnly(EntryPoint = "pa_tracemalloc_take_snapshot")]
    public static nint TakeSnapshot()
    {
        _ = Tracemalloc.Flag;
        try { return Handle(Snapshot.Take()); }
        catch (Exception e) { Errors.SetInternal("pa_tracemalloc_take_snapshot", e); return 0; }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_snapshot_free")]
    public static void SnapshotFree(nint handle)
    {
        if (handle == 0)
            return;
        if (!SnapshotHandles.Remove(handle))
        {
            Errors.Set($"pa_snapshot_free: {Errors.Hex((void*)handle)} is not a live snapshot (freed already, or never one)");
            return;
        }
        GCHandle h = GCHandle.FromIntPtr(handle);
        (h.Target as Snapshot)?.Dispose();
        h.Free();
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_snapshot_trace_count")]
    public static nuint TraceCount(nint handle) =>
        Of(handle, "pa_snapshot_trace_count") is { } s ? (nuint)s.TraceCount : nuint.MaxValue;

    [UnmanagedCallersOnly(EntryPoint = "pa_snapshot_traceback_limit")]
    public static int SnapshotTracebackLimit(nint handle) =>
        Of(handle, "pa_snapshot_traceback_limit") is { } s ? s.TracebackLimit : -1;

    [UnmanagedCallersOnly(EntryPoint = "pa_snapshot_statistics")]
    public static nuint Statistics(nint handle, int key, PaStatistic* output, nuint cap) =>
        StatisticsOf("pa_snapshot_statistics", handle, key, cumulative: false, output, cap);

    [UnmanagedCallersOnly(EntryPoint = "pa_snapshot_statistics_cumulative")]
    public static nuint StatisticsCumulative(nint handle, int key, PaStatistic* output, nuint cap) =>
        StatisticsOf("pa_snapshot_statistics_cumulative", handle, key, cumulative: true, output, cap);

    private static nuint StatisticsOf(string caller, nint handle, int key, bool cumulative, PaStatistic* output, nuint cap)
    {
        if (Of(handle, caller) is not { } s || !CheckKey(caller, key, cumulative) || !CheckOut(caller, output, cap))
            return nuint.MaxValue;
        try { return s.Statistics((StatKey)key, cumulative, output, cap); }
        catch (Exception e) { Errors.SetInternal(caller, e); return nuint.MaxValue; }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_snapshot_compare_to")]
    public static nuint CompareTo(nint now, nint old, int key, PaStatisticDiff* output, nuint cap) =>
        CompareToOf("pa_snapshot_compare_to", now, old, key, cumulative: false, output, cap);

    [UnmanagedCallersOnly(EntryPoint = "pa_snapshot_compare_to_cumulative")]
    public static nuint CompareToCumulative(nint now, nint old, int key, PaStatisticDiff* output, nuint cap) =>
        CompareToOf("pa_snapshot_compare_to_cumulative", now, old, key, cumulative: true, output, cap);

    private static nuint CompareToOf(string caller, nint now, nint old, int key, bool cumulative, PaStatisticDiff* output, nuint cap)
    {
        if (Of(now, caller) is not { } s || Of(old, caller) is not { } o
            || !CheckKey(caller, key, cumulative) || !CheckOut(caller, output, cap))
            return nuint.MaxValue;
        try { return s.CompareTo(o, (StatKey)key, cumulative, output, cap); }
        catch (Exception e) { Errors.SetInternal(caller, e); return nuint.MaxValue; }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_snapshot_get_trace")]
    public static int GetTrace(nint handle, nuint index, PaTrace* output)
    {
        if (Of(handle, "pa_snapshot_get_trace") is not { } s)
            return -1;
        if (output == null)
            return Errors.Fail("pa_snapshot_get_trace: out is NULL");
        if (!s.GetTrace(index, out *output))
            return Errors.Fail($"pa_snapshot_get_trace: index {index} out of range ({s.TraceCount} traces)");
        return 0;
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_snapshot_filter_traces")]
    public static nint FilterTraces(nint handle, PaFilter* filters, nuint count)
    {
        const string caller = "pa_snapshot_filter_traces";
        if (Of(handle, caller) is not { } s)
            return 0;
        if (filters == null && count != 0)
            return (nint)Errors.Null($"{caller}: filters is NULL but nfilters is {count}");
        if (count > 4096)
            return (nint)Errors.Null($"{caller}: {count} filters (at most 4096)");
        var specs = new TraceFilterSpec[(int)count];
        for (int i = 0; i < specs.Length; i++)
        {
            PaFilter f = filters[i];
            if (f.Kind is not (0 or 1))
                return (nint)Errors.Null($"{caller}: filter {i} has kind {f.Kind} (PA_FILTER or PA_DOMAIN_FILTER)");
            if (f.Kind == 0 && f.FilenamePattern == null)
                return (nint)Errors.Null($"{caller}: filter {i} has no filename_pattern");
            specs[i] = new TraceFilterSpec(f.Kind == 1, f.Inclusive != 0,
                f.Kind == 0 ? TraceFilterSpec.Normalize(FileNames.Decode(f.FilenamePattern)) : "",
                f.Lineno, f.AllFrames != 0, f.HasDomain != 0, f.Domain);
        }
        try { return Handle(s.FilterTraces(specs)); }
        catch (Exception e) { Errors.SetInternal(caller, e); return 0; }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_traceback_format")]
    public static int TracebackFormat(PaFrame* frames, int count, int limit, int mostRecentFirst, byte* buffer, nuint cap)
    {
        if (count < 0 || (frames == null && count > 0) || count > Tracemalloc.MaxFrames || (buffer == null && cap != 0))
            return Errors.Fail($"pa_traceback_format: nframes {count} (0 to {Tracemalloc.MaxFrames}), frames NULL, or buf NULL with cap > 0");
        try
        {
            var values = new (string, int)[count];
            for (int i = 0; i < count; i++)
            {
                if (frames[i].Filename == null)
                    return Errors.Fail($"pa_traceback_format: frame {i} has no filename");
                values[i] = (FileNames.Decode(frames[i].Filename), frames[i].Lineno);
            }
            return Write(Formatting.Traceback(values, limit, mostRecentFirst != 0), buffer, cap);
        }
        catch (Exception e) { Errors.SetInternal("pa_traceback_format", e); return -1; }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa__tracemalloc_track")]   // pa_tracemalloc_track(_at) in native/entry/entry.c
    public static int Track(uint domain, nuint address, nuint size, AllocationSite* site)
    {
        try
        {
            AllocationSite unknown = AllocationSite.Unknown;
            return site != null ? Tracemalloc.Track(domain, address, size, in *site) : Tracemalloc.Track(domain, address, size, in unknown);
        }
        catch (Exception e) { Errors.SetInternal("pa_tracemalloc_track", e); return -1; }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_tracemalloc_untrack")]
    public static int Untrack(uint domain, nuint address)
    {
        try { return Tracemalloc.Untrack(domain, address); }
        catch (Exception e) { Errors.SetInternal("pa_tracemalloc_untrack", e); return -1; }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_snapshot_filter")]
    public static nint Filter(nint handle, int inclusive, byte* pattern, int lineno)
    {
        if (Of(handle, "pa_snapshot_filter") is not { } s)
            return 0;
        if (pattern == null)
            return (nint)Errors.Null("pa_snapshot_filter: filename_pattern is NULL");
        try { return Handle(s.Filter(inclusive != 0, FileNames.Decode(pattern), lineno)); }
        catch (Exception e) { Errors.SetInternal("pa_snapshot_filter", e); return 0; }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_snapshot_dump")]
    public static int Dump(nint handle, byte* path)
    {
        if (Of(handle, "pa_snapshot_dump") is not { } s)
            return -1;
        if (path == null)
            return Errors.Fail("pa_snapshot_dump: path is NULL");
        try { return s.Dump(Utf8(path)) ? 0 : -1; }
        catch (Exception e) { Errors.SetInternal("pa_snapshot_dump", e); return -1; }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_snapshot_load")]
    public static nint Load(byte* path)
    {
        if (path == null)
            return (nint)Errors.Null("pa_snapshot_load: path is NULL");
        try { return Handle(Snapshot.Load(Utf8(path))); }
        catch (Exception e) { Errors.SetInternal("pa_snapshot_load", e); return 0; }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_statistic_format")]
    public static int StatisticFormat(PaStatistic* st, byte* buffer, nuint cap)
    {
        if (st == null || (buffer == null && cap != 0))
            return Errors.Fail("pa_statistic_format: st is NULL, or buf is NULL with cap > 0");
        try
        {
            (string file, int line) = DisplayFrame(st->Filename, st->Lineno, st->Frames, st->FrameCount);
            return Write(Formatting.Statistic(file, line, st->Size, st->Count), buffer, cap);
        }
        catch (Exception e) { Errors.SetInternal("pa_statistic_format", e); return -1; }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_statistic_diff_format")]
    public static int StatisticDiffFormat(PaStatisticDiff* st, byte* buffer, nuint cap)
    {
        if (st == null || (buffer == null && cap != 0))
            return Errors.Fail("pa_statistic_diff_format: st is NULL, or buf is NULL with cap > 0");
        try
        {
            (string file, int line) = DisplayFrame(st->Filename, st->Lineno, st->Frames, st->FrameCount);
            return Write(Formatting.StatisticDiff(file, line, st->Size, st->SizeDiff, st->Count, st->CountDiff), buffer, cap);
        }
        catch (Exception e) { Errors.SetInternal("pa_statistic_diff_format", e); return -1; }
    }

    // ------------------------------------------------- fatal error handler

    [UnmanagedCallersOnly(EntryPoint = "pa_set_fatal_error_handler")]
    public static void SetFatalErrorHandler(delegate* unmanaged<byte*, void*, void> handler, void* user) =>
        Fatal.SetHandler(handler, user);

    // -------------------------------------------------------------- helpers

    /* str(Traceback) is its oldest frame (CPython keeps frames oldest first): the last here. */
    private static (string, int) DisplayFrame(byte* file, int line, PaFrame* frames, int count)
    {
        if (frames != null && count > 0)
            return (FileNames.Decode(frames[count - 1].Filename), frames[count - 1].Lineno);
        return (file != null ? FileNames.Decode(file) : "<unknown>", line);
    }

    private static int Write(string text, byte* buffer, nuint cap)
    {
        byte[] bytes = FileNames.Encode(text);
        if (cap > 0)
        {
            int n = (int)Math.Min((nuint)bytes.Length, cap - 1);
            bytes.AsSpan(0, n).CopyTo(new Span<byte>(buffer, n));
            buffer[n] = 0;
        }
        return bytes.Length;
    }

    private static nint Handle(Snapshot? s)
    {
        if (s == null)
            return 0;
        nint handle = GCHandle.ToIntPtr(GCHandle.Alloc(s));
        SnapshotHandles.Add(handle);
        return handle;
    }

    private static Snapshot? Of(nint handle, string caller)
    {
        if (handle != 0 && SnapshotHandles.IsLive(handle) && GCHandle.FromIntPtr(handle).Target is Snapshot s)
            return s;
        Errors.Set(handle == 0
            ? $"{caller}: the snapshot is NULL"
            : $"{caller}: {Errors.Hex((void*)handle)} is not a live snapshot (freed already, or never one)");
        return null;
    }

    private static bool CheckKey(string caller, int key, bool cumulative = false)
    {
        if (key is < 0 or > 2)
        {
            Errors.Set($"{caller}: unknown key {key} (PA_STAT_FILENAME, PA_STAT_LINENO or PA_STAT_TRACEBACK)");
            return false;
        }
        if (cumulative && key == 2)
        {
            Errors.Set($"{caller}: cumulative mode cannot be used with key type PA_STAT_TRACEBACK (CPython's ValueError)");
            return false;
        }
        return true;
    }

    private static bool CheckOut(string caller, void* output, nuint cap)
    {
        if (output != null || cap == 0)
            return true;
        Errors.Set($"{caller}: out is NULL but cap is not 0");
        return false;
    }

    private static string Utf8(byte* s) => Encoding.UTF8.GetString(MemoryMarshal.CreateReadOnlySpanFromNullTerminated(s));
}
