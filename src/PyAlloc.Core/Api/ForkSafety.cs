using PyAlloc.Core.Allocator;
using PyAlloc.Core.Debugging;
using PyAlloc.Core.Objects;
using PyAlloc.Core.Support;
using PyAlloc.Core.Tracing;

namespace PyAlloc.Core.Api;

/* ============================================================================
   fork() from a multi-threaded process

   fork() copies the calling thread only.  A lock another thread held at that
   moment stays held for ever in the child, and the structure it guarded may
   be half-changed.  As glibc's malloc and mimalloc do, native/host/fork.c
   registers pthread_atfork handlers (once the library's runtime has started)
   that call in here:
     prepare  (parent, before fork)  Lock: take every lock of the library, so
                                     no other thread is inside a guarded
                                     section when the address space is copied;
     parent / child (after fork)     Unlock: release them all again (in the
                                     child the forking thread owns them: its
                                     copy of each lock is simply set free).

   The order of Lock is the order in which the library's code nests its locks
   (outermost first), so taking them all cannot deadlock with a thread that
   holds one and waits for the next:
     Symbolizer's monitor    leaf, but runs addr2line: taken first
     SnapshotHandles' monitor  leaf
     Pymalloc's mode lock    held around heap creation
     ThreadCaches' registry  held around process heap locks (statistics)
     Tracemalloc             held around the debug hooks' owner table
     DebugHooks (3)          leaves (libc malloc only)
     Registry (runtimes, types, large objects)   held around runtime heaps
     every runtime's heap, then every process heap   held around the arena table
     LargeBlocks             leaf (libc malloc only)
     ArenaTable              held around ThreadCaches' publishing lock
     ThreadCaches' publishing lock   leaf
   Unlock releases them in the reverse order.

   Not covered: a runtime another thread was using at the moment of fork is
   not locked (calls on one runtime are serialised by the caller), so in the
   child it may be half-changed: the child must not use it (header, section 4).
============================================================================ */

/// <summary>The library's pthread_atfork handlers (native/host/fork.c calls them).</summary>
internal static unsafe class ForkSafety
{
    /// <summary>Before fork: every lock of the library, outermost first.</summary>
    /// <remarks>Post: the calling thread holds every lock; no other thread is inside one.</remarks>
    public static void Lock()
    {
        Symbolizer.LockForFork();
        SnapshotHandles.LockForFork();
        Pymalloc.LockForFork();
        ThreadCaches.LockRegistryForFork();
        Tracemalloc.LockForFork();
        DebugHooks.LockForFork();
        Registry.LockForFork();          // and every runtime's heap
        Pymalloc.LockHeapsForFork();
        LargeBlocks.LockForFork();
        ArenaTable.LockForFork();
        ThreadCaches.LockPublishForFork();
    }

    /// <summary>After fork, in the parent and in the child: every lock released, innermost first.</summary>
    /// <remarks>Pre: <see cref="Lock"/> ran on this thread (in the child: on the thread that forked).</remarks>
    public static void Unlock()
    {
        ThreadCaches.UnlockPublishAfterFork();
        ArenaTable.UnlockAfterFork();
        LargeBlocks.UnlockAfterFork();
        Pymalloc.UnlockHeapsAfterFork();
        Registry.UnlockAfterFork();
        DebugHooks.UnlockAfterFork();
        Tracemalloc.UnlockAfterFork();
        ThreadCaches.UnlockRegistryAfterFork();
        Pymalloc.UnlockAfterFork();
        SnapshotHandles.UnlockAfterFork();
        Symbolizer.UnlockAfterFork();
    }
}
