using System;
using System.Runtime.InteropServices;
using PyAlloc.Core.Abi;
using PyAlloc.Core.Allocator;
using PyAlloc.Core.Objects;
using PyAlloc.Core.Support;

namespace PyAlloc.Native.Exports;

/// <summary>Section 12 of pyalloc.h, the heap map: every pool of a heap with its size class and fill.</summary>
internal static unsafe class HeapMapExports
{
    [UnmanagedCallersOnly(EntryPoint = "pa_runtime_pool_map")]
    public static nuint RuntimePoolMap(Runtime* rt, PaPoolInfo* output, nuint cap)
    {
        if (!PyAlloc.Core.Objects.Validation.CheckRuntime(rt, "pa_runtime_pool_map"))
            return nuint.MaxValue;
        if (output == null && cap != 0)
        {
            Errors.Set("pa_runtime_pool_map: out is NULL but cap is not 0");
            return nuint.MaxValue;
        }
        try { return Heap.PoolMap(rt->Heap, output, cap); }
        catch (Exception e) { Errors.SetInternal("pa_runtime_pool_map", e); return nuint.MaxValue; }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa__pool_map")]
    public static nuint PoolMap(PaPoolInfo* output, nuint cap)
    {
        if (output == null && cap != 0)
        {
            Errors.Set("pa_pool_map: out is NULL but cap is not 0");
            return nuint.MaxValue;
        }
        try
        {
            return Pymalloc.PoolMap(output, cap);
        }
        catch (Exception e) { Errors.SetInternal("pa_pool_map", e); return nuint.MaxValue; }
    }
}
