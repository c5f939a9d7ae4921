using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

using PyAlloc.Interop;

namespace PyAlloc;

/// <summary>
/// CPython's <c>tracemalloc</c> module over libpyalloc (section 9 of <c>pyalloc.h</c>): while tracing, every
/// block served by <c>pa_malloc</c> &amp; co. and every object allocation is recorded with its size and the
/// traceback of its allocation.
/// </summary>
/// <remarks>
/// <para><b>Process-wide.</b> There is one tracer for the process, whichever thread or runtime allocates.
/// Every member is thread-safe.</para>
/// <para><b>Frames.</b> A frame is an allocation's call site: the file and line given to the <c>_at</c> calls
/// (<see cref="NativeMethods.pa_malloc_at"/>, ...) and to the C macros (<c>PA_MALLOC(n)</c>, ...), otherwise the
/// caller's code address, symbolised when a snapshot is taken ("function+0x1c (module)", or the source file
/// and line where the caller has debug information and addr2line is installed). A call from .NET through
/// <see cref="NativeMethods"/> without a site is attributed to the interop stub the JIT made for it, which
/// has no name worth reading: give .NET allocations a site with the <c>_at</c> calls.</para>
/// <para><b>Errors.</b> As the rest of the idiomatic layer: failures reported by the library throw
/// <see cref="PyAllocException"/> with <see cref="PyMemory.LastError"/>'s text.</para>
/// </remarks>
public static unsafe class Tracemalloc
{
    /// <summary>The most frames a trace can keep (the library's limit for <see cref="Start"/>).</summary>
    public const int MaxFrames = 100;

    /// <summary><c>tracemalloc.start(nframe)</c> (<c>pa_tracemalloc_start</c>): starts tracing, keeping up to
    /// <paramref name="nframe"/> frames per trace; starting while tracing changes nframe for new traces only.</summary>
    /// <param name="nframe">1 to <see cref="MaxFrames"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="nframe"/> is outside 1..<see cref="MaxFrames"/>.</exception>
    /// <exception cref="PyAllocException">The library refused.</exception>
    public static void Start(int nframe = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nframe, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(nframe, MaxFrames);
        if (NativeMethods.pa_tracemalloc_start(nframe) != 0)
            throw new PyAllocException(PyMemory.LastError);
    }

    /// <summary><c>tracemalloc.stop()</c> (<c>pa_tracemalloc_stop</c>): tracing ends and every trace is forgotten.</summary>
    /// <remarks>Snapshots already taken stay valid: they are copies.</remarks>
    public static void Stop() => NativeMethods.pa_tracemalloc_stop();

    /// <summary><c>tracemalloc.is_tracing()</c> (<c>pa_tracemalloc_is_tracing</c>).</summary>
    public static bool IsTracing => NativeMethods.pa_tracemalloc_is_tracing() != 0;

    /// <summary><c>tracemalloc.get_traceback_limit()</c>: the nframe of the last <see cref="Start"/>, or 1 before any.</summary>
    public static int TracebackLimit => NativeMethods.pa_tracemalloc_get_traceback_limit();

    /// <summary><c>tracemalloc.get_traced_memory()</c> (<c>pa_tracemalloc_get_traced_memory</c>).</summary>
    /// <value>The bytes of the traced blocks now, and the most since tracing started or since <see cref="ResetPeak"/>;
    /// (0, 0) while not tracing.</value>
    public static (long Current, long Peak) TracedMemory
    {
        get
        {
            nuint current, peak;
            NativeMethods.pa_tracemalloc_get_traced_memory(&current, &peak);
            return ((long)current, (long)peak);
        }
    }

    /// <summary><c>tracemalloc.reset_peak()</c>: the peak becomes the current size.</summary>
    public static void ResetPeak() => NativeMethods.pa_tracemalloc_reset_peak();

    /// <summary><c>tracemalloc.get_tracemalloc_memory()</c> (<c>pa_tracemalloc_get_memory</c>): bytes of the tracer's own
    /// tables of traces, tracebacks and names.</summary>
    public static long Memory => (long)NativeMethods.pa_tracemalloc_get_memory();

    /// <summary><c>tracemalloc.clear_traces()</c>: every trace is forgotten; tracing goes on.</summary>
    public static void ClearTraces() => NativeMethods.pa_tracemalloc_clear_traces();

    /// <summary><c>tracemalloc.take_snapshot()</c> (<c>pa_tracemalloc_take_snapshot</c>): a copy of the traces now, with
    /// every code address already symbolised.</summary>
    /// <returns>A snapshot to dispose; independent of the tracer afterwards.</returns>
    /// <exception cref="PyAllocException">Not tracing.</exception>
    public static TraceSnapshot TakeSnapshot()
    {
        PaSnapshot* s = NativeMethods.pa_tracemalloc_take_snapshot();
        if (s == null)
            throw new PyAllocException(PyMemory.LastError);
        return new TraceSnapshot(s);
    }

    /// <summary><c>tracemalloc.get_object_traceback()</c> for a block (<c>pa_tracemalloc_get_traceback</c>).</summary>
    /// <param name="block">A block from <c>pa_malloc</c> &amp; co., or an object pointer.</param>
    /// <returns>The frames of its allocation, most recent first; empty when the block is not traced (allocated while
    /// not tracing, freed, or not a block of this library).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="block"/> is null.</exception>
    /// <exception cref="PyAllocException">The library refused.</exception>
    public static IReadOnlyList<TracebackFrame> GetTraceback(void* block)
    {
        ArgumentNullException.ThrowIfNull(block);
        PaFrame* frames = stackalloc PaFrame[MaxFrames];
        int n = NativeMethods.pa_tracemalloc_get_traceback(block, frames, MaxFrames);
        if (n < 0)
            throw new PyAllocException(PyMemory.LastError);
        return Frames(frames, Math.Min(n, MaxFrames), null);
    }

    /// <summary><c>tracemalloc.get_object_traceback(obj)</c>: the traceback of an object's allocation.</summary>
    /// <param name="o">A live object.</param>
    /// <returns>The frames, most recent first; empty when the object is not traced.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="o"/> is null.</exception>
    public static IReadOnlyList<TracebackFrame> GetTraceback(PyObjectRef o)
    {
        if (o.IsNull)
            throw new ArgumentNullException(nameof(o));
        return GetTraceback(o.Pointer);
    }

    /// <summary><c>PyTraceMalloc_Track(domain, ptr, size)</c> (<c>pa_tracemalloc_track_at</c>): traces memory of another
    /// allocator beside PyAlloc's, in <paramref name="domain"/>, at the caller's file and line.</summary>
    /// <param name="domain">The domain; 0 is PyAlloc's own (tracking a PyAlloc block there replaces its trace).</param>
    /// <param name="address">The block's address.</param>
    /// <param name="size">Its size in bytes.</param>
    /// <param name="file">The caller's source file (filled in by the compiler).</param>
    /// <param name="line">The caller's line (filled in by the compiler).</param>
    /// <returns>True when traced (a block traced there already has its size and traceback replaced); false when not
    /// tracing (nothing done, as CPython's -2).</returns>
    /// <exception cref="PyAllocException">The tracer's tables cannot grow.</exception>
    public static bool Track(uint domain, nuint address, nuint size, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        int rc = NativeMethods.pa_tracemalloc_track_at(domain, address, size, CallSites.File(file), line);
        return rc == 0 || (rc == -2 ? false : throw new PyAllocException(PyMemory.LastError));
    }

    /// <summary><c>PyTraceMalloc_Untrack(domain, ptr)</c> (<c>pa_tracemalloc_untrack</c>).</summary>
    /// <param name="domain">The domain.</param>
    /// <param name="address">The block's address.</param>
    /// <returns>True while tracing (also when the block was not traced, as CPython); false when not tracing.</returns>
    public static bool Untrack(uint domain, nuint address) => NativeMethods.pa_tracemalloc_untrack(domain, address) == 0;

    /// <summary><c>Traceback.format(limit, most_recent_first)</c> (<c>pa_traceback_format</c>): the lines CPython prints
    /// for a traceback, '  File "x.cs", line 5' and, when the file can be read, its source line indented by four.</summary>
    /// <param name="traceback">The frames, most recent first (as <see cref="GetTraceback(PyObjectRef)"/> and the statistics give them).</param>
    /// <param name="limit">Null for every frame; n &gt; 0 the n most recent; 0 none; n &lt; 0 all but the |n| most recent (CPython's
    /// <c>self[:limit]</c>).</param>
    /// <param name="mostRecentFirst">Print the most recent frame first (CPython prints the oldest first by default).</param>
    /// <returns>The lines, without line ends.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="traceback"/> is null.</exception>
    /// <exception cref="ArgumentException">More than <see cref="MaxFrames"/> frames, or a file name holding a NUL.</exception>
    public static IReadOnlyList<string> FormatTraceback(IReadOnlyList<TracebackFrame> traceback, int? limit = null, bool mostRecentFirst = false)
    {
        ArgumentNullException.ThrowIfNull(traceback);
        if (traceback.Count > MaxFrames)
            throw new ArgumentException($"a traceback has at most {MaxFrames} frames", nameof(traceback));
        var names = new byte[traceback.Count][];
        var handles = new GCHandle[traceback.Count];
        PaFrame* frames = stackalloc PaFrame[Math.Max(1, traceback.Count)];
        try
        {
            for (int i = 0; i < traceback.Count; i++)
            {
                names[i] = Utf8(traceback[i].Filename, nameof(traceback));
                handles[i] = GCHandle.Alloc(names[i], GCHandleType.Pinned);
                frames[i] = new PaFrame { Filename = (byte*)handles[i].AddrOfPinnedObject(), Lineno = traceback[i].Lineno };
            }
            int l = limit ?? NativeMethods.PA_TRACEBACK_NO_LIMIT;
            int n = NativeMethods.pa_traceback_format(frames, traceback.Count, l, mostRecentFirst ? 1 : 0, null, 0);
            if (n < 0)
                throw new PyAllocException(PyMemory.LastError);
            byte[] text = new byte[n + 1];
            fixed (byte* t = text)
                NativeMethods.pa_traceback_format(frames, traceback.Count, l, mostRecentFirst ? 1 : 0, t, (nuint)text.Length);
            string all = Encoding.UTF8.GetString(text, 0, n);
            return all.Length == 0 ? [] : all.TrimEnd('\n').Split('\n');
        }
        finally
        {
            foreach (GCHandle h in handles)
            {
                if (h.IsAllocated)
                    h.Free();
            }
        }
    }

    // -------------------------------------------------------------------- helpers

    /* Managed copies of frames[0..count); names decoded once per pointer when cache is given. */
    internal static TracebackFrame[] Frames(PaFrame* frames, int count, Dictionary<nint, string>? cache)
    {
        if (frames == null || count <= 0)
            return [];
        var result = new TracebackFrame[count];
        for (int i = 0; i < count; i++)
            result[i] = new TracebackFrame(Name(frames[i].Filename, cache), frames[i].Lineno);
        return result;
    }

    internal static string Name(byte* s, Dictionary<nint, string>? cache)
    {
        if (s == null)
            return string.Empty;
        if (cache != null && cache.TryGetValue((nint)s, out string? known))
            return known;
        string text = Marshal.PtrToStringUTF8((nint)s) ?? string.Empty;
        if (cache != null)
            cache[(nint)s] = text;
        return text;
    }

    /* s as NUL-terminated UTF-8; a string holding a NUL cannot be passed to C. */
    internal static byte[] Utf8(string s, string paramName)
    {
        ArgumentNullException.ThrowIfNull(s, paramName);
        if (s.Contains('\0'))
            throw new ArgumentException("the string contains a NUL character, which C cannot see past", paramName);
        byte[] bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1];
        Encoding.UTF8.GetBytes(s, bytes);
        return bytes;
    }
}

/// <summary>One frame of a traceback: a file name and a line (CPython's <c>tracemalloc.Frame</c>).</summary>
/// <param name="Filename">The file, or for a code address without debug information "function+0xoff (module)".</param>
/// <param name="Lineno">The line; 0 when unknown (and for statistics grouped by file).</param>
public readonly record struct TracebackFrame(string Filename, int Lineno)
{
    /// <summary>"file:line", as CPython's <c>str(Frame)</c>.</summary>
    /// <returns>The frame as text.</returns>
    public override string ToString() => $"{Filename}:{Lineno}";
}
