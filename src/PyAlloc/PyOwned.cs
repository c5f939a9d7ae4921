using System;
using System.Runtime.CompilerServices;

using PyAlloc.Interop;

namespace PyAlloc;

/// <summary>
/// The owner of exactly one reference to an object: <see cref="Dispose"/> releases it (<c>pa_decref</c>), once.
/// </summary>
/// <remarks>
/// <para>
/// Every member of the idiomatic layer that returns a NEW reference returns a <see cref="PyOwned"/> (or a
/// <see cref="PyRefArray"/> for several). Being a class, it cannot be duplicated by copying: a second
/// owner is made with <see cref="NewReference"/> (one more count), and ownership is handed to C-style code
/// with <see cref="Detach"/>. <see cref="Dispose"/> is idempotent.
/// </para>
/// <para>
/// An owner that is never disposed does not leak its count for ever, and is not released on the .NET finaliser
/// thread either (calls on one runtime must never overlap): its finaliser hands the reference to its
/// <see cref="PyRuntime"/>, which releases it on its own thread at its next collection, idiomatic allocation or
/// <see cref="Dispose"/> of an owner (<see cref="PyRuntime.ReleaseAbandoned"/>). For a runtime not made by
/// <see cref="PyRuntime"/> (a bare <c>pa_runtime*</c>) no such thread is known: the reference is kept, and
/// reported through <see cref="PyRuntime.ResourceWarning"/>. After the runtime is disposed, <see cref="Dispose"/>
/// and the finaliser do nothing.
/// </para>
/// <para>
/// Converts implicitly to a borrowed <see cref="PyObjectRef"/>, valid until this owner is disposed.
/// </para>
/// </remarks>
public sealed unsafe class PyOwned : IDisposable
{
    private PaObject* _pointer;
    private readonly PyRuntime? _runtime; // null for a runtime made without PyRuntime

    private PyOwned(PaObject* pointer)
    {
        _pointer = pointer;
        _runtime = PyRuntime.FromHandle(NativeMethods.pa_object_runtime(pointer));
    }

    private PyOwned(PaObject* pointer, PyRuntime runtime)
    {
        _pointer = pointer;
        _runtime = runtime;
    }

    /// <summary>Hands an undisposed reference to its runtime's thread (see the remarks on the type).</summary>
    ~PyOwned()
    {
        PaObject* p = _pointer;
        if (p == null)
            return;
        if (_runtime != null)
            _runtime.Abandon(p);
        else
            PyRuntime.WarnResource($"a PyOwned of the object at 0x{(nuint)p:x} was never disposed, and its runtime is not a " +
                                   "PyRuntime: no thread is known on which to release it, so its reference is kept");
    }

    /// <summary>Takes ownership of a NEW reference the caller holds (no count changes): disposing the result releases it.</summary>
    /// <param name="newReference">A new reference, e.g. from <see cref="NativeMethods.pa_list_new"/>.</param>
    /// <returns>Its owner.</returns>
    /// <exception cref="ArgumentException"><paramref name="newReference"/> is null.</exception>
    public static PyOwned Steal(PyObjectRef newReference) =>
        newReference.IsNull ? throw new ArgumentException("cannot own a null reference", nameof(newReference))
                            : new PyOwned(newReference.Pointer);

    /// <summary>A NEW reference to a borrowed object: increfs it and owns that count.</summary>
    /// <param name="borrowed">A live object.</param>
    /// <returns>The owner of the new count.</returns>
    /// <exception cref="ArgumentException"><paramref name="borrowed"/> is null.</exception>
    public static PyOwned FromBorrowed(PyObjectRef borrowed)
    {
        if (borrowed.IsNull)
            throw new ArgumentException("cannot own a null reference", nameof(borrowed));
        NativeMethods.pa_incref(borrowed.Pointer);
        return new PyOwned(borrowed.Pointer);
    }

    /// <summary>Wraps a new reference from the library, or throws with <see cref="PyMemory.LastError"/> when the call failed (null).</summary>
    internal static PyOwned FromResult(PaObject* newReferenceOrNull) =>
        newReferenceOrNull != null ? new PyOwned(newReferenceOrNull) : throw new PyAllocException(PyMemory.LastError);

    /// <summary>As <see cref="FromResult(PaObject*)"/> for an object of <paramref name="runtime"/>, known already.</summary>
    internal static PyOwned FromResult(PaObject* newReferenceOrNull, PyRuntime runtime) =>
        newReferenceOrNull != null ? new PyOwned(newReferenceOrNull, runtime) : throw new PyAllocException(PyMemory.LastError);

    /// <summary>The object, borrowed from this owner: valid until <see cref="Dispose"/>.</summary>
    /// <exception cref="ObjectDisposedException">This owner has been disposed or detached.</exception>
    public PyObjectRef Ref => new(Pointer);

    /// <summary>The object's address, borrowed from this owner.</summary>
    /// <exception cref="ObjectDisposedException">This owner has been disposed or detached.</exception>
    public PaObject* Pointer => _pointer != null ? _pointer : throw new ObjectDisposedException(nameof(PyOwned));

    /// <summary>True once <see cref="Dispose"/> or <see cref="Detach"/> gave the reference up.</summary>
    public bool IsDisposed => _pointer == null;

    /// <summary>The object's reference count (<c>pa_refcnt</c>); this owner holds one of them.</summary>
    /// <exception cref="ObjectDisposedException">This owner has been disposed or detached.</exception>
    public long RefCount => Ref.RefCount;

    /// <summary>The object's type name (<c>pa_type_name</c>).</summary>
    /// <exception cref="ObjectDisposedException">This owner has been disposed or detached.</exception>
    public string TypeName => Ref.TypeName;

    /// <summary>Another owner of the same object: one more count (<c>pa_incref</c>), a NEW reference.</summary>
    /// <returns>The new owner; dispose both.</returns>
    /// <exception cref="ObjectDisposedException">This owner has been disposed or detached.</exception>
    public PyOwned NewReference() => FromBorrowed(Ref);

    /// <summary>Gives the reference up without releasing it: the caller now owns that count (C style).</summary>
    /// <returns>The object; a NEW reference the caller must release (e.g. with <see cref="PyObjectRef.DecRef"/>).</returns>
    /// <exception cref="ObjectDisposedException">This owner has been disposed or detached.</exception>
    public PyObjectRef Detach()
    {
        PyObjectRef r = Ref;
        _pointer = null;
        GC.SuppressFinalize(this);
        return r;
    }

    /// <summary>The object's memory as a <typeparamref name="T"/>: see <see cref="PyObjectRef.As{T}"/>.</summary>
    /// <typeparam name="T">An unmanaged struct that starts with <see cref="PaObject"/>.</typeparam>
    /// <returns>Borrowed from this owner.</returns>
    /// <exception cref="ObjectDisposedException">This owner has been disposed or detached.</exception>
    public T* As<T>() where T : unmanaged => (T*)Pointer;

    /// <summary>The object's memory as a <typeparamref name="T"/>, by reference: see <see cref="PyObjectRef.AsRef{T}"/>.</summary>
    /// <typeparam name="T">An unmanaged struct that starts with <see cref="PaObject"/>.</typeparam>
    /// <returns>Borrowed from this owner: valid until <see cref="Dispose"/>.</returns>
    /// <exception cref="ObjectDisposedException">This owner has been disposed or detached.</exception>
    public ref T AsRef<T>() where T : unmanaged => ref Ref.AsRef<T>();

    /// <summary>
    /// Resizes the variable-sized object this owner holds to <paramref name="count"/> items (<c>pa_object_gc_resize</c>,
    /// CPython's <c>PyObject_GC_Resize</c>): <c>ob_size</c> = <paramref name="count"/>, items up to the smaller size kept,
    /// new items zeroed. The object may move: this owner then holds the new address, and every <see cref="PyObjectRef"/>
    /// or pointer taken from it before is stale.
    /// </summary>
    /// <remarks>
    /// As in CPython, the object must not be tracked: <see cref="PyObjectRef.Untrack"/> it first and
    /// <see cref="PyObjectRef.Track"/> it again after. This owner's count must be its only one (not immortal), and it
    /// may have no weak references. On failure nothing changes: the owner keeps the object as it was.
    /// </remarks>
    /// <param name="count">Number of items, 0 or more.</param>
    /// <param name="file">The caller's source file (filled in by the compiler): tracemalloc's site for the new size.</param>
    /// <param name="line">The caller's line (filled in by the compiler).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative.</exception>
    /// <exception cref="PyAllocException">The library refused (<see cref="PyMemory.LastError"/>'s text): not
    /// variable-sized, tracked, another reference or immortal, weak references, being finalised, a shrink over reference
    /// items still set, the size overflows, out of memory.</exception>
    /// <exception cref="ObjectDisposedException">This owner has been disposed or detached.</exception>
    public void GcResize(long count, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        PaObject* resized = NativeMethods.pa_object_gc_resize_at(Pointer, (nuint)count, CallSites.File(file), line);
        _pointer = resized != null ? resized : throw new PyAllocException(PyMemory.LastError);
    }

    /// <summary>Releases the reference (<c>pa_decref</c>) the first time; later calls do nothing.</summary>
    /// <remarks>The object may die here, running its finaliser, weakref callbacks and dealloc on this thread; so
    /// may the objects whose undisposed owners were finalised (<see cref="PyRuntime.ReleaseAbandoned"/>).
    /// Nothing is released when the object's <see cref="PyRuntime"/> has been disposed (its memory is gone already).</remarks>
    public void Dispose()
    {
        PaObject* p = _pointer;
        if (p == null)
            return;
        _pointer = null;
        GC.SuppressFinalize(this);
        if (_runtime == null)
            NativeMethods.pa_decref(p);
        else if (!_runtime.IsDisposed)
        {
            NativeMethods.pa_decref(p);
            _runtime.ReleaseAbandonedIfAny();
        }
    }

    /// <summary>The borrowed reference of <paramref name="owner"/>; <see cref="PyObjectRef.Null"/> for a null owner.</summary>
    /// <param name="owner">An owner, or null.</param>
    /// <returns>Borrowed from <paramref name="owner"/>.</returns>
    /// <exception cref="ObjectDisposedException">The owner has been disposed or detached.</exception>
    public static implicit operator PyObjectRef(PyOwned? owner) => owner == null ? default : owner.Ref;

    /// <summary>The object's repr, or "&lt;disposed&gt;".</summary>
    /// <returns>Text for diagnostics.</returns>
    public override string ToString() => _pointer == null ? "<disposed>" : Ref.ToString();
}
