using System;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using PyAlloc.Core.Platform;
using PyAlloc.Core.Support;

namespace PyAlloc.Core.Allocator;

/* ============================================================================
   The heap: pools and arenas at work

   This is CPython's obmalloc.c (3.12) for one heap: allocation takes the
   first pool on its class's used list and pops a block from the pool's free
   list; freeing pushes the block back and moves the pool between lists when
   it stops being full or becomes empty.  Arena bookkeeping keeps the usable
   arenas sorted by free pools so that nearly empty arenas drain and are
   returned to the OS.  See Types.cs for the glossary.

   Every entry point takes the heap's lock for its whole length; the pool
   structures are never touched without it.  The lock is per heap, so heaps
   owned by different threads will not contend.

   Released pages (pa_trim)
   A pool is 16 KiB, four 4 KiB OS pages; page 0 holds the header.  Trim gives
   back to the OS (madvise MADV_DONTNEED, the mapping stays) what it can
   inside the arenas it keeps:
     - an empty pool's pages 1..3.  The pool forgets its size class
       (SizeIndex = NoSizeClass), so AllocateFromNewPool initialises it
       afresh and nothing reads its old free list;
     - a used pool's page 1..3 that no live block overlaps (blocks straddle
       page boundaries: every block overlapping the page counts).  The free
       blocks overlapping such a page are "parked": the pool's free list is
       rebuilt, in address order, from the other free blocks only, and the
       page is marked in the pool's released-page mask (one byte per pool
       after the arena's live bitmap, ReleasedPages).  Pages wholly past the
       carved part (NextOffset) are released with no mark: carving writes
       them anew; the page that NextOffset cuts is kept.  A pool on a used
       list keeps one free block: when every free block would be parked, the
       lowest such page stays;
     - when the free list and the never-carved space of a pool with a mask
       run dry, ExtendPool puts the parked blocks back on the free list
       (UnparkBlocks) before calling the pool full; their pages come back
       zero-filled, which free blocks do not mind.
   So a pool's free blocks are those on its free list and the parked ones:
   Count, the statistics and the live bitmap (double-free checks) do not
   change.  Invariant: while a page is marked, every block that overlaps it is
   carved, free and parked (on no free list, not live), and every free block
   that is on no free list overlaps a marked page; a full pool (on no list)
   has no mask.  So a block handed out, or freed, never overlaps a marked
   page, and UnparkBlocks cannot take back the block being handed out (its
   live bit is set only after ExtendPool returns).
============================================================================ */

/// <summary>What an address is to a heap (<see cref="Heap.Probe"/>).</summary>
internal enum BlockState
{
    /// <summary>Not the start of a block of this heap.</summary>
    None,
    /// <summary>The start of a block handed out and not freed since.</summary>
    Live,
    /// <summary>The start of a block of a carved pool that is not live: freed, or not handed out yet.</summary>
    Free,
}

/// <summary>One pool of a heap map (<c>pa_pool_info</c>, <see cref="Heap.PoolMap"/>).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct PoolInfo
{
    public nuint Arena;
    public nuint Pool;
    public int SizeClass;       // -1 for an uncarved or empty pool
    public nuint BlockSize;     // 0 when SizeClass is -1
    public nuint BlocksInUse;
    public nuint BlocksTotal;   // 0 when SizeClass is -1
}

/// <summary>One pymalloc heap: used-pool lists, usable arenas and their lock.</summary>
/// <remarks>
/// Lives in native memory (<see cref="Create"/>); all methods take a <c>Heap*</c>.
/// A runtime's heap is used without the lock instead: see HeapOwned.cs.
/// </remarks>
[StructLayout(LayoutKind.Sequential)]
internal unsafe partial struct Heap
{
    /// <summary>Guards everything below and every pool and arena of this heap.</summary>
    public NativeLock Lock;
    /// <summary>Sentinels of the used-pool lists, one per size class.</summary>
    public PoolHeader* UsedPools;
    /// <summary>nfp2lasta: [n] is the last usable arena with n free pools, or null.</summary>
    public ArenaObject** NfpToLastA;
    /// <summary>Arenas with a free pool, sorted by NFreePools ascending.</summary>
    public ArenaObject* UsableArenas;
    /// <summary>Live blocks in this heap's pools.</summary>
    public nuint BlocksInUse;
    /// <summary>Arenas this heap mapped, returned, has now, and had at most (under the lock).</summary>
    public nuint ArenasAllocated, ArenasReclaimed, ArenasCurrent, ArenasHighwater;
    /// <summary>The runtime (Runtime*) whose objects this heap holds; null for a process heap.</summary>
    public void* Owner;

    // ---------------------------------------------------------------- lifetime

    /// <summary>Bytes of one heap with its lists, rounded to a cache line: the stride of <see cref="CreateArray"/>.</summary>
    public static nuint Stride =>
        (nuint)((sizeof(Heap) + Geometry.NumSizeClasses * sizeof(PoolHeader)
                 + (Geometry.PoolsPerArena + 1) * sizeof(ArenaObject*) + 63) & ~63);

    /// <summary>A new empty heap; null when out of memory.</summary>
    public static Heap* Create() => CreateArray(1);

    /// <summary>
    /// <paramref name="count"/> new empty heaps, <see cref="Stride"/> bytes apart in one block
    /// (so "is this one of them?" is a range check); null when out of memory.
    /// </summary>
    /// <remarks>Only the first may be given to <see cref="Destroy"/>, and only when count is 1.</remarks>
    public static Heap* CreateArray(int count)
    {
        nuint stride = Stride;
        byte* block = (byte*)NativeMemory.AlignedAlloc(stride * (nuint)count, 64);
        if (block == null)
            return null;
        NativeMemory.Clear(block, stride * (nuint)count);
        for (int h = 0; h < count; h++)
        {
            Heap* heap = (Heap*)(block + (nuint)h * stride);
            heap->UsedPools = (PoolHeader*)(heap + 1);
            heap->NfpToLastA = (ArenaObject**)(heap->UsedPools + Geometry.NumSizeClasses);
            for (int i = 0; i < Geometry.NumSizeClasses; i++)
            {
                PoolHeader* sentinel = &heap->UsedPools[i];
                sentinel->NextPool = sentinel->PrevPool = sentinel;
            }
            Track.HeapLife(heap, alive: true);
        }
        return (Heap*)block;
    }

    /// <summary>
    /// Returns every arena of the heap to the OS and frees the heap itself.
    /// Every block of the heap becomes invalid.
    /// </summary>
    public static void Destroy(Heap* heap)
    {
        Track.HeapLife(heap, alive: false);
        heap->Lock.Enter();
        ArenaTable.ForEachArena(heap, &FreeArenaOnDestroy, null);
        heap->Lock.Exit();
        NativeMemory.AlignedFree(heap);
    }

    private static void FreeArenaOnDestroy(ArenaObject* arena, void* state) => ArenaTable.FreeArena(arena);

    // -------------------------------------------------------------- allocation

    /// <summary>
    /// A block of size class <paramref name="index"/>; null when no arena can be mapped.
    /// </summary>
    /// <remarks>
    /// Fast because the common case touches one pool header and one block: the first
    /// pool on the class's used list always has a free block (full pools leave the list).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte* Allocate(Heap* heap, uint index)
    {
        heap->Lock.Enter();
        byte* bp = TakeBlock(heap, index);
        heap->Lock.Exit();
        return bp;
    }

    /* A block of class index, marked live and counted; null when no arena can be mapped.
       Pre: heap lock held. */
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte* TakeBlock(Heap* heap, uint index)
    {
        PoolHeader* sentinel = &heap->UsedPools[index];
        PoolHeader* pool = sentinel->NextPool;
        byte* bp;
        if (pool != sentinel)
        {
            pool->Count++;
            bp = pool->FreeBlock;
            Debug.Assert(bp != null, "a pool on a used list has no free block");
            if ((pool->FreeBlock = Track.ReadLink(bp)) == null)
                ExtendPool(pool, index);
        }
        else
        {
            bp = AllocateFromNewPool(heap, index);
        }
        if (bp != null)
        {
            heap->BlocksInUse++;
            *LiveWord(bp, out ulong bit) |= bit;
            Track.Alloc(heap, bp, Geometry.IndexToSize(index));
        }
        return bp;
    }

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

    /* The pool's free list just ran dry: carve the next never-used block, or,
       when the pool has none left, bring back the blocks pa_trim parked, or, when
       there are none, unlink the now full pool from its used list.
       Pre:  pool->FreeBlock == null, pool is on its used list.
       Post: pool->FreeBlock is a free block (its list null-terminated), or pool is
             full and on no list with no released-page mask. */
    private static void ExtendPool(PoolHeader* pool, uint index)
    {
        uint size = Geometry.IndexToSize(index);
        if (pool->NextOffset <= pool->MaxNextOffset)
        {
            pool->FreeBlock = (byte*)pool + pool->NextOffset;
            pool->NextOffset += size;
            Track.WriteLink(pool->FreeBlock, null);
            return;
        }
        if (*ReleasedPages(pool) != 0 && UnparkBlocks(pool, size))
            return; // pa_trim parked free blocks: they are the free list now
        PoolHeader* next = pool->NextPool;
        PoolHeader* prev = pool->PrevPool;
        next->PrevPool = prev;
        prev->NextPool = next;
    }

    /* No used pool for this class: take an empty pool from the first usable arena
       (mapping a new arena when there is none), link it to the class's used list and
       return its first block.
       Pre:  the used list of index is empty.
       Post: the returned block's pool heads the used list with Count == 1;
             usable_arenas is still sorted and nfp2lasta consistent with it. */
    private static byte* AllocateFromNewPool(Heap* heap, uint index)
    {
        ArenaObject* usable = heap->UsableArenas;
        if (usable == null)
        {
            usable = ArenaTable.NewArena(heap);
            if (usable == null)
                return null;
            usable->NextArena = usable->PrevArena = null;
            heap->UsableArenas = usable;
            Debug.Assert(heap->NfpToLastA[usable->NFreePools] == null, "nfp2lasta[total] set with no usable arena");
            heap->NfpToLastA[usable->NFreePools] = usable;
        }
        Debug.Assert(usable->Address != null, "a usable arena has no memory");

        // The arena loses a free pool: it stops being the last with its count, and
        // becomes the last (it is the first, so the only one seen so far) with one fewer.
        if (heap->NfpToLastA[usable->NFreePools] == usable)
            heap->NfpToLastA[usable->NFreePools] = null;
        if (usable->NFreePools > 1)
            heap->NfpToLastA[usable->NFreePools - 1] = usable;

        PoolHeader* pool = usable->FreePools;
        if (pool != null)
        {
            usable->FreePools = pool->NextPool;
        }
        else
        {
            // Carve a new pool off the arena: lazy initialisation, as CPython.
            pool = (PoolHeader*)usable->PoolAddress;
            Track.PoolCarved((byte*)pool, Geometry.PoolOverhead);
            pool->Arena = usable;
            pool->SizeIndex = Geometry.NoSizeClass;
            usable->PoolAddress += Geometry.PoolSize;
        }
        if (--usable->NFreePools == 0)
        {
            // The arena is completely allocated: it leaves the usable list.
            heap->UsableArenas = usable->NextArena;
            if (heap->UsableArenas != null)
                heap->UsableArenas->PrevArena = null;
        }

        // Front-link the pool to the used list of its class.
        PoolHeader* sentinel = &heap->UsedPools[index];
        pool->NextPool = sentinel->NextPool;
        pool->PrevPool = sentinel;
        sentinel->NextPool->PrevPool = pool;
        sentinel->NextPool = pool;
        pool->Count = 1;

        byte* bp;
        if (pool->SizeIndex == index)
        {
            // The pool last held blocks of this class: its free list is ready.
            bp = pool->FreeBlock;
            Debug.Assert(bp != null, "an empty pool of this class has no free block");
            if ((pool->FreeBlock = Track.ReadLink(bp)) == null)
                ExtendPool(pool, index);
            return bp;
        }

        // Initialise the pool for this class: return the first block and carve the second.
        uint size = Geometry.IndexToSize(index);
        pool->SizeIndex = index;
        *ReleasedPages(pool) = 0; // blocks parked for its old class are not blocks of this one
        bp = (byte*)pool + Geometry.PoolOverhead;
        pool->NextOffset = Geometry.PoolOverhead + (size << 1);
        pool->MaxNextOffset = Geometry.PoolSize - size;
        pool->FreeBlock = bp + size;
        Track.WriteLink(pool->FreeBlock, null);
        return bp;
    }

    // --------------------------------------------------------------------- free

    /// <summary>
    /// Frees the pool block <paramref name="p"/> of <paramref name="arena"/>.
    /// </summary>
    /// <returns>
    /// False, with the thread's error set, when <paramref name="p"/> is not a live block
    /// of this heap: then nothing is changed.
    /// </returns>
    /// <remarks>Pre: <paramref name="arena"/> is what the arena map says for p.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Free(Heap* heap, ArenaObject* arena, byte* p, string caller)
    {
        heap->Lock.Enter();
        PoolHeader* pool = FindLivePool(heap, arena, p);
        if (pool == null)
        {
            heap->Lock.Exit();
            ReportBadBlock(caller, p);
            return false;
        }
        Track.Free(heap, p, Geometry.IndexToSize(pool->SizeIndex));
        *LiveWord(p, out ulong bit) &= ~bit;
        ReleaseBlock(heap, pool, p);
        heap->Lock.Exit();
        return true;
    }

    /* Links the block p, no longer live, into its pool's free list and moves the pool
       between lists as it stops being full or becomes empty.
       Pre: heap lock held (or the heap is owner-serialised: HeapOwned.cs); p's live
       bit is clear; p was counted in its pool. */
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ReleaseBlock(Heap* heap, PoolHeader* pool, byte* p)
    {
        byte* lastFree = pool->FreeBlock;
        Track.WriteLink(p, lastFree);
        pool->FreeBlock = p;
        heap->BlocksInUse--;
        if (--pool->Count != 0)
        {
            if (lastFree == null)
                InsertToUsedPool(heap, pool); // it was full: it is on no list
        }
        else
        {
            // A pool has at least 31 blocks, so a pool that was full cannot be empty now.
            InsertToFreePool(heap, pool);
        }
    }

    /// <summary>
    /// The class size of the live pool block <paramref name="p"/>, or 0 (error set) when it is not one.
    /// </summary>
    public static uint UsableSize(Heap* heap, ArenaObject* arena, byte* p, string caller)
    {
        heap->Lock.Enter();
        PoolHeader* pool = FindLivePool(heap, arena, p);
        uint size = pool != null ? Geometry.IndexToSize(pool->SizeIndex) : 0;
        heap->Lock.Exit();
        if (size == 0)
            ReportBadBlock(caller, p);
        return size;
    }

    /* The pool of p when p is a live block of this heap (the start of a block handed
       out and not freed since); null otherwise.  Never reads memory of an arena that
       is not mapped: the descriptor is checked first.
       Pre: heap lock held. */
    private static PoolHeader* FindLivePool(Heap* heap, ArenaObject* arena, byte* p)
    {
        byte* arenaBase = (byte*)((nuint)p & ~(nuint)(Geometry.ArenaSize - 1));
        if (arena->Heap != heap || arena->Address != arenaBase)
            return null; // the arena went away since the lookup
        PoolHeader* pool = (PoolHeader*)((nuint)p & ~(nuint)(Geometry.PoolSize - 1));
        if ((byte*)pool >= arena->PoolAddress || pool->Count == 0)
            return null; // never carved, or empty
        nuint offset = (nuint)(p - (byte*)pool);
        if (offset < Geometry.PoolOverhead || offset >= pool->NextOffset
            || !Geometry.IsBlockBoundary(offset - Geometry.PoolOverhead, pool->SizeIndex))
            return null;
        if ((*LiveWord(p, out ulong bit) & bit) == 0)
            return null; // freed already, or never handed out
        if (ThreadCaches.IsCached(p))
            return null; // freed already: it waits in a thread cache
        return pool;
    }

    /// <summary>
    /// What <paramref name="p"/> is to this heap, without reading anything but the pool
    /// header and the live bitmap: the start of a live block, the start of a free block
    /// (freed, or carved and never handed out), or neither. No error is set.
    /// </summary>
    /// <remarks>
    /// For the debug hooks, which must know whether a block is theirs before they read the
    /// bytes around it. <paramref name="blockSize"/> gets the class size for a live or free block.
    /// Pre: <paramref name="arena"/> is what the arena map says for p.
    /// </remarks>
    public static BlockState Probe(Heap* heap, ArenaObject* arena, byte* p, out uint blockSize)
    {
        heap->Lock.Enter();
        BlockState state = ProbeUnlocked(heap, arena, p, out blockSize);
        heap->Lock.Exit();
        return state;
    }

    /// <summary>
    /// <see cref="Probe"/> without the lock: for a runtime's heap, which only its owner
    /// touches (HeapOwned.cs), or with the lock held.
    /// </summary>
    public static BlockState ProbeUnlocked(Heap* heap, ArenaObject* arena, byte* p, out uint blockSize)
    {
        blockSize = 0;
        BlockState state = BlockState.None;
        byte* arenaBase = (byte*)((nuint)p & ~(nuint)(Geometry.ArenaSize - 1));
        PoolHeader* pool = (PoolHeader*)((nuint)p & ~(nuint)(Geometry.PoolSize - 1));
        if (arena->Heap == heap && arena->Address == arenaBase && (byte*)pool < arena->PoolAddress
            && pool->SizeIndex < Geometry.NumSizeClasses)
        {
            nuint offset = (nuint)(p - (byte*)pool);
            if (offset >= Geometry.PoolOverhead && offset < pool->NextOffset
                && Geometry.IsBlockBoundary(offset - Geometry.PoolOverhead, pool->SizeIndex))
            {
                blockSize = Geometry.IndexToSize(pool->SizeIndex);
                state = pool->Count != 0 && (*LiveWord(p, out ulong bit) & bit) != 0
                    ? BlockState.Live : BlockState.Free;
            }
        }
        return state;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ReportBadBlock(string caller, byte* p) =>
        Errors.Set($"{caller}: {Errors.Hex(p)} is not a live block: it is inside a PyAlloc pool but was " +
                   "freed already (a double free), never allocated, or is not the start of a block");

    /* A block was freed in a pool that was full: link the pool to the front of its
       class's used list, so the next allocation of that class uses it.
       Pre: pool is on no list; Count >= 1. */
    private static void InsertToUsedPool(Heap* heap, PoolHeader* pool)
    {
        PoolHeader* sentinel = &heap->UsedPools[pool->SizeIndex];
        PoolHeader* next = sentinel->NextPool;
        pool->NextPool = next;
        pool->PrevPool = sentinel;
        next->PrevPool = pool;
        sentinel->NextPool = pool;
    }

    /* The last live block of a pool was freed: move the pool from its used list to
       its arena's free pools, then do the arena bookkeeping (CPython's four cases):
         1. every pool of the arena is free: CPython returns it to the OS unless it
            is the last usable arena (kept to avoid thrashing when a program
            allocates and frees one block in a loop).  PyAlloc keeps every wholly
            free arena mapped for ArenaDecayMs after it became free, for the next
            allocations to reuse without the OS (mapping and first-touch faults
            cost more than the arena's work), and then returns it, still keeping
            the last one as CPython does (ReleaseIdleArenas); ArenaDecayMs = 0 is
            CPython's policy exactly;
         2. it is the arena's only free pool: the arena becomes usable again, at the
            front of the list (it has the fewest free pools);
         3. the arena now has more free pools than the next one: slide it right,
            behind the last arena that had its new count, to keep the list sorted;
         4. otherwise nothing moves.
       Pre:  pool->Count == 0 and pool is on its used list.
       Post: usable_arenas sorted by NFreePools, nfp2lasta consistent. */
    private static void InsertToFreePool(Heap* heap, PoolHeader* pool)
    {
        PoolHeader* next = pool->NextPool;
        PoolHeader* prev = pool->PrevPool;
        next->PrevPool = prev;
        prev->NextPool = next;

        ArenaObject* ao = pool->Arena;
        pool->NextPool = ao->FreePools;
        ao->FreePools = pool;
        uint nf = ao->NFreePools;

        // If ao was the last arena with nf free pools, the one before it (when it has
        // the same count) becomes the last. nf == 0 has no entry: such arenas are not usable.
        ArenaObject* lastnf = heap->NfpToLastA[nf];
        if (lastnf == ao)
        {
            ArenaObject* before = ao->PrevArena;
            heap->NfpToLastA[nf] = before != null && before->NFreePools == nf ? before : null;
        }
        ao->NFreePools = ++nf;

        if (nf == ao->NTotalPools)
        {
            // Case 1: the arena is wholly free.  It stays usable (cases 2-4 place it, at
            // the start of the wholly free arenas at the end of the list, the newest
            // first); the arenas that have been wholly free for ArenaDecayMs go back to
            // the OS now, but for the last of the list.
            long now = System.Environment.TickCount64;
            ao->FreeSinceMs = now;
            PlaceUsableArena(heap, ao, nf, lastnf);
            ReleaseIdleArenas(heap, now);
            return;
        }
        PlaceUsableArena(heap, ao, nf, lastnf);
    }

    /* Cases 2-4 of InsertToFreePool: ao has just gained its nf-th free pool; lastnf
       was the last arena with nf - 1 free pools before (nfp2lasta[nf - 1]).
       Post: usable_arenas sorted by NFreePools, nfp2lasta consistent. */
    private static void PlaceUsableArena(Heap* heap, ArenaObject* ao, uint nf, ArenaObject* lastnf)
    {
        if (nf == 1)
        {
            // Case 2: ao was full, so it is not on the usable list; it has the fewest.
            ao->NextArena = heap->UsableArenas;
            ao->PrevArena = null;
            if (heap->UsableArenas != null)
                heap->UsableArenas->PrevArena = ao;
            heap->UsableArenas = ao;
            if (heap->NfpToLastA[1] == null)
                heap->NfpToLastA[1] = ao;
            return;
        }

        if (heap->NfpToLastA[nf] == null)
            heap->NfpToLastA[nf] = ao;
        // Case 4: ao was the last with its old count, so the next has more than that,
        // at least nf: the order holds.
        if (ao == lastnf)
            return;

        // Case 3: slide ao right, after lastnf (the last arena with the old count).
        Debug.Assert(ao->NextArena != null, "an arena that is not the last with its count has no successor");
        UnlinkUsableArena(heap, ao);
        ao->PrevArena = lastnf;
        ao->NextArena = lastnf->NextArena;
        if (ao->NextArena != null)
            ao->NextArena->PrevArena = ao;
        lastnf->NextArena = ao;
        // nfp2lasta[nf] still holds: arenas already at nf sit further right, and
        // when there were none it was set to ao above.
        Debug.Assert(ao->NextArena == null || nf <= ao->NextArena->NFreePools, "usable arenas out of order");
    }

    /// <summary>
    /// How long a wholly free arena stays mapped for reuse, in milliseconds
    /// (<c>PYALLOC_ARENA_DECAY_MS</c>, read when the allocator starts; 1000 unless set;
    /// 0: returned at once, CPython's policy). pa_trim returns them all at once.
    /// </summary>
    public static long ArenaDecayMs = 1000;

    /* Returns to the OS the wholly free arenas that have been free for ArenaDecayMs
       or longer, but for the last arena of the usable list (CPython keeps that one).
       The wholly free arenas are the end of the list, newest first, so the walk goes
       backwards from the last one and stops at the first that is still young.
       Pre: heap lock held. */
    private static void ReleaseIdleArenas(Heap* heap, long now)
    {
        ArenaObject* last = heap->NfpToLastA[Geometry.PoolsPerArena];
        if (last == null)
            return;
        ArenaObject* ao = last->PrevArena;
        while (ao != null && ao->NFreePools == Geometry.PoolsPerArena)
        {
            // Invariants: the wholly free arenas after ao are the last one and arenas
            // that are still young or were just released.
            ArenaObject* before = ao->PrevArena;
            if (now - ao->FreeSinceMs < ArenaDecayMs)
                break;
            UnlinkUsableArena(heap, ao);
            ArenaTable.FreeArena(ao);
            ao = before;
        }
    }

    /* The heap's idle arenas go back to the OS when there is one to release: cheap enough
       for the paths that take the heap lock for a batch (FillCache). Pre: heap lock held. */
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MaybeReleaseIdleArenas(Heap* heap)
    {
        ArenaObject* last = heap->NfpToLastA[Geometry.PoolsPerArena];
        if (last != null && last->PrevArena != null && last->PrevArena->NFreePools == Geometry.PoolsPerArena)
            ReleaseIdleArenas(heap, System.Environment.TickCount64);
    }

    /* Pre: ao is on the usable list.  Post: it is not; its links are stale. */
    private static void UnlinkUsableArena(Heap* heap, ArenaObject* ao)
    {
        if (ao->PrevArena == null)
            heap->UsableArenas = ao->NextArena;
        else
            ao->PrevArena->NextArena = ao->NextArena;
        if (ao->NextArena != null)
            ao->NextArena->PrevArena = ao->PrevArena;
    }

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
       the free pages of its used pools.
       Pre: heap lock held; the arena has a live block (wholly free arenas are gone). */
    private static void TrimArena(ArenaObject* arena, void* state)
    {
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

    // -------------------------------------------------------------- statistics

    /// <summary>Adds this heap's arena and pool figures to <paramref name="stats"/>.</summary>
    public static void AddStats(Heap* heap, MallocStats* stats)
    {
        heap->Lock.Enter();
        stats->ArenasAllocated += heap->ArenasAllocated;
        stats->ArenasReclaimed += heap->ArenasReclaimed;
        stats->ArenasCurrent += heap->ArenasCurrent;
        stats->ArenasHighwater += heap->ArenasHighwater;
        ArenaTable.ForEachArena(heap, &AddArenaStats, stats);
        heap->Lock.Exit();
    }

    /// <summary>
    /// Every pool of the heap's arenas, arena by arena (in the arena table's order), pools 0..63 of each:
    /// the heap map (<c>pa_runtime_pool_map</c>). Fills up to <paramref name="cap"/> rows, returns the total.
    /// </summary>
    /// <remarks>
    /// For several heaps in one map, pass the rows and arenas already written as
    /// <paramref name="firstRow"/> and <paramref name="firstArena"/>: rows go on from there.
    /// </remarks>
    public static nuint PoolMap(Heap* heap, PoolInfo* output, nuint cap, nuint firstRow = 0, nuint firstArena = 0)
    {
        PoolMapState state = new() { Output = output, Cap = cap, Total = firstRow, Arena = firstArena };
        heap->Lock.Enter();
        ArenaTable.ForEachArena(heap, &AddArenaPools, &state);
        heap->Lock.Exit();
        return state.Total;
    }

    private struct PoolMapState
    {
        public PoolInfo* Output;
        public nuint Cap, Total, Arena;
    }

    private static void AddArenaPools(ArenaObject* arena, void* state)
    {
        PoolMapState* s = (PoolMapState*)state;
        for (int i = 0; i < Geometry.PoolsPerArena; i++, s->Total++)
        {
            if (s->Total >= s->Cap)
                continue;
            byte* p = arena->Address + (nuint)i * Geometry.PoolSize;
            PoolInfo* row = &s->Output[s->Total];
            row->Arena = s->Arena;
            row->Pool = (nuint)i;
            PoolHeader* pool = (PoolHeader*)p;
            if (p >= arena->PoolAddress || pool->Count == 0)
            {
                // uncarved, or carved and empty (on the arena's free list)
                row->SizeClass = -1;
                row->BlockSize = 0;
                row->BlocksInUse = 0;
                row->BlocksTotal = 0;
                continue;
            }
            uint index = pool->SizeIndex;
            row->SizeClass = (int)index;
            row->BlockSize = Geometry.IndexToSize(index);
            row->BlocksInUse = pool->Count;
            row->BlocksTotal = Geometry.BlocksPerPool(index);
        }
        s->Arena++;
    }

    private static void AddArenaStats(ArenaObject* arena, void* state)
    {
        MallocStats* stats = (MallocStats*)state;
        stats->PoolsFree += arena->NFreePools;
        for (byte* p = arena->Address; p < arena->PoolAddress; p += Geometry.PoolSize)
        {
            PoolHeader* pool = (PoolHeader*)p;
            if (pool->Count == 0)
                continue; // empty: counted in NFreePools
            uint index = pool->SizeIndex;
            uint size = Geometry.IndexToSize(index);
            uint blocks = Geometry.BlocksPerPool(index);
            ref SizeClassStats cls = ref stats->Classes[(int)index];
            cls.Pools++;
            cls.BlocksInUse += pool->Count;
            cls.FreeBlocks += blocks - pool->Count;
            stats->PoolsInUse++;
            stats->BytesInUsedBlocks += (nuint)pool->Count * size;
            stats->BytesInFreeBlocks += (nuint)(blocks - pool->Count) * size;
            stats->BytesPoolHeaders += Geometry.PoolOverhead;
            stats->BytesQuantization += Geometry.PoolSize - Geometry.PoolOverhead - blocks * size;
        }
    }
}
