using System.Runtime.InteropServices;

namespace PyAlloc.Core.Support;

/// <summary>
/// An open-addressing hash map from pointers to pointer-sized values, in native memory.
/// </summary>
/// <remarks>
/// Linear probing with tombstones; the table doubles at half load and is rebuilt
/// without tombstones when they pile up. Keys are never 0 or 1 (those mark empty and
/// deleted slots), which holds for every object or block address. Not thread-safe:
/// the owner serialises access. A zeroed value is an empty, usable map.
/// </remarks>
internal unsafe struct PointerMap
{
    private const nuint Empty = 0, Tombstone = 1;

    private Entry* _slots;
    private nuint _capacity;   // a power of two, or 0
    private nuint _count, _tombstones;

    private struct Entry
    {
        public nuint Key;
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

    /// <summary>Adds or replaces; false when the table could not grow (out of memory).</summary>
    public bool Set(void* key, nuint value)
    {
        Entry* e = Find((nuint)key);
        if (e != null)
        {
            e->Value = value;
            return true;
        }
        if ((_count + _tombstones + 1) * 2 > _capacity && !Rehash())
            return false;
        nuint mask = _capacity - 1;
        nuint i = Hash((nuint)key) & mask;
        while (_slots[i].Key > Tombstone)
            i = (i + 1) & mask;
        if (_slots[i].Key == Tombstone)
            _tombstones--;
        _slots[i].Key = (nuint)key;
        _slots[i].Value = value;
        _count++;
        return true;
    }

    /// <summary>Removes <paramref name="key"/>; false when it was absent.</summary>
    public bool Remove(void* key)
    {
        Entry* e = Find((nuint)key);
        if (e == null)
            return false;
        e->Key = Tombstone;
        e->Value = 0;
        _count--;
        _tombstones++;
        return true;
    }

    /// <summary>Calls <paramref name="visit"/> for every key; the map must not change meanwhile.</summary>
    public readonly void ForEach(delegate*<void*, nuint, void*, void> visit, void* state)
    {
        for (nuint i = 0; i < _capacity; i++)
        {
            if (_slots[i].Key > Tombstone)
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
        for (nuint i = Hash(key) & mask; ; i = (i + 1) & mask)
        {
            // Invariants: every slot from Hash(key) to i holds another key or a tombstone.
            nuint k = _slots[i].Key;
            if (k == key)
                return &_slots[i];
            if (k == Empty)
                return null;
        }
    }

    private bool Rehash()
    {
        nuint capacity = _capacity == 0 ? 64 : _capacity;
        while ((_count + 1) * 4 > capacity)
            capacity *= 2;
        Entry* slots = (Entry*)NativeMemory.AllocZeroed(capacity, (nuint)sizeof(Entry));
        if (slots == null)
            return false;
        nuint mask = capacity - 1;
        for (nuint j = 0; j < _capacity; j++)
        {
            if (_slots[j].Key <= Tombstone)
                continue;
            nuint i = Hash(_slots[j].Key) & mask;
            while (slots[i].Key != Empty)
                i = (i + 1) & mask;
            slots[i] = _slots[j];
        }
        NativeMemory.Free(_slots);
        _slots = slots;
        _capacity = capacity;
        _tombstones = 0;
        return true;
    }

    private static nuint Hash(nuint key) => (nuint)(((ulong)key >> 4) * 0x9E3779B97F4A7C15UL >> 20);
}
