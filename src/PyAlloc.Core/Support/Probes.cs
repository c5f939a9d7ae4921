using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace PyAlloc.Core.Support;

/* ============================================================================
   Probes: the memory manager's events, told to profilers

   USDT probes are C macros, so they live in the C layer (native/probes/probes.h
   lists them with their arguments).  The core calls the C function of a probe
   at its event, only where the event is already rare: a collection's start and
   end, an arena mapped or unmapped, a trim, tracemalloc's start and stop, a
   fatal error.  Each call is direct (ILC binds "pyalloc_native" to the C
   functions linked into libpyalloc.so) and makes no GC transition: the C side
   is a nop and a return until a tool attaches.  In any other process (the
   in-process tests) On is false and nothing is called, as for Track.
============================================================================ */

/// <summary>Fires the USDT probes of native/probes; no-ops while <see cref="On"/> is false.</summary>
internal static unsafe partial class Probes
{
    private const string Native = "pyalloc_native";

    /// <summary>
    /// True inside libpyalloc.so, where the C layer is linked (the library's build sets the
    /// switch PyAlloc.NativeTracking); read at the first event, whichever part fires it.
    /// </summary>
    public static readonly bool On =
        AppContext.TryGetSwitch("PyAlloc.NativeTracking", out bool native) && native;

    /// <summary>gc__start(generation): a collection of <paramref name="generation"/> begins.</summary>
    public static void GcStart(int generation)
    {
        if (On)
            GcStart_(generation);
    }

    /// <summary>gc__done(collected, uncollectable): the collection ended.</summary>
    public static void GcDone(nint collected, nint uncollectable)
    {
        if (On)
            GcDone_(collected, uncollectable);
    }

    /// <summary>arena__new(address, size): an arena was mapped.</summary>
    public static void ArenaNew(byte* address, nuint size)
    {
        if (On)
            ArenaNew_(address, size);
    }

    /// <summary>arena__free(address): an arena is about to be unmapped.</summary>
    public static void ArenaFree(byte* address)
    {
        if (On)
            ArenaFree_(address);
    }

    /// <summary>trim(bytes_released): pa_trim is returning.</summary>
    public static void Trim(nuint bytesReleased)
    {
        if (On)
            Trim_(bytesReleased);
    }

    /// <summary>tracemalloc__start(nframe).</summary>
    public static void TracemallocStart(int nframe)
    {
        if (On)
            TracemallocStart_(nframe);
    }

    /// <summary>tracemalloc__stop().</summary>
    public static void TracemallocStop()
    {
        if (On)
            TracemallocStop_();
    }

    /// <summary>fatal(message): a fatal report, as NUL-terminated UTF-8.</summary>
    public static void Fatal(byte* message)
    {
        if (On)
            Fatal_(message);
    }

    /* The calls into C, each out of line: a SuppressGCTransition P/Invoke is bound
       when its caller is compiled, and in a process without the C layer these are
       never compiled, since On is false there. */
    [MethodImpl(MethodImplOptions.NoInlining)] private static void GcStart_(int g) => ProbeGcStart(g);
    [MethodImpl(MethodImplOptions.NoInlining)] private static void GcDone_(nint c, nint u) => ProbeGcDone(c, u);
    [MethodImpl(MethodImplOptions.NoInlining)] private static void ArenaNew_(byte* a, nuint n) => ProbeArenaNew(a, n);
    [MethodImpl(MethodImplOptions.NoInlining)] private static void ArenaFree_(byte* a) => ProbeArenaFree(a);
    [MethodImpl(MethodImplOptions.NoInlining)] private static void Trim_(nuint n) => ProbeTrim(n);
    [MethodImpl(MethodImplOptions.NoInlining)] private static void TracemallocStart_(int n) => ProbeTracemallocStart(n);
    [MethodImpl(MethodImplOptions.NoInlining)] private static void TracemallocStop_() => ProbeTracemallocStop();
    [MethodImpl(MethodImplOptions.NoInlining)] private static void Fatal_(byte* m) => ProbeFatal(m);

    [LibraryImport(Native, EntryPoint = "pa__probe_gc_start"), SuppressGCTransition]
    private static partial void ProbeGcStart(int generation);

    [LibraryImport(Native, EntryPoint = "pa__probe_gc_done"), SuppressGCTransition]
    private static partial void ProbeGcDone(nint collected, nint uncollectable);

    [LibraryImport(Native, EntryPoint = "pa__probe_arena_new"), SuppressGCTransition]
    private static partial void ProbeArenaNew(byte* address, nuint size);

    [LibraryImport(Native, EntryPoint = "pa__probe_arena_free"), SuppressGCTransition]
    private static partial void ProbeArenaFree(byte* address);

    [LibraryImport(Native, EntryPoint = "pa__probe_trim"), SuppressGCTransition]
    private static partial void ProbeTrim(nuint bytesReleased);

    [LibraryImport(Native, EntryPoint = "pa__probe_tracemalloc_start"), SuppressGCTransition]
    private static partial void ProbeTracemallocStart(int nframe);

    [LibraryImport(Native, EntryPoint = "pa__probe_tracemalloc_stop"), SuppressGCTransition]
    private static partial void ProbeTracemallocStop();

    [LibraryImport(Native, EntryPoint = "pa__probe_fatal"), SuppressGCTransition]
    private static partial void ProbeFatal(byte* message);
}
