using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

using PyAlloc.Interop;

namespace PyAlloc;

/// <summary>
/// A pointer to a PyAlloc object (<c>pa_object*</c>) and nothing more: making, copying or dropping a
/// <see cref="PyObjectRef"/> never changes a reference count, exactly like a C pointer.
/// </summary>
/// <remarks>
/// <para><b>Ownership model of the binding.</b> Counts are explicit, as in C, and every member says what it
/// does to them, in Lua's manner:</para>
/// <list type="bullet">
/// <item><description><b>new reference</b>: the caller owns one count and must release it exactly once.
/// The idiomatic layer hands new references out wrapped: <see cref="PyOwned"/> for one object,
/// <see cref="PyRefArray"/> for several; <c>Dispose</c> releases them.</description></item>
/// <item><description><b>borrowed</b>: a <see cref="PyObjectRef"/>, no count; valid while whoever owns the
/// object keeps it (a <see cref="PyOwned"/> not yet disposed, a list holding it, ...). Never release a
/// borrowed reference.</description></item>
/// <item><description><b>takes its own reference</b>: the callee increfs what it keeps (a list append); the
/// caller's reference is untouched.</description></item>
/// </list>
/// <para>
/// A <see cref="PyObjectRef"/> is the argument type of every call that only looks at an object, and the type of
/// borrowed results. <see cref="IncRef"/> and <see cref="DecRef"/> manage counts by hand, for code that wants C's
/// model; <see cref="NewReference"/> turns a borrowed reference into an owned one.
/// </para>
/// <para>
/// The members that read the object (<see cref="RefCount"/>, <see cref="TypeName"/>, ...) need a live object:
/// on <see cref="Null"/> they throw <see cref="InvalidOperationException"/>; on a dead object the behaviour is
/// undefined, as in C. Calls on objects of one runtime must not overlap in time (see <see cref="PyRuntime"/>).
/// </para>
/// </remarks>
public readonly unsafe struct PyObjectRef : IEquatable<PyObjectRef>
{
    private readonly PaObject* _pointer;

    /// <summary>Wraps a pointer; no count changes.</summary>
    /// <param name="pointer">An object, or null.</param>
    public PyObjectRef(PaObject* pointer) => _pointer = pointer;

    /// <summary>The null reference.</summary>
    public static PyObjectRef Null => default;

    /// <summary>The object's address (<c>pa_object*</c>).</summary>
    public PaObject* Pointer => _pointer;

    /// <summary>The object's address as an integer.</summary>
    public nint Address => (nint)_pointer;

    /// <summary>True for <see cref="Null"/>.</summary>
    public bool IsNull => _pointer == null;

    /// <summary>The reference count (<c>pa_refcnt</c>), as <c>sys.getrefcount()</c> without its own +1.</summary>
    /// <value>0xFFFFFFFF for an immortal object.</value>
    /// <exception cref="InvalidOperationException">The reference is null.</exception>
    public long RefCount => NativeMethods.pa_refcnt(Live);

    /// <summary>True when the object is immortal (<c>pa_is_immortal</c>): counts never change it.</summary>
    /// <exception cref="InvalidOperationException">The reference is null.</exception>
    public bool IsImmortal => NativeMethods.pa_is_immortal(Live) != 0;

    /// <summary>Makes the object immortal (<c>pa_object_make_immortal</c>, PEP 683), as CPython 3.12 does for None and
    /// small ints: its count is fixed, <see cref="IncRef"/> and <see cref="DecRef"/> no longer change it, and it is never
    /// freed (the runtime's end returns its memory).</summary>
    /// <exception cref="InvalidOperationException">The reference is null.</exception>
    /// <exception cref="PyAllocException">The library refused (not a live object).</exception>
    public void MakeImmortal()
    {
        PaObject* o = Live;
        NativeMethods.pa_clear_error();
        NativeMethods.pa_object_make_immortal(o);
        byte* error = NativeMethods.pa_last_error();
        if (error != null && *error != 0)
            throw new PyAllocException(PyMemory.LastError);
    }

    /// <summary>The object's type (<c>pa_object_type</c>; borrowed, lives as long as the runtime).</summary>
    /// <exception cref="InvalidOperationException">The reference is null.</exception>
    public PaType* Type => NativeMethods.pa_object_type(Live);

    /// <summary>The name of the object's type (<c>pa_type_name</c>): "list", "weakref", or a name given to <see cref="PyTypeBuilder"/>.</summary>
    /// <exception cref="InvalidOperationException">The reference is null.</exception>
    public string TypeName => Marshal.PtrToStringUTF8((nint)NativeMethods.pa_type_name(Type)) ?? string.Empty;

    /// <summary>The runtime the object belongs to (<c>pa_object_runtime</c>).</summary>
    /// <exception cref="InvalidOperationException">The reference is null.</exception>
    public PaRuntime* RuntimeHandle => NativeMethods.pa_object_runtime(Live);

    /// <summary>The <see cref="PyRuntime"/> the object belongs to; null when its runtime was not made by a <see cref="PyRuntime"/> or is disposed.</summary>
    /// <exception cref="InvalidOperationException">The reference is null.</exception>
    public PyRuntime? Runtime => PyRuntime.FromHandle(RuntimeHandle);

    /// <summary>True when the object is a list (<c>pa_list_check</c>); false for null.</summary>
    public bool IsList => NativeMethods.pa_list_check(_pointer) != 0;

    /// <summary>True when the object is a weak reference (<c>pa_weakref_check</c>); false for null.</summary>
    public bool IsWeakRef => NativeMethods.pa_weakref_check(_pointer) != 0;

    /// <summary>True when the collector tracks the object (<c>pa_gc_is_tracked</c>, <c>gc.is_tracked</c>).</summary>
    /// <exception cref="InvalidOperationException">The reference is null.</exception>
    public bool IsTracked => NativeMethods.pa_gc_is_tracked(Live) == 1;

    /// <summary>True once the object's PEP 442 finaliser has run (<c>pa_gc_is_finalized</c>, <c>gc.is_finalized</c>).</summary>
    /// <exception cref="InvalidOperationException">The reference is null.</exception>
    public bool IsFinalized => NativeMethods.pa_gc_is_finalized(Live) == 1;

    /// <summary>One more reference (<c>pa_incref</c>): the caller now owns one count more and must release it.</summary>
    /// <remarks>A no-op on an immortal object.</remarks>
    /// <exception cref="InvalidOperationException">The reference is null.</exception>
    public void IncRef() => NativeMethods.pa_incref(Live);

    /// <summary>Releases one reference the caller owns (<c>pa_decref</c>); at zero the object dies now (finaliser,
    /// weakref callbacks, dealloc, memory), which may run managed callbacks on this thread.</summary>
    /// <remarks>A no-op on an immortal object. Releasing a reference one does not own corrupts the runtime.</remarks>
    /// <exception cref="InvalidOperationException">The reference is null.</exception>
    public void DecRef() => NativeMethods.pa_decref(Live);

    /// <summary>A NEW reference to this (borrowed) object: increfs and wraps it.</summary>
    /// <returns>The owner of the new count; dispose it once.</returns>
    /// <exception cref="InvalidOperationException">The reference is null.</exception>
    public PyOwned NewReference() => PyOwned.FromBorrowed(this);

    /// <summary>Tracks a GC object (<c>pa_gc_track</c>); a no-op when tracked already or for a non-GC type.</summary>
    /// <exception cref="InvalidOperationException">The reference is null.</exception>
    public void Track() => NativeMethods.pa_gc_track(Live);

    /// <summary>Untracks the object (<c>pa_gc_untrack</c>): the collector no longer sees it; a no-op when untracked.</summary>
    /// <exception cref="InvalidOperationException">The reference is null.</exception>
    public void Untrack() => NativeMethods.pa_gc_untrack(Live);

    /// <summary>The objects this one refers to, in traversal order (<c>pa_gc_get_referents</c>, <c>gc.get_referents</c>).</summary>
    /// <returns>NEW references to them (none for a non-GC object); dispose the array.</returns>
    /// <exception cref="PyAllocException">The library refused the call (null object).</exception>
    public PyRefArray GetReferents()
    {
        PaObject* o = _pointer;
        return PyRefArray.Fill((output, cap) => NativeMethods.pa_gc_get_referents(o, output, cap));
    }

    /// <summary>The object's memory as a <typeparamref name="T"/> (no check): for layouts defined with <see cref="PyTypeBuilder.For{T}"/>.</summary>
    /// <typeparam name="T">An unmanaged struct that starts with <see cref="PaObject"/> (or <see cref="PaVarObject"/>).</typeparam>
    /// <returns>The object's address, typed; borrowed.</returns>
    public T* As<T>() where T : unmanaged => (T*)_pointer;

    /// <summary>The object's memory as a <typeparamref name="T"/>, by reference: <see cref="As{T}"/> without <c>unsafe</c>
    /// code at the call site (no check).</summary>
    /// <typeparam name="T">An unmanaged struct that starts with <see cref="PaObject"/> (or <see cref="PaVarObject"/>), e.g.
    /// <c>struct Node { public PaObject Header; [PyRef] public PyObjectRef Next; }</c>.</typeparam>
    /// <returns>A reference to the object's fields, valid while the object lives; store references into its
    /// [PyRef] fields with <see cref="Assign(ref PyObjectRef, PyObjectRef)"/>.</returns>
    /// <exception cref="NullReferenceException">This reference is null.</exception>
    public ref T AsRef<T>() where T : unmanaged
    {
        if (_pointer == null)
            throw new NullReferenceException("AsRef of a null PyObjectRef");
        return ref Unsafe.AsRef<T>(_pointer);
    }

    /// <summary><see cref="Assign(PaObject**, PyObjectRef)"/> for a <see cref="PyObjectRef"/> field, e.g.
    /// <c>PyObjectRef.Assign(ref node.AsRef&lt;Node&gt;().Next, other)</c>: the field takes its own reference, then
    /// the old value is released.</summary>
    /// <param name="slot">The field, inside an object's memory (<see cref="AsRef{T}"/>).</param>
    /// <param name="value">The new value (borrowed from the caller), or <see cref="Null"/> to clear.</param>
    /// <remarks>The old value may die here, running its finaliser and callbacks.</remarks>
    public static void Assign(ref PyObjectRef slot, PyObjectRef value) =>
        Assign((PaObject**)Unsafe.AsPointer(ref slot), value);

    /// <summary><see cref="Clear(PaObject**)"/> for a <see cref="PyObjectRef"/> field: null first, then the old value released.</summary>
    /// <param name="slot">The field, inside an object's memory (<see cref="AsRef{T}"/>).</param>
    public static void Clear(ref PyObjectRef slot) => Clear((PaObject**)Unsafe.AsPointer(ref slot));

    /// <summary>
    /// Stores <paramref name="value"/> in an object's reference field: the field takes its own reference
    /// (incref), then the old value is released, so the field is never seen holding a dead object
    /// (<c>pa_incref</c> + <c>pa_setref</c>, CPython's <c>Py_XSETREF(*slot, Py_XNewRef(value))</c>).
    /// </summary>
    /// <param name="slot">The field, e.g. <c>&amp;node-&gt;Parent</c>.</param>
    /// <param name="value">The new value (borrowed from the caller), or <see cref="Null"/> to clear.</param>
    /// <remarks>The old value may die here, running its finaliser and callbacks.</remarks>
    public static void Assign(PaObject** slot, PyObjectRef value)
    {
        NativeMethods.pa_xincref(value._pointer);
        NativeMethods.pa_setref(slot, value._pointer);
    }

    /// <summary>Clears an object's reference field: null first, then the old value released (<c>pa_clear</c>, CPython's <c>Py_CLEAR</c>).</summary>
    /// <param name="slot">The field.</param>
    public static void Clear(PaObject** slot) => NativeMethods.pa_clear(slot);

    /// <summary>Pointer equality.</summary>
    /// <param name="other">Another reference.</param>
    /// <returns>True when both point at the same object (or both are null).</returns>
    public bool Equals(PyObjectRef other) => _pointer == other._pointer;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is PyObjectRef other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => ((nint)_pointer).GetHashCode();

    /// <summary>Pointer equality.</summary>
    /// <param name="left">A reference.</param>
    /// <param name="right">Another.</param>
    /// <returns>True when both point at the same object.</returns>
    public static bool operator ==(PyObjectRef left, PyObjectRef right) => left._pointer == right._pointer;

    /// <summary>Pointer inequality.</summary>
    /// <param name="left">A reference.</param>
    /// <param name="right">Another.</param>
    /// <returns>True when they point at different objects.</returns>
    public static bool operator !=(PyObjectRef left, PyObjectRef right) => left._pointer != right._pointer;

    /// <summary>Python's repr style: <c>&lt;list object at 0x...&gt;</c>, or <c>&lt;NULL&gt;</c>.</summary>
    /// <returns>The text; reads the type name, so only for live objects.</returns>
    public override string ToString() => IsNull ? "<NULL>" : $"<{TypeName} object at 0x{(nuint)_pointer:x}>";

    private PaObject* Live => _pointer != null ? _pointer : throw new InvalidOperationException("the object reference is null");
}
