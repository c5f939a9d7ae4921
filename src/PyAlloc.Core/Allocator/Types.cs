using System.Runtime.InteropServices;

namespace PyAlloc.Core.Allocator;

/* ============================================================================
   The pymalloc allocator: data structures

   Glossary
     block      what pa_malloc hands out: 16..512 bytes, a multiple of 16.  A
                free block's first word links it to the next free block of its
                pool; a live block has no header at all.
     size class blocks of one size.  Class i holds blocks of 16 * (i + 1)
                bytes, so 32 classes cover 1..512 bytes.
     pool       16 KiB (PA_POOL_SIZE), aligned to its size, holding blocks of
                one size class behind a 48-byte PoolHeader.  A pool is "used"
                (some blocks live, some free), "full" (no free block) or
                "empty" (no live block).
     arena      1 MiB from mmap (or from the caller's arena allocator,
                ArenaSource.cs), aligned to 1 MiB, cut into 64 pools.  Its
                descriptor (ArenaObject) lives outside the arena.
     arena map  a radix tree from address bits to ArenaObject: answers "is
                this pointer inside one of our arenas?" without touching the
                pointer's memory (CPython's arena_map_is_used).
     heap       the pool state that allocation works on: the used-pool lists,
                the usable arenas, counters, and the lock that guards them.
                The process allocator has 16 heaps behind the thread caches
                (Pymalloc.ThreadHeaps; one under the debug hooks), and each
                runtime one of its own, which only its owner touches: that
                one is used without the
                lock and keeps its live bits (below) all clear, as
                HeapOwned.cs explains.  Every pool and arena knows its heap.
     live bits  one bit per 16-byte granule of every pool, kept beside the
                arena (8 KiB per arena), set while a block starting there is
                allocated: the allocator's answer to "is this block live?", so
                a double free or a stale pointer is refused, never linked into
                a free list twice.
     page       the OS page (4 KiB here): a pool spans 4.  Page 0 holds the
                pool header; pa_trim gives pages 1..3 back to the OS when no
                live block overlaps them (see "Released pages" in Heap.cs).
     parked     a free block that overlaps a page pa_trim released: on no
                free list until its pool runs out of other free blocks
                (Heap.UnparkBlocks).  Still a free block for the statistics.
     large      a request over 512 bytes: served by the system allocator and
                remembered in the large-block registry so that a foreign
                pointer is told apart from ours.

   Why arenas are aligned
     CPython maps arenas where mmap puts them and loses one pool to
     alignment when the start is not on a pool boundary.  PyAlloc maps arenas
     at 1 MiB boundaries (OsMemory.MapAligned; a caller's arena allocator is
     asked for 2 MiB when 1 MiB comes back unaligned): all 64 pools are usable, the
     pool of a block is `p & ~(POOL_SIZE - 1)`, the arena of a block is
     `p & ~(ARENA_SIZE - 1)`, and the arena map needs one entry per arena
     instead of CPython's head/tail coverage pair.

   The lists (as CPython's obmalloc.c)
     usedpools   per size class, a circular doubly linked list of the pools of
                 that class that have at least one free block and at least one
                 live block (plus, transiently, the freshly carved one).  A
                 sentinel PoolHeader per class heads each list, so the fast
                 path is "sentinel.NextPool != &sentinel".
     full pools  are on no list; freeing a block of a full pool links it to
                 the front of its class's used list.
     freepools   per arena, a singly linked list of empty pools.  An empty pool
                 keeps its size class and free list, so reusing it for the same
                 class costs nothing (until pa_trim releases its pages: then it
                 forgets its class and is initialised afresh on reuse).
     usable_arenas  the arenas with at least one free pool, sorted by their
                 number of free pools, fewest first: allocation takes pools
                 from the fullest arenas so the emptiest can drain and go back
                 to the OS.  nfp2lasta[n] points to the last arena in the list
                 with n free pools, so keeping the order is O(1) per change.
============================================================================ */

/// <summary>
/// The header at the start of every pool (CPython's <c>pool_header</c>).
/// </summary>
/// <remarks>
/// 48 bytes, so the first block is 16-byte aligned. Blocks follow at
/// <c>PoolOverhead + k * size</c>. Fields are only touched under the heap's lock.
/// </remarks>
[StructLayout(LayoutKind.Explicit, Size = Geometry.PoolOverhead)]
internal unsafe struct PoolHeader
{
    /// <summary>Number of live blocks; 0 for an empty pool (on its arena's free list).</summary>
    [FieldOffset(0)] public uint Count;
    /// <summary>Size class index of the blocks; <see cref="Geometry.NoSizeClass"/> before first use.</summary>
    [FieldOffset(4)] public uint SizeIndex;
    /// <summary>Head of the pool's free-block list (freed blocks); null when none.</summary>
    [FieldOffset(8)] public byte* FreeBlock;
    /// <summary>Next pool in the used list of its class, or in its arena's free list.</summary>
    [FieldOffset(16)] public PoolHeader* NextPool;
    /// <summary>Previous pool in the used list (unused on the free list).</summary>
    [FieldOffset(24)] public PoolHeader* PrevPool;
    /// <summary>The arena this pool was carved from.</summary>
    [FieldOffset(32)] public ArenaObject* Arena;
    /// <summary>Offset of the next never-used block: blocks are carved lazily.</summary>
    [FieldOffset(40)] public uint NextOffset;
    /// <summary>Largest offset at which a whole block still fits.</summary>
    [FieldOffset(44)] public uint MaxNextOffset;
}

/// <summary>
/// The descriptor of one arena (CPython's <c>arena_object</c>), kept outside the arena.
/// </summary>
/// <remarks>
/// Descriptors are never freed: an unused one has <see cref="Address"/> null and sits
/// on the arena table's list of spare descriptors (linked through <see cref="NextArena"/>).
/// </remarks>
[StructLayout(LayoutKind.Explicit, Size = 128)]
internal unsafe struct ArenaObject
{
    /// <summary>The arena's 1 MiB-aligned base, or null when the descriptor is spare.</summary>
    [FieldOffset(0)] public byte* Address;
    /// <summary>The next pool never carved; pools below it have headers.</summary>
    [FieldOffset(8)] public byte* PoolAddress;
    /// <summary>Empty pools already carved, linked through <see cref="PoolHeader.NextPool"/>.</summary>
    [FieldOffset(16)] public PoolHeader* FreePools;
    /// <summary>Next arena in the heap's usable list (or the table's spare list).</summary>
    [FieldOffset(24)] public ArenaObject* NextArena;
    /// <summary>Previous arena in the heap's usable list.</summary>
    [FieldOffset(32)] public ArenaObject* PrevArena;
    /// <summary>The heap whose pools these are.</summary>
    [FieldOffset(40)] public Heap* Heap;
    /// <summary>Pools that are free: carved and empty, or never carved.</summary>
    [FieldOffset(48)] public uint NFreePools;
    /// <summary>Pools in the arena: always <see cref="Geometry.PoolsPerArena"/>.</summary>
    [FieldOffset(52)] public uint NTotalPools;
    /// <summary>
    /// The live-block bitmap: one bit per 16-byte granule of the arena (pool headers' never set), set
    /// while a block starting there is allocated (<see cref="Geometry.LiveBitsPerPool"/>).
    /// After it, one byte per pool: the pages of the pool that pa_trim released with free
    /// blocks on them (<see cref="Geometry.ArenaSideBytes"/>, Heap.ReleasedPages).
    /// </summary>
    [FieldOffset(56)] public ulong* LiveBits;
    /// <summary>
    /// When every pool of the arena last became free (<see cref="System.Environment.TickCount64"/>):
    /// a wholly free arena is kept mapped for reuse until it has been free for
    /// <see cref="Heap.ArenaDecayMs"/> (Heap.ReleaseIdleArenas).
    /// </summary>
    [FieldOffset(64)] public long FreeSinceMs;
    /// <summary>
    /// The arena allocator that made the arena (ArenaSource.cs): null for the OS (mmap, and pa_trim
    /// may release its pages), else a caller's pa_mem_arena_allocator, whose memory is never madvised.
    /// </summary>
    [FieldOffset(72)] public ArenaSource.Source* Source;
    /// <summary>What the allocator returned, given back as is: <see cref="Address"/> is its 1 MiB-aligned part.</summary>
    [FieldOffset(80)] public byte* RawAddress;
    /// <summary>The size asked of the allocator for <see cref="RawAddress"/>: 1 or 2 MiB.</summary>
    [FieldOffset(88)] public nuint RawSize;
}
