using System.Collections.Generic;

namespace PyAlloc.Bindgen;

/* ----------------------------------------------------------------------------
   What the header cannot say about its .NET binding: the few decisions taken
   by hand, one table each, with the reason beside every entry.  Everything
   else follows from the header by the rules of BindingWriter.
---------------------------------------------------------------------------- */
internal static class BindingTables
{
    /// <summary>
    /// Exports declared with <c>[SuppressGCTransition]</c> (about 5 ns saved per call). Only calls that are
    /// short, never block, never print, never run user code (no count reaches zero, no collection, no
    /// callback) and never reach the fatal error handler: the runtime fails fast when a managed callback
    /// is entered from such a call.
    /// </summary>
    public static readonly HashSet<string> SuppressGCTransition =
    [
        // 1. errors and version: read a thread-local or a static string
        "pa_last_error", "pa_clear_error", "pa_version",
        // 2. the allocator's hot calls.  pa_free may report through the fatal error handler with the
        //    debug hooks on: PyMemory.Free then frees through TransitioningNativeMethods.pa_free.
        //    Not pa_calloc (clears up to the whole request), pa_realloc (copies), pa_trim, the statistics.
        "pa_malloc", "pa_free", "pa_usable_size",
        // 5, 6: reads of one object or type
        "pa_type_name", "pa_object_runtime", "pa_object_make_immortal", "pa_list_get", "pa_list_size", "pa_list_check",
        // 7: reads and writes of the collector's settings (no collection)
        "pa_gc_isenabled", "pa_gc_get_count", "pa_gc_get_threshold", "pa_gc_set_threshold", "pa_gc_is_tracked",
        "pa_gc_is_finalized", "pa_gc_get_debug",
        // 8: weakref reads (pa_weakref_get increfs, never decrefs)
        "pa_weakref_get", "pa_weakref_count", "pa_weakref_check",
        // 9: tracemalloc reads of one int (everything else takes the tracer's lock)
        "pa_tracemalloc_is_tracing", "pa_tracemalloc_get_traceback_limit",
    ];

    /// <summary>
    /// (function, parameter) → .NET type where the rule would give another: a pointer to a callback,
    /// which the caller reads back as an address (pa_finalize_peek and pa_finalize_detach fill it).
    /// </summary>
    public static readonly Dictionary<(string Function, string Parameter), string> ParameterTypes = new()
    {
        [("pa_finalize_peek", "cb")] = "void**",
        [("pa_finalize_detach", "cb")] = "void**",
    };

    /// <summary>
    /// Macros whose .NET constant type is not the rule's (unsigned long → ulong): the pool and arena sizes
    /// are <c>int</c>, so that address arithmetic with <c>nint</c> needs no cast.
    /// </summary>
    public static readonly Dictionary<string, string> ConstantTypes = new()
    {
        ["PA_POOL_SIZE"] = "int",
        ["PA_ARENA_SIZE"] = "int",
    };

    /// <summary>Standard C types and typedefs → .NET.</summary>
    public static readonly Dictionary<string, string> Primitives = new()
    {
        ["void"] = "void",
        ["char"] = "byte",
        ["int"] = "int",
        ["unsigned int"] = "uint",
        ["size_t"] = "nuint",
        ["uintptr_t"] = "nuint",
        ["intptr_t"] = "nint",
        ["ptrdiff_t"] = "nint",
        ["uint64_t"] = "ulong",
        ["int64_t"] = "long",
        ["uint32_t"] = "uint",
        ["int32_t"] = "int",
        ["unsigned long"] = "ulong",
    };
}
