using System.Runtime.InteropServices;

namespace PyAlloc.Interop;

/* Section 2 of include/pyalloc.h: the arena allocator (CPython's PyObject_GetArenaAllocator and
   PyObject_SetArenaAllocator).  pa_mem_arena_allocator -> PaMemArenaAllocator; its function
   pointer typedefs -> delegate* unmanaged[Cdecl]<...>.

   GC transitions: both calls keep theirs.  The installed functions are called from inside the
   calls that take or give back an arena: pa_malloc and pa_free among them, which are declared
   [SuppressGCTransition] here.  A function written in C# ([UnmanagedCallersOnly]) must never be
   entered from such a call (the runtime fails fast): with one installed, allocate and free through
   PyMemory, which keeps the transition while PyMemory.SetArenaAllocator has installed anything
   but the default, or through calls declared without the attribute (pa_calloc, pa_realloc,
   pa_malloc_at, ...). */
public static unsafe partial class NativeMethods
{
    /// <summary><c>int pa_object_get_arena_allocator(pa_mem_arena_allocator *out)</c>: the arena allocator in
    /// force (<c>PyObject_GetArenaAllocator</c>); the first call's answer is the default (the OS).</summary>
    /// <returns>0, or -1 when <paramref name="output"/> is null.</returns>
    [LibraryImport(LibraryName)]
    public static partial int pa_object_get_arena_allocator(PaMemArenaAllocator* output);

    /// <summary><c>int pa_object_set_arena_allocator(const pa_mem_arena_allocator *allocator)</c>: installs a copy
    /// for the arenas taken from now on (<c>PyObject_SetArenaAllocator</c>); arenas taken before go back to the
    /// allocator that made them. The default's functions restore the default.</summary>
    /// <returns>0, or -1 when <paramref name="allocator"/>, its <c>alloc</c> or its <c>free</c> is null (nothing
    /// changes).</returns>
    [LibraryImport(LibraryName)]
    public static partial int pa_object_set_arena_allocator(PaMemArenaAllocator* allocator);
}
