using System.Runtime.InteropServices;
using PyAlloc.Core.Platform;
using PyAlloc.Core.Support;

namespace PyAlloc.Core.Allocator;

/* ============================================================================
   Large blocks: requests over 512 bytes, served by the system allocator

   pa_free must refuse a pointer PyAlloc never handed out instead of passing
   it to free(), which would corrupt the C heap or abort.  Pool blocks are
   recognised by the arena map; large blocks by this registry: an open-
   addressing hash set of the live large pointers (linear probing,
   tombstones, grown at half load).  Its cost is a hash probe under a lock per
   large malloc and free, small beside the system call it accompanies.
============================================================================ */

/// <summary>The system allocator, with a registry of the blocks it served us.</summary>
internal static unsafe class LargeBlocks
{
    private const nuint Empty = 0, Tombstone = 1;

    private static NativeLock s_lock;
    private static nuint* s_slots;
    private static nuint s_capacity;   // a power of two, or 0 before the first block
    private static nuint s_count, s_tombstones;
    private static nuint s_bytes;

    /// <summary>Live large blocks.</summary>
    public static nuint Count => s_count;
    /// <summary>Their usable bytes.</summary>
    public static nuint Bytes => s_bytes;

    /// <summary>A registered block from malloc (or calloc when <paramref name="zero"/>); null when out of memory.</summary>
    public static void* Allocate(nuint n, bool zero)
    {
        void* p = zero ? Libc.Calloc(1, n) : Libc.Malloc(n);
        if (p == null)
            return null;
        s_lock.Enter();
        bool registered = Insert((nuint)p);
        if (registered)
            s_bytes += Libc.MallocUsableSize(p);
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
        bool found = Find((nuint)p) != null;
        s_lock.Exit();
        return found;
    }

    /// <summary>Frees <paramref name="p"/> when it is a live large block; false (nothing done) otherwise.</summary>
    public static bool Free(void* p)
    {
        s_lock.Enter();
        nuint* slot = Find((nuint)p);
        if (slot == null)
        {
            s_lock.Exit();
            return false;
        }
        *slot = Tombstone;
        s_count--;
        s_tombstones++;
        s_bytes -= Libc.MallocUsableSize(p);
        s_lock.Exit();
        Libc.Free(p);
        return true;
    }

    /// <summary>
    /// realloc() of the live large block <paramref name="p"/>, keeping the registry right.
    /// </summary>
    /// <returns>The new block, or null when out of memory (then p is unchanged and still registered).</returns>
    /// <remarks>Pre: <see cref="Contains"/>(p).</remarks>
    public static void* Resize(void* p, nuint n)
    {
        s_lock.Enter();
        nuint* slot = Find((nuint)p);
        nuint oldUsable = Libc.MallocUsableSize(p);
        void* q = slot != null ? Libc.Realloc(p, n) : null;
        if (q != null)
        {
            *slot = Tombstone;
            s_count--;
            s_tombstones++;
            s_bytes -= oldUsable;
            if (Insert((nuint)q))
            {
                s_bytes += Libc.MallocUsableSize(q);
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

    // Pre: s_lock held. The slot holding key, or null.
    private static nuint* Find(nuint key)
    {
        if (s_capacity == 0)
            return null;
        nuint mask = s_capacity - 1;
        for (nuint i = Hash(key) & mask; ; i = (i + 1) & mask)
        {
            // Invariants: every slot from Hash(key) to i holds another key or a tombstone.
            nuint v = s_slots[i];
            if (v == key)
                return &s_slots[i];
            if (v == Empty)
                return null;
        }
    }

    // Pre: s_lock held; key not present. False when the table cannot grow.
    private static bool Insert(nuint key)
    {
        if ((s_count + s_tombstones + 1) * 2 > s_capacity && !Rehash())
            return false;
        nuint mask = s_capacity - 1;
        nuint i = Hash(key) & mask;
        while (s_slots[i] > Tombstone)
            i = (i + 1) & mask;
        if (s_slots[i] == Tombstone)
            s_tombstones--;
        s_slots[i] = key;
        s_count++;
        return true;
    }

    // Pre: s_lock held. Rebuilds the table without tombstones, doubling it when live keys need room.
    private static bool Rehash()
    {
        nuint capacity = s_capacity == 0 ? 1024 : s_capacity;
        while ((s_count + 1) * 4 > capacity)
            capacity *= 2;
        nuint* slots = (nuint*)NativeMemory.AllocZeroed(capacity, (nuint)sizeof(nuint));
        if (slots == null)
            return false;
        nuint mask = capacity - 1;
        for (nuint j = 0; j < s_capacity; j++)
        {
            nuint key = s_slots[j];
            if (key <= Tombstone)
                continue;
            nuint i = Hash(key) & mask;
            while (slots[i] != Empty)
                i = (i + 1) & mask;
            slots[i] = key;
        }
        NativeMemory.Free(s_slots);
        s_slots = slots;
        s_capacity = capacity;
        s_tombstones = 0;
        return true;
    }

    private static nuint Hash(nuint key) => (nuint)(((ulong)key >> 4) * 0x9E3779B97F4A7C15UL >> 20);
}
