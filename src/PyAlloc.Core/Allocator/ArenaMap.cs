using System.Runtime.CompilerServices;
using System.Threading;
using PyAlloc.Core.Platform;

namespace PyAlloc.Core.Allocator;

/* ============================================================================
   The arena map: which addresses are ours

   pa_free receives bare pointers.  Some came from our pools, some from the
   system allocator, and a bad caller may pass anything.  CPython answers
   "is p in an arena?" with a radix tree over the address bits
   (arena_map_is_used) rather than by reading a header in front of p, which
   could fault or read another allocator's memory.  PyAlloc does the same.

   Arenas are 1 MiB-aligned, so an arena is named by address bits 20..47
   (28 bits; user-space addresses on x86-64 and AArch64 are below 2^48).
   The tree has two levels of 2^14 entries: the root (128 KiB of address
   space from mmap, touched only where used) points to leaves, each leaf maps
   2^14 arenas (16 GiB of address space) to their ArenaObject.  Nodes are
   never freed, so a lock-free lookup can never read freed memory; entries
   are written under the arena table's lock and read without any lock.
============================================================================ */

/// <summary>Radix tree from arena addresses to their descriptors.</summary>
internal static unsafe class ArenaMap
{
    internal const int AddressBits = 48;
    private const int KeyBits = AddressBits - Geometry.ArenaBits; // 28
    internal const int LeafBits = 14;
    private const int RootBits = KeyBits - LeafBits;               // 14
    private const int RootLength = 1 << RootBits;
    private const int LeafLength = 1 << LeafBits;

    private static nint s_root; // nint[RootLength]: the leaves (nint[LeafLength] of ArenaObject*)

    /// <summary>The root (for the C thread caches' lock-free lookup), or null before the first arena.</summary>
    public static nint* Root => (nint*)Volatile.Read(ref s_root);

    /// <summary>
    /// The arena that contains <paramref name="p"/>, or null when no arena of ours does.
    /// </summary>
    /// <remarks>
    /// Lock-free; reads only the tree. The answer can be stale by the time the caller
    /// acts on it (another thread may free the arena), so callers re-check the
    /// descriptor under the heap lock before touching the arena's memory.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ArenaObject* Lookup(void* p)
    {
        nuint a = (nuint)p;
        nint* root = (nint*)Volatile.Read(ref s_root);
        if ((a >> AddressBits) != 0 || root == null)
            return null;
        nint leaf = Volatile.Read(ref root[(int)(a >> (Geometry.ArenaBits + LeafBits))]);
        if (leaf == 0)
            return null;
        nuint slot = (a >> Geometry.ArenaBits) & (LeafLength - 1);
        return (ArenaObject*)Volatile.Read(ref ((nint*)leaf)[slot]);
    }

    /// <summary>
    /// Records <paramref name="arena"/> (or clears the entry when null) for the arena at
    /// <paramref name="address"/>. Call with the arena table's lock held.
    /// </summary>
    /// <returns>False when a node could not be mapped (out of memory).</returns>
    public static bool Set(byte* address, ArenaObject* arena)
    {
        nuint a = (nuint)address;
        if ((a >> AddressBits) != 0)
            return false;
        nint* root = (nint*)s_root;
        if (root == null)
        {
            root = (nint*)OsMemory.Map((nuint)(RootLength * sizeof(nint)));
            if (root == null)
                return false;
            Volatile.Write(ref s_root, (nint)root);
            ThreadCaches.Publish();
        }
        ref nint leafRef = ref root[(int)(a >> (Geometry.ArenaBits + LeafBits))];
        nint leaf = leafRef;
        if (leaf == 0)
        {
            if (arena == null)
                return true;
            leaf = (nint)OsMemory.Map((nuint)(LeafLength * sizeof(nint)));
            if (leaf == 0)
                return false;
            Volatile.Write(ref leafRef, leaf);
        }
        nuint slot = (a >> Geometry.ArenaBits) & (LeafLength - 1);
        Volatile.Write(ref ((nint*)leaf)[slot], (nint)arena);
        return true;
    }
}
