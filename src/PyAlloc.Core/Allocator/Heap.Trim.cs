using System;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using PyAlloc.Core.Platform;

namespace PyAlloc.Core.Allocator;

/* pa_trim inside a heap, and the parked blocks it leaves: the "Released pages" part of
   Heap.cs's banner.  Wholly free arenas are unmapped; in the arenas kept, the pages of empty
   pools and the pages of used pools that no live block overlaps go back to the OS, and the
   free blocks on them are parked (on no free list) until their pool has no other. */
internal unsafe partial struct Heap
{
    // --------------------------------------------------------------------- trim

    /// <summary>
    /// Gives the heap's free memory back to the OS: every wholly free arena (InsertToFreePool
    /// keeps one) is unmapped; in the arenas kept, the pages of empty pools and the pages of
    /// used pools that no live block overlaps are released (see "Released pages" above).
    /// </summary>
    /// <returns>
    /// Bytes released: 1 MiB per arena unmapped, plus the released pages that were resident
    /// (a page released twice, or never touched, counts nothing).
    /// </returns>
    public static nuint Trim(Heap* heap)
    {
        nuint released = 0;
        heap->Lock.Enter();
        // Wholly free arenas have the most free pools, so they sit at the end of the list.
        ArenaObject* ao = heap->UsableArenas;
        while (ao != null)
        {
            // Invariants: every arena before ao has at least one pool in use.
            ArenaObject* next = ao->NextArena;
            if (ao->NFreePools == ao->NTotalPools)
            {
                UnlinkUsableArena(heap, ao);
                ArenaTable.FreeArena(ao);
                released += Geometry.ArenaSize;
            }
            ao = next;
        }
        heap->NfpToLastA[Geometry.PoolsPerArena] = null; // no wholly free arena is left

        int pageShift = TrimPageShift();
        if (pageShift != 0)
        {
            TrimState state = new() { PageShift = pageShift };
            ArenaTable.ForEachArena(heap, &TrimArena, &state);
            released += state.Released;
        }
        heap->Lock.Exit();
        return released;
    }

    /* log2 of the OS page size when a pool spans 2..MaxPagesPerPool whole pages (4 KiB pages:
       four), so that pages of a pool can be released; 0 otherwise (then Trim releases whole
       arenas only). */
    private static int TrimPageShift()
    {
        nuint page = OsMemory.PageSize;
        if (page == 0 || (page & (page - 1)) != 0 || page > Geometry.PoolSize / 2
            || Geometry.PoolSize / page > Geometry.MaxPagesPerPool)
            return 0;
        return BitOperations.Log2(page);
    }

    private struct TrimState
    {
        public int PageShift;
        public nuint Released;
    }

    /* Trim's pass over one arena that is kept: releases the pages 1..n-1 of its empty pools and
       the free pages of its used pools; none of an arena from a caller's arena allocator.
       Pre: heap lock held; the arena has a live block (wholly free arenas are gone). */
    private static void TrimArena(ArenaObject* arena, void* state)
    {
        if (arena->Source != null)
            return; // a caller's memory (locked, huge pages, a file): never madvised
        TrimState* s = (TrimState*)state;
        int pagesPerPool = Geometry.PoolSize >> s->PageShift;
        // Which pages are resident, to count what is released (mincore): at most 512 pages.
        byte* resident = stackalloc byte[Geometry.ArenaSize >> 11];
        bool known = OsMemory.Residency(arena->Address, Geometry.ArenaSize, resident);
        for (byte* p = arena->Address; p < arena->PoolAddress; p += Geometry.PoolSize)
        {
            // Invariants: the pools before p are trimmed; s->Released counts their released pages.
            PoolHeader* pool = (PoolHeader*)p;
            uint pages;
            if (pool->Count == 0)
                pages = ForgetEmptyPool(pool, pagesPerPool);
            else if (pool->FreeBlock != null)
                pages = ParkFreePages(pool, s->PageShift);
            else
                pages = 0; // full: every carved block is live, and none is parked
            if (pages == 0)
                continue;
            byte* poolResident = known ? resident + ((nuint)(p - arena->Address) >> s->PageShift) : null;
            s->Released += ReleasePoolPages(pool, pages, s->PageShift, poolResident);
        }
    }

    /* An empty pool (on its arena's free list) gives up its size class, so that its next use
       initialises it afresh (AllocateFromNewPool) instead of reading a free list whose pages
       are released.  Returns the mask of its pages to release: 1..n-1, or none when an earlier
       trim released them and the pool has not been used since.
       Pre:  pool->Count == 0.
       Post: pool->SizeIndex == NoSizeClass, no released-page mask. */
    private static uint ForgetEmptyPool(PoolHeader* pool, int pagesPerPool)
    {
        if (pool->SizeIndex == Geometry.NoSizeClass)
            return 0; // released by an earlier trim: every use since would have given it a class
        pool->SizeIndex = Geometry.NoSizeClass;
        pool->FreeBlock = null;
        pool->NextOffset = pool->MaxNextOffset = 0;
        *ReleasedPages(pool) = 0;
        return ((1u << pagesPerPool) - 1) & ~1u;
    }

    /* Trim's work on a used pool: finds its pages 1..n-1 that no live block overlaps, parks the
       free blocks that overlap them and rebuilds the free list from the others, in address order.
       Returns the mask of pages to release.
       Pre:  pool->Count > 0, pool->FreeBlock != null (the pool is on its used list).
       Post: the free list holds every free carved block that overlaps no page of the pool's
             released-page mask, and is not empty; the mask is the returned pages that carved
             blocks overlap, all of them carved and free (the other pages returned are wholly
             past NextOffset). */
    private static uint ParkFreePages(PoolHeader* pool, int pageShift)
    {
        uint size = Geometry.IndexToSize(pool->SizeIndex);
        uint carved = (pool->NextOffset - Geometry.PoolOverhead) / size;
        uint capacity = Geometry.BlocksPerPool(pool->SizeIndex);
        ulong* live = PoolLiveBits(pool);
        int pagesPerPool = Geometry.PoolSize >> pageShift;
        uint freePages = 0, parked = 0;
        for (int page = 1; page < pagesPerPool; page++)
        {
            // Invariants: freePages and parked describe pages 1..page-1.
            uint start = (uint)page << pageShift;
            uint first = (start - Geometry.PoolOverhead) / size;            // the first block overlapping the page
            uint end = Math.Min((start + (1u << pageShift) - Geometry.PoolOverhead + size - 1) / size,
                                capacity);                                  // past the last
            if (first >= carved)
            {
                freePages |= 1u << page; // never carved: nothing on it to park
                continue;
            }
            if (end > carved)
                continue; // partly carved: carving would hand out blocks of a marked page
            if (!AnyLiveBlock(live, first, end, size))
            {
                freePages |= 1u << page;
                parked |= 1u << page;
            }
        }
        byte* mask = ReleasedPages(pool);
        if (parked == 0 && *mask == 0)
            return freePages; // nothing parked, before or now: the free list stays as it is

        byte* head = RebuildFreeList(pool, size, carved, live, parked, pageShift);
        while (head == null && parked != 0)
        {
            // Invariants: every free block overlaps a page of parked (the pool has one, as
            // FreeBlock was set, and page 0 is never parked).  Keep the lowest such page: a pool
            // on a used list must have a free block.
            uint lowest = parked & (uint)-(int)parked;
            parked &= ~lowest;
            freePages &= ~lowest;
            head = RebuildFreeList(pool, size, carved, live, parked, pageShift);
        }
        Debug.Assert(head != null, "a used pool with no free block to keep");
        pool->FreeBlock = head;
        *mask = (byte)parked;
        return freePages;
    }

    /* True when one of blocks first..end-1 of the pool is live.
       Pre: end <= the pool's carved blocks. */
    private static bool AnyLiveBlock(ulong* live, uint first, uint end, uint size)
    {
        for (uint k = first; k < end; k++)
        {
            // Invariants: blocks first..k-1 are free.
            uint granule = BlockGranule(k, size);
            if ((live[granule >> 6] & (1UL << (int)(granule & 63))) != 0)
                return true;
        }
        return false;
    }

    /* The free list of the pool's first carved blocks that are free and overlap no page of
       parked, linked in address order; null when there are none.  Writes the link word of
       each block on it (never a block on a parked page). */
    private static byte* RebuildFreeList(PoolHeader* pool, uint size, uint carved, ulong* live,
                                         uint parked, int pageShift)
    {
        byte* head = null;
        byte* last = null;
        uint offset = Geometry.PoolOverhead;
        for (uint k = 0; k < carved; k++, offset += size)
        {
            // Invariants: head..last links the kept free blocks below offset, in address order.
            uint granule = BlockGranule(k, size);
            if ((live[granule >> 6] & (1UL << (int)(granule & 63))) != 0)
                continue;
            if ((PagesOf(offset, size, pageShift) & parked) != 0)
                continue;
            AppendFree(ref head, ref last, (byte*)pool + offset);
        }
        if (last != null)
            Track.WriteLink(last, null);
        return head;
    }

    /* Appends block to the free list head..last being built in address order (the caller
       ends it: WriteLink(last, null)). */
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AppendFree(ref byte* head, ref byte* last, byte* block)
    {
        if (last == null)
            head = block;
        else
            Track.WriteLink(last, block);
        last = block;
    }

    /* The mask of the pool's pages that the block at offset..offset+size-1 overlaps. */
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint PagesOf(uint offset, uint size, int pageShift)
    {
        int first = (int)(offset >> pageShift);
        int last = (int)((offset + size - 1) >> pageShift);
        return ((2u << last) - 1) & ~((1u << first) - 1);
    }

    /* Gives the pool's pages of mask back to the OS, one madvise per run of adjacent pages.
       resident: the residency byte of each page of the pool (mincore), or null when unknown.
       Returns the bytes released that were resident (all of them when unknown).
       Pre: no live block overlaps a page of mask, and no block on a free list does. */
    private static nuint ReleasePoolPages(PoolHeader* pool, uint mask, int pageShift, byte* resident)
    {
        nuint pageSize = (nuint)1 << pageShift;
        nuint released = 0;
        int page = 0;
        while (mask >> page != 0)
        {
            // Invariants: the pages of mask below page are released and counted.
            if ((mask & (1u << page)) == 0)
            {
                page++;
                continue;
            }
            int run = page;
            while ((mask & (1u << run)) != 0)
            {
                if (resident == null || (resident[run] & 1) != 0)
                    released += pageSize;
                run++;
            }
            OsMemory.ReleasePages((byte*)pool + ((nuint)page << pageShift), (nuint)(run - page) << pageShift);
            page = run;
        }
        return released;
    }

    // ----------------------------------------------------------- parked blocks

    /* The pool's released-page mask: bit k set when pa_trim released page k of the pool with
       free blocks on it, which are parked (on no free list).  One byte per pool after the
       arena's live bitmap (Geometry.ArenaSideBytes). */
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte* ReleasedPages(PoolHeader* pool)
    {
        nuint poolIndex = ((nuint)pool >> Geometry.PoolBits) & (Geometry.PoolsPerArena - 1);
        return (byte*)(pool->Arena->LiveBits + Geometry.LiveWordsPerArena) + poolIndex;
    }

    /* The pool's words of its arena's live bitmap. */
    private static ulong* PoolLiveBits(PoolHeader* pool)
    {
        nuint poolIndex = ((nuint)pool >> Geometry.PoolBits) & (Geometry.PoolsPerArena - 1);
        return pool->Arena->LiveBits + poolIndex * Geometry.LiveWordsPerPool;
    }

    /* The pool ran out of free and never-carved blocks, but pa_trim parked some: put every free
       block that overlaps a released page back on the free list, in address order (writing
       their links faults the pages back in, zero-filled).
       Pre:  pool->FreeBlock == null, NextOffset > MaxNextOffset, the mask is not empty; so
             every free carved block is parked (see the invariant at the top), and the
             block Allocate is handing out (not marked live yet) is not among them.
       Post: no mask; true when the free list is not empty. */
    private static bool UnparkBlocks(PoolHeader* pool, uint size)
    {
        byte* mask = ReleasedPages(pool);
        uint parked = *mask;
        *mask = 0;
        uint carved = (pool->NextOffset - Geometry.PoolOverhead) / size;
        ulong* live = PoolLiveBits(pool);
        int pageShift = BitOperations.Log2(OsMemory.PageSize); // set: Trim parked blocks
        byte* head = null;
        byte* last = null;
        uint offset = Geometry.PoolOverhead;
        for (uint k = 0; k < carved; k++, offset += size)
        {
            // Invariants: head..last links the parked blocks below offset, in address order.
            if ((PagesOf(offset, size, pageShift) & parked) == 0)
                continue;
            uint granule = BlockGranule(k, size);
            if ((live[granule >> 6] & (1UL << (int)(granule & 63))) != 0)
                continue;
            AppendFree(ref head, ref last, (byte*)pool + offset);
        }
        if (last != null)
            Track.WriteLink(last, null);
        pool->FreeBlock = head;
        return head != null;
    }
}
