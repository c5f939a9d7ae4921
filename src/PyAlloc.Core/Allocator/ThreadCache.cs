using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using PyAlloc.Core.Abi;
using PyAlloc.Core.Platform;
using PyAlloc.Core.Support;

namespace PyAlloc.Core.Allocator;

/* ============================================================================
   Thread caches: the core's side

   pa_malloc and pa_free are C functions (native/entry/thread_cache.h) that
   serve small blocks from a per-thread cache without calling the core: a
   call into C# costs about as much as a whole malloc+free of glibc, so the
   crossing must be rare.  The caches are C data; the core owns their blocks
   and their rules:
     - FastPath is the one struct the C side reads: whether the caches may
       serve (pymalloc mode and tracemalloc off), the process heap, the arena
       map's root and the tag key.  It lives in the C library; the C side
       hands over its address on its first call (Attach), and the core writes
       it whenever one of those changes (Publish).
     - A cached block is live to the heap (live bit set, counted in use) and
       free to the user: its second word holds its tag, Secret ^ address.  A
       pa_free or pa_realloc of a tagged block is a double free, refused by
       Heap.FindLivePool as one of a block back in its pool is.
     - Each cache refills from one of the process heaps (Pymalloc.ThreadHeaps,
       given round robin at Register), so threads take blocks from different
       pools under different locks; a drain gives each block back to the heap
       of its pool, whichever thread freed it.
     - Refill moves a batch of blocks from the heap into one list of a cache
       (tagging them); Drain moves the oldest part of a list back (clearing
       the tags); Flush empties a whole cache.  One crossing and one heap
       lock per batch.
     - A thread that ends pushes its cache on FastPath.Orphans (C, lock-free);
       the core flushes and frees orphans at its next Refill, Drain or Flush.
   Every cache is registered when made (Register) and leaves the registry
   when adopted, so the statistics can count the blocks waiting in caches as
   free (AddCachedToStats); the C entry points of the statistics, the pool
   map and pa_trim also flush the calling thread's cache first.  The pool map
   alone cannot tell: a pool shows the blocks other threads cache as in use.
============================================================================ */

/// <summary>The C fast path's view of the core (<c>pa__fastpath</c> in thread_cache.h).</summary>
[StructLayout(LayoutKind.Explicit, Size = 64)]
internal unsafe struct FastPath
{
    /// <summary>1 while the caches may serve: pymalloc mode, and tracemalloc off.</summary>
    [FieldOffset(0)] public int Enabled;
    /// <summary>1 once the core has this struct.</summary>
    [FieldOffset(4)] public int Attached;
    /// <summary>The first process heap (pymalloc mode), or null: the heaps are <see cref="HeapsSpan"/> bytes from here.</summary>
    [FieldOffset(8)] public Heap* Heaps;
    /// <summary>The arena map's root, or null before the first arena.</summary>
    [FieldOffset(16)] public nint* ArenaRoot;
    /// <summary>The tag key: a cached block's second word is Secret ^ its address.</summary>
    [FieldOffset(24)] public nuint Secret;
    /// <summary>Caches of threads that ended, linked by <see cref="ThreadCache.NextOrphan"/>.</summary>
    [FieldOffset(32)] public ThreadCache* Orphans;
    /// <summary>Bytes from <see cref="Heaps"/> past the last process heap.</summary>
    [FieldOffset(40)] public nuint HeapsSpan;
    /// <summary>Raised whenever an arena is unmapped: the C side's arena slots are stale then.</summary>
    [FieldOffset(48)] public ulong ArenaEpoch;
    /// <summary>
    /// Blocks freed by threads that were ending (after their cache went to the orphans),
    /// as <see cref="DeferredFree"/> nodes from the C library's malloc: the core frees them.
    /// </summary>
    [FieldOffset(56)] public DeferredFree* Deferred;
}

/// <summary>A free put off by an ending thread (<c>pa__deferred</c> in thread_cache.h).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct DeferredFree
{
    /// <summary>The next node of the stack.</summary>
    public DeferredFree* Next;
    /// <summary>The pointer given to pa_free.</summary>
    public void* Block;
}

/// <summary>One thread's cache (<c>pa__tcache</c> in thread_cache.h).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ThreadCache
{
    /// <summary>Per size class, the first cached block (byte*), linked by first words.</summary>
    public fixed ulong Heads[Geometry.NumSizeClasses];
    /// <summary>Per size class, how many blocks its list holds.</summary>
    public fixed uint Counts[Geometry.NumSizeClasses];
    /// <summary>The next cache on the orphan stack.</summary>
    public ThreadCache* NextOrphan;
    /// <summary>The next and previous caches of live threads (the core's registry).</summary>
    public ThreadCache* NextLive, PrevLive;
    /// <summary>The process heap this cache refills from (set at <see cref="ThreadCaches.Register"/>).</summary>
    public Heap* Heap;
    /// <summary>How many large blocks the cache keeps (at most <see cref="ThreadCaches.LargeSlots"/>).</summary>
    public uint LargeCount;
    /// <summary>Freed large blocks kept for the thread's next pa_malloc they fit (LargeBlocks.Keep).</summary>
    public fixed ulong Large[ThreadCaches.LargeSlots];
    /// <summary>Their usable sizes.</summary>
    public fixed ulong LargeSizes[ThreadCaches.LargeSlots];
    /// <summary>The C side's own arena slots (epoch, bases, bitmaps): not read here.</summary>
    public fixed byte ArenaSlots[8 + 2 * 8 * ThreadCaches.ArenaSlots];
    /// <summary>How many frees wait in <see cref="Pending"/> for their owner thread's check.</summary>
    public uint PendingCount;
    /// <summary>The size class of <see cref="Last"/> (the C side's own).</summary>
    public uint LastIndex;
    /// <summary>The block the thread's pa_malloc handed out last, until freed (the C side's own).</summary>
    public ulong Last;
    /// <summary>Frees not yet checked (thread_cache.h, "Why pa_free only stores").</summary>
    public fixed ulong Pending[ThreadCaches.PendingSlots];
}

/// <summary>Refill, drain and flush of the C thread caches; the tag key.</summary>
internal static unsafe class ThreadCaches
{
    private static FastPath* s_fast;
    private static nuint s_secret;
    private static NativeLock s_lock;
    private static NativeLock s_registryLock;     // guards s_live and every cache's live links
    private static ThreadCache* s_live;
    private static bool s_cachesServed;           // true once the caches were enabled: tags may exist
    private static bool s_hooked;                 // an allocator hook is installed (pa_mem_set_allocator): caches off
    private static bool s_tracing;                // tracemalloc is tracing (Tracemalloc.Start/Stop say so): caches off

    /// <summary>fork: the registry's lock (taken early: it is held around heap locks).</summary>
    internal static void LockRegistryForFork() => s_registryLock.Enter();
    internal static void UnlockRegistryAfterFork() => s_registryLock.Exit();
    /// <summary>fork: the publishing lock (a leaf: taken last, under the arena table's).</summary>
    internal static void LockPublishForFork() => s_lock.Enter();
    internal static void UnlockPublishAfterFork() => s_lock.Exit();

    /// <summary>Large blocks a thread cache keeps at most (<c>PA__LARGE_SLOTS</c>).</summary>
    public const int LargeSlots = 8;

    /// <summary>The C side's arena slots per cache (<c>PA__ARENA_SLOTS</c>).</summary>
    public const int ArenaSlots = 256;

    /// <summary>Frees a cache holds before its thread checks them (<c>PA__PENDING</c>).</summary>
    public const int PendingSlots = 16;

    /// <summary>The tag key, or 0 while no cache can exist.</summary>
    public static nuint Secret => s_secret;

    /// <summary>True when the second word of the live block <paramref name="p"/> says it sits in a thread cache.</summary>
    /// <remarks>
    /// The block's second word is read only once the caches have served: before that (and
    /// in the other modes, or under a memory checker) no block carries a tag, and a block
    /// whose owner never wrote that word is not read (memcheck would call it uninitialised).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsCached(byte* p)
    {
        nuint secret = s_secret;
        return secret != 0 && Volatile.Read(ref s_cachesServed) && ((nuint*)p)[1] == (secret ^ (nuint)p);
    }

    /// <summary>A random odd number from the kernel, the tag key.</summary>
    /// <remarks>
    /// getrandom rather than <see cref="Random"/>: the .NET sources open
    /// <c>/dev/urandom</c> and keep it, taking the host's lowest free descriptor (a host
    /// that closed its stdin would find one again). Should the kernel refuse, the key is
    /// made of the address-space layout and the clock: a key only makes an accidental
    /// match of a user's data unlikely, it guards nothing against an attacker.
    /// </remarks>
    private static nuint RandomSecret()
    {
        nuint value = 0;
        if (Libc.Getrandom(&value, (nuint)sizeof(nuint), 0) != sizeof(nuint))
            value = (nuint)((ulong)(nuint)(&value) * 0x9E3779B97F4A7C15UL ^ (ulong)Environment.TickCount64);
        return value | 1;
    }

    /// <summary>The C side's first call: remember its struct and fill it.</summary>
    public static void Attach(FastPath* fast)
    {
        s_lock.Enter();
        if (s_secret == 0)
            s_secret = RandomSecret();
        s_fast = fast;
        fast->Secret = s_secret;
        fast->Attached = 1;
        s_lock.Exit();
        Publish();
    }

    /// <summary>
    /// Writes the current mode, heap, arena map root and tracing state to the C side.
    /// Called when any of them changes.
    /// </summary>
    public static void Publish()
    {
        FastPath* fast = s_fast;
        if (fast == null)
            return;
        s_lock.Enter();
        Heap* heap = Pymalloc.FastHeap;
        fast->Heaps = heap;
        fast->HeapsSpan = heap != null ? Pymalloc.HeapsSpan : 0;
        fast->ArenaRoot = ArenaMap.Root;
        int enabled = heap != null && !Volatile.Read(ref s_tracing) && !Track.On && !Volatile.Read(ref s_hooked) ? 1 : 0;
        if (enabled != 0)
            Volatile.Write(ref s_cachesServed, true);
        Volatile.Write(ref fast->Enabled, enabled); // after the fields it vouches for
        s_lock.Exit();
    }

    /// <summary>
    /// An allocator hook was installed (<paramref name="on"/>) or removed: the caches serve
    /// only while none is, so that every pa_malloc and pa_free reaches the hook (native/entry).
    /// </summary>
    public static void SetHooked(bool on)
    {
        Volatile.Write(ref s_hooked, on);
        Publish();
    }

    /// <summary>
    /// tracemalloc started (<paramref name="on"/>) or stopped: the caches serve only while it is
    /// off, so that every traced block goes through the core. Tracemalloc (a layer above the
    /// allocator) tells; the allocator never asks it.
    /// </summary>
    public static void SetTracing(bool on)
    {
        Volatile.Write(ref s_tracing, on);
        Publish();
    }

    /// <summary>
    /// An arena is being unmapped: the C side's copies of arena lookups are stale.
    /// Called after the arena map forgets the arena and before its bitmap is freed.
    /// </summary>
    public static void OnArenaUnmapped()
    {
        FastPath* fast = s_fast;
        if (fast != null)
            Interlocked.Increment(ref fast->ArenaEpoch);
    }

    /// <summary>
    /// Moves up to <paramref name="want"/> blocks of class <paramref name="index"/> from
    /// the process heap to the cache's list; returns how many (0: out of memory, or the
    /// caches are off).
    /// </summary>
    public static uint Refill(ThreadCache* tc, uint index, uint want)
    {
        AdoptOrphans();
        Heap* heap = tc->Heap;
        if (heap == null || index >= Geometry.NumSizeClasses)
            return 0;
        byte* head = (byte*)tc->Heads[index];
        uint got = Heap.FillCache(heap, index, &head, want, s_secret);
        tc->Heads[index] = (ulong)head;
        tc->Counts[index] += got;
        Pymalloc.PrintStatsIfPending();   // the heap's lock is free again
        return got;
    }

    /// <summary>Gives back all but the newest <paramref name="keep"/> blocks of one list.</summary>
    public static void Drain(ThreadCache* tc, uint index, uint keep)
    {
        AdoptOrphans();
        if (index < Geometry.NumSizeClasses)
            DrainList(tc, index, keep);
    }

    /// <summary>Gives back every block of the cache (null: only adopt the orphans).</summary>
    public static void Flush(ThreadCache* tc)
    {
        AdoptOrphans();
        if (tc == null)
            return;
        for (uint i = 0; i < Geometry.NumSizeClasses; i++)
            DrainList(tc, i, 0);
        ReleaseLarge(tc);
    }

    /* Frees the large blocks the cache keeps.  Post: it keeps none. */
    private static void ReleaseLarge(ThreadCache* tc)
    {
        uint n = Math.Min(tc->LargeCount, LargeSlots);
        tc->LargeCount = 0;
        for (uint i = 0; i < n; i++)
            LargeBlocks.ReleaseCached((void*)tc->Large[i]);
    }

    /// <summary>A thread made its cache: it joins the registry until it is adopted.</summary>
    public static void Register(ThreadCache* tc)
    {
        tc->Heap = Pymalloc.ThreadHeap();
        s_registryLock.Enter();
        tc->PrevLive = null;
        tc->NextLive = s_live;
        if (s_live != null)
            s_live->PrevLive = tc;
        s_live = tc;
        s_registryLock.Exit();
    }

    /* Pre: tc is registered and its thread has ended.  Post: it is not registered. */
    private static void Unregister(ThreadCache* tc)
    {
        s_registryLock.Enter();
        if (tc->PrevLive != null)
            tc->PrevLive->NextLive = tc->NextLive;
        else if (s_live == tc)
            s_live = tc->NextLive;
        if (tc->NextLive != null)
            tc->NextLive->PrevLive = tc->PrevLive;
        s_registryLock.Exit();
    }

    /* How many of tc's pending frees are live blocks of class index, checked as its
       thread will check them (a live, untagged block of a process heap's pool).  The
       thread may settle them meanwhile: a snapshot, like the counts beside it.  Each
       block is read under its heap's lock, so its arena cannot be unmapped meanwhile. */
    private static nuint PendingOfClass(ThreadCache* tc, uint index)
    {
        uint n = Math.Min(Volatile.Read(ref tc->PendingCount), (uint)PendingSlots);
        nuint found = 0;
        for (uint k = 0; k < n; k++)
        {
            byte* p = (byte*)Volatile.Read(ref tc->Pending[k]);
            if (Heap.IsLiveUncachedBlockOfClass(p, index, s_secret))
                found++;
        }
        return found;
    }

    /// <summary>
    /// Moves the blocks waiting in thread caches from "in use" to "free" in
    /// <paramref name="stats"/> (the heap counts them in use).
    /// </summary>
    /// <remarks>
    /// The counts of other threads' caches are read while those threads run, so under
    /// concurrent allocation each is a moment's value; a class's in-use plus free stays exact.
    /// </remarks>
    public static void AddCachedToStats(PaMallocStats* stats)
    {
        s_registryLock.Enter();
        for (ThreadCache* tc = s_live; tc != null; tc = tc->NextLive)
        {
            // Invariants: the caches before tc are counted.
            for (int i = 0; i < Geometry.NumSizeClasses; i++)
            {
                nuint cached = Volatile.Read(ref tc->Counts[i]) + PendingOfClass(tc, (uint)i);
                ref PaSizeClassStats cls = ref stats->Classes[i];
                cached = Math.Min(cached, cls.BlocksInUse);
                cls.BlocksInUse -= cached;
                cls.FreeBlocks += cached;
                nuint bytes = cached * Geometry.IndexToSize((uint)i);
                stats->BytesInUsedBlocks -= bytes;
                stats->BytesInFreeBlocks += bytes;
            }
        }
        s_registryLock.Exit();
    }

    /* Pre:  tc's list for index holds Counts[index] tagged blocks of the process heap.
       Post: it holds min(keep, count) of them, the newest; the rest are back in their pools. */
    private static void DrainList(ThreadCache* tc, uint index, uint keep)
    {
        uint count = tc->Counts[index];
        if (count <= keep)
            return;
        byte** link = (byte**)&tc->Heads[index];
        for (uint i = 0; i < keep; i++)
        {
            // Invariants: *link is the (i+1)-th block of the list.
            link = (byte**)*link;
        }
        byte* rest = *link;
        *link = null;
        tc->Counts[index] = keep;
        Heap.DrainCache(rest, count - keep);
    }

    /* Caches of threads that ended: flush them and free them (the C side made
       them with calloc).  The stack is taken whole, so each is seen once. */
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AdoptOrphans()
    {
        if (s_fast != null && Volatile.Read(ref *(nint*)&s_fast->Orphans) != 0)
            AdoptOrphansSlow();
        if (s_fast != null && Volatile.Read(ref *(nint*)&s_fast->Deferred) != 0)
            FreeDeferred();
    }

    /* The frees that ending threads put off: each pointer goes to Pymalloc.Free as pa_free
       would have sent it.  A bad one (a double free, a foreign pointer) is refused there
       as ever, but its message is not this thread's error: the caller's is kept. */
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void FreeDeferred()
    {
        DeferredFree* node = (DeferredFree*)Interlocked.Exchange(ref *(nint*)&s_fast->Deferred, 0);
        if (node == null)
            return;
        byte* saved = stackalloc byte[Errors.Capacity];
        Errors.CopyTo(saved);
        while (node != null)
        {
            // Invariants: the pointers of every node before node are freed, their nodes too.
            DeferredFree* next = node->Next;
            Pymalloc.Free(node->Block);
            Libc.Free(node);
            node = next;
        }
        Errors.Restore(saved);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void AdoptOrphansSlow()
    {
        ThreadCache* tc = (ThreadCache*)Interlocked.Exchange(ref *(nint*)&s_fast->Orphans, 0);
        while (tc != null)
        {
            // Invariants: every cache before tc is flushed and freed.
            ThreadCache* next = tc->NextOrphan;
            Unregister(tc);
            for (uint i = 0; i < Geometry.NumSizeClasses; i++)
                DrainList(tc, i, 0);
            ReleaseLarge(tc);
            NativeMemory.Free(tc);
            tc = next;
        }
    }
}
