using System;
using System.Collections;
using System.Collections.Generic;

using PyAlloc.Interop;

namespace PyAlloc;

/// <summary>
/// Several objects, one NEW reference each, owned together: what <c>gc.get_objects()</c>,
/// <c>gc.get_referrers()</c>, <c>gc.get_referents()</c> and <c>gc.garbage</c> return.
/// <see cref="Dispose"/> releases every reference, once.
/// </summary>
/// <remarks>
/// The items are borrowed from the array: valid while it is not disposed (keep one longer with
/// <see cref="PyObjectRef.NewReference"/>). A snapshot: later changes to the runtime do not show.
/// Like <see cref="PyOwned"/>: an undisposed array hands its references to its runtime's thread from the finaliser, and
/// disposing after the runtime was disposed releases nothing.
/// </remarks>
public sealed unsafe class PyRefArray : IReadOnlyList<PyObjectRef>, IDisposable
{
    /// <summary>A library call that fills up to <paramref name="cap"/> new references into <paramref name="output"/>
    /// and returns the total, or <see cref="NativeMethods.PA_SIZE_ERROR"/>.</summary>
    internal delegate nuint FillCall(PaObject** output, nuint cap);

    private PyObjectRef[]? _items;
    private readonly PyRuntime? _runtime;

    private PyRefArray(PyObjectRef[] items)
    {
        _items = items;
        _runtime = items.Length > 0 ? items[0].Runtime : null;
    }

    /// <summary>
    /// Sizes with cap 0, then fills; again if the total grew in between. Throws with the library's
    /// message on <see cref="NativeMethods.PA_SIZE_ERROR"/>.
    /// </summary>
    internal static PyRefArray Fill(FillCall call)
    {
        nuint total = call(null, 0);
        while (true)
        {
            if (total == NativeMethods.PA_SIZE_ERROR)
                throw new PyAllocException(PyMemory.LastError);
            var buffer = new nint[(int)total];
            nuint n;
            fixed (nint* p = buffer)
                n = call((PaObject**)p, total);
            if (n == NativeMethods.PA_SIZE_ERROR)
                throw new PyAllocException(PyMemory.LastError);
            nuint filled = n < total ? n : total;
            var items = new PyObjectRef[(int)filled];
            for (int i = 0; i < items.Length; i++)
                items[i] = new PyObjectRef((PaObject*)buffer[i]);
            if (n <= total)
                return new PyRefArray(items);
            foreach (PyObjectRef r in items) // more appeared than room: give these back and retry
                r.DecRef();
            total = n;
        }
    }

    /// <summary>How many objects.</summary>
    /// <exception cref="ObjectDisposedException">The array has been disposed.</exception>
    public int Count => Items.Length;

    /// <summary>The object at <paramref name="index"/>, borrowed from the array.</summary>
    /// <param name="index">0 .. <see cref="Count"/> - 1.</param>
    /// <exception cref="ObjectDisposedException">The array has been disposed.</exception>
    /// <exception cref="IndexOutOfRangeException"><paramref name="index"/> is out of range.</exception>
    public PyObjectRef this[int index] => Items[index];

    /// <summary>True once <see cref="Dispose"/> released the references.</summary>
    public bool IsDisposed => _items == null;

    /// <summary>True when <paramref name="o"/> is one of the objects.</summary>
    /// <param name="o">An object.</param>
    /// <returns>Pointer membership.</returns>
    /// <exception cref="ObjectDisposedException">The array has been disposed.</exception>
    public bool Contains(PyObjectRef o) => Array.IndexOf(Items, o) >= 0;

    /// <summary>The position of <paramref name="o"/>, or -1.</summary>
    /// <param name="o">An object.</param>
    /// <returns>The first index holding <paramref name="o"/>, or -1.</returns>
    /// <exception cref="ObjectDisposedException">The array has been disposed.</exception>
    public int IndexOf(PyObjectRef o) => Array.IndexOf(Items, o);

    /// <summary>Releases every reference (<c>pa_decref</c>, in order) the first time; later calls do nothing.</summary>
    /// <remarks>Objects may die here, running finalisers and callbacks on this thread.</remarks>
    public void Dispose()
    {
        PyObjectRef[]? items = _items;
        if (items == null)
            return;
        _items = null;
        GC.SuppressFinalize(this);
        if (_runtime != null && _runtime.IsDisposed)
            return;
        foreach (PyObjectRef r in items)
            r.DecRef();
    }

    /// <summary>Hands undisposed references to their runtime's thread, as <see cref="PyOwned"/>'s finaliser does.</summary>
    ~PyRefArray()
    {
        PyObjectRef[]? items = _items;
        if (items == null || items.Length == 0)
            return;
        if (_runtime == null)
        {
            PyRuntime.WarnResource($"a PyRefArray of {items.Length} references was never disposed, and their runtime is not " +
                                   "a PyRuntime: no thread is known on which to release them, so they are kept");
            return;
        }
        foreach (PyObjectRef r in items)
            _runtime.Abandon(r.Pointer);
    }

    /// <inheritdoc/>
    /// <exception cref="ObjectDisposedException">The array has been disposed.</exception>
    public IEnumerator<PyObjectRef> GetEnumerator() => ((IEnumerable<PyObjectRef>)Items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private PyObjectRef[] Items => _items ?? throw new ObjectDisposedException(nameof(PyRefArray));
}
