using System.Runtime.CompilerServices;
using System;
using System.Runtime.InteropServices;
using System.Text;

using PyAlloc.Interop;

namespace PyAlloc;

/// <summary>
/// The allocator of libpyalloc (pymalloc: 16 KiB pools of 16..512-byte blocks in 1 MiB arenas,
/// larger requests from the system allocator) for .NET code.
/// </summary>
/// <remarks>
/// <para>Error convention, the same for the whole idiomatic layer:</para>
/// <list type="bullet">
/// <item><description>A failure throws <see cref="PyAllocException"/> with the library's message
/// (<c>pa_last_error()</c>): <see cref="Alloc"/>, <see cref="Calloc"/> and <see cref="Realloc"/> never return
/// null. A wrong argument the binding can see itself throws the matching <see cref="ArgumentException"/>.</description></item>
/// <item><description>Where a failure is an expected outcome, a <c>Try</c> form returns it instead:
/// <see cref="TryAlloc"/>, <see cref="TryCalloc"/> and <see cref="TryRealloc"/> return null, <see cref="TryFree"/>
/// and <see cref="TrySetMode"/> return false; the reason is then in <see cref="LastError"/>, which is per
/// thread and, like <c>errno</c>, is not cleared by a later successful call.</description></item>
/// <item><description><see cref="Free"/> is the one exception, for speed: it never throws, and refuses a pointer
/// this allocator did not hand out without freeing anything (<see cref="LastError"/> says why; use
/// <see cref="TryFree"/> to learn it). <c>NativeMemory.Free</c> does not check at all.</description></item>
/// </list>
/// <para>
/// Blocks are 16-byte aligned and may be freed by any thread. Every member is thread-safe.
/// Only pointers from this allocator may be passed to <see cref="Free"/>, <see cref="Realloc"/> and
/// <see cref="UsableSize"/>; anything else is refused with an error rather than crashing.
/// </para>
/// </remarks>
public static unsafe partial class PyMemory
{
    private static readonly string[] s_modeNames = ["pymalloc", "malloc", "debug", "malloc_debug"];

    // ------------------------------------------------------------------- errors, version

    /// <summary>The calling thread's last failure, as <c>pa_last_error()</c> reports it.</summary>
    /// <value>A readable message, or "" when this thread has had no failure since it started or since <see cref="ClearError"/>.</value>
    /// <remarks>A successful call does not clear it (as <c>errno</c>).</remarks>
    public static string LastError => FromUtf8(NativeMethods.pa_last_error());

    /// <summary>Forgets the calling thread's last failure: <see cref="LastError"/> becomes "".</summary>
    public static void ClearError() => NativeMethods.pa_clear_error();

    /// <summary>The library's version, "MAJOR.MINOR.PATCH".</summary>
    public static string Version => FromUtf8(NativeMethods.pa_version());

    // ------------------------------------------------------------------------ allocation

    /// <summary>A block of at least <paramref name="size"/> bytes, 16-byte aligned, uninitialised (<c>pa_malloc</c>).</summary>
    /// <param name="size">Bytes wanted. 0 gives a unique pointer (a 16-byte block) that <see cref="Free"/> accepts.</param>
    /// <param name="file">The caller's source file (filled in by the compiler): tracemalloc's site.</param>
    /// <param name="line">The caller's line (filled in by the compiler).</param>
    /// <returns>The block, never null.</returns>
    /// <exception cref="PyAllocException">Out of memory, or <paramref name="size"/> is absurd (over <c>PTRDIFF_MAX</c>);
    /// the message says which.</exception>
    public static void* Alloc(nuint size, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        void* p = MallocAt(size, file, line);
        return p != null ? p : ThrowLastError();
    }

    /// <summary>As <see cref="Alloc"/>, but returns null on failure instead of throwing.</summary>
    /// <param name="size">Bytes wanted; 0 gives a unique 16-byte block.</param>
    /// <param name="file">The caller's source file (filled in by the compiler): tracemalloc's site.</param>
    /// <param name="line">The caller's line (filled in by the compiler).</param>
    /// <returns>The block, or null with <see cref="LastError"/> set (out of memory, or an absurd size).</returns>
    public static void* TryAlloc(nuint size, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        MallocAt(size, file, line);

    /// <summary>A zeroed block of <paramref name="count"/> * <paramref name="size"/> bytes (<c>pa_calloc</c>).</summary>
    /// <param name="count">Number of elements.</param>
    /// <param name="size">Bytes per element.</param>
    /// <param name="file">The caller's source file (filled in by the compiler): tracemalloc's site.</param>
    /// <param name="line">The caller's line (filled in by the compiler).</param>
    /// <returns>The block, never null. A product of 0 gives a unique minimal block.</returns>
    /// <exception cref="PyAllocException">Out of memory, or the product overflows <see cref="nuint"/> (the message
    /// names both factors).</exception>
    public static void* Calloc(nuint count, nuint size, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        void* p = NativeMethods.pa_calloc_at(count, size, CallSites.File(file), line);
        return p != null ? p : ThrowLastError();
    }

    /// <summary>As <see cref="Calloc"/>, but returns null on failure instead of throwing.</summary>
    /// <param name="count">Number of elements.</param>
    /// <param name="size">Bytes per element.</param>
    /// <param name="file">The caller's source file (filled in by the compiler): tracemalloc's site.</param>
    /// <param name="line">The caller's line (filled in by the compiler).</param>
    /// <returns>The zeroed block, or null with <see cref="LastError"/> set.</returns>
    public static void* TryCalloc(nuint count, nuint size, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        NativeMethods.pa_calloc_at(count, size, CallSites.File(file), line);

    /// <summary>Resizes <paramref name="block"/> to <paramref name="size"/> bytes, keeping min(old, new) bytes (<c>pa_realloc</c>).</summary>
    /// <param name="block">A live block, or null (then this is <see cref="Alloc"/>).</param>
    /// <param name="size">The new size. 0 frees <paramref name="block"/> and returns a unique minimal block.</param>
    /// <param name="file">The caller's source file (filled in by the compiler): tracemalloc's site.</param>
    /// <param name="line">The caller's line (filled in by the compiler).</param>
    /// <returns>
    /// The block, never null. It stays in place while <paramref name="size"/> fits its size class and shrinking would
    /// not save a quarter of it, and moves otherwise.
    /// </returns>
    /// <exception cref="PyAllocException">Out of memory, an absurd size, or a pointer this allocator did not hand out;
    /// <paramref name="block"/> is then untouched and still owned by the caller.</exception>
    public static void* Realloc(void* block, nuint size, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        void* p = NativeMethods.pa_realloc_at(block, size, CallSites.File(file), line);
        return p != null ? p : ThrowLastError();
    }

    /// <summary>As <see cref="Realloc"/>, but returns null on failure instead of throwing.</summary>
    /// <param name="block">A live block, or null.</param>
    /// <param name="size">The new size; 0 frees the block and returns a unique minimal block.</param>
    /// <param name="file">The caller's source file (filled in by the compiler): tracemalloc's site.</param>
    /// <param name="line">The caller's line (filled in by the compiler).</param>
    /// <returns>The resized block, or null with <see cref="LastError"/> set; <paramref name="block"/> is then
    /// untouched and still owned by the caller.</returns>
    public static void* TryRealloc(void* block, nuint size, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        NativeMethods.pa_realloc_at(block, size, CallSites.File(file), line);

    /// <summary>Releases a block from <see cref="Alloc"/>, <see cref="Calloc"/> or <see cref="Realloc"/>, whichever thread allocated it (<c>pa_free</c>).</summary>
    /// <param name="block">The block. Null is a no-op.</param>
    /// <remarks><para>Never throws, so that the hot path stays one call: a pointer this allocator did not hand out
    /// (or an interior pointer) is refused, nothing is freed and <see cref="LastError"/> says why. Use
    /// <see cref="TryFree"/> to learn whether the pointer was refused.</para>
    /// <para>With the debug hooks on (<see cref="AllocatorMode.Debug"/>, <see cref="AllocatorMode.MallocDebug"/>) a
    /// damaged, freed or foreign block is also reported through the fatal error handler
    /// (<c>pa_set_fatal_error_handler</c>), and the call keeps its GC transition so that the
    /// handler may be written in C#.</para></remarks>
    public static void Free(void* block)
    {
        if (s_freeKind == FreeFast)
            NativeMethods.pa_free(block);
        else
            FreeDeciding(block);
    }

    /// <summary>As <see cref="Free"/>, but tells whether the pointer was refused.</summary>
    /// <param name="block">The block; null is a no-op (true).</param>
    /// <returns>True when the block was freed (or was null); false when it is not a live block of this allocator:
    /// nothing was freed and <see cref="LastError"/> says why.</returns>
    /// <remarks>Clears the calling thread's <see cref="LastError"/> first, to tell a refusal from an older failure.</remarks>
    public static bool TryFree(void* block)
    {
        NativeMethods.pa_clear_error();
        Free(block);
        byte* error = NativeMethods.pa_last_error();
        return error == null || *error == 0;
    }

    private const int FreeUnknown = 0, FreeFast = 1, FreeWithTransition = 2;
    private static int s_freeKind;

    /* Set once SetupDebugHooks succeeded: the debug hooks may be on over a hook while Mode is not a debug
       mode, so CheckBlock asks the library. */
    private static bool s_debugHooksOverHook;

    /* Set for good once any C# code may be reached from an allocation or a free: an allocator hook
       (SetAllocator, SetupDebugHooks) or an arena allocator (SetArenaAllocator). Alloc and Free then keep
       the GC transition. */
    private static bool s_keepTransition;

    /* The first free of a block learns the mode (fixed by then, as the block was allocated) and
       whether pa_free may call the fatal error handler: then every free keeps the GC transition. */
    private static void FreeDeciding(void* block)
    {
        if (s_freeKind == FreeUnknown && block != null)
        {
            AllocatorMode mode = Mode;
            s_freeKind = mode is AllocatorMode.Debug or AllocatorMode.MallocDebug ? FreeWithTransition : FreeFast;
        }
        if (s_freeKind == FreeFast)
            NativeMethods.pa_free(block);
        else
            TransitioningNativeMethods.pa_free(block);
    }

    /* pa_malloc_at keeps its GC transition (it may wait for the tracer's lock, which a snapshot
       holds while it symbolises), which costs more than the whole malloc.  Untraced, a site is
       of no use: then pa_malloc, which has none; the tracing check (C, a load) has none either.
       The traced call sits in a method of its own: a method that contains a P/Invoke with a
       transition sets up its frame on entry, taken or not (4-5 ns here).  A trace that starts
       between the two calls names the interop stub instead of the caller. */
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void* MallocAt(nuint size, string file, int line) =>
        !s_keepTransition && NativeMethods.pa_tracemalloc_is_tracing() == 0 ? NativeMethods.pa_malloc(size) : MallocTraced(size, file, line);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void* MallocTraced(nuint size, string file, int line) =>
        NativeMethods.pa_malloc_at(size, CallSites.File(file), line);

    /// <summary>Checks a block of the debug allocator now (<c>pa_debug_check_block</c>).</summary>
    /// <param name="block">A block of this allocator, or an object.</param>
    /// <returns>True when it is intact. False when it is damaged, freed or foreign: it has then been reported through
    /// the fatal error handler (by default the process aborts), and the handler returned.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="block"/> is null.</exception>
    /// <exception cref="InvalidOperationException">The debug hooks are off (<see cref="Mode"/> is neither
    /// <see cref="AllocatorMode.Debug"/> nor <see cref="AllocatorMode.MallocDebug"/>, and <see cref="SetupDebugHooks"/>
    /// did not put them over a hook).</exception>
    public static bool CheckBlock(void* block)
    {
        ArgumentNullException.ThrowIfNull(block);
        if (!s_debugHooksOverHook && Mode is not (AllocatorMode.Debug or AllocatorMode.MallocDebug))
            throw new InvalidOperationException($"the debug hooks are off (allocator mode {ModeName(Mode)})");
        NativeMethods.pa_clear_error();
        if (NativeMethods.pa_debug_check_block(block) == 0)
            return true;
        string error = LastError;
        return error.Contains("the debug hooks are not on", StringComparison.Ordinal)
            ? throw new InvalidOperationException(error) : false;
    }

    /// <summary>Usable bytes of the live block <paramref name="block"/> (<c>pa_usable_size</c>).</summary>
    /// <param name="block">A live block.</param>
    /// <returns>Its size class for a pool block (16..512), the system allocator's usable size for a large one;
    /// with the debug hooks on, the size requested (so 0 for a 0-byte block).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="block"/> is null.</exception>
    /// <exception cref="PyAllocException">A pointer this allocator did not hand out (or a freed block).</exception>
    public static nuint UsableSize(void* block)
    {
        ArgumentNullException.ThrowIfNull(block);
        nuint n = NativeMethods.pa_usable_size(block);
        if (n != 0)
            return n;
        NativeMethods.pa_clear_error(); // 0 is a size in the debug modes: ask again with a clean error
        n = NativeMethods.pa_usable_size(block);
        byte* error = NativeMethods.pa_last_error();
        return error == null || *error == 0 ? n : throw new PyAllocException(FromUtf8(error));
    }

    // ---------------------------------------------------------------------------- trim

    /// <summary>Gives free memory back to the OS now and trims the system allocator (<c>pa_trim</c>).</summary>
    /// <returns>
    /// Bytes released: 1 MiB per wholly free arena unmapped, plus the resident 4 KiB pages released
    /// inside the arenas kept (0 when there was nothing left to release).
    /// </returns>
    /// <remarks>
    /// PyAlloc keeps wholly free arenas mapped for reuse for <c>PYALLOC_ARENA_DECAY_MS</c> (one
    /// second unless set) and CPython keeps one: this lets them go at once. In the arenas
    /// kept, the pages of empty pools and the pages of used pools that no live block overlaps go
    /// back to the OS (a pool's first page, with its header, stays); live blocks are untouched,
    /// and the free blocks on released pages stay free blocks, used again when their pool has no
    /// other free block.
    /// </remarks>
    public static nuint Trim() => NativeMethods.pa_trim();

    // ---------------------------------------------------------------------- statistics

    /// <summary>A snapshot of the allocator's figures (<c>pa_get_malloc_stats</c>).</summary>
    /// <returns>The figures; the pool figures are a consistent picture of one moment.</returns>
    /// <exception cref="PyAllocException">The library refused the call (it does so only for a null buffer, which cannot happen here).</exception>
    public static MallocStats GetStats()
    {
        PaMallocStats raw;
        if (NativeMethods.pa_get_malloc_stats(&raw) != 0)
            throw new PyAllocException(LastError);
        return new MallocStats(raw);
    }

    /// <summary><c>sys.getallocatedblocks()</c> (<c>pa_get_allocated_blocks</c>): the blocks handed out and not freed, pool
    /// and large, as <see cref="GetStats"/> counts them (other threads' cached blocks count as free).</summary>
    /// <exception cref="PyAllocException">The figures could not be taken.</exception>
    public static long AllocatedBlocks
    {
        get
        {
            nuint n = NativeMethods.pa_get_allocated_blocks();
            return n != NativeMethods.PA_SIZE_ERROR ? (long)n : throw new PyAllocException(LastError);
        }
    }

    /// <summary>Prints the figures as a table to a C stream (<c>pa_print_malloc_stats</c>).</summary>
    /// <param name="file">A C <c>FILE*</c> open for writing.</param>
    /// <exception cref="ArgumentNullException"><paramref name="file"/> is null.</exception>
    /// <exception cref="PyAllocException">The write failed; the message has errno's text.</exception>
    public static void PrintStats(void* file)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (NativeMethods.pa_print_malloc_stats(file) != 0)
            throw new PyAllocException(LastError);
    }

    /// <summary>The table <see cref="PrintStats"/> writes, as a string.</summary>
    /// <returns>The table in the spirit of CPython's <c>sys._debugmallocstats()</c>.</returns>
    /// <remarks>Captures the library's own output through an in-memory C stream (<c>open_memstream</c>).</remarks>
    /// <exception cref="PyAllocException">The stream could not be opened or the library failed to print.</exception>
    public static string FormatStats() => CaptureStream(file => NativeMethods.pa_print_malloc_stats((void*)file));

    /* What print writes to an in-memory C stream (open_memstream), as a string; print returns 0, or -1 with
       the library's error, which is thrown. */
    internal static string CaptureStream(Func<nint, int> print)
    {
        byte* buffer = null;
        nuint length = 0;
        void* stream = Libc.open_memstream(&buffer, &length);
        if (stream == null)
            throw new PyAllocException($"open_memstream failed (errno {Marshal.GetLastPInvokeError()})");
        bool printed = print((nint)stream) == 0;
        string error = printed ? string.Empty : LastError;
        Libc.fclose(stream); // sets buffer and length for the last time
        try
        {
            if (!printed)
                throw new PyAllocException(error);
            return buffer == null ? string.Empty : Encoding.UTF8.GetString(buffer, checked((int)length));
        }
        finally
        {
            Libc.free(buffer);
        }
    }

    // ---------------------------------------------------------------------------- mode

    /// <summary>The allocator mode in force (<c>pa_get_allocator_mode</c>).</summary>
    /// <exception cref="PyAllocException">The library reported a mode this binding does not know.</exception>
    public static AllocatorMode Mode
    {
        get
        {
            string name = FromUtf8(NativeMethods.pa_get_allocator_mode());
            int index = Array.IndexOf(s_modeNames, name);
            return index >= 0 ? (AllocatorMode)index
                : throw new PyAllocException($"pa_get_allocator_mode returned an unknown mode \"{name}\"");
        }
    }

    /// <summary>The C name of a mode ("pymalloc", "malloc", "debug", "malloc_debug").</summary>
    /// <param name="mode">A mode.</param>
    /// <returns>The name <c>PYALLOC_MALLOC</c> and <c>pa_set_allocator_mode</c> use.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="mode"/> is not a defined value.</exception>
    public static string ModeName(AllocatorMode mode) =>
        (uint)mode < (uint)s_modeNames.Length ? s_modeNames[(int)mode]
        : throw new ArgumentOutOfRangeException(nameof(mode), mode, "not an allocator mode");

    /// <summary>Chooses the allocator mode (<c>pa_set_allocator_mode</c>); only possible before the first allocation.</summary>
    /// <param name="mode">The mode wanted.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="mode"/> is not a defined value.</exception>
    /// <exception cref="PyAllocException">Blocks already exist in another mode, or the library does not offer
    /// <paramref name="mode"/>; the message says which.</exception>
    public static void SetMode(AllocatorMode mode)
    {
        if (!TrySetMode(mode))
            throw new PyAllocException(LastError);
    }

    /// <summary>As <see cref="SetMode"/>, but returns false instead of throwing.</summary>
    /// <param name="mode">The mode wanted.</param>
    /// <returns>True when the mode is now (or will be at the first allocation) <paramref name="mode"/>; false when
    /// blocks already exist in another mode or the library does not offer it (<see cref="LastError"/> says which).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="mode"/> is not a defined value.</exception>
    public static bool TrySetMode(AllocatorMode mode)
    {
        string name = ModeName(mode);
        Span<byte> utf8 = stackalloc byte[32];
        int n = Encoding.UTF8.GetBytes(name, utf8);
        utf8[n] = 0;
        fixed (byte* p = utf8)
            return NativeMethods.pa_set_allocator_mode(p) == 0;
    }

    // ------------------------------------------------------------------ allocator hooks

    /// <summary>The allocator in force for <paramref name="domain"/> (<c>pa_mem_get_allocator</c>, CPython's
    /// <c>PyMem_GetAllocator</c>): the default one while no hook is installed, whose functions a hook may call.</summary>
    /// <param name="domain"><see cref="PaMemDomain.Mem"/>, the one domain with an allocator of its own.</param>
    /// <returns>The allocator: a context and four C function pointers.</returns>
    /// <exception cref="PyAllocException"><paramref name="domain"/> is not <see cref="PaMemDomain.Mem"/>; the message
    /// says why PyAlloc has no allocator for it.</exception>
    public static PaMemAllocator GetAllocator(PaMemDomain domain = PaMemDomain.Mem)
    {
        PaMemAllocator allocator;
        if (NativeMethods.pa_mem_get_allocator((int)domain, &allocator) != 0)
            throw new PyAllocException(LastError);
        return allocator;
    }

    /// <summary>Installs a copy of <paramref name="allocator"/> for <paramref name="domain"/> (<c>pa_mem_set_allocator</c>,
    /// CPython's <c>PyMem_SetAllocator</c>): every later <see cref="Alloc"/>, <see cref="Calloc"/>, <see cref="Realloc"/>
    /// and <see cref="Free"/>, from .NET or C, calls its functions. The default allocator again uninstalls the hook.</summary>
    /// <param name="domain"><see cref="PaMemDomain.Mem"/>.</param>
    /// <param name="allocator">The allocator; every function must be set.</param>
    /// <exception cref="PyAllocException">Another domain, or a null function; nothing changed.</exception>
    /// <remarks>Blocks allocated before go to the new allocator's free (CPython's rule: forward to the allocator
    /// replaced, as <see cref="PyAllocatorHook"/> does). From then on this class keeps the GC transition on every call,
    /// so that functions written in C# may be reached.</remarks>
    public static void SetAllocator(PaMemDomain domain, in PaMemAllocator allocator)
    {
        s_keepTransition = true;
        s_freeKind = FreeWithTransition;
        fixed (PaMemAllocator* a = &allocator)
        {
            if (NativeMethods.pa_mem_set_allocator((int)domain, a) != 0)
                throw new PyAllocException(LastError);
        }
    }

    /// <summary>CPython's debug hooks over the allocator in force (<c>pa_mem_setup_debug_hooks</c>,
    /// <c>PyMem_SetupDebugHooks</c>): over an installed hook (the hooks then ask it for each block), or, with none, the
    /// debug variant of the mode (<see cref="AllocatorMode.Debug"/> or <see cref="AllocatorMode.MallocDebug"/>), which is
    /// only possible before the first allocation.</summary>
    /// <exception cref="PyAllocException">No hook is installed and blocks exist in a mode without the hooks.</exception>
    public static void SetupDebugHooks()
    {
        s_keepTransition = true;
        s_freeKind = FreeWithTransition;
        if (NativeMethods.pa_mem_setup_debug_hooks() != 0)
            throw new PyAllocException(LastError);
        s_debugHooksOverHook = true;
    }

    // -------------------------------------------------------------- fatal error handler

    private static Action<string>? s_fatalHandler;

    /// <summary>
    /// Replaces the handler of fatal errors and debug-hook reports (<c>pa_set_fatal_error_handler</c>) with a .NET
    /// delegate; null restores the library's default (print the report on stderr and abort).
    /// </summary>
    /// <param name="handler">Called with the whole report (its last line "Fatal PyAlloc error: function: reason") on the
    /// thread that found the error. When it returns, the call that found the error returns as if nothing had been
    /// freed (or null), with <see cref="LastError"/> set; to end the process, call <see cref="Environment.FailFast(string)"/>.
    /// An exception it throws cannot cross the library: it is printed to stderr ("Exception ignored in the fatal error
    /// handler") and the call goes on as if the handler had returned.</param>
    /// <remarks>The handler is reached through a call with its GC transition: <see cref="Free"/>, <see cref="TryFree"/>,
    /// <see cref="Realloc"/> and <see cref="CheckBlock"/> keep theirs in the debug modes. The raw
    /// <c>NativeMethods.pa_free</c> is declared <c>[SuppressGCTransition]</c>: a managed handler reached from it stops
    /// the runtime ("Invalid Program"), so with a managed handler free through <see cref="PyMemory"/>. Process-wide;
    /// the delegate is kept alive until it is replaced.</remarks>
    public static void SetFatalErrorHandler(Action<string>? handler)
    {
        s_fatalHandler = handler;
        NativeMethods.pa_set_fatal_error_handler(handler == null ? null : &FatalTrampoline, null);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void FatalTrampoline(byte* message, void* user)
    {
        try
        {
            s_fatalHandler?.Invoke(FromUtf8(message));
        }
        catch (Exception e)
        {
            try
            {
                Console.Error.WriteLine($"Exception ignored in the fatal error handler: {e}");
            }
            catch
            {
                // nothing left to report with
            }
        }
    }

    // ------------------------------------------------------------------------- helpers

    /* Out of line: the throw stays off the callers' fast paths. */
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void* ThrowLastError() => throw new PyAllocException(LastError);

    private static string FromUtf8(byte* s) => s == null ? string.Empty : Marshal.PtrToStringUTF8((nint)s) ?? string.Empty;
}
