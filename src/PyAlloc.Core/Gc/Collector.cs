using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using PyAlloc.Core.Abi;
using PyAlloc.Core.Objects;
using PyAlloc.Core.Support;

namespace PyAlloc.Core.Gc;

/* ============================================================================
   The cycle collector: CPython 3.12's Modules/gcmodule.c

   Reference counting frees everything but cycles.  To find cycles among the
   objects of the generations being collected ("young"):

     update_refs      copy each object's count into its GC head (gc_refs)
                      and mark it Collecting;
     subtract_refs    for every reference from one young object to another,
                      subtract one: what is left counts references from
                      outside young;
     move_unreachable objects with gc_refs > 0 are reachable, and so is all
                      they reach; the rest is moved to "unreachable".

   Then, for the unreachable objects, in this order (the order is visible to
   user code, so it is CPython's exactly):
     - legacy finalisers and everything they reach go to "finalizers": they
       are uncollectable and end in gc.garbage;
     - weak references to unreachable objects are cleared; callbacks run for
       the weakrefs that are themselves reachable;
     - PEP 442 finalisers run, once per object;
     - reachability is computed again over the unreachable set: objects the
       finalisers resurrected (and all they reach) survive;
     - clear breaks the cycles of what is still unreachable, which frees it
       by reference counting.
   Survivors move one generation up.  The return value counts the
   unreachable objects found (m) plus the uncollectable ones (n).

   During a collection a GC head's Prev holds gc_refs (shifted) instead of a
   pointer, and move_unreachable marks Next with NEXT_MASK_UNREACHABLE; both
   are repaired before user code runs.  In Debug builds, GcList.Validate
   (validate_list) checks the lists and their flags between the phases.
============================================================================ */

/// <summary>The collection algorithm and its triggers.</summary>
internal static unsafe class Collector
{
    // ------------------------------------------------------------ triggers

    /// <summary>
    /// gc_collect_generations: collect the oldest generation whose count passed its
    /// threshold, but a full collection only when the objects that became long-lived
    /// since the last one are more than a quarter of the long-lived total.
    /// </summary>
    /// <remarks>
    /// The trigger, <see cref="GcState.OnGcAllocation"/>, calls it (through
    /// <see cref="CollectorCalls"/>) with Collecting set.
    /// </remarks>
    public static void CollectGenerations(Runtime* rt)
    {
        GcState* gc = &rt->Gc;
        for (int i = GcState.NumGenerations - 1; i >= 0; i--)
        {
            if (gc->Generations[i].Count > gc->Generations[i].Threshold)
            {
                if (i == GcState.NumGenerations - 1 && gc->LongLivedPending < gc->LongLivedTotal / 4)
                    continue;
                CollectWithCallbacks(rt, i);
                break;
            }
        }
    }

    /// <summary>gc.collect(generation): 0 when a collection is already running.</summary>
    public static nint Collect(Runtime* rt, int generation)
    {
        GcState* gc = &rt->Gc;
        if (gc->Collecting != 0)
            return 0;
        gc->Collecting = 1;
        try
        {
            return CollectWithCallbacks(rt, generation);
        }
        finally
        {
            gc->Collecting = 0;
        }
    }

    /// <summary>gc_collect_with_callback: the callbacks' start, the collection, their stop.</summary>
    public static nint CollectWithCallbacks(Runtime* rt, int generation)
    {
        InvokeCallbacks(rt, 0, generation, 0, 0);
        Probes.GcStart(generation);
        nint result = CollectMain(rt, generation, out nint collected, out nint uncollectable);
        Probes.GcDone(collected, uncollectable);
        InvokeCallbacks(rt, 1, generation, collected, uncollectable);
        return result;
    }

    private static void InvokeCallbacks(Runtime* rt, int phase, int generation, nint collected, nint uncollectable)
    {
        GcState* gc = &rt->Gc;
        PaGcInfo info = new() { Generation = generation, Collected = collected, Uncollectable = uncollectable };
        for (int i = 0; i < gc->CallbackCount; i++)
        {
            // Invariants: callbacks [0, i) have been told; the array may change under us.
            GcCallback cb = gc->Callbacks[i];
            cb.Function(rt, phase, &info, cb.User);
        }
    }

    // ------------------------------------------------------- the collection

    /* gc_collect_main: "read this to understand how the collection process works". */
    private static nint CollectMain(Runtime* rt, int generation, out nint collected, out nint uncollectable)
    {
        GcState* gc = &rt->Gc;
        nint m = 0; // objects collected
        nint n = 0; // unreachable objects that could not be collected
        long t0 = 0;
        if ((gc->Debug & GcModule.DebugStats) != 0)
        {
            DebugLog.Write($"gc: collecting generation {generation}...");
            ShowStatsEachGeneration(gc);
            t0 = Stopwatch.GetTimestamp();
        }

        // Update collection and allocation counters.
        if (generation + 1 < GcState.NumGenerations)
            gc->Generations[generation + 1].Count += 1;
        for (int i = 0; i <= generation; i++)
            gc->Generations[i].Count = 0;

        // Merge younger generations with the one being collected.
        for (int i = 0; i < generation; i++)
            GcList.Merge(GcState.GenHead(gc, i), GcState.GenHead(gc, generation));

        GcHead* young = GcState.GenHead(gc, generation);
        GcHead* old = generation < GcState.NumGenerations - 1 ? GcState.GenHead(gc, generation + 1) : young;
        GcList.Validate(old, GcList.Expect.Plain, "merging the younger generations");
        GcList.Validate(young, GcList.Expect.Plain, "merging the younger generations");

        GcHead unreachable;
        DeduceUnreachable(rt, young, &unreachable);
        GcList.Validate(young, GcList.Expect.Plain, "deduce_unreachable");
        GcList.Validate(&unreachable, GcList.Expect.Collecting | GcList.Expect.Unreachable, "deduce_unreachable");

        // Move reachable objects to the next generation.
        if (young != old)
        {
            if (generation == GcState.NumGenerations - 2)
                gc->LongLivedPending += GcList.Size(young);
            GcList.Merge(young, old);
        }
        else
        {
            gc->LongLivedPending = 0;
            gc->LongLivedTotal = GcList.Size(young);
        }

        // All of unreachable is trash, but what legacy finalisers reach cannot be deleted.
        GcHead finalizers;
        GcList.Init(&finalizers);
        UnreachableSummary summary = MoveLegacyFinalizers(&unreachable, &finalizers);
        MoveLegacyFinalizerReachable(&finalizers);
        GcList.Validate(&unreachable, GcList.Expect.Collecting, "move_legacy_finalizers");
        GcList.Validate(&finalizers, GcList.Expect.Plain, "move_legacy_finalizer_reachable");

        if ((gc->Debug & GcModule.DebugCollectable) != 0)
        {
            for (GcHead* g = (GcHead*)unreachable.Next; g != &unreachable; g = (GcHead*)g->Next)
                DebugCycle("collectable", GcHead.ObjectOf(g));
        }

        GcHead finalUnreachable;
        GcList.Init(&finalUnreachable);
        if (summary.NothingToHandle && GcList.IsEmpty(&finalizers))
        {
            // No weakref to clear, no finaliser to call: the next three steps would change
            // nothing (see UnreachableSummary), so the unreachable objects are the final ones.
            GcList.Merge(&unreachable, &finalUnreachable);
            m += summary.Count;
        }
        else
        {
            // Clear weakrefs and invoke callbacks as necessary.
            m += HandleWeakrefs(rt, &unreachable, old);
            GcList.Validate(old, GcList.Expect.Plain, "handle_weakrefs");
            GcList.Validate(&unreachable, GcList.Expect.Collecting, "handle_weakrefs");

            // Call PEP 442 finalisers.
            FinalizeGarbage(&unreachable);

            // Objects the finalisers resurrected survive; the rest is still trash.
            HandleResurrectedObjects(rt, &unreachable, &finalUnreachable, old);
            m += GcList.Size(&finalUnreachable);
        }
        GcList.Validate(&finalUnreachable, GcList.Expect.Collecting, "handle_resurrected_objects");
        GcList.Validate(old, GcList.Expect.Plain, "handle_resurrected_objects");

        // Break the cycles; this may free objects in finalizers too.
        DeleteGarbage(rt, &finalUnreachable, old);
        GcList.Validate(old, GcList.Expect.Plain, "delete_garbage");

        // Count the uncollectable objects.
        for (GcHead* g = (GcHead*)finalizers.Next; g != &finalizers; g = (GcHead*)g->Next)
        {
            n++;
            if ((gc->Debug & GcModule.DebugUncollectable) != 0)
                DebugCycle("uncollectable", GcHead.ObjectOf(g));
        }
        if ((gc->Debug & GcModule.DebugStats) != 0)
        {
            double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            DebugLog.Write($"gc: done, {n + m} unreachable, {n} uncollectable, {seconds:F4}s elapsed");
        }

        HandleLegacyFinalizers(rt, &finalizers, old);

        ref PaGcGenerationStats stats = ref gc->Stats[generation];
        stats.Collections++;
        stats.Collected += m;
        stats.Uncollectable += n;
        collected = m;
        uncollectable = n;
        return n + m;
    }

    /* deduce_unreachable: leave in base what is reachable from outside it, move the rest to
       unreachable (which this initialises).
       Post: base is a normal list, its objects no longer Collecting; unreachable's objects
       are Collecting and their Next pointers carry NEXT_MASK_UNREACHABLE. */
    private static void DeduceUnreachable(Runtime* rt, GcHead* baseList, GcHead* unreachable)
    {
        UpdateRefs(rt, baseList);
        SubtractRefs(baseList);
        GcList.Init(unreachable);
        MoveUnreachable(baseList, unreachable);
    }

    /* update_refs: gc_refs = the object's count, and the Collecting flag, for every object
       of containers; immortal objects move to the permanent generation instead (their
       count says nothing of their references). */
    private static void UpdateRefs(Runtime* rt, GcHead* containers)
    {
        GcHead* g = (GcHead*)containers->Next;
        while (g != containers)
        {
            // Invariants: every object before g is Collecting with gc_refs = its count.
            GcHead* next = (GcHead*)g->Next;
            PaObject* o = GcHead.ObjectOf(g);
            if (RefCount.IsImmortal(o))
            {
                GcList.Move(g, &rt->Gc.Permanent);
                g = next;
                continue;
            }
            ResetRefs(g, o->ObRefcnt);
            if (o->ObRefcnt == 0)
                GcFatal(o, "a tracked object has a zero reference count (it should have been freed)");
            g = next;
        }
    }

    /* subtract_refs: for each reference from a young object to a young object, one less.
       The objects whose references only a C traverse knows go through the C DecrefRing
       (inside libpyalloc.so): their decrements are deferred a few visits, each target
       prefetched meanwhile, since these references cannot be prefetched ahead. */
    private static void SubtractRefs(GcHead* containers)
    {
        GcHead* ahead = Lookahead.Start(containers);
        DecrefRing ring = default;
        delegate* unmanaged<PaObject*, void*, int> deferred = GcNative.DecrefRing;
        for (GcHead* g = (GcHead*)containers->Next; g != containers; g = (GcHead*)g->Next)
        {
            // Invariants: ahead is the sentinel or an object Distance places after g (the list
            // does not change here), whose referents' heads were prefetched; the decrements
            // in ring are made by the end.
            ahead = Lookahead.Step(ahead, containers);
            PaObject* o = GcHead.ObjectOf(g);
            TypeObject* t = o->ObType;
            if (deferred != null && t->TraverseOnly)
            {
                ring.Parent = o;
                if (GcNative.CallTraverse(t->Traverse, o, deferred, &ring) != 0 && ring.Bad != null)
                    DecrefVisitor.RefcountTooSmall(ring.Bad, ring.BadParent);
                continue;
            }
            var visitor = new DecrefVisitor { Parent = o };
            if (Traverse.Visit(o, ref visitor) != 0 && visitor.Bad != null)
                DecrefVisitor.RefcountTooSmall(visitor.Bad, visitor.Parent); // found by the C procedure
        }
        if (ring.Count != 0 && GcNative.FlushDecrefRing(&ring) != 0)
            DecrefVisitor.RefcountTooSmall(ring.Bad, ring.BadParent);
    }

    /* The C procedure's deferred decrements (pa__decref_ring in native/entry/gc_visit.h). */
    [StructLayout(LayoutKind.Sequential)]
    internal struct DecrefRing
    {
        public const int Size = 16;
        public PaObject* Parent;
        public PaObject* Bad;
        public PaObject* BadParent;
        public nuint Head;
        public nuint Count;
        public fixed ulong Target[Size];
        public fixed ulong From[Size];
    }

    /* move_unreachable: young keeps what is reachable from outside it; the rest goes to
       unreachable, marked NEXT_MASK_UNREACHABLE.  Prev pointers of young are restored. */
    private static void MoveUnreachable(GcHead* young, GcHead* unreachable)
    {
        GcHead* prev = young;
        GcHead* g = (GcHead*)young->Next;
        var visitor = new ReachableVisitor { Young = young };
        GcHead* ahead = Lookahead.Start(young);
        while (g != young)
        {
            // The prefetching walker (see Lookahead) stays in young: only g itself leaves it, and
            // the visits only bring objects back, at the tail.
            ahead = Lookahead.Step(ahead, young);
            // Invariants: all objects "to the left" of g in young are reachable from outside
            // young as it was at entry, and have been scanned; the other objects from the left
            // are in unreachable, marked NEXT_MASK_UNREACHABLE; nothing here or to the right
            // has been scanned.
            if (GetRefs(g) != 0)
            {
                // Reachable: so is everything it refers to.  The traversal may append to
                // young, so the next object is read after it.
                PaObject* o = GcHead.ObjectOf(g);
                Traverse.Visit(o, ref visitor);
                g->SetPrev(prev);
                g->Prev &= ~GcHead.PrevMaskCollecting;
                prev = g;
            }
            else
            {
                // Maybe unreachable: assume so for now (ReachableVisitor may bring it back).
                prev->Next = g->Next;
                GcHead* last = (GcHead*)unreachable->Prev;
                last->Next = GcHead.NextMaskUnreachable | (nuint)g;
                g->SetPrev(last);
                g->Next = GcHead.NextMaskUnreachable | (nuint)unreachable;
                unreachable->Prev = (nuint)g;
            }
            g = (GcHead*)prev->Next;
        }
        young->Prev = (nuint)prev;
        unreachable->Next &= ~GcHead.NextMaskUnreachable;
    }

    /* What move_legacy_finalizers saw of the objects it left in unreachable.

       NothingToHandle: none of them is a weakref, none is weakly referenced (the Weakrefs
       flag), and none has a PEP 442 finaliser that has not run yet.  Then, when no legacy
       finaliser took objects away either, handle_weakrefs, finalize_garbage and
       handle_resurrected_objects have nothing to do, and the collection may skip them:
         - handle_weakrefs only unlinks weakrefs that are unreachable or point at unreachable
           objects, and calls back for those: there are none;
         - finalize_garbage moves each object to a "seen" list and back, the same order,
           and calls nothing;
         - handle_resurrected_objects runs deduce_unreachable again over unreachable alone.
           No user code ran since the first one, so every count is what it was: each
           object's count was entirely made of references from unreachable objects (its
           gc_refs was 0 and no reachable object referred to it), so gc_refs is 0 again for
           every object, none is rescued, and still_unreachable is unreachable in the same
           order, its objects Collecting as they already are.
       This is the common case (cycles of plain objects), where the three steps cost a third
       of the collection.  Count: the objects left in unreachable. */
    private struct UnreachableSummary
    {
        public nint Count;
        public bool NothingToHandle;
    }

    /* move_legacy_finalizers: objects of unreachable with a legacy finaliser go to finalizers
       (no longer Collecting).  Also clears NEXT_MASK_UNREACHABLE: unreachable is a normal
       list afterwards.  Returns what it saw of the others (UnreachableSummary). */
    private static UnreachableSummary MoveLegacyFinalizers(GcHead* unreachable, GcHead* finalizers)
    {
        UnreachableSummary summary = new() { NothingToHandle = true };
        GcHead* next;
        for (GcHead* g = (GcHead*)unreachable->Next; g != unreachable; g = next)
        {
            // Invariants: the objects before g are unmasked and either in finalizers or
            // counted in summary, which says whether any of those needs handling.
            g->Next &= ~GcHead.NextMaskUnreachable;
            next = (GcHead*)g->Next;
            TypeObject* t = GcHead.ObjectOf(g)->ObType;
            if (t->LegacyDel != null)
            {
                g->Prev &= ~GcHead.PrevMaskCollecting;
                GcList.Move(g, finalizers);
                continue;
            }
            summary.Count++;
            if (t->Kind == TypeKind.Weakref || g->HasWeakrefs || (t->Finalize != null && !g->IsFinalized))
                summary.NothingToHandle = false;
        }
        return summary;
    }

    /* move_legacy_finalizer_reachable: what the objects in finalizers reach moves there too. */
    private static void MoveLegacyFinalizerReachable(GcHead* finalizers)
    {
        var visitor = new MoveVisitor { To = finalizers };
        for (GcHead* g = (GcHead*)finalizers->Next; g != finalizers; g = (GcHead*)g->Next)
        {
            // Invariants: the list may grow behind g as the traversal moves objects in.
            Traverse.Visit(GcHead.ObjectOf(g), ref visitor);
        }
    }

    /* handle_weakrefs: clear every weakref to an unreachable object, and every weakref that is
       itself unreachable; call the callbacks of the cleared weakrefs that are reachable.
       Returns the number of such weakrefs freed by their callback's aftermath (CPython counts
       them as collected).  Post: no object in unreachable is weakly referenced. */
    private static nint HandleWeakrefs(Runtime* rt, GcHead* unreachable, GcHead* old)
    {
        GcHead wrcbToCall;
        GcList.Init(&wrcbToCall);
        nint freed = 0;

        GcHead* next;
        for (GcHead* g = (GcHead*)unreachable->Next; g != unreachable; g = next)
        {
            PaObject* op = GcHead.ObjectOf(g);
            next = (GcHead*)g->Next;
            if (WeakrefObject.Check(op))
                WeakrefObject.Unlink(op); // an unreachable weakref must not call back
            for (WeakrefObject* wr = WeakrefObject.Head(rt, op); wr != null; wr = WeakrefObject.Head(rt, op))
            {
                // Invariants: the weakrefs to op before wr are cleared, and those whose callback
                // must run are on wrcbToCall with a reference held.
                WeakrefObject.Unlink(&wr->Base);
                if (wr->Callback == null)
                    continue;
                GcHead* wrHead = GcHead.Of(&wr->Base);
                if (wrHead->IsCollecting)
                    continue; // the weakref is trash too: its callback is not called
                RefCount.Incref(&wr->Base);
                // A weakref the user untracked is on no list: it joins wrcbToCall all the same
                // (and, if it survives its callback, generation `old` with the others).
                if (wrHead->IsTracked)
                    GcList.Move(wrHead, &wrcbToCall);
                else
                    GcList.Append(wrHead, &wrcbToCall);
            }
        }

        while (!GcList.IsEmpty(&wrcbToCall))
        {
            GcHead* g = (GcHead*)wrcbToCall.Next;
            WeakrefObject* wr = (WeakrefObject*)GcHead.ObjectOf(g);
            wr->Callback(&wr->Base, wr->User);
            RefCount.Decref(&wr->Base);
            if ((GcHead*)wrcbToCall.Next == g)
                GcList.Move(g, old); // still alive
            else
                freed++;
        }
        return freed;
    }

    /* finalize_garbage: call each PEP 442 finaliser once.  Finalisers may free objects of
       the list, so always take the first object and move it to "seen" first. */
    private static void FinalizeGarbage(GcHead* collectable)
    {
        GcHead seen;
        GcList.Init(&seen);
        while (!GcList.IsEmpty(collectable))
        {
            GcHead* g = (GcHead*)collectable->Next;
            PaObject* op = GcHead.ObjectOf(g);
            GcList.Move(g, &seen);
            var finalize = op->ObType->Finalize;
            if (!g->IsFinalized && finalize != null)
            {
                g->Prev |= GcHead.PrevMaskFinalized;
                RefCount.Incref(op);
                finalize(op);
                RefCount.Decref(op);
            }
        }
        GcList.Merge(&seen, collectable);
    }

    /* handle_resurrected_objects: recompute reachability within unreachable; what the
       finalisers made reachable again goes to old, the rest to stillUnreachable. */
    private static void HandleResurrectedObjects(Runtime* rt, GcHead* unreachable, GcHead* stillUnreachable, GcHead* old)
    {
        for (GcHead* g = (GcHead*)unreachable->Next; g != unreachable; g = (GcHead*)g->Next)
            g->Prev &= ~GcHead.PrevMaskCollecting;
        DeduceUnreachable(rt, unreachable, stillUnreachable);
        for (GcHead* g = (GcHead*)stillUnreachable->Next; g != stillUnreachable; g = (GcHead*)(g->Next & ~GcHead.NextMaskUnreachable))
            g->Next &= ~GcHead.NextMaskUnreachable;
        GcList.Merge(unreachable, old);
    }

    /* delete_garbage: clear each object (or, with DEBUG_SAVEALL, keep it in gc.garbage);
       whatever survives its clear moves to old. */
    private static void DeleteGarbage(Runtime* rt, GcHead* collectable, GcHead* old)
    {
        GcState* gc = &rt->Gc;
        while (!GcList.IsEmpty(collectable))
        {
            GcHead* g = (GcHead*)collectable->Next;
            PaObject* op = GcHead.ObjectOf(g);
            if (op->ObRefcnt <= 0)
                GcFatal(op, "refcount is too small");
            if ((gc->Debug & GcModule.DebugSaveAll) != 0)
            {
                GcModule.AppendGarbage(rt, op);
            }
            else
            {
                RefCount.Incref(op);
                Traverse.Clear(op);
                RefCount.Decref(op);
            }
            if ((GcHead*)collectable->Next == g)
            {
                // Still alive: move it, it may die later.
                g->Prev &= ~GcHead.PrevMaskCollecting;
                GcList.Move(g, old);
            }
        }
    }

    /* handle_legacy_finalizers: objects with a legacy finaliser (all of finalizers with
       DEBUG_SAVEALL) go to gc.garbage; the whole list merges into old. */
    private static void HandleLegacyFinalizers(Runtime* rt, GcHead* finalizers, GcHead* old)
    {
        bool saveAll = (rt->Gc.Debug & GcModule.DebugSaveAll) != 0;
        for (GcHead* g = (GcHead*)finalizers->Next; g != finalizers; g = (GcHead*)g->Next)
        {
            PaObject* op = GcHead.ObjectOf(g);
            if (saveAll || op->ObType->LegacyDel != null)
                GcModule.AppendGarbage(rt, op);
        }
        GcList.Merge(finalizers, old);
    }

    // ------------------------------------------------------------- gc_refs

    private static nint GetRefs(GcHead* g) => (nint)(g->Prev >> GcHead.PrevShift);

    private static void ResetRefs(GcHead* g, nint refs) =>
        g->Prev = (g->Prev & (GcHead.PrevMaskFinalized | GcHead.PrevMaskWeakrefs))
                  | GcHead.PrevMaskCollecting | ((nuint)refs << GcHead.PrevShift);

    private static void SetRefs(GcHead* g, nint refs) =>
        g->Prev = (g->Prev & GcHead.PrevMaskFlags) | ((nuint)refs << GcHead.PrevShift);

    // ------------------------------------------------------------ prefetching

    /* A random graph makes subtract_refs and move_unreachable wait on memory: each reference
       is a GC head somewhere else, a cache miss, and the next object's references are not
       known until its own fields arrive.  So both walk a second pointer Distance objects
       ahead of the one they visit and prefetch the GC heads that object refers to (for the
       layouts the core reads itself: ref_offsets fields and list items, the first
       MaxItems); by the time the visit reaches it, the heads are on their way.  Prefetching
       changes no value and no order: the semantics are untouched.
       The walker only follows Next pointers of a list's objects and stops at its sentinel.
       Pre (both phases): the objects from ahead to the sentinel stay in the list, in order,
       while the walker is ahead of the visit (new objects may be appended at the tail). */
    private static class Lookahead
    {
        private const int Distance = 8;
        private const int MaxItems = 8;

        /* The walker Distance objects (or the sentinel) ahead of the list's first object, the
           referents of those it passed prefetched. */
        public static GcHead* Start(GcHead* list)
        {
            GcHead* ahead = (GcHead*)list->Next;
            for (int i = 0; i < Distance && ahead != list; i++)
                ahead = Step(ahead, list);
            return ahead;
        }

        /* Prefetches the referents of ahead and returns the next object, or the sentinel
           (where the walker stays). */
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static GcHead* Step(GcHead* ahead, GcHead* list)
        {
            if (ahead == list)
                return ahead;
            PrefetchReferents(GcHead.ObjectOf(ahead));
            return (GcHead*)ahead->Next;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void PrefetchReferents(PaObject* o)
        {
            TypeObject* t = o->ObType;
            if (t->OffsetsOnly)
            {
                for (nuint* offsets = t->RefOffsets; *offsets != 0; offsets++)
                    Prefetch(*(PaObject**)((byte*)o + *offsets));
            }
            else if (t->Kind == TypeKind.List)
            {
                ListObject* l = (ListObject*)o;
                nint n = Math.Min(l->Base.ObSize, MaxItems);
                for (nint i = 0; i < n; i++)
                    Prefetch(l->Items[i]);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Prefetch(PaObject* o)
        {
            if (o != null && Sse.IsSupported)
                Sse.Prefetch0(GcHead.Of(o));
        }
    }

    // ------------------------------------------------------------ visitors

    /* visit_decref: a young object refers to this one: one external reference fewer.
       Layout: pa__decref_arg (native/entry/gc_visit.h).  Bad: set by the C procedure, which
       cannot report (it must not enter managed code), when a count would go below zero. */
    [StructLayout(LayoutKind.Sequential)]
    internal struct DecrefVisitor : IVisitor
    {
        public PaObject* Parent;
        public PaObject* Bad;

        public int Visit(PaObject* op)
        {
            GcHead* g = GcHead.Of(op);
            if (g->IsCollecting)
            {
                if (GetRefs(g) <= 0)
                    RefcountTooSmall(op, Parent);
                g->Prev -= (nuint)1 << GcHead.PrevShift;
            }
            return 0;
        }

        /* Out of line, so that Visit stays small enough to inline into the traversal. */
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void RefcountTooSmall(PaObject* op, PaObject* parent) =>
            GcFatal(op, $"refcount is too small (referenced by {Errors.Hex(parent)} " +
                        $"of type '{Lifecycle.NameOf(parent->ObType)}' more often than its count says)");

        public static delegate* unmanaged<PaObject*, void*, int> Trampoline => &VisitFromC;

        [System.Runtime.InteropServices.UnmanagedCallersOnly]
        private static int VisitFromC(PaObject* op, void* arg) => op == null ? 0 : ((DecrefVisitor*)arg)->Visit(op);

        public static delegate* unmanaged<PaObject*, void*, int> NativeVisit => GcNative.Decref;
    }

    /* visit_reachable: op is referred to by a reachable object, so it is reachable.
       Layout: pa__reachable_arg (native/entry/gc_visit.h). */
    [StructLayout(LayoutKind.Sequential)]
    internal struct ReachableVisitor : IVisitor
    {
        public GcHead* Young;

        public int Visit(PaObject* op)
        {
            GcHead* g = GcHead.Of(op);
            // Objects of other generations, and those already scanned, are not Collecting.
            if (!g->IsCollecting)
                return 0;
            if ((g->Next & GcHead.NextMaskUnreachable) != 0)
            {
                // Had gc_refs 0 when move_unreachable saw it: move it back to young, where
                // move_unreachable will scan it again.  The unreachable list is not a normal
                // list (its Next pointers carry the mask), so unlink by hand.
                GcHead* prev = g->PrevHead;
                GcHead* next = (GcHead*)(g->Next & ~GcHead.NextMaskUnreachable);
                prev->Next = g->Next; // keeps the mask
                next->SetPrev(prev);
                GcList.Append(g, Young);
                SetRefs(g, 1);
            }
            else if (GetRefs(g) == 0)
            {
                // In young, not scanned yet: tell move_unreachable it is reachable.
                // (gc_refs cannot be negative: DecrefVisitor refuses to go below zero.)
                SetRefs(g, 1);
            }
            return 0;
        }

        public static delegate* unmanaged<PaObject*, void*, int> Trampoline => &VisitFromC;

        [System.Runtime.InteropServices.UnmanagedCallersOnly]
        private static int VisitFromC(PaObject* op, void* arg) => op == null ? 0 : ((ReachableVisitor*)arg)->Visit(op);

        public static delegate* unmanaged<PaObject*, void*, int> NativeVisit => GcNative.Reachable;
    }

    /* visit_move: an object in unreachable reached from finalizers joins them.
       Layout: pa__move_arg (native/entry/gc_visit.h). */
    [StructLayout(LayoutKind.Sequential)]
    internal struct MoveVisitor : IVisitor
    {
        public GcHead* To;

        public int Visit(PaObject* op)
        {
            GcHead* g = GcHead.Of(op);
            if (g->IsCollecting)
            {
                GcList.Move(g, To);
                g->Prev &= ~GcHead.PrevMaskCollecting;
            }
            return 0;
        }

        public static delegate* unmanaged<PaObject*, void*, int> Trampoline => &VisitFromC;

        [System.Runtime.InteropServices.UnmanagedCallersOnly]
        private static int VisitFromC(PaObject* op, void* arg) => op == null ? 0 : ((MoveVisitor*)arg)->Visit(op);

        public static delegate* unmanaged<PaObject*, void*, int> NativeVisit => GcNative.Move;
    }

    // --------------------------------------------------------------- debug

    private static void ShowStatsEachGeneration(GcState* gc)
    {
        DebugLog.Write($"gc: objects in each generation: {GcList.Size(GcState.GenHead(gc, 0))} " +
                       $"{GcList.Size(GcState.GenHead(gc, 1))} {GcList.Size(GcState.GenHead(gc, 2))}");
        DebugLog.Write($"gc: objects in permanent generation: {GcList.Size(&gc->Permanent)}");
    }

    private static void DebugCycle(string message, PaObject* op) =>
        DebugLog.Write($"gc: {message} <{Lifecycle.NameOf(op->ObType)} {Errors.Hex(op)}>");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void GcFatal(PaObject* op, string message) =>
        Fatal.Error($"gc: {message}: object {Errors.Hex(op)} of type '{Lifecycle.NameOf(op->ObType)}', " +
                    $"reference count {op->ObRefcnt}");
}

/// <summary>Writes the collector's debug lines to stderr, as PySys_WriteStderr.</summary>
internal static class DebugLog
{
    public static void Write(string line)
    {
        Platform.Stderr.WriteLine(line);
    }
}
