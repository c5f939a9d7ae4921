using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using PyAlloc.Core.Abi;
using PyAlloc.Core.Allocator;
using PyAlloc.Core.Platform;
using PyAlloc.Core.Support;

namespace PyAlloc.Core.Objects;

/* ============================================================================
   Runtimes: object spaces

   A runtime is what a CPython interpreter is to its objects: it owns a
   pymalloc heap of its own (so two runtimes on two threads never share a
   pool or a lock), the types made for it, the collector's state, the table
   of weak references, and the trashcan's list of deferred deallocations.
   Objects above 512 bytes come from the system allocator and are remembered
   in LargeBlocks so that pa_runtime_free can return them too.

   Calls on one runtime never overlap (the caller serialises them, as the
   GIL does), so nothing here takes a lock, not even the heap's: objects
   come from Heap.AllocateOwned and go back through Heap.FreeOwned, the
   unlocked entry points for a heap only its owner touches (HeapOwned.cs
   says why nothing else can reach a runtime's heap meanwhile).

   With the debug hooks on (PYALLOC_MALLOC=debug, malloc_debug) every block
   is a debug block of API 'o' (DebugHooks): the fast paths, which test the
   mode (malloc) and FastHeap (free) just as in pymalloc mode, fall through
   to the slow paths, which hand the work to the hooks.
============================================================================ */

/// <summary>One object space: <c>pa_runtime</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct Runtime
{
    public Heap* Heap;
    public Heap* FastHeap;             // Heap when the fast paths serve objects from it (pymalloc mode), else null
    public PointerMap LargeBlocks;     // block -> size, for blocks above 512 bytes
    public TypeObject* Types;          // every type of this runtime, newest first
    public TypeObject* ListType;
    public TypeObject* WeakrefType;
    public TypeObject* ProxyType;      // weakref.proxy's type (WeakrefObject)
    public GcState Gc;
    public PointerMap Weakrefs;        // object -> first WeakrefObject of its list
    public int DeallocDepth;           // the trashcan's nesting
    public GcHead* DeallocLater;       // deferred deallocations, linked through Next
    public bool Freeing;               // inside pa_runtime_free
    public PointerMap TypeSet;         // TypeObject* -> 1 for every type of this runtime (Validation)
    public void* Finalizing;           // Lifecycle's stack of objects whose finaliser runs now
    public FinalizeRegistry Finalizers; // weakref.finalize's registry

    /// <summary>A new runtime with GC enabled and thresholds (700, 10, 10); null when out of memory.</summary>
    public static Runtime* Create()
    {
        Pymalloc.EnsureInitialized();
        GcNative.Initialize();
        Runtime* rt = (Runtime*)NativeMemory.AllocZeroed((nuint)sizeof(Runtime));
        if (rt == null)
            return (Runtime*)Errors.Null("pa_runtime_new: out of memory");
        rt->Heap = Allocator.Heap.Create();
        if (rt->Heap == null)
        {
            NativeMemory.Free(rt);
            return (Runtime*)Errors.Null("pa_runtime_new: out of memory");
        }
        rt->Heap->Owner = rt;
        rt->FastHeap = Pymalloc.ObjectPools ? rt->Heap : null;
        GcState.Initialize(&rt->Gc);
        rt->ListType = ListObject.CreateType(rt);
        rt->WeakrefType = WeakrefObject.CreateType(rt);
        rt->ProxyType = WeakrefObject.CreateProxyType(rt);
        if (rt->ListType == null || rt->WeakrefType == null || rt->ProxyType == null || !Registry.AddRuntime(rt))
        {
            Destroy(rt);
            return (Runtime*)Errors.Null("pa_runtime_new: out of memory");
        }
        return rt;
    }

    /// <summary>
    /// pa_runtime_free: the atexit finalizers (weakref.finalize), a final full collection, the
    /// "uncollectable objects at shutdown" warning, then everything goes without deallocs.
    /// </summary>
    /// <remarks>
    /// Pre: <paramref name="rt"/> is live (<see cref="Validation"/>). Refused (-1, error set)
    /// while the runtime is inside a collection, a dealloc, a finaliser, a weakref.finalize
    /// callback or its own Free: a finaliser or a callback of its own cannot free the runtime
    /// it runs in.
    /// </remarks>
    public static int Free(Runtime* rt)
    {
        if (rt->Gc.Collecting != 0 || rt->DeallocDepth != 0 || rt->Finalizing != null || rt->Freeing
            || rt->Finalizers.Calling != 0)
            return Errors.Fail($"pa_runtime_free: runtime {Errors.Hex(rt)} is running a collection, a dealloc, " +
                               "a finaliser or its own pa_runtime_free (the call came from one of its own finalisers or " +
                               "callbacks): refused");
        rt->Freeing = true;            // Destroy unregisters it: every later call on rt is refused
        FinalizeRegistry.RunAtExit(rt); // CPython's atexit runs weakref.finalize._exitfunc first
        CollectorCalls.CollectAtShutdown(rt); // a full collection, then the uncollectable warning
        Destroy(rt);
        return 0;
    }

    private static void Destroy(Runtime* rt)
    {
        Registry.RemoveRuntime(rt);
        // The objects released without dealloc leave tracemalloc too.
        Tracing.Tracemalloc.ForgetWhere(&IsObjectOf, rt);
        GcState.Dispose(&rt->Gc);
        rt->LargeBlocks.ForEach(&FreeLargeBlock, null);
        rt->LargeBlocks.Dispose();
        rt->Weakrefs.Dispose();
        FinalizeRegistry.Dispose(&rt->Finalizers);
        rt->TypeSet.Dispose();
        for (TypeObject* t = rt->Types; t != null;)
        {
            TypeObject* next = t->NextType;
            TypeObject.Destroy(t);
            t = next;
        }
        Allocator.Heap.Destroy(rt->Heap);
        NativeMemory.Free(rt);
    }

    /* Whether a traced address is an object of rt: in its heap's pools, or a large
       object block of its (the object follows its GC head, and under the debug hooks
       the hooks' header comes first). */
    private static bool IsObjectOf(void* traced, void* state)
    {
        Runtime* rt = (Runtime*)state;
        ArenaObject* arena = ArenaMap.Lookup(traced);
        if (arena != null)
            return arena->Heap == rt->Heap;
        byte* head = (byte*)traced - sizeof(GcHead);
        return rt->LargeBlocks.Contains(head)
               || (Pymalloc.IsDebug && ObjectDebugCalls.OwnerOfBlock(head - DebugCalls.HeadBytes) == rt);
    }

    /// <summary>
    /// pa_runtime_get_malloc_stats: the figures of <paramref name="rt"/>'s own memory, as
    /// <see cref="Pymalloc.GetStats"/> gives the process allocator's: its heap's arenas and pools
    /// (objects and list item arrays up to 512 bytes) and its large blocks.
    /// </summary>
    /// <remarks>Pre: rt is valid. In the debug modes the blocks carry the hooks' 32 bytes each.</remarks>
    public static PaMallocStats GetMallocStats(Runtime* rt)
    {
        PaMallocStats stats = default;
        for (int i = 0; i < Geometry.NumSizeClasses; i++)
            stats.Classes[i].BlockSize = Geometry.IndexToSize((uint)i);
        if (rt->Heap != null)
            PyAlloc.Core.Allocator.Heap.AddStats(rt->Heap, &stats);
        stats.ArenaBytes = stats.ArenasCurrent * Geometry.ArenaSize;
        stats.BytesInFreePools = stats.PoolsFree * Geometry.PoolSize;
        stats.LargeBlocks = rt->LargeBlocks.Count;
        nuint bytes = 0;
        rt->LargeBlocks.ForEach(&AddLargeBlockBytes, &bytes);
        stats.LargeBytes = bytes;
        return stats;
    }

    /// <summary>
    /// pa_runtime_print_malloc_stats: the table of <see cref="GetMallocStats"/> on the C stream
    /// <paramref name="file"/> (not null). 0, or -1 with the error set when the write fails.
    /// </summary>
    /// <remarks>Pre: rt is valid.</remarks>
    public static int PrintMallocStats(Runtime* rt, void* file) =>
        Pymalloc.WriteStats(GetMallocStats(rt), file, "pa_runtime_print_malloc_stats");

    /// <summary>pa_runtime_pool_map: the pools of <paramref name="rt"/>'s heap into out[0..cap), the total returned.</summary>
    /// <remarks>Pre: rt is valid; out is not null unless cap is 0.</remarks>
    public static nuint PoolMap(Runtime* rt, PaPoolInfo* output, nuint cap) =>
        PyAlloc.Core.Allocator.Heap.PoolMap(rt->Heap, output, cap);

    private static void AddLargeBlockBytes(void* block, nuint size, void* state) => *(nuint*)state += size;

    private static void FreeLargeBlock(void* block, nuint size, void* state)
    {
        if (Pymalloc.IsDebug)
            ObjectDebugCalls.ForgetBlock(block);
        else
            Registry.RemoveLargeBlock(block);
        Libc.Free(block);
    }

    // ------------------------------------------------------------ memory

    /// <summary>
    /// <paramref name="n"/> bytes from the runtime's heap (zeroed when <paramref name="zero"/>);
    /// null when out of memory.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void* Malloc(Runtime* rt, nuint n, bool zero)
    {
        if (n <= Geometry.SmallRequestThreshold && Pymalloc.ObjectPools)
        {
            byte* p = Allocator.Heap.AllocateOwned(rt->Heap, Geometry.SizeToIndex(n));
            if (p != null && zero)
                NativeMemory.Clear(p, n);
            return p;
        }
        return MallocSlow(rt, n, zero);
    }

    /* Large blocks, the malloc mode, the debug hooks. */
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void* MallocSlow(Runtime* rt, nuint n, bool zero)
    {
        if (Pymalloc.IsDebug)
            return ObjectDebugCalls.Alloc(rt, n, zero);
        void* p = zero ? Libc.Calloc(1, n) : Libc.Malloc(n);
        if (p != null && !rt->LargeBlocks.Set(p, n))
        {
            Libc.Free(p);
            p = null;
        }
        else if (p != null && !Registry.AddLargeBlock(p, rt))
        {
            rt->LargeBlocks.Remove(p);
            Libc.Free(p);
            p = null;
        }
        return p;
    }

    /// <summary>Returns a block from <see cref="Malloc"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Free(Runtime* rt, void* p)
    {
        ArenaObject* arena = ArenaMap.Lookup(p);
        if (arena != null && arena->Heap == rt->FastHeap)
            Allocator.Heap.FreeOwned(rt->Heap, (byte*)p);
        else
            FreeSlow(rt, p);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void FreeSlow(Runtime* rt, void* p)
    {
        if (Pymalloc.IsDebug)
            ObjectDebugCalls.Free(rt, p, "object free");
        else if (rt->LargeBlocks.Remove(p))
        {
            Registry.RemoveLargeBlock(p);
            Libc.Free(p);
        }
        else
            Fatal.Error($"freeing {Errors.Hex(p)}, which is not a block of this runtime");
    }
}

/// <summary>
/// The debug hooks' entry points that a runtime's memory calls in the debug modes (its blocks
/// are debug blocks of API 'o'). The hooks sit above objects (Debugging/DebugHooks.cs), which
/// name them only through these slots; Api/Wiring.cs fills them once, when the library loads.
/// </summary>
/// <remarks>Called from the slow paths of <see cref="Runtime"/>'s memory and from checks only.</remarks>
internal static unsafe class ObjectDebugCalls
{
    /// <summary>DebugHooks.Alloc over the runtime's memory: null when out of memory.</summary>
    public static delegate*<Runtime*, nuint, bool, void*> Alloc;

    /// <summary>DebugHooks.Free over the runtime's memory, reported as the named function.</summary>
    public static delegate*<Runtime*, void*, string, void> Free;

    /// <summary>DebugHooks.OwnerOfObjectBlock: the runtime of a raw block from the system allocator, or null.</summary>
    public static delegate*<void*, Runtime*> OwnerOfBlock;

    /// <summary>DebugHooks.ForgetObjectBlock: a runtime's raw block leaves the hooks' registry.</summary>
    public static delegate*<void*, void> ForgetBlock;

    /// <summary>DebugHooks.CheckObjectBlock: true when the object block at a GC head is live and intact.</summary>
    public static delegate*<void*, string, bool> CheckBlock;
}
