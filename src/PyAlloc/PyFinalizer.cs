using System;

using PyAlloc.Interop;

namespace PyAlloc;

/// <summary>
/// Python's <c>weakref.finalize</c> (<c>pa_finalize_*</c>): a callback registered on an object's death that needs nothing
/// kept alive by the caller. Made by <see cref="Register"/>.
/// </summary>
/// <remarks>
/// <para>The callback runs at most once: when the target dies (by count or by collection, also in a cycle), when
/// <see cref="Call"/> runs it early, or at <see cref="PyRuntime.Dispose"/> when <see cref="AtExit"/> is true (pending ones
/// run there newest first, before the final collection, as CPython runs them at exit); a finalizer
/// <see cref="Detach">detached</see> first never runs, nor does one with <see cref="AtExit"/> false that is still pending at
/// Dispose. The runtime keeps the registration (a weakref, counted by <see cref="PyWeakRef.Count"/> and listed by
/// <see cref="PyWeakRef.GetWeakRefs"/>); dropping this object changes nothing. An exception the callback throws goes to
/// <see cref="PyRuntime.CallbackException"/>, never across the C frames. After the runtime is disposed every member
/// throws <see cref="ObjectDisposedException"/>.</para>
/// </remarks>
public sealed unsafe class PyFinalizer
{
    private readonly PyRuntime _runtime;

    internal PyFinalizer(PyRuntime runtime, ulong handle)
    {
        _runtime = runtime;
        Handle = handle;
    }

    /// <summary><c>weakref.finalize(target, callback)</c> (<c>pa_finalize_register</c>).</summary>
    /// <param name="target">A live object of a <see cref="PyRuntime"/>; its count is not changed.</param>
    /// <param name="callback">Run once, as the remarks say.</param>
    /// <returns>The registration.</returns>
    /// <exception cref="PyAllocException">The library refused (a null target, a dying one).</exception>
    /// <exception cref="InvalidOperationException">The target's runtime is not a live <see cref="PyRuntime"/>.</exception>
    public static PyFinalizer Register(PyObjectRef target, Action callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        if (target.IsNull)
            throw new PyAllocException("pa_finalize_register: target is NULL");
        PyRuntime runtime = target.Runtime
            ?? throw new InvalidOperationException("a finalizer needs the target's runtime to be a live PyRuntime");
        return runtime.RegisterFinalizer(target, callback);
    }

    /// <summary>The library's handle (above 0, never reused in its runtime).</summary>
    public ulong Handle { get; }

    /// <summary><c>finalize.alive</c> (<c>pa_finalize_alive</c>): true until called or detached.</summary>
    /// <exception cref="ObjectDisposedException">The runtime has been disposed.</exception>
    public bool Alive => Checked(NativeMethods.pa_finalize_alive(_runtime.Handle, Handle)) == 1;

    /// <summary><c>finalize.atexit</c>: whether <see cref="PyRuntime.Dispose"/> runs it while pending (default true).
    /// Reads false, and setting does nothing, once not alive (as CPython).</summary>
    /// <exception cref="ObjectDisposedException">The runtime has been disposed.</exception>
    public bool AtExit
    {
        get => Checked(NativeMethods.pa_finalize_get_atexit(_runtime.Handle, Handle)) == 1;
        set => Checked(NativeMethods.pa_finalize_set_atexit(_runtime.Handle, Handle, value ? 1 : 0));
    }

    /// <summary><c>finalize()</c> (<c>pa_finalize_call</c>): while alive, unregisters and runs the callback now.</summary>
    /// <returns>True when the callback ran; false when it was not alive (it never runs twice).</returns>
    /// <exception cref="ObjectDisposedException">The runtime has been disposed.</exception>
    public bool Call() => Checked(NativeMethods.pa_finalize_call(_runtime.Handle, Handle)) == 1;

    /// <summary><c>finalize.peek()</c> (<c>pa_finalize_peek</c>): the target and callback while alive and the target lives.</summary>
    /// <returns>A NEW reference to the target (dispose it) and the callback; null when not alive or the target died.</returns>
    /// <exception cref="ObjectDisposedException">The runtime has been disposed.</exception>
    public (PyOwned Target, Action Callback)? Peek() => PeekOrDetach(detach: false);

    /// <summary><c>finalize.detach()</c> (<c>pa_finalize_detach</c>): as <see cref="Peek"/>, and unregisters: the callback
    /// will not run.</summary>
    /// <returns>A NEW reference to the target and the callback; null when not alive or the target died (nothing changes).</returns>
    /// <exception cref="ObjectDisposedException">The runtime has been disposed.</exception>
    public (PyOwned Target, Action Callback)? Detach() => PeekOrDetach(detach: true);

    private (PyOwned Target, Action Callback)? PeekOrDetach(bool detach)
    {
        PaObject* target = null;
        void* user = null;
        int found = detach
            ? NativeMethods.pa_finalize_detach(_runtime.Handle, Handle, &target, null, &user)
            : NativeMethods.pa_finalize_peek(_runtime.Handle, Handle, &target, null, &user);
        if (Checked(found) == 0)
            return null;
        Action callback = PyRuntime.FinalizerCallback(user);
        if (detach)
            _runtime.ForgetFinalizer(user);
        return (PyOwned.Steal(new PyObjectRef(target)), callback);
    }

    private static int Checked(int result) => result >= 0 ? result : throw new PyAllocException(PyMemory.LastError);

    /// <summary>The handle and whether it is alive, for diagnostics.</summary>
    /// <returns>Text such as "&lt;PyFinalizer 3 alive&gt;".</returns>
    public override string ToString() =>
        _runtime.IsDisposed ? $"<PyFinalizer {Handle} (runtime disposed)>" : $"<PyFinalizer {Handle} {(Alive ? "alive" : "dead")}>";
}
