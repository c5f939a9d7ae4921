using System.Runtime.CompilerServices;
using PyAlloc.Core.Abi;
using PyAlloc.Core.Support;

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
   for the object, and the death is then steps 1, 6 and 7 inline.

   Following a chain: a chain released by one decref is a million plain
   deaths, each inside the one before, and nesting costs a call, a
   frame and the trashcan's bookkeeping per link.  When the very last
   reference a plain object (or a list without weakrefs: its items go last
   first, so item 0 is its last release, and its item array is freed after
   that death, as list_dealloc does) releases is the one whose count reaches
   zero (the others before it released, the slots after it all null),
   DestroyFollowing does not call into the dying object: it sets the
   releasing object aside (on a "waiting" stack linked through its GC head,
   which an untracked dead object does not use), counts the new death in
   DeallocDepth exactly as the nested call would, and loops on the dying
   object.  When the loop ends, the waiting objects' memory goes back,
   newest first, each lowering DeallocDepth.  Everything observable happens
   in the nested order: the dying object is untracked and checked against
   the trashcan's limit at the moment its count reaches zero, its whole
   death (finalisers, callbacks, further deaths) comes before the memory of
   the object that released it goes back, and nothing else happens between
   those (the released slot was the last with a reference).
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
            GcState.OnGcAllocation(rt);

        PaObject* o = GcHead.ObjectOf(g);
        o->ObRefcnt = 1;
        o->ObType = t;
        if (t->IsVariableSized)
            ((PaVarObject*)o)->ObSize = (nint)nitems;
        t->LiveObjects++;
        t->LiveBytes += size;
        if (t->HasGc)
            GcList.Track(rt, g);
        return o;
    }

    /// <summary>
    /// pa__dealloc, which pa_decref calls at zero: <see cref="OnZero"/>, unless the count is not zero (a
    /// caller other than pa_decref), which is refused with the error set.
    /// </summary>
    public static void Dealloc(PaObject* o)
    {
        if (o->ObRefcnt != 0)
        {
            Errors.Set($"pa__dealloc: object {Errors.Hex(o)} has count {o->ObRefcnt}, not 0: it is alive, refused " +
                       "(pa__dealloc is for pa_decref only)");
            return;
        }
        OnZero(o);
    }

    /// <summary>pa_object_make_immortal: the count never changes again and the object never dies (PEP 683).</summary>
    public static void MakeImmortal(PaObject* o) => o->ObRefcnt = RefCount.Immortal;

    /// <summary>The count of <paramref name="o"/> reached zero (pa__dealloc).</summary>
    public static void OnZero(PaObject* o)
    {
        Runtime* rt = o->ObType->Runtime;
        if (rt->Finalizing != null && IsBeingFinalized(rt, o))
            return; // its finaliser dropped the reference it was lent: CallFinalizerFromDealloc goes on
        GcHead* g = GcHead.Of(o);
        if (g->IsTracked)
            GcList.Untrack(g);
        if (rt->DeallocDepth >= TrashcanNesting)
        {
            Deposit(rt, g);
            return;
        }
        rt->DeallocDepth++;
        DestroyFollowing(rt, o);
        if (--rt->DeallocDepth == 0 && rt->DeallocLater != null)
            DestroyDeposited(rt);
    }

    /* The trashcan's deposit: destroyed when the outermost death finishes (LIFO, as CPython).
       Pre: count 0, untracked. */
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Deposit(Runtime* rt, GcHead* g)
    {
        g->Next = (nuint)rt->DeallocLater;
        rt->DeallocLater = g;
    }

    /* Steps 2 to 7 for o, then for the object that o's last released reference kills, and so
       on, in one loop (see "Following a chain" above).
       Pre:  o has count 0 and is untracked; DeallocDepth counts its death.
       Post: DeallocDepth is as at entry; every death followed has been counted and uncounted. */
    private static void DestroyFollowing(Runtime* rt, PaObject* o)
    {
        GcHead* waiting = null;
        while (true)
        {
            // Invariants: o has count 0, is untracked, and DeallocDepth counts its death and
            // one death per waiting object; each waiting object has released every reference
            // and waits for its memory to go back after the death of the one above it.
            TypeObject* t = o->ObType;
            bool list = t->Kind == TypeKind.List;
            if ((!t->PlainDeath && !list) || GcHead.Of(o)->HasWeakrefs)
            {
                Destroy(rt, o);
                break;
            }
            PaObject* dying = list ? ListObject.ReleaseItemsButFirstDeath(o) : ReleaseAllButLastDeath(o, t);
            if (dying != null)
            {
                if (dying->ObType->Runtime == rt)
                {
                    // dying's count just reached zero: what OnZero(dying) would do, without the call.
                    GcHead* dg = GcHead.Of(dying);
                    if (dg->IsTracked)
                        GcList.Untrack(dg);
                    if (rt->DeallocDepth < TrashcanNesting)
                    {
                        rt->DeallocDepth++;
                        GcHead* g = GcHead.Of(o);
                        g->Next = (nuint)waiting;
                        waiting = g;
                        o = dying;
                        continue;
                    }
                    Deposit(rt, dg);
                }
                else
                {
                    OnZero(dying); // an object of another runtime dies in that runtime's trashcan
                }
            }
            FreeFollowed(rt, t, o);
            break;
        }
        while (waiting != null)
        {
            // Invariants: the objects still waiting were set aside before this one (newest first).
            GcHead* g = waiting;
            waiting = (GcHead*)g->Next;
            PaObject* w = GcHead.ObjectOf(g);
            FreeFollowed(rt, w->ObType, w);
            rt->DeallocDepth--;
        }
    }

    /* The end of a followed death: a list's item array (list_dealloc frees it after the
       items' deaths), then the memory. */
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FreeFollowed(Runtime* rt, TypeObject* t, PaObject* o)
    {
        if (t->Kind == TypeKind.List)
            ListObject.FreeItemArray(o);
        FreeMemory(rt, t, o);
    }

    /* Step 6 of a plain death, as Traverse.ClearOwnedFields (in order, each slot nulled before
       its reference goes), except for one reference: when the count of the last reference
       released reaches zero (every slot after it null), its death is left to the caller.
       Returns that object (count 0, not yet untracked), or null when there is none. */
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static PaObject* ReleaseAllButLastDeath(PaObject* o, TypeObject* t)
    {
        nuint* offsets = t->RefOffsets;
        if (offsets != null)
        {
            for (; *offsets != 0; offsets++)
            {
                // Invariants: the fields before offsets are null and their references released.
                PaObject** slot = (PaObject**)((byte*)o + *offsets);
                PaObject* v = *slot;
                if (v == null)
                    continue;
                *slot = null;
                if (RefCount.IsImmortal(v) || --v->ObRefcnt != 0)
                    continue;
                if (NoReferenceAfter(o, t, offsets + 1))
                    return v;
                OnZero(v);
            }
        }
        if (t->ItemsAreRefs)
            return ReleaseItemsButLastDeath(o, t);
        return null;
    }

    /* The items part of ReleaseAllButLastDeath. */
    private static PaObject* ReleaseItemsButLastDeath(PaObject* o, TypeObject* t)
    {
        PaObject** items = (PaObject**)((byte*)o + t->BasicSize);
        nint n = ((PaVarObject*)o)->ObSize;
        for (nint i = 0; i < n; i++)
        {
            // Invariants: the items before i are null and their references released.
            PaObject* v = items[i];
            if (v == null)
                continue;
            items[i] = null;
            if (RefCount.IsImmortal(v) || --v->ObRefcnt != 0)
                continue;
            nint k = i + 1;
            while (k < n && items[k] == null)
                k++;
            if (k == n)
                return v;
            OnZero(v);
        }
        return null;
    }

    /* True when the fields at offsets (up to the 0 that ends them) and the reference items
       of o are all null: nothing is released after the field before offsets. */
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool NoReferenceAfter(PaObject* o, TypeObject* t, nuint* offsets)
    {
        for (; *offsets != 0; offsets++)
        {
            if (*(PaObject**)((byte*)o + *offsets) != null)
                return false;
        }
        if (t->ItemsAreRefs)
        {
            PaObject** items = (PaObject**)((byte*)o + t->BasicSize);
            nint n = ((PaVarObject*)o)->ObSize;
            for (nint i = 0; i < n; i++)
            {
                if (items[i] != null)
                    return false;
            }
        }
        return true;
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
            DestroyFollowing(rt, GcHead.ObjectOf(g));
            rt->DeallocDepth -= 2;
        }
    }

    /* Steps 2 to 7 above, whatever the type.  Pre: count 0, untracked. */
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Destroy(Runtime* rt, PaObject* o)
    {
        TypeObject* t = o->ObType;
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

    /* An object whose finaliser runs now (from its dealloc), on the runtime's stack of them
       (Runtime.Finalizing): a finaliser that drops the reference it was lent brings the
       count to 0 again, and that second death must not start over (finaliser twice, memory
       freed under the finaliser's feet). */
    private struct FinalizingFrame
    {
        public PaObject* Object;
        public FinalizingFrame* Next;
    }

    /// <summary>True when <paramref name="o"/>'s finaliser runs now (it is on the runtime's Finalizing stack).</summary>
    internal static bool IsBeingFinalized(Runtime* rt, PaObject* o)
    {
        for (var f = (FinalizingFrame*)rt->Finalizing; f != null; f = f->Next)
        {
            if (f->Object == o)
                return true;
        }
        return false;
    }

    /* Runs a finaliser on a dead object: count 1 and tracked while it runs.
       Returns false when the finaliser resurrected the object (it stays tracked).
       A finaliser that drops the count to 0 itself does not resurrect it, and its object
       dies once, here (OnZero ignores the nested death). */
    private static bool CallFinalizerFromDealloc(Runtime* rt, PaObject* o, delegate* unmanaged<PaObject*, void> finalizer, bool once)
    {
        GcHead* g = GcHead.Of(o);
        TypeObject* t = o->ObType;
        o->ObRefcnt = 1;
        if (t->HasGc)
            GcList.Track(rt, g);
        FinalizingFrame frame = new() { Object = o, Next = (FinalizingFrame*)rt->Finalizing };
        rt->Finalizing = &frame;
        try
        {
            finalizer(o);
        }
        finally
        {
            rt->Finalizing = frame.Next;
        }
        if (once)
            g->Prev |= GcHead.PrevMaskFinalized; // after the call, as PyObject_CallFinalizer
        if (o->ObRefcnt != 0 && --o->ObRefcnt != 0)
            return false;
        if (g->IsTracked)
            GcList.Untrack(g);
        return true;
    }

    /// <summary>Step 7: the memory goes back; a GC object lowers generation 0's count.</summary>
    public static void FreeMemory(Runtime* rt, PaObject* o) => FreeMemory(rt, o->ObType, o);

    /* Step 7 with o's type at hand.  Pre: t is o->Type. */
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FreeMemory(Runtime* rt, TypeObject* t, PaObject* o)
    {
        if (Tracing.Tracemalloc.IsTracing)
            ForgetTrace(o);
        if (!t->PoolBlock)
        {
            FreeOtherMemory(rt, t, o);
            return;
        }
        // A fixed-size object in a pool block of the runtime's heap (TypeObject.PoolBlock).
        t->LiveObjects--;
        t->LiveBytes -= (nuint)sizeof(GcHead) + t->BasicSize;
        if (t->HasGc)
            Gen0Freed(rt);
        Allocator.Heap.FreeOwned(rt->FastHeap, (byte*)GcHead.Of(o)); // where Runtime.Malloc put it
    }

    /* FreeMemory of an object that is not a PoolBlock: variable-sized, large, or any object
       in the malloc and debug modes.  Tracemalloc has forgotten it already. */
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void FreeOtherMemory(Runtime* rt, TypeObject* t, PaObject* o)
    {
        t->LiveObjects--;
        t->LiveBytes -= SizeOf(o);
        if (t->HasGc)
            Gen0Freed(rt);
        Runtime.Free(rt, GcHead.Of(o));
    }

    /* A GC object's memory went back: generation 0's count goes down (never below 0). */
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Gen0Freed(Runtime* rt)
    {
        ref nint count = ref rt->Gc.Generations[0].Count;
        if (count > 0)
            count--;
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
        TypeObject* t = o->ObType;
        return (nuint)sizeof(GcHead) + t->BasicSize
               + (t->IsVariableSized ? (nuint)((PaVarObject*)o)->ObSize * t->ItemSize : 0);
    }

    /// <summary>pa__refcnt_error: a count went below zero (PA_DEBUG builds check).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void NegativeRefcount(PaObject* o) =>
        Fatal.Error($"object {Errors.Hex(o)} of type '{NameOf(o->ObType)}' has a negative reference count " +
                    $"({o->ObRefcnt}): it was released more often than it was referenced");

    public static string NameOf(TypeObject* t) =>
        t == null ? "(null type)" : System.Text.Encoding.UTF8.GetString(
            System.Runtime.InteropServices.MemoryMarshal.CreateReadOnlySpanFromNullTerminated(t->Name));
}
