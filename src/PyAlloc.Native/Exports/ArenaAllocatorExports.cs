using System;
using System.Runtime.InteropServices;
using PyAlloc.Core.Abi;
using PyAlloc.Core.Allocator;
using PyAlloc.Core.Support;

namespace PyAlloc.Native.Exports;

/// <summary>Section 2 of pyalloc.h: the arena allocator (CPython's PyObject_Get/SetArenaAllocator).</summary>
internal static unsafe class ArenaAllocatorExports
{
    [UnmanagedCallersOnly(EntryPoint = "pa_object_get_arena_allocator")]
    public static int GetArenaAllocator(PaMemArenaAllocator* output)
    {
        if (output == null)
            return Errors.Fail("pa_object_get_arena_allocator: out is NULL");
        *output = ArenaSource.Get();
        return 0;
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_object_set_arena_allocator")]
    public static int SetArenaAllocator(PaMemArenaAllocator* allocator)
    {
        if (allocator == null)
            return Errors.Fail("pa_object_set_arena_allocator: allocator is NULL");
        if (allocator->Alloc == null || allocator->Free == null)
            return Errors.Fail($"pa_object_set_arena_allocator: {(allocator->Alloc == null ? "alloc" : "free")} is NULL");
        try
        {
            return ArenaSource.Install(*allocator)
                ? 0 : Errors.Fail("pa_object_set_arena_allocator: out of memory");
        }
        catch (Exception e)
        {
            Errors.SetInternal("pa_object_set_arena_allocator", e);
            return -1;
        }
    }
}
