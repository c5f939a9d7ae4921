using System;
using System.Collections.Generic;

namespace PyAlloc.Core.Allocator;

/// <summary>
/// Checks a private heap's structure against the rules of Types.cs and Heap.cs: the usable
/// arenas sorted by free pools with consistent links, nfp2lasta naming the last arena of
/// each count, free-pool counts that match the pools, used lists that hold exactly the
/// pools with both live and free blocks, and each pool's free blocks: its free list (distinct
/// carved blocks that are not live) and the blocks pa_trim parked (every other free block
/// overlaps a page of the pool's released-page mask).
/// </summary>
/// <remarks>
/// The tests check their private heaps with it; with <c>PYALLOC_CHECK=1</c> the library checks
/// its process heaps with it too (<see cref="Pymalloc.CheckHeaps"/>), at each pa_trim and
/// pa_get_malloc_stats. It allocates managed memory: a checking tool, never on a fast path.
/// </remarks>
internal static unsafe class HeapInvariants
{
    [ThreadStatic] private static List<nint>? t_arenas;

    /// <summary>The live arenas of <paramref name="heap"/>, as the arena table knows them.</summary>
    public static List<nint> ArenasOf(Heap* heap)
    {
        t_arenas = new List<nint>();
        ArenaTable.ForEachArena(heap, &Collect, null);
        List<nint> arenas = t_arenas;
        t_arenas = null;
        return arenas;
    }

    private static void Collect(ArenaObject* arena, void* state) => t_arenas!.Add((nint)arena);

    /// <summary>Every broken rule, one line each; empty when the heap is sound.</summary>
    /// <param name="heap">The heap (its lock not held).</param>
    /// <param name="liveBlocks">The number of blocks the caller believes are live; negative: not known (not compared).</param>
    /// <param name="liveBits">
    /// False for an owner-serialised heap (HeapOwned.cs), which keeps no live bits: its
    /// free blocks are then not checked against them.
    /// </param>
    public static List<string> Check(Heap* heap, long liveBlocks, bool liveBits = true)
    {
        var problems = new List<string>();
        List<nint> arenas = ArenasOf(heap);

        // ---- the usable list: links, order, membership
        var usable = new List<nint>();
        ArenaObject* prev = null;
        for (ArenaObject* a = heap->UsableArenas; a != null; prev = a, a = a->NextArena)
        {
            if (usable.Count > arenas.Count)
            {
                problems.Add("usable_arenas is longer than the heap's arena count (a cycle?)");
                break;
            }
            usable.Add((nint)a);
            if (a->PrevArena != prev)
                problems.Add($"usable arena #{usable.Count - 1}: PrevArena is 0x{(nint)a->PrevArena:x}, expected 0x{(nint)prev:x}");
            if (a->Heap != heap || a->Address == null)
                problems.Add($"usable arena #{usable.Count - 1} is not a live arena of this heap");
            if (a->NFreePools == 0 || a->NFreePools > a->NTotalPools)
                problems.Add($"usable arena #{usable.Count - 1} has {a->NFreePools} free pools");
            if (prev != null && prev->NFreePools > a->NFreePools)
                problems.Add($"usable arenas out of order: #{usable.Count - 2} has {prev->NFreePools} free pools, #{usable.Count - 1} has {a->NFreePools}");
        }
        foreach (nint a in arenas)
        {
            bool hasFree = ((ArenaObject*)a)->NFreePools > 0;
            if (hasFree != usable.Contains(a))
                problems.Add($"arena 0x{a:x} with {((ArenaObject*)a)->NFreePools} free pools is {(hasFree ? "missing from" : "on")} the usable list");
        }

        // ---- nfp2lasta[n] is the last usable arena with n free pools
        for (int n = 0; n <= Geometry.PoolsPerArena; n++)
        {
            nint expected = 0;
            foreach (nint a in usable)
                if (((ArenaObject*)a)->NFreePools == n)
                    expected = a;
            nint actual = (nint)heap->NfpToLastA[n];
            if (actual != expected)
                problems.Add($"nfp2lasta[{n}] is 0x{actual:x}, the last usable arena with {n} free pools is 0x{expected:x}");
        }

        // ---- each arena: its free-pool count, its free-pool list, its pools
        long counted = 0;
        var partialPools = new HashSet<nint>();
        foreach (nint ai in arenas)
        {
            ArenaObject* a = (ArenaObject*)ai;
            if (a->NTotalPools != Geometry.PoolsPerArena)
                problems.Add($"arena 0x{ai:x} has NTotalPools {a->NTotalPools}");
            long carved = (a->PoolAddress - a->Address) / Geometry.PoolSize;
            long empty = 0;
            for (long k = 0; k < carved; k++)
            {
                PoolHeader* pool = (PoolHeader*)(a->Address + k * Geometry.PoolSize);
                if (pool->Arena != a)
                    problems.Add($"pool {k} of arena 0x{ai:x} names another arena");
                if (pool->Count == 0)
                {
                    empty++;
                    if (pool->SizeIndex < Geometry.NumSizeClasses)
                        CheckFreeBlocks(a, k, pool, problems, liveBits); // keeps its class and free list
                    else if (ReleasedPages(a, k) != 0)
                        problems.Add($"pool {k} of arena 0x{ai:x} has no size class but released-page mask {ReleasedPages(a, k):x}");
                    continue;
                }
                counted += pool->Count;
                CheckFreeBlocks(a, k, pool, problems, liveBits);
                if (pool->SizeIndex >= Geometry.NumSizeClasses)
                    problems.Add($"pool {k} of arena 0x{ai:x} has live blocks but size index {pool->SizeIndex}");
                else if (pool->Count < Geometry.BlocksPerPool(pool->SizeIndex))
                    partialPools.Add((nint)pool);
                else if (pool->Count > Geometry.BlocksPerPool(pool->SizeIndex))
                    problems.Add($"pool {k} of arena 0x{ai:x} counts {pool->Count} live blocks of {Geometry.BlocksPerPool(pool->SizeIndex)}");
            }
            long onFreeList = 0;
            for (PoolHeader* f = a->FreePools; f != null && onFreeList <= carved; f = f->NextPool)
            {
                onFreeList++;
                if (f->Count != 0)
                    problems.Add($"arena 0x{ai:x}: a pool on its free list has {f->Count} live blocks");
            }
            if (onFreeList != empty)
                problems.Add($"arena 0x{ai:x}: {empty} empty pools but {onFreeList} on its free-pool list");
            long expectedFree = empty + (Geometry.PoolsPerArena - carved);
            if (a->NFreePools != expectedFree)
                problems.Add($"arena 0x{ai:x}: NFreePools {a->NFreePools}, but {empty} empty + {Geometry.PoolsPerArena - carved} uncarved pools");
        }

        // ---- used lists hold exactly the pools with live and free blocks
        var onUsedLists = new HashSet<nint>();
        for (uint i = 0; i < Geometry.NumSizeClasses; i++)
        {
            PoolHeader* sentinel = &heap->UsedPools[i];
            PoolHeader* back = sentinel;
            for (PoolHeader* p = sentinel->NextPool; p != sentinel; back = p, p = p->NextPool)
            {
                if (p->PrevPool != back)
                    problems.Add($"used list {i}: broken PrevPool link");
                if (p->SizeIndex != i)
                    problems.Add($"used list {i} holds a pool of class {p->SizeIndex}");
                if (p->Count == 0 || p->FreeBlock == null)
                    problems.Add($"used list {i} holds a pool with {p->Count} live blocks and {(p->FreeBlock == null ? "no" : "a")} free block");
                if (!onUsedLists.Add((nint)p))
                {
                    problems.Add($"used list {i} has a cycle");
                    break;
                }
            }
        }
        if (!onUsedLists.SetEquals(partialPools))
            problems.Add($"{partialPools.Count} pools have live and free blocks but the used lists hold {onUsedLists.Count} pools");

        // ---- counters
        if (counted != (long)heap->BlocksInUse)
            problems.Add($"pools count {counted} live blocks, heap->BlocksInUse is {heap->BlocksInUse}");
        if (liveBlocks >= 0 && counted != liveBlocks)
            problems.Add($"pools count {counted} live blocks, the test holds {liveBlocks}");
        return problems;
    }

    /// <summary>The released-page mask of pool <paramref name="k"/> of <paramref name="a"/> (after the live bitmap).</summary>
    public static byte ReleasedPages(ArenaObject* a, long k) =>
        ((byte*)(a->LiveBits + Geometry.LiveWordsPerArena))[k];

    /// <summary>True when the block at <paramref name="offset"/> of pool <paramref name="k"/> is live.</summary>
    public static bool IsLive(ArenaObject* a, long k, uint offset)
    {
        uint granule = offset >> Geometry.AlignmentShift;
        ulong* words = a->LiveBits + (nint)k * Geometry.LiveWordsPerPool;
        return (words[granule >> 6] & (1UL << (int)(granule & 63))) != 0;
    }

    /* The pool's free list holds distinct carved blocks that are not live; every other free
       carved block overlaps a page of the pool's released-page mask (it is parked); a mask names
       pages 1..n-1 only, only in a pool that is not full, and every block overlapping a marked
       page is carved, free and on no free list. */
    private static void CheckFreeBlocks(ArenaObject* a, long k, PoolHeader* pool, List<string> problems, bool liveBits)
    {
        string where = $"pool {k} of arena 0x{(nint)a:x}";
        uint size = Geometry.IndexToSize(pool->SizeIndex);
        uint carved = (pool->NextOffset - Geometry.PoolOverhead) / size;
        var listed = new HashSet<uint>();
        for (byte* b = pool->FreeBlock; b != null; b = *(byte**)b)
        {
            long offset = b - (byte*)pool;
            if (offset < Geometry.PoolOverhead || offset >= pool->NextOffset
                || (offset - Geometry.PoolOverhead) % size != 0)
            {
                problems.Add($"{where}: its free list holds 0x{(nint)b:x}, not a carved block of the pool");
                return;
            }
            if (!listed.Add((uint)offset))
            {
                problems.Add($"{where}: its free list holds the block at offset {offset} twice (a cycle?)");
                return;
            }
            if (IsLive(a, k, (uint)offset))
                problems.Add($"{where}: its free list holds the live block at offset {offset}");
        }
        if (!liveBits)
            return; // the rest reads the live bits, which such a heap leaves clear
        int pageShift = System.Numerics.BitOperations.Log2((uint)Environment.SystemPageSize);
        int pagesPerPool = Geometry.PoolSize >> pageShift;
        byte mask = ReleasedPages(a, k);
        if ((mask & 1) != 0 || (pagesPerPool < 8 && mask >> pagesPerPool != 0))
            problems.Add($"{where}: released-page mask {mask:x} names the header's page or no page of the pool");
        long parked = 0, live = 0;
        for (uint i = 0, offset = Geometry.PoolOverhead; i < carved; i++, offset += size)
        {
            if (IsLive(a, k, offset))
                live++;
            if (IsLive(a, k, offset) || listed.Contains(offset))
                continue;
            int first = (int)(offset >> pageShift), last = (int)((offset + size - 1) >> pageShift);
            bool onReleasedPage = false;
            for (int page = first; page <= last; page++)
                onReleasedPage |= (mask & (1 << page)) != 0;
            if (!onReleasedPage)
                problems.Add($"{where}: the free block at offset {offset} is on no free list and on no released page (lost)");
            parked++;
        }
        for (int page = 1; page < pagesPerPool; page++)
        {
            if ((mask & (1 << page)) == 0)
                continue;
            // A marked page: every block overlapping it is carved, free and parked.
            uint start = (uint)page << pageShift;
            uint first = (start - Geometry.PoolOverhead) / size;
            uint end = Math.Min((start + (1u << pageShift) - Geometry.PoolOverhead + size - 1) / size,
                                Geometry.BlocksPerPool(pool->SizeIndex));
            if (end > carved)
                problems.Add($"{where}: page {page} is marked but blocks {carved}..{end - 1} on it are not carved");
            for (uint i = first; i < Math.Min(end, carved); i++)
            {
                uint offset = Geometry.PoolOverhead + i * size;
                if (IsLive(a, k, offset))
                    problems.Add($"{where}: page {page} is marked but the block at offset {offset} on it is live");
                else if (listed.Contains(offset))
                    problems.Add($"{where}: page {page} is marked but the block at offset {offset} on it is on the free list");
            }
        }
        if (live != pool->Count)
            problems.Add($"{where}: Count is {pool->Count}, the live bitmap has {live} blocks");
        if (mask != 0 && pool->Count == Geometry.BlocksPerPool(pool->SizeIndex))
            problems.Add($"{where}: a full pool has released-page mask {mask:x}");
    }
}
