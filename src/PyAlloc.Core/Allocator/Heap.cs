using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
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

    // ---------------------------------------------------------------- lifetime

    /// <summary>A new empty heap; null when out of memory.</summary>
    public static Heap* Create()
    {
        nuint bytes = (nuint)(sizeof(Heap)
                              + Geometry.NumSizeClasses * sizeof(PoolHeader)
                              + (Geometry.PoolsPerArena + 1) * sizeof(ArenaObject*));
        Heap* heap = (Heap*)NativeMemory.AlignedAlloc(bytes, 64);
        if (heap == null)
            return null;
        NativeMemory.Clear(heap, bytes);
        heap->UsedPools = (PoolHeader*)(heap + 1);
        heap->NfpToLastA = (ArenaObject**)(heap->UsedPools + Geometry.NumSizeClasses);
        for (int i = 0; i < Geometry.NumSizeClasses; i++)
        {
            PoolHeader* sentinel = &heap->UsedPools[i];
            sentinel->NextPool = sentinel->PrevPool = sentinel;
        }
        return heap;
    }

    /// <summary>
    /// Returns every arena of the heap to the OS and frees the heap itself.
    /// Every block of the heap becomes invalid.
    /// </summary>
    public static void Destroy(Heap* heap)
    {
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
        PoolHeader* sentinel = &heap->UsedPools[index];
        PoolHeader* pool = sentinel->NextPool;
        byte* bp;
        if (pool != sentinel)
        {
            pool->Count++;
            bp = pool->FreeBlock;
            Debug.Assert(bp != null, "a pool on a used list has no free block");
            if ((pool->FreeBlock = *(byte**)bp) == null)
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
        }
        heap->Lock.Exit();
        return bp;
    }

    /* The word of the arena's live bitmap that holds p's bit, and the bit.  One bit per
       16-byte granule, so no division by the block size is needed. */
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong* LiveWord(byte* p, out ulong bit)
    {
        PoolHeader* pool = (PoolHeader*)((nuint)p & ~(nuint)(Geometry.PoolSize - 1));
        nuint granule = (nuint)(p - (byte*)pool - Geometry.PoolOverhead) >> Geometry.AlignmentShift;
        nuint poolIndex = ((nuint)pool >> Geometry.PoolBits) & (Geometry.PoolsPerArena - 1);
        bit = 1UL << (int)(granule & 63);
        return pool->Arena->LiveBits + poolIndex * Geometry.LiveWordsPerPool + (granule >> 6);
    }

    /* The pool's free list just ran dry: carve the next never-used block, or,
       when the pool has none left, unlink the now full pool from its used list.
       Pre:  pool->FreeBlock == null, pool is on its used list.
       Post: pool->FreeBlock is a block whose link is null, or pool is on no list. */
    private static void ExtendPool(PoolHeader* pool, uint index)
    {
        uint size = Geometry.IndexToSize(index);
        if (pool->NextOffset <= pool->MaxNextOffset)
        {
            pool->FreeBlock = (byte*)pool + pool->NextOffset;
            pool->NextOffset += size;
            *(byte**)pool->FreeBlock = null;
            return;
        }
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
            if ((pool->FreeBlock = *(byte**)bp) == null)
                ExtendPool(pool, index);
            return bp;
        }

        // Initialise the pool for this class: return the first block and carve the second.
        uint size = Geometry.IndexToSize(index);
        pool->SizeIndex = index;
        bp = (byte*)pool + Geometry.PoolOverhead;
        pool->NextOffset = Geometry.PoolOverhead + (size << 1);
        pool->MaxNextOffset = Geometry.PoolSize - size;
        pool->FreeBlock = bp + size;
        *(byte**)pool->FreeBlock = null;
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
        *LiveWord(p, out ulong bit) &= ~bit;
        byte* lastFree = pool->FreeBlock;
        *(byte**)p = lastFree;
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
        heap->Lock.Exit();
        return true;
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
        blockSize = 0;
        BlockState state = BlockState.None;
        heap->Lock.Enter();
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
        heap->Lock.Exit();
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
         1. every pool of the arena is free and it is not the last usable arena:
            return the arena to the OS (the last is kept to avoid thrashing when a
            program allocates and frees one block in a loop);
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

        if (nf == ao->NTotalPools && ao->NextArena != null)
        {
            // Case 1: unlink and free the arena. It is the last with nf pools, as the
            // next arena cannot have more than all.
            UnlinkUsableArena(heap, ao);
            ArenaTable.FreeArena(ao);
            return;
        }
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
    /// Returns every wholly free arena of the heap to the OS (InsertToFreePool keeps one).
    /// </summary>
    /// <returns>Bytes of arena memory released.</returns>
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
        heap->Lock.Exit();
        return released;
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
    public static nuint PoolMap(Heap* heap, PoolInfo* output, nuint cap)
    {
        PoolMapState state = new() { Output = output, Cap = cap };
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
