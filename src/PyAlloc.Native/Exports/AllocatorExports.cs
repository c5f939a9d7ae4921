using System;
using System.Runtime.InteropServices;
using PyAlloc.Core.Abi;
using PyAlloc.Core.Allocator;
using PyAlloc.Core.Api;
using PyAlloc.Core.Objects;
using PyAlloc.Core.Support;
using PyAlloc.Core.Tracing;

namespace PyAlloc.Native.Exports;

/// <summary>Sections 2 and 3 of pyalloc.h: the allocator and its mode.</summary>
/// <remarks>
/// pa_malloc, pa_calloc, pa_realloc, pa_free (and their _at forms), pa_trim and the
/// statistics are C functions in native/entry: they serve small blocks from the thread
/// cache, name their call site, flush the cache before a report, and call the pa__
/// entry points here for the rest. Each export checks its arguments
/// (<see cref="Validation"/>), calls one core function, and maps an exception through
/// <see cref="Boundary"/>.
/// </remarks>
internal static unsafe class AllocatorExports
{
    [UnmanagedCallersOnly(EntryPoint = "pa__malloc")]
    public static void* Malloc(nuint n, AllocationSite* site)
    {
        try { return Traced.Malloc(n, site); }
        catch (Exception e) { return Boundary.Null("pa_malloc", e); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa__calloc")]
    public static void* Calloc(nuint nelem, nuint elsize, AllocationSite* site)
    {
        try { return Traced.Calloc(nelem, elsize, site); }
        catch (Exception e) { return Boundary.Null("pa_calloc", e); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa__realloc")]
    public static void* Realloc(void* p, nuint n, AllocationSite* site)
    {
        try { return Traced.Realloc(p, n, site); }
        catch (Exception e) { return Boundary.Null("pa_realloc", e); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa__free")]
    public static void Free(void* p)
    {
        try { Traced.Free(p); }
        catch (Exception e) { Boundary.Fail("pa_free", e); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa__usable_size")]   // pa_usable_size in native/entry/entry.c
    public static nuint UsableSize(void* p)
    {
        try { return Pymalloc.UsableSize(p); }
        catch (Exception e) { return Boundary.Fail("pa_usable_size", e, (nuint)0); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa__trim")]
    public static nuint Trim()
    {
        try { return Pymalloc.Trim(); }
        catch (Exception e) { return Boundary.Fail("pa_trim", e, (nuint)0); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa__get_malloc_stats")]
    public static int GetMallocStats(PaMallocStats* output)
    {
        if (!Validation.CheckOut(output, "pa_get_malloc_stats"))
            return -1;
        try { *output = Pymalloc.GetStats(); return 0; }
        catch (Exception e) { return Boundary.Fail("pa_get_malloc_stats", e, -1); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa__print_malloc_stats")]
    public static int PrintMallocStats(void* file)
    {
        if (!Validation.CheckOut(file, "pa_print_malloc_stats"))
            return -1;
        try { return Pymalloc.PrintStats(file); }
        catch (Exception e) { return Boundary.Fail("pa_print_malloc_stats", e, -1); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_runtime_get_malloc_stats")]
    public static int RuntimeGetMallocStats(Runtime* rt, PaMallocStats* output)
    {
        const string caller = "pa_runtime_get_malloc_stats";
        if (!Validation.CheckRuntime(rt, caller) || !Validation.CheckOut(output, caller))
            return -1;
        try { *output = Runtime.GetMallocStats(rt); return 0; }
        catch (Exception e) { return Boundary.Fail(caller, e, -1); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_runtime_print_malloc_stats")]
    public static int RuntimePrintMallocStats(Runtime* rt, void* file)
    {
        const string caller = "pa_runtime_print_malloc_stats";
        if (!Validation.CheckRuntime(rt, caller) || !Validation.CheckOut(file, caller))
            return -1;
        try { return Runtime.PrintMallocStats(rt, file); }
        catch (Exception e) { return Boundary.Fail(caller, e, -1); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_set_allocator_mode")]
    public static int SetAllocatorMode(byte* mode)
    {
        try { return Pymalloc.SetMode(mode); }
        catch (Exception e) { return Boundary.Fail("pa_set_allocator_mode", e, -1); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_get_allocator_mode")]
    public static byte* GetAllocatorMode()
    {
        try { return Pymalloc.ModeName; }
        catch (Exception e) { return (byte*)Boundary.Null("pa_get_allocator_mode", e); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa__setup_debug_mode")]   // pa_mem_setup_debug_hooks in native/entry/entry.c, no hook installed
    public static int SetupDebugMode()
    {
        try { return Pymalloc.SetupDebugHooks(); }
        catch (Exception e) { return Boundary.Fail("pa_mem_setup_debug_hooks", e, -1); }
    }

    /// <summary>An allocator hook was installed or removed (pa_mem_set_allocator in native/entry/entry.c).</summary>
    [UnmanagedCallersOnly(EntryPoint = "pa__mem_hooked")]
    public static void MemHooked(int on)
    {
        try { ThreadCaches.SetHooked(on != 0); }
        catch (Exception e) { Boundary.Fail("pa_mem_set_allocator", e); }
    }

    /// <summary>An error found by the C entry layer (message: UTF-8, not NULL).</summary>
    [UnmanagedCallersOnly(EntryPoint = "pa__set_error")]
    public static void SetError(byte* message)
    {
        try { Errors.SetUtf8(message); }
        catch (Exception e) { Boundary.Fail("pa__set_error", e); }
    }

    /// <summary>PYALLOC_MALLOCSTATS at exit (native/entry/entry.c): the table on stderr in the pool modes.</summary>
    [UnmanagedCallersOnly(EntryPoint = "pa__mallocstats_at_exit")]
    public static void MallocStatsAtExit()
    {
        try { Pymalloc.PrintStatsAtExit(); }
        catch (Exception e) { Boundary.Fail("PYALLOC_MALLOCSTATS", e); }
    }
}
