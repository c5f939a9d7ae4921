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

   The heap's code is in four files, by concern: Heap.cs (allocation, free,
   the used/free pool lists and the usable arenas), Heap.Cache.cs (the
   thread cache's refill and drain), Heap.Trim.cs (pa_trim and the parked
   blocks, described below) and Heap.Stats.cs (statistics and the pool map).

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
}
