using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading;
using PyAlloc.Core.Support;

namespace PyAlloc.Core.Tracing;

/// <summary>
/// The live <c>pa_snapshot *</c> handles (GCHandles of <see cref="Snapshot"/>).
/// </summary>
/// <remarks>
/// A GCHandle must never be made from a pointer the library did not hand out (GCHandle.FromIntPtr
/// of garbage reads anywhere), so the exports look every handle up here first. Snapshots are few
/// and slow to make: a set under a monitor is enough. Held across fork (ForkSafety.cs).
/// </remarks>
internal static unsafe class SnapshotHandles
{
    private static readonly HashSet<nint> s_live = new();

    public static void Add(nint handle)
    {
        lock (s_live)
            s_live.Add(handle);
    }

    /// <summary>Forgets <paramref name="handle"/>; false when it was not live.</summary>
    public static bool Remove(nint handle)
    {
        lock (s_live)
            return s_live.Remove(handle);
    }

    public static bool IsLive(nint handle)
    {
        lock (s_live)
            return s_live.Contains(handle);
    }

    /// <summary>A new live handle to <paramref name="s"/>; 0 for null (the error is the caller's, set already).</summary>
    public static nint ToHandle(Snapshot? s)
    {
        if (s == null)
            return 0;
        nint handle = GCHandle.ToIntPtr(GCHandle.Alloc(s));
        Add(handle);
        return handle;
    }

    /// <summary>The snapshot of the live <paramref name="handle"/>; else null with the error set.</summary>
    public static Snapshot? Of(nint handle, string caller)
    {
        if (handle != 0 && IsLive(handle) && GCHandle.FromIntPtr(handle).Target is Snapshot s)
            return s;
        Errors.Set(handle == 0
            ? $"{caller}: the snapshot is NULL"
            : $"{caller}: {Errors.Hex((void*)handle)} is not a live snapshot (freed already, or never one)");
        return null;
    }

    /// <summary>
    /// pa_snapshot_free: the snapshot's memory and its handle; nothing for 0; the error set for a
    /// handle that is not live (freed already, or never one), which is left alone.
    /// </summary>
    public static void Free(nint handle)
    {
        if (handle == 0)
            return;
        if (!Remove(handle))
        {
            Errors.Set($"pa_snapshot_free: {Errors.Hex((void*)handle)} is not a live snapshot (freed already, or never one)");
            return;
        }
        GCHandle h = GCHandle.FromIntPtr(handle);
        (h.Target as Snapshot)?.Dispose();
        h.Free();
    }

    internal static void LockForFork() => Monitor.Enter(s_live);
    internal static void UnlockAfterFork() => Monitor.Exit(s_live);
}
