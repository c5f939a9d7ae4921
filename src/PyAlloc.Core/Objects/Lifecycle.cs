using System.Runtime.CompilerServices;
using PyAlloc.Core.Gc;
using PyAlloc.Core.Support;
using PyAlloc.Core.Weakref;

namespace PyAlloc.Core.Objects;

/* ============================================================================
   An object's life: birth, and death when its count reaches zero

   Birth (CPython's gc_alloc + PyType_GenericAlloc): the memory, GC head
   included, comes zeroed from the runtime's heap; a GC type's allocation is
   counted in generation 0 and may run an automatic collection (before the
   new object is tracked, so it is never part of that collection); then the
   header is set (count 1) and a GC object is tracked, at the young end of
   generation 0.

   Death follows CPython 3.12's subtype_dealloc step by step, because the
   order is visible to finalisers and weakref callbacks:
     1. untrack;
     2. the PEP 442 finaliser, once per object (the Finalized flag), run with
        the object temporarily resurrected (count 1) and tracked: if the count
        is still above zero afterwards, the object was resurrected and lives on;
     3. weak references cleared, their callbacks called;
     4. the legacy finaliser, on every death, the same way (may resurrect);
     5. weak references made during the finalisers cleared, without callbacks;
     6. dealloc: the type's dealloc, then the references the library owns
        (ref_offsets fields, reference items, list items) released;
     7. the memory returned and generation 0's count lowered.

   The trashcan: releasing references in step 6 can free a long chain one
   link inside the other.  As CPython's Py_TRASHCAN_BEGIN, an object whose
   count reaches zero while 50 deaths are already nested is not destroyed
   there: it is pushed on the runtime's DeallocLater stack (linked through
   its GC head) and destroyed when the outermost death finishes, so a chain
   of any length costs a bounded amount of C stack.

   The plain death: most objects die without any of steps 2 to 5 having
   anything to do (a type without finaliser, legacy finaliser or dealloc,
   whose references are all in ref_offsets and items, and no weakref to the
   object).  TypeObject.PlainDeath says so for the type, the Weakrefs flag
   for the object, and OnZero then does steps 1, 6 and 7 inline: no call but
   the one per released reference that dies too.  A chain released by one
   decref is a million such deaths nested in each other (issue 6), so every
   call and every load here is paid a million times.
============================================================================ */

/// <summary>Creating and destroying objects.</summary>
internal static unsafe class Lifecycle
{
    /// <summary>CPython's _PyTrash_UNWIND_LEVEL.</summary>
    private const int TrashcanNesting = 50;

    /// <summary>pa_object_new / pa_object_new_var: a new reference, or null with the error set.</summary>
    public static PaObject* New(TypeObject* t, nuint nitems, string caller)
    {
        Runtime* rt = t->Runtime;
        if (nitems != 0 && !t->IsVariableSized)
            return (PaObject*)Errors.Null($"{caller}: type '{NameOf(t)}' is not variable-sized");
        if (t->ItemSize != 0 && nitems > ((nuint)int.MaxValue - t->BasicSize) / t->ItemSize)
            return (PaObject*)Errors.Null($"{caller}: {nitems} items of {t->ItemSize} bytes overflow the object size");
        nuint size = (nuint)sizeof(GcHead) + t->BasicSize + nitems * t->ItemSize;

        GcHead* g = (GcHead*)Runtime.Malloc(rt, size, zero: true);
        if (g == null)
            return (PaObject*)Errors.Null($"{caller}: out of memory allocating a '{NameOf(t)}' of {size} bytes");
        if (t->HasGc)
            Collector.OnGcAllocation(rt);

        PaObject* o = GcHead.ObjectOf(g);
        o->RefCnt = 1;
        o->Type = t;
        if (t->IsVariableSized)
            ((PaVarObject*)o)->Size = (nint)nitems;
        t->LiveObjects++;
        t->LiveBytes += size;
        if (t->HasGc)
            GcList.Track(rt, g);
        return o;
    }

    /// <summary>The count of <paramref name="o"/> reached zero (pa__dealloc).</summary>
    public static void OnZero(PaObject* o)
    {
        TypeObject* t = o->Type;
        Runtime* rt = t->Runtime;
        GcHead* g = GcHead.Of(o);
        if (g->IsTracked)
            GcList.Untrack(g);
        if (rt->DeallocDepth >= TrashcanNesting)
        {
            // Deposit: destroyed when the outermost death finishes (LIFO, as CPython).
            g->Next = (nuint)rt->DeallocLater;
            rt->DeallocLater = g;
            return;
        }
        rt->DeallocDepth++;
        DestroyUntracked(rt, t, o);
        if (--rt->DeallocDepth == 0 && rt->DeallocLater != null)
            DestroyDeposited(rt);
    }

    /* Steps 2 to 7: the plain death inline, any other out of line.
       Pre: count 0, untracked, t is o's type, DeallocDepth counts this death. */
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void DestroyUntracked(Runtime* rt, TypeObject* t, PaObject* o)
    {
        if (t->PlainDeath && !GcHead.Of(o)->HasWeakrefs)
        {
            Traverse.ClearOwnedFields(o, t);
            FreeMemory(rt, o);
        }
        else
        {
            Destroy(rt, o);
        }
    }

    /* Destroys the deposited objects, and those their deaths deposit, until none is left.
       Pre: DeallocDepth == 0. */
    private static void DestroyDeposited(Runtime* rt)
    {
        while (rt->DeallocLater != null)
        {
            // Invariants: every object on the stack has count 0 and is untracked.
            GcHead* g = rt->DeallocLater;
            rt->DeallocLater = (GcHead*)g->Next;
            g->Next = 0;
            // Nesting 2, as CPython: _PyTrash_thread_destroy_chain raises it to 1 around
            // its loop, and the object's own Py_TRASHCAN_BEGIN raises it again.
            rt->DeallocDepth += 2;
            PaObject* o = GcHead.ObjectOf(g);
            DestroyUntracked(rt, o->Type, o);
            rt->DeallocDepth -= 2;
        }
    }

    /* Steps 2 to 7 above, whatever the type.  Pre: count 0, untracked. */
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Destroy(Runtime* rt, PaObject* o)
    {
        TypeObject* t = o->Type;
        GcHead* g = GcHead.Of(o);

        if (t->Finalize != null && !g->IsFinalized)
        {
            if (!CallFinalizerFromDealloc(rt, o, t->Finalize, once: true))
                return; // resurrected
        }
        if (g->HasWeakrefs)
            WeakrefObject.ClearAll(rt, o, callCallbacks: true);
        if (t->LegacyDel != null)
        {
            if (!CallFinalizerFromDealloc(rt, o, t->LegacyDel, once: false))
                return; // resurrected
        }
        if ((t->Finalize != null || t->LegacyDel != null) && g->HasWeakrefs)
            WeakrefObject.ClearAll(rt, o, callCallbacks: false);

        if (t->DeallocFn != null)
            t->DeallocFn(o);
        Traverse.ReleaseOwnedReferences(o);

        FreeMemory(rt, o);
    }

    /* Runs a finaliser on a dead object: count 1 and tracked while it runs.
       Returns false when the finaliser resurrected the object (it stays tracked). */
    private static bool CallFinalizerFromDealloc(Runtime* rt, PaObject* o, delegate* unmanaged<PaObject*, void> finalizer, bool once)
    {
        GcHead* g = GcHead.Of(o);
        TypeObject* t = o->Type;
        o->RefCnt = 1;
        if (t->HasGc)
            GcList.Track(rt, g);
        finalizer(o);
        if (once)
            g->Prev |= GcHead.PrevMaskFinalized; // after the call, as PyObject_CallFinalizer
        if (--o->RefCnt != 0)
            return false;
        if (t->HasGc)
            GcList.Untrack(g);
        return true;
    }

    /// <summary>Step 7: the memory goes back; a GC object lowers generation 0's count.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void FreeMemory(Runtime* rt, PaObject* o)
    {
        TypeObject* t = o->Type;
        nuint size = SizeOf(o);
        if (Tracing.Tracemalloc.IsTracing)
            ForgetTrace(o);
        t->LiveObjects--;
        t->LiveBytes -= size;
        if (t->HasGc && rt->Gc.Generations[0].Count > 0)
            rt->Gc.Generations[0].Count--;
        if (t->PoolBlock)
            Allocator.Heap.FreeOwned(rt->FastHeap, (byte*)GcHead.Of(o)); // where Runtime.Malloc put it
        else
            Runtime.Free(rt, GcHead.Of(o));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ForgetTrace(PaObject* o)
    {
        if (!Allocator.Pymalloc.IsDebug)
            Tracing.Tracemalloc.OnFree(o); // the debug hooks forget it after checking the block
    }

    /// <summary>The object's memory, GC head included (what tracemalloc and the census count).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static nuint SizeOf(PaObject* o)
    {
        TypeObject* t = o->Type;
        return (nuint)sizeof(GcHead) + t->BasicSize
               + (t->IsVariableSized ? (nuint)((PaVarObject*)o)->Size * t->ItemSize : 0);
    }

    /// <summary>pa__refcnt_error: a count went below zero (PA_DEBUG builds check).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void NegativeRefcount(PaObject* o) =>
        Fatal.Error($"object {Errors.Hex(o)} of type '{NameOf(o->Type)}' has a negative reference count " +
                    $"({o->RefCnt}): it was released more often than it was referenced");

    public static string NameOf(TypeObject* t) =>
        t == null ? "(null type)" : System.Text.Encoding.UTF8.GetString(
            System.Runtime.InteropServices.MemoryMarshal.CreateReadOnlySpanFromNullTerminated(t->Name));
}
