using System;
using System.Runtime.InteropServices;
using PyAlloc.Core.Abi;
using PyAlloc.Core.Allocator;
using PyAlloc.Core.Debugging;
using PyAlloc.Core.Support;

namespace PyAlloc.Native.Exports;

/// <summary>Section 11 of pyalloc.h: the debug hooks (pa_set_fatal_error_handler is in TracingExports).</summary>
/// <remarks>Each export calls one function of <see cref="DebugHooks"/> and maps an exception through <see cref="Boundary"/>.</remarks>
internal static unsafe class DebugExports
{
    [UnmanagedCallersOnly(EntryPoint = "pa_debug_check_block")]
    public static int CheckBlock(void* p)
    {
        try { return DebugHooks.CheckBlock(p); }
        catch (Exception e) { return Boundary.Fail("pa_debug_check_block", e, -1); }
    }

    // The allocator pa_mem_setup_debug_hooks installs over a caller's (native/entry/entry.c):
    // ctx is the caller's allocator (a PaMemAllocator copy), the functions are these four.

    [UnmanagedCallersOnly(EntryPoint = "pa__debug_hook_malloc")]
    public static void* HookMalloc(void* ctx, nuint n)
    {
        try { return DebugHooks.HookedAlloc((PaMemAllocator*)ctx, n, zero: false); }
        catch (Exception e) { return Boundary.Null("pa_malloc", e); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa__debug_hook_calloc")]
    public static void* HookCalloc(void* ctx, nuint nelem, nuint elsize)
    {
        try { return DebugHooks.HookedCalloc((PaMemAllocator*)ctx, nelem, elsize); }
        catch (Exception e) { return Boundary.Null("pa_calloc", e); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa__debug_hook_realloc")]
    public static void* HookRealloc(void* ctx, void* p, nuint n)
    {
        try { return DebugHooks.HookedRealloc((PaMemAllocator*)ctx, p, n); }
        catch (Exception e) { return Boundary.Null("pa_realloc", e); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa__debug_hook_free")]
    public static void HookFree(void* ctx, void* p)
    {
        try { DebugHooks.HookedFree(p); }
        catch (Exception e) { Boundary.Fail("pa_free", e); }
    }
}
