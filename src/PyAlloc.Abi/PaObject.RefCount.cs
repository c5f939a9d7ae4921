// The reference count rules of CPython 3.12 on 64-bit, written once for the two C# sides that change
// counts: the core (its collector, its objects) and the binding (the header's inline pa_incref and
// pa_decref, which C compiles into its callers and .NET runs from NativeMethods.Inline.cs).  The third
// copy is include/pyalloc.h's, in C; the tests run the same counts through both (ReferenceCountingTests,
// test_refcount.c).  Hand-written: this file is not generated.
using System.Runtime.CompilerServices;

#if PYALLOC_CORE
namespace PyAlloc.Core.Abi
#else
namespace PyAlloc
#endif
{
    partial struct PaObject
    {
        /// <summary>The count of an immortal object (CPython 3.12's _Py_IMMORTAL_REFCNT on 64-bit): the low 32 bits set.</summary>
        internal static nint ImmortalRefcnt => unchecked((nint)0xFFFFFFFFL);

        /// <summary><c>pa_is_immortal</c>: the low 32 bits of the count are negative as an <c>int32_t</c>.</summary>
        internal readonly bool IsImmortal
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => unchecked((int)(uint)ObRefcnt) < 0;
        }

        /// <summary>
        /// <c>pa_incref</c>: one more reference; a saturating add on the low 32 bits, so that an immortal
        /// count (and one that reaches it) stays as it is.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal void Incref()
        {
            if (unchecked((uint)ObRefcnt + 1u) != 0)
                ObRefcnt++;
        }

        /// <summary>
        /// <c>pa_decref</c>'s count: one reference fewer, nothing for an immortal object.
        /// </summary>
        /// <returns>True when the count reached zero: the caller deallocates the object now.</returns>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal bool Release() => !IsImmortal && --ObRefcnt == 0;
    }
}
