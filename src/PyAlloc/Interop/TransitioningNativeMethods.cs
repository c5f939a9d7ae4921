using System.Runtime.InteropServices;

namespace PyAlloc.Interop;

/* pa_free is generated with [SuppressGCTransition] (NativeMethods.g.cs).  With the debug hooks on
   (PYALLOC_MALLOC=debug or malloc_debug) it may report a damaged block through the fatal error
   handler, and a handler written in C# ([UnmanagedCallersOnly]) must never be entered from a call
   without the transition (the runtime fails fast).  PyMemory.Free and TryFree therefore free
   through this second import of pa_free, with the transition, when the debug hooks are on. */
/// <summary>pa_free with the GC transition, for <see cref="PyMemory"/> when the debug hooks are on.</summary>
internal static unsafe partial class TransitioningNativeMethods
{
    [LibraryImport(NativeMethods.LibraryName, EntryPoint = "pa_free")]
    internal static partial void pa_free(void* p);
}
