using System.Runtime.CompilerServices;
using PyAlloc.Core.Abi;
using PyAlloc.Core.Allocator;
using PyAlloc.Core.Debugging;
using PyAlloc.Core.Objects;
using PyAlloc.Core.Support;
using PyAlloc.Core.Tracing;

namespace PyAlloc.Core.Api;

/// <summary>
/// The public allocation calls as the C ABI sees them: the allocator or object runtime,
/// then the trace when tracemalloc is on.
/// </summary>
/// <remarks>
/// A free forgets its trace before the block is released, so that another thread
/// cannot be handed the same address and have its new trace removed. With the debug
/// hooks on, the hooks do it, after checking the block: a report still finds the trace.
/// </remarks>
internal static unsafe class Traced
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void* Malloc(nuint n, AllocationSite* site)
    {
        void* p = Pymalloc.Malloc(n);
        if (Tracemalloc.IsTracing && p != null)
            Tracemalloc.OnAlloc(p, n, in SiteOrUnknown(site));
        Pymalloc.PrintStatsIfPending();
        return p;
    }

    public static void* Calloc(nuint nelem, nuint elsize, AllocationSite* site)
    {
        void* p = Pymalloc.Calloc(nelem, elsize);
        if (Tracemalloc.IsTracing && p != null)
            Tracemalloc.OnAlloc(p, nelem * elsize, in SiteOrUnknown(site));
        Pymalloc.PrintStatsIfPending();
        return p;
    }

    public static void* Realloc(void* p, nuint n, AllocationSite* site)
    {
        if (!Tracemalloc.IsTracing || p == null)
        {
            void* r = Pymalloc.Realloc(p, n);
            if (Tracemalloc.IsTracing && r != null)
                Tracemalloc.OnAlloc(r, n, in SiteOrUnknown(site));
            return r;
        }
        // Under the debug hooks, a bad or damaged block is reported while its trace is still
        // there (the report shows where it was allocated), and left as it is.
        if (Pymalloc.IsDebug && !DebugHooks.CheckBeforeRealloc(p))
            return null;
        // The old trace goes before the block can be released: once realloc moves it,
        // another thread may be handed p and trace it, and that trace must survive.
        uint generation = Tracemalloc.Generation;
        bool traced = Tracemalloc.TakeOut(p, out nuint oldSize, out nint oldTraceback);
        void* q = Pymalloc.Realloc(p, n);
        if (q == null)
        {
            if (traced)
                Tracemalloc.PutBack(p, oldSize, oldTraceback, generation); // p is untouched
            return null;
        }
        // As CPython: the new size is attributed to the realloc's site.
        Tracemalloc.OnAlloc(q, n, in SiteOrUnknown(site));
        return q;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Free(void* p)
    {
        if (Tracemalloc.IsTracing && p != null && !Pymalloc.IsDebug)
            Tracemalloc.OnFree(p);
        Pymalloc.Free(p);
    }

    /// <summary>
    /// pa_free of a block the thread cache may keep (native/entry, pa__free_keep_large): the block
    /// <paramref name="evict"/> the cache lets go of (if any) is released, then <paramref name="p"/> is freed,
    /// or kept for the cache when it is a large block it may keep.
    /// </summary>
    /// <returns>The usable size of p when the cache keeps it; 0 when p was freed (or refused).</returns>
    public static nuint FreeKeepLarge(void* p, void* evict)
    {
        if (evict != null)
            LargeBlocks.ReleaseCached(evict);
        if (Tracemalloc.IsTracing)
        {
            Free(p);   // tracing began meanwhile: the plain pa_free
            return 0;
        }
        return Pymalloc.FreeOrKeepLarge(p);
    }

    /// <summary>pa_object_new(_var)(_at): the object, traced by its address (as get_object_traceback finds it);
    /// pa_object_new_var of a type without items is refused.</summary>
    public static PaObject* NewObject(TypeObject* t, nuint nitems, bool variable, AllocationSite* site)
    {
        string caller = variable ? "pa_object_new_var" : "pa_object_new";
        if (variable && !t->IsVariableSized)
            return (PaObject*)Errors.Null($"{caller}: type '{Lifecycle.NameOf(t)}' has itemsize 0");
        return NewObject(t, nitems, caller, site);
    }

    /// <summary>An object of <paramref name="t"/> for <paramref name="caller"/> (pa_list_new, ...), traced.</summary>
    public static PaObject* NewObject(TypeObject* t, nuint nitems, string caller, AllocationSite* site)
    {
        PaObject* o = Lifecycle.New(t, nitems, caller);
        if (Tracemalloc.IsTracing && o != null)
            Tracemalloc.OnAlloc(o, Lifecycle.SizeOf(o), in SiteOrUnknown(site));
        Pymalloc.PrintStatsIfPending();
        return o;
    }

    /// <summary>
    /// pa_object_gc_resize(_at): the object resized (<see cref="ObjectResize.Resize"/>), its trace following
    /// it as CPython's realloc hook does: the old trace goes, the new address is traced with the new size
    /// at the resize's site (also when the object was not traced before). A refused or failed resize
    /// leaves the trace as it was.
    /// </summary>
    public static PaObject* ResizeObject(PaObject* o, nuint nitems, string caller, AllocationSite* site)
    {
        if (!Tracemalloc.IsTracing)
            return ObjectResize.Resize(o, nitems, caller);
        // As Realloc: the old trace goes before the block can be released.
        uint generation = Tracemalloc.Generation;
        bool traced = Tracemalloc.TakeOut(o, out nuint oldSize, out nint oldTraceback);
        PaObject* r = ObjectResize.Resize(o, nitems, caller);
        if (r == null)
        {
            if (traced)
                Tracemalloc.PutBack(o, oldSize, oldTraceback, generation); // o is untouched
            return null;
        }
        Tracemalloc.OnAlloc(r, Lifecycle.SizeOf(r), in SiteOrUnknown(site));
        return r;
    }

    private static ref readonly AllocationSite SiteOrUnknown(AllocationSite* site)
    {
        if (site != null)
            return ref *site;
        return ref s_unknown;
    }

    private static readonly AllocationSite s_unknown;
}
