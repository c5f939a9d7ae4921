using System.Runtime.InteropServices;
using PyAlloc.Core.Abi;
using PyAlloc.Core.Objects;
using PyAlloc.Core.Support;

namespace PyAlloc.Core.Gc;

/// <summary>
/// The <c>gc</c> module's functions over a runtime (section 7 of pyalloc.h), as CPython 3.12's
/// gcmodule.c implements them. Argument checks that are part of the C contract live here.
/// </summary>
internal static unsafe class GcModule
{
    public const int DebugStats = 1, DebugCollectable = 2, DebugUncollectable = 4, DebugSaveAll = 32;
    private const int KnownDebugFlags = DebugStats | DebugCollectable | DebugUncollectable | DebugSaveAll;

    /// <summary>gc.collect(generation).</summary>
    public static nint Collect(Runtime* rt, int generation)
    {
        if (generation < 0 || generation >= GcState.NumGenerations)
            return Errors.Fail($"pa_gc_collect: invalid generation {generation} (expected 0, 1 or 2)");
        return Collector.Collect(rt, generation);
    }

    /// <summary>gc.enable() / gc.disable().</summary>
    public static void SetEnabled(Runtime* rt, bool enabled) => rt->Gc.Enabled = enabled ? 1 : 0;

    /// <summary>gc.isenabled(): 1 or 0.</summary>
    public static int IsEnabled(Runtime* rt) => rt->Gc.Enabled;

    /// <summary>gc.get_count(): each generation's count into output[0..3).</summary>
    public static void GetCount(Runtime* rt, nint* output)
    {
        for (int i = 0; i < GcState.NumGenerations; i++)
            output[i] = rt->Gc.Generations[i].Count;
    }

    /// <summary>gc.get_threshold(): each generation's threshold into output[0..3).</summary>
    public static void GetThreshold(Runtime* rt, int* output)
    {
        for (int i = 0; i < GcState.NumGenerations; i++)
            output[i] = rt->Gc.Generations[i].Threshold;
    }

    /// <summary>gc.get_stats(): each generation's figures into output[0..3).</summary>
    public static void GetStats(Runtime* rt, PaGcGenerationStats* output)
    {
        for (int i = 0; i < GcState.NumGenerations; i++)
            output[i] = rt->Gc.Stats[i];
    }

    /// <summary>gc.get_debug().</summary>
    public static int GetDebug(Runtime* rt) => rt->Gc.Debug;

    /// <summary>gc.get_freeze_count(): the objects of the permanent generation.</summary>
    public static nuint GetFreezeCount(Runtime* rt) => (nuint)GcList.Size(&rt->Gc.Permanent);

    /// <summary>PyObject_GC_Track: o joins generation 0 unless its type has no GC or it is tracked already.</summary>
    public static void Track(PaObject* o)
    {
        if (o->ObType->HasGc && !GcHead.Of(o)->IsTracked)
            GcList.Track(o->ObType->Runtime, GcHead.Of(o));
    }

    /// <summary>PyObject_GC_UnTrack: o leaves its generation, if tracked.</summary>
    public static void Untrack(PaObject* o)
    {
        if (GcHead.Of(o)->IsTracked)
            GcList.Untrack(GcHead.Of(o));
    }

    /// <summary>PyObject_GC_IsTracked: 1 or 0.</summary>
    public static int IsTracked(PaObject* o) => GcHead.Of(o)->IsTracked ? 1 : 0;

    /// <summary>PyObject_GC_IsFinalized: 1 or 0.</summary>
    public static int IsFinalized(PaObject* o) => GcHead.Of(o)->IsFinalized ? 1 : 0;

    public static void SetThreshold(Runtime* rt, int t0, int t1, int t2)
    {
        rt->Gc.Generations[0].Threshold = t0;
        rt->Gc.Generations[1].Threshold = t1;
        rt->Gc.Generations[2].Threshold = t2;
    }

    public static void SetDebug(Runtime* rt, int flags)
    {
        if ((flags & ~KnownDebugFlags) != 0)
            Errors.Set($"pa_gc_set_debug: unknown flags 0x{flags & ~KnownDebugFlags:x} ignored");
        rt->Gc.Debug = flags & KnownDebugFlags;
    }

    // ------------------------------------------------------------- objects

    /// <summary>gc.get_objects(generation): new references into out[0..cap), the total returned.</summary>
    public static nuint GetObjects(Runtime* rt, int generation, PaObject** output, nuint cap)
    {
        if (generation < -1 || generation >= GcState.NumGenerations)
            return SizeError($"pa_gc_get_objects: invalid generation {generation} (expected -1, 0, 1 or 2)");
        if (output == null && cap != 0)
            return SizeError("pa_gc_get_objects: out is NULL but cap is not 0");
        var sink = new Sink(output, cap);
        int first = generation < 0 ? 0 : generation;
        int last = generation < 0 ? GcState.NumGenerations - 1 : generation;
        for (int i = first; i <= last; i++)
        {
            GcHead* list = GcState.GenHead(&rt->Gc, i);
            for (GcHead* g = (GcHead*)list->Next; g != list; g = (GcHead*)g->Next)
                sink.Add(GcHead.ObjectOf(g));
        }
        return sink.Total;
    }

    /// <summary>
    /// gc.get_referrers(*objs): the tracked objects of generations 0-2 (youngest first, each in list order) that
    /// refer to any of objs[0..n); each referrer once, however many of them it refers to.
    /// </summary>
    /// <remarks>Pre: objs[0..n) are live objects of rt (n may be 0: nothing refers to nothing).</remarks>
    public static nuint GetReferrers(Runtime* rt, PaObject** objs, nuint n, PaObject** output, nuint cap,
                                     string caller = "pa_gc_get_referrers")
    {
        if (output == null && cap != 0)
            return SizeError($"{caller}: out is NULL but cap is not 0");
        if (n == 0)
            return 0;
        if (n == 1)
            return CollectReferrers(rt, new ReferrerVisitor { Target = objs[0] }, output, cap);
        var set = new PointerMap();
        try
        {
            for (nuint i = 0; i < n; i++)
            {
                if (!set.Set(objs[i], 1))
                    return SizeError($"{caller}: out of memory");
            }
            return CollectReferrers(rt, new AnyReferrerVisitor { Targets = &set }, output, cap);
        }
        finally
        {
            set.Dispose();
        }
    }

    /* gc_referrers_for over every generation. */
    private static nuint CollectReferrers<T>(Runtime* rt, T visitor, PaObject** output, nuint cap)
        where T : struct, IVisitor
    {
        var sink = new Sink(output, cap);
        for (int i = 0; i < GcState.NumGenerations; i++)
        {
            GcHead* list = GcState.GenHead(&rt->Gc, i);
            for (GcHead* g = (GcHead*)list->Next; g != list; g = (GcHead*)g->Next)
            {
                PaObject* o = GcHead.ObjectOf(g);
                if (Traverse.Visit(o, ref visitor) != 0) // a self-reference counts, as in CPython
                    sink.Add(o);
            }
        }
        return sink.Total;
    }

    /// <summary>
    /// gc.get_referents(*objs): what each of objs[0..n) refers to, in order, object after object (duplicates
    /// kept, as CPython's list); an object that is not GC adds nothing.
    /// </summary>
    public static nuint GetReferents(PaObject** objs, nuint n, PaObject** output, nuint cap,
                                     string caller = "pa_gc_get_referents")
    {
        if (output == null && cap != 0)
            return SizeError($"{caller}: out is NULL but cap is not 0");
        var visitor = new ReferentVisitor { Sink = new Sink(output, cap) };
        for (nuint i = 0; i < n; i++)
        {
            // Invariants: visitor.Sink holds the referents of objs[0..i).
            if (objs[i]->ObType->HasGc)
                Traverse.Visit(objs[i], ref visitor);
        }
        return visitor.Sink.Total;
    }

    // -------------------------------------------------------------- freeze

    /// <summary>gc.freeze(): every generation into the permanent one.</summary>
    public static void Freeze(Runtime* rt)
    {
        for (int i = 0; i < GcState.NumGenerations; i++)
            GcList.Merge(GcState.GenHead(&rt->Gc, i), &rt->Gc.Permanent);
        rt->Gc.Generations[0].Count = 0;
    }

    /// <summary>gc.unfreeze(): the permanent generation into the oldest.</summary>
    public static void Unfreeze(Runtime* rt) =>
        GcList.Merge(&rt->Gc.Permanent, GcState.GenHead(&rt->Gc, GcState.NumGenerations - 1));

    // ------------------------------------------------------------- garbage

    /// <summary>Appends <paramref name="o"/> to gc.garbage (which takes its own reference).</summary>
    public static void AppendGarbage(Runtime* rt, PaObject* o)
    {
        PaObject* garbage = Garbage(rt);
        if (garbage == null || ListObject.Append(garbage, o) != 0)
            Errors.Set("gc: out of memory appending to gc.garbage"); // CPython clears the error too
    }

    /// <summary>gc.garbage as new references.</summary>
    public static nuint GetGarbage(Runtime* rt, PaObject** output, nuint cap)
    {
        if (output == null && cap != 0)
            return SizeError("pa_gc_get_garbage: out is NULL but cap is not 0");
        var sink = new Sink(output, cap);
        ListObject* garbage = (ListObject*)rt->Gc.Garbage;
        if (garbage != null)
        {
            for (nint i = 0; i < garbage->Base.ObSize; i++)
                sink.Add(garbage->Items[i]);
        }
        return sink.Total;
    }

    /// <summary>del gc.garbage[index]: a negative index counts from the end; the runtime's reference goes.</summary>
    /// <returns>0, or -1 with CPython's IndexError text.</returns>
    public static int RemoveGarbageAt(Runtime* rt, nint index)
    {
        ListObject* garbage = (ListObject*)rt->Gc.Garbage;
        nint size = garbage == null ? 0 : garbage->Base.ObSize;
        nint i = index < 0 ? index + size : index;
        if (i < 0 || i >= size)
            return Errors.Fail($"pa_gc_garbage_remove_at: list assignment index out of range " +
                               $"(index {index}, gc.garbage holds {size})");
        RemoveGarbageItem(garbage, i);
        return 0;
    }

    /// <summary>gc.garbage.remove(o): the first occurrence of o goes.</summary>
    /// <returns>0, or -1 with CPython's ValueError text when o is not in gc.garbage.</returns>
    public static int RemoveGarbage(Runtime* rt, PaObject* o)
    {
        ListObject* garbage = (ListObject*)rt->Gc.Garbage;
        nint size = garbage == null ? 0 : garbage->Base.ObSize;
        for (nint i = 0; i < size; i++)
        {
            if (garbage->Items[i] == o)
            {
                RemoveGarbageItem(garbage, i);
                return 0;
            }
        }
        return Errors.Fail($"pa_gc_garbage_remove: list.remove(x): x not in list (x = {Errors.Hex(o)})");
    }

    /* The list is whole again before the reference goes (the object may die, and its
       finaliser may look at gc.garbage). */
    private static void RemoveGarbageItem(ListObject* garbage, nint i)
    {
        PaObject* item = garbage->Items[i];
        nint size = garbage->Base.ObSize;
        for (nint j = i + 1; j < size; j++)
            garbage->Items[j - 1] = garbage->Items[j];
        garbage->Base.ObSize = size - 1;
        RefCount.Decref(item);
    }

    /// <summary>pa_runtime_free's collection (<see cref="CollectorCalls"/>): a full one, then the warning below.</summary>
    public static void CollectAtShutdown(Runtime* rt)
    {
        Collector.Collect(rt, 2);
        WarnUncollectableAtShutdown(rt);
    }

    /// <summary>
    /// _PyGC_DumpShutdownStats, for pa_runtime_free after its final collection: unless DEBUG_SAVEALL is set,
    /// a non-empty gc.garbage is reported on stderr as CPython's ResourceWarning, and with DEBUG_UNCOLLECTABLE
    /// its objects are listed on the next line.
    /// </summary>
    public static void WarnUncollectableAtShutdown(Runtime* rt)
    {
        ListObject* garbage = (ListObject*)rt->Gc.Garbage;
        int debug = rt->Gc.Debug;
        if ((debug & DebugSaveAll) != 0 || garbage == null || garbage->Base.ObSize == 0)
            return;
        nint n = garbage->Base.ObSize;
        DebugLog.Write((debug & DebugUncollectable) != 0
            ? $"gc:0: ResourceWarning: gc: {n} uncollectable objects at shutdown"
            : $"gc:0: ResourceWarning: gc: {n} uncollectable objects at shutdown; " +
              "use gc.set_debug(gc.DEBUG_UNCOLLECTABLE) to list them");
        if ((debug & DebugUncollectable) == 0)
            return;
        var line = new System.Text.StringBuilder("      [");
        for (nint i = 0; i < n; i++)
        {
            PaObject* o = garbage->Items[i];
            line.Append(i == 0 ? "" : ", ").Append('<').Append(Lifecycle.NameOf(o->ObType))
                .Append(" object at ").Append(Errors.Hex(o)).Append('>');
        }
        DebugLog.Write(line.Append(']').ToString());
    }

    /// <summary>del gc.garbage[:]: the runtime's references go.</summary>
    public static void ClearGarbage(Runtime* rt)
    {
        if (rt->Gc.Garbage != null)
            ListObject.ClearItems(rt->Gc.Garbage);
    }

    /* gc.garbage is an untracked list (so it changes neither counts nor get_objects),
       made on first use; its references keep what it holds reachable. */
    private static PaObject* Garbage(Runtime* rt)
    {
        if (rt->Gc.Garbage == null)
        {
            nint count = rt->Gc.Generations[0].Count;
            PaObject* list = Lifecycle.New(rt->ListType, 0, "gc.garbage");
            if (list == null)
                return null;
            GcList.Untrack(GcHead.Of(list));
            rt->Gc.Generations[0].Count = count;
            rt->Gc.Garbage = list;
        }
        return rt->Gc.Garbage;
    }

    // ----------------------------------------------------------- callbacks

    /// <summary>gc.callbacks.append((cb, user)).</summary>
    public static int AddCallback(Runtime* rt, void* function, void* user)
    {
        if (function == null)
            return Errors.Fail("pa_gc_add_callback: cb is NULL");
        GcState* gc = &rt->Gc;
        if (gc->CallbackCount == gc->CallbackCapacity)
        {
            int capacity = gc->CallbackCapacity == 0 ? 4 : gc->CallbackCapacity * 2;
            var grown = (GcCallback*)NativeMemory.Realloc(gc->Callbacks, (nuint)(capacity * sizeof(GcCallback)));
            if (grown == null)
                return Errors.Fail("pa_gc_add_callback: out of memory");
            gc->Callbacks = grown;
            gc->CallbackCapacity = capacity;
        }
        gc->Callbacks[gc->CallbackCount++] = new GcCallback
        {
            Function = (delegate* unmanaged<Runtime*, int, PaGcInfo*, void*, void>)function,
            User = user,
        };
        return 0;
    }

    /// <summary>gc.callbacks.remove((cb, user)): the first match.</summary>
    public static int RemoveCallback(Runtime* rt, void* function, void* user)
    {
        GcState* gc = &rt->Gc;
        for (int i = 0; i < gc->CallbackCount; i++)
        {
            if (gc->Callbacks[i].Function == function && gc->Callbacks[i].User == user)
            {
                for (int j = i + 1; j < gc->CallbackCount; j++)
                    gc->Callbacks[j - 1] = gc->Callbacks[j];
                gc->CallbackCount--;
                return 0;
            }
        }
        return Errors.Fail("pa_gc_remove_callback: that callback and user pointer are not registered");
    }

    // ------------------------------------------------------------- helpers

    private static nuint SizeError(string message)
    {
        Errors.Set(message);
        return nuint.MaxValue;
    }

    /// <summary>Collects objects into a caller's array as new references, counting all of them.</summary>
    /// <remarks>Layout: the fields of pa__referent_arg (native/entry/gc_visit.h).</remarks>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Sink
    {
        private readonly PaObject** _output;
        private readonly nuint _cap;
        public nuint Total;

        public Sink(PaObject** output, nuint cap)
        {
            _output = output;
            _cap = cap;
            Total = 0;
        }

        public void Add(PaObject* o)
        {
            if (Total < _cap)
            {
                RefCount.Incref(o);
                _output[Total] = o;
            }
            Total++;
        }
    }

    /* referrersvisit: stop at the first reference to the target.
       Layout: pa__referrer_arg (native/entry/gc_visit.h). */
    [StructLayout(LayoutKind.Sequential)]
    internal struct ReferrerVisitor : IVisitor
    {
        public PaObject* Target;

        public int Visit(PaObject* o) => o == Target ? 1 : 0;

        public static delegate* unmanaged<PaObject*, void*, int> Trampoline => &VisitFromC;

        [UnmanagedCallersOnly]
        private static int VisitFromC(PaObject* o, void* arg) => o == null ? 0 : ((ReferrerVisitor*)arg)->Visit(o);

        public static delegate* unmanaged<PaObject*, void*, int> NativeVisit => GcNative.Referrer;
    }

    /* referrersvisit over several objects: stop at the first reference to any of them.  No C
       twin: a C traverse calls the managed trampoline (gc.get_referrers is not a hot path). */
    internal struct AnyReferrerVisitor : IVisitor
    {
        public PointerMap* Targets;

        public int Visit(PaObject* o) => Targets->Contains(o) ? 1 : 0;

        public static delegate* unmanaged<PaObject*, void*, int> Trampoline => &VisitFromC;

        [UnmanagedCallersOnly]
        private static int VisitFromC(PaObject* o, void* arg) => o == null ? 0 : ((AnyReferrerVisitor*)arg)->Visit(o);

        public static delegate* unmanaged<PaObject*, void*, int> NativeVisit => null;
    }

    /* referentsvisit: every reference, in order.
       Layout: pa__referent_arg (native/entry/gc_visit.h), through Sink's fields. */
    [StructLayout(LayoutKind.Sequential)]
    internal struct ReferentVisitor : IVisitor
    {
        public Sink Sink;

        public int Visit(PaObject* o)
        {
            Sink.Add(o);
            return 0;
        }

        public static delegate* unmanaged<PaObject*, void*, int> Trampoline => &VisitFromC;

        [UnmanagedCallersOnly]
        private static int VisitFromC(PaObject* o, void* arg) => o == null ? 0 : ((ReferentVisitor*)arg)->Visit(o);

        public static delegate* unmanaged<PaObject*, void*, int> NativeVisit => GcNative.Referent;
    }
}
