using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace PyAlloc.Core.Allocator;

/* ============================================================================
   Owner-serialised heaps: a runtime's heap without the lock

   Heap.cs takes the heap's lock at every entry point, because the process
   heap behind pa_malloc is shared by every thread.  A runtime's heap is not:
   the header's contract (section 4 of pyalloc.h) says that calls on one runtime must
   not overlap in time, the caller serialising them as CPython's GIL does,
   and the runtime's heap is only ever touched from inside such calls.  The
   lock is then never contended, but it still costs a locked compare-exchange
   per object birth and per object death (a chain of a million objects
   released by one decref pays it a million times in a row).  The two entry points below are Allocate and
   Free for such a heap, without the lock.

   Why nothing else can touch a runtime's heap while its owner runs (checked
   for every path that reaches a Heap* or its pools; keep this list current):
     - pa_free, pa_realloc, pa_usable_size on an object pointer, from any
       thread: Pymalloc sees that arena->Heap is not a process heap
       (Pymalloc.IsProcessHeap) from the lock-free arena map and refuses the
       pointer (ReportRuntimeMemory) without reading the
       runtime heap's pools, pool headers or live bits;
     - the C thread caches take only blocks of process heaps (the range
       check pa__is_process_heap), so no drain reaches a runtime's heap;
     - pa_get_malloc_stats and pa_trim work on the process heaps only
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

   The live bits are kept as by the locking entry points: the exports'
   argument checks (Objects/Validation.cs) read them, without the lock, from
   inside the runtime's own calls, to tell a live object from a freed one.
   They cost about a sixth of the instructions of an object's death (README,
   Performance, gives the measured figure).
============================================================================ */

internal unsafe partial struct Heap
{
    /// <summary>
    /// <see cref="Allocate"/> without the lock, for a heap whose owner
    /// serialises every call that touches it (a runtime's heap: see the comment above).
    /// </summary>
    /// <returns>A block of size class <paramref name="index"/>; null when no arena can be mapped.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte* AllocateOwned(Heap* heap, uint index)
    {
        Debug.Assert(!heap->Lock.IsHeld, "an owner-serialised heap is locked: someone else is using it");
        PoolHeader* sentinel = &heap->UsedPools[index];
        PoolHeader* pool = sentinel->NextPool;
        if (pool == sentinel)
            return AllocateFromNewPoolOwned(heap, index);
        heap->BlocksInUse++;
        pool->Count++;
        byte* bp = pool->FreeBlock;
        Debug.Assert(bp != null, "a pool on a used list has no free block");
        if ((pool->FreeBlock = Track.ReadLink(bp)) == null)
            ExtendPool(pool, index);
        *LiveWord(bp, out ulong bit) |= bit;
        Track.Alloc(heap, bp, Geometry.IndexToSize(index));
        return bp;
    }

    /// <summary>
    /// <see cref="Free"/> without the lock, for a heap whose owner serialises
    /// every call that touches it (a runtime's heap: see the comment above).
    /// </summary>
    /// <remarks>
    /// Pre: <paramref name="p"/> is a block that <see cref="AllocateOwned"/> returned for
    /// <paramref name="heap"/> and that has not been freed since.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void FreeOwned(Heap* heap, byte* p)
    {
        Debug.Assert(!heap->Lock.IsHeld, "an owner-serialised heap is locked: someone else is using it");
        PoolHeader* pool = (PoolHeader*)((nuint)p & ~(nuint)(Geometry.PoolSize - 1));
        Debug.Assert(pool->Arena->Heap == heap && pool->Count != 0, "FreeOwned: p is not a live block of the heap");
        Track.Free(heap, p, Geometry.IndexToSize(pool->SizeIndex));
        *LiveWord(p, out ulong bit) &= ~bit;
        ReleaseBlock(heap, pool, p);
    }

    /* AllocateOwned's slow path: the block of a pool that was empty, counted.
       Post: as AllocateFromNewPool's; null when no arena can be mapped. */
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static byte* AllocateFromNewPoolOwned(Heap* heap, uint index)
    {
        byte* bp = AllocateFromNewPool(heap, index);
        if (bp != null)
        {
            heap->BlocksInUse++;
            *LiveWord(bp, out ulong bit) |= bit;
            Track.Alloc(heap, bp, Geometry.IndexToSize(index));
        }
        return bp;
    }
}
