using System;
using System.Runtime.InteropServices;
using PyAlloc.Core.Allocator;
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
}
