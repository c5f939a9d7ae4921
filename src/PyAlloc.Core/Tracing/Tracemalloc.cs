using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using PyAlloc.Core.Abi;
using PyAlloc.Core.Platform;
using PyAlloc.Core.Support;

using PyAlloc.Core.Allocator;

namespace PyAlloc.Core.Tracing;

/// <summary>Where an allocation was asked for, as the C entry points know it.</summary>
/// <remarks>
/// <see cref="File"/>/<see cref="Line"/> name the site for the _at calls (null otherwise);
/// <see cref="Frames"/> are native return addresses captured by the C entry point, the
/// caller's first (for a named site, the frames above it).
/// </remarks>
internal unsafe struct AllocationSite
{
    public byte* File;
    public int Line;
    public void** Frames;
    public int FrameCount;

    /// <summary>No site known (internal allocations, in-process tests).</summary>
    public static AllocationSite Unknown => default;
}

/* ============================================================================
   tracemalloc: the tracer

   Process-wide, as CPython's.  The state that the allocation paths read
   without a lock is one int, s_nframe: 0 while not tracing, so an untraced
   allocation pays one load and one branch.  Everything else (the traces,
   the interned tracebacks, current and peak) is guarded by s_lock.

   The C entry points (native/shim) read the same int through the pointer
   pa__tracemalloc_flag() returns, and only capture native frames while it
   is non-zero.
============================================================================ */

/// <summary>CPython's tracemalloc over PyAlloc's allocator and objects.</summary>
internal static unsafe class Tracemalloc
{
    public const int MaxFrames = 100;

    private static nint s_flag;               // int*: nframe while tracing, 0 otherwise
    private static int s_tracebackLimit = 1;
    private static NativeLock s_lock;
    private static TraceTable s_traces;
    private static TracebackTable s_tracebacks;
    private static nuint s_current, s_peak;
    private static Traceback* s_unknown;      // the traceback of allocations with no site

    /* Traces of the other domains (pa_tracemalloc_track, CPython's PyTraceMalloc_Track):
       (domain, address) -> (size, traceback).  Domain 0 is PyAlloc's own, CPython's
       DEFAULT_DOMAIN: its tracked blocks share s_traces with the library's blocks. */
    private static readonly System.Collections.Generic.Dictionary<(uint Domain, nuint Address), (nuint Size, nint Traceback)> s_foreign = new();
    private const int ForeignEntryBytes = 48;  // key, value, hash and link of one dictionary entry

    /// <summary>fork: held across it (ForkSafety.cs).</summary>
    internal static void LockForFork() => s_lock.Enter();
    internal static void UnlockAfterFork() => s_lock.Exit();

    /// <summary>The address the C entry points read to know whether (and how deep) to trace.</summary>
    public static int* Flag
    {
        get
        {
            if (s_flag == 0)
                MakeFlag();
            return (int*)s_flag;
        }
    }

    private static int s_neverTracing = 0;   // 0 for ever: nothing writes it

    /// <summary>
    /// A flag that always reads "not tracing", for the C entry when making <see cref="Flag"/> failed
    /// (a non-GC static: NativeAOT keeps it in data that never moves).
    /// </summary>
    public static int* NeverTracing => (int*)Unsafe.AsPointer(ref s_neverTracing);

    /* The first contact with the tracer (the C entry points' first call, or any
       tracemalloc call) makes the flag, and PYALLOC_TRACEMALLOC=N starts tracing then:
       before the program's first allocation, so that allocation keeps its site, and
       before a pa_tracemalloc_start of the program's, which then has the last word. */
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void MakeFlag()
    {
        nint flag = (nint)NativeMemory.AllocZeroed(sizeof(int));
        if (System.Threading.Interlocked.CompareExchange(ref s_flag, flag, 0) != 0)
        {
            NativeMemory.Free((void*)flag);
            return;
        }
        StartFromEnvironment();
    }

    /// <summary>True while tracing (one load: the allocation paths' check).</summary>
    public static bool IsTracing
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => s_flag != 0 && *(int*)s_flag != 0;
    }

    public static int TracebackLimit => s_tracebackLimit;

    /// <summary>
    /// tracemalloc.get_traceback_limit() for C: <see cref="TracebackLimit"/> after the first contact
    /// (so that PYALLOC_TRACEMALLOC applies).
    /// </summary>
    public static int GetTracebackLimit()
    {
        _ = Flag;
        return s_tracebackLimit;
    }

    /// <summary>tracemalloc.start(nframe).</summary>
    public static int Start(int nframe)
    {
        if (nframe < 1 || nframe > MaxFrames)
            return Errors.Fail($"pa_tracemalloc_start: nframe must be in 1..{MaxFrames}, not {nframe}");
        int* flag = Flag;
        s_lock.Enter();
        s_tracebackLimit = nframe;
        System.Threading.Volatile.Write(ref *flag, nframe);
        s_lock.Exit();
        ThreadCaches.SetTracing(true); // the C caches stop serving: traced blocks go through the core
        Probes.TracemallocStart(nframe);
        return 0;
    }

    /// <summary>tracemalloc.stop(): tracing ends and every trace is forgotten.</summary>
    public static void Stop()
    {
        int* flag = Flag;
        s_lock.Enter();
        System.Threading.Volatile.Write(ref *flag, 0);
        ClearLocked();
        FreeSymbolFrames();
        s_lock.Exit();
        ThreadCaches.SetTracing(false);
        Symbolizer.Clear();
        Probes.TracemallocStop();
    }

    /// <summary>tracemalloc.clear_traces().</summary>
    public static void ClearTraces()
    {
        s_lock.Enter();
        ClearLocked();
        s_lock.Exit();
    }

    private static void ClearLocked()
    {
        s_generation++;
        s_traces.Clear();
        s_foreign.Clear();
        s_tracebacks.Clear();
        s_unknown = null;
        s_current = s_peak = 0;
    }

    /// <summary>tracemalloc.get_traced_memory().</summary>
    public static void GetTracedMemory(out nuint current, out nuint peak)
    {
        s_lock.Enter();
        current = s_current;
        peak = s_peak;
        s_lock.Exit();
    }

    /// <summary>pa_tracemalloc_get_traced_memory: <see cref="GetTracedMemory(out nuint, out nuint)"/> into the non-null pointers.</summary>
    public static void GetTracedMemory(nuint* current, nuint* peak)
    {
        GetTracedMemory(out nuint c, out nuint p);
        if (current != null)
            *current = c;
        if (peak != null)
            *peak = p;
    }

    /// <summary>tracemalloc.reset_peak(): the peak becomes the current size.</summary>
    public static void ResetPeak()
    {
        s_lock.Enter();
        s_peak = s_current;
        s_lock.Exit();
    }

    /// <summary>tracemalloc.get_tracemalloc_memory(): the tracer's own tables.</summary>
    public static nuint Memory
    {
        get
        {
            s_lock.Enter();
            nuint bytes = s_traces.MemoryBytes + s_tracebacks.MemoryBytes + (nuint)(s_foreign.Count * ForeignEntryBytes);
            s_lock.Exit();
            return bytes;
        }
    }

    // ------------------------------------------------------------- hooks

    /// <summary>Records a new block (or replaces its trace, for a realloc in place).</summary>
    /// <remarks>[SkipLocalsInit]: the frame buffer is written before it is read; zeroing 2.4 KB per allocation was most of the cost.</remarks>
    [MethodImpl(MethodImplOptions.NoInlining), SkipLocalsInit]
    public static void OnAlloc(void* block, nuint size, in AllocationSite site)
    {
        int nframe = *Flag;
        if (nframe == 0)
            return;
        TraceFrame* frames = stackalloc TraceFrame[MaxFrames];
        int count = CollectFrames(in site, frames, nframe);
        s_lock.Enter();
        if (*Flag != 0)
        {
            Traceback* traceback = count > 0 ? s_tracebacks.Intern(frames, count) : Unknown();
            if (traceback != null && s_traces.Set(block, size, traceback, out nuint replaced))
            {
                s_current = s_current - replaced + size;
                if (s_current > s_peak)
                    s_peak = s_current;
            }
        }
        s_lock.Exit();
    }

    /// <summary>
    /// PyTraceMalloc_Track: traces <paramref name="size"/> bytes at <paramref name="address"/> in
    /// <paramref name="domain"/>, with the caller's traceback; a block already traced there has its
    /// size and traceback replaced (CPython updates it).
    /// </summary>
    /// <returns>0; -2 when not tracing (nothing done, no error, as CPython); -1 with the error set when
    /// the tracer's tables cannot grow.</returns>
    /// <summary>pa_tracemalloc_track(_at): <see cref="Track(uint, nuint, nuint, in AllocationSite)"/>, a null site being unknown.</summary>
    public static int Track(uint domain, nuint address, nuint size, AllocationSite* site)
    {
        if (site != null)
            return Track(domain, address, size, in *site);
        AllocationSite unknown = AllocationSite.Unknown;
        return Track(domain, address, size, in unknown);
    }

    [SkipLocalsInit]
    public static int Track(uint domain, nuint address, nuint size, in AllocationSite site)
    {
        int nframe = IsTracing ? *Flag : 0;
        if (nframe == 0)
            return -2;
        TraceFrame* frames = stackalloc TraceFrame[MaxFrames];
        int count = CollectFrames(in site, frames, nframe);
        s_lock.Enter();
        try
        {
            if (*Flag == 0)
                return -2;
            Traceback* traceback = count > 0 ? s_tracebacks.Intern(frames, count) : Unknown();
            if (traceback == null)
                return Errors.Fail("pa_tracemalloc_track: out of memory for the traceback");
            nuint replaced;
            if (domain == 0)
            {
                if (!s_traces.Set((void*)address, size, traceback, out replaced))
                    return Errors.Fail("pa_tracemalloc_track: out of memory for the trace table");
            }
            else
            {
                replaced = s_foreign.TryGetValue((domain, address), out var old) ? old.Size : 0;
                s_foreign[(domain, address)] = (size, (nint)traceback);
            }
            s_current = s_current - replaced + size;
            if (s_current > s_peak)
                s_peak = s_current;
            return 0;
        }
        finally
        {
            s_lock.Exit();
        }
    }

    /// <summary>PyTraceMalloc_Untrack: forgets the trace at (<paramref name="domain"/>, <paramref name="address"/>).</summary>
    /// <returns>0, also for a block that is not traced (as CPython); -2 when not tracing.</returns>
    public static int Untrack(uint domain, nuint address)
    {
        if (!IsTracing)
            return -2;
        s_lock.Enter();
        if (domain == 0)
            s_current -= s_traces.Remove((void*)address);
        else if (s_foreign.Remove((domain, address), out var old))
            s_current -= old.Size;
        s_lock.Exit();
        return 0;
    }

    /// <summary>
    /// Takes the trace of <paramref name="block"/> out (for a realloc, before the block can
    /// be released); <see cref="PutBack"/> restores it when the realloc fails.
    /// </summary>
    public static bool TakeOut(void* block, out nuint size, out nint traceback)
    {
        s_lock.Enter();
        TraceTable.Entry* e = s_traces.Find((nuint)block);
        size = e != null ? e->Size : 0;
        traceback = e != null ? (nint)e->Traceback : 0;
        if (e != null)
            s_current -= s_traces.Remove(block);
        s_lock.Exit();
        return traceback != 0;
    }

    /// <summary>Restores a trace taken out by <see cref="TakeOut"/> (unless tracing restarted meanwhile).</summary>
    public static void PutBack(void* block, nuint size, nint traceback, uint generation)
    {
        s_lock.Enter();
        if (generation == s_generation && s_traces.Set(block, size, (Traceback*)traceback, out nuint replaced))
        {
            s_current = s_current - replaced + size;
            if (s_current > s_peak)
                s_peak = s_current;
        }
        s_lock.Exit();
    }

    /// <summary>Changes whenever the tracebacks are freed (stop, clear): stale Traceback* are then refused.</summary>
    public static uint Generation => System.Threading.Volatile.Read(ref s_generation);
    private static uint s_generation;

    /// <summary>Forgets the traces of every block <paramref name="belongs"/> says yes to (a runtime being freed).</summary>
    public static void ForgetWhere(delegate*<void*, void*, bool> belongs, void* state)
    {
        if (!IsTracing)
            return;
        s_lock.Enter();
        var doomed = new System.Collections.Generic.List<nuint>();
        var collect = new ForgetState { Belongs = belongs, State = state, Doomed = doomed };
        s_traces.ForEach(ref collect, &CollectDoomed);
        foreach (nuint block in doomed)
            s_current -= s_traces.Remove((void*)block);
        s_lock.Exit();
    }

    private struct ForgetState
    {
        public delegate*<void*, void*, bool> Belongs;
        public void* State;
        public System.Collections.Generic.List<nuint> Doomed;
    }

    private static void CollectDoomed(ref ForgetState s, in TraceTable.Entry e)
    {
        if (s.Belongs((void*)e.Block, s.State))
            s.Doomed.Add(e.Block);
    }

    /// <summary>Forgets a block that is being freed.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void OnFree(void* block)
    {
        s_lock.Enter();
        s_current -= s_traces.Remove(block);
        s_lock.Exit();
    }

    /// <summary>
    /// tracemalloc.get_object_traceback: the frames of a traced block into output[0..cap),
    /// most recent first; 0 when not traced. The strings live until tracing stops.
    /// </summary>
    /// <remarks>-1 with the error set for a NULL block, a negative cap, or a NULL output with cap above 0.</remarks>
    public static int GetTraceback(void* block, PaFrame* output, int cap)
    {
        if (block == null || (output == null && cap > 0) || cap < 0)
            return Errors.Fail("pa_tracemalloc_get_traceback: block is NULL, or out is NULL with cap > 0");
        s_lock.Enter();
        try
        {
            TraceTable.Entry* e = s_traces.Find((nuint)block);
            if (e == null)
                return 0;
            Traceback* t = e->Traceback;
            int n = Math.Min(t->FrameCount, cap);
            for (int i = 0; i < n; i++)
            {
                TraceFrame f = t->Frames[i];
                output[i] = f.File != null
                    ? new PaFrame { Filename = f.File, Lineno = f.Line }
                    : SymbolFrame(f.Address);
            }
            return t->FrameCount; // the whole length, as the other sizing calls: cap 0 asks for it
        }
        finally
        {
            s_lock.Exit();
        }
    }

    private static readonly System.Collections.Generic.Dictionary<nuint, PaFrame> s_symbolFrames = new();

    /* A code address as a frame whose name the library owns until tracing stops. */
    private static PaFrame SymbolFrame(nuint address)
    {
        if (s_symbolFrames.TryGetValue(address, out PaFrame known))
            return known;
        var (file, line) = Symbolizer.Resolve(address);
        byte[] bytes = FileNames.EncodeZ(file);
        byte* name = (byte*)NativeMemory.Alloc((nuint)bytes.Length);
        bytes.CopyTo(new Span<byte>(name, bytes.Length));
        return s_symbolFrames[address] = new PaFrame { Filename = name, Lineno = line };
    }

    private static void FreeSymbolFrames()
    {
        foreach (PaFrame f in s_symbolFrames.Values)
            NativeMemory.Free(f.Filename);
        s_symbolFrames.Clear();
    }

    /// <summary>The traceback of a traced block, or null.</summary>
    internal static Traceback* Find(void* block)
    {
        s_lock.Enter();
        TraceTable.Entry* e = s_traces.Find((nuint)block);
        Traceback* t = e != null ? e->Traceback : null;
        s_lock.Exit();
        return t;
    }

    /// <summary>
    /// Copies (domain, size, traceback) of every trace: domain 0's first, then the other domains'.
    /// Pre: the caller holds the lock (<see cref="Lock"/>), which keeps the tracebacks alive while it reads them.
    /// </summary>
    internal static (uint Domain, nuint Size, nint Traceback)[] CopyTracesLocked(out int limit)
    {
        limit = s_tracebackLimit;
        var copy = new (uint, nuint, nint)[(int)s_traces.Count + s_foreign.Count];
        var state = new CopyState { Output = copy };
        s_traces.ForEach(ref state, &CopyOne);
        foreach (var ((domain, _), (size, traceback)) in s_foreign)
            copy[state.Next++] = (domain, size, traceback);
        return copy;
    }

    private struct CopyState
    {
        public (uint, nuint, nint)[] Output;
        public int Next;
    }

    private static void CopyOne(ref CopyState state, in TraceTable.Entry e) =>
        state.Output[state.Next++] = (0u, e.Size, (nint)e.Traceback);

    /// <summary>Holds the tracer's lock while a snapshot reads tracebacks.</summary>
    internal static void Lock() => s_lock.Enter();
    internal static void Unlock() => s_lock.Exit();

    /* The frames of an allocation: the named site first when there is one, then the
       native return addresses the C entry point captured, up to nframe in all. */
    private static int CollectFrames(in AllocationSite site, TraceFrame* frames, int nframe)
    {
        int count = 0;
        if (site.File != null)
            frames[count++] = new TraceFrame { File = site.File, Line = site.Line };
        for (int i = 0; i < site.FrameCount && count < nframe; i++)
            frames[count++] = new TraceFrame { Address = (nuint)site.Frames[i] };
        return count;
    }

    /* The shared traceback of allocations whose site is unknown: one frame "<unknown>". */
    private static Traceback* Unknown()
    {
        if (s_unknown == null)
        {
            TraceFrame frame = new() { File = UnknownName, Line = 0 };
            s_unknown = s_tracebacks.Intern(&frame, 1);
        }
        return s_unknown;
    }

    internal static byte* UnknownName => (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference("<unknown>"u8));

    /// <summary>Starts tracing when PYALLOC_TRACEMALLOC=N is set (at the first allocation).</summary>
    internal static void StartFromEnvironment()
    {
        byte* value = Libc.Getenv((byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference("PYALLOC_TRACEMALLOC"u8)));
        if (value == null || *value == 0)
            return;
        string text = System.Text.Encoding.UTF8.GetString(MemoryMarshal.CreateReadOnlySpanFromNullTerminated(value));
        if (!int.TryParse(text, out int n) || n < 0 || n > MaxFrames)
        {
            Platform.Stderr.WriteLine($"pyalloc: PYALLOC_TRACEMALLOC={text} is not a number of frames (0..{MaxFrames}); not tracing");
            return;
        }
        if (n > 0)
            Start(n);
    }
}
