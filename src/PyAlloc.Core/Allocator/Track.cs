using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace PyAlloc.Core.Allocator;

/* ============================================================================
   Tracking: the pools described to valgrind's memcheck and to ASan

   The client requests are C macros, so they live in the C layer
   (native/track/track.h, which says what each event becomes).  The core
   calls it at each event of a block's life while On; On is decided once, at
   the first allocation (Pymalloc.Initialize), and only inside libpyalloc.so:
   the library's build sets the switch PyAlloc.NativeTracking, and ILC binds
   "pyalloc_native" to the C functions linked into the same library.  In any
   other process (the in-process tests) On stays false and nothing is called.

   Invariant while On: a block handed out is a live chunk of its heap's
   mempool (memcheck) or unpoisoned (ASan); a free or never handed-out block
   is no-access / poisoned, except while the core reads or writes its
   free-list link (Link, between Open and Close); pool headers are accessible.
============================================================================ */

/// <summary>Calls into native/track for memcheck and ASan; no-ops while <see cref="On"/> is false.</summary>
internal static unsafe partial class Track
{
    private const string Native = "pyalloc_native";

    /// <summary>True while a memory checker is told about the pools (fixed at the first allocation).</summary>
    public static bool On;

    /// <summary>Asks the C layer, once, whether memcheck or ASan watches the process.</summary>
    public static void Initialize()
    {
        if (AppContext.TryGetSwitch("PyAlloc.NativeTracking", out bool native) && native)
            On = Mode() != 0;
    }

    /// <summary>A heap was made (<paramref name="alive"/>) or is about to be destroyed with its arenas.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void HeapLife(Heap* heap, bool alive)
    {
        if (On)
            Heap_(heap, alive ? 1 : 0);
    }

    /// <summary>The block <paramref name="p"/> of <paramref name="size"/> bytes is handed out.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Alloc(Heap* heap, byte* p, uint size)
    {
        if (On)
            Alloc_(heap, p, size);
    }

    /// <summary>The live block <paramref name="p"/> is being freed (call before its link is written).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Free(Heap* heap, byte* p, uint size)
    {
        if (On)
            Free_(heap, p, size);
    }

    /// <summary>A new arena: nothing in it may be touched until carved and handed out.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ArenaMapped(byte* address, nuint size)
    {
        if (On)
            NoAccess(address, size);
    }

    /// <summary>Memory the core mapped (<paramref name="add"/>) or is about to unmap, which may hold pointers to malloc's blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Mapping(void* address, nuint size, bool add)
    {
        if (On)
            Root(address, size, add ? 1 : 0);
    }

    /// <summary>An arena is about to be unmapped.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ArenaUnmapping(byte* address, nuint size)
    {
        if (On)
            Unmapping(address, size);
    }

    /// <summary>An arena's memory goes back to the caller's arena allocator, which may read or write it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ArenaGivenBack(byte* address, nuint size)
    {
        if (On)
            Defined(address, size);
    }

    /// <summary>A pool is carved: its header becomes the core's to use.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void PoolCarved(byte* pool, nuint headerBytes)
    {
        if (On)
            Defined(pool, headerBytes);
    }

    /// <summary>The free-list link of a free block, read by the core (a block about to be handed out).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte* ReadLink(byte* block)
    {
        if (On)
            Link(block, 1);
        return *(byte**)block;
    }

    /// <summary>Writes the free-list link of a free (or just carved) block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteLink(byte* block, byte* next)
    {
        if (On)
        {
            WriteLinkTracked(block, next);
            return;
        }
        *(byte**)block = next;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void WriteLinkTracked(byte* block, byte* next)
    {
        Link(block, 1);
        *(byte**)block = next;
        Link(block, 0);
    }

    /* The calls into C, each out of line: the JIT binds a SuppressGCTransition P/Invoke
       when it compiles its caller, and in a process without the C layer (the in-process
       tests) these are never compiled, since On is false there. */
    [MethodImpl(MethodImplOptions.NoInlining)] private static void Heap_(Heap* heap, int alive) => TrackHeap(heap, alive);
    [MethodImpl(MethodImplOptions.NoInlining)] private static void Alloc_(Heap* heap, byte* p, nuint n) => TrackAlloc(heap, p, n);
    [MethodImpl(MethodImplOptions.NoInlining)] private static void Free_(Heap* heap, byte* p, nuint n) => TrackFree(heap, p, n);
    [MethodImpl(MethodImplOptions.NoInlining)] private static void NoAccess(byte* p, nuint n) => TrackNoAccess(p, n);
    [MethodImpl(MethodImplOptions.NoInlining)] private static void Defined(byte* p, nuint n) => TrackDefined(p, n);
    [MethodImpl(MethodImplOptions.NoInlining)] private static void Unmapping(byte* p, nuint n) => TrackUnmapping(p, n);
    [MethodImpl(MethodImplOptions.NoInlining)] private static void Link(byte* block, int open) => TrackLink(block, open);
    [MethodImpl(MethodImplOptions.NoInlining)] private static int Mode() => TrackMode();
    [MethodImpl(MethodImplOptions.NoInlining)] private static void Root(void* p, nuint n, int add) => TrackRoot(p, n, add);

    [LibraryImport(Native, EntryPoint = "pa__track_mode")]
    private static partial int TrackMode();

    [LibraryImport(Native, EntryPoint = "pa__track_heap"), SuppressGCTransition]
    private static partial void TrackHeap(Heap* heap, int alive);

    [LibraryImport(Native, EntryPoint = "pa__track_alloc"), SuppressGCTransition]
    private static partial void TrackAlloc(Heap* heap, byte* p, nuint n);

    [LibraryImport(Native, EntryPoint = "pa__track_free"), SuppressGCTransition]
    private static partial void TrackFree(Heap* heap, byte* p, nuint n);

    [LibraryImport(Native, EntryPoint = "pa__track_noaccess"), SuppressGCTransition]
    private static partial void TrackNoAccess(byte* p, nuint n);

    [LibraryImport(Native, EntryPoint = "pa__track_defined"), SuppressGCTransition]
    private static partial void TrackDefined(byte* p, nuint n);

    [LibraryImport(Native, EntryPoint = "pa__track_unmapping"), SuppressGCTransition]
    private static partial void TrackUnmapping(byte* p, nuint n);

    [LibraryImport(Native, EntryPoint = "pa__track_root"), SuppressGCTransition]
    private static partial void TrackRoot(void* p, nuint n, int add);

    [LibraryImport(Native, EntryPoint = "pa__track_link"), SuppressGCTransition]
    private static partial void TrackLink(byte* block, int open);
}
