using System.Runtime.InteropServices;
using System.Threading;
using PyAlloc.Core.Platform;
using PyAlloc.Core.Support;

namespace PyAlloc.Core.Allocator;

/* ============================================================================
   The arena table: arena descriptors, arena memory, and the process-wide
   arena counters

   Every arena of every heap (the process heaps behind pa_malloc and the
   runtimes' object heaps) comes from NewArena and goes through FreeArena:
   its memory from ArenaSource (the OS, or the caller's arena allocator).

   Descriptors (ArenaObject, 128 bytes) are carved from chunks of 64 KiB mapped
   from the OS and never returned, so a pointer to a descriptor stays valid for
   the life of the process: the arena map and pool headers point at them
   directly (CPython keeps an index into a realloc'ed array instead).  Spare
   descriptors wait on a free list.  All of it is guarded by one lock, taken
   only when an arena is mapped or unmapped; lock order: heap lock, then this.
   The arena counters (allocated, reclaimed, current, high-water) are kept by
   each heap, under its own lock, so that a heap's figures agree with each other.
============================================================================ */

/// <summary>Maps and unmaps arenas and keeps their descriptors.</summary>
internal static unsafe class ArenaTable
{
    private const int ChunkSize = 64 * 1024;
    private static int DescriptorsPerChunk => (ChunkSize - 64) / sizeof(ArenaObject);

    /// <summary>A chunk of descriptors; the first 64 bytes hold the link to the next chunk.</summary>
    private struct Chunk
    {
        public Chunk* Next;
    }

    private static NativeLock s_lock;
    private static long s_arenasMapped;          // every heap's arenas, now

    /// <summary>fork: held across it (ForkSafety.cs).</summary>
    internal static void LockForFork() => s_lock.Enter();
    internal static void UnlockAfterFork() => s_lock.Exit();

    /// <summary>Arenas mapped now, by every heap.</summary>
    public static long ArenasMapped => Volatile.Read(ref s_arenasMapped);

    private static nint s_chunks;               // Chunk*: every chunk ever mapped, newest first
    private static ArenaObject* s_spare;        // spare descriptors, linked by NextArena


    /// <summary>
    /// Takes a new 1 MiB-aligned arena for <paramref name="heap"/> from the arena allocator in
    /// force (ArenaSource.cs: the OS unless the caller installed one) and registers it.
    /// </summary>
    /// <returns>The descriptor, all 64 pools free and uncarved; null when out of memory.</returns>
    /// <remarks>A caller's allocator is called here, under the heap's lock (not this table's).</remarks>
    public static ArenaObject* NewArena(Heap* heap)
    {
        byte* address = ArenaSource.Acquire(out ArenaSource.Source* source, out byte* raw, out nuint rawSize);
        if (address == null)
            return null;
        var liveBits = (ulong*)NativeMemory.AllocZeroed(Geometry.ArenaSideBytes, 1);
        if (liveBits == null)
        {
            ArenaSource.Release(source, raw, rawSize);
            return null;
        }
        Track.ArenaMapped(address, Geometry.ArenaSize);
        Track.Mapping(address, Geometry.ArenaSize, add: true);
        Pymalloc.NoteNewArena();                 // PYALLOC_MALLOCSTATS: a table after this allocation

        s_lock.Enter();
        ArenaObject* arena = TakeSpareDescriptor();
        if (arena != null)
        {
            // Whole before the map names it: the C fast path (pa__tcache_arena_slot) reads a
            // descriptor it finds in the map without this lock, even for a pointer that is
            // not a block at all.
            *arena = default;
            arena->Address = address;
            arena->LiveBits = liveBits;
            arena->PoolAddress = address;
            arena->Heap = heap;
            arena->Source = source;
            arena->RawAddress = raw;
            arena->RawSize = rawSize;
            arena->NFreePools = arena->NTotalPools = Geometry.PoolsPerArena;
            if (!ArenaMap.Set(address, arena))
            {
                *arena = default;
                ReturnSpareDescriptor(arena);
                arena = null;
            }
        }
        if (arena == null)
        {
            s_lock.Exit();
            Track.Mapping(address, Geometry.ArenaSize, add: false);
            GiveBack(source, address, raw, rawSize);
            NativeMemory.Free(liveBits);
            return null;
        }
        s_arenasMapped++;
        s_lock.Exit();
        Probes.ArenaNew(address, Geometry.ArenaSize);
        // The heap's own counters: its lock is held by the caller.
        heap->ArenasAllocated++;
        if (++heap->ArenasCurrent > heap->ArenasHighwater)
            heap->ArenasHighwater = heap->ArenasCurrent;
        return arena;
    }

    /// <summary>
    /// Unregisters the arena, gives its memory back to the allocator that made it (the OS, or the
    /// caller's arena allocator of the time) and makes the descriptor spare.
    /// </summary>
    /// <remarks>Pre: no block of the arena is live and it is on no heap list.</remarks>
    public static void FreeArena(ArenaObject* arena)
    {
        byte* address = arena->Address;
        ulong* liveBits = arena->LiveBits;
        Heap* heap = arena->Heap;
        ArenaSource.Source* source = arena->Source;
        byte* raw = arena->RawAddress;
        nuint rawSize = arena->RawSize;
        heap->ArenasReclaimed++;
        heap->ArenasCurrent--;
        s_lock.Enter();
        ArenaMap.Set(address, null);
        if (Pymalloc.IsProcessHeap(heap))
            ThreadCaches.OnArenaUnmapped();   // only a process heap's arenas are ever in a thread's slots
        arena->Address = null;
        arena->Heap = null;
        arena->Source = null;
        ReturnSpareDescriptor(arena);
        s_arenasMapped--;
        s_lock.Exit();
        Probes.ArenaFree(address);
        Track.Mapping(address, Geometry.ArenaSize, add: false);
        GiveBack(source, address, raw, rawSize);
        NativeMemory.Free(liveBits);
    }

    /* The end of an arena's memory: the trackers forget it, and its allocator gets back what it
       gave (a caller's free may touch it: to memcheck it is accessible again). */
    private static void GiveBack(ArenaSource.Source* source, byte* address, byte* raw, nuint rawSize)
    {
        Track.ArenaUnmapping(address, Geometry.ArenaSize);
        if (source != null)
            Track.ArenaGivenBack(address, Geometry.ArenaSize);
        ArenaSource.Release(source, raw, rawSize);
    }

    /// <summary>
    /// Calls <paramref name="visit"/> for every live arena of <paramref name="heap"/>.
    /// Call with the heap's lock held (so its arenas cannot come or go).
    /// </summary>
    public static void ForEachArena(Heap* heap, delegate*<ArenaObject*, void*, void> visit, void* state)
    {
        for (Chunk* c = (Chunk*)Volatile.Read(ref s_chunks); c != null; c = c->Next)
        {
            ArenaObject* d = (ArenaObject*)((byte*)c + 64);
            for (int i = 0; i < DescriptorsPerChunk; i++, d++)
            {
                if (d->Address != null && d->Heap == heap)
                    visit(d, state);
            }
        }
    }

    // Pre: s_lock held.
    private static ArenaObject* TakeSpareDescriptor()
    {
        if (s_spare == null)
        {
            Chunk* chunk = (Chunk*)OsMemory.Map(ChunkSize);
            if (chunk == null)
                return null;
            Track.Mapping(chunk, ChunkSize, add: true);   // descriptors point to live bitmaps
            ArenaObject* d = (ArenaObject*)((byte*)chunk + 64);
            for (int i = DescriptorsPerChunk - 1; i >= 0; i--)
            {
                d[i].NextArena = s_spare;
                s_spare = &d[i];
            }
            chunk->Next = (Chunk*)s_chunks;
            Volatile.Write(ref s_chunks, (nint)chunk);
        }
        ArenaObject* arena = s_spare;
        s_spare = arena->NextArena;
        return arena;
    }

    // Pre: s_lock held.
    private static void ReturnSpareDescriptor(ArenaObject* arena)
    {
        arena->NextArena = s_spare;
        s_spare = arena;
    }
}
