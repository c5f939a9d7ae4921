using System.Runtime.CompilerServices;
using PyAlloc.Core.Abi;
using PyAlloc.Core.Allocator;
using PyAlloc.Core.Support;

namespace PyAlloc.Core.Objects;

/* ============================================================================
   Validation: is this pointer a live object, runtime or type of ours?

   Every export that takes a pa_object *, pa_runtime * or pa_type * asks here
   first, and refuses (error set, never a crash) what fails.  Nothing here
   reads memory at the pointer before the allocator has vouched for it:
     runtime   Registry: a live runtime (made, not yet freed);
     type      Registry: a live type (of a live runtime);
     object    o - 16 (its GC head; under the debug hooks, 16 more for the
               hooks' header) must be the start of a live block of a
               runtime's memory:
                 in an arena     the arena map gives the arena, the arena its
                                 heap, the heap its runtime (Heap.Owner; a
                                 process heap has none), and the pool's live
                                 bitmap whether a live block starts there;
                 outside         Registry's large blocks (DebugHooks' owner
                                 table under the hooks) give the runtime;
               then o->ob_type (inside that live block, so readable) must be
               one of that runtime's types (Runtime.TypeSet): a list's item
               array is a live block of the runtime too, but not an object.
   Cost: a pool object costs the arena map's three loads, the pool header's
   and the live bitmap's, and one probe of the runtime's type set; a large
   object one locked lookup.  What cannot be checked: the inline pa_incref,
   pa_decref, pa_refcnt and pa_object_type of the header (no call is made).
============================================================================ */

/// <summary>Argument checks of the exports (see the comment above).</summary>
internal static unsafe class Validation
{
    /// <summary>The runtime of the live object <paramref name="o"/>, or null when o is no live object.</summary>
    public static Runtime* RuntimeOf(PaObject* o)
    {
        if (((nuint)o & 15) != 0 || (nuint)o < 4096)
            return null;
        byte* block = (byte*)GcHead.Of(o);
        if (Pymalloc.IsDebug)
            block -= DebugCalls.HeadBytes;
        Runtime* rt;
        ArenaObject* arena = ArenaMap.Lookup(block);
        if (arena != null)
        {
            Heap* heap = arena->Heap;
            rt = heap != null ? (Runtime*)heap->Owner : null;
            if (rt == null || Heap.ProbeUnlocked(heap, arena, block, out _) != BlockState.Live)
                return null;
        }
        else
        {
            rt = Pymalloc.IsDebug ? ObjectDebugCalls.OwnerOfBlock(block) : Registry.OwnerOfLargeBlock(block);
            if (rt == null)
                return null;
        }
        return rt->TypeSet.Contains(o->ObType) ? rt : null;
    }

    /// <summary>
    /// True when <paramref name="o"/> is a live object; else false with the error
    /// "<paramref name="caller"/>: <paramref name="what"/> ... is not a live object".
    /// </summary>
    public static bool CheckObject(PaObject* o, string caller, string what = "the object")
    {
        if (o != null && RuntimeOf(o) != null)
            return true;
        ReportObject(o, caller, what);
        return false;
    }

    /// <summary>
    /// True when <paramref name="o"/> is a live object of <paramref name="rt"/>; else false
    /// with the error set (not an object, or another runtime's).
    /// </summary>
    public static bool CheckObjectOf(PaObject* o, Runtime* rt, string caller, string what)
    {
        Runtime* owner = o != null ? RuntimeOf(o) : null;
        if (owner == rt)
            return true;
        if (owner == null)
            ReportObject(o, caller, what);
        else
            Errors.Set($"{caller}: {what} {Errors.Hex(o)} is an object of another runtime ({Errors.Hex(owner)}, " +
                       $"not {Errors.Hex(rt)}): objects of different runtimes may not refer to each other");
        return false;
    }

    /// <summary>True when <paramref name="rt"/> is a live runtime; else false with the error set.</summary>
    public static bool CheckRuntime(Runtime* rt, string caller)
    {
        if (rt != null && Registry.IsLiveRuntime(rt))
            return true;
        Errors.Set(rt == null
            ? $"{caller}: rt is NULL"
            : $"{caller}: rt {Errors.Hex(rt)} is not a live runtime (freed already, or never made by pa_runtime_new)");
        return false;
    }

    /// <summary>
    /// True when <paramref name="o"/> is a live object for which <paramref name="isKind"/> holds;
    /// else false with the error set ("<paramref name="caller"/>: expected a <paramref name="kind"/>,
    /// got a '&lt;type&gt;'" for a live object of another kind).
    /// </summary>
    public static bool CheckObjectKind(PaObject* o, delegate*<PaObject*, bool> isKind, string kind,
                                       string caller, string what)
    {
        if (!CheckObject(o, caller, what))
            return false;
        if (isKind(o))
            return true;
        Errors.Set($"{caller}: expected a {kind}, got a '{Lifecycle.NameOf(o->ObType)}'");
        return false;
    }

    /// <summary>
    /// True when objs[0..n) are each a live object (of <paramref name="rt"/>, when it is not null);
    /// objs may be NULL only for n 0. Else false with the error naming the first bad one.
    /// </summary>
    public static bool CheckObjects(PaObject** objs, nuint n, Runtime* rt, string caller)
    {
        if (n == 0)
            return true;
        if (objs == null)
        {
            Errors.Set($"{caller}: objs is NULL but n is {n}");
            return false;
        }
        for (nuint i = 0; i < n; i++)
        {
            // Invariants: objs[0..i) are live objects (of rt).
            PaObject* o = objs[i];
            Runtime* owner = o != null ? RuntimeOf(o) : null;
            if (owner != null && (rt == null || owner == rt))
                continue;
            string what = $"objs[{i}]";   // the message only on failure: no allocation per object
            if (rt != null)
                CheckObjectOf(o, rt, caller, what);
            else
                CheckObject(o, caller, what);
            return false;
        }
        return true;
    }

    /// <summary>True when the out-parameter <paramref name="output"/> is not null; else false with the error set.</summary>
    public static bool CheckOut(void* output, string caller)
    {
        if (output != null)
            return true;
        Errors.Set($"{caller}: out is NULL");
        return false;
    }

    /// <summary>
    /// True when the output array <paramref name="output"/> of <paramref name="cap"/> elements is usable
    /// (not null, or cap 0: a call that only counts); else false with the error set.
    /// </summary>
    public static bool CheckBuffer(void* output, nuint cap, string caller)
    {
        if (output != null || cap == 0)
            return true;
        Errors.Set($"{caller}: out is NULL but cap is not 0");
        return false;
    }

    /// <summary>True when <paramref name="t"/> is a live type; else false with the error set.</summary>
    public static bool CheckType(TypeObject* t, string caller)
    {
        if (t != null && Registry.RuntimeOfType(t) != null)
            return true;
        Errors.Set(t == null
            ? $"{caller}: t is NULL"
            : $"{caller}: t {Errors.Hex(t)} is not a live type (its runtime was freed, or it was never made by pa_type_new)");
        return false;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ReportObject(PaObject* o, string caller, string what) =>
        Errors.Set(o == null
            ? $"{caller}: {what} is NULL"
            : $"{caller}: {what} {Errors.Hex(o)} is not a live object of a PyAlloc runtime (freed already, " +
              "an object of a freed runtime, or not an object at all)");
}
