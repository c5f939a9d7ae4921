using System.Runtime.InteropServices;

using PyAlloc.Interop;

namespace PyAlloc;

/// <summary>
/// <c>pa_snapshot</c>: a tracemalloc snapshot, a copy of the traces. Opaque: only pointers to it are
/// used (<c>PaSnapshot*</c>); freed by <see cref="NativeMethods.pa_snapshot_free"/>.
/// </summary>
/// <remarks><see cref="TraceSnapshot"/> is the managed owner of one.</remarks>
public struct PaSnapshot
{
}

/// <summary><c>pa_stat_key</c>: how <see cref="NativeMethods.pa_snapshot_statistics"/> groups traces
/// (CPython's <c>key_type</c> of <c>Snapshot.statistics</c>).</summary>
public enum PaStatKey
{
    /// <summary><c>PA_STAT_FILENAME</c> ("filename"): by the allocation site's file; the line is 0.</summary>
    Filename = 0,
    /// <summary><c>PA_STAT_LINENO</c> ("lineno"): by the allocation site's file and line.</summary>
    Lineno = 1,
    /// <summary><c>PA_STAT_TRACEBACK</c> ("traceback"): by the whole traceback.</summary>
    Traceback = 2,
}

/// <summary><c>pa_frame</c>: one frame of a traceback, a file name and a line.</summary>
/// <remarks>The string belongs to the snapshot (or, from <see cref="NativeMethods.pa_tracemalloc_get_traceback"/>,
/// to the library until tracing stops).</remarks>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct PaFrame
{
    /// <summary><c>filename</c>: NUL-terminated UTF-8, owned by the snapshot or the library.</summary>
    public byte* Filename;
    /// <summary><c>lineno</c>: the line, 0 when unknown.</summary>
    public int Lineno;
}

/// <summary><c>pa_trace</c>: one trace of a snapshot (<see cref="NativeMethods.pa_snapshot_get_trace"/>, CPython's <c>Trace</c>).</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct PaTrace
{
    /// <summary><c>domain</c>: 0 for PyAlloc's own blocks, else the domain given to <see cref="NativeMethods.pa_tracemalloc_track"/>.</summary>
    public uint Domain;
    /// <summary><c>size</c>: bytes.</summary>
    public nuint Size;
    /// <summary><c>frames</c>: the traceback, most recent first; owned by the snapshot.</summary>
    public PaFrame* Frames;
    /// <summary><c>nframes</c>: the number of <see cref="Frames"/>.</summary>
    public int Nframes;
}

/// <summary><c>pa_filter_kind</c>: which of CPython's filters a <see cref="PaFilter"/> is.</summary>
public enum PaFilterKind
{
    /// <summary><c>PA_FILTER</c>: <c>tracemalloc.Filter</c>.</summary>
    Filter = 0,
    /// <summary><c>PA_DOMAIN_FILTER</c>: <c>tracemalloc.DomainFilter</c>.</summary>
    DomainFilter = 1,
}

/// <summary><c>pa_filter</c>: one filter of <see cref="NativeMethods.pa_snapshot_filter_traces"/>.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct PaFilter
{
    /// <summary><c>kind</c>.</summary>
    public PaFilterKind Kind;
    /// <summary><c>inclusive</c>: non-zero to keep what matches.</summary>
    public int Inclusive;
    /// <summary><c>filename_pattern</c>: an fnmatch pattern, NUL-terminated UTF-8 (Filter).</summary>
    public byte* FilenamePattern;
    /// <summary><c>lineno</c>: the line, or 0 for any (Filter).</summary>
    public int Lineno;
    /// <summary><c>all_frames</c>: non-zero to match any frame (Filter).</summary>
    public int AllFrames;
    /// <summary><c>has_domain</c>: non-zero to match only <see cref="Domain"/> (Filter).</summary>
    public int HasDomain;
    /// <summary><c>domain</c>.</summary>
    public uint Domain;
}

/// <summary><c>pa_statistic</c>: one group of <see cref="NativeMethods.pa_snapshot_statistics"/> (CPython's <c>Statistic</c>).</summary>
/// <remarks>Strings and frames belong to the snapshot: valid until it is freed.</remarks>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct PaStatistic
{
    /// <summary><c>filename</c>: the group's first frame's file.</summary>
    public byte* Filename;
    /// <summary><c>lineno</c>: the group's first frame's line (0 for <see cref="PaStatKey.Filename"/>).</summary>
    public int Lineno;
    /// <summary><c>frames</c>: the whole traceback for <see cref="PaStatKey.Traceback"/>, else the one frame; most recent first.</summary>
    public PaFrame* Frames;
    /// <summary><c>nframes</c>: the number of <see cref="Frames"/>.</summary>
    public int Nframes;
    /// <summary><c>size</c>: bytes of the group's traces.</summary>
    public nuint Size;
    /// <summary><c>count</c>: the number of traces in the group.</summary>
    public nuint Count;
}

/// <summary><c>pa_statistic_diff</c>: one group of <see cref="NativeMethods.pa_snapshot_compare_to"/> (CPython's <c>StatisticDiff</c>).</summary>
/// <remarks>Strings belong to both snapshots compared: keep both alive while reading it.</remarks>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct PaStatisticDiff
{
    /// <summary><c>filename</c>: the group's first frame's file.</summary>
    public byte* Filename;
    /// <summary><c>lineno</c>: the group's first frame's line.</summary>
    public int Lineno;
    /// <summary><c>frames</c>: the group's traceback, most recent first.</summary>
    public PaFrame* Frames;
    /// <summary><c>nframes</c>: the number of <see cref="Frames"/>.</summary>
    public int Nframes;
    /// <summary><c>size</c>: bytes now.</summary>
    public nuint Size;
    /// <summary><c>size_diff</c>: bytes now minus bytes in the old snapshot.</summary>
    public nint SizeDiff;
    /// <summary><c>count</c>: traces now.</summary>
    public nuint Count;
    /// <summary><c>count_diff</c>: traces now minus traces in the old snapshot.</summary>
    public nint CountDiff;
}

/// <summary><c>pa_type_count</c>: one row of <see cref="NativeMethods.pa_count_objects_by_type"/>.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct PaTypeCount
{
    /// <summary><c>type</c>: the type (borrowed).</summary>
    public PaType* Type;
    /// <summary><c>name</c>: the type's name, owned by the type.</summary>
    public byte* Name;
    /// <summary><c>count</c>: live objects of the type.</summary>
    public nuint Count;
    /// <summary><c>bytes</c>: their memory, GC heads included.</summary>
    public nuint Bytes;
}

/// <summary><c>pa_pool_info</c>: one pool of <see cref="NativeMethods.pa_runtime_pool_map"/> (the heap map).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct PaPoolInfo
{
    /// <summary><c>arena</c>: the arena's number, 0-based, in the order of the call.</summary>
    public nuint Arena;
    /// <summary><c>pool</c>: the pool within its arena, 0..63.</summary>
    public nuint Pool;
    /// <summary><c>size_class</c>: 0..31, or -1 for an empty or uncarved pool.</summary>
    public int SizeClass;
    /// <summary><c>block_size</c>: bytes per block; 0 when <see cref="SizeClass"/> is -1.</summary>
    public nuint BlockSize;
    /// <summary><c>blocks_in_use</c>: live blocks.</summary>
    public nuint BlocksInUse;
    /// <summary><c>blocks_total</c>: blocks the pool holds; 0 when <see cref="SizeClass"/> is -1.</summary>
    public nuint BlocksTotal;
}
