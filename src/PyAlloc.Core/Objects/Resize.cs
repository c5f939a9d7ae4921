using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using PyAlloc.Core.Abi;
using PyAlloc.Core.Allocator;
using PyAlloc.Core.Support;

namespace PyAlloc.Core.Objects;

/* ============================================================================
   Resizing a variable-sized object (CPython's _PyObject_GC_Resize)

   CPython reallocates the object's memory, GC head included, to hold
   basicsize + nitems * itemsize bytes, sets ob_size, and returns the object's
   new address (it may move); on overflow or when memory runs out it raises
   MemoryError and the old object is unchanged.  It asserts that the object is
   not tracked: a tracked object's GC head is linked into a generation list,
   and a move would leave its neighbours pointing at freed memory.

   PyAlloc does the same, with its memory layout (ObjectModel.cs):
     [GcHead 16 bytes][object: basicsize + nitems * itemsize]
   from the runtime's heap, and refuses (error set, nothing changed) rather
   than asserts.  What is refused is every pointer to the object the library
   knows of, since they would dangle once the object moves:
     tracked         the generation list (untrack first, as CPython requires);
     weak references the runtime's weakref table, keyed by the object's
                     address (pa_finalize_register makes one too);
     count other     another reference somewhere (a field, a list, gc.garbage,
       than 1        a finaliser's lent one); immortal objects are referenced
                     without counts;
     its finaliser   Lifecycle's stack of objects being finalised holds it.
   An object whose items are references (PA_TPFLAGS_ITEMS_ARE_REFS) may not
   shrink over non-NULL items: the references would be lost (CPython's
   _PyTuple_Resize releases them itself before it resizes).

   The memory, as pymalloc's realloc: a pool block whose size class still
   fits the new size, and is not shrunk by a quarter or more, is kept in
   place; anything else (a large block, the malloc mode, the debug hooks)
   moves: a new block of the runtime's heap, the first min(old, new) bytes
   copied, the old block freed.  Under the debug hooks the old block is
   checked first (a damaged one is reported and left as it is) and always
   replaced by a fresh debug block, whose id and pads are the new size's.
   Growing zeroes the new items (pa_object_new_var's items start zeroed, and
   the collector reads reference items).  The type's live-bytes count follows
   the new size; generation 0's count does not change (the object is the same
   object) and no automatic collection runs, as in CPython.
============================================================================ */

/// <summary>pa_object_gc_resize: CPython's _PyObject_GC_Resize (see the comment above).</summary>
internal static unsafe class ObjectResize
{
    /// <summary>
    /// Resizes the variable-sized object <paramref name="o"/> to <paramref name="nitems"/> items:
    /// its new address (maybe <paramref name="o"/>), or null with the error set and <paramref name="o"/> unchanged.
    /// </summary>
    /// <remarks>
    /// Pre: <paramref name="o"/> is a live object (<see cref="Validation"/>).
    /// Post (success): ob_size = nitems, items 0 .. min(old, new) - 1 and the rest of the object as
    /// they were, new items zeroed, the old address no longer an object when it moved.
    /// Refused: not variable-sized, immortal, a count other than 1, tracked, weakly referenced,
    /// being finalised, a shrink over reference items still set, a size over 2 GiB (the limit of
    /// pa_object_new_var), out of memory.
    /// </remarks>
    public static PaObject* Resize(PaObject* o, nuint nitems, string caller)
    {
        TypeObject* t = o->ObType;
        Runtime* rt = t->Runtime;
        if (!CheckResizable(rt, o, t, nitems, caller))
            return null;
        nuint oldSize = Lifecycle.SizeOf(o);
        nuint newSize = (nuint)sizeof(GcHead) + t->BasicSize + nitems * t->ItemSize;

        GcHead* g = ResizeBlock(rt, GcHead.Of(o), oldSize, newSize, caller);
        if (g == null)
            return null;
        PaObject* r = GcHead.ObjectOf(g);
        ((PaVarObject*)r)->ObSize = (nint)nitems;
        t->LiveBytes = t->LiveBytes - oldSize + newSize;
        return r;
    }

    /* True when o may be resized to nitems items; else false with the error set (see the
       comment above for why each case is refused).  No managed allocation unless refused. */
    private static bool CheckResizable(Runtime* rt, PaObject* o, TypeObject* t, nuint nitems, string caller)
    {
        if (!t->IsVariableSized)
            return Refuse(o, caller, "is not variable-sized (its type's itemsize is 0)");
        if (RefCount.IsImmortal(o))
            return Refuse(o, caller, "is immortal: it may be referenced without counts, and resizing may move it");
        if (o->ObRefcnt != 1)
            return Refuse(o, caller, $"has {o->ObRefcnt} references: resizing may move it, which would leave the others " +
                                     "dangling; only an object with one reference (the caller's) can be resized");
        GcHead* g = GcHead.Of(o);
        if (g->IsTracked)
            return Refuse(o, caller, "is tracked by the collector: untrack it first (pa_gc_untrack), resize it, then " +
                                     "track it again (pa_gc_track), as CPython requires");
        if (g->HasWeakrefs)
            return Refuse(o, caller, "has weak references (or a pa_finalize_register finalizer): they would dangle " +
                                     "if it moved");
        if (rt->Finalizing != null && Lifecycle.IsBeingFinalized(rt, o))
            return Refuse(o, caller, "is being finalised: its finaliser holds its address");
        if (nitems > ((nuint)int.MaxValue - t->BasicSize) / t->ItemSize)
        {
            Errors.Set($"{caller}: {nitems} items of {t->ItemSize} bytes overflow the object size");
            return false;
        }
        nint kept = FirstReferenceItemFrom(o, t, nitems);
        if (kept >= 0)
            return Refuse(o, caller, $"still holds a reference in item {kept}: clear items {nitems} and above " +
                                     $"(pa_clear) before shrinking to {nitems}");
        return true;
    }

    /* Sets "caller: object 0x... of type 'name' reason" and returns false. */
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool Refuse(PaObject* o, string caller, string reason)
    {
        Errors.Set($"{caller}: object {Errors.Hex(o)} of type '{Lifecycle.NameOf(o->ObType)}' {reason}");
        return false;
    }

    /* The first index at or above nitems of a reference item that is not null, or -1
       (always -1 unless the type's items are references). */
    private static nint FirstReferenceItemFrom(PaObject* o, TypeObject* t, nuint nitems)
    {
        if (!t->ItemsAreRefs)
            return -1;
        PaObject** items = (PaObject**)((byte*)o + t->BasicSize);
        nint n = ((PaVarObject*)o)->ObSize;
        for (nint i = (nint)nitems; i < n; i++)
        {
            // Invariants: items nitems .. i - 1 are null.
            if (items[i] != null)
                return i;
        }
        return -1;
    }

    /* The block of the GC head g (oldSize bytes) holding newSize bytes: g itself, or a new
       block with g's first min(oldSize, newSize) bytes (g freed).  Bytes past oldSize are
       zeroed.  Null with the error set when the debug hooks reported the block or memory
       ran out; g is then unchanged. */
    private static GcHead* ResizeBlock(Runtime* rt, GcHead* g, nuint oldSize, nuint newSize, string caller)
    {
        if (KeepsPoolBlock(oldSize, newSize))
        {
            ZeroTail(g, oldSize, newSize);
            return g;
        }
        if (Pymalloc.IsDebug && !ObjectDebugCalls.CheckBlock(g, caller))
            return null;
        byte* moved = (byte*)Runtime.Malloc(rt, newSize, zero: false);
        if (moved == null)
            return (GcHead*)Errors.Null($"{caller}: out of memory resizing an object of {oldSize} bytes to {newSize} bytes");
        Buffer.MemoryCopy(g, moved, newSize, Math.Min(oldSize, newSize));
        ZeroTail(moved, oldSize, newSize);
        Runtime.Free(rt, g);
        return (GcHead*)moved;
    }

    /* pymalloc's rule (Pymalloc.Realloc): a pool block is kept while its size class fits the
       new size, unless that shrinks it by a quarter or more.  Only in pymalloc mode, where
       Runtime.Malloc put every object of up to 512 bytes in a pool block. */
    private static bool KeepsPoolBlock(nuint oldSize, nuint newSize)
    {
        if (!Pymalloc.ObjectPools || oldSize > Geometry.SmallRequestThreshold)
            return false;
        nuint blockSize = Geometry.IndexToSize(Geometry.SizeToIndex(oldSize));
        return newSize <= blockSize && 4 * newSize > 3 * blockSize;
    }

    private static void ZeroTail(void* block, nuint oldSize, nuint newSize)
    {
        if (newSize > oldSize)
            NativeMemory.Clear((byte*)block + oldSize, newSize - oldSize);
    }
}
