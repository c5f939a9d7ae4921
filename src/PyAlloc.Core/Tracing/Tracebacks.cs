using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using PyAlloc.Core.Support;

namespace PyAlloc.Core.Tracing;

/* ============================================================================
   tracemalloc: frames, tracebacks and their interning

   A frame is where an allocation was asked for: a named site (file and
   line, from the _at calls) or a code address (the caller of pa_malloc &
   co., resolved to a name only when a snapshot is taken).  A traceback is
   up to nframe frames, the allocation site first.

   As CPython's _tracemalloc, tracebacks are interned: a million traces from
   the same line share one Traceback, so a trace costs one table entry
   (block, size, traceback) and nothing more.  The interning table chains by
   hash; tracebacks live until tracing stops or traces are cleared.
============================================================================ */

/// <summary>One frame: a named site (<see cref="File"/> set) or a code address.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct TraceFrame
{
    public byte* File;       // the caller's string (must outlive tracing), or null
    public nuint Address;    // code address when File is null
    public int Line;

    public readonly bool Equals(in TraceFrame other) =>
        File == other.File && Address == other.Address && Line == other.Line;
}

/// <summary>An interned traceback; its frames follow the header in the same block.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct Traceback
{
    public Traceback* NextInBucket;
    public uint Hash;
    public int FrameCount;

    public TraceFrame* Frames => (TraceFrame*)((byte*)Unsafe.AsPointer(ref this) + sizeof(Traceback));
}

/// <summary>The interning table of tracebacks (guarded by the tracer's lock).</summary>
internal unsafe struct TracebackTable
{
    private Traceback** _buckets;
    private nuint _bucketCount;   // a power of two, or 0
    private nuint _count;

    /// <summary>Bytes the table and its tracebacks take.</summary>
    public nuint MemoryBytes;

    /// <summary>The interned copy of frames[0..count), made when new; null when out of memory.</summary>
    public Traceback* Intern(TraceFrame* frames, int count)
    {
        uint hash = HashOf(frames, count);
        if (_bucketCount == 0 || _count >= _bucketCount)
        {
            if (!Grow())
                return null;
        }
        nuint bucket = hash & (_bucketCount - 1);
        for (Traceback* t = _buckets[bucket]; t != null; t = t->NextInBucket)
        {
            // Invariants: no traceback before t in the bucket equals the frames.
            if (t->Hash == hash && t->FrameCount == count && SameFrames(t->Frames, frames, count))
                return t;
        }
        nuint bytes = (nuint)(sizeof(Traceback) + count * sizeof(TraceFrame));
        Traceback* made = (Traceback*)NativeMemory.Alloc(bytes);
        if (made == null)
            return null;
        made->Hash = hash;
        made->FrameCount = count;
        NativeMemory.Copy(frames, made->Frames, (nuint)(count * sizeof(TraceFrame)));
        made->NextInBucket = _buckets[bucket];
        _buckets[bucket] = made;
        _count++;
        MemoryBytes += bytes;
        return made;
    }

    /// <summary>Frees every traceback: every Traceback* handed out dies.</summary>
    public void Clear()
    {
        for (nuint i = 0; i < _bucketCount; i++)
        {
            for (Traceback* t = _buckets[i]; t != null;)
            {
                Traceback* next = t->NextInBucket;
                NativeMemory.Free(t);
                t = next;
            }
        }
        NativeMemory.Free(_buckets);
        this = default;
    }

    private bool Grow()
    {
        nuint count = _bucketCount == 0 ? 1024 : _bucketCount * 2;
        var buckets = (Traceback**)NativeMemory.AllocZeroed(count, (nuint)sizeof(Traceback*));
        if (buckets == null)
            return _bucketCount != 0; // keep going with long chains
        for (nuint i = 0; i < _bucketCount; i++)
        {
            for (Traceback* t = _buckets[i]; t != null;)
            {
                Traceback* next = t->NextInBucket;
                nuint b = t->Hash & (count - 1);
                t->NextInBucket = buckets[b];
                buckets[b] = t;
                t = next;
            }
        }
        MemoryBytes += (count - _bucketCount) * (nuint)sizeof(Traceback*);
        NativeMemory.Free(_buckets);
        _buckets = buckets;
        _bucketCount = count;
        return true;
    }

    private static bool SameFrames(TraceFrame* a, TraceFrame* b, int count)
    {
        for (int i = 0; i < count; i++)
        {
            if (!a[i].Equals(in b[i]))
                return false;
        }
        return true;
    }

    private static uint HashOf(TraceFrame* frames, int count)
    {
        ulong h = 0xCBF29CE484222325UL;
        for (int i = 0; i < count; i++)
        {
            h = (h ^ (ulong)frames[i].File) * 0x100000001B3UL;
            h = (h ^ frames[i].Address) * 0x100000001B3UL;
            h = (h ^ (uint)frames[i].Line) * 0x100000001B3UL;
        }
        return (uint)(h ^ (h >> 32));
    }
}

/// <summary>
/// The live traces: block address to (size, traceback), in the core's one open-addressing
/// table (<see cref="OpenTable{T}"/>), with a hash of its own.
/// </summary>
/// <remarks>
/// No tombstones: removing a trace moves the following entries of its run back, so a
/// program that frees all its blocks and allocates again finds short runs, not a table
/// full of markers to step over (that was 24% of a traced allocation loop).
/// </remarks>
internal unsafe struct TraceTable
{
    public struct Entry : IOpenTableEntry
    {
        public nuint Block;       // 0 for an empty slot
        public nuint Size;
        public Traceback* Traceback;

        readonly nuint IOpenTableEntry.Key => Block;

        /* Blocks within one KiB of each other land in neighbouring slots (an allocation loop
           touches the same cache lines of the table); the KiB neighbourhoods themselves are
           scattered by Fibonacci hashing, so dense pools do not form runs that merge. */
        public static nuint Hash(nuint key) =>
            (nuint)((((ulong)key >> 10) * 0x9E3779B97F4A7C15UL >> 24 << 6) | (((ulong)key >> 4) & 63));

        /* 24-byte entries: 96 KiB at first, then 32 to 64 bytes per trace. */
        public static nuint FirstCapacity => 4096;
    }

    private OpenTable<Entry> _table;

    public readonly nuint Count => _table.Count;
    public readonly nuint MemoryBytes => _table.MemoryBytes;

    /// <summary>Adds or replaces the trace of block; false when the table cannot grow.</summary>
    public bool Set(void* block, nuint size, Traceback* traceback, out nuint replacedSize)
    {
        Entry* e = _table.FindOrAdd((nuint)block, out bool found);
        replacedSize = found ? e->Size : 0;
        if (e == null)
            return false;
        *e = new Entry { Block = (nuint)block, Size = size, Traceback = traceback };
        return true;
    }

    /// <summary>Removes the trace of block; its size, or 0 when it was not traced.</summary>
    public nuint Remove(void* block) => _table.Remove((nuint)block, out Entry removed) ? removed.Size : 0;

    public readonly Entry* Find(nuint block) => _table.Find(block);

    /// <summary>Calls visit for every trace; the table must not change meanwhile.</summary>
    public readonly void ForEach<TState>(ref TState state, delegate*<ref TState, in Entry, void> visit) =>
        _table.ForEach(ref state, visit);

    public void Clear() => _table.Clear();
}
