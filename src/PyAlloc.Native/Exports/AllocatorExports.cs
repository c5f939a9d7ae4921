using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using PyAlloc.Core.Allocator;
using PyAlloc.Core.Api;
using PyAlloc.Core.Objects;
using PyAlloc.Core.Platform;
using PyAlloc.Core.Support;
using PyAlloc.Core.Tracing;

namespace PyAlloc.Native.Exports;

/// <summary>Sections 2 and 3 of pyalloc.h: the allocator and its mode.</summary>
/// <remarks>
/// pa_malloc, pa_calloc, pa_realloc, pa_free (and their _at forms), pa_trim and the
/// statistics are C functions in native/entry: they serve small blocks from the thread
/// cache, name their call site, flush the cache before a report, and call the pa__
/// entry points here for the rest.
/// </remarks>
/// <remarks>
/// Every export catches at the boundary: the core reports failures through
/// <see cref="Errors"/> and does not throw, but formatting an error message allocates,
/// and an exception must never unwind into C. The try costs nothing on the
/// non-throwing path (NativeAOT's exception handling is table-driven).
/// </remarks>
internal static unsafe class AllocatorExports
{
    [UnmanagedCallersOnly(EntryPoint = "pa__malloc")]
    public static void* Malloc(nuint n, AllocationSite* site)
    {
        try { return Traced.Malloc(n, site); }
        catch (Exception e) { Errors.SetInternal("pa_malloc", e); return null; }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa__calloc")]
    public static void* Calloc(nuint nelem, nuint elsize, AllocationSite* site)
    {
        try { return Traced.Calloc(nelem, elsize, site); }
        catch (Exception e) { Errors.SetInternal("pa_calloc", e); return null; }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa__realloc")]
    public static void* Realloc(void* p, nuint n, AllocationSite* site)
    {
        try { return Traced.Realloc(p, n, site); }
        catch (Exception e) { Errors.SetInternal("pa_realloc", e); return null; }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa__free")]
    public static void Free(void* p)
    {
        try { Traced.Free(p); }
        catch (Exception e) { Errors.SetInternal("pa_free", e); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa__usable_size")]   // pa_usable_size in native/entry/entry.c
    public static nuint UsableSize(void* p)
    {
        try { return Pymalloc.UsableSize(p); }
        catch (Exception e) { Errors.SetInternal("pa_usable_size", e); return 0; }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa__trim")]
    public static nuint Trim()
    {
        try { return Pymalloc.Trim(); }
        catch (Exception e) { Errors.SetInternal("pa_trim", e); return 0; }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa__get_malloc_stats")]
    public static int GetMallocStats(MallocStats* output)
    {
        if (output == null)
            return Errors.Fail("pa_get_malloc_stats: out is NULL");
        *output = Pymalloc.GetStats();
        return 0;
    }

    [UnmanagedCallersOnly(EntryPoint = "pa__print_malloc_stats")]
    public static int PrintMallocStats(void* file)
    {
        if (file == null)
            return Errors.Fail("pa_print_malloc_stats: out is NULL");
        try { return WriteStats(Pymalloc.GetStats(), file, "pa_print_malloc_stats"); }
        catch (Exception e) { Errors.SetInternal("pa_print_malloc_stats", e); return -1; }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_runtime_get_malloc_stats")]
    public static int RuntimeGetMallocStats(Runtime* rt, MallocStats* output)
    {
        if (!Validation.CheckRuntime(rt, "pa_runtime_get_malloc_stats"))
            return -1;
        if (output == null)
            return Errors.Fail("pa_runtime_get_malloc_stats: out is NULL");
        try { *output = Runtime.GetMallocStats(rt); return 0; }
        catch (Exception e) { Errors.SetInternal("pa_runtime_get_malloc_stats", e); return -1; }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_runtime_print_malloc_stats")]
    public static int RuntimePrintMallocStats(Runtime* rt, void* file)
    {
        if (!Validation.CheckRuntime(rt, "pa_runtime_print_malloc_stats"))
            return -1;
        if (file == null)
            return Errors.Fail("pa_runtime_print_malloc_stats: out is NULL");
        try { return WriteStats(Runtime.GetMallocStats(rt), file, "pa_runtime_print_malloc_stats"); }
        catch (Exception e) { Errors.SetInternal("pa_runtime_print_malloc_stats", e); return -1; }
    }

    /* The table of stats on a C stream: 0, or -1 with the error naming function. */
    private static int WriteStats(in MallocStats stats, void* file, string function)
    {
        byte[] text = Encoding.UTF8.GetBytes(stats.Format());
        fixed (byte* t = text)
        {
            // A FILE buffers: a full disk may only show at the flush (or in ferror).
            if (Libc.Fwrite(t, 1, (nuint)text.Length, file) != (nuint)text.Length
                || Libc.Fflush(file) != 0 || Libc.Ferror(file) != 0)
                return Errors.Fail($"{function}: the write failed: {OsFiles.LastOsError()}");
        }
        return 0;
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_set_allocator_mode")]
    public static int SetAllocatorMode(byte* mode)
    {
        if (mode == null)
            return Errors.Fail("pa_set_allocator_mode: mode is NULL");
        try
        {
            return Pymalloc.SetMode(MemoryMarshal.CreateReadOnlySpanFromNullTerminated(mode));
        }
        catch (Exception e)
        {
            Errors.SetInternal("pa_set_allocator_mode", e);
            return -1;
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa__setup_debug_mode")]   // pa_mem_setup_debug_hooks in native/entry/entry.c, no hook installed
    public static int SetupDebugMode()
    {
        try { return Pymalloc.SetupDebugHooks(); }
        catch (Exception e) { Errors.SetInternal("pa_mem_setup_debug_hooks", e); return -1; }
    }

    /// <summary>An allocator hook was installed or removed (pa_mem_set_allocator in native/entry/entry.c).</summary>
    [UnmanagedCallersOnly(EntryPoint = "pa__mem_hooked")]
    public static void MemHooked(int on)
    {
        try { ThreadCaches.SetHooked(on != 0); }
        catch (Exception e) { Errors.SetInternal("pa_mem_set_allocator", e); }
    }

    /// <summary>An error found by the C entry layer (message: UTF-8, not NULL).</summary>
    [UnmanagedCallersOnly(EntryPoint = "pa__set_error")]
    public static void SetError(byte* message)
    {
        try { Errors.Set(Encoding.UTF8.GetString(MemoryMarshal.CreateReadOnlySpanFromNullTerminated(message))); }
        catch (Exception e) { Errors.SetInternal("pa__set_error", e); }
    }

    /// <summary>PYALLOC_MALLOCSTATS at exit (native/entry/entry.c): the table on stderr in the pool modes.</summary>
    [UnmanagedCallersOnly(EntryPoint = "pa__mallocstats_at_exit")]
    public static void MallocStatsAtExit()
    {
        try { Pymalloc.PrintStatsAtExit(); }
        catch (Exception e) { Errors.SetInternal("PYALLOC_MALLOCSTATS", e); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_get_allocator_mode")]
    public static byte* GetAllocatorMode() => Pymalloc.ModeNameUtf8(Pymalloc.Mode);
}
