using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;

using PyAlloc.Interop;

namespace PyAlloc;

/// <summary>The figures of one size class, from <see cref="MallocStats.Classes"/>.</summary>
/// <remarks>A value type with value equality.</remarks>
public readonly record struct SizeClassStats
{
    /// <summary>Creates the figures of class <paramref name="index"/>.</summary>
    /// <param name="index">The class index, 0..31.</param>
    /// <param name="blockSize">Bytes per block.</param>
    /// <param name="pools">Pools carved for the class.</param>
    /// <param name="blocksInUse">Live blocks.</param>
    /// <param name="freeBlocks">Free blocks in those pools.</param>
    public SizeClassStats(int index, long blockSize, long pools, long blocksInUse, long freeBlocks)
    {
        Index = index;
        BlockSize = blockSize;
        Pools = pools;
        BlocksInUse = blocksInUse;
        FreeBlocks = freeBlocks;
    }

    /// <summary>The class index: class i holds blocks of 16 * (i + 1) bytes.</summary>
    public int Index { get; }
    /// <summary>Bytes per block.</summary>
    public long BlockSize { get; }
    /// <summary>Pools currently carved for this class.</summary>
    public long Pools { get; }
    /// <summary>Live blocks of this class.</summary>
    public long BlocksInUse { get; }
    /// <summary>Free blocks in this class's pools (freed or never used).</summary>
    public long FreeBlocks { get; }
}

/// <summary>
/// A snapshot of the allocator's figures (<c>pa_malloc_stats</c>) with .NET names and types.
/// </summary>
/// <remarks>
/// Taken by <see cref="PyMemory.GetStats"/>; immutable. Counts and byte totals are
/// <see cref="long"/> (they are <c>size_t</c> in C and never near 2^63).
/// </remarks>
public sealed class MallocStats
{
    /// <summary>Converts the C struct.</summary>
    /// <param name="raw">Figures as <see cref="NativeMethods.pa_get_malloc_stats"/> filled them.</param>
    public MallocStats(in PaMallocStats raw)
    {
        ArenasAllocated = (long)raw.ArenasAllocated;
        ArenasReclaimed = (long)raw.ArenasReclaimed;
        ArenasHighwater = (long)raw.ArenasHighwater;
        ArenasCurrent = (long)raw.ArenasCurrent;
        ArenaBytes = (long)raw.ArenaBytes;
        PoolsInUse = (long)raw.PoolsInUse;
        PoolsFree = (long)raw.PoolsFree;
        BytesInUsedBlocks = (long)raw.BytesInUsedBlocks;
        BytesInFreeBlocks = (long)raw.BytesInFreeBlocks;
        BytesInFreePools = (long)raw.BytesInFreePools;
        BytesPoolHeaders = (long)raw.BytesPoolHeaders;
        BytesQuantization = (long)raw.BytesQuantization;
        LargeBlocks = (long)raw.LargeBlocks;
        LargeBytes = (long)raw.LargeBytes;
        ArenasInRuntimes = (long)raw.ArenasInRuntimes;
        var classes = new SizeClassStats[NativeMethods.PA_NUM_SIZE_CLASSES];
        for (int i = 0; i < classes.Length; i++)
        {
            PaSizeClassStats c = raw.Classes[i];
            classes[i] = new SizeClassStats(i, (long)c.BlockSize, (long)c.Pools, (long)c.BlocksInUse, (long)c.FreeBlocks);
        }
        Classes = new ReadOnlyCollection<SizeClassStats>(classes);
    }

    /// <summary>Arenas mapped since the process started.</summary>
    public long ArenasAllocated { get; }
    /// <summary>Arenas returned to the OS since then.</summary>
    public long ArenasReclaimed { get; }
    /// <summary>Most arenas mapped at one time.</summary>
    public long ArenasHighwater { get; }
    /// <summary>Arenas mapped now.</summary>
    public long ArenasCurrent { get; }
    /// <summary><see cref="ArenasCurrent"/> * 1 MiB.</summary>
    public long ArenaBytes { get; }
    /// <summary>Pools carved for a size class now.</summary>
    public long PoolsInUse { get; }
    /// <summary>Pools in current arenas not carved for any class.</summary>
    public long PoolsFree { get; }
    /// <summary>Sum over live pool blocks of their class size.</summary>
    public long BytesInUsedBlocks { get; }
    /// <summary>Bytes of the free blocks inside carved pools.</summary>
    public long BytesInFreeBlocks { get; }
    /// <summary><see cref="PoolsFree"/> * 16 KiB.</summary>
    public long BytesInFreePools { get; }
    /// <summary><see cref="PoolsInUse"/> * the pool header size.</summary>
    public long BytesPoolHeaders { get; }
    /// <summary>Pool tails too small for one more block.</summary>
    public long BytesQuantization { get; }
    /// <summary>Live blocks from the system allocator (requests over 512 bytes).</summary>
    public long LargeBlocks { get; }
    /// <summary>Usable bytes of those blocks.</summary>
    public long LargeBytes { get; }

    /// <summary>Arenas mapped now by runtimes' object heaps (not in the other figures).</summary>
    public long ArenasInRuntimes { get; }
    /// <summary>The 32 size classes, in index order (class i holds 16 * (i + 1)-byte blocks).</summary>
    public IReadOnlyList<SizeClassStats> Classes { get; }

    /// <summary>The size class that serves requests of <paramref name="size"/> bytes (0..512).</summary>
    /// <param name="size">A request size, 0..<see cref="NativeMethods.PA_SMALL_REQUEST_THRESHOLD"/>.</param>
    /// <returns>That class's figures.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is negative or over 512 (not a pool request).</exception>
    public SizeClassStats ClassFor(int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(size, NativeMethods.PA_SMALL_REQUEST_THRESHOLD);
        return Classes[size == 0 ? 0 : (size - 1) / NativeMethods.PA_ALIGNMENT];
    }
}
