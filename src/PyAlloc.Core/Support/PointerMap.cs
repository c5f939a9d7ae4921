using System.Runtime.InteropServices;

namespace PyAlloc.Core.Support;

/// <summary>
/// An open-addressing hash map from pointers to pointer-sized values, in native memory.
/// </summary>
/// <remarks>
/// Linear probing with backward-shift deletion: removing a key moves the following
/// entries of its run back, so the table never fills with deletion markers that later
/// lookups must step over (a churning table keeps short runs). The table doubles at
/// three-quarters load. Keys are never 0 (that marks an empty slot), which holds for
/// every object or block address; a value of 0 cannot be told from "absent" by
/// <see cref="Get"/>. Not thread-safe: the owner serialises access. A zeroed value is an
/// empty, usable map.
/// </remarks>
internal unsafe struct PointerMap
{
    private Entry* _slots;
    private nuint _capacity;   // a power of two, or 0
    private nuint _count;

    private struct Entry
    {
        public nuint Key;      // 0: empty
        public nuint Value;
    }

    /// <summary>Live keys.</summary>
    public readonly nuint Count => _count;

    /// <summary>The value for <paramref name="key"/>, or 0 when absent.</summary>
    public readonly nuint Get(void* key)
    {
        Entry* e = Find((nuint)key);
        return e != null ? e->Value : 0;
    }

    /// <summary>True when <paramref name="key"/> is present.</summary>
    public readonly bool Contains(void* key) => Find((nuint)key) != null;

    /// <summary>
    /// Adds or replaces; false when the table could not grow (out of memory). Replacing the
    /// value of a present key never grows the table, so it cannot fail.
    /// </summary>
    public bool Set(void* key, nuint value)
    {
        Entry* e = Find((nuint)key);
        if (e != null)
        {
            e->Value = value;
            return true;
        }
        if ((_count + 1) * 4 > _capacity * 3 && !Grow())
            return false;
        nuint mask = _capacity - 1;
        nuint i = Hash((nuint)key) & mask;
        while (_slots[i].Key != 0)
            i = (i + 1) & mask; // Invariants: the slots from Hash(key) to i hold other keys.
        _slots[i] = new Entry { Key = (nuint)key, Value = value };
        _count++;
        return true;
    }

    /// <summary>Removes <paramref name="key"/>; false when it was absent.</summary>
    public bool Remove(void* key)
    {
        Entry* e = Find((nuint)key);
        if (e == null)
            return false;
        nuint mask = _capacity - 1;
        nuint hole = (nuint)(e - _slots);
        for (nuint j = (hole + 1) & mask; _slots[j].Key != 0; j = (j + 1) & mask)
        {
            // Invariants: every entry between the hole and j can be found from its home slot.
            nuint home = Hash(_slots[j].Key) & mask;
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

    /// <summary>Calls <paramref name="visit"/> for every key; the map must not change meanwhile.</summary>
    public readonly void ForEach(delegate*<void*, nuint, void*, void> visit, void* state)
    {
        for (nuint i = 0; i < _capacity; i++)
        {
            if (_slots[i].Key != 0)
                visit((void*)_slots[i].Key, _slots[i].Value, state);
        }
    }

    /// <summary>Frees the table; the map is empty and usable again.</summary>
    public void Dispose()
    {
        NativeMemory.Free(_slots);
        this = default;
    }

    private readonly Entry* Find(nuint key)
    {
        if (_capacity == 0)
            return null;
        nuint mask = _capacity - 1;
        for (nuint i = Hash(key) & mask; _slots[i].Key != 0; i = (i + 1) & mask)
        {
            // Invariants: every slot from Hash(key) to i holds another key.
            if (_slots[i].Key == key)
                return &_slots[i];
        }
        return null;
    }

    private bool Grow()
    {
        nuint capacity = _capacity == 0 ? 64 : _capacity * 2;
        Entry* slots = (Entry*)NativeMemory.AllocZeroed(capacity, (nuint)sizeof(Entry));
        if (slots == null)
            return false;
        nuint mask = capacity - 1;
        for (nuint j = 0; j < _capacity; j++)
        {
            if (_slots[j].Key == 0)
                continue;
            nuint i = Hash(_slots[j].Key) & mask;
            while (slots[i].Key != 0)
                i = (i + 1) & mask;
            slots[i] = _slots[j];
        }
        NativeMemory.Free(_slots);
        _slots = slots;
        _capacity = capacity;
        return true;
    }

    /* Fibonacci hashing of the 16-byte granule number; the top bits are the best mixed. */
    private static nuint Hash(nuint key) => (nuint)(((ulong)key >> 4) * 0x9E3779B97F4A7C15UL >> 24);
}
