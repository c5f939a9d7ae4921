using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using PyAlloc.Core.Abi;

namespace PyAlloc.Core.Objects;

/* ============================================================================
   Objects: the memory layout

   Glossary
     object     a block of the runtime's heap that starts, at the address the
                user sees, with the pa_object header: ob_refcnt and ob_type.
     GC head    two words in front of every object (CPython's PyGC_Head).
                Every object has one, GC type or not, so that the flags below
                and the deferred-dealloc link have a home for every object.
     tracked    on one of the collector's generation lists (Next != 0).
     immortal   ob_refcnt's low 32 bits all ones: counts never change it.
     runtime    an object space: its heap, its types, its collector.

   The GC head
     Next   0 when untracked; else the next GcHead of the list, whose low bit
            is NEXT_MASK_UNREACHABLE while move_unreachable runs.
     Prev   the previous GcHead of the list, or, during a collection, the
            object's gc_refs shifted left by PrevShift; the low bits are flags
            that survive both uses:
              Finalized   the PEP 442 finaliser has run (or started);
              Collecting  in the generation being collected (update_refs sets
                          it, move_unreachable clears it on reachable objects);
              Weakrefs    some weakref points here: look in the runtime's
                          weakref table on death.

   Memory: [GcHead 16 bytes][object: basicsize + nitems * itemsize], all from
   the runtime's heap (pools up to 512 bytes, the system allocator above).
   The object header itself is the header's type, PaObject (PaVarObject for
   variable-sized objects), generated into src/PyAlloc.Abi; its ob_type is a
   TypeObject (TypeObject.cs).
============================================================================ */

/// <summary>The collector's two words in front of every object (CPython's PyGC_Head).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct GcHead
{
    public nuint Next;
    public nuint Prev;

    public const nuint NextMaskUnreachable = 1;
    public const nuint PrevMaskFinalized = 1;
    public const nuint PrevMaskCollecting = 2;
    public const nuint PrevMaskWeakrefs = 4;
    public const int PrevShift = 3;
    public const nuint PrevMaskFlags = (1 << PrevShift) - 1;
    public static nuint PrevMaskPointer => ~PrevMaskFlags;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static GcHead* Of(PaObject* o) => (GcHead*)o - 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static PaObject* ObjectOf(GcHead* g) => (PaObject*)(g + 1);

    public readonly bool IsTracked => Next != 0;
    public readonly bool IsCollecting => (Prev & PrevMaskCollecting) != 0;
    public readonly bool IsFinalized => (Prev & PrevMaskFinalized) != 0;
    public readonly bool HasWeakrefs => (Prev & PrevMaskWeakrefs) != 0;

    public GcHead* NextHead => (GcHead*)(Next & ~NextMaskUnreachable);
    public GcHead* PrevHead => (GcHead*)(Prev & PrevMaskPointer);

    public void SetNext(GcHead* next) => Next = (nuint)next;
    public void SetPrev(GcHead* prev) => Prev = (Prev & PrevMaskFlags) | (nuint)prev;
}

/// <summary>
/// Reference counts in the core: the rules themselves (immortal counts, the saturating add) are
/// PaObject's, written once for the core and the binding (src/PyAlloc.Abi/PaObject.RefCount.cs);
/// this adds what happens at zero in the core.
/// </summary>
internal static unsafe class RefCount
{
    /// <summary>The count of an immortal object: the low 32 bits set.</summary>
    public static nint Immortal => PaObject.ImmortalRefcnt;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsImmortal(PaObject* o) => o->IsImmortal;

    /// <summary>pa_incref.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Incref(PaObject* o) => o->Incref();

    /// <summary>pa_decref: at zero, the object is deallocated now.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Decref(PaObject* o)
    {
        if (o->Release())
            Lifecycle.OnZero(o);
    }

    /// <summary>pa_xdecref.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void XDecref(PaObject* o)
    {
        if (o != null)
            Decref(o);
    }

    /// <summary>pa_clear: the slot is nulled before the old value is released.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Clear(PaObject** slot)
    {
        PaObject* old = *slot;
        if (old != null)
        {
            *slot = null;
            Decref(old);
        }
    }
}
