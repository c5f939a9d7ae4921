using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using PyAlloc.Core.Abi;
using PyAlloc.Core.Support;

namespace PyAlloc.Core.Objects;

/* ============================================================================
   The built-in list: CPython's list, as far as the article needs it

   A GC object holding a growable array of references (the array itself
   comes from the runtime's heap).  Orders follow CPython because finalisers
   can see them: traversal, clearing and deallocation all go from the last
   item to the first (list_traverse, _list_clear, list_dealloc); growth
   over-allocates as list_resize does.
============================================================================ */

/// <summary>The layout of a list object.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ListObject
{
    public PaVarObject Base;       // ob_size: number of items
    public PaObject** Items;
    public nint Allocated;

    /// <summary>The runtime's list type.</summary>
    public static TypeObject* CreateType(Runtime* rt)
    {
        PaTypeSpec spec = default;
        spec.Name = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference("list"u8));
        spec.Basicsize = (nuint)sizeof(ListObject);
        spec.Flags = TypeObject.FlagHaveGc;
        spec.Traverse = (delegate* unmanaged[Cdecl]<PaObject*, delegate* unmanaged[Cdecl]<PaObject*, void*, int>, void*, int>)1; // a placeholder that passes validation: lists are traversed in C#
        TypeObject* t = TypeObject.Create(rt, &spec, TypeKind.List);
        if (t != null)
            t->Traverse = null;
        return t;
    }

    public static bool Check(PaObject* o) => o != null && o->ObType->Kind == TypeKind.List;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Traverse<T>(PaObject* o, ref T visitor) where T : struct, IVisitor
    {
        ListObject* l = (ListObject*)o;
        for (nint i = l->Base.ObSize; --i >= 0;)
        {
            PaObject* item = l->Items[i];
            int r;
            if (item != null && (r = visitor.Visit(item)) != 0)
                return r;
        }
        return 0;
    }

    /// <summary>pa_list_append: the list takes its own reference. 0, or -1 when out of memory.</summary>
    public static int Append(PaObject* o, PaObject* item)
    {
        ListObject* l = (ListObject*)o;
        nint n = l->Base.ObSize;
        if (n == l->Allocated && !Resize(l, n + 1))
            return Errors.Fail("pa_list_append: out of memory");
        RefCount.Incref(item);
        l->Items[n] = item;
        l->Base.ObSize = n + 1;
        return 0;
    }

    /// <summary>pa_list_size: the number of items of the list <paramref name="o"/>.</summary>
    public static nuint Size(PaObject* o) => (nuint)((ListObject*)o)->Base.ObSize;

    /// <summary>
    /// True when <paramref name="i"/> is an index of the list <paramref name="o"/>; else false with
    /// "<paramref name="caller"/>: index i out of range (size n)".
    /// </summary>
    public static bool CheckIndex(PaObject* o, nuint i, string caller)
    {
        nint size = ((ListObject*)o)->Base.ObSize;
        if (i < (nuint)size)
            return true;
        Errors.Set($"{caller}: index {i} out of range (size {size})");
        return false;
    }

    /// <summary>pa_list_get: item <paramref name="i"/> (a borrowed reference), or null with the error set when out of range.</summary>
    public static PaObject* GetItem(PaObject* o, nuint i) =>
        CheckIndex(o, i, "pa_list_get") ? ((ListObject*)o)->Items[i] : null;

    /// <summary>pa_list_set: the list takes its own reference and drops the old one.</summary>
    public static void Set(PaObject* o, nint i, PaObject* item)
    {
        ListObject* l = (ListObject*)o;
        RefCount.Incref(item);
        PaObject* old = l->Items[i];
        l->Items[i] = item;
        RefCount.XDecref(old);
    }

    /// <summary>_list_clear: empties the list first, then releases the items, last first.</summary>
    public static void ClearItems(PaObject* o)
    {
        ListObject* l = (ListObject*)o;
        PaObject** items = l->Items;
        if (items == null)
            return;
        nint i = l->Base.ObSize;
        l->Base.ObSize = 0;
        l->Items = null;
        l->Allocated = 0;
        while (--i >= 0)
            RefCount.XDecref(items[i]);
        Runtime.Free(o->ObType->Runtime, items);
    }

    /// <summary>list_dealloc's part: release the items, last first, and the array.</summary>
    public static void ReleaseItems(PaObject* o) => ClearItems(o);

    /// <summary>
    /// list_dealloc's release for Lifecycle's chain following: the items from the last down to
    /// the second are released (their deaths nested, as usual); the first is released too, but
    /// when its count reaches zero its death is left to the caller.  The item array stays
    /// (<see cref="FreeItemArray"/> frees it after that death, as list_dealloc does).
    /// </summary>
    /// <returns>The first item when its count reached zero (not yet untracked), else null.</returns>
    /// <remarks>Pre: o is a dead list (count 0, untracked): nothing reads it but this death.</remarks>
    public static PaObject* ReleaseItemsButFirstDeath(PaObject* o)
    {
        ListObject* l = (ListObject*)o;
        PaObject** items = l->Items;
        nint n = l->Base.ObSize;
        l->Base.ObSize = 0;
        l->Allocated = 0;
        if (items == null || n == 0)
            return null;
        for (nint i = n; --i > 0;)
            RefCount.XDecref(items[i]); // Invariants: the items after i are released.
        PaObject* first = items[0];
        if (first == null || RefCount.IsImmortal(first) || --first->ObRefcnt != 0)
            return null;
        return first;
    }

    /// <summary>The end of a followed death: the item array goes back.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void FreeItemArray(PaObject* o)
    {
        ListObject* l = (ListObject*)o;
        if (l->Items != null)
        {
            Runtime.Free(o->ObType->Runtime, l->Items);
            l->Items = null;
        }
    }

    /* list_resize's growth: room for newSize plus about an eighth. */
    private static bool Resize(ListObject* l, nint newSize)
    {
        nint allocated = (newSize + (newSize >> 3) + 6) & ~(nint)3;
        Runtime* rt = l->Base.ObBase.ObType->Runtime;
        PaObject** items = (PaObject**)Runtime.Malloc(rt, (nuint)allocated * (nuint)sizeof(PaObject*), zero: false);
        if (items == null)
            return false;
        if (l->Items != null)
        {
            Buffer.MemoryCopy(l->Items, items, allocated * sizeof(PaObject*), l->Base.ObSize * sizeof(PaObject*));
            Runtime.Free(rt, l->Items);
        }
        l->Items = items;
        l->Allocated = allocated;
        return true;
    }
}
