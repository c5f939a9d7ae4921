using System.Runtime.InteropServices;

using PyAlloc.Interop;

namespace PyAlloc;

/// <summary><c>pa_mem_domain</c>: CPython's allocator domains (<c>PYMEM_DOMAIN_*</c>); only
/// <see cref="Mem"/> has an allocator of its own in PyAlloc (pyalloc.h, section 3, says why).</summary>
public enum PaMemDomain
{
    /// <summary><c>PA_MEM_DOMAIN_RAW</c>: refused (PyAlloc has no separate raw family; hook <see cref="Mem"/>).</summary>
    Raw = 0,
    /// <summary><c>PA_MEM_DOMAIN_MEM</c>: <c>pa_malloc</c> &amp; co., <see cref="PyMemory.Alloc"/> &amp; co.</summary>
    Mem = 1,
    /// <summary><c>PA_MEM_DOMAIN_OBJ</c>: refused (objects live in their runtime's heap).</summary>
    Obj = 2,
}

/// <summary>
/// <c>pa_mem_allocator</c> (CPython's <c>PyMemAllocatorEx</c>): a context and four C functions, each
/// given the context first. Read with <see cref="NativeMethods.pa_mem_get_allocator"/> (or
/// <see cref="PyMemory.GetAllocator"/>), installed with <see cref="NativeMethods.pa_mem_set_allocator"/>.
/// </summary>
/// <remarks>A function written in C# must be an <c>[UnmanagedCallersOnly]</c> method, and every
/// allocation and free must then keep its GC transition: <see cref="PyMemory"/> does once an allocator
/// was installed through it (<see cref="PyAllocatorHook"/> is the managed way to write one).</remarks>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct PaMemAllocator
{
    /// <summary><c>ctx</c>: passed to every function.</summary>
    public void* Ctx;
    /// <summary><c>void *malloc(void *ctx, size_t size)</c>.</summary>
    public delegate* unmanaged<void*, nuint, void*> Malloc;
    /// <summary><c>void *calloc(void *ctx, size_t nelem, size_t elsize)</c>.</summary>
    public delegate* unmanaged<void*, nuint, nuint, void*> Calloc;
    /// <summary><c>void *realloc(void *ctx, void *ptr, size_t new_size)</c>.</summary>
    public delegate* unmanaged<void*, void*, nuint, void*> Realloc;
    /// <summary><c>void free(void *ctx, void *ptr)</c>.</summary>
    public delegate* unmanaged<void*, void*, void> Free;
}
