using System.Runtime.CompilerServices;
namespace PyAlloc;

/// <summary>
/// The built-in list (<c>pa_list_*</c>): a GC object holding references, traversed and cleared by the library.
/// </summary>
/// <remarks>
/// Error convention of <see cref="PyMemory"/>: the C-like members return -1 (or <see cref="PyObjectRef.Null"/>) and
/// set <see cref="PyMemory.LastError"/> for a null list or item, a non-list, or an index out of range; the
/// <c>...Checked</c> variants and <see cref="New"/> throw <see cref="PyAllocException"/>. A negative index is passed
/// on as the huge <c>size_t</c> it converts to, which the library reports as out of range.
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
    public static PyOwned New(PyRuntime runtime, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        PyOwned.FromResult(NativeMethods.pa_list_new_at(runtime.Handle, CallSites.File(file), line));

    /// <summary>True when <paramref name="o"/> is a list (<c>pa_list_check</c>); false for null.</summary>
    /// <param name="o">Any object.</param>
    /// <returns>Whether it is a list.</returns>
    public static bool Check(PyObjectRef o) => NativeMethods.pa_list_check(o.Pointer) != 0;

    /// <summary>Appends <paramref name="item"/> (<c>pa_list_append</c>); the list takes its own reference.</summary>
    /// <param name="list">A list.</param>
    /// <param name="item">The item; the caller's reference is untouched.</param>
    /// <returns>0, or -1 with <see cref="PyMemory.LastError"/> set.</returns>
    public static int Append(PyObjectRef list, PyObjectRef item) => NativeMethods.pa_list_append(list.Pointer, item.Pointer);

    /// <summary>As <see cref="Append"/>, but throws instead of returning -1.</summary>
    /// <param name="list">A list.</param>
    /// <param name="item">The item; the list takes its own reference.</param>
    /// <exception cref="PyAllocException">The library refused; the message is its own.</exception>
    public static void AppendChecked(PyObjectRef list, PyObjectRef item) => Check(Append(list, item));

    /// <summary>The item at <paramref name="index"/> (<c>pa_list_get</c>).</summary>
    /// <param name="list">A list.</param>
    /// <param name="index">0 .. count - 1.</param>
    /// <returns>BORROWED (valid while the list holds it), or <see cref="PyObjectRef.Null"/> with <see cref="PyMemory.LastError"/> set.</returns>
    public static PyObjectRef Get(PyObjectRef list, long index) => new(NativeMethods.pa_list_get(list.Pointer, unchecked((nuint)index)));

    /// <summary>As <see cref="Get"/>, but throws instead of returning null.</summary>
    /// <param name="list">A list.</param>
    /// <param name="index">0 .. count - 1.</param>
    /// <returns>BORROWED.</returns>
    /// <exception cref="PyAllocException">The library refused; the message is its own.</exception>
    public static PyObjectRef GetChecked(PyObjectRef list, long index)
    {
        PyObjectRef item = Get(list, index);
        return item.IsNull ? throw new PyAllocException(PyMemory.LastError) : item;
    }

    /// <summary>Replaces the item at <paramref name="index"/> (<c>pa_list_set</c>): the list takes its own reference to
    /// <paramref name="item"/>, then drops the old item, which may die now.</summary>
    /// <param name="list">A list.</param>
    /// <param name="index">0 .. count - 1.</param>
    /// <param name="item">The new item; the caller's reference is untouched.</param>
    /// <returns>0, or -1 with <see cref="PyMemory.LastError"/> set.</returns>
    public static int Set(PyObjectRef list, long index, PyObjectRef item) =>
        NativeMethods.pa_list_set(list.Pointer, unchecked((nuint)index), item.Pointer);

    /// <summary>As <see cref="Set"/>, but throws instead of returning -1.</summary>
    /// <param name="list">A list.</param>
    /// <param name="index">0 .. count - 1.</param>
    /// <param name="item">The new item.</param>
    /// <exception cref="PyAllocException">The library refused; the message is its own.</exception>
    public static void SetChecked(PyObjectRef list, long index, PyObjectRef item) => Check(Set(list, index, item));

    /// <summary>The number of items (<c>pa_list_size</c>).</summary>
    /// <param name="list">A list.</param>
    /// <returns>The count, or -1 with <see cref="PyMemory.LastError"/> set (null or not a list).</returns>
    public static long Count(PyObjectRef list)
    {
        nuint n = NativeMethods.pa_list_size(list.Pointer);
        return n == NativeMethods.PA_SIZE_ERROR ? -1 : (long)n;
    }

    /// <summary>Removes every item (<c>pa_list_clear</c>), dropping the list's references, last item first; items may die now.</summary>
    /// <param name="list">A list.</param>
    /// <returns>0, or -1 with <see cref="PyMemory.LastError"/> set.</returns>
    public static int Clear(PyObjectRef list) => NativeMethods.pa_list_clear(list.Pointer);

    /// <summary>As <see cref="Clear"/>, but throws instead of returning -1.</summary>
    /// <param name="list">A list.</param>
    /// <exception cref="PyAllocException">The library refused; the message is its own.</exception>
    public static void ClearChecked(PyObjectRef list) => Check(Clear(list));

    private static void Check(int status)
    {
        if (status != 0)
            throw new PyAllocException(PyMemory.LastError);
    }
}
