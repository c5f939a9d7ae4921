using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using PyAlloc.Core.Abi;

namespace PyAlloc.Core.Objects;

/* ============================================================================
   The collector's C visit procedures (native/entry/gc_visit.c)

   A type with a C traverse is traversed by calling it with a visit
   function.  Inside libpyalloc.so that function is C (gc_visit.c: the same
   code as the C# visitors, on the GC head directly) and the traverse is
   called through a SuppressGCTransition function pointer: the whole
   traversal stays in C, with no entry into the managed runtime per
   reference.  The rule it puts on a traverse (pyalloc.h, pa_traverseproc):
   call visit and plain C code, never a library function that enters the
   core.

   Outside the library (the in-process tests run the core on CoreCLR, with
   no C linked in) the addresses stay null and Traverse.Visit calls the
   traverse with the visitor's [UnmanagedCallersOnly] trampoline instead.

   The arg each procedure receives is the C# visitor struct itself; its
   layout is the C struct's in gc_visit.h (GcVisitLayoutTests checks it).
============================================================================ */

/// <summary>The addresses of the C visit procedures, or null outside libpyalloc.so.</summary>
internal static unsafe partial class GcNative
{
    private const string Native = "pyalloc_native";
    private const int Count = 6;

    /// <summary>visit_decref on a <c>Collector.DecrefVisitor</c>.</summary>
    public static delegate* unmanaged<PaObject*, void*, int> Decref;
    /// <summary>visit_reachable on a <c>Collector.ReachableVisitor</c>.</summary>
    public static delegate* unmanaged<PaObject*, void*, int> Reachable;
    /// <summary>visit_move on a <c>Collector.MoveVisitor</c>.</summary>
    public static delegate* unmanaged<PaObject*, void*, int> Move;
    /// <summary>referrersvisit on a <c>GcModule.ReferrerVisitor</c>.</summary>
    public static delegate* unmanaged<PaObject*, void*, int> Referrer;
    /// <summary>referentsvisit on a <c>GcModule.ReferentVisitor</c>.</summary>
    public static delegate* unmanaged<PaObject*, void*, int> Referent;
    /// <summary>visit_decref deferred through a <c>Collector.DecrefRing</c>.</summary>
    public static delegate* unmanaged<PaObject*, void*, int> DecrefRing;

    private static bool s_asked;

    /// <summary>
    /// Inside libpyalloc.so (the switch PyAlloc.NativeGc, set by its build): asks the C side
    /// for the procedures.  Called by every Runtime.Create (nothing is collected before a
    /// runtime exists); only the first asks, and elsewhere it is a no-op.
    /// </summary>
    /// <remarks>Two first calls racing ask twice and write the same addresses: harmless.</remarks>
    public static void Initialize()
    {
        if (Volatile.Read(ref s_asked))
            return;
        if (AppContext.TryGetSwitch("PyAlloc.NativeGc", out bool native) && native)
            AskTheLibrary();
        Volatile.Write(ref s_asked, true);
    }

    /* Out of line: the JIT binds a SuppressGCTransition call when it compiles its caller, and
       outside libpyalloc.so there is no "pyalloc_native" to bind. */
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void AskTheLibrary()
    {
        void** table = stackalloc void*[Count];
        if (Visitors(table, Count) != Count)
            return;
        Decref = (delegate* unmanaged<PaObject*, void*, int>)table[0];
        Reachable = (delegate* unmanaged<PaObject*, void*, int>)table[1];
        Move = (delegate* unmanaged<PaObject*, void*, int>)table[2];
        Referrer = (delegate* unmanaged<PaObject*, void*, int>)table[3];
        Referent = (delegate* unmanaged<PaObject*, void*, int>)table[4];
        DecrefRing = (delegate* unmanaged<PaObject*, void*, int>)table[5];
    }

    /// <summary>
    /// Calls a type's C traverse with a C visit procedure and no GC transition.
    /// </summary>
    /// <remarks>Pre: <paramref name="visit"/> is one of this class's procedures (C that never
    /// enters managed code) and the traverse keeps pa_traverseproc's rule.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int CallTraverse(delegate* unmanaged<PaObject*, void*, void*, int> traverse, PaObject* o,
                                   delegate* unmanaged<PaObject*, void*, int> visit, void* arg) =>
        ((delegate* unmanaged[SuppressGCTransition]<PaObject*, void*, void*, int>)traverse)(o, visit, arg);

    /// <summary>The decrements a <c>Collector.DecrefRing</c> still holds: 0, or 1 with its Bad set.</summary>
    /// <remarks>Pre: <see cref="DecrefRing"/> is not null (inside libpyalloc.so).  Out of line,
    /// as <see cref="AskTheLibrary"/>, so that callers compile where the C is absent.</remarks>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int FlushDecrefRing(void* ring) => Flush(ring);

    [LibraryImport(Native, EntryPoint = "pa__gc_decref_ring_flush"), SuppressGCTransition]
    private static partial int Flush(void* ring);

    [LibraryImport(Native, EntryPoint = "pa__gc_visitors"), SuppressGCTransition]
    private static partial int Visitors(void** table, int cap);
}
