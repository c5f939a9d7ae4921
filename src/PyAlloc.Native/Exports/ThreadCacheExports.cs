using System;
using System.Runtime.InteropServices;
using PyAlloc.Core.Allocator;
using PyAlloc.Core.Api;
using PyAlloc.Core.Tracing;

namespace PyAlloc.Native.Exports;

/// <summary>
/// The thread caches' calls into the core (native/entry/thread_cache.c): internal,
/// never in pyalloc.h. Each moves a batch, so the crossing is paid once per batch.
/// </summary>
internal static unsafe class ThreadCacheExports
{
    [UnmanagedCallersOnly(EntryPoint = "pa__fastpath_attach")]
    public static void Attach(FastPath* fast)
    {
        try { ThreadCaches.Attach(fast); }
        catch (Exception e) { Boundary.Fail("pa_malloc", e); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa__cache_register")]
    public static void Register(ThreadCache* tc)
    {
        try { ThreadCaches.Register(tc); }
        catch (Exception e) { Boundary.Fail("pa_malloc", e); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa__cache_refill")]
    public static uint Refill(ThreadCache* tc, uint index, uint want)
    {
        try { return ThreadCaches.Refill(tc, index, want); }
        catch (Exception e) { return Boundary.Fail("pa_malloc", e, 0u); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa__cache_drain")]
    public static void Drain(ThreadCache* tc, uint index, uint keep)
    {
        try { ThreadCaches.Drain(tc, index, keep); }
        catch (Exception e) { Boundary.Fail("pa_free", e); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa__free_keep_large")]
    public static nuint FreeKeepLarge(void* p, void* evict)
    {
        try { return Traced.FreeKeepLarge(p, evict); }
        catch (Exception e) { return Boundary.Fail("pa_free", e, (nuint)0); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa__cache_flush")]
    public static void Flush(ThreadCache* tc)
    {
        try { ThreadCaches.Flush(tc); }
        catch (Exception e) { Boundary.Fail("pa_trim", e); }
    }
}
