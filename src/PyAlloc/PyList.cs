using System.Runtime.CompilerServices;
using PyAlloc.Interop;

namespace PyAlloc;

/// <summary>
/// The built-in list (<c>pa_list_*</c>): a GC object holding references, traversed and cleared by the library.
/// </summary>
/// <remarks>
/// Error convention of <see cref="PyMemory"/>: a null list or item, a non-list or an index out of range throws
/// <see cref="PyAllocException"/> with the library's message; <see cref="TryGet"/> returns false instead. A negative
/// index is passed on as the huge <c>size_t</c> it converts to, which the library reports as out of range.
/// </remarks>
public static unsafe class PyList
{
    /// <summary>A new empty list (<c>pa_list_new</c>); a GC allocation, which may run an automatic collection first.</summary>
    /// <param name="runtime">The runtime.</param>
    /// <returns>A NEW reference.</returns>
    /// <exception cref="PyAllocException">Out of memory.</exception>
    /// <exception cref="System.ObjectDisposedException">The runtime has been disposed.</exception>
    /// <param name="file">The caller's source file (filled in by the compiler): tracemalloc's site.</param>
    /// <param name="line">The caller's line (filled in by the compiler).</param>
    public static PyOwned New(PyRuntime runtime, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        PyOwned list = PyOwned.FromResult(NativeMethods.pa_list_new_at(runtime.Handle, CallSites.File(file), line), runtime);
        runtime.ReleaseAbandonedIfAny();
        return list;
    }

    /// <summary>True when <paramref name="o"/> is a list (<c>pa_list_check</c>); false for null.</summary>
    /// <param name="o">Any object.</param>
    /// <returns>Whether it is a list.</returns>
    public static bool Check(PyObjectRef o) => NativeMethods.pa_list_check(o.Pointer) != 0;

    /// <summary>Appends <paramref name="item"/> (<c>pa_list_append</c>); the list takes its own reference.</summary>
    /// <param name="list">A list.</param>
    /// <param name="item">The item; the caller's reference is untouched.</param>
    /// <exception cref="PyAllocException">A null or dead list or item, a non-list, or out of memory; the message is the library's.</exception>
    public static void Append(PyObjectRef list, PyObjectRef item) => Check(NativeMethods.pa_list_append(list.Pointer, item.Pointer));

    /// <summary>The item at <paramref name="index"/> (<c>pa_list_get</c>).</summary>
    /// <param name="list">A list.</param>
    /// <param name="index">0 .. count - 1.</param>
    /// <returns>BORROWED: valid while the list holds it.</returns>
    /// <exception cref="PyAllocException">Not a list, or <paramref name="index"/> out of range; the message is the library's.</exception>
    public static PyObjectRef Get(PyObjectRef list, long index) =>
        TryGet(list, index, out PyObjectRef item) ? item : throw new PyAllocException(PyMemory.LastError);

    /// <summary>As <see cref="Get"/>, but returns false instead of throwing.</summary>
    /// <param name="list">A list.</param>
    /// <param name="index">Any index; a negative one is out of range.</param>
    /// <param name="item">The item (BORROWED), or <see cref="PyObjectRef.Null"/>.</param>
    /// <returns>True when <paramref name="index"/> is in range of a list; false with <see cref="PyMemory.LastError"/> set.</returns>
    public static bool TryGet(PyObjectRef list, long index, out PyObjectRef item)
    {
        item = new(NativeMethods.pa_list_get(list.Pointer, unchecked((nuint)index)));
        return !item.IsNull;
    }

    /// <summary>Replaces the item at <paramref name="index"/> (<c>pa_list_set</c>): the list takes its own reference to
    /// <paramref name="item"/>, then drops the old item, which may die now.</summary>
    /// <param name="list">A list.</param>
    /// <param name="index">0 .. count - 1.</param>
    /// <param name="item">The new item; the caller's reference is untouched.</param>
    /// <exception cref="PyAllocException">Not a list, a null item, or <paramref name="index"/> out of range.</exception>
    public static void Set(PyObjectRef list, long index, PyObjectRef item) =>
        Check(NativeMethods.pa_list_set(list.Pointer, unchecked((nuint)index), item.Pointer));

    /// <summary>The number of items (<c>pa_list_size</c>).</summary>
    /// <param name="list">A list.</param>
    /// <returns>The count.</returns>
    /// <exception cref="PyAllocException">Null or not a list.</exception>
    public static long Count(PyObjectRef list)
    {
        nuint n = NativeMethods.pa_list_size(list.Pointer);
        return n != NativeMethods.PA_SIZE_ERROR ? (long)n : throw new PyAllocException(PyMemory.LastError);
    }

    /// <summary>Removes every item (<c>pa_list_clear</c>), dropping the list's references, last item first; items may die now.</summary>
    /// <param name="list">A list.</param>
    /// <exception cref="PyAllocException">Null or not a list.</exception>
    public static void Clear(PyObjectRef list) => Check(NativeMethods.pa_list_clear(list.Pointer));

    private static void Check(int status)
    {
        if (status != 0)
            throw new PyAllocException(PyMemory.LastError);
    }
}
