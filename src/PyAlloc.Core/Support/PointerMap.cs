using System.Runtime.InteropServices;

namespace PyAlloc.Core.Support;

/// <summary>
/// A hash map from pointers to pointer-sized values, in native memory: an <see cref="OpenTable{T}"/> of
/// (key, value) entries.
/// </summary>
/// <remarks>
/// Keys are never 0 (that marks an empty slot), which holds for every object or block address; a value of 0
/// cannot be told from "absent" by <see cref="Get"/>. Not thread-safe: the owner serialises access. A zeroed
/// value is an empty, usable map.
/// </remarks>
internal unsafe struct PointerMap
{
    private OpenTable<Entry> _table;

    internal struct Entry : IOpenTableEntry
    {
        public nuint Key;      // 0: empty
        public nuint Value;

        readonly nuint IOpenTableEntry.Key => Key;

        /* Fibonacci hashing of the 16-byte granule number; the top bits are the best mixed. */
        public static nuint Hash(nuint key) => (nuint)(((ulong)key >> 4) * 0x9E3779B97F4A7C15UL >> 24);

        public static nuint FirstCapacity => 64;
    }

    /// <summary>Live keys.</summary>
    public readonly nuint Count => _table.Count;

    /// <summary>The value for <paramref name="key"/>, or 0 when absent.</summary>
    public readonly nuint Get(void* key)
    {
        Entry* e = _table.Find((nuint)key);
        return e != null ? e->Value : 0;
    }

    /// <summary>True when <paramref name="key"/> is present.</summary>
    public readonly bool Contains(void* key) => _table.Find((nuint)key) != null;

    /// <summary>
    /// Adds or replaces; false when the table could not grow (out of memory). Replacing the
    /// value of a present key never grows the table, so it cannot fail.
    /// </summary>
    public bool Set(void* key, nuint value)
    {
        Entry* e = _table.FindOrAdd((nuint)key, out _);
        if (e == null)
            return false;
        *e = new Entry { Key = (nuint)key, Value = value };
        return true;
    }

    /// <summary>Removes <paramref name="key"/>; false when it was absent.</summary>
    public bool Remove(void* key) => _table.Remove((nuint)key, out _);

    /// <summary>Calls <paramref name="visit"/> for every key; the map must not change meanwhile.</summary>
    public readonly void ForEach(delegate*<void*, nuint, void*, void> visit, void* state)
    {
        var adapter = new Visit { Callback = visit, State = state };
        _table.ForEach(ref adapter, &VisitOne);
    }

    private struct Visit
    {
        public delegate*<void*, nuint, void*, void> Callback;
        public void* State;
    }

    private static void VisitOne(ref Visit v, in Entry e) => v.Callback((void*)e.Key, e.Value, v.State);

    /// <summary>Frees the table; the map is empty and usable again.</summary>
    public void Dispose() => _table.Clear();
}
