using System;
using System.Runtime.CompilerServices;

namespace PyAlloc.Core.Allocator;

/// <summary>
/// The allocator's fixed geometry: CPython 3.12 on 64-bit, with aligned arenas.
/// </summary>
internal static class Geometry
{
    /// <summary>Every block is aligned to this, and size classes step by it.</summary>
    public const int Alignment = 16;
    public const int AlignmentShift = 4;

    /// <summary>Requests above this go to the system allocator.</summary>
    public const int SmallRequestThreshold = 512;
    public const int NumSizeClasses = SmallRequestThreshold / Alignment;

    public const int PoolBits = 14;
    public const int PoolSize = 1 << PoolBits;            // 16 KiB
    public const int ArenaBits = 20;
    public const int ArenaSize = 1 << ArenaBits;          // 1 MiB
    public const int PoolsPerArena = ArenaSize / PoolSize; // 64

    /// <summary>sizeof(PoolHeader), already a multiple of <see cref="Alignment"/>.</summary>
    public const int PoolOverhead = 48;

    /// <summary>
    /// Live bits per pool: one per 16-byte granule of the whole pool, header included (its
    /// granules are never set), so that a block's bit is bit (address &gt;&gt; 4) mod 65536 of
    /// its arena's bitmap: the C fast path finds it with a shift and a mask.
    /// </summary>
    public const int LiveBitsPerPool = PoolSize / Alignment;
    public const int LiveWordsPerPool = LiveBitsPerPool / 64;
    public const int LiveWordsPerArena = PoolsPerArena * LiveWordsPerPool;

    /// <summary>
    /// An arena's side memory (<see cref="ArenaObject.LiveBits"/>): its live bitmap, then one byte
    /// per pool, the pool's released-page mask (Heap.ReleasedPages).
    /// </summary>
    public const int ArenaSideBytes = LiveWordsPerArena * sizeof(ulong) + PoolsPerArena;

    /// <summary>The most pages per pool a released-page mask (one byte) can name.</summary>
    public const int MaxPagesPerPool = 8;

    /// <summary>The size index of a pool that has never held blocks.</summary>
    public const uint NoSizeClass = 0xFFFF;

    /// <summary>Size class of a request of 0..512 bytes (0 is served as 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint SizeToIndex(nuint n) => n == 0 ? 0u : (uint)((n - 1) >> AlignmentShift);

    /// <summary>Block size of a size class.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint IndexToSize(uint index) => (index + 1) << AlignmentShift;

    /// <summary>How many blocks of a class fit in one pool.</summary>
    public static uint BlocksPerPool(uint index) => (PoolSize - PoolOverhead) / IndexToSize(index);

    /// <summary>
    /// True when <paramref name="offset"/> (bytes from the first block of a pool of
    /// class <paramref name="index"/>) is a whole number of blocks.
    /// </summary>
    /// <remarks>
    /// Cheaper than a division: offset / 16 is below 1024, and for such numerators
    /// <c>(x * ceil(2^32 / k)) &gt;&gt; 32</c> is exactly <c>x / k</c> for k in 1..32.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsBlockBoundary(nuint offset, uint index)
    {
        if ((offset & (Alignment - 1)) != 0)
            return false;
        ulong units = offset >> AlignmentShift;
        ulong q = (units * BlockReciprocals[(int)index]) >> 32;
        return q * (index + 1) == units;
    }

    /// <summary>ceil(2^32 / k) for k = 1..32: see <see cref="IsBlockBoundary"/>.</summary>
    private static ReadOnlySpan<ulong> BlockReciprocals =>
    [
        0x100000000UL, 0x80000000UL, 0x55555556UL, 0x40000000UL,
        0x33333334UL, 0x2AAAAAABUL, 0x24924925UL, 0x20000000UL,
        0x1C71C71DUL, 0x1999999AUL, 0x1745D175UL, 0x15555556UL,
        0x13B13B14UL, 0x12492493UL, 0x11111112UL, 0x10000000UL,
        0xF0F0F10UL, 0xE38E38FUL, 0xD79435FUL, 0xCCCCCCDUL,
        0xC30C30DUL, 0xBA2E8BBUL, 0xB21642DUL, 0xAAAAAABUL,
        0xA3D70A4UL, 0x9D89D8AUL, 0x97B425FUL, 0x924924AUL,
        0x8D3DCB1UL, 0x8888889UL, 0x8421085UL, 0x8000000UL,
    ];
}
