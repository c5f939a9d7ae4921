using PyAlloc.Core.Platform;
using PyAlloc.Core.Support;

namespace PyAlloc.Core.Allocator;

/* ============================================================================
   Large blocks: requests over 512 bytes, served by the system allocator

   pa_free must refuse a pointer PyAlloc never handed out instead of passing
   it to free(), which would corrupt the C heap or abort.  Pool blocks are
   recognised by the arena map; large blocks by this registry: a PointerMap
   from each live large block to its usable size, under one lock.  Its cost
   is a hash probe per large malloc and free, small beside the system call it
   accompanies.

   A thread cache may keep a freed block of at most MaxCached bytes for the
   thread's next pa_malloc of a size it fits (native/entry/thread_cache.h):
   the block stays registered, and its second word carries the caches' tag,
   so a second free of it, its usable size or a realloc are refused as for a
   pool block in a cache.  The tag is read only from registered blocks.
============================================================================ */

/// <summary>The system allocator, with a registry of the blocks it served us.</summary>
internal static unsafe class LargeBlocks
{
    private static NativeLock s_lock;
    private static PointerMap s_blocks;   // block -> usable size
    private static nuint s_bytes;

    /// <summary>fork: held across it (ForkSafety.cs).</summary>
    internal static void LockForFork() => s_lock.Enter();
    internal static void UnlockAfterFork() => s_lock.Exit();

    /// <summary>Live large blocks.</summary>
    public static nuint Count => s_blocks.Count;
    /// <summary>Their usable bytes.</summary>
    public static nuint Bytes => s_bytes;

    /// <summary>A registered block from malloc (or calloc when <paramref name="zero"/>); null when out of memory.</summary>
    public static void* Allocate(nuint n, bool zero)
    {
        void* p = zero ? Libc.Calloc(1, n) : Libc.Malloc(n);
        if (p == null)
            return null;
        nuint usable = Libc.MallocUsableSize(p);
        s_lock.Enter();
        bool registered = s_blocks.Set(p, usable);
        if (registered)
            s_bytes += usable;
        s_lock.Exit();
        if (!registered)
        {
            Libc.Free(p);
            return null;
        }
        return p;
    }

    /// <summary>The most usable bytes of a block a thread cache may keep (<see cref="Keep"/>).</summary>
    public const nuint MaxCached = 16384;

    /// <summary>True when <paramref name="p"/> is a live large block (not one a thread cache keeps).</summary>
    public static bool Contains(void* p)
    {
        s_lock.Enter();
        bool found = s_blocks.Contains(p) && !ThreadCaches.IsCached((byte*)p);
        s_lock.Exit();
        return found;
    }

    /// <summary>True when <paramref name="p"/> is a registered block a thread cache keeps.</summary>
    public static bool IsKept(void* p)
    {
        s_lock.Enter();
        bool kept = s_blocks.Contains(p) && ThreadCaches.IsCached((byte*)p);
        s_lock.Exit();
        return kept;
    }

    /// <summary>
    /// Frees <paramref name="p"/> when it is a live large block; false (nothing done) otherwise,
    /// with <paramref name="cached"/> set when p is registered but waits in a thread cache
    /// (freed already: a double free).
    /// </summary>
    public static bool Free(void* p, out bool cached)
    {
        s_lock.Enter();
        nuint usable = s_blocks.Get(p);
        cached = usable != 0 && ThreadCaches.IsCached((byte*)p);
        bool found = usable != 0 && !cached && s_blocks.Remove(p);
        if (found)
            s_bytes -= usable;
        s_lock.Exit();
        if (found)
            Libc.Free(p);
        return found;
    }

    /// <summary>
    /// pa_free of a live large block whose thread cache will keep it for a later pa_malloc:
    /// it stays registered (and counted), tagged as cached like a pool block in a cache.
    /// </summary>
    /// <returns>
    /// Its usable size; 0 when it is too large to keep (then it is freed, and
    /// <paramref name="freed"/> is set), or when p is not a live large block: not registered,
    /// or waiting in a cache already (<paramref name="cached"/>: a double free).
    /// </returns>
    public static nuint Keep(void* p, nuint secret, out bool freed, out bool cached)
    {
        s_lock.Enter();
        nuint usable = s_blocks.Get(p);
        cached = usable != 0 && ThreadCaches.IsCached((byte*)p);
        bool live = usable != 0 && !cached;
        if (live && usable <= MaxCached)
        {
            ((nuint*)p)[1] = secret ^ (nuint)p;
            s_lock.Exit();
            freed = false;
            return usable;
        }
        s_lock.Exit();
        freed = live && Free(p, out _);
        return 0;
    }

    /// <summary>
    /// Frees a block a thread cache kept (<see cref="Keep"/>): its tag goes, then the block.
    /// A pointer that is not a kept block is left alone.
    /// </summary>
    public static void ReleaseCached(void* p)
    {
        s_lock.Enter();
        nuint usable = s_blocks.Get(p);
        bool found = usable != 0 && ThreadCaches.IsCached((byte*)p) && s_blocks.Remove(p);
        if (found)
        {
            s_bytes -= usable;
            ((nuint*)p)[1] = 0;
        }
        s_lock.Exit();
        if (found)
            Libc.Free(p);
    }

    /// <summary>
    /// realloc() of the live large block <paramref name="p"/>, keeping the registry right.
    /// </summary>
    /// <returns>The new block, or null when out of memory (then p is unchanged and still registered).</returns>
    /// <remarks>Pre: <see cref="Contains"/>(p).</remarks>
    public static void* Resize(void* p, nuint n)
    {
        s_lock.Enter();
        nuint oldUsable = s_blocks.Get(p);
        void* q = oldUsable != 0 ? Libc.Realloc(p, n) : null;
        if (q != null)
        {
            s_blocks.Remove(p);
            s_bytes -= oldUsable;
            nuint usable = Libc.MallocUsableSize(q);
            if (s_blocks.Set(q, usable))
            {
                s_bytes += usable;
            }
            else
            {
                // Registry full and cannot grow: give up the new block rather than lose track.
                Libc.Free(q);
                q = null;
            }
        }
        s_lock.Exit();
        return q;
    }
}
