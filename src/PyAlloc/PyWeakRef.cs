using System;

using PyAlloc.Interop;

namespace PyAlloc;

/// <summary>
/// Weak references (<c>pa_weakref_*</c>, Python's <c>weakref.ref</c>): objects that point at a target without
/// owning a count, cleared when the target dies.
/// </summary>
/// <remarks>
/// A weakref is itself a GC object. Without a callback, weakrefs to one target are shared (asking again returns
/// the same weakref). A callback runs at most once, when the target dies (by count or by collection), with the
/// weakref as argument (borrowed), unless the weakref is garbage itself by then; see <see cref="PyRuntime"/> for the
/// life of the managed delegate. Error convention as <see cref="PyMemory"/>.
/// </remarks>
public static unsafe class PyWeakRef
{
    /// <summary>A weak reference to <paramref name="target"/> (<c>pa_weakref_new</c>); the target's count is unchanged.</summary>
    /// <param name="target">A live object.</param>
    /// <param name="callback">Null, or called with the weakref (borrowed) when the target dies. Exceptions it throws go
    /// to <see cref="PyRuntime.CallbackException"/>.</param>
    /// <returns>A NEW reference to the weakref.</returns>
    /// <exception cref="PyAllocException">The library refused (a null target).</exception>
    /// <exception cref="InvalidOperationException">A callback was given but the target's runtime is not a live
    /// <see cref="PyRuntime"/> (the delegate's handle needs an owner).</exception>
    public static PyOwned New(PyObjectRef target, Action<PyObjectRef>? callback = null)
    {
        if (callback == null || target.IsNull)
            return PyOwned.FromResult(NativeMethods.pa_weakref_new(target.Pointer, null, null));
        PyRuntime runtime = target.Runtime
            ?? throw new InvalidOperationException("a managed weakref callback needs the target's runtime to be a live PyRuntime");
        return runtime.NewWeakRef(target, callback);
    }

    /// <summary>The target (<c>pa_weakref_get</c>), or null once it died.</summary>
    /// <param name="weakref">A weak reference.</param>
    /// <returns>A NEW reference to the target, or null when it has died.</returns>
    /// <exception cref="PyAllocException"><paramref name="weakref"/> is null or not a weakref; the message is the library's.</exception>
    public static PyOwned? TryGet(PyObjectRef weakref)
    {
        if (NativeMethods.pa_weakref_check(weakref.Pointer) == 0)
        {
            NativeMethods.pa_weakref_get(weakref.Pointer); // for the library's message
            throw new PyAllocException(PyMemory.LastError);
        }
        PaObject* target = NativeMethods.pa_weakref_get(weakref.Pointer);
        return target == null ? null : PyOwned.Steal(new PyObjectRef(target));
    }

    /// <summary><c>weakref.getweakrefcount(target)</c> (<c>pa_weakref_count</c>): live weakrefs to <paramref name="target"/>.</summary>
    /// <param name="target">An object.</param>
    /// <returns>The count.</returns>
    /// <exception cref="PyAllocException">A null or dead target; the message is the library's.</exception>
    public static long Count(PyObjectRef target)
    {
        nuint n = NativeMethods.pa_weakref_count(target.Pointer);
        return n != NativeMethods.PA_SIZE_ERROR ? (long)n : throw new PyAllocException(PyMemory.LastError);
    }

    /// <summary>True when <paramref name="o"/> is a weak reference (<c>pa_weakref_check</c>); false for null.</summary>
    /// <param name="o">Any object.</param>
    /// <returns>Whether it is a weakref.</returns>
    public static bool Check(PyObjectRef o) => NativeMethods.pa_weakref_check(o.Pointer) != 0;

    /// <summary><c>weakref.proxy(target, callback)</c> (<c>pa_weakref_proxy_new</c>): a weakref whose dereference,
    /// <see cref="ProxyGet"/>, throws once the referent died (CPython's ReferenceError); the target's count is unchanged.</summary>
    /// <param name="target">A live object.</param>
    /// <param name="callback">Null, or called with the proxy (borrowed) when the target dies; without one, proxies to
    /// one target are shared. Exceptions it throws go to <see cref="PyRuntime.CallbackException"/>.</param>
    /// <returns>A NEW reference to the proxy.</returns>
    /// <exception cref="PyAllocException">The library refused (a null or dying target).</exception>
    /// <exception cref="InvalidOperationException">A callback was given but the target's runtime is not a live
    /// <see cref="PyRuntime"/>.</exception>
    public static PyOwned Proxy(PyObjectRef target, Action<PyObjectRef>? callback = null)
    {
        if (callback == null || target.IsNull)
            return PyOwned.FromResult(NativeMethods.pa_weakref_proxy_new(target.Pointer, null, null));
        PyRuntime runtime = target.Runtime
            ?? throw new InvalidOperationException("a managed proxy callback needs the target's runtime to be a live PyRuntime");
        return runtime.NewWeakRef(target, callback, proxy: true);
    }

    /// <summary>The proxy's referent (<c>pa_weakref_proxy_get</c>): what every operation on a Python proxy forwards to.</summary>
    /// <param name="proxy">A proxy.</param>
    /// <returns>A NEW reference to the referent.</returns>
    /// <exception cref="PyAllocException">The referent died ("weakly-referenced object no longer exists"), or
    /// <paramref name="proxy"/> is not a proxy.</exception>
    public static PyOwned ProxyGet(PyObjectRef proxy) => PyOwned.FromResult(NativeMethods.pa_weakref_proxy_get(proxy.Pointer));

    /// <summary>True when <paramref name="o"/> is a proxy (<c>pa_weakref_proxy_check</c>); false for null.</summary>
    /// <param name="o">Any object.</param>
    /// <returns>Whether it is a proxy.</returns>
    public static bool IsProxy(PyObjectRef o) => NativeMethods.pa_weakref_proxy_check(o.Pointer) != 0;

    /// <summary><c>weakref.getweakrefs(target)</c> (<c>pa_weakref_getweakrefs</c>): the weakrefs and proxies to
    /// <paramref name="target"/> in CPython's order (the shared weakref, the shared proxy, then those with callbacks,
    /// newest first), a <see cref="PyFinalizer"/>'s among them.</summary>
    /// <param name="target">A live object.</param>
    /// <returns>NEW references; dispose the array.</returns>
    /// <exception cref="PyAllocException">The library refused (a null target).</exception>
    public static PyRefArray GetWeakRefs(PyObjectRef target)
    {
        PaObject* t = target.Pointer;
        return PyRefArray.Fill((output, cap) => NativeMethods.pa_weakref_getweakrefs(t, output, cap));
    }
}
