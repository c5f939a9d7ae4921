using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using PyAlloc.Core.Abi;
using PyAlloc.Core.Platform;
using PyAlloc.Core.Support;

namespace PyAlloc.Core.Allocator;

/// <summary>The allocator modes of <c>PYALLOC_MALLOC</c> / <c>pa_set_allocator_mode</c>.</summary>
public enum AllocatorMode
{
    /// <summary>Not chosen yet: the first allocation reads <c>PYALLOC_MALLOC</c>.</summary>
    Unset = 0,
    /// <summary>Pools and arenas for requests up to 512 bytes (the default).</summary>
    Pymalloc = 1,
    /// <summary>Every request to the system allocator.</summary>
    Malloc = 2,
    /// <summary>CPython's debug hooks (Debugging/DebugHooks.cs) over pymalloc's pools.</summary>
    Debug = 3,
    /// <summary>CPython's debug hooks over the system allocator.</summary>
    MallocDebug = 4,
}

/// <summary>
/// The process allocator behind <c>pa_malloc</c> and friends: small requests to the
/// process heap's pools, large ones (and all of them in <c>malloc</c> mode) to the
/// system allocator, and every pointer checked before it is released.
/// </summary>
/// <remarks>
/// No method throws. Failures return null (or 0, or -1) with the calling thread's
/// error set (<see cref="Errors"/>) and, for out-of-memory, errno = ENOMEM.
/// In the debug modes every call goes to the debug hooks (<see cref="DebugCalls"/>), out of line: the
/// fast paths test the mode (malloc) or the heap (free) exactly as in pymalloc mode, and
/// fail over to the slow path because <c>s_heap</c> is null then.
/// </remarks>
public static unsafe class Pymalloc
{
    private static Heap* s_heap;          // the fast paths' heap: the process heap in pymalloc mode, else null
    private static Heap* s_rawHeap;       // the process heap in pymalloc and debug modes (under the hooks), else null
    private static int s_heapCount;       // process heaps, s_rawHeap first and Heap.Stride apart: ThreadHeaps or 1
    private static nuint s_heapSpan;      // s_heapCount * Heap.Stride
    private static int s_nextThreadHeap;  // round robin of ThreadHeap

    /// <summary>
    /// Process heaps in pymalloc mode: the thread caches of different threads refill from
    /// different heaps (and so different pools, under different locks), round robin.
    /// </summary>
    public const int ThreadHeaps = 16;
    private static AllocatorMode s_mode;  // Unset until the first allocation
    private static AllocatorMode s_requestedMode;
    private static NativeLock s_initLock;

    /// <summary>fork: takes the mode lock, then every process heap's lock (ForkSafety.cs).</summary>
    internal static void LockForFork()
    {
        s_initLock.Enter();
    }

    /// <summary>fork: releases what <see cref="LockForFork"/> took.</summary>
    internal static void UnlockAfterFork()
    {
        s_initLock.Exit();
    }

    /// <summary>fork: every process heap's lock, in order (ForkSafety.cs).</summary>
    internal static void LockHeapsForFork()
    {
        for (int i = 0; i < s_heapCount; i++)
            HeapAt(i)->Lock.Enter();
    }

    /// <summary>fork: releases what <see cref="LockHeapsForFork"/> took.</summary>
    internal static void UnlockHeapsAfterFork()
    {
        for (int i = 0; i < s_heapCount; i++)
            HeapAt(i)->Lock.Exit();
    }

    /// <summary>The largest request PyAlloc ever tries to serve: PTRDIFF_MAX.</summary>
    public static nuint MaxRequest => (nuint)nint.MaxValue;

    // ------------------------------------------------------------------- malloc

    /// <summary>A block of at least <paramref name="n"/> bytes, 16-byte aligned.</summary>
    /// <remarks>
    /// 0 bytes: a unique 16-byte block. Null when out of memory or when
    /// <paramref name="n"/> exceeds <see cref="MaxRequest"/>.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void* Malloc(nuint n)
    {
        // Fast because it is one compare for both the size and the mode, then the
        // heap's pool pop; everything else (first use, large, malloc mode) is out of line.
        if (n <= Geometry.SmallRequestThreshold && s_mode == AllocatorMode.Pymalloc)
        {
            byte* p = Heap.Allocate(s_heap, Geometry.SizeToIndex(n));
            if (p != null)
                return p;
        }
        return MallocSlow(n, zero: false, "pa_malloc");
    }

    /// <summary>A zeroed block of <paramref name="nelem"/> * <paramref name="elsize"/> bytes.</summary>
    /// <remarks>Null with errno = ENOMEM when the product overflows.</remarks>
    public static void* Calloc(nuint nelem, nuint elsize)
    {
        if (elsize != 0 && nelem > nuint.MaxValue / elsize)
            return OutOfMemory($"pa_calloc: {nelem} * {elsize} overflows size_t");
        nuint n = nelem * elsize;
        if (n <= Geometry.SmallRequestThreshold && s_mode == AllocatorMode.Pymalloc)
        {
            byte* p = Heap.Allocate(s_heap, Geometry.SizeToIndex(n));
            if (p != null)
            {
                NativeMemory.Clear(p, n);
                return p;
            }
        }
        return MallocSlow(n, zero: true, "pa_calloc");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void* MallocSlow(nuint n, bool zero, string caller)
    {
        if (s_mode == AllocatorMode.Unset)
            Initialize();
        if (n > MaxRequest)
            return OutOfMemory($"{caller}: {n} bytes is more than the largest possible request (PTRDIFF_MAX)");
        void* p;
        if (s_mode >= AllocatorMode.Debug)
        {
            p = DebugCalls.Alloc(n, zero);
        }
        else if (n <= Geometry.SmallRequestThreshold && s_mode == AllocatorMode.Pymalloc)
        {
            p = Heap.Allocate(s_heap, Geometry.SizeToIndex(n));
            if (p != null && zero)
                NativeMemory.Clear(p, n);
        }
        else
        {
            p = LargeBlocks.Allocate(n == 0 ? 1 : n, zero);
        }
        return p != null ? p : OutOfMemory($"{caller}: out of memory allocating {n} bytes");
    }

    // --------------------------------------------------------------------- free

    /// <summary>Releases a block of ours; null is a no-op.</summary>
    /// <remarks>A pointer that is not a live block of ours is refused, with the error set.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Free(void* p)
    {
        ArenaObject* arena = ArenaMap.Lookup(p);
        if (arena != null)
        {
            // Objects live in their runtime's heap and die by pa_decref, never by pa_free.
            if (IsProcessHeap(arena->Heap) && s_heap != null)
                Heap.Free(arena->Heap, arena, (byte*)p, "pa_free");
            else
                FreeNotInPools(p);
        }
        else if (p != null)
        {
            FreeLarge(p);
        }
    }

    /* p is in an arena that is not the fast path's heap: runtime memory, or the debug
       hooks are on (then s_heap is null). */
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void FreeNotInPools(void* p)
    {
        if (s_mode >= AllocatorMode.Debug)
            DebugCalls.Free(p, "pa_free");
        else
            ReportRuntimeMemory("pa_free", p);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ReportRuntimeMemory(string caller, void* p) =>
        Errors.Set($"{caller}: {Errors.Hex(p)} belongs to a runtime's object heap: objects are released " +
                   "with pa_decref, not with the allocator's calls");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void FreeLarge(void* p)
    {
        if (DebugHooksOn)
            DebugCalls.Free(p, "pa_free");
        else if (!LargeBlocks.Free(p, out bool cached))
            ReportLargeRefused("pa_free", p, cached);
    }

    /// <summary>
    /// pa_free of a pointer the C thread cache could not take as a pool block: a large block
    /// it may keep is tagged and its usable size returned; anything else is freed (or refused)
    /// as by <see cref="Free"/>, and 0 returned.
    /// </summary>
    public static nuint FreeOrKeepLarge(void* p)
    {
        if (p == null || s_mode != AllocatorMode.Pymalloc || ThreadCaches.Secret == 0 || ArenaMap.Lookup(p) != null)
        {
            Free(p);
            return 0;
        }
        nuint usable = LargeBlocks.Keep(p, ThreadCaches.Secret, out bool freed, out bool cached);
        if (usable == 0 && !freed)
            ReportLargeRefused("pa_free", p, cached);
        return usable;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ReportLargeRefused(string caller, void* p, bool cached)
    {
        if (cached)
            Errors.Set($"{caller}: double free of {Errors.Hex(p)}: it is free already (kept in a thread cache)");
        else
            ReportForeign(caller, p);
    }

    // ------------------------------------------------------------------ realloc

    /// <summary>Resizes <paramref name="p"/> to <paramref name="n"/> bytes; see pa_realloc.</summary>
    public static void* Realloc(void* p, nuint n)
    {
        if (p == null)
            return MallocSlow(n, zero: false, "pa_realloc");
        if (n > MaxRequest)
            return OutOfMemory($"pa_realloc: {n} bytes is more than the largest possible request (PTRDIFF_MAX)");
        if (DebugHooksOn)
            return DebugRealloc(p, n);

        ArenaObject* arena = ArenaMap.Lookup(p);
        nuint oldSize;
        if (arena != null && !IsProcessHeap(arena->Heap))
        {
            ReportRuntimeMemory("pa_realloc", p);
            return null;
        }
        if (arena != null)
        {
            oldSize = Heap.UsableSize(arena->Heap, arena, (byte*)p, "pa_realloc");
            if (oldSize == 0)
                return null;
            // CPython's rule: keep the block while it fits, unless shrinking saves a quarter.
            if (n <= oldSize && 4 * n > 3 * oldSize)
                return p;
        }
        else if (LargeBlocks.Contains(p))
        {
            if (n > Geometry.SmallRequestThreshold || s_mode != AllocatorMode.Pymalloc)
            {
                void* q = LargeBlocks.Resize(p, n == 0 ? 1 : n);
                return q != null ? q : OutOfMemory($"pa_realloc: out of memory resizing to {n} bytes");
            }
            oldSize = Libc.MallocUsableSize(p); // moving down into a pool
        }
        else
        {
            if (LargeBlocks.IsKept(p))
                Errors.Set($"pa_realloc: {Errors.Hex(p)} is not a live block: it was freed (kept in a thread cache)");
            else
                ReportForeign("pa_realloc", p);
            return null;
        }

        void* moved = MallocSlow(n, zero: false, "pa_realloc");
        if (moved == null)
            return null;
        Buffer.MemoryCopy(p, moved, n, Math.Min(n, oldSize));
        Free(p);
        return moved;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void* DebugRealloc(void* p, nuint n)
    {
        void* q = DebugCalls.Realloc(p, n, out bool outOfMemory);
        if (q == null && outOfMemory)
            return OutOfMemory($"pa_realloc: out of memory resizing to {n} bytes");
        return q;
    }

    // -------------------------------------------------------------- inspection

    /// <summary>Usable bytes of a live block; 0 (error set) for null or a foreign pointer.</summary>
    public static nuint UsableSize(void* p)
    {
        if (p == null)
        {
            Errors.Set("pa_usable_size: the pointer is NULL");
            return 0;
        }
        if (DebugHooksOn)
            return DebugCalls.UsableSize(p);
        ArenaObject* arena = ArenaMap.Lookup(p);
        if (arena != null && !IsProcessHeap(arena->Heap))
        {
            ReportRuntimeMemory("pa_usable_size", p);
            return 0;
        }
        if (arena != null)
            return Heap.UsableSize(arena->Heap, arena, (byte*)p, "pa_usable_size");
        if (LargeBlocks.Contains(p))
            return Libc.MallocUsableSize(p);
        ReportLargeRefused("pa_usable_size", p, LargeBlocks.IsKept(p));
        return 0;
    }

    /// <summary>
    /// Gives free memory back to the OS (<see cref="Heap.Trim"/>: wholly free arenas, and the
    /// pages of the arenas kept that no live block overlaps) and trims the system allocator.
    /// </summary>
    /// <returns>Bytes released: 1 MiB per arena unmapped plus the resident pages released.</returns>
    public static nuint Trim()
    {
        nuint released = 0;
        for (int i = 0; i < s_heapCount; i++)
            released += Heap.Trim(HeapAt(i));
        Libc.MallocTrim(0);
        Probes.Trim(released);
        CheckHeaps("pa_trim");
        return released;
    }

    /// <summary>True when PYALLOC_CHECK=1 asked for the heap checker (read at the first allocation).</summary>
    public static bool CheckOn { get; private set; }

    /// <summary>
    /// With PYALLOC_CHECK=1: checks every process heap against the invariants of Types.cs and
    /// Heap.cs (<see cref="HeapInvariants.Check"/>), each under its lock, and reports the first
    /// broken one as a fatal error naming <paramref name="where"/>, the heap and the rule.
    /// </summary>
    /// <remarks>
    /// Called at each pa_trim and pa_get_malloc_stats. A check reads every carved pool of the
    /// heap: a tool for tests and for hunting a heap corruption, not for production runs.
    /// </remarks>
    public static void CheckHeaps(string where)
    {
        if (!CheckOn)
            return;
        for (int i = 0; i < s_heapCount; i++)
        {
            Heap* heap = HeapAt(i);
            heap->Lock.Enter();
            System.Collections.Generic.List<string> problems;
            try
            {
                problems = HeapInvariants.Check(heap, liveBlocks: -1);
            }
            finally
            {
                heap->Lock.Exit();
            }
            if (problems.Count > 0)
                Fatal.Error($"{where}: PYALLOC_CHECK: process heap {i}: {problems[0]}"
                            + (problems.Count > 1 ? $" (and {problems.Count - 1} more broken rules)" : ""));
        }
    }

    /// <summary>
    /// The process allocator's figures (the heap behind pa_malloc &amp; co. and its large
    /// blocks). A runtime's objects live in the runtime's own heap and are not counted.
    /// </summary>
    internal static PaMallocStats GetStats()
    {
        PaMallocStats stats = default;
        for (int i = 0; i < Geometry.NumSizeClasses; i++)
            stats.Classes[i].BlockSize = Geometry.IndexToSize((uint)i);
        for (int i = 0; i < s_heapCount; i++)
            Heap.AddStats(HeapAt(i), &stats);
        if (s_heap != null)
            ThreadCaches.AddCachedToStats(&stats);
        stats.ArenaBytes = stats.ArenasCurrent * Geometry.ArenaSize;
        stats.BytesInFreePools = stats.PoolsFree * Geometry.PoolSize;
        stats.LargeBlocks = LargeBlocks.Count;
        stats.LargeBytes = LargeBlocks.Bytes;
        stats.ArenasInRuntimes = (nuint)Math.Max(0, ArenaTable.ArenasMapped - (long)stats.ArenasCurrent);
        CheckHeaps("pa_get_malloc_stats");
        return stats;
    }

    // -------------------------------------------------------------------- mode

    /// <summary>Fixes the mode now, as a first allocation would (runtimes do this when created).</summary>
    public static void EnsureInitialized()
    {
        if (s_mode == AllocatorMode.Unset)
            Initialize();
    }

    /// <summary>
    /// True in <c>pymalloc</c> mode: runtimes serve small objects straight from their pools.
    /// Otherwise (system allocator, debug hooks) their slow path decides.
    /// </summary>
    internal static bool ObjectPools => s_mode == AllocatorMode.Pymalloc;

    /// <summary>True in the debug modes (<c>debug</c>, <c>malloc_debug</c>).</summary>
    internal static bool IsDebug => s_mode >= AllocatorMode.Debug;

    /// <summary>
    /// True in the debug modes, and before the first allocation when a debug mode is the one
    /// it will fix: a pointer freed or checked before any allocation is reported by the hooks
    /// too. For the cold paths only (it may read the environment).
    /// </summary>
    internal static bool DebugHooksOn =>
        s_mode >= AllocatorMode.Debug || (s_mode == AllocatorMode.Unset && Mode >= AllocatorMode.Debug);

    /// <summary>
    /// The process heap whose pools serve raw blocks: pymalloc's, or the one under the debug
    /// hooks in <c>debug</c> mode; null in the malloc modes.
    /// </summary>
    internal static Heap* RawHeap => s_rawHeap;

    /// <summary>The heap the thread caches serve: the process heap in pymalloc mode, else null.</summary>
    internal static Heap* FastHeap => s_heap;

    /// <summary>The process heaps (first, and bytes spanned): one range, so "is it ours?" is one compare.</summary>
    internal static Heap* HeapsBase => s_rawHeap;
    internal static nuint HeapsSpan => s_heapSpan;

    /// <summary>Process heap <paramref name="i"/> (0 is <see cref="RawHeap"/>).</summary>
    internal static Heap* HeapAt(int i) => (Heap*)((byte*)s_rawHeap + (nuint)i * Heap.Stride);

    /// <summary>True for a process heap, false for a runtime's (or null).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool IsProcessHeap(Heap* heap) => (nuint)((byte*)heap - (byte*)s_rawHeap) < s_heapSpan;

    /// <summary>The heap for a new thread's cache, round robin over the process heaps.</summary>
    internal static Heap* ThreadHeap()
    {
        if (s_heap == null)
            return null;
        int i = (int)((uint)System.Threading.Interlocked.Increment(ref s_nextThreadHeap) - 1) % s_heapCount;
        return HeapAt(i);
    }

    /// <summary>Every process heap's pools, heap after heap, arenas numbered on (<c>pa_pool_map</c>).</summary>
    internal static nuint PoolMap(PaPoolInfo* output, nuint cap)
    {
        nuint rows = 0;
        for (int i = 0; i < s_heapCount; i++)
            rows = Heap.PoolMap(HeapAt(i), output, cap, rows, rows / Geometry.PoolsPerArena);
        return rows;
    }

    /// <summary>The mode in force (after the first allocation) or requested so far.</summary>
    public static AllocatorMode Mode =>
        s_mode != AllocatorMode.Unset ? s_mode
        : s_requestedMode != AllocatorMode.Unset ? s_requestedMode
        : ModeFromEnvironment();

    /// <summary><c>pa_set_allocator_mode</c>: <see cref="SetMode(ReadOnlySpan{byte})"/> of a C string.</summary>
    /// <returns>0, or -1 (error set) for NULL, an unknown name or once blocks exist in another mode.</returns>
    public static int SetMode(byte* name) =>
        name == null ? Errors.Fail("pa_set_allocator_mode: mode is NULL")
                     : SetMode(MemoryMarshal.CreateReadOnlySpanFromNullTerminated(name));

    /// <summary>
    /// Chooses the mode by name ("pymalloc", "malloc", "debug", "malloc_debug").
    /// </summary>
    /// <returns>0, or -1 (error set) for an unknown name or once blocks exist in another mode.</returns>
    public static int SetMode(ReadOnlySpan<byte> name)
    {
        AllocatorMode mode = Parse(name);
        if (mode == AllocatorMode.Unset)
            return Errors.Fail($"pa_set_allocator_mode: unknown mode \"{Encoding.UTF8.GetString(name)}\" " +
                               $"({WhyNotAMode(name)})");
        s_initLock.Enter();
        int result = 0;
        if (s_mode == AllocatorMode.Unset)
            s_requestedMode = mode;
        else if (s_mode != mode)
            result = -1;
        s_initLock.Exit();
        return result == 0 ? 0 : Errors.Fail(
            $"pa_set_allocator_mode: the mode must be chosen before the first allocation, " +
            $"and blocks already exist in mode \"{NameOf(s_mode)}\"");
    }

    /// <summary>
    /// <c>pa_mem_setup_debug_hooks</c> (PyMem_SetupDebugHooks): the debug variant of the mode in
    /// force or requested (pymalloc to debug, malloc to malloc_debug); nothing in a debug mode.
    /// </summary>
    /// <returns>0, or -1 (error set) once blocks exist in a mode without the hooks.</returns>
    public static int SetupDebugHooks()
    {
        AllocatorMode wanted = Mode is AllocatorMode.Malloc or AllocatorMode.MallocDebug
            ? AllocatorMode.MallocDebug : AllocatorMode.Debug;
        s_initLock.Enter();
        int result = 0;
        if (s_mode == AllocatorMode.Unset)
            s_requestedMode = wanted;
        else if (s_mode < AllocatorMode.Debug)
            result = -1;
        s_initLock.Exit();
        return result == 0 ? 0 : Errors.Fail(
            "pa_mem_setup_debug_hooks: the debug hooks lay out every block with a header, so they must be " +
            $"set up before the first allocation, and blocks already exist in mode \"{NameOf(s_mode)}\"");
    }

    // ------------------------------------------------------ PYALLOC_MALLOCSTATS

    private static bool s_statsOnNewArena;   // PYALLOC_MALLOCSTATS in a pool mode (read at the first allocation)
    private static int s_statsPending;       // 1: an arena was mapped since the last table

    /// <summary>
    /// An arena was mapped (ArenaTable.NewArena): with PYALLOC_MALLOCSTATS, the table is due, printed by
    /// <see cref="PrintStatsIfPending"/> once the allocation that mapped it has let go of its locks.
    /// </summary>
    internal static void NoteNewArena()
    {
        if (s_statsOnNewArena)
            Volatile.Write(ref s_statsPending, 1);
    }

    /// <summary>
    /// PYALLOC_MALLOCSTATS (CPython's PYTHONMALLOCSTATS): the stats table on stderr after an allocation
    /// that mapped a new arena. Called by the slow paths of allocation with no lock held (the table takes
    /// every process heap's lock); a load and a branch otherwise.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void PrintStatsIfPending()
    {
        if (Volatile.Read(ref s_statsPending) != 0)
            PrintPendingStats();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void PrintPendingStats()
    {
        if (Interlocked.Exchange(ref s_statsPending, 0) != 0)
            Stderr.Write(GetStats().Format());
    }

    /// <summary>
    /// PYALLOC_MALLOCSTATS at exit (CPython's PYTHONMALLOCSTATS): the stats table on stderr, in
    /// the pool modes (pymalloc, debug) only, as CPython ignores the variable over malloc.
    /// </summary>
    public static void PrintStatsAtExit()
    {
        if (Mode is AllocatorMode.Pymalloc or AllocatorMode.Debug)
            Stderr.Write(GetStats().Format());
    }

    /// <summary>
    /// <c>pa_print_malloc_stats</c>: the table of <see cref="GetStats"/> on the C stream <paramref name="file"/>.
    /// </summary>
    /// <remarks>Pre: file is not null.</remarks>
    /// <returns>0, or -1 with the error set when the write fails.</returns>
    public static int PrintStats(void* file) => WriteStats(GetStats(), file, "pa_print_malloc_stats");

    /// <summary>
    /// The stats table on the C stream <paramref name="file"/> (not null), written, flushed and checked:
    /// 0, or -1 with "<paramref name="function"/>: the write failed: ..." (a FILE buffers: a full disk
    /// may only show at the flush, or in ferror).
    /// </summary>
    internal static int WriteStats(in PaMallocStats stats, void* file, string function)
    {
        byte[] text = Encoding.UTF8.GetBytes(stats.Format());   // a report, not a hot path
        fixed (byte* t = text)
        {
            if (Libc.Fwrite(t, 1, (nuint)text.Length, file) != (nuint)text.Length
                || Libc.Fflush(file) != 0 || Libc.Ferror(file) != 0)
                return Errors.Fail($"{function}: the write failed: {OsFiles.LastOsError()}");
        }
        return 0;
    }

    /// <summary><c>pa_get_allocator_mode</c>: the name of <see cref="Mode"/> as a static C string.</summary>
    public static byte* ModeName => ModeNameUtf8(Mode);

    /// <summary>The C name of a mode.</summary>
    public static string NameOf(AllocatorMode mode) => mode switch
    {
        AllocatorMode.Malloc => "malloc",
        AllocatorMode.Debug => "debug",
        AllocatorMode.MallocDebug => "malloc_debug",
        _ => "pymalloc",
    };

    /// <summary>The mode's name as a static NUL-terminated string, for C.</summary>
    public static byte* ModeNameUtf8(AllocatorMode mode) => mode switch
    {
        AllocatorMode.Malloc => (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference("malloc"u8)),
        AllocatorMode.Debug => (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference("debug"u8)),
        AllocatorMode.MallocDebug => (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference("malloc_debug"u8)),
        _ => (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference("pymalloc"u8)),
    };

    /* First allocation: fix the mode (pa_set_allocator_mode's choice, else
       PYALLOC_MALLOC, else pymalloc) and create the process heap. */
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Initialize()
    {
        s_initLock.Enter();
        if (s_mode == AllocatorMode.Unset)
        {
            AllocatorMode mode = s_requestedMode != AllocatorMode.Unset ? s_requestedMode : ModeFromEnvironment();
            Heap.ArenaDecayMs = ArenaDecayFromEnvironment(Heap.ArenaDecayMs);
            CheckOn = CheckFromEnvironment();
            s_statsOnNewArena = (mode is AllocatorMode.Pymalloc or AllocatorMode.Debug) && MallocStatsFromEnvironment();
            Track.Initialize();
            if (mode is AllocatorMode.Pymalloc or AllocatorMode.Debug)
            {
                int count = mode == AllocatorMode.Pymalloc ? ThreadHeaps : 1;
                s_rawHeap = Heap.CreateArray(count);
                if (s_rawHeap == null) // cannot even allocate the heap: fall back to the system allocator
                {
                    mode = mode == AllocatorMode.Debug ? AllocatorMode.MallocDebug : AllocatorMode.Malloc;
                }
                else
                {
                    s_heapCount = count;
                    s_heapSpan = (nuint)count * Heap.Stride;
                    if (mode == AllocatorMode.Pymalloc)
                        s_heap = s_rawHeap;
                }
            }
            // Publish the heap before the mode: the fast path reads s_mode, then s_heap.
            System.Threading.Volatile.Write(ref Unsafe.As<AllocatorMode, int>(ref s_mode), (int)mode);
        }
        s_initLock.Exit();
        ThreadCaches.Publish();
    }

    /* PYALLOC_CHECK=1 turns the heap checker on; anything else leaves it off. */
    private static bool CheckFromEnvironment()
    {
        byte* value = Libc.Getenv((byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference("PYALLOC_CHECK"u8)));
        return value != null && value[0] == (byte)'1' && value[1] == 0;
    }

    /* PYALLOC_MALLOCSTATS: set and not empty, as CPython's PYTHONMALLOCSTATS. */
    private static bool MallocStatsFromEnvironment()
    {
        byte* value = Libc.Getenv((byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference("PYALLOC_MALLOCSTATS"u8)));
        return value != null && *value != 0;
    }

    /* PYALLOC_ARENA_DECAY_MS: milliseconds, a whole number from 0 to a day; anything
       else leaves the default (the variable is a tuning knob, not worth a failure). */
    private static long ArenaDecayFromEnvironment(long fallback)
    {
        byte* value = Libc.Getenv((byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference("PYALLOC_ARENA_DECAY_MS"u8)));
        if (value == null || *value == 0)
            return fallback;
        long ms = 0;
        for (byte* c = value; *c != 0; c++)
        {
            if (*c < (byte)'0' || *c > (byte)'9' || ms > 86_400_000)
                return fallback;
            ms = ms * 10 + (*c - '0');
        }
        return ms <= 86_400_000 ? ms : fallback;
    }

    private static AllocatorMode ModeFromEnvironment()
    {
        byte* value = Libc.Getenv((byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference("PYALLOC_MALLOC"u8)));
        if (value == null || *value == 0)
            return AllocatorMode.Pymalloc;
        var name = MemoryMarshal.CreateReadOnlySpanFromNullTerminated(value);
        AllocatorMode mode = Parse(name);
        if (mode == AllocatorMode.Unset)
        {
            Stderr.WriteLine($"pyalloc: PYALLOC_MALLOC={Encoding.UTF8.GetString(name)} is not a mode " +
                             $"({WhyNotAMode(name)}); using pymalloc");
            return AllocatorMode.Pymalloc;
        }
        return mode;
    }

    /* Every PYTHONMALLOC name of CPython 3.12 with its meaning in a release build:
       "default" is pymalloc, "pymalloc_debug" is "debug".  mimalloc (CPython 3.13) is
       not one: Unset, and WhyNotAMode says why. */
    private static AllocatorMode Parse(ReadOnlySpan<byte> name)
    {
        if (name.SequenceEqual("pymalloc"u8) || name.SequenceEqual("default"u8))
            return AllocatorMode.Pymalloc;
        if (name.SequenceEqual("malloc"u8))
            return AllocatorMode.Malloc;
        if (name.SequenceEqual("debug"u8) || name.SequenceEqual("pymalloc_debug"u8))
            return AllocatorMode.Debug;
        if (name.SequenceEqual("malloc_debug"u8))
            return AllocatorMode.MallocDebug;
        return AllocatorMode.Unset;
    }

    private const string ModeNames = "default, pymalloc, malloc, debug, pymalloc_debug or malloc_debug";

    /* Why name is not a mode: mimalloc gets its reason, anything else the list. */
    private static string WhyNotAMode(ReadOnlySpan<byte> name) =>
        name.SequenceEqual("mimalloc"u8) || name.SequenceEqual("mimalloc_debug"u8)
            ? "PyAlloc is pymalloc and has no mimalloc (CPython 3.13's option); to run on mimalloc, " +
              "preload it and choose malloc (or malloc_debug)"
            : $"expected {ModeNames}";

    // ------------------------------------------------------------------ errors

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void* OutOfMemory(string message)
    {
        OsMemory.SetErrno(Libc.ENOMEM);
        return Errors.Null(message);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ReportForeign(string caller, void* p) =>
        Errors.Set($"{caller}: {Errors.Hex(p)} was not allocated by PyAlloc (or was already freed)");
}

/// <summary>
/// The debug hooks' entry points that the process allocator calls in the debug modes. The
/// hooks (Debugging/DebugHooks.cs) wrap pools and objects alike and report with tracemalloc's
/// tracebacks, so they sit above the allocator, which names them only through these slots;
/// Api/Wiring.cs fills them once, when the library loads.
/// </summary>
/// <remarks>
/// Called from <see cref="Pymalloc"/>'s out-of-line slow paths only: the pymalloc mode's fast
/// paths never read them.
/// </remarks>
internal static unsafe class DebugCalls
{
    /// <summary>
    /// Bytes in front of a debug block's data (the size field, the API id and the leading pad):
    /// the hooks' layout (DebugHooks.HeadBytes is this), which objects step over to their GC head.
    /// </summary>
    public const int HeadBytes = 16;

    /// <summary>DebugHooks.Alloc over the process allocator (API 'm'): null when out of memory.</summary>
    public static delegate*<nuint, bool, void*> Alloc;

    /// <summary>DebugHooks.Free over the process allocator, reported as the named function.</summary>
    public static delegate*<void*, string, void> Free;

    /// <summary>DebugHooks.Realloc: a block of pa_malloc's resized (outOfMemory says why it is null).</summary>
    public static delegate*<void*, nuint, out bool, void*> Realloc;

    /// <summary>DebugHooks.UsableSize: the requested size of a debug block of pa_malloc's.</summary>
    public static delegate*<void*, nuint> UsableSize;
}
