using System.Runtime.CompilerServices;

namespace PyAlloc.Interop;

/* The header's static inline functions (section 5 of include/pyalloc.h): not exported by the
   library, since C compiles them into the caller, so they are written here in C#, statement for
   statement; the count rules themselves are PaObject's (src/PyAlloc.Abi/PaObject.RefCount.cs, shared
   with the core).  Everything else of NativeMethods is generated (NativeMethods.g.cs); the agreement
   tests check that every static inline function of the header has its counterpart here with the
   generator's signature. */
public static unsafe partial class NativeMethods
{

    /// <summary><c>static inline pa_type *pa_object_type(const pa_object *o)</c>: the object's type (borrowed).</summary>
    /// <param name="o">A live object.</param>
    /// <returns><c>o-&gt;ob_type</c>.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static PaType* pa_object_type(PaObject* o) => o->ObType;

    /// <summary><c>static inline intptr_t pa_refcnt(const pa_object *o)</c>: the reference count, as <c>sys.getrefcount()</c> without its own +1.</summary>
    /// <param name="o">A live object.</param>
    /// <returns><c>o-&gt;ob_refcnt</c> (0xFFFFFFFF for an immortal object).</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static nint pa_refcnt(PaObject* o) => o->ObRefcnt;

    /// <summary><c>static inline int pa_is_immortal(const pa_object *o)</c>: 1 when the count's low 32 bits are negative as an <c>int32_t</c>.</summary>
    /// <param name="o">A live object.</param>
    /// <returns>1 for an immortal object, else 0.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int pa_is_immortal(PaObject* o) => o->IsImmortal ? 1 : 0;

    /// <summary><c>static inline void pa_incref(pa_object *o)</c>: one more reference; immortal objects stay as they are
    /// (a saturating add on the low 32 bits, as CPython 3.12).</summary>
    /// <param name="o">A live object, not null.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void pa_incref(PaObject* o) => o->Incref();

    /// <summary><c>static inline void pa_decref(pa_object *o)</c>: one reference fewer; at zero the object is deallocated now
    /// (<see cref="pa__dealloc"/>: finaliser, weakref callbacks, dealloc, memory). No-op for an immortal object.</summary>
    /// <param name="o">A live object, not null.</param>
    /// <remarks>Compiled with the symbol <c>PA_DEBUG</c>, a count that would go below zero calls <see cref="pa__refcnt_error"/>, as the header does.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void pa_decref(PaObject* o)
    {
#if PA_DEBUG
        if (!o->IsImmortal && o->ObRefcnt <= 0)
        {
            pa__refcnt_error(o);
            return;
        }
#endif
        if (o->Release())
            pa__dealloc(o);
    }

    /// <summary><c>static inline void pa_xincref(pa_object *o)</c>: <see cref="pa_incref"/>, and a no-op for null.</summary>
    /// <param name="o">An object or null.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void pa_xincref(PaObject* o)
    {
        if (o != null)
            pa_incref(o);
    }

    /// <summary><c>static inline void pa_xdecref(pa_object *o)</c>: <see cref="pa_decref"/>, and a no-op for null.</summary>
    /// <param name="o">An object or null.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void pa_xdecref(PaObject* o)
    {
        if (o != null)
            pa_decref(o);
    }

    /// <summary><c>static inline void pa_setref(pa_object **slot, pa_object *v)</c>: <c>*slot = v</c> (v's reference is STOLEN),
    /// then the old value is released: the slot is never seen holding a dead object (CPython's <c>Py_XSETREF</c>).</summary>
    /// <param name="slot">The field to update.</param>
    /// <param name="v">The new value (a reference the slot now owns) or null.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void pa_setref(PaObject** slot, PaObject* v)
    {
        PaObject* old = *slot;
        *slot = v;
        pa_xdecref(old);
    }

    /// <summary><c>static inline void pa_clear(pa_object **slot)</c>: <c>*slot = NULL</c>, then the old value is released (CPython's <c>Py_CLEAR</c>).</summary>
    /// <param name="slot">The field to clear.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void pa_clear(PaObject** slot)
    {
        PaObject* old = *slot;
        if (old != null)
        {
            *slot = null;
            pa_decref(old);
        }
    }
}
