using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

using PyAlloc.Interop;

namespace PyAlloc;

/// <summary>
/// <c>pa_size_class_stats</c>: the figures of one size class, field for field
/// (C's <c>snake_case</c> names in PascalCase).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct PaSizeClassStats
{
    /// <summary><c>block_size</c>: bytes per block, 16 * (index + 1).</summary>
    public nuint BlockSize;
    /// <summary><c>pools</c>: pools currently carved for this class.</summary>
    public nuint Pools;
    /// <summary><c>blocks_in_use</c>: live blocks.</summary>
    public nuint BlocksInUse;
    /// <summary><c>free_blocks</c>: free blocks in those pools (freed or never used).</summary>
    public nuint FreeBlocks;
}

/// <summary>The <c>classes[PA_NUM_SIZE_CLASSES]</c> array of <see cref="PaMallocStats"/>.</summary>
[InlineArray(NativeMethods.PA_NUM_SIZE_CLASSES)]
public struct PaSizeClassStatsArray
{
    private PaSizeClassStats _element0;
}

/// <summary>
/// <c>pa_malloc_stats</c>, field for field (C's <c>snake_case</c> names in PascalCase),
/// as <see cref="NativeMethods.pa_get_malloc_stats"/> fills it.
/// </summary>
/// <remarks>See include/pyalloc.h for what each field counts; <see cref="MallocStats"/> is the managed view.</remarks>
[StructLayout(LayoutKind.Sequential)]
public struct PaMallocStats
{
    /// <summary><c>arenas_allocated</c>: arenas mapped since the process started.</summary>
    public nuint ArenasAllocated;
    /// <summary><c>arenas_reclaimed</c>: arenas returned to the OS since then.</summary>
    public nuint ArenasReclaimed;
    /// <summary><c>arenas_highwater</c>: most arenas mapped at one time.</summary>
    public nuint ArenasHighwater;
    /// <summary><c>arenas_current</c>: arenas mapped now.</summary>
    public nuint ArenasCurrent;
    /// <summary><c>arena_bytes</c>: arenas_current * PA_ARENA_SIZE.</summary>
    public nuint ArenaBytes;
    /// <summary><c>pools_in_use</c>: pools carved for a size class now.</summary>
    public nuint PoolsInUse;
    /// <summary><c>pools_free</c>: pools in current arenas not carved for any class.</summary>
    public nuint PoolsFree;
    /// <summary><c>bytes_in_used_blocks</c>: sum over live pool blocks of their class size.</summary>
    public nuint BytesInUsedBlocks;
    /// <summary><c>bytes_in_free_blocks</c>: free blocks inside carved pools.</summary>
    public nuint BytesInFreeBlocks;
    /// <summary><c>bytes_in_free_pools</c>: pools_free * PA_POOL_SIZE.</summary>
    public nuint BytesInFreePools;
    /// <summary><c>bytes_pool_headers</c>: pools_in_use * the pool header.</summary>
    public nuint BytesPoolHeaders;
    /// <summary><c>bytes_quantization</c>: pool tails too small for one more block.</summary>
    public nuint BytesQuantization;
    /// <summary><c>large_blocks</c>: live blocks from the system allocator.</summary>
    public nuint LargeBlocks;
    /// <summary><c>large_bytes</c>: their usable bytes.</summary>
    public nuint LargeBytes;
    /// <summary><c>arenas_in_runtimes</c>: arenas mapped now by runtimes' object heaps.</summary>
    public nuint ArenasInRuntimes;
    /// <summary><c>classes</c>: per size class figures, class i holding 16 * (i + 1)-byte blocks.</summary>
    public PaSizeClassStatsArray Classes;
}
