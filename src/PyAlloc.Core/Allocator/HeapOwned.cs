using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace PyAlloc.Core.Allocator;

/* ============================================================================
   Owner-serialised heaps: a runtime's heap without the lock

   Heap.cs takes the heap's lock at every entry point, because the process
   heap behind pa_malloc is shared by every thread.  A runtime's heap is not:
   the C API's contract (spec section 2) says that calls on one runtime must
   not overlap in time, the caller serialising them as CPython's GIL does,
   and the runtime's heap is only ever touched from inside such calls.  The
   lock is then never contended, but it still costs a locked compare-exchange
   per object birth and per object death (the chain workload of issue 6 paid
   it a million times in a row).  The two entry points below are Allocate and
   Free for such a heap, without the lock.

   Why nothing else can touch a runtime's heap while its owner runs (checked
   for every path that reaches a Heap* or its pools; keep this list current):
     - pa_free, pa_realloc, pa_usable_size on an object pointer, from any
       thread: Pymalloc sees `arena->Heap != s_heap` from the lock-free arena
       map and refuses the pointer (ReportRuntimeMemory) without reading the
       runtime heap's pools, pool headers or live bits;
     - pa_get_malloc_stats and pa_trim work on the process heap only
       (Pymalloc.GetStats, Pymalloc.Trim); the count of arenas in runtimes
       comes from the arena table's own counter.  ArenaTable.ForEachArena
       reads every descriptor's Address and Heap, but those are written under
       the arena table's lock, which NewArena and FreeArena still take;
     - pa_runtime_pool_map, pa_count_objects_by_type, pa_runtime_free: calls
       on the runtime, so serialised with its other calls by the contract
       (PoolMap and Destroy still take the lock; it is free then);
     - tracemalloc keeps its traces in its own table under its own lock and
       only reads the arena map (Runtime.IsObjectOf);
     - the debug hooks (PYALLOC_MALLOC=debug) may probe a runtime's heap from
       another thread's pa_free: in the debug modes a runtime has no FastHeap
       and never calls these functions; it goes through the hooks, which take
       the lock as before;
     - the .NET binding has no finaliser that releases objects (only PyBuffer,
       whose blocks are pa_malloc's).
   A heap is used either only through these functions or only through the
   locking ones, never both at once.  Anything new that reaches a runtime's
   heap from outside the runtime's calls (a process-wide trim of runtime
   heaps, a thread cache draining into them) breaks this: it would have to
   go through the runtime's owner instead.
============================================================================ */

internal unsafe partial struct Heap
{
    /// <summary>
    /// <see cref="Allocate"/> without the lock, for a heap whose owner serialises every
    /// call that touches it (a runtime's heap: see the comment above).
    /// </summary>
    /// <returns>A block of size class <paramref name="index"/>, marked live; null when no arena can be mapped.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte* AllocateOwned(Heap* heap, uint index)
    {
        Debug.Assert(!heap->Lock.IsHeld, "an owner-serialised heap is locked: someone else is using it");
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
            if (bp == null)
                return null;
        }
        heap->BlocksInUse++;
        *LiveWord(bp, out ulong bit) |= bit;
        return bp;
    }

    /// <summary>
    /// <see cref="Free"/> without the lock, for a heap whose owner serialises every call
    /// that touches it (a runtime's heap: see the comment above).
    /// </summary>
    /// <returns>
    /// False, with the thread's error set, when <paramref name="p"/> is not a live block of
    /// the arena: then nothing is changed.
    /// </returns>
    /// <remarks>
    /// Pre: <paramref name="arena"/> is what the arena map says for p, and its Heap is
    /// <paramref name="heap"/> (so the arena is mapped and p is inside it).  The live bit
    /// (after a range and alignment check that keeps the bitmap read inside the pool's words)
    /// is then the whole of FindLivePool's answer: it is set only at the start of a block
    /// handed out and not freed since, so a double free or an interior pointer is refused.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool FreeOwned(Heap* heap, ArenaObject* arena, byte* p, string caller)
    {
        Debug.Assert(arena->Heap == heap && arena->Address == (byte*)((nuint)p & ~(nuint)(Geometry.ArenaSize - 1)),
                     "FreeOwned: the arena is not the heap's arena of p");
        Debug.Assert(!heap->Lock.IsHeld, "an owner-serialised heap is locked: someone else is using it");
        PoolHeader* pool = (PoolHeader*)((nuint)p & ~(nuint)(Geometry.PoolSize - 1));
        // Bytes from the pool's first block: p inside the header wraps around to a huge value.
        nuint offset = (nuint)(p - (byte*)pool) - Geometry.PoolOverhead;
        if (offset >= Geometry.PoolSize - Geometry.PoolOverhead || (offset & (Geometry.Alignment - 1)) != 0)
        {
            ReportBadBlock(caller, p);
            return false;
        }
        nuint granule = offset >> Geometry.AlignmentShift;
        nuint poolIndex = ((nuint)pool >> Geometry.PoolBits) & (Geometry.PoolsPerArena - 1);
        ulong bit = 1UL << (int)(granule & 63);
        ulong* word = arena->LiveBits + poolIndex * Geometry.LiveWordsPerPool + (granule >> 6);
        if ((*word & bit) == 0)
        {
            // Freed already, never handed out (an uncarved pool's bits are all clear), or
            // not the start of a block.
            ReportBadBlock(caller, p);
            return false;
        }
        *word &= ~bit;
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
        return true;
    }
}
