using System.Runtime.InteropServices;

namespace PyAlloc;

/// <summary>
/// <c>pa_mem_arena_allocator</c> (CPython's <c>PyObjectArenaAllocator</c>): where PyAlloc's 1 MiB arenas come
/// from, field for field.
/// </summary>
/// <remarks>
/// <see cref="Alloc"/> may return any address: when it is not 1 MiB-aligned, the memory is freed at once and
/// 2 MiB are asked for, of which the aligned 1 MiB are used; <see cref="Free"/> always gets back the pointer and
/// size <see cref="Alloc"/> returned and was asked for. The memory need not be zeroed and is never released with
/// madvise (pa_trim gives an arena back only when it is wholly free). Both functions run with a heap's lock held:
/// they must not call PyAlloc, and must not throw. See <c>include/pyalloc.h</c>, section 2.
/// </remarks>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct PaMemArenaAllocator
{
    /// <summary><c>ctx</c>: passed to both functions as is.</summary>
    public void* Ctx;
    /// <summary><c>alloc(ctx, size)</c>: size bytes, or null when out of memory.</summary>
    public delegate* unmanaged[Cdecl]<void*, nuint, void*> Alloc;
    /// <summary><c>free(ctx, ptr, size)</c>: gives back what <see cref="Alloc"/> returned.</summary>
    public delegate* unmanaged[Cdecl]<void*, void*, nuint, void> Free;
}
