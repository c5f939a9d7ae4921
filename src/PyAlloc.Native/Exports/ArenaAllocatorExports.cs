using System;
using System.Runtime.InteropServices;
using PyAlloc.Core.Abi;
using PyAlloc.Core.Allocator;
using PyAlloc.Core.Objects;

namespace PyAlloc.Native.Exports;

/// <summary>Section 2 of pyalloc.h: the arena allocator (CPython's PyObject_Get/SetArenaAllocator).</summary>
internal static unsafe class ArenaAllocatorExports
{
    [UnmanagedCallersOnly(EntryPoint = "pa_object_get_arena_allocator")]
    public static int GetArenaAllocator(PaMemArenaAllocator* output)
    {
        if (!Validation.CheckOut(output, "pa_object_get_arena_allocator"))
            return -1;
        try { *output = ArenaSource.Get(); return 0; }
        catch (Exception e) { return Boundary.Fail("pa_object_get_arena_allocator", e, -1); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_object_set_arena_allocator")]
    public static int SetArenaAllocator(PaMemArenaAllocator* allocator)
    {
        try { return ArenaSource.Set(allocator); }
        catch (Exception e) { return Boundary.Fail("pa_object_set_arena_allocator", e, -1); }
    }
}
