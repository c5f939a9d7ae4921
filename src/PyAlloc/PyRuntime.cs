using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;

using PyAlloc.Interop;

namespace PyAlloc;

/// <summary>
/// A PyAlloc runtime (<c>pa_runtime</c>): an object space with its own heap and its own cycle collector,
/// like one CPython interpreter, and the <c>gc</c> module over it.
/// </summary>
/// <remarks>
/// <para><b>Threads.</b> Calls on one runtime and on its objects must not overlap in time: the caller
/// serialises them, as CPython's GIL does. Different runtimes may be used from different threads at once.</para>
/// <para><b>Errors.</b> As <see cref="PyMemory"/>: a failure throws <see cref="PyAllocException"/> with the library's
/// message, a bad argument the matching <see cref="ArgumentException"/>. Every member throws
/// <see cref="ObjectDisposedException"/> after <see cref="Dispose"/>.</para>
/// <para><b>Managed callbacks.</b> gc callbacks (<see cref="AddCallback"/>) and weakref callbacks
/// (<see cref="PyWeakRef.New"/>) are .NET delegates behind one <c>[UnmanagedCallersOnly]</c> trampoline each;
/// the delegate travels as the C <c>user</c> pointer in a <see cref="GCHandle"/>. A gc callback's handle is
/// freed when it is removed or when the runtime is disposed. A weakref callback runs at most once (the library
/// clears the callback when it calls it), so its handle is freed right after it ran; a callback that never
/// runs (its weakref died first, or was garbage itself, or its target outlived the runtime) keeps its handle in
/// this runtime's registry until <see cref="Dispose"/> frees it. A <see cref="PyFinalizer"/>'s callback (an
/// <see cref="Action"/>) likewise runs at most once; its handle goes when it runs or is detached, else at
/// <see cref="Dispose"/>. Callbacks run on the thread whose call made
/// the collection or released the last reference. An exception a callback throws cannot cross the C frames:
/// it is caught and given to <see cref="CallbackException"/> (or, with no handler, printed to stderr as
/// CPython's "Exception ignored in ..."), and the library carries on.</para>
/// <para><b>Leaks.</b> A runtime is owned by its <see cref="SafeHandle"/> (<see cref="PaRuntimeHandle"/>). One that is
/// never disposed is reported when .NET finalises it, through <see cref="ResourceWarning"/>, and its memory stays
/// allocated until the process ends: a runtime is single-threaded, and bare pointers into it (C code, a
/// <see cref="PyObjectRef"/>) may still be in use on another thread, so the finaliser thread never frees it. A
/// runtime with managed gc or weakref callbacks registered is kept reachable by them, so only
/// <see cref="Dispose"/> ends it. A <see cref="PyOwned"/> or <see cref="PyRefArray"/> that is never disposed is not
/// released on the finaliser thread either: its finaliser hands its references to this runtime, which releases them
/// on its own thread at its next <see cref="Collect"/>, object allocation through the idiomatic layer, or
/// <see cref="PyOwned.Dispose"/>, or when <see cref="ReleaseAbandoned"/> is called.</para>
/// </remarks>
public sealed unsafe class PyRuntime : IDisposable
{
    private static readonly ConcurrentDictionary<nint, WeakReference<PyRuntime>> s_live = new();

    private PaRuntime* _handle;
    private readonly PaRuntimeHandle _safeHandle;
    private readonly ConcurrentQueue<nint> _abandoned = new();
    private int _abandonedCount;
    private readonly List<GcCallbackRegistration> _gcCallbacks = [];
    private readonly HashSet<WeakRefCallback> _weakRefCallbacks = [];
    private readonly HashSet<FinalizeCallback> _finalizeCallbacks = [];
    private int _callbackDepth;

    /// <summary>A new runtime (<c>pa_runtime_new</c>): GC enabled, thresholds (700, 10, 10), no objects.</summary>
    /// <exception cref="PyAllocException">Out of memory.</exception>
    public PyRuntime()
    {
        PaRuntime* h = NativeMethods.pa_runtime_new();
        if (h == null)
            throw new PyAllocException(PyMemory.LastError);
        _handle = h;
        _safeHandle = new PaRuntimeHandle(h);
        s_live[(nint)h] = new WeakReference<PyRuntime>(this);
    }

    /// <summary>The <see cref="System.Runtime.InteropServices.SafeHandle"/> that owns the <c>pa_runtime*</c>.</summary>
    /// <remarks>Disposing it directly frees the runtime as <see cref="Dispose"/> does, but without releasing the managed
    /// callbacks' handles: dispose the <see cref="PyRuntime"/> instead.</remarks>
    public PaRuntimeHandle SafeHandle => _safeHandle;

    /// <summary>
    /// Raised, on whatever thread finds it, when a PyAlloc resource was never disposed: a <see cref="PyRuntime"/>
    /// reached the .NET finaliser, or a <see cref="PyOwned"/> whose runtime is not a <see cref="PyRuntime"/> did
    /// (its reference cannot be released safely, so it is kept). CPython's <c>ResourceWarning</c>.
    /// </summary>
    /// <remarks>With no handler the message is printed to stderr as "ResourceWarning: ...". A handler runs on the
    /// finaliser thread; an exception it throws is printed the same way and otherwise ignored.</remarks>
    public static event Action<string>? ResourceWarning;

    internal static void Forget(nint handle) => s_live.TryRemove(handle, out _);

    internal static void WarnResource(string message)
    {
        try
        {
            Action<string>? handler = ResourceWarning;
            if (handler != null)
            {
                handler(message);
                return;
            }
        }
        catch (Exception e)
        {
            message += $" (the ResourceWarning handler threw: {e.Message})";
        }
        try
        {
            Console.Error.WriteLine($"ResourceWarning: {message}");
        }
        catch
        {
            // nothing left to report with
        }
    }

    /// <summary>
    /// Releases now, on the calling thread, the references that undisposed <see cref="PyOwned"/> and
    /// <see cref="PyRefArray"/> owners of this runtime handed over from the finaliser thread.
    /// </summary>
    /// <returns>How many references were released. The objects may die now, running finalisers and callbacks.</returns>
    /// <remarks>Runs on its own at this runtime's <see cref="Collect"/>, at each object allocation through the
    /// idiomatic layer and at each <see cref="PyOwned.Dispose"/>; call it to release them at a moment of your
    /// choosing. Like every call on the runtime, not concurrently with other calls on it.</remarks>
    /// <exception cref="ObjectDisposedException">The runtime has been disposed.</exception>
    public int ReleaseAbandoned()
    {
        _ = Handle;
        int released = 0;
        while (_abandoned.TryDequeue(out nint p))
        {
            Interlocked.Decrement(ref _abandonedCount);
            NativeMethods.pa_decref((PaObject*)p);
            released++;
        }
        return released;
    }

    /* The check every safe point makes: one load when nothing was abandoned. */
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void ReleaseAbandonedIfAny()
    {
        if (Volatile.Read(ref _abandonedCount) != 0 && _handle != null)
            ReleaseAbandoned();
    }

    /* From a finaliser: the reference is released later, on the runtime's thread. */
    internal void Abandon(PaObject* reference)
    {
        if (_handle == null)
            return; // the runtime is gone, and its objects with it
        _abandoned.Enqueue((nint)reference);
        Interlocked.Increment(ref _abandonedCount);
    }

    /// <summary>The <c>pa_runtime*</c>, for <see cref="NativeMethods"/>.</summary>
    /// <exception cref="ObjectDisposedException">The runtime has been disposed.</exception>
    public PaRuntime* Handle => _handle != null ? _handle : throw new ObjectDisposedException(nameof(PyRuntime));

    /// <summary>True once <see cref="Dispose"/> has freed the runtime.</summary>
    public bool IsDisposed => _handle == null;

    /// <summary>The live <see cref="PyRuntime"/> whose handle is <paramref name="handle"/>.</summary>
    /// <param name="handle">A runtime pointer, e.g. from <see cref="PyObjectRef.RuntimeHandle"/>.</param>
    /// <returns>The runtime, or null when no undisposed <see cref="PyRuntime"/> has that handle.</returns>
    public static PyRuntime? FromHandle(PaRuntime* handle) =>
        handle != null && s_live.TryGetValue((nint)handle, out WeakReference<PyRuntime>? weak)
        && weak.TryGetTarget(out PyRuntime? rt) && !rt.IsDisposed ? rt : null;

    /// <summary>
    /// Raised on the callback's thread when a managed gc or weakref callback of this runtime throws; the
    /// library carries on as if the callback had returned.
    /// </summary>
    /// <remarks>With no handler, the exception is printed to stderr ("Exception ignored in gc callback: ...").
    /// An exception thrown by a handler is printed the same way and otherwise ignored.</remarks>
    public event Action<Exception>? CallbackException;

    // ------------------------------------------------------------------------ collection

    /// <summary><c>gc.collect(generation)</c> (<c>pa_gc_collect</c>): collects generations 0..<paramref name="generation"/>
    /// whatever the thresholds, even when disabled.</summary>
    /// <param name="generation">0, 1 or 2.</param>
    /// <returns>Objects collected plus uncollectable (resurrected objects count in neither); 0 when a collection is
    /// already running (from a callback or finaliser).</returns>
    /// <remarks>Finalisers, weakref callbacks and gc callbacks run on this thread during the call.</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="generation"/> is not 0, 1 or 2 (CPython's
    /// ValueError "invalid generation").</exception>
    /// <exception cref="ObjectDisposedException">The runtime has been disposed.</exception>
    public long Collect(int generation = 2)
    {
        if ((uint)generation > 2)
            throw new ArgumentOutOfRangeException(nameof(generation), generation, "invalid generation");
        ReleaseAbandonedIfAny();
        long n = NativeMethods.pa_gc_collect(Handle, generation);
        return n >= 0 ? n : throw new PyAllocException(PyMemory.LastError);
    }

    /// <summary>Automatic collection on or off (<c>gc.isenabled()</c>, <c>gc.enable()</c>, <c>gc.disable()</c>).</summary>
    /// <remarks>Explicit <see cref="Collect"/> works either way.</remarks>
    /// <exception cref="ObjectDisposedException">The runtime has been disposed.</exception>
    public bool IsEnabled
    {
        get => NativeMethods.pa_gc_isenabled(Handle) == 1;
        set
        {
            if (value)
                NativeMethods.pa_gc_enable(Handle);
            else
                NativeMethods.pa_gc_disable(Handle);
        }
    }

    /// <summary><c>gc.get_count()</c> (<c>pa_gc_get_count</c>).</summary>
    /// <returns>Generation 0: GC allocations minus frees since its last collection; generations 1 and 2: collections
    /// of the next younger generation since their own last one.</returns>
    /// <exception cref="ObjectDisposedException">The runtime has been disposed.</exception>
    public (long Gen0, long Gen1, long Gen2) GetCount()
    {
        nint* counts = stackalloc nint[3];
        NativeMethods.pa_gc_get_count(Handle, counts);
        return (counts[0], counts[1], counts[2]);
    }

    /// <summary><c>gc.get_threshold()</c> / <c>gc.set_threshold()</c>.</summary>
    /// <remarks>Generation 0 is collected at the GC allocation that takes its count past <c>Gen0</c>; 0 disables
    /// automatic collection. No range check, as in CPython.</remarks>
    /// <exception cref="ObjectDisposedException">The runtime has been disposed.</exception>
    public (int Gen0, int Gen1, int Gen2) Thresholds
    {
        get
        {
            int* t = stackalloc int[3];
            NativeMethods.pa_gc_get_threshold(Handle, t);
            return (t[0], t[1], t[2]);
        }
        set => NativeMethods.pa_gc_set_threshold(Handle, value.Gen0, value.Gen1, value.Gen2);
    }

    /// <summary><c>gc.get_stats()</c> (<c>pa_gc_get_stats</c>).</summary>
    /// <returns>Three entries, generation 0 first.</returns>
    /// <exception cref="PyAllocException">The library refused the call.</exception>
    /// <exception cref="ObjectDisposedException">The runtime has been disposed.</exception>
    public IReadOnlyList<GcGenerationStats> GetStats()
    {
        PaGcGenerationStats* raw = stackalloc PaGcGenerationStats[3];
        if (NativeMethods.pa_gc_get_stats(Handle, raw) != 0)
            throw new PyAllocException(PyMemory.LastError);
        var stats = new GcGenerationStats[3];
        for (int i = 0; i < 3; i++)
            stats[i] = new GcGenerationStats(raw[i].Collections, raw[i].Collected, raw[i].Uncollectable);
        return stats;
    }

    /// <summary>The object census (<c>pa_count_objects_by_type</c>): live objects of this runtime per type, largest
    /// total bytes first, then most objects -- the find_leaks recipe by type.</summary>
    /// <returns>One row per type with live objects (GC or not, tracked or not, immortal ones included).</returns>
    /// <remarks>A type whose count grows by the same amount every time an operation runs (after a collection) is
    /// what that operation leaks.</remarks>
    /// <exception cref="PyAllocException">The library refused the call.</exception>
    /// <exception cref="ObjectDisposedException">The runtime has been disposed.</exception>
    public IReadOnlyList<ObjectTypeCount> CountObjectsByType()
    {
        PaRuntime* h = Handle;
        nuint cap = 0;
        while (true)
        {
            var raw = new PaTypeCount[(int)cap];
            nuint n;
            fixed (PaTypeCount* p = raw)
                n = NativeMethods.pa_count_objects_by_type(h, cap == 0 ? null : p, cap);
            if (n == unchecked((nuint)NativeMethods.PA_SIZE_ERROR))
                throw new PyAllocException(PyMemory.LastError);
            if (n <= cap)
            {
                var rows = new ObjectTypeCount[(int)n];
                for (int i = 0; i < (int)n; i++)
                    rows[i] = new ObjectTypeCount(raw[i].Type, Marshal.PtrToStringUTF8((nint)raw[i].Name) ?? string.Empty,
                                                  (long)raw[i].Count, (long)raw[i].Bytes);
                return rows;
            }
            cap = n;   // the census grew between the two calls: ask again
        }
    }

    /// <summary>The figures of this runtime's own memory (<c>pa_runtime_get_malloc_stats</c>): its heap's arenas and pools
    /// and its large blocks, as <see cref="PyMemory.GetStats"/> gives the process allocator's.</summary>
    /// <returns>The figures.</returns>
    /// <exception cref="PyAllocException">The library refused the call.</exception>
    /// <exception cref="ObjectDisposedException">The runtime has been disposed.</exception>
    public MallocStats GetMallocStats()
    {
        PaMallocStats raw;
        if (NativeMethods.pa_runtime_get_malloc_stats(Handle, &raw) != 0)
            throw new PyAllocException(PyMemory.LastError);
        return new MallocStats(raw);
    }

    /// <summary>The table <c>pa_runtime_print_malloc_stats</c> writes for this runtime, as a string.</summary>
    /// <returns>The table of <see cref="PyMemory.FormatStats"/>, with this runtime's figures.</returns>
    /// <exception cref="PyAllocException">The library refused the call or the in-memory stream failed.</exception>
    /// <exception cref="ObjectDisposedException">The runtime has been disposed.</exception>
    public string FormatMallocStats()
    {
        PaRuntime* h = Handle;
        return PyMemory.CaptureStream(file => NativeMethods.pa_runtime_print_malloc_stats(h, (void*)file));
    }

    /// <summary>The heap map (<c>pa_runtime_pool_map</c>): every pool of this runtime's heap, 64 per arena, with its size
    /// class and live blocks (size class -1 for an empty or uncarved pool).</summary>
    /// <returns>One row per pool, arena by arena.</returns>
    /// <exception cref="PyAllocException">The library refused the call.</exception>
    /// <exception cref="ObjectDisposedException">The runtime has been disposed.</exception>
    public PaPoolInfo[] PoolMap()
    {
        PaRuntime* h = Handle;
        nuint cap = 0;
        while (true)
        {
            var raw = new PaPoolInfo[(int)cap];
            nuint n;
            fixed (PaPoolInfo* p = raw)
                n = NativeMethods.pa_runtime_pool_map(h, cap == 0 ? null : p, cap);
            if (n == unchecked((nuint)NativeMethods.PA_SIZE_ERROR))
                throw new PyAllocException(PyMemory.LastError);
            if (n <= cap)
                return n == cap ? raw : raw[..(int)n];
            cap = n;   // the heap grew between the two calls: ask again
        }
    }

    /// <summary><c>gc.get_objects(generation)</c> (<c>pa_gc_get_objects</c>): the tracked objects.</summary>
    /// <param name="generation">0, 1 or 2; null (or -1) for all three. Frozen objects are in none.</param>
    /// <returns>NEW references, oldest first within a generation; dispose the array.</returns>
    /// <exception cref="PyAllocException">A bad generation; the message is the library's.</exception>
    /// <exception cref="ObjectDisposedException">The runtime has been disposed.</exception>
    public PyRefArray GetObjects(int? generation = null)
    {
        PaRuntime* h = Handle;
        int g = generation ?? -1;
        return PyRefArray.Fill((output, cap) => NativeMethods.pa_gc_get_objects(h, g, output, cap));
    }

    /// <summary><c>gc.get_referrers(target)</c> (<c>pa_gc_get_referrers</c>): the tracked objects (frozen ones excepted) that refer to <paramref name="target"/>.</summary>
    /// <param name="target">The object referred to.</param>
    /// <returns>NEW references; dispose the array.</returns>
    /// <exception cref="PyAllocException">The library refused the call (null target).</exception>
    /// <exception cref="ObjectDisposedException">The runtime has been disposed.</exception>
    public PyRefArray GetReferrers(PyObjectRef target)
    {
        PaRuntime* h = Handle;
        PaObject* t = target.Pointer;
        return PyRefArray.Fill((output, cap) => NativeMethods.pa_gc_get_referrers(h, t, output, cap));
    }

    /// <summary><c>gc.get_referrers(*objs)</c> (<c>pa_gc_get_referrers_n</c>): the tracked objects (frozen ones excepted)
    /// that refer to any of <paramref name="objs"/>, each once, generation 0 first.</summary>
    /// <param name="objs">Objects of this runtime; none gives an empty array.</param>
    /// <returns>NEW references; dispose the array.</returns>
    /// <exception cref="PyAllocException">The library refused the call (a null object, one of another runtime); the
    /// message names it (<c>objs[i]</c>).</exception>
    /// <exception cref="ObjectDisposedException">The runtime has been disposed.</exception>
    public PyRefArray GetReferrers(params PyObjectRef[] objs)
    {
        ArgumentNullException.ThrowIfNull(objs);
        PaRuntime* h = Handle;
        PaObject*[] pointers = Pointers(objs);
        return PyRefArray.Fill((output, cap) =>
        {
            fixed (PaObject** p = pointers)
                return NativeMethods.pa_gc_get_referrers_n(h, p, (nuint)pointers.Length, output, cap);
        });
    }

    /// <summary><c>gc.get_referents(*objs)</c> (<c>pa_gc_get_referents_n</c>): the referents of each object in turn,
    /// duplicates kept (an object given twice gives its referents twice).</summary>
    /// <param name="objs">Objects; non-GC ones add nothing; none gives an empty array.</param>
    /// <returns>NEW references, in traversal order; dispose the array.</returns>
    /// <exception cref="PyAllocException">The library refused the call (a null object); the message names it.</exception>
    /// <exception cref="ObjectDisposedException">The runtime has been disposed.</exception>
    public PyRefArray GetReferents(params PyObjectRef[] objs)
    {
        ArgumentNullException.ThrowIfNull(objs);
        _ = Handle;
        PaObject*[] pointers = Pointers(objs);
        return PyRefArray.Fill((output, cap) =>
        {
            fixed (PaObject** p = pointers)
                return NativeMethods.pa_gc_get_referents_n(p, (nuint)pointers.Length, output, cap);
        });
    }

    private static PaObject*[] Pointers(PyObjectRef[] objs)
    {
        var pointers = new PaObject*[objs.Length];
        for (int i = 0; i < objs.Length; i++)
            pointers[i] = objs[i].Pointer;
        return pointers;
    }

    /// <summary><c>gc.get_referents(o)</c>: see <see cref="PyObjectRef.GetReferents"/>.</summary>
    /// <param name="o">The object.</param>
    /// <returns>NEW references, in traversal order; dispose the array.</returns>
    /// <exception cref="PyAllocException">The library refused the call (null object).</exception>
    /// <exception cref="ObjectDisposedException">The runtime has been disposed.</exception>
    public PyRefArray GetReferents(PyObjectRef o)
    {
        _ = Handle;
        return o.GetReferents();
    }

    /// <summary><c>gc.freeze()</c>: every tracked object moves to the permanent generation, which collections ignore;
    /// generation 0's count is reset.</summary>
    /// <exception cref="ObjectDisposedException">The runtime has been disposed.</exception>
    public void Freeze() => NativeMethods.pa_gc_freeze(Handle);

    /// <summary><c>gc.unfreeze()</c>: the permanent generation moves back into generation 2.</summary>
    /// <exception cref="ObjectDisposedException">The runtime has been disposed.</exception>
    public void Unfreeze() => NativeMethods.pa_gc_unfreeze(Handle);

    /// <summary><c>gc.get_freeze_count()</c>: objects in the permanent generation.</summary>
    /// <exception cref="ObjectDisposedException">The runtime has been disposed.</exception>
    public long FreezeCount => (long)NativeMethods.pa_gc_get_freeze_count(Handle);

    /// <summary><c>gc.get_debug()</c> / <c>gc.set_debug()</c>.</summary>
    /// <remarks>Setting unknown bits keeps the known ones and sets <see cref="PyMemory.LastError"/> (the library's
    /// behaviour); reports go to the process's stderr.</remarks>
    /// <exception cref="ObjectDisposedException">The runtime has been disposed.</exception>
    public GcDebugFlags Debug
    {
        get => (GcDebugFlags)NativeMethods.pa_gc_get_debug(Handle);
        set => NativeMethods.pa_gc_set_debug(Handle, (int)value);
    }

    /// <summary><c>gc.garbage</c> (<c>pa_gc_get_garbage</c>): objects with a legacy finaliser found in unreachable
    /// cycles (and, with <see cref="GcDebugFlags.SaveAll"/>, every unreachable object).</summary>
    /// <returns>NEW references; dispose the array. The runtime keeps its own references until <see cref="ClearGarbage"/>.</returns>
    /// <exception cref="PyAllocException">The library refused the call.</exception>
    /// <exception cref="ObjectDisposedException">The runtime has been disposed.</exception>
    public PyRefArray GetGarbage()
    {
        PaRuntime* h = Handle;
        return PyRefArray.Fill((output, cap) => NativeMethods.pa_gc_get_garbage(h, output, cap));
    }

    /// <summary><c>del gc.garbage[index]</c> (<c>pa_gc_garbage_remove_at</c>): one item leaves gc.garbage and the runtime's
    /// reference to it goes (it dies now if that was its last; one still in an uncollectable cycle comes back at the next
    /// collection).</summary>
    /// <param name="index">The position; negative counts from the end, as in Python.</param>
    /// <exception cref="PyAllocException">Out of range ("list assignment index out of range").</exception>
    /// <exception cref="ObjectDisposedException">The runtime has been disposed.</exception>
    public void RemoveGarbageAt(long index)
    {
        if (NativeMethods.pa_gc_garbage_remove_at(Handle, (nint)index) != 0)
            throw new PyAllocException(PyMemory.LastError);
    }

    /// <summary><c>gc.garbage.remove(o)</c> (<c>pa_gc_garbage_remove</c>): the first occurrence of <paramref name="o"/>
    /// leaves gc.garbage, as <see cref="RemoveGarbageAt"/>.</summary>
    /// <param name="o">An object in gc.garbage.</param>
    /// <exception cref="PyAllocException">It is not there ("list.remove(x): x not in list"), or is null.</exception>
    /// <exception cref="ObjectDisposedException">The runtime has been disposed.</exception>
    public void RemoveGarbage(PyObjectRef o)
    {
        if (NativeMethods.pa_gc_garbage_remove(Handle, o.Pointer) != 0)
            throw new PyAllocException(PyMemory.LastError);
    }

    /// <summary><c>del gc.garbage[:]</c>: the runtime drops its references to the garbage (objects may die now).</summary>
    /// <exception cref="ObjectDisposedException">The runtime has been disposed.</exception>
    public void ClearGarbage() => NativeMethods.pa_gc_clear_garbage(Handle);

    // ------------------------------------------------------------------------- callbacks

    /// <summary><c>gc.callbacks.append</c>: <paramref name="callback"/> runs before (<see cref="GcPhase.Start"/>) and after
    /// (<see cref="GcPhase.Stop"/>) every collection, explicit or automatic, in the order callbacks were added.</summary>
    /// <param name="callback">Told the phase and the generation, collected and uncollectable counts. It may not
    /// collect (a <see cref="Collect"/> inside returns 0) nor dispose the runtime.</param>
    /// <returns>The registration: disposing it removes the callback (as <see cref="RemoveCallback"/>).</returns>
    /// <exception cref="PyAllocException">The library refused the registration.</exception>
    /// <exception cref="ObjectDisposedException">The runtime has been disposed.</exception>
    public IDisposable AddCallback(Action<GcPhase, GcInfo> callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        PaRuntime* h = Handle;
        var registration = new GcCallbackRegistration(this, callback);
        if (NativeMethods.pa_gc_add_callback(h, &OnGcCallback, registration.User) != 0)
        {
            string error = PyMemory.LastError;
            registration.Handle.Free();
            throw new PyAllocException(error);
        }
        _gcCallbacks.Add(registration);
        return registration;
    }

    /// <summary><c>gc.callbacks.remove</c>: removes the earliest registration of <paramref name="callback"/> and frees its handle.</summary>
    /// <param name="callback">A delegate given to <see cref="AddCallback"/>.</param>
    /// <returns>True when a registration was removed; false when there was none.</returns>
    /// <remarks>A callback may remove itself (or another) while it runs.</remarks>
    /// <exception cref="ObjectDisposedException">The runtime has been disposed.</exception>
    public bool RemoveCallback(Action<GcPhase, GcInfo> callback)
    {
        _ = Handle;
        GcCallbackRegistration? registration = _gcCallbacks.Find(r => r.Callback == callback);
        return registration != null && Remove(registration);
    }

    /// <summary>gc callbacks and weakref callbacks whose handles this runtime holds (for the tests).</summary>
    internal int RegisteredCallbackHandles => _gcCallbacks.Count + _weakRefCallbacks.Count + _finalizeCallbacks.Count;

    private bool Remove(GcCallbackRegistration registration)
    {
        if (_handle == null || !_gcCallbacks.Remove(registration))
            return false;
        NativeMethods.pa_gc_remove_callback(_handle, &OnGcCallback, registration.User);
        registration.Handle.Free();
        return true;
    }

    /// <summary>A weakref or proxy with a managed callback (<see cref="PyWeakRef.New"/>, <see cref="PyWeakRef.Proxy"/>):
    /// a NEW reference.</summary>
    internal PyOwned NewWeakRef(PyObjectRef target, Action<PyObjectRef> callback, bool proxy = false)
    {
        _ = Handle;
        var state = new WeakRefCallback(this, callback);
        _weakRefCallbacks.Add(state);
        PaObject* wr = proxy
            ? NativeMethods.pa_weakref_proxy_new(target.Pointer, &OnWeakRefCallback, state.User)
            : NativeMethods.pa_weakref_new(target.Pointer, &OnWeakRefCallback, state.User);
        if (wr == null)
        {
            string error = PyMemory.LastError;
            if (_weakRefCallbacks.Remove(state))
                state.Handle.Free();
            throw new PyAllocException(error);
        }
        return PyOwned.Steal(new PyObjectRef(wr));
    }

    /// <summary><c>weakref.finalize(target, callback)</c> (<see cref="PyFinalizer.Register"/>).</summary>
    internal PyFinalizer RegisterFinalizer(PyObjectRef target, Action callback)
    {
        _ = Handle;
        var state = new FinalizeCallback(this, callback);
        _finalizeCallbacks.Add(state);
        ulong handle = NativeMethods.pa_finalize_register(target.Pointer, &OnFinalizeCallback, state.User);
        if (handle == 0)
        {
            string error = PyMemory.LastError;
            ForgetFinalizer(state);
            throw new PyAllocException(error);
        }
        return new PyFinalizer(this, handle);
    }

    /// <summary>The managed callback behind a <c>user</c> pointer from <c>pa_finalize_peek</c>/<c>detach</c>.</summary>
    internal static Action FinalizerCallback(void* user) => ((FinalizeCallback)GCHandle.FromIntPtr((nint)user).Target!).Callback;

    /// <summary>After <c>pa_finalize_detach</c>: the library will never call it, so its handle goes.</summary>
    internal void ForgetFinalizer(void* user) => ForgetFinalizer((FinalizeCallback)GCHandle.FromIntPtr((nint)user).Target!);

    private void ForgetFinalizer(FinalizeCallback state)
    {
        if (_finalizeCallbacks.Remove(state))
            state.Handle.Free();
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OnFinalizeCallback(void* user)
    {
        PyRuntime? owner = null;
        try
        {
            var state = (FinalizeCallback)GCHandle.FromIntPtr((nint)user).Target!;
            owner = state.Owner;
            // The library calls a finalizer at most once: the handle can go now.
            owner.ForgetFinalizer(state);
            owner._callbackDepth++;
            try
            {
                state.Callback();
            }
            finally
            {
                owner._callbackDepth--;
            }
        }
        catch (Exception e)
        {
            Report(owner, e, "weakref.finalize callback");
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OnGcCallback(PaRuntime* rt, int phase, PaGcInfo* info, void* user)
    {
        PyRuntime? owner = null;
        try
        {
            var registration = (GcCallbackRegistration)GCHandle.FromIntPtr((nint)user).Target!;
            owner = registration.Owner;
            owner._callbackDepth++;
            try
            {
                registration.Callback((GcPhase)phase, new GcInfo(info->Generation, info->Collected, info->Uncollectable));
            }
            finally
            {
                owner._callbackDepth--;
            }
        }
        catch (Exception e)
        {
            Report(owner, e, "gc callback");
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OnWeakRefCallback(PaObject* weakref, void* user)
    {
        PyRuntime? owner = null;
        try
        {
            GCHandle handle = GCHandle.FromIntPtr((nint)user);
            var state = (WeakRefCallback)handle.Target!;
            owner = state.Owner;
            // The library calls a weakref's callback at most once: the handle can go now.
            owner._weakRefCallbacks.Remove(state);
            handle.Free();
            owner._callbackDepth++;
            try
            {
                state.Callback(new PyObjectRef(weakref));
            }
            finally
            {
                owner._callbackDepth--;
            }
        }
        catch (Exception e)
        {
            Report(owner, e, "weakref callback");
        }
    }

    /* CPython's PyErr_WriteUnraisable: never throws. */
    private static void Report(PyRuntime? owner, Exception e, string where)
    {
        try
        {
            Action<Exception>? handler = owner?.CallbackException;
            if (handler != null)
            {
                handler(e);
                return;
            }
        }
        catch (Exception inHandler)
        {
            e = new AggregateException($"the CallbackException handler threw while handling an exception of a {where}", e, inHandler);
        }
        try
        {
            Console.Error.WriteLine($"Exception ignored in {where}: {e}");
        }
        catch
        {
            // nothing left to report with
        }
    }

    // --------------------------------------------------------------------------- the end

    /// <summary>
    /// Frees the runtime (<c>pa_runtime_free</c>): the pending <see cref="PyFinalizer"/>s whose <see cref="PyFinalizer.AtExit"/>
    /// is true run, newest first; then a final full collection, in which finalisers, weakref callbacks and gc callbacks
    /// run as in any collection (finalizers no longer do); a gc.garbage that is not empty then is reported on stderr as
    /// CPython's "gc: N uncollectable objects at shutdown" ResourceWarning; then every object still alive is released
    /// WITHOUT its finaliser or dealloc, and all the runtime's memory is returned. Then the handles of the managed
    /// callbacks are freed.
    /// </summary>
    /// <remarks>
    /// Every <see cref="PyObjectRef"/> into the runtime dies; undisposed <see cref="PyOwned"/> and <see cref="PyRefArray"/>
    /// of it release nothing afterwards. <see cref="PyType"/>s of it can no longer make objects. A second call does nothing.
    /// </remarks>
    /// <exception cref="InvalidOperationException">Called from inside one of this runtime's managed callbacks.</exception>
    public void Dispose()
    {
        PaRuntime* h = _handle;
        if (h == null)
            return;
        if (_callbackDepth > 0)
            throw new InvalidOperationException("a runtime cannot be disposed from inside one of its own callbacks");
        try
        {
            _safeHandle.Dispose(); // pa_runtime_free
        }
        finally
        {
            _handle = null;
            s_live.TryRemove((nint)h, out _);
            _abandoned.Clear(); // released with the runtime
            Volatile.Write(ref _abandonedCount, 0);
            foreach (GcCallbackRegistration registration in _gcCallbacks)
                registration.Handle.Free();
            _gcCallbacks.Clear();
            foreach (WeakRefCallback state in _weakRefCallbacks)
                state.Handle.Free();
            _weakRefCallbacks.Clear();
            foreach (FinalizeCallback state in _finalizeCallbacks)
                state.Handle.Free();
            _finalizeCallbacks.Clear();
        }
    }

    /// <summary>The runtime's address, or "disposed".</summary>
    /// <returns>Text for diagnostics.</returns>
    public override string ToString() => _handle == null ? "<PyRuntime disposed>" : $"<PyRuntime 0x{(nuint)_handle:x}>";

    // --------------------------------------------------------------------------- state

    private sealed class GcCallbackRegistration : IDisposable
    {
        public GcCallbackRegistration(PyRuntime owner, Action<GcPhase, GcInfo> callback)
        {
            Owner = owner;
            Callback = callback;
            Handle = GCHandle.Alloc(this);
        }

        public PyRuntime Owner { get; }
        public Action<GcPhase, GcInfo> Callback { get; }
        public GCHandle Handle { get; }
        public void* User => (void*)GCHandle.ToIntPtr(Handle);

        public void Dispose() => Owner.Remove(this);
    }

    private sealed class WeakRefCallback
    {
        public WeakRefCallback(PyRuntime owner, Action<PyObjectRef> callback)
        {
            Owner = owner;
            Callback = callback;
            Handle = GCHandle.Alloc(this);
        }

        public PyRuntime Owner { get; }
        public Action<PyObjectRef> Callback { get; }
        public GCHandle Handle { get; }
        public void* User => (void*)GCHandle.ToIntPtr(Handle);
    }

    private sealed class FinalizeCallback
    {
        public FinalizeCallback(PyRuntime owner, Action callback)
        {
            Owner = owner;
            Callback = callback;
            Handle = GCHandle.Alloc(this);
        }

        public PyRuntime Owner { get; }
        public Action Callback { get; }
        public GCHandle Handle { get; }
        public void* User => (void*)GCHandle.ToIntPtr(Handle);
    }
}
