using PyAlloc.Core.Allocator;
using PyAlloc.Core.Support;

namespace PyAlloc.Core.Objects;

/* ============================================================================
   The registry: which runtimes, types and large object blocks are live

   Every call that takes a pa_runtime * or a pa_type * first asks here whether
   the pointer is one the library made and has not freed, without reading the
   memory it points to (a stale or made-up pointer may point anywhere).  Three
   maps under one lock, each a PointerMap:
     s_runtimes   Runtime* -> 1            added by pa_runtime_new, removed at
                                           the start of pa_runtime_free (so a
                                           second free, or any call during or
                                           after the free, is refused)
     s_types      TypeObject* -> Runtime*  added by pa_type_new (and the
                                           built-in types), removed when the
                                           runtime's types are freed
     s_large      block -> Runtime*        a runtime's blocks from the system
                                           allocator (objects above 512 bytes
                                           and every object in malloc mode),
                                           so that an object pointer outside
                                           every arena can be vouched for
   The lock is a leaf (nothing else is taken under it) but for fork, where
   LockForFork also takes every live runtime's heap lock.
============================================================================ */

/// <summary>Live runtimes, types and large object blocks, by address.</summary>
internal static unsafe class Registry
{
    private static NativeLock s_lock;
    private static PointerMap s_runtimes;
    private static PointerMap s_types;
    private static PointerMap s_large;

    // ---------------------------------------------------------------- runtimes

    /// <summary>Records a new runtime; false when out of memory.</summary>
    public static bool AddRuntime(Runtime* rt) => Set(ref s_runtimes, rt, 1);

    /// <summary>
    /// Forgets <paramref name="rt"/>; false when it was not live (a second free, or never a runtime).
    /// </summary>
    public static bool RemoveRuntime(Runtime* rt) => Remove(ref s_runtimes, rt);

    /// <summary>True when <paramref name="rt"/> is a live runtime (made and not yet being freed).</summary>
    public static bool IsLiveRuntime(Runtime* rt) => Get(ref s_runtimes, rt) != 0;

    // ------------------------------------------------------------------- types

    public static bool AddType(TypeObject* t) => Set(ref s_types, t, (nuint)t->Runtime);

    public static void RemoveType(TypeObject* t) => Remove(ref s_types, t);

    /// <summary>The runtime of the live type <paramref name="t"/>, or null when t is no live type.</summary>
    public static Runtime* RuntimeOfType(TypeObject* t) => (Runtime*)Get(ref s_types, t);

    // ----------------------------------------------------- large object blocks

    public static bool AddLargeBlock(void* block, Runtime* rt) => Set(ref s_large, block, (nuint)rt);

    public static void RemoveLargeBlock(void* block) => Remove(ref s_large, block);

    /// <summary>The runtime whose system-allocator block starts at <paramref name="block"/>, or null.</summary>
    public static Runtime* OwnerOfLargeBlock(void* block) => (Runtime*)Get(ref s_large, block);

    // -------------------------------------------------------------------- fork

    /// <summary>fork: the registry's lock, then every live runtime's heap lock (ForkSafety.cs).</summary>
    internal static void LockForFork()
    {
        s_lock.Enter();
        s_runtimes.ForEach(&LockHeap, null);
    }

    internal static void UnlockAfterFork()
    {
        s_runtimes.ForEach(&UnlockHeap, null);
        s_lock.Exit();
    }

    private static void LockHeap(void* rt, nuint value, void* state) => ((Runtime*)rt)->Heap->Lock.Enter();

    private static void UnlockHeap(void* rt, nuint value, void* state) => ((Runtime*)rt)->Heap->Lock.Exit();

    // ----------------------------------------------------------------- helpers

    private static nuint Get(ref PointerMap map, void* key)
    {
        s_lock.Enter();
        nuint value = map.Get(key);
        s_lock.Exit();
        return value;
    }

    private static bool Set(ref PointerMap map, void* key, nuint value)
    {
        s_lock.Enter();
        bool done = map.Set(key, value);
        s_lock.Exit();
        return done;
    }

    private static bool Remove(ref PointerMap map, void* key)
    {
        s_lock.Enter();
        bool done = map.Remove(key);
        s_lock.Exit();
        return done;
    }
}
