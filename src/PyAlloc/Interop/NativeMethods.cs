using System;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace PyAlloc.Interop;

/// <summary>
/// The exports of <c>libpyalloc.so</c>, one declaration per function of <c>include/pyalloc.h</c>,
/// named exactly as in C and with blittable signatures, generated from the header by
/// <c>tools/PyAlloc.Bindgen</c> (NativeMethods.g.cs, with the header's structs, enums and constants).
/// </summary>
/// <remarks>
/// <para>
/// Types map as follows: <c>size_t</c> → <see cref="nuint"/>, <c>int</c> → <see cref="int"/>,
/// <c>void*</c> and <c>const void*</c> → <c>void*</c>, <c>const char*</c> → <c>byte*</c>
/// (NUL-terminated UTF-8), <c>FILE*</c> → <c>void*</c>, <c>pa_malloc_stats*</c> →
/// <see cref="PaMallocStats"/>*; for sections 4 to 8 (runtimes, objects, the list, the collector,
/// weak references) also <c>pa_runtime*</c> → <see cref="PaRuntime"/>*, <c>pa_type*</c> → <see cref="PaType"/>*,
/// <c>pa_object*</c> → <see cref="PaObject"/>*, <c>intptr_t</c> → <see cref="nint"/>, array parameters → pointers,
/// and the function pointer typedefs → <c>delegate* unmanaged[Cdecl]&lt;...&gt;</c>; for sections 9, 10 and 12 (tracemalloc,
/// call sites, the census) also <c>pa_snapshot*</c> → <see cref="PaSnapshot"/>*, <c>pa_stat_key</c> → <see cref="PaStatKey"/>,
/// <c>pa_frame</c>, <c>pa_statistic</c>, <c>pa_statistic_diff</c>, <c>pa_type_count</c> → <see cref="PaFrame"/>,
/// <see cref="PaStatistic"/>, <see cref="PaStatisticDiff"/>, <see cref="PaTypeCount"/>, <c>ptrdiff_t</c> → <see cref="nint"/>
/// and an output buffer <c>char*</c> → <c>byte*</c>. The header's <c>static inline</c>
/// functions (<see cref="pa_incref"/>, <see cref="pa_decref"/>, ...) are not exported: they are written here in C#,
/// as the header defines them. The C contract holds unchanged: pointer-returning calls
/// return null on failure, int-returning calls return -1, and the reason is read per thread
/// with <see cref="pa_last_error"/>. <see cref="PyMemory"/>, <see cref="PyRuntime"/>, <see cref="Tracemalloc"/> and
/// <see cref="TraceSnapshot"/> are the idiomatic layer over these.
/// </para>
/// <para>
/// The library is found by the resolver installed in the static constructor: the path in the
/// environment variable <c>PYALLOC_LIBRARY</c> when it is set, otherwise the runtime's default
/// probing for <c>libpyalloc.so</c> (the application directory, then <c>LD_LIBRARY_PATH</c>
/// and the system directories).
/// </para>
/// <para>
/// <see cref="SuppressGCTransitionAttribute"/> is on the calls that are short, never block and
/// never print: <see cref="pa_malloc"/>, <see cref="pa_free"/>, <see cref="pa_usable_size"/> and
/// the error and version accessors. It is not on <see cref="pa_calloc"/> (clears up to the whole
/// request), <see cref="pa_realloc"/> (copies), <see cref="pa_trim"/> (unmaps, releases pages and trims the C heap),
/// the statistics calls (walk every arena; printing writes to a file), nor on the mode calls
/// (<see cref="pa_get_allocator_mode"/> may read the environment and write a warning to stderr).
/// With the debug hooks on (<c>PYALLOC_MALLOC=debug</c>), <see cref="pa_free"/> may report a damaged or bad
/// block through the fatal error handler; a handler written in C# must not be entered from a call without the
/// transition, so free through <see cref="PyMemory.Free"/>, which keeps the transition then
/// (<see cref="pa_set_fatal_error_handler"/>).
/// </para>
/// </remarks>
public static unsafe partial class NativeMethods
{
    /// <summary>The library name given to <see cref="LibraryImportAttribute"/>: <c>libpyalloc.so</c> on Linux.</summary>
    public const string LibraryName = "pyalloc";

    /// <summary>The environment variable that, when set, names the library file to load.</summary>
    public const string LibraryPathVariable = "PYALLOC_LIBRARY";

    static NativeMethods()
    {
        NativeLibrary.SetDllImportResolver(typeof(NativeMethods).Assembly, Resolve);
    }

    /* PYALLOC_LIBRARY wins for "pyalloc"; everything else (and "pyalloc" without it) is
       left to default probing, which IntPtr.Zero asks for.  Internal for the tests. */
    internal static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != LibraryName)
            return IntPtr.Zero;
        string? path = Environment.GetEnvironmentVariable(LibraryPathVariable);
        return string.IsNullOrEmpty(path) ? IntPtr.Zero : NativeLibrary.Load(path);
    }
}
