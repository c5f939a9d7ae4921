// The header keeps pa_type opaque; in the core a pa_type* is a pointer to this file's TypeObject.  The
// header's types (src/PyAlloc.Abi/HeaderTypes.g.cs, generated) name it PaType: this alias makes their
// fields (pa_object's ob_type, pa_type_count's type) point at what they really are.
global using PaType = PyAlloc.Core.Objects.TypeObject;
using System.Runtime.InteropServices;
using PyAlloc.Core.Abi;
using PyAlloc.Core.Allocator;
using PyAlloc.Core.Support;

namespace PyAlloc.Core.Objects;

/// <summary>What the library knows how to traverse by itself.</summary>
internal enum TypeKind
{
    /// <summary>A type from <c>pa_type_new</c>: ref_offsets and/or a C traverse.</summary>
    User = 0,
    /// <summary>The built-in list.</summary>
    List = 1,
    /// <summary>The built-in weak reference.</summary>
    Weakref = 2,
}

/// <summary>A type (<c>pa_type</c>): lives in native memory as long as its runtime.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct TypeObject
{
    public const uint FlagHaveGc = 1u << 14;
    public const uint FlagItemsAreRefs = 1u << 20;
    private const uint KnownFlags = FlagHaveGc | FlagItemsAreRefs;
    private const int MaxRefOffsets = 4096;

    public Runtime* Runtime;
    public byte* Name;             // owned, NUL-terminated
    public nuint BasicSize;
    public nuint ItemSize;
    public uint Flags;
    public TypeKind Kind;
    public delegate* unmanaged<PaObject*, void*, void*, int> Traverse;
    public delegate* unmanaged<PaObject*, int> ClearFn;
    public delegate* unmanaged<PaObject*, void> Finalize;
    public delegate* unmanaged<PaObject*, void> LegacyDel;
    public delegate* unmanaged<PaObject*, void> DeallocFn;
    public nuint* RefOffsets;      // owned copy ended by 0, or null
    public TypeObject* NextType;   // the runtime's list of types
    public nint LiveObjects;       // for leak hunting: objects of this type alive now
    public nuint LiveBytes;
    public bool PlainDeath;        // no finaliser, legacy finaliser or dealloc, and only the library's
                                   // references to release: Lifecycle's fast death (set by Create)
    public bool PoolBlock;         // every object is a pool block of the runtime's heap (set by Create)
    public bool OffsetsOnly;       // a user type whose references are all in ref_offsets: no items, no
                                   // C traverse (Traverse.Visit's fast path; set by Create)
    public bool TraverseOnly;      // a user type whose references only its C traverse knows: no
                                   // ref_offsets, no items (the collector's DecrefRing; set by Create)

    public readonly bool HasGc => (Flags & FlagHaveGc) != 0;
    public readonly bool ItemsAreRefs => (Flags & FlagItemsAreRefs) != 0;
    public readonly bool IsVariableSized => ItemSize != 0;

    /// <summary>
    /// Validates <paramref name="spec"/> and makes a type of <paramref name="rt"/> from it.
    /// </summary>
    /// <returns>The type, or null with the thread's error set.</returns>
    public static TypeObject* Create(Runtime* rt, PaTypeSpec* spec, TypeKind kind)
    {
        string? problem = Validate(spec, out int nOffsets);
        if (problem != null)
            return (TypeObject*)Errors.Null($"pa_type_new: {problem}");

        nuint nameLength = (nuint)MemoryMarshal.CreateReadOnlySpanFromNullTerminated(spec->Name).Length;
        TypeObject* t = (TypeObject*)NativeMemory.AllocZeroed((nuint)sizeof(TypeObject));
        byte* name = (byte*)NativeMemory.Alloc(nameLength + 1);
        nuint* offsets = nOffsets > 0 ? (nuint*)NativeMemory.Alloc((nuint)(nOffsets + 1), (nuint)sizeof(nuint)) : null;
        if (t == null || name == null || (nOffsets > 0 && offsets == null))
        {
            NativeMemory.Free(t);
            NativeMemory.Free(name);
            NativeMemory.Free(offsets);
            return (TypeObject*)Errors.Null("pa_type_new: out of memory");
        }
        NativeMemory.Copy(spec->Name, name, nameLength + 1);
        if (offsets != null)
            NativeMemory.Copy(spec->RefOffsets, offsets, (nuint)(nOffsets + 1) * (nuint)sizeof(nuint));

        t->Runtime = rt;
        t->Name = name;
        t->BasicSize = spec->Basicsize;
        t->ItemSize = spec->Itemsize;
        t->Flags = spec->Flags;
        t->Kind = kind;
        t->Traverse = (delegate* unmanaged<PaObject*, void*, void*, int>)spec->Traverse;
        t->ClearFn = (delegate* unmanaged<PaObject*, int>)spec->Clear;
        t->Finalize = (delegate* unmanaged<PaObject*, void>)spec->Finalize;
        t->LegacyDel = (delegate* unmanaged<PaObject*, void>)spec->LegacyDel;
        t->DeallocFn = (delegate* unmanaged<PaObject*, void>)spec->Dealloc;
        t->RefOffsets = offsets;
        // Nothing but user types has its references entirely in ref_offsets and items
        // (lists free an item array, weakrefs unlink); the fields above never change.
        t->PlainDeath = kind == TypeKind.User && t->Finalize == null && t->LegacyDel == null && t->DeallocFn == null;
        // Runtime.Malloc serves a request of at most 512 bytes from the runtime's pools when it has
        // a FastHeap (pymalloc mode, fixed before the runtime was made); a fixed-size object asks
        // for the same size at every birth, so its block is such a pool block, known without the
        // arena map.  (A variable-sized object's ob_size may be changed after its birth.)
        t->OffsetsOnly = kind == TypeKind.User && offsets != null && (t->Flags & FlagItemsAreRefs) == 0
                         && t->Traverse == null;
        t->TraverseOnly = kind == TypeKind.User && offsets == null && (t->Flags & FlagItemsAreRefs) == 0
                          && t->Traverse != null;
        t->PoolBlock = t->ItemSize == 0 && (nuint)sizeof(GcHead) + t->BasicSize <= Geometry.SmallRequestThreshold
                       && rt->FastHeap != null;
        if (!Registry.AddType(t) || !rt->TypeSet.Set(t, 1))
        {
            Destroy(t);
            return (TypeObject*)Errors.Null("pa_type_new: out of memory");
        }
        t->NextType = rt->Types;
        rt->Types = t;
        return t;
    }

    /// <summary>Frees the type's own memory (at pa_runtime_free).</summary>
    public static void Destroy(TypeObject* t)
    {
        Registry.RemoveType(t);
        NativeMemory.Free(t->Name);
        NativeMemory.Free(t->RefOffsets);
        NativeMemory.Free(t);
    }

    /* The reason the spec cannot make a type, or null when it can. */
    private static string? Validate(PaTypeSpec* spec, out int nOffsets)
    {
        nOffsets = 0;
        if (spec == null)
            return "spec is NULL";
        if (spec->Name == null)
            return "spec->name is NULL";
        if ((spec->Flags & ~KnownFlags) != 0)
            return $"unknown flags 0x{spec->Flags & ~KnownFlags:x}";
        nuint header = spec->Itemsize != 0 ? (nuint)sizeof(PaVarObject) : (nuint)sizeof(PaObject);
        if (spec->Basicsize < header)
            return $"basicsize {spec->Basicsize} is smaller than the {(spec->Itemsize != 0 ? "pa_var_object" : "pa_object")} header ({header} bytes)";
        if (spec->Basicsize > (nuint)int.MaxValue || spec->Itemsize > (nuint)int.MaxValue)
            return "basicsize or itemsize is absurdly large";
        if ((spec->Flags & FlagItemsAreRefs) != 0 && spec->Itemsize != (nuint)sizeof(void*))
            return "PA_TPFLAGS_ITEMS_ARE_REFS needs itemsize == sizeof(pa_object *)";
        if (spec->RefOffsets != null)
        {
            for (; spec->RefOffsets[nOffsets] != 0; nOffsets++)
            {
                nuint off = spec->RefOffsets[nOffsets];
                if (nOffsets >= MaxRefOffsets)
                    return $"ref_offsets is not ended by 0 within {MaxRefOffsets} entries";
                // off > basicsize - 8, not off + 8 > basicsize: the sum wraps for off near SIZE_MAX
                // (basicsize >= header >= 16, so the difference cannot).
                if (off < header || off > spec->Basicsize - (nuint)sizeof(void*) || off % (nuint)sizeof(void*) != 0)
                    return $"ref_offsets[{nOffsets}] = {off} is not an aligned pa_object * field inside the object " +
                           $"(after the {header}-byte header, before basicsize {spec->Basicsize})";
                for (int k = 0; k < nOffsets; k++)
                {
                    if (spec->RefOffsets[k] == off)
                        return $"ref_offsets[{nOffsets}] = {off} names the same field as ref_offsets[{k}] " +
                               "(it would be released twice)";
                }
            }
        }
        bool itemsAreRefs = (spec->Flags & FlagItemsAreRefs) != 0;
        if ((spec->Flags & FlagHaveGc) != 0 && spec->Traverse == null && nOffsets == 0 && !itemsAreRefs)
            return "a PA_TPFLAGS_HAVE_GC type needs traverse or ref_offsets";
        return null;
    }
}
