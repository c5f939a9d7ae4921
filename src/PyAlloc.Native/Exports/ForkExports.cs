using System;
using System.Runtime.InteropServices;
using PyAlloc.Core.Api;
using PyAlloc.Core.Support;

namespace PyAlloc.Native.Exports;

/// <summary>The pthread_atfork handlers of native/host/fork.c (not in the header).</summary>
/// <remarks>
/// The monitors among the locks (Symbolizer's, SnapshotHandles') may allocate when taken, so
/// each handler catches through <see cref="Boundary"/>: fork goes on, the error names "fork".
/// </remarks>
internal static class ForkExports
{
    [UnmanagedCallersOnly(EntryPoint = "pa__fork_lock")]
    public static void Lock()
    {
        try { ForkSafety.Lock(); }
        catch (Exception e) { Boundary.Fail("fork", e); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa__fork_unlock")]
    public static void Unlock()
    {
        try { ForkSafety.Unlock(); }
        catch (Exception e) { Boundary.Fail("fork", e); }
    }
}
