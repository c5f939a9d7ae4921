using System.Runtime.InteropServices;

namespace PyAlloc.Interop;

/* Section 11 of include/pyalloc.h: the debug hooks (PYALLOC_MALLOC=debug or malloc_debug).
   pa_fatal_error_handler -> delegate* unmanaged[Cdecl]<byte*, void*, void>.

   GC transitions: both calls keep theirs, since the handler may be managed code
   ([UnmanagedCallersOnly]).  With the hooks on, pa_free and pa_realloc may call the handler
   too (a report): pa_realloc keeps its transition, but pa_free is declared with
   [SuppressGCTransition], and a managed handler must never be entered from such a call (the
   runtime fails fast).  PyMemory.Free and TryFree therefore free through a call with the
   transition when the debug hooks are on: with a handler written in C#, free through them, not
   through NativeMethods.pa_free. */
public static unsafe partial class NativeMethods
{
    /// <summary><c>void pa_set_fatal_error_handler(pa_fatal_error_handler handler, void *user)</c>: replaces the
    /// handler of fatal errors and debug-hook reports; null restores the default (print on stderr, abort).</summary>
    /// <param name="handler"><c>handler(message, user)</c>: message is the whole report, NUL-terminated UTF-8,
    /// valid during the call. A handler that returns lets the detecting call return without freeing anything
    /// (<c>pa_realloc</c> returns null, <c>pa_debug_check_block</c> -1), with <see cref="pa_last_error"/> set.</param>
    /// <param name="user">Passed back to the handler.</param>
    [LibraryImport(LibraryName)]
    public static partial void pa_set_fatal_error_handler(delegate* unmanaged[Cdecl]<byte*, void*, void> handler, void* user);

    /// <summary><c>int pa_debug_check_block(const void *p)</c>: checks one block of the debug allocator now.</summary>
    /// <param name="p">A block of <c>pa_malloc</c> &amp; co., or an object.</param>
    /// <returns>0 when intact; -1 after a report through the handler when damaged, freed or foreign; -1 with
    /// the error set when <paramref name="p"/> is null or the debug hooks are not on.</returns>
    [LibraryImport(LibraryName)]
    public static partial int pa_debug_check_block(void* p);
}

/// <summary>pa_free with the GC transition, for <see cref="PyMemory"/> when the debug hooks are on.</summary>
internal static unsafe partial class TransitioningNativeMethods
{
    [LibraryImport(NativeMethods.LibraryName, EntryPoint = "pa_free")]
    internal static partial void pa_free(void* p);
}
