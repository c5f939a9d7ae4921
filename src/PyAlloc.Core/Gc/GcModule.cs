using System.Runtime.InteropServices;
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

    /// <summary>gc.get_referrers(target): the tracked objects of generations 0-2 that refer to it.</summary>
    public static nuint GetReferrers(Runtime* rt, PaObject* target, PaObject** output, nuint cap)
    {
        if (output == null && cap != 0)
            return SizeError("pa_gc_get_referrers: out is NULL but cap is not 0");
        var sink = new Sink(output, cap);
        var visitor = new ReferrerVisitor { Target = target };
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

    /// <summary>gc.get_referents(o): what o refers to, in traversal order; 0 for a non-GC object.</summary>
    public static nuint GetReferents(PaObject* o, PaObject** output, nuint cap)
    {
        if (output == null && cap != 0)
            return SizeError("pa_gc_get_referents: out is NULL but cap is not 0");
        var visitor = new ReferentVisitor { Sink = new Sink(output, cap) };
        if (o->Type->HasGc)
            Traverse.Visit(o, ref visitor);
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
            for (nint i = 0; i < garbage->Base.Size; i++)
                sink.Add(garbage->Items[i]);
        }
        return sink.Total;
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
            Function = (delegate* unmanaged<Runtime*, int, GcInfo*, void*, void>)function,
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
