using System;
using System.Runtime.CompilerServices;

namespace PyAlloc.Core.Allocator;

/* The heap's side of the thread cache: refilling a thread's list of one size class a batch
   at a time (FillCache, carving fresh blocks in runs), taking a surplus back (DrainCache),
   and telling a cached block from a live one (IsLiveUncachedBlockOfClass).  The cache itself
   is C: native/entry/thread_cache.h (the lists and the fast paths) and thread_cache.c (the
   pending-free ring); Allocator/ThreadCache.cs is its core side (refill, drain and flush
   across the heaps, orphaned caches). */
internal unsafe partial struct Heap
{
    /// <summary>
    /// Takes up to <paramref name="want"/> blocks of class <paramref name="index"/> for a
    /// thread cache: each is marked live, tagged (second word = <paramref name="secret"/> ^
    /// address) and linked by its first word in front of <paramref name="head"/>.
    /// </summary>
    /// <returns>How many were taken; fewer than asked only when no arena can be mapped.</returns>
    public static uint FillCache(Heap* heap, uint index, byte** head, uint want, nuint secret)
    {
        // The blocks keep the order the heap gives them (the cache hands out its head
        // first), so a thread sees the same addresses as without a cache.
        byte* rest = *head;
        byte** link = head;
        uint got = 0;
        heap->Lock.Enter();
        while (got < want)
        {
            // Invariants: the got blocks taken so far are live, tagged and linked from
            // *head in the order taken; *link is the last one's link (or head).
            PoolHeader* first = heap->UsedPools[index].NextPool;
            if (first != &heap->UsedPools[index] && IsAtItsFrontier(first) && !Track.On)
            {
                got += CarveRun(heap, first, index, want - got, &link, secret);
                continue;
            }
            byte* bp = TakeBlock(heap, index);
            if (bp == null)
                break;
            ((nuint*)bp)[1] = secret ^ (nuint)bp;
            *link = bp;
            link = (byte**)bp;
            got++;
        }
        MaybeReleaseIdleArenas(heap);
        heap->Lock.Exit();
        *link = rest;
        return got;
    }

    /* True when the pool's only free block is its frontier (the block carved last, its
       link null) and blocks remain to be carved after it: a run of fresh blocks can be
       taken without walking a free list. */
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsAtItsFrontier(PoolHeader* pool) =>
        pool->FreeBlock != null && *(byte**)pool->FreeBlock == null && pool->NextOffset <= pool->MaxNextOffset;

    /* Takes up to max fresh blocks for a thread cache in one run: the pool's frontier
       block and the blocks carved after it, each marked live, tagged and linked from
       **link on; then carves the pool's next frontier (or unlinks it when full) as
       ExtendPool does.  Each block is touched once (TakeBlock would write a null link
       into it on carving, then FillCache its tag).  Returns how many were taken.
       Pre: heap lock held; IsAtItsFrontier(pool); pool heads its class's used list;
            no memory checker (Track.On is false: the caches are off under one). */
    private static uint CarveRun(Heap* heap, PoolHeader* pool, uint index, uint max, byte*** link, nuint secret)
    {
        uint size = Geometry.IndexToSize(index);
        uint available = 2 + (pool->MaxNextOffset - pool->NextOffset) / size;
        uint k = Math.Min(max, available);
        byte* bp = pool->FreeBlock;
        byte** at = *link;
        for (uint j = 0; j < k; j++, bp += size)
        {
            // Invariants: the j blocks before bp are live, tagged and linked after *link.
            ((nuint*)bp)[1] = secret ^ (nuint)bp;
            *at = bp;
            at = (byte**)bp;
            *LiveWord(bp, out ulong bit) |= bit;
        }
        *link = at;
        pool->Count += k;
        heap->BlocksInUse += k;
        pool->NextOffset += (k - 1) * size;   // the frontier was carved already
        pool->FreeBlock = null;
        ExtendPool(pool, index);
        return k;
    }

    /// <summary>
    /// Takes back <paramref name="count"/> blocks of a thread cache, linked by their first
    /// words from <paramref name="list"/>: each loses its tag and goes back to its pool,
    /// in whichever heap the pool belongs to (a thread frees other threads' blocks too).
    /// </summary>
    /// <remarks>
    /// The heap of each block is read from its pool without that heap's lock: the block is
    /// live, so its pool and arena stay, and an arena never changes heap. A run of blocks
    /// of one heap costs one lock. The C side checked each block when it was freed; a block
    /// whose live bit is clear now can only come from two threads freeing it at the same
    /// moment (both caches took it): it is skipped, so it is never linked into a pool twice,
    /// though until then the two caches may each have handed it out (the one race of an
    /// illegal program the lock-free push cannot see; thread_cache.h names the limits).
    /// </remarks>
    public static void DrainCache(byte* list, uint count)
    {
        Heap* locked = null;
        for (uint i = 0; i < count && list != null; i++)
        {
            // Invariants: the i blocks before list are back in their pools; locked is
            // the heap whose lock this thread holds, or null.
            byte* bp = list;
            list = *(byte**)bp;
            PoolHeader* pool = (PoolHeader*)((nuint)bp & ~(nuint)(Geometry.PoolSize - 1));
            Heap* heap = pool->Arena->Heap;
            if (heap != locked)
            {
                if (locked != null)
                    locked->Lock.Exit();
                heap->Lock.Enter();
                locked = heap;
            }
            ((nuint*)bp)[1] = 0;
            ulong* word = LiveWord(bp, out ulong bit);
            if ((*word & bit) == 0)
                continue;
            *word &= ~bit;
            ReleaseBlock(heap, pool, bp);
        }
        if (locked != null)
            locked->Lock.Exit();
    }

    /// <summary>
    /// True when <paramref name="p"/> is a live block of size class <paramref name="index"/>
    /// in a process heap's pool and carries no thread-cache tag: what a thread's pending free
    /// becomes once its thread checks it (a block in the cache's lists).
    /// </summary>
    /// <remarks>
    /// Any pointer may be asked: the arena comes from the arena map, and the block is read
    /// under its heap's lock, which keeps the arena mapped. For the statistics' count of
    /// blocks waiting in other threads' caches.
    /// </remarks>
    public static bool IsLiveUncachedBlockOfClass(byte* p, uint index, nuint secret)
    {
        if (((nuint)p & (Geometry.Alignment - 1)) != 0)
            return false;
        ArenaObject* arena = ArenaMap.Lookup(p);
        if (arena == null || !Pymalloc.IsProcessHeap(arena->Heap))
            return false;
        Heap* heap = arena->Heap;
        heap->Lock.Enter();
        bool found = false;
        if (ArenaMap.Lookup(p) == arena && arena->Address != null)
        {
            PoolHeader* pool = (PoolHeader*)((nuint)p & ~(nuint)(Geometry.PoolSize - 1));
            found = (*LiveWord(p, out ulong bit) & bit) != 0 && pool->SizeIndex == index
                    && ((nuint*)p)[1] != (secret ^ (nuint)p);
        }
        heap->Lock.Exit();
        return found;
    }

    /* The word of the arena's live bitmap that holds p's bit, and the bit.  One bit per
       16-byte granule of the arena (pool headers included, never set), so no division by the
       block size is needed: the bit's number is p's offset in its arena over 16, which is how
       thread_cache.h's push finds it too. */
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong* LiveWord(byte* p, out ulong bit)
    {
        PoolHeader* pool = (PoolHeader*)((nuint)p & ~(nuint)(Geometry.PoolSize - 1));
        nuint granule = ((nuint)p >> Geometry.AlignmentShift) & (Geometry.LiveWordsPerArena * 64 - 1);
        bit = 1UL << (int)(granule & 63);
        return pool->Arena->LiveBits + (granule >> 6);
    }

    /* The granule of block k of a pool of blocks of size bytes: its bit in PoolLiveBits. */
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint BlockGranule(uint k, uint size) => (Geometry.PoolOverhead + k * size) >> Geometry.AlignmentShift;
}
