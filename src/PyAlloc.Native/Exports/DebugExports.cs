using System;
using System.Runtime.InteropServices;
using PyAlloc.Core.Allocator;
using PyAlloc.Core.Debugging;
using PyAlloc.Core.Support;

namespace PyAlloc.Native.Exports;

/// <summary>Section 11 of pyalloc.h: the debug hooks (pa_set_fatal_error_handler is in TracingExports).</summary>
internal static unsafe class DebugExports
{
    [UnmanagedCallersOnly(EntryPoint = "pa_debug_check_block")]
    public static int CheckBlock(void* p)
    {
        try { return DebugHooks.CheckBlock(p); }
        catch (Exception e) { Errors.SetInternal("pa_debug_check_block", e); return -1; }
    }

    // The allocator pa_mem_setup_debug_hooks installs over a caller's (native/entry/entry.c):
    // ctx is the caller's allocator (a MemAllocator copy), the functions are these four.

    [UnmanagedCallersOnly(EntryPoint = "pa__debug_hook_malloc")]
    public static void* HookMalloc(void* ctx, nuint n)
    {
        try { return DebugHooks.HookedAlloc((MemAllocator*)ctx, n, zero: false); }
        catch (Exception e) { Errors.SetInternal("pa_malloc", e); return null; }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa__debug_hook_calloc")]
    public static void* HookCalloc(void* ctx, nuint nelem, nuint elsize)
    {
        try
        {
            nuint n = nelem * elsize;
            if (elsize != 0 && n / elsize != nelem)
                return null;                       // the product overflows: no block, as calloc
            return DebugHooks.HookedAlloc((MemAllocator*)ctx, n, zero: true);
        }
        catch (Exception e) { Errors.SetInternal("pa_calloc", e); return null; }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa__debug_hook_realloc")]
    public static void* HookRealloc(void* ctx, void* p, nuint n)
    {
        try { return DebugHooks.HookedRealloc((MemAllocator*)ctx, p, n); }
        catch (Exception e) { Errors.SetInternal("pa_realloc", e); return null; }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa__debug_hook_free")]
    public static void HookFree(void* ctx, void* p)
    {
        try { DebugHooks.HookedFree(p); }
        catch (Exception e) { Errors.SetInternal("pa_free", e); }
    }
}
