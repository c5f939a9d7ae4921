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
============================================================================ */

/// <summary>The system allocator, with a registry of the blocks it served us.</summary>
internal static unsafe class LargeBlocks
{
    private static NativeLock s_lock;
    private static PointerMap s_blocks;   // block -> usable size
    private static nuint s_bytes;

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

    /// <summary>True when <paramref name="p"/> is a live large block.</summary>
    public static bool Contains(void* p)
    {
        s_lock.Enter();
        bool found = s_blocks.Contains(p);
        s_lock.Exit();
        return found;
    }

    /// <summary>Frees <paramref name="p"/> when it is a live large block; false (nothing done) otherwise.</summary>
    public static bool Free(void* p)
    {
        s_lock.Enter();
        nuint usable = s_blocks.Get(p);
        bool found = usable != 0 && s_blocks.Remove(p);
        if (found)
            s_bytes -= usable;
        s_lock.Exit();
        if (found)
            Libc.Free(p);
        return found;
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
