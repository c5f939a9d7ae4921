using System.Runtime.CompilerServices;
using PyAlloc.Core.Abi;

namespace PyAlloc.Core.Objects;

/* ============================================================================
   Traversal: finding an object's references

   The collector visits references millions of times, so it must not pay a
   call into C per object where the layout says where the references are.
   Built-in types (list, weakref) and types with ref_offsets are traversed
   here, in C#, reading the fields directly; only a type whose layout
   offsets cannot describe gets its C traverse called, with a visit function
   that is, inside libpyalloc.so, the visitor's C twin (GcNative.cs,
   native/entry/gc_visit.c: no entry into managed code per reference), and
   elsewhere its [UnmanagedCallersOnly] trampoline.

   A visitor is a struct implementing IVisitor; Traverse.Visit<T> is
   specialised for each, so the visit inlines into the field loop.
============================================================================ */

/// <summary>What the collector does with each reference it finds.</summary>
internal unsafe interface IVisitor
{
    /// <summary>Called with every non-null reference; non-zero stops the traversal.</summary>
    int Visit(PaObject* o);

    /// <summary>The C-callable twin of <see cref="Visit"/>, for C traverse functions.</summary>
    static abstract delegate* unmanaged<PaObject*, void*, int> Trampoline { get; }

    /// <summary>
    /// The same visit in C (native/entry/gc_visit.c, taking the visitor struct as its arg), or
    /// null: outside libpyalloc.so, or for a visitor that has none.
    /// </summary>
    static abstract delegate* unmanaged<PaObject*, void*, int> NativeVisit { get; }
}

/// <summary>Visiting, clearing and releasing the references an object owns.</summary>
internal static unsafe class Traverse
{
    /// <summary>Visits every reference of <paramref name="o"/> in the type's order.</summary>
    /// <returns>The first non-zero result of the visitor, or 0.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Visit<T>(PaObject* o, ref T visitor) where T : struct, IVisitor
    {
        TypeObject* t = o->ObType;
        if (t->OffsetsOnly)
            return VisitFields(o, t->RefOffsets, ref visitor);
        if (t->Kind == TypeKind.List)
            return ListObject.Traverse(o, ref visitor);
        if (t->Kind == TypeKind.Weakref)
            return 0; // a weakref's callback is C code, not an object
        int r;
        nuint* offsets = t->RefOffsets;
        if (offsets != null)
        {
            for (; *offsets != 0; offsets++)
            {
                PaObject* field = *(PaObject**)((byte*)o + *offsets);
                if (field != null && (r = visitor.Visit(field)) != 0)
                    return r;
            }
        }
        if (t->ItemsAreRefs)
        {
            PaObject** items = (PaObject**)((byte*)o + t->BasicSize);
            nint n = ((PaVarObject*)o)->ObSize;
            for (nint i = 0; i < n; i++)
            {
                if (items[i] != null && (r = visitor.Visit(items[i])) != 0)
                    return r;
            }
        }
        if (t->Traverse != null)
            return CallTraverse(o, t->Traverse, ref visitor);
        return 0;
    }

    /* A C traverse: with the visitor's C procedure and no GC transition when the library has
       one (the traversal never enters managed code), else with its managed trampoline. */
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int CallTraverse<T>(PaObject* o, delegate* unmanaged<PaObject*, void*, void*, int> traverse, ref T visitor)
        where T : struct, IVisitor
    {
        delegate* unmanaged<PaObject*, void*, int> native = T.NativeVisit;
        void* arg = Unsafe.AsPointer(ref visitor);
        if (native != null)
            return GcNative.CallTraverse(traverse, o, native, arg);
        return traverse(o, T.Trampoline, arg);
    }

    /* The ref_offsets fields of o, in order.  Pre: offsets is the type's list, ended by 0. */
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int VisitFields<T>(PaObject* o, nuint* offsets, ref T visitor) where T : struct, IVisitor
    {
        int r;
        for (; *offsets != 0; offsets++)
        {
            PaObject* field = *(PaObject**)((byte*)o + *offsets);
            if (field != null && (r = visitor.Visit(field)) != 0)
                return r;
        }
        return 0;
    }

    /// <summary>
    /// The collector's tp_clear: the type's clear, then the library's own references
    /// (ref_offsets fields and reference items) cleared.
    /// </summary>
    public static void Clear(PaObject* o)
    {
        TypeObject* t = o->ObType;
        switch (t->Kind)
        {
            case TypeKind.List:
                ListObject.ClearItems(o);
                return;
            case TypeKind.Weakref:
                WeakrefObject.ClearForCollector(o);
                return;
        }
        if (t->ClearFn != null)
            t->ClearFn(o);
        ClearOwnedFields(o, t);
    }

    /// <summary>After dealloc: releases the references the library owns (step 6 of a death).</summary>
    public static void ReleaseOwnedReferences(PaObject* o)
    {
        TypeObject* t = o->ObType;
        switch (t->Kind)
        {
            case TypeKind.List:
                ListObject.ReleaseItems(o);
                return;
            case TypeKind.Weakref:
                WeakrefObject.Unlink(o);
                return;
        }
        ClearOwnedFields(o, t);
    }

    /// <summary>
    /// Releases the ref_offsets fields and reference items of <paramref name="o"/>, each slot
    /// nulled before its reference goes: a plain death's step 6 (Lifecycle), inline there;
    /// also the end of the collector's clear and of any other death.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ClearOwnedFields(PaObject* o, TypeObject* t)
    {
        nuint* offsets = t->RefOffsets;
        if (offsets != null)
        {
            for (; *offsets != 0; offsets++)
                RefCount.Clear((PaObject**)((byte*)o + *offsets));
        }
        if (t->ItemsAreRefs)
            ClearItems(o, t);
    }

    private static void ClearItems(PaObject* o, TypeObject* t)
    {
        PaObject** items = (PaObject**)((byte*)o + t->BasicSize);
        nint n = ((PaVarObject*)o)->ObSize;
        for (nint i = 0; i < n; i++)
            RefCount.Clear(&items[i]);
    }
}
