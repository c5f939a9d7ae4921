using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace PyAlloc.Core.Support;

/* ============================================================================
   OpenTable: the one open-addressing hash table of the core, in native memory

   Keys are addresses (never 0: 0 marks an empty slot).  Linear probing;
   deletion shifts the rest of the run back (no tombstones), so a table that
   churns keeps short runs and a lookup stops at the first empty slot.  The
   table doubles at three-quarters load.  What an entry holds besides its key,
   and how keys are hashed, is the entry type's business
   (IOpenTableEntry): PointerMap's address -> value entries, and tracemalloc's
   trace table (TraceTable: block -> size and traceback, hashed so that an
   allocation loop touches neighbouring slots).  Not thread-safe: the owner
   serialises access.  A zeroed OpenTable is an empty, usable table.
============================================================================ */

/// <summary>An entry of an <see cref="OpenTable{T}"/>: its key, and how the table hashes keys.</summary>
internal interface IOpenTableEntry
{
    /// <summary>The entry's key; 0 for an empty slot.</summary>
    nuint Key { get; }

    /// <summary>The key's hash; the table keeps its low bits.</summary>
    static abstract nuint Hash(nuint key);

    /// <summary>The slots a table of this entry type starts with (a power of two).</summary>
    static abstract nuint FirstCapacity { get; }
}

/// <summary>Open addressing with linear probing and backward-shift deletion (see the banner above).</summary>
internal unsafe struct OpenTable<T> where T : unmanaged, IOpenTableEntry
{
    private T* _slots;
    private nuint _capacity;   // a power of two, or 0
    private nuint _count;

    /// <summary>Live entries.</summary>
    public readonly nuint Count => _count;

    /// <summary>The table's own memory.</summary>
    public readonly nuint MemoryBytes => _capacity * (nuint)sizeof(T);

    /// <summary>The entry of <paramref name="key"/>, or null.</summary>
    public readonly T* Find(nuint key)
    {
        if (_capacity == 0)
            return null;
        nuint mask = _capacity - 1;
        for (nuint i = T.Hash(key) & mask; _slots[i].Key != 0; i = (i + 1) & mask)
        {
            // Invariants: every slot from Hash(key) to i holds another key.
            if (_slots[i].Key == key)
                return &_slots[i];
        }
        return null;
    }

    /// <summary>
    /// The entry of <paramref name="key"/> (<paramref name="found"/>), or else a new, zeroed slot for it, counted
    /// already: the caller must store the whole entry there, its key <paramref name="key"/> included. Null when the
    /// table could not grow (out of memory); a key already present never grows the table.
    /// </summary>
    public T* FindOrAdd(nuint key, out bool found)
    {
        T* e = Find(key);
        found = e != null;
        if (found)
            return e;
        if ((_count + 1) * 4 > _capacity * 3 && !Grow())
            return null;
        nuint mask = _capacity - 1;
        nuint i = T.Hash(key) & mask;
        while (_slots[i].Key != 0)
            i = (i + 1) & mask; // Invariants: the slots from Hash(key) to i hold other keys.
        _count++;
        return &_slots[i];
    }

    /// <summary>Removes <paramref name="key"/>'s entry into <paramref name="removed"/>; false when it was absent.</summary>
    public bool Remove(nuint key, out T removed)
    {
        T* e = Find(key);
        if (e == null)
        {
            removed = default;
            return false;
        }
        removed = *e;
        nuint mask = _capacity - 1;
        nuint hole = (nuint)(e - _slots);
        for (nuint j = (hole + 1) & mask; _slots[j].Key != 0; j = (j + 1) & mask)
        {
            // Invariants: every entry between the hole and j can be found from its home slot.
            nuint home = T.Hash(_slots[j].Key) & mask;
            // Move j back into the hole unless its home lies cyclically in (hole, j].
            bool homeAfterHole = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
            if (!homeAfterHole)
            {
                _slots[hole] = _slots[j];
                hole = j;
            }
        }
        _slots[hole] = default;
        _count--;
        return true;
    }

    /// <summary>Calls <paramref name="visit"/> for every entry; the table must not change meanwhile.</summary>
    public readonly void ForEach<TState>(ref TState state, delegate*<ref TState, in T, void> visit)
    {
        for (nuint i = 0; i < _capacity; i++)
        {
            if (_slots[i].Key != 0)
                visit(ref state, in _slots[i]);
        }
    }

    /// <summary>Frees the slots: the table is empty and usable again.</summary>
    public void Clear()
    {
        NativeMemory.Free(_slots);
        this = default;
    }

    /* Doubles the table (from 3/4 full to 3/8), re-placing every entry. */
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool Grow()
    {
        nuint capacity = _capacity == 0 ? T.FirstCapacity : _capacity * 2;
        T* slots = (T*)NativeMemory.AllocZeroed(capacity, (nuint)sizeof(T));
        if (slots == null)
            return false;
        nuint mask = capacity - 1;
        for (nuint j = 0; j < _capacity; j++)
        {
            if (_slots[j].Key == 0)
                continue;
            nuint i = T.Hash(_slots[j].Key) & mask;
            while (slots[i].Key != 0)
                i = (i + 1) & mask;
            slots[i] = _slots[j];
        }
        NativeMemory.Free(_slots);
        _slots = slots;
        _capacity = capacity;
        return true;
    }
}
