using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace PyAlloc.Interop;

/* Sections 4 to 8 of include/pyalloc.h: runtimes, objects, the list, the collector and weak
   references.  Types map as in section 1-3, plus: pa_runtime* -> PaRuntime*, pa_type* ->
   PaType*, pa_object* -> PaObject*, intptr_t -> nint, unsigned -> uint, an array parameter
   (intptr_t out[3]) -> a pointer, and the function pointer typedefs (pa_gc_callback, ...) ->
   delegate* unmanaged[Cdecl]<...> with the same parameter list.

   GC transitions: [SuppressGCTransition] only on calls that never run user code (no count can
   reach zero in them, no collection, no callback) and never block.  Everything that may free an
   object, collect or call back keeps the transition, since finalisers, weakref callbacks and gc
   callbacks may be managed code ([UnmanagedCallersOnly]). */
public static unsafe partial class NativeMethods
{
    /// <summary><c>PA_SIZE_ERROR</c>, <c>((size_t)-1)</c>: what <c>size_t</c> calls return on failure.</summary>
    /// <remarks>A <see cref="ulong"/> because a <see cref="nuint"/> constant cannot hold it; compare
    /// results with <c>result == PA_SIZE_ERROR</c> (the <see cref="nuint"/> widens).</remarks>
    public const ulong PA_SIZE_ERROR = ulong.MaxValue;

    /// <summary><c>PA_TPFLAGS_HAVE_GC</c>: the type takes part in cycle collection; its objects are tracked.</summary>
    public const uint PA_TPFLAGS_HAVE_GC = 1u << 14;
    /// <summary><c>PA_TPFLAGS_ITEMS_ARE_REFS</c>: the items of a variable-sized object are <c>pa_object *</c> too (itemsize must be 8).</summary>
    public const uint PA_TPFLAGS_ITEMS_ARE_REFS = 1u << 20;

    /// <summary><c>PA_GC_DEBUG_STATS</c>: print statistics during collection (to stderr).</summary>
    public const int PA_GC_DEBUG_STATS = 1;
    /// <summary><c>PA_GC_DEBUG_COLLECTABLE</c>: print collectable objects found.</summary>
    public const int PA_GC_DEBUG_COLLECTABLE = 2;
    /// <summary><c>PA_GC_DEBUG_UNCOLLECTABLE</c>: print uncollectable objects found.</summary>
    public const int PA_GC_DEBUG_UNCOLLECTABLE = 4;
    /// <summary><c>PA_GC_DEBUG_SAVEALL</c>: save every unreachable object in gc garbage instead of freeing it.</summary>
    public const int PA_GC_DEBUG_SAVEALL = 32;
    /// <summary><c>PA_GC_DEBUG_LEAK</c>: <c>COLLECTABLE | UNCOLLECTABLE | SAVEALL</c>.</summary>
    public const int PA_GC_DEBUG_LEAK = PA_GC_DEBUG_COLLECTABLE | PA_GC_DEBUG_UNCOLLECTABLE | PA_GC_DEBUG_SAVEALL;

    /// <summary><c>PA_GC_START</c>: the phase a gc callback is told before a collection.</summary>
    public const int PA_GC_START = 0;
    /// <summary><c>PA_GC_STOP</c>: the phase a gc callback is told after a collection.</summary>
    public const int PA_GC_STOP = 1;

    // ------------------------------------------------------------------------ 4. runtimes

    /// <summary><c>pa_runtime *pa_runtime_new(void)</c>: a new runtime, GC enabled, thresholds (700, 10, 10), no objects.</summary>
    /// <returns>The runtime, or null (error set) when out of memory.</returns>
    [LibraryImport(LibraryName)]
    public static partial PaRuntime* pa_runtime_new();

    /// <summary><c>void pa_runtime_free(pa_runtime *rt)</c>: a final full collection (finalisers, weakref and gc
    /// callbacks run), then every object still alive is released without its finaliser or dealloc, and all the
    /// runtime's memory is returned. Every pointer into the runtime dies.</summary>
    /// <param name="rt">The runtime; null is a no-op.</param>
    [LibraryImport(LibraryName)]
    public static partial void pa_runtime_free(PaRuntime* rt);

    // ------------------------------------------------------- 5. objects, types, counts

    /// <summary><c>pa_type *pa_type_new(pa_runtime *rt, const pa_type_spec *spec)</c>: a type that lives as long as the runtime.</summary>
    /// <param name="rt">The runtime.</param>
    /// <param name="spec">The spec; copied with its name and ref_offsets.</param>
    /// <returns>The type, or null (error set) for a null runtime or a null or inconsistent spec.</returns>
    [LibraryImport(LibraryName)]
    public static partial PaType* pa_type_new(PaRuntime* rt, PaTypeSpec* spec);

    /// <summary><c>const char *pa_type_name(const pa_type *t)</c>: the type's name.</summary>
    /// <param name="t">The type.</param>
    /// <returns>NUL-terminated UTF-8 owned by the type; null (error set) for a null type.</returns>
    [LibraryImport(LibraryName), SuppressGCTransition]
    public static partial byte* pa_type_name(PaType* t);

    /// <summary><c>pa_object *pa_object_new(pa_type *t)</c>: a zeroed object, count 1, tracked when the type has GC.</summary>
    /// <param name="t">The type.</param>
    /// <returns>A NEW reference, or null (error set). Allocating a GC object may run an automatic collection first.</returns>
    [LibraryImport(LibraryName)]
    public static partial PaObject* pa_object_new(PaType* t);

    /// <summary><c>pa_object *pa_object_new_var(pa_type *t, size_t nitems)</c>: a variable-sized object, items zeroed, <c>ob_size</c> = <paramref name="nitems"/>.</summary>
    /// <param name="t">A type with a non-zero itemsize.</param>
    /// <param name="nitems">Number of items.</param>
    /// <returns>A NEW reference, or null (error set): null type, itemsize 0, size overflow, out of memory.</returns>
    [LibraryImport(LibraryName)]
    public static partial PaObject* pa_object_new_var(PaType* t, nuint nitems);

    /// <summary><c>pa_object *pa_object_gc_resize(pa_object *o, size_t nitems)</c>: CPython's <c>PyObject_GC_Resize</c>;
    /// <c>ob_size</c> = <paramref name="nitems"/>, contents kept up to the smaller size, new items zeroed; the object may move.</summary>
    /// <param name="o">A variable-sized object with one reference (the caller's), untracked, without weak references.</param>
    /// <param name="nitems">Number of items.</param>
    /// <returns>The object's (possibly new) address, or null (error set, <paramref name="o"/> unchanged): not a live object,
    /// itemsize 0, tracked, a count other than 1, immortal, weakly referenced, being finalised, a shrink over reference
    /// items still set, size overflow, out of memory, a damaged debug block.</returns>
    [LibraryImport(LibraryName)]
    public static partial PaObject* pa_object_gc_resize(PaObject* o, nuint nitems);

    /// <summary><c>pa_runtime *pa_object_runtime(const pa_object *o)</c>: the runtime the object belongs to.</summary>
    /// <param name="o">The object.</param>
    /// <returns>The runtime, or null (error set) for a null object.</returns>
    [LibraryImport(LibraryName), SuppressGCTransition]
    public static partial PaRuntime* pa_object_runtime(PaObject* o);

    /// <summary><c>void pa_object_make_immortal(pa_object *o)</c>: count fixed at 0xFFFFFFFF; <see cref="pa_incref"/> and
    /// <see cref="pa_decref"/> no longer change it and it is never freed (the runtime's end returns its memory).</summary>
    /// <param name="o">The object; null sets the error.</param>
    [LibraryImport(LibraryName), SuppressGCTransition]
    public static partial void pa_object_make_immortal(PaObject* o);

    /// <summary><c>void pa__dealloc(pa_object *o)</c>: called by <see cref="pa_decref"/> when a count reaches zero; not for direct use.</summary>
    /// <param name="o">An object whose count has just reached zero.</param>
    [LibraryImport(LibraryName)]
    public static partial void pa__dealloc(PaObject* o);

    /// <summary><c>void pa__refcnt_error(pa_object *o)</c>: called by <see cref="pa_decref"/> in <c>PA_DEBUG</c> builds when a
    /// count would go below zero: a fatal error (the process ends).</summary>
    /// <param name="o">The over-released object.</param>
    [LibraryImport(LibraryName)]
    public static partial void pa__refcnt_error(PaObject* o);

    // ------------------------------------------- 5. the header's static inline functions

    /* Not exported by the library: include/pyalloc.h defines them inline, so they are written
       here in C#, statement for statement.  The agreement tests check that every static inline
       function of the header has its counterpart here with the mapped signature. */

    /// <summary><c>static inline pa_type *pa_object_type(const pa_object *o)</c>: the object's type (borrowed).</summary>
    /// <param name="o">A live object.</param>
    /// <returns><c>o-&gt;ob_type</c>.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static PaType* pa_object_type(PaObject* o) => o->ObType;

    /// <summary><c>static inline intptr_t pa_refcnt(const pa_object *o)</c>: the reference count, as <c>sys.getrefcount()</c> without its own +1.</summary>
    /// <param name="o">A live object.</param>
    /// <returns><c>o-&gt;ob_refcnt</c> (0xFFFFFFFF for an immortal object).</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static nint pa_refcnt(PaObject* o) => o->ObRefcnt;

    /// <summary><c>static inline int pa_is_immortal(const pa_object *o)</c>: 1 when the count's low 32 bits are negative as an <c>int32_t</c>.</summary>
    /// <param name="o">A live object.</param>
    /// <returns>1 for an immortal object, else 0.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int pa_is_immortal(PaObject* o) => unchecked((int)(uint)o->ObRefcnt) < 0 ? 1 : 0;

    /// <summary><c>static inline void pa_incref(pa_object *o)</c>: one more reference; immortal objects stay as they are
    /// (a saturating add on the low 32 bits, as CPython 3.12).</summary>
    /// <param name="o">A live object, not null.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void pa_incref(PaObject* o)
    {
        if (unchecked((uint)((uint)o->ObRefcnt + 1u)) == 0)
            return;
        o->ObRefcnt++;
    }

    /// <summary><c>static inline void pa_decref(pa_object *o)</c>: one reference fewer; at zero the object is deallocated now
    /// (<see cref="pa__dealloc"/>: finaliser, weakref callbacks, dealloc, memory). No-op for an immortal object.</summary>
    /// <param name="o">A live object, not null.</param>
    /// <remarks>Compiled with the symbol <c>PA_DEBUG</c>, a count that would go below zero calls <see cref="pa__refcnt_error"/>, as the header does.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void pa_decref(PaObject* o)
    {
        if (pa_is_immortal(o) != 0)
            return;
#if PA_DEBUG
        if (o->ObRefcnt <= 0)
        {
            pa__refcnt_error(o);
            return;
        }
#endif
        if (--o->ObRefcnt == 0)
            pa__dealloc(o);
    }

    /// <summary><c>static inline void pa_xincref(pa_object *o)</c>: <see cref="pa_incref"/>, and a no-op for null.</summary>
    /// <param name="o">An object or null.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void pa_xincref(PaObject* o)
    {
        if (o != null)
            pa_incref(o);
    }

    /// <summary><c>static inline void pa_xdecref(pa_object *o)</c>: <see cref="pa_decref"/>, and a no-op for null.</summary>
    /// <param name="o">An object or null.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void pa_xdecref(PaObject* o)
    {
        if (o != null)
            pa_decref(o);
    }

    /// <summary><c>static inline void pa_setref(pa_object **slot, pa_object *v)</c>: <c>*slot = v</c> (v's reference is STOLEN),
    /// then the old value is released: the slot is never seen holding a dead object (CPython's <c>Py_XSETREF</c>).</summary>
    /// <param name="slot">The field to update.</param>
    /// <param name="v">The new value (a reference the slot now owns) or null.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void pa_setref(PaObject** slot, PaObject* v)
    {
        PaObject* old = *slot;
        *slot = v;
        pa_xdecref(old);
    }

    /// <summary><c>static inline void pa_clear(pa_object **slot)</c>: <c>*slot = NULL</c>, then the old value is released (CPython's <c>Py_CLEAR</c>).</summary>
    /// <param name="slot">The field to clear.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void pa_clear(PaObject** slot)
    {
        PaObject* old = *slot;
        if (old != null)
        {
            *slot = null;
            pa_decref(old);
        }
    }

    // ------------------------------------------------------------------- 6. the list

    /// <summary><c>pa_object *pa_list_new(pa_runtime *rt)</c>: a new empty list (a GC allocation).</summary>
    /// <param name="rt">The runtime.</param>
    /// <returns>A NEW reference, or null (error set).</returns>
    [LibraryImport(LibraryName)]
    public static partial PaObject* pa_list_new(PaRuntime* rt);

    /// <summary><c>int pa_list_append(pa_object *list, pa_object *item)</c>: the list takes its own reference to <paramref name="item"/>.</summary>
    /// <param name="list">A list.</param>
    /// <param name="item">The item (borrowed from the caller).</param>
    /// <returns>0, or -1 (error set): null list or item, not a list, out of memory.</returns>
    [LibraryImport(LibraryName)]
    public static partial int pa_list_append(PaObject* list, PaObject* item);

    /// <summary><c>pa_object *pa_list_get(pa_object *list, size_t i)</c>: the item at <paramref name="i"/>.</summary>
    /// <param name="list">A list.</param>
    /// <param name="i">The index.</param>
    /// <returns>BORROWED, or null (error set) when <paramref name="i"/> is out of range or <paramref name="list"/> is not a list.</returns>
    [LibraryImport(LibraryName), SuppressGCTransition]
    public static partial PaObject* pa_list_get(PaObject* list, nuint i);

    /// <summary><c>int pa_list_set(pa_object *list, size_t i, pa_object *item)</c>: replaces the item at <paramref name="i"/>;
    /// the list takes its own reference to <paramref name="item"/> and then drops the old one (which may die).</summary>
    /// <param name="list">A list.</param>
    /// <param name="i">The index.</param>
    /// <param name="item">The new item (borrowed from the caller).</param>
    /// <returns>0, or -1 (error set): out of range, null, not a list.</returns>
    [LibraryImport(LibraryName)]
    public static partial int pa_list_set(PaObject* list, nuint i, PaObject* item);

    /// <summary><c>size_t pa_list_size(pa_object *list)</c>: the number of items.</summary>
    /// <param name="list">A list.</param>
    /// <returns>The size, or <see cref="PA_SIZE_ERROR"/> (error set) for null or a non-list.</returns>
    [LibraryImport(LibraryName), SuppressGCTransition]
    public static partial nuint pa_list_size(PaObject* list);

    /// <summary><c>int pa_list_clear(pa_object *list)</c>: removes every item, dropping the list's references (items may die).</summary>
    /// <param name="list">A list.</param>
    /// <returns>0, or -1 (error set).</returns>
    [LibraryImport(LibraryName)]
    public static partial int pa_list_clear(PaObject* list);

    /// <summary><c>int pa_list_check(const pa_object *o)</c>: 1 when <paramref name="o"/> is a list, 0 otherwise (null included).</summary>
    /// <param name="o">Any object, or null.</param>
    /// <returns>1 or 0.</returns>
    [LibraryImport(LibraryName), SuppressGCTransition]
    public static partial int pa_list_check(PaObject* o);

    // ---------------------------------------------------------- 7. the cycle collector

    /// <summary><c>intptr_t pa_gc_collect(pa_runtime *rt, int generation)</c>: <c>gc.collect(generation)</c>, whatever the thresholds and even when disabled.</summary>
    /// <param name="rt">The runtime.</param>
    /// <param name="generation">0, 1 or 2.</param>
    /// <returns>Collected + uncollectable (resurrected objects count in neither); 0 when a collection is already running;
    /// -1 (error set) for a null runtime or a bad generation.</returns>
    [LibraryImport(LibraryName)]
    public static partial nint pa_gc_collect(PaRuntime* rt, int generation);

    /// <summary><c>void pa_gc_enable(pa_runtime *rt)</c>: <c>gc.enable()</c>.</summary>
    /// <param name="rt">The runtime; null sets the error.</param>
    [LibraryImport(LibraryName)]
    public static partial void pa_gc_enable(PaRuntime* rt);

    /// <summary><c>void pa_gc_disable(pa_runtime *rt)</c>: <c>gc.disable()</c>: no automatic collection.</summary>
    /// <param name="rt">The runtime; null sets the error.</param>
    [LibraryImport(LibraryName)]
    public static partial void pa_gc_disable(PaRuntime* rt);

    /// <summary><c>int pa_gc_isenabled(pa_runtime *rt)</c>: <c>gc.isenabled()</c>.</summary>
    /// <param name="rt">The runtime.</param>
    /// <returns>1, 0, or -1 (error set) for null.</returns>
    [LibraryImport(LibraryName), SuppressGCTransition]
    public static partial int pa_gc_isenabled(PaRuntime* rt);

    /// <summary><c>void pa_gc_get_count(pa_runtime *rt, intptr_t out[3])</c>: <c>gc.get_count()</c>.</summary>
    /// <param name="rt">The runtime.</param>
    /// <param name="out">Three counts, generation 0 first.</param>
    [LibraryImport(LibraryName), SuppressGCTransition]
    public static partial void pa_gc_get_count(PaRuntime* rt, nint* @out);

    /// <summary><c>void pa_gc_get_threshold(pa_runtime *rt, int out[3])</c>: <c>gc.get_threshold()</c>.</summary>
    /// <param name="rt">The runtime.</param>
    /// <param name="out">Three thresholds, generation 0 first.</param>
    [LibraryImport(LibraryName), SuppressGCTransition]
    public static partial void pa_gc_get_threshold(PaRuntime* rt, int* @out);

    /// <summary><c>void pa_gc_set_threshold(pa_runtime *rt, int t0, int t1, int t2)</c>: <c>gc.set_threshold()</c>; t0 = 0 disables automatic collection.</summary>
    /// <param name="rt">The runtime.</param>
    /// <param name="t0">Generation 0's threshold (GC allocations minus frees).</param>
    /// <param name="t1">Generation 1's (generation-0 collections).</param>
    /// <param name="t2">Generation 2's (generation-1 collections).</param>
    [LibraryImport(LibraryName), SuppressGCTransition]
    public static partial void pa_gc_set_threshold(PaRuntime* rt, int t0, int t1, int t2);

    /// <summary><c>int pa_gc_get_stats(pa_runtime *rt, pa_gc_generation_stats out[3])</c>: <c>gc.get_stats()</c>.</summary>
    /// <param name="rt">The runtime.</param>
    /// <param name="out">Three entries, generation 0 first.</param>
    /// <returns>0, or -1 (error set) for null arguments.</returns>
    [LibraryImport(LibraryName)]
    public static partial int pa_gc_get_stats(PaRuntime* rt, PaGcGenerationStats* @out);

    /// <summary><c>size_t pa_gc_get_objects(pa_runtime *rt, int generation, pa_object **out, size_t cap)</c>: <c>gc.get_objects(generation)</c>.</summary>
    /// <param name="rt">The runtime.</param>
    /// <param name="generation">0, 1, 2, or -1 for all three (frozen objects are in none).</param>
    /// <param name="out">Receives up to <paramref name="cap"/> NEW references; may be null when <paramref name="cap"/> is 0.</param>
    /// <param name="cap">Room in <paramref name="out"/>.</param>
    /// <returns>How many objects there are in all (call with cap 0 to size the array); <see cref="PA_SIZE_ERROR"/> (error set) for a bad generation.</returns>
    [LibraryImport(LibraryName)]
    public static partial nuint pa_gc_get_objects(PaRuntime* rt, int generation, PaObject** @out, nuint cap);

    /// <summary><c>size_t pa_gc_get_referrers(pa_runtime *rt, pa_object *target, pa_object **out, size_t cap)</c>: <c>gc.get_referrers(target)</c>.</summary>
    /// <param name="rt">The runtime.</param>
    /// <param name="target">The object referred to.</param>
    /// <param name="out">Receives up to <paramref name="cap"/> NEW references.</param>
    /// <param name="cap">Room in <paramref name="out"/>.</param>
    /// <returns>The total, or <see cref="PA_SIZE_ERROR"/> (error set).</returns>
    [LibraryImport(LibraryName)]
    public static partial nuint pa_gc_get_referrers(PaRuntime* rt, PaObject* target, PaObject** @out, nuint cap);

    /// <summary><c>size_t pa_gc_get_referents(pa_object *o, pa_object **out, size_t cap)</c>: <c>gc.get_referents(o)</c>, in traversal order.</summary>
    /// <param name="o">The object.</param>
    /// <param name="out">Receives up to <paramref name="cap"/> NEW references.</param>
    /// <param name="cap">Room in <paramref name="out"/>.</param>
    /// <returns>The total (0 for a non-GC object), or <see cref="PA_SIZE_ERROR"/> (error set).</returns>
    [LibraryImport(LibraryName)]
    public static partial nuint pa_gc_get_referents(PaObject* o, PaObject** @out, nuint cap);

    /// <summary><c>size_t pa_gc_get_referrers_n(pa_runtime *rt, pa_object *const *objs, size_t n, pa_object **out, size_t cap)</c>:
    /// <c>gc.get_referrers(*objs)</c>, each referrer once.</summary>
    /// <param name="rt">The runtime.</param>
    /// <param name="objs">The objects referred to (of <paramref name="rt"/>); null only when <paramref name="n"/> is 0.</param>
    /// <param name="n">How many.</param>
    /// <param name="out">Receives up to <paramref name="cap"/> NEW references.</param>
    /// <param name="cap">Room in <paramref name="out"/>.</param>
    /// <returns>The total, or <see cref="PA_SIZE_ERROR"/> (error set, naming a bad <c>objs[i]</c>).</returns>
    [LibraryImport(LibraryName)]
    public static partial nuint pa_gc_get_referrers_n(PaRuntime* rt, PaObject** objs, nuint n, PaObject** @out, nuint cap);

    /// <summary><c>size_t pa_gc_get_referents_n(pa_object *const *objs, size_t n, pa_object **out, size_t cap)</c>:
    /// <c>gc.get_referents(*objs)</c>, object after object, duplicates kept.</summary>
    /// <param name="objs">The objects; null only when <paramref name="n"/> is 0.</param>
    /// <param name="n">How many.</param>
    /// <param name="out">Receives up to <paramref name="cap"/> NEW references.</param>
    /// <param name="cap">Room in <paramref name="out"/>.</param>
    /// <returns>The total, or <see cref="PA_SIZE_ERROR"/> (error set).</returns>
    [LibraryImport(LibraryName)]
    public static partial nuint pa_gc_get_referents_n(PaObject** objs, nuint n, PaObject** @out, nuint cap);

    /// <summary><c>void pa_gc_track(pa_object *o)</c>: track a GC object (no-op when tracked or not GC).</summary>
    /// <param name="o">The object; null sets the error.</param>
    [LibraryImport(LibraryName)]
    public static partial void pa_gc_track(PaObject* o);

    /// <summary><c>void pa_gc_untrack(pa_object *o)</c>: untrack an object (no-op when untracked).</summary>
    /// <param name="o">The object; null sets the error.</param>
    [LibraryImport(LibraryName)]
    public static partial void pa_gc_untrack(PaObject* o);

    /// <summary><c>int pa_gc_is_tracked(pa_object *o)</c>: <c>gc.is_tracked</c>.</summary>
    /// <param name="o">The object.</param>
    /// <returns>1, 0, or -1 (error set) for null.</returns>
    [LibraryImport(LibraryName), SuppressGCTransition]
    public static partial int pa_gc_is_tracked(PaObject* o);

    /// <summary><c>int pa_gc_is_finalized(pa_object *o)</c>: <c>gc.is_finalized</c>: its PEP 442 finaliser has run.</summary>
    /// <param name="o">The object.</param>
    /// <returns>1, 0, or -1 (error set) for null.</returns>
    [LibraryImport(LibraryName), SuppressGCTransition]
    public static partial int pa_gc_is_finalized(PaObject* o);

    /// <summary><c>void pa_gc_freeze(pa_runtime *rt)</c>: <c>gc.freeze()</c>: every tracked object to the permanent generation.</summary>
    /// <param name="rt">The runtime.</param>
    [LibraryImport(LibraryName)]
    public static partial void pa_gc_freeze(PaRuntime* rt);

    /// <summary><c>void pa_gc_unfreeze(pa_runtime *rt)</c>: <c>gc.unfreeze()</c>: the permanent generation back into generation 2.</summary>
    /// <param name="rt">The runtime.</param>
    [LibraryImport(LibraryName)]
    public static partial void pa_gc_unfreeze(PaRuntime* rt);

    /// <summary><c>size_t pa_gc_get_freeze_count(pa_runtime *rt)</c>: <c>gc.get_freeze_count()</c>.</summary>
    /// <param name="rt">The runtime.</param>
    /// <returns>Objects in the permanent generation, or <see cref="PA_SIZE_ERROR"/> (error set) for null.</returns>
    [LibraryImport(LibraryName)]
    public static partial nuint pa_gc_get_freeze_count(PaRuntime* rt);

    /// <summary><c>void pa_gc_set_debug(pa_runtime *rt, int flags)</c>: <c>gc.set_debug</c>; unknown bits are ignored with the error set.</summary>
    /// <param name="rt">The runtime.</param>
    /// <param name="flags"><c>PA_GC_DEBUG_*</c>.</param>
    [LibraryImport(LibraryName)]
    public static partial void pa_gc_set_debug(PaRuntime* rt, int flags);

    /// <summary><c>int pa_gc_get_debug(pa_runtime *rt)</c>: <c>gc.get_debug</c>.</summary>
    /// <param name="rt">The runtime.</param>
    /// <returns>The flags, or -1 (error set) for null.</returns>
    [LibraryImport(LibraryName), SuppressGCTransition]
    public static partial int pa_gc_get_debug(PaRuntime* rt);

    /// <summary><c>size_t pa_gc_get_garbage(pa_runtime *rt, pa_object **out, size_t cap)</c>: <c>gc.garbage</c>.</summary>
    /// <param name="rt">The runtime.</param>
    /// <param name="out">Receives up to <paramref name="cap"/> NEW references.</param>
    /// <param name="cap">Room in <paramref name="out"/>.</param>
    /// <returns>The total, or <see cref="PA_SIZE_ERROR"/> (error set).</returns>
    [LibraryImport(LibraryName)]
    public static partial nuint pa_gc_get_garbage(PaRuntime* rt, PaObject** @out, nuint cap);

    /// <summary><c>void pa_gc_clear_garbage(pa_runtime *rt)</c>: drops the runtime's references to gc garbage (objects may die).</summary>
    /// <param name="rt">The runtime.</param>
    [LibraryImport(LibraryName)]
    public static partial void pa_gc_clear_garbage(PaRuntime* rt);

    /// <summary><c>int pa_gc_garbage_remove_at(pa_runtime *rt, intptr_t index)</c>: <c>del gc.garbage[index]</c> (negative from the end).</summary>
    /// <param name="rt">The runtime.</param>
    /// <param name="index">The position.</param>
    /// <returns>0, or -1 (error set: "list assignment index out of range").</returns>
    [LibraryImport(LibraryName)]
    public static partial int pa_gc_garbage_remove_at(PaRuntime* rt, nint index);

    /// <summary><c>int pa_gc_garbage_remove(pa_runtime *rt, pa_object *o)</c>: <c>gc.garbage.remove(o)</c>, the first occurrence.</summary>
    /// <param name="rt">The runtime.</param>
    /// <param name="o">The object.</param>
    /// <returns>0, or -1 (error set: "list.remove(x): x not in list").</returns>
    [LibraryImport(LibraryName)]
    public static partial int pa_gc_garbage_remove(PaRuntime* rt, PaObject* o);

    /// <summary><c>int pa_gc_add_callback(pa_runtime *rt, pa_gc_callback cb, void *user)</c>: <c>gc.callbacks.append</c>;
    /// <c>cb(rt, PA_GC_START / PA_GC_STOP, info, user)</c> runs around every collection, in the order added. A callback may not collect.</summary>
    /// <param name="rt">The runtime.</param>
    /// <param name="cb">The callback.</param>
    /// <param name="user">Passed back to it.</param>
    /// <returns>0, or -1 (error set).</returns>
    [LibraryImport(LibraryName)]
    public static partial int pa_gc_add_callback(PaRuntime* rt, delegate* unmanaged[Cdecl]<PaRuntime*, int, PaGcInfo*, void*, void> cb, void* user);

    /// <summary><c>int pa_gc_remove_callback(pa_runtime *rt, pa_gc_callback cb, void *user)</c>: removes the first registration of (cb, user).</summary>
    /// <param name="rt">The runtime.</param>
    /// <param name="cb">The callback.</param>
    /// <param name="user">The pointer it was added with.</param>
    /// <returns>0, or -1 (error set) when (cb, user) was not registered.</returns>
    [LibraryImport(LibraryName)]
    public static partial int pa_gc_remove_callback(PaRuntime* rt, delegate* unmanaged[Cdecl]<PaRuntime*, int, PaGcInfo*, void*, void> cb, void* user);

    // --------------------------------------------------------------- 8. weak references

    /// <summary><c>pa_object *pa_weakref_new(pa_object *target, pa_weakref_callback cb, void *user)</c>: a weak reference to <paramref name="target"/>.</summary>
    /// <param name="target">The object; its count is not changed.</param>
    /// <param name="cb">Null, or called as <c>cb(weakref, user)</c> when the target dies (by count or by collection),
    /// unless the weakref is itself garbage by then. Weakrefs without a callback are shared.</param>
    /// <param name="user">Passed back to <paramref name="cb"/>.</param>
    /// <returns>A NEW reference to a weakref (itself a GC object), or null (error set) for a null target.</returns>
    [LibraryImport(LibraryName)]
    public static partial PaObject* pa_weakref_new(PaObject* target, delegate* unmanaged[Cdecl]<PaObject*, void*, void> cb, void* user);

    /// <summary><c>pa_object *pa_weakref_get(pa_object *wr)</c>: the target.</summary>
    /// <param name="wr">A weakref.</param>
    /// <returns>A NEW reference to the target; null once it died (no error then), or null with the error set when
    /// <paramref name="wr"/> is null or not a weakref.</returns>
    [LibraryImport(LibraryName), SuppressGCTransition]
    public static partial PaObject* pa_weakref_get(PaObject* wr);

    /// <summary><c>size_t pa_weakref_count(pa_object *target)</c>: <c>weakref.getweakrefcount</c>.</summary>
    /// <param name="target">The object.</param>
    /// <returns>Live weakrefs to it, or <see cref="PA_SIZE_ERROR"/> (error set) for null.</returns>
    [LibraryImport(LibraryName), SuppressGCTransition]
    public static partial nuint pa_weakref_count(PaObject* target);

    /// <summary><c>int pa_weakref_check(const pa_object *o)</c>: 1 when <paramref name="o"/> is a weakref, 0 otherwise (null included).</summary>
    /// <param name="o">Any object, or null.</param>
    /// <returns>1 or 0.</returns>
    [LibraryImport(LibraryName), SuppressGCTransition]
    public static partial int pa_weakref_check(PaObject* o);

    /// <summary><c>size_t pa_weakref_getweakrefs(pa_object *target, pa_object **out, size_t cap)</c>: <c>weakref.getweakrefs</c>, in list order.</summary>
    /// <param name="target">The object.</param>
    /// <param name="out">Receives up to <paramref name="cap"/> NEW references.</param>
    /// <param name="cap">Room in <paramref name="out"/>.</param>
    /// <returns>The total, or <see cref="PA_SIZE_ERROR"/> (error set).</returns>
    [LibraryImport(LibraryName)]
    public static partial nuint pa_weakref_getweakrefs(PaObject* target, PaObject** @out, nuint cap);

    /// <summary><c>pa_object *pa_weakref_proxy_new(pa_object *target, pa_weakref_callback cb, void *user)</c>: <c>weakref.proxy</c>.</summary>
    /// <param name="target">The object; its count is not changed.</param>
    /// <param name="cb">Null, or called as <c>cb(proxy, user)</c> when the target dies. Proxies without a callback are shared.</param>
    /// <param name="user">Passed back to <paramref name="cb"/>.</param>
    /// <returns>A NEW reference to a proxy, or null (error set).</returns>
    [LibraryImport(LibraryName)]
    public static partial PaObject* pa_weakref_proxy_new(PaObject* target, delegate* unmanaged[Cdecl]<PaObject*, void*, void> cb, void* user);

    /// <summary><c>pa_object *pa_weakref_proxy_get(pa_object *proxy)</c>: the referent.</summary>
    /// <param name="proxy">A proxy.</param>
    /// <returns>A NEW reference, or null with the error set ("weakly-referenced object no longer exists" once it died).</returns>
    [LibraryImport(LibraryName)]
    public static partial PaObject* pa_weakref_proxy_get(PaObject* proxy);

    /// <summary><c>int pa_weakref_proxy_check(const pa_object *o)</c>: 1 when <paramref name="o"/> is a proxy.</summary>
    /// <param name="o">Any object, or null.</param>
    /// <returns>1 or 0.</returns>
    [LibraryImport(LibraryName)]
    public static partial int pa_weakref_proxy_check(PaObject* o);

    /// <summary><c>uint64_t pa_finalize_register(pa_object *target, pa_finalize_callback cb, void *user)</c>: <c>weakref.finalize</c>.</summary>
    /// <param name="target">The object.</param>
    /// <param name="cb">Called as <c>cb(user)</c> once, when the target dies (or earlier by <see cref="pa_finalize_call"/>).</param>
    /// <param name="user">Passed back to <paramref name="cb"/>.</param>
    /// <returns>A handle above 0, or 0 (error set).</returns>
    [LibraryImport(LibraryName)]
    public static partial ulong pa_finalize_register(PaObject* target, delegate* unmanaged[Cdecl]<void*, void> cb, void* user);

    /// <summary><c>int pa_finalize_alive(pa_runtime *rt, uint64_t handle)</c>: <c>finalize.alive</c>.</summary>
    /// <param name="rt">The target's runtime.</param>
    /// <param name="handle">The handle.</param>
    /// <returns>1 pending, 0 not, -1 (error set) for a bad runtime.</returns>
    [LibraryImport(LibraryName)]
    public static partial int pa_finalize_alive(PaRuntime* rt, ulong handle);

    /// <summary><c>int pa_finalize_call(pa_runtime *rt, uint64_t handle)</c>: <c>finalize()</c>.</summary>
    /// <param name="rt">The target's runtime.</param>
    /// <param name="handle">The handle.</param>
    /// <returns>1 when the callback ran, 0 when not alive, -1 (error set).</returns>
    [LibraryImport(LibraryName)]
    public static partial int pa_finalize_call(PaRuntime* rt, ulong handle);

    /// <summary><c>int pa_finalize_peek(pa_runtime *rt, uint64_t handle, pa_object **target, pa_finalize_callback *cb, void **user)</c>: <c>finalize.peek()</c>.</summary>
    /// <param name="rt">The target's runtime.</param>
    /// <param name="handle">The handle.</param>
    /// <param name="target">Null, or receives a NEW reference to the target.</param>
    /// <param name="cb">Null, or receives the callback.</param>
    /// <param name="user">Null, or receives the user pointer.</param>
    /// <returns>1, 0 when not alive or the target died, -1 (error set).</returns>
    [LibraryImport(LibraryName)]
    public static partial int pa_finalize_peek(PaRuntime* rt, ulong handle, PaObject** target, void** cb, void** user);

    /// <summary><c>int pa_finalize_detach(...)</c>: <c>finalize.detach()</c>: as <see cref="pa_finalize_peek"/>, and unregisters.</summary>
    /// <param name="rt">The target's runtime.</param>
    /// <param name="handle">The handle.</param>
    /// <param name="target">Null, or receives a NEW reference to the target.</param>
    /// <param name="cb">Null, or receives the callback.</param>
    /// <param name="user">Null, or receives the user pointer.</param>
    /// <returns>1, 0 when not alive or the target died, -1 (error set).</returns>
    [LibraryImport(LibraryName)]
    public static partial int pa_finalize_detach(PaRuntime* rt, ulong handle, PaObject** target, void** cb, void** user);

    /// <summary><c>int pa_finalize_get_atexit(pa_runtime *rt, uint64_t handle)</c>: <c>finalize.atexit</c>.</summary>
    /// <param name="rt">The target's runtime.</param>
    /// <param name="handle">The handle.</param>
    /// <returns>1 or 0 (0 when not alive), -1 (error set).</returns>
    [LibraryImport(LibraryName)]
    public static partial int pa_finalize_get_atexit(PaRuntime* rt, ulong handle);

    /// <summary><c>int pa_finalize_set_atexit(pa_runtime *rt, uint64_t handle, int atexit)</c>: <c>finalize.atexit = value</c>.</summary>
    /// <param name="rt">The target's runtime.</param>
    /// <param name="handle">The handle.</param>
    /// <param name="atexit">Non-zero: run at <c>pa_runtime_free</c>.</param>
    /// <returns>1 set, 0 not alive, -1 (error set).</returns>
    [LibraryImport(LibraryName)]
    public static partial int pa_finalize_set_atexit(PaRuntime* rt, ulong handle, int atexit);
}
