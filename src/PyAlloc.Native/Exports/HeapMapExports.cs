using System;
using System.Runtime.InteropServices;
using PyAlloc.Core.Abi;
using PyAlloc.Core.Allocator;
using PyAlloc.Core.Objects;

namespace PyAlloc.Native.Exports;

/// <summary>Section 12 of pyalloc.h, the heap map: every pool of a heap with its size class and fill.</summary>
internal static unsafe class HeapMapExports
{
    [UnmanagedCallersOnly(EntryPoint = "pa_runtime_pool_map")]
    public static nuint RuntimePoolMap(Runtime* rt, PaPoolInfo* output, nuint cap)
    {
        const string caller = "pa_runtime_pool_map";
        if (!Validation.CheckRuntime(rt, caller) || !Validation.CheckBuffer(output, cap, caller))
            return nuint.MaxValue;
        try { return Runtime.PoolMap(rt, output, cap); }
        catch (Exception e) { return Boundary.Fail(caller, e, nuint.MaxValue); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa__pool_map")]   // pa_pool_map in native/entry/entry.c
    public static nuint PoolMap(PaPoolInfo* output, nuint cap)
    {
        if (!Validation.CheckBuffer(output, cap, "pa_pool_map"))
            return nuint.MaxValue;
        try { return Pymalloc.PoolMap(output, cap); }
        catch (Exception e) { return Boundary.Fail("pa_pool_map", e, nuint.MaxValue); }
    }
}
