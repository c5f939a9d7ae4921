using System;

using PyAlloc.Interop;

namespace PyAlloc;

/// <summary>When a gc callback is called: <c>PA_GC_START</c> / <c>PA_GC_STOP</c> (<c>gc.callbacks</c>' phase).</summary>
public enum GcPhase
{
    /// <summary>Before a collection.</summary>
    Start = NativeMethods.PA_GC_START,
    /// <summary>After a collection.</summary>
    Stop = NativeMethods.PA_GC_STOP,
}

/// <summary>The collector's debug flags (<c>gc.set_debug</c>, <c>PA_GC_DEBUG_*</c>); reports go to stderr.</summary>
[Flags]
public enum GcDebugFlags
{
    /// <summary>No debugging.</summary>
    None = 0,
    /// <summary><c>DEBUG_STATS</c>: statistics during collection.</summary>
    Stats = NativeMethods.PA_GC_DEBUG_STATS,
    /// <summary><c>DEBUG_COLLECTABLE</c>: print collectable objects found.</summary>
    Collectable = NativeMethods.PA_GC_DEBUG_COLLECTABLE,
    /// <summary><c>DEBUG_UNCOLLECTABLE</c>: print uncollectable objects found.</summary>
    Uncollectable = NativeMethods.PA_GC_DEBUG_UNCOLLECTABLE,
    /// <summary><c>DEBUG_SAVEALL</c>: keep every unreachable object in gc garbage instead of freeing it.</summary>
    SaveAll = NativeMethods.PA_GC_DEBUG_SAVEALL,
    /// <summary><c>DEBUG_LEAK</c>: <see cref="Collectable"/> | <see cref="Uncollectable"/> | <see cref="SaveAll"/>.</summary>
    Leak = NativeMethods.PA_GC_DEBUG_LEAK,
}

/// <summary>What a gc callback is told (<c>pa_gc_info</c>, <c>gc.callbacks</c>' info dict).</summary>
/// <remarks>A value type with value equality.</remarks>
public readonly record struct GcInfo
{
    /// <summary>Creates the info.</summary>
    /// <param name="generation">The oldest generation collected.</param>
    /// <param name="collected">Objects collected (0 at <see cref="GcPhase.Start"/>).</param>
    /// <param name="uncollectable">Objects found uncollectable (0 at <see cref="GcPhase.Start"/>).</param>
    public GcInfo(int generation, long collected, long uncollectable)
    {
        Generation = generation;
        Collected = collected;
        Uncollectable = uncollectable;
    }

    /// <summary>The oldest generation collected: 0, 1 or 2.</summary>
    public int Generation { get; }
    /// <summary>Objects collected; 0 at <see cref="GcPhase.Start"/>.</summary>
    public long Collected { get; }
    /// <summary>Objects found uncollectable (gone to gc garbage); 0 at <see cref="GcPhase.Start"/>.</summary>
    public long Uncollectable { get; }
}

/// <summary><c>gc.get_stats()</c> for one generation (<c>pa_gc_generation_stats</c>).</summary>
/// <remarks>A value type with value equality.</remarks>
public readonly record struct GcGenerationStats
{
    /// <summary>Creates the figures.</summary>
    /// <param name="collections">Collections of the generation.</param>
    /// <param name="collected">Objects they collected.</param>
    /// <param name="uncollectable">Objects they found uncollectable.</param>
    public GcGenerationStats(long collections, long collected, long uncollectable)
    {
        Collections = collections;
        Collected = collected;
        Uncollectable = uncollectable;
    }

    /// <summary>Collections of this generation (as the oldest collected) so far.</summary>
    public long Collections { get; }
    /// <summary>Objects they collected.</summary>
    public long Collected { get; }
    /// <summary>Objects they found uncollectable.</summary>
    public long Uncollectable { get; }
}
