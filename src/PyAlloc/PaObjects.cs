using System.Runtime.InteropServices;

using PyAlloc.Interop;

namespace PyAlloc;

/// <summary>
/// <c>pa_runtime</c>: an object space with its own heap and cycle collector. Opaque: only
/// pointers to it are used (<c>PaRuntime*</c>), never its contents or its size.
/// </summary>
/// <remarks><c>PyRuntime</c> is the managed owner of one.</remarks>
public struct PaRuntime
{
}

/// <summary>
/// <c>pa_type</c>: an object type, living as long as its runtime. Opaque: only pointers to it
/// are used (<c>PaType*</c>).
/// </summary>
/// <remarks><c>PyType</c> is the managed view of one.</remarks>
public struct PaType
{
}

/// <summary>
/// <c>pa_object</c>: the header every object starts with (C's <c>snake_case</c> names in PascalCase).
/// </summary>
/// <remarks>
/// Put it first in an unmanaged struct to describe an object layout of your own
/// (<c>PyTypeBuilder.For&lt;T&gt;</c>). The count's low 32 bits are the count proper; all ones
/// means immortal (<see cref="NativeMethods.pa_is_immortal"/>).
/// </remarks>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct PaObject
{
    /// <summary><c>ob_refcnt</c>: the reference count (0xFFFFFFFF for an immortal object).</summary>
    public nint ObRefcnt;
    /// <summary><c>ob_type</c>: the object's type (borrowed).</summary>
    public PaType* ObType;
}

/// <summary>
/// <c>pa_var_object</c>: the header of variable-sized objects; <see cref="NativeMethods.pa_object_new_var"/>
/// sets <see cref="ObSize"/>.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct PaVarObject
{
    /// <summary><c>ob_base</c>: the ordinary object header.</summary>
    public PaObject ObBase;
    /// <summary><c>ob_size</c>: the number of items.</summary>
    public nint ObSize;
}

/// <summary>
/// <c>pa_type_spec</c>, field for field, as <see cref="NativeMethods.pa_type_new"/> reads it.
/// </summary>
/// <remarks>
/// <para>
/// The function pointers are C function pointers: in C# <c>[UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]</c>
/// static methods, taken with <c>&amp;Method</c>. They run on the thread that drops the last reference or
/// that collects, and must not let an exception escape (that ends the process).
/// </para>
/// <para>
/// The library copies the spec, its name and its <see cref="RefOffsets"/> array: none of them needs to
/// outlive the call. <c>PyTypeBuilder</c> fills this for you.
/// </para>
/// </remarks>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct PaTypeSpec
{
    /// <summary><c>name</c>: NUL-terminated UTF-8, copied.</summary>
    public byte* Name;
    /// <summary><c>basicsize</c>: bytes, including the <see cref="PaObject"/> header.</summary>
    public nuint Basicsize;
    /// <summary><c>itemsize</c>: 0 unless variable-sized; items start at <see cref="Basicsize"/>.</summary>
    public nuint Itemsize;
    /// <summary><c>flags</c>: <see cref="NativeMethods.PA_TPFLAGS_HAVE_GC"/>, <see cref="NativeMethods.PA_TPFLAGS_ITEMS_ARE_REFS"/>.</summary>
    public uint Flags;
    /// <summary><c>traverse</c>: visit every owned reference (those <see cref="RefOffsets"/> does not list); null when the offsets say it all.</summary>
    public delegate* unmanaged[Cdecl]<PaObject*, delegate* unmanaged[Cdecl]<PaObject*, void*, int>, void*, int> Traverse;
    /// <summary><c>clear</c>: drop the references that may form cycles; must leave the object safe to deallocate.</summary>
    public delegate* unmanaged[Cdecl]<PaObject*, int> Clear;
    /// <summary><c>finalize</c>: the PEP 442 finaliser, called at most once; may resurrect.</summary>
    public delegate* unmanaged[Cdecl]<PaObject*, void> Finalize;
    /// <summary><c>legacy_del</c>: a pre-3.4 finaliser; objects with one are uncollectable in cycles (they go to gc garbage).</summary>
    public delegate* unmanaged[Cdecl]<PaObject*, void> LegacyDel;
    /// <summary><c>dealloc</c>: release owned references and resources; the library frees the memory.</summary>
    public delegate* unmanaged[Cdecl]<PaObject*, void> Dealloc;
    /// <summary><c>ref_offsets</c>: null, or byte offsets of the <c>pa_object *</c> fields ended by 0; copied.</summary>
    public nuint* RefOffsets;
}

/// <summary><c>pa_gc_generation_stats</c>: <c>gc.get_stats()</c> for one generation.</summary>
/// <remarks><c>GcGenerationStats</c> is the managed view.</remarks>
[StructLayout(LayoutKind.Sequential)]
public struct PaGcGenerationStats
{
    /// <summary><c>collections</c>: collections of this generation so far.</summary>
    public nint Collections;
    /// <summary><c>collected</c>: objects they collected.</summary>
    public nint Collected;
    /// <summary><c>uncollectable</c>: objects they found uncollectable.</summary>
    public nint Uncollectable;
}

/// <summary><c>pa_gc_info</c>: what a gc callback is told (<c>gc.callbacks</c>' info dict).</summary>
/// <remarks><c>GcInfo</c> is the managed view.</remarks>
[StructLayout(LayoutKind.Sequential)]
public struct PaGcInfo
{
    /// <summary><c>generation</c>: the oldest generation being collected.</summary>
    public int Generation;
    /// <summary><c>collected</c>: 0 at <see cref="NativeMethods.PA_GC_START"/>.</summary>
    public nint Collected;
    /// <summary><c>uncollectable</c>: 0 at <see cref="NativeMethods.PA_GC_START"/>.</summary>
    public nint Uncollectable;
}
