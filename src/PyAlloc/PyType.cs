using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Linq;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

using PyAlloc.Interop;

namespace PyAlloc;

/// <summary>The type flags a .NET-defined type may have (<c>PA_TPFLAGS_*</c>).</summary>
[Flags]
public enum PyTypeFlags : uint
{
    /// <summary>No flag: objects are not tracked by the collector (they can still hold references).</summary>
    None = 0,
    /// <summary><c>PA_TPFLAGS_HAVE_GC</c>: objects are tracked and take part in cycle collection.</summary>
    HaveGc = NativeMethods.PA_TPFLAGS_HAVE_GC,
    /// <summary><c>PA_TPFLAGS_ITEMS_ARE_REFS</c>: the items of a variable-sized object are object references (itemsize 8).</summary>
    ItemsAreRefs = NativeMethods.PA_TPFLAGS_ITEMS_ARE_REFS,
}

/// <summary>
/// Marks a <c>PaObject*</c> or <see cref="PyObjectRef"/> field of an object layout as a reference the object OWNS: it goes into the type's
/// <c>ref_offsets</c>, so the library traverses it for the collector, clears it to break cycles and releases it
/// when the object dies (after the type's dealloc).
/// </summary>
/// <remarks>A <c>PaObject*</c> field without the attribute is invisible to the library (a borrowed pointer).
/// Only fields of the layout struct itself count, not fields of nested structs.</remarks>
[AttributeUsage(AttributeTargets.Field, AllowMultiple = false, Inherited = false)]
public sealed class PyRefAttribute : Attribute
{
}

/// <summary>
/// An object type of a runtime (<c>pa_type</c>), defined from .NET with <see cref="PyTypeBuilder"/> or
/// <see cref="Define{T}"/>; it lives as long as its runtime.
/// </summary>
/// <remarks>
/// <para>Example, the article's Node with a parent back-reference and a list of children:</para>
/// <code>
/// struct Node { public PaObject Header; [PyRef] public PaObject* Parent; [PyRef] public PaObject* Children; }
/// PyType node = PyType.Define&lt;Node&gt;(runtime, "Node");
/// using PyOwned n = node.New();
/// </code>
/// <para>Error convention as <see cref="PyMemory"/>: members that return managed objects throw <see cref="PyAllocException"/>.</para>
/// </remarks>
public sealed unsafe class PyType
{
    internal const DynamicallyAccessedMemberTypes LayoutFields =
        DynamicallyAccessedMemberTypes.PublicFields | DynamicallyAccessedMemberTypes.NonPublicFields;

    internal PyType(PyRuntime runtime, PaType* handle, long basicSize, long itemSize, PyTypeFlags flags, IReadOnlyList<long> refOffsets)
    {
        Runtime = runtime;
        _handle = handle;
        Name = Marshal.PtrToStringUTF8((nint)NativeMethods.pa_type_name(handle)) ?? string.Empty;
        BasicSize = basicSize;
        ItemSize = itemSize;
        Flags = flags;
        RefOffsets = refOffsets;
    }

    private readonly PaType* _handle;

    /// <summary>Defines the type whose objects have the layout <typeparamref name="T"/>: <see cref="PyTypeBuilder.For{T}"/> with
    /// <paramref name="flags"/>, built in <paramref name="runtime"/>.</summary>
    /// <typeparam name="T">An unmanaged struct starting with <see cref="PaObject"/> (or <see cref="PaVarObject"/>);
    /// its owned reference fields are <c>PaObject*</c> marked <see cref="PyRefAttribute"/>.</typeparam>
    /// <param name="runtime">The runtime.</param>
    /// <param name="name">The type's name.</param>
    /// <param name="flags">Type flags; a GC type needs at least one [PyRef] field (or use the builder to add a traverse).</param>
    /// <returns>The type.</returns>
    /// <exception cref="ArgumentException"><typeparamref name="T"/> is not a valid object layout.</exception>
    /// <exception cref="PyAllocException">The library refused the spec; the message is its own.</exception>
    /// <exception cref="ObjectDisposedException">The runtime has been disposed.</exception>
    public static PyType Define<[DynamicallyAccessedMembers(LayoutFields)] T>(PyRuntime runtime, string name, PyTypeFlags flags = PyTypeFlags.HaveGc) where T : unmanaged =>
        PyTypeBuilder.For<T>(name).WithFlags(flags).Build(runtime);

    /// <summary>The runtime the type belongs to.</summary>
    public PyRuntime Runtime { get; }

    /// <summary>The <c>pa_type*</c>; valid while the runtime is not disposed.</summary>
    public PaType* Handle => !Runtime.IsDisposed ? _handle : throw new ObjectDisposedException(nameof(PyRuntime));

    /// <summary>The name (<c>pa_type_name</c>).</summary>
    public string Name { get; }

    /// <summary>Bytes per object, the header included.</summary>
    public long BasicSize { get; }

    /// <summary>Bytes per item; 0 unless variable-sized.</summary>
    public long ItemSize { get; }

    /// <summary>The type's flags.</summary>
    public PyTypeFlags Flags { get; }

    /// <summary>Byte offsets of the owned reference fields (the <c>ref_offsets</c> given to the library).</summary>
    public IReadOnlyList<long> RefOffsets { get; }

    /// <summary>A new object (<c>pa_object_new</c>): zeroed, count 1, tracked when the type has GC; allocating a GC
    /// object may run an automatic collection first.</summary>
    /// <returns>A NEW reference.</returns>
    /// <exception cref="PyAllocException">Out of memory.</exception>
    /// <exception cref="ObjectDisposedException">The runtime has been disposed.</exception>
    /// <param name="file">The caller's source file (filled in by the compiler): tracemalloc's site for the object.</param>
    /// <param name="line">The caller's line (filled in by the compiler).</param>
    public PyOwned New([CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        NewOwned(NativeMethods.pa_object_new_at(Handle, CallSites.File(file), line));

    /// <summary>A new variable-sized object (<c>pa_object_new_var</c>) of <paramref name="count"/> zeroed items;
    /// <c>ob_size</c> = <paramref name="count"/>.</summary>
    /// <param name="count">Number of items, 0 or more.</param>
    /// <returns>A NEW reference.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative.</exception>
    /// <exception cref="PyAllocException">The type is not variable-sized, the size overflows, or out of memory.</exception>
    /// <exception cref="ObjectDisposedException">The runtime has been disposed.</exception>
    /// <param name="file">The caller's source file (filled in by the compiler): tracemalloc's site for the object.</param>
    /// <param name="line">The caller's line (filled in by the compiler).</param>
    public PyOwned NewVar(long count, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        return NewOwned(NativeMethods.pa_object_new_var_at(Handle, (nuint)count, CallSites.File(file), line));
    }

    private PyOwned NewOwned(PaObject* newReferenceOrNull)
    {
        Runtime.ReleaseAbandonedIfAny();
        return PyOwned.FromResult(newReferenceOrNull, Runtime);
    }

    /// <summary>True when <paramref name="o"/> is an object of exactly this type.</summary>
    /// <param name="o">An object, or null (false).</param>
    /// <returns>Whether its type is this one.</returns>
    public bool IsInstance(PyObjectRef o) => !o.IsNull && o.Type == _handle;

    /// <summary>The name.</summary>
    /// <returns>The type's name.</returns>
    public override string ToString() => $"<type '{Name}'>";
}

/// <summary>
/// Builds a <see cref="PaTypeSpec"/> from .NET and makes the type with <c>pa_type_new</c>.
/// </summary>
/// <remarks>
/// <para>
/// The function pointers are C function pointers: <c>[UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]</c>
/// static methods of the application, taken with <c>&amp;Method</c>. They run on the thread that releases the last
/// reference or that collects; they must not throw (an exception cannot cross the library's frames and ends the
/// process) and, like all calls on a runtime, must not overlap with other calls on it.
/// </para>
/// <para>
/// The library copies the spec with its name and ref_offsets, so nothing the builder made needs to outlive
/// <see cref="Build"/>. A builder can build the same type in several runtimes.
/// </para>
/// </remarks>
public sealed unsafe class PyTypeBuilder
{
    private const DynamicallyAccessedMemberTypes LayoutFields = PyType.LayoutFields;
    private readonly List<long> _refOffsets = [];
    private delegate* unmanaged[Cdecl]<PaObject*, delegate* unmanaged[Cdecl]<PaObject*, void*, int>, void*, int> _traverse;
    private delegate* unmanaged[Cdecl]<PaObject*, int> _clear;
    private delegate* unmanaged[Cdecl]<PaObject*, void> _finalize;
    private delegate* unmanaged[Cdecl]<PaObject*, void> _legacyDel;
    private delegate* unmanaged[Cdecl]<PaObject*, void> _dealloc;

    /// <summary>A builder for a type named <paramref name="name"/>, basicsize <c>sizeof(PaObject)</c>, no flags.</summary>
    /// <param name="name">The name; UTF-8 encoded and copied by the library.</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> contains a NUL character.</exception>
    public PyTypeBuilder(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Contains('\0'))
            throw new ArgumentException("a type name cannot contain NUL", nameof(name));
        Name = name;
        BasicSize = sizeof(PaObject);
    }

    /// <summary>
    /// A builder for objects laid out as <typeparamref name="T"/>: basicsize = <c>sizeof(T)</c>, and the offsets of the
    /// fields marked <see cref="PyRefAttribute"/> as ref_offsets. No flags yet (add <see cref="WithFlags"/>).
    /// </summary>
    /// <typeparam name="T">An unmanaged struct with a <see cref="PaObject"/> (or <see cref="PaVarObject"/>) field at offset 0;
    /// every [PyRef] field must be a <c>PaObject*</c> or a <see cref="PyObjectRef"/> (the same pointer, and a struct of
    /// PyObjectRef fields needs no <c>unsafe</c>).</typeparam>
    /// <param name="name">The type's name.</param>
    /// <returns>The builder.</returns>
    /// <remarks>The offsets are those of <typeparamref name="T"/> in memory, the layout a <c>T*</c> reads through
    /// (<see cref="PyObjectRef.As{T}"/>); they are measured, not taken from the marshaller, so fields such as
    /// <see cref="bool"/> (1 byte in memory, 4 when marshalled) cannot shift them.</remarks>
    /// <exception cref="ArgumentException"><typeparamref name="T"/> has no header at offset 0, or has a [PyRef] field that is
    /// neither a <c>PaObject*</c> nor a <see cref="PyObjectRef"/>.</exception>
    public static PyTypeBuilder For<[DynamicallyAccessedMembers(LayoutFields)] T>(string name) where T : unmanaged
    {
        Type t = typeof(T);
        FieldInfo[] fields = t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic);
        bool hasHeader = fields.Any(f => (f.FieldType == typeof(PaObject) || f.FieldType == typeof(PaVarObject)) && OffsetOf<T>(f) == 0);
        if (!hasHeader)
            throw new ArgumentException($"{t.Name} must start with a PaObject (or PaVarObject) field, the object header");
        var builder = new PyTypeBuilder(name) { BasicSize = sizeof(T) };
        foreach (FieldInfo f in fields.Where(f => f.GetCustomAttribute<PyRefAttribute>() != null))
        {
            if (f.FieldType != typeof(PaObject*) && f.FieldType != typeof(PyObjectRef))
                throw new ArgumentException($"{t.Name}.{f.Name} is marked [PyRef] but is a {f.FieldType.Name}, not a PaObject* or a PyObjectRef");
            builder._refOffsets.Add(OffsetOf<T>(f));
        }
        // Sorted by offset, the order the fields have in memory: reflection's order of fields is
        // unspecified, and NativeAOT has no metadata tokens to sort declarations by.
        builder._refOffsets.Sort();
        return builder;
    }

    /* Where field f lies in a T in memory: store a marker in it (through reflection, in an otherwise zeroed
       T) and find the marker's bytes.  Works for PaObject* and PyObjectRef fields and for the object header. */
    private static long OffsetOf<T>(FieldInfo f) where T : unmanaged
    {
        const long Marker = 0x5AA5_1F2E_3D4C_5B6A;
        object boxed = default(T);
        if (f.FieldType == typeof(PaObject*))
            f.SetValue(boxed, Pointer.Box(unchecked((void*)Marker), typeof(PaObject*)));
        else if (f.FieldType == typeof(PyObjectRef))
            f.SetValue(boxed, new PyObjectRef(unchecked((PaObject*)Marker)));
        else if (f.FieldType == typeof(PaObject))
            f.SetValue(boxed, new PaObject { ObRefcnt = unchecked((nint)Marker) });
        else
            f.SetValue(boxed, new PaVarObject { ObBase = new PaObject { ObRefcnt = unchecked((nint)Marker) } });
        T value = (T)boxed;
        byte* p = (byte*)&value;
        for (int offset = 0; offset + sizeof(long) <= sizeof(T); offset++)
        {
            if (Unsafe.ReadUnaligned<long>(p + offset) == Marker)
                return offset;
        }
        throw new InvalidOperationException($"cannot locate {typeof(T).Name}.{f.Name} in memory");
    }

    /// <summary>The type's name.</summary>
    public string Name { get; }
    /// <summary>Bytes per object, the header included.</summary>
    public long BasicSize { get; private set; }
    /// <summary>Bytes per item; 0 unless variable-sized.</summary>
    public long ItemSize { get; private set; }
    /// <summary>The flags.</summary>
    public PyTypeFlags Flags { get; private set; }
    /// <summary>Byte offsets of the owned <c>PaObject*</c> fields, in traversal order.</summary>
    public IReadOnlyList<long> RefOffsets => _refOffsets;

    /// <summary>Sets basicsize: bytes per object, the header included.</summary>
    /// <param name="bytes">At least <c>sizeof(PaObject)</c> (<c>sizeof(PaVarObject)</c> for a variable-sized type); the library checks.</param>
    /// <returns>This builder.</returns>
    public PyTypeBuilder WithBasicSize(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        BasicSize = bytes;
        return this;
    }

    /// <summary>Sets itemsize: bytes per item of a variable-sized object (items start at basicsize).</summary>
    /// <param name="bytes">0 for a fixed-size type.</param>
    /// <returns>This builder.</returns>
    public PyTypeBuilder WithItemSize(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        ItemSize = bytes;
        return this;
    }

    /// <summary>Sets the flags (replacing the previous ones).</summary>
    /// <param name="flags">The flags.</param>
    /// <returns>This builder.</returns>
    public PyTypeBuilder WithFlags(PyTypeFlags flags)
    {
        Flags = flags;
        return this;
    }

    /// <summary>Makes the items object references: itemsize = 8 and <see cref="PyTypeFlags.ItemsAreRefs"/>; the library
    /// traverses, clears and releases them.</summary>
    /// <returns>This builder.</returns>
    public PyTypeBuilder WithReferenceItems()
    {
        ItemSize = sizeof(PaObject*);
        Flags |= PyTypeFlags.ItemsAreRefs;
        return this;
    }

    /// <summary>Adds byte offsets of owned <c>PaObject*</c> fields to ref_offsets.</summary>
    /// <param name="offsets">Offsets after the header, 8-aligned, inside basicsize (the library checks).</param>
    /// <returns>This builder.</returns>
    public PyTypeBuilder WithRefOffsets(params long[] offsets)
    {
        _refOffsets.AddRange(offsets);
        return this;
    }

    /// <summary>Sets traverse: visit the owned references ref_offsets does not list.</summary>
    /// <param name="traverse">A C function (or an [UnmanagedCallersOnly] method); null for none.</param>
    /// <remarks>The traverse may call the visit function it is given and nothing else of the
    /// library (pyalloc.h, pa_traverseproc): the collector calls it with no GC transition of the
    /// library's runtime.</remarks>
    /// <returns>This builder.</returns>
    public PyTypeBuilder WithTraverse(delegate* unmanaged[Cdecl]<PaObject*, delegate* unmanaged[Cdecl]<PaObject*, void*, int>, void*, int> traverse)
    {
        _traverse = traverse;
        return this;
    }

    /// <summary>Sets clear: drop references that may form cycles (the library clears ref_offsets fields after it).</summary>
    /// <param name="clear">A C function returning 0; null for none.</param>
    /// <returns>This builder.</returns>
    public PyTypeBuilder WithClear(delegate* unmanaged[Cdecl]<PaObject*, int> clear)
    {
        _clear = clear;
        return this;
    }

    /// <summary>Sets the PEP 442 finaliser: called at most once per object, before weakrefs are cleared, with the object
    /// alive (count 1 when dying by count); it may resurrect the object by storing a new reference to it.</summary>
    /// <param name="finalize">A C function; null for none.</param>
    /// <returns>This builder.</returns>
    public PyTypeBuilder WithFinalize(delegate* unmanaged[Cdecl]<PaObject*, void> finalize)
    {
        _finalize = finalize;
        return this;
    }

    /// <summary>Sets the legacy (pre-3.4, <c>tp_del</c>) finaliser: called on every death by count; objects with one that
    /// the collector finds in unreachable cycles are uncollectable and go to gc garbage, with all they reach.</summary>
    /// <param name="legacyDel">A C function; null for none.</param>
    /// <returns>This builder.</returns>
    public PyTypeBuilder WithLegacyDel(delegate* unmanaged[Cdecl]<PaObject*, void> legacyDel)
    {
        _legacyDel = legacyDel;
        return this;
    }

    /// <summary>Sets dealloc: release resources (the library releases the ref_offsets fields after it and frees the memory).</summary>
    /// <param name="dealloc">A C function; null for none.</param>
    /// <returns>This builder.</returns>
    public PyTypeBuilder WithDealloc(delegate* unmanaged[Cdecl]<PaObject*, void> dealloc)
    {
        _dealloc = dealloc;
        return this;
    }

    /// <summary>Makes the type in <paramref name="runtime"/> (<c>pa_type_new</c>).</summary>
    /// <param name="runtime">The runtime; the type lives as long as it.</param>
    /// <returns>The type.</returns>
    /// <exception cref="PyAllocException">The library refused the spec (basicsize smaller than the header, HAVE_GC without
    /// traverse or ref_offsets, a ref offset outside the object, ...); the message is its own.</exception>
    /// <exception cref="ObjectDisposedException">The runtime has been disposed.</exception>
    public PyType Build(PyRuntime runtime)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        byte[] name = new byte[Encoding.UTF8.GetByteCount(Name) + 1];
        Encoding.UTF8.GetBytes(Name, name);
        nuint[] offsets = [.. _refOffsets.Select(o => unchecked((nuint)o)), 0];
        PaType* t;
        fixed (byte* n = name)
        fixed (nuint* o = offsets)
        {
            PaTypeSpec spec = new()
            {
                Name = n,
                Basicsize = (nuint)BasicSize,
                Itemsize = (nuint)ItemSize,
                Flags = (uint)Flags,
                Traverse = _traverse,
                Clear = _clear,
                Finalize = _finalize,
                LegacyDel = _legacyDel,
                Dealloc = _dealloc,
                RefOffsets = _refOffsets.Count > 0 ? o : null,
            };
            t = NativeMethods.pa_type_new(runtime.Handle, &spec);
        }
        if (t == null)
            throw new PyAllocException(PyMemory.LastError);
        return new PyType(runtime, t, BasicSize, ItemSize, Flags, _refOffsets.ToArray());
    }
}
