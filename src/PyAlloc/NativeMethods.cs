using System;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace PyAlloc.Interop;

/// <summary>
/// The exports of <c>libpyalloc.so</c>, one declaration per function of <c>include/pyalloc.h</c>,
/// named exactly as in C and with blittable signatures.
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

    /// <summary><c>PA_VERSION_MAJOR</c>.</summary>
    public const int PA_VERSION_MAJOR = 0;
    /// <summary><c>PA_VERSION_MINOR</c>.</summary>
    public const int PA_VERSION_MINOR = 1;
    /// <summary><c>PA_VERSION_PATCH</c>.</summary>
    public const int PA_VERSION_PATCH = 0;
    /// <summary><c>PA_SMALL_REQUEST_THRESHOLD</c>: the largest request served from pools.</summary>
    public const int PA_SMALL_REQUEST_THRESHOLD = 512;
    /// <summary><c>PA_ALIGNMENT</c>: every block's alignment and the step between size classes.</summary>
    public const int PA_ALIGNMENT = 16;
    /// <summary><c>PA_NUM_SIZE_CLASSES</c>: size classes of 16, 32, ..., 512 bytes.</summary>
    public const int PA_NUM_SIZE_CLASSES = 32;
    /// <summary><c>PA_POOL_SIZE</c>: 16 KiB.</summary>
    public const int PA_POOL_SIZE = 16 * 1024;
    /// <summary><c>PA_ARENA_SIZE</c>: 1 MiB.</summary>
    public const int PA_ARENA_SIZE = 1024 * 1024;

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

    // --------------------------------------------------------- 1. conventions and errors

    /// <summary><c>const char *pa_last_error(void)</c>: the calling thread's last failure.</summary>
    /// <returns>A NUL-terminated UTF-8 message owned by the library, never null; "" when there is none.
    /// Valid until this thread's next failing call.</returns>
    [LibraryImport(LibraryName), SuppressGCTransition]
    public static partial byte* pa_last_error();

    /// <summary><c>void pa_clear_error(void)</c>: forgets the calling thread's last failure.</summary>
    [LibraryImport(LibraryName), SuppressGCTransition]
    public static partial void pa_clear_error();

    /// <summary><c>const char *pa_version(void)</c>: "MAJOR.MINOR.PATCH", a static string.</summary>
    /// <returns>A NUL-terminated UTF-8 string owned by the library.</returns>
    [LibraryImport(LibraryName), SuppressGCTransition]
    public static partial byte* pa_version();

    // ------------------------------------------------------------------ 2. the allocator

    /// <summary><c>void *pa_malloc(size_t n)</c>: a 16-byte aligned, uninitialised block of at least <paramref name="n"/> bytes.</summary>
    /// <param name="n">Bytes wanted; 0 gives a unique 16-byte block.</param>
    /// <returns>The block, or null (with <see cref="pa_last_error"/> set) when memory is exhausted or <paramref name="n"/> is absurd.</returns>
    [LibraryImport(LibraryName), SuppressGCTransition]
    public static partial void* pa_malloc(nuint n);

    /// <summary><c>void *pa_calloc(size_t nelem, size_t elsize)</c>: a zeroed block of <paramref name="nelem"/> * <paramref name="elsize"/> bytes.</summary>
    /// <param name="nelem">Number of elements.</param>
    /// <param name="elsize">Bytes per element.</param>
    /// <returns>The block, or null (error set) when out of memory or when the product overflows <c>size_t</c>.</returns>
    [LibraryImport(LibraryName)]
    public static partial void* pa_calloc(nuint nelem, nuint elsize);

    /// <summary><c>void *pa_realloc(void *p, size_t n)</c>: resizes <paramref name="p"/>, keeping min(old, n) bytes.</summary>
    /// <param name="p">A live block, or null (then as <see cref="pa_malloc"/>).</param>
    /// <param name="n">The new size; 0 frees p and returns a unique minimal block.</param>
    /// <returns>The (possibly moved) block, or null on failure, when <paramref name="p"/> is untouched and still owned by the caller.</returns>
    [LibraryImport(LibraryName)]
    public static partial void* pa_realloc(void* p, nuint n);

    /// <summary><c>void pa_free(void *p)</c>: releases a block from any thread; null is a no-op.</summary>
    /// <param name="p">A live block. A pointer the library did not hand out is refused with the error set.</param>
    [LibraryImport(LibraryName), SuppressGCTransition]
    public static partial void pa_free(void* p);

    /// <summary><c>size_t pa_usable_size(const void *p)</c>: usable bytes of the live block <paramref name="p"/>.</summary>
    /// <param name="p">A live block.</param>
    /// <returns>Its class size (pool block) or the system allocator's usable size (large block);
    /// 0 with the error set for null or a pointer the library did not hand out.</returns>
    [LibraryImport(LibraryName), SuppressGCTransition]
    public static partial nuint pa_usable_size(void* p);

    /// <summary>
    /// <c>size_t pa_trim(void)</c>: returns every wholly free arena to the OS, releases the pages of the
    /// arenas kept that hold no live block, and trims the system allocator (see <see cref="PyMemory.Trim"/>).
    /// </summary>
    /// <returns>Bytes released: 1 MiB per arena unmapped plus the resident pages released.</returns>
    [LibraryImport(LibraryName)]
    public static partial nuint pa_trim();

    /// <summary><c>size_t pa_get_allocated_blocks(void)</c>: <c>sys.getallocatedblocks()</c>, the live blocks of
    /// <c>pa_malloc</c> &amp; co., pool and large.</summary>
    /// <returns>The count, or <see cref="PA_SIZE_ERROR"/>.</returns>
    [LibraryImport(LibraryName)]
    public static partial nuint pa_get_allocated_blocks();

    /// <summary><c>int pa_get_malloc_stats(pa_malloc_stats *out)</c>: fills <paramref name="out"/> with the current figures.</summary>
    /// <param name="out">Where to write; null is an error.</param>
    /// <returns>0, or -1 (error set) when <paramref name="out"/> is null.</returns>
    [LibraryImport(LibraryName)]
    public static partial int pa_get_malloc_stats(PaMallocStats* @out);

    /// <summary><c>int pa_print_malloc_stats(FILE *out)</c>: writes the figures as a table to a C stream.</summary>
    /// <param name="out">A C <c>FILE*</c> open for writing.</param>
    /// <returns>0, or -1 (error set) when <paramref name="out"/> is null or the write failed.</returns>
    [LibraryImport(LibraryName)]
    public static partial int pa_print_malloc_stats(void* @out);

    // -------------------------------------------------------------- 3. allocator mode

    /// <summary><c>int pa_set_allocator_mode(const char *mode)</c>: chooses the mode before the first allocation.</summary>
    /// <param name="mode">NUL-terminated "pymalloc", "malloc", "debug" or "malloc_debug".</param>
    /// <returns>0, or -1 (error set) when the mode is null, unknown, or blocks exist in another mode.</returns>
    [LibraryImport(LibraryName)]
    public static partial int pa_set_allocator_mode(byte* mode);

    /// <summary><c>const char *pa_get_allocator_mode(void)</c>: the mode in force.</summary>
    /// <returns>A static NUL-terminated string: "pymalloc", "malloc", "debug" or "malloc_debug".</returns>
    [LibraryImport(LibraryName)]
    public static partial byte* pa_get_allocator_mode();

    /// <summary><c>int pa_mem_get_allocator(int domain, pa_mem_allocator *out)</c>: <c>PyMem_GetAllocator</c>,
    /// the allocator in force (the default one while no hook is installed).</summary>
    /// <param name="domain"><see cref="PA_MEM_DOMAIN_MEM"/>; the others are refused.</param>
    /// <param name="out">Where to write; null is an error.</param>
    /// <returns>0, or -1 (error set).</returns>
    [LibraryImport(LibraryName)]
    public static partial int pa_mem_get_allocator(int domain, PaMemAllocator* @out);

    /// <summary><c>int pa_mem_set_allocator(int domain, const pa_mem_allocator *allocator)</c>: <c>PyMem_SetAllocator</c>,
    /// installs a copy; the default allocator again uninstalls the hook.</summary>
    /// <param name="domain"><see cref="PA_MEM_DOMAIN_MEM"/>; the others are refused.</param>
    /// <param name="allocator">The allocator; null, or a null function in it, is an error.</param>
    /// <returns>0, or -1 (error set).</returns>
    /// <remarks>Functions written in C# make <see cref="pa_malloc"/> and <see cref="pa_free"/> (bound without the GC
    /// transition) unsafe to call: call them through <see cref="PyMemory"/>, which keeps the transition once
    /// <see cref="PyMemory.SetAllocator"/> installed an allocator.</remarks>
    [LibraryImport(LibraryName)]
    public static partial int pa_mem_set_allocator(int domain, PaMemAllocator* allocator);

    /// <summary><c>int pa_mem_setup_debug_hooks(void)</c>: <c>PyMem_SetupDebugHooks</c>, the debug hooks over the
    /// allocator in force (a hook, or the mode before the first allocation).</summary>
    /// <returns>0, or -1 (error set).</returns>
    [LibraryImport(LibraryName)]
    public static partial int pa_mem_setup_debug_hooks();

    /// <summary><c>PA_MEM_DOMAIN_RAW</c>.</summary>
    public const PaMemDomain PA_MEM_DOMAIN_RAW = PaMemDomain.Raw;
    /// <summary><c>PA_MEM_DOMAIN_MEM</c>.</summary>
    public const PaMemDomain PA_MEM_DOMAIN_MEM = PaMemDomain.Mem;
    /// <summary><c>PA_MEM_DOMAIN_OBJ</c>.</summary>
    public const PaMemDomain PA_MEM_DOMAIN_OBJ = PaMemDomain.Obj;
}
