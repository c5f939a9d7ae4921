using System.Collections.Generic;
using System.Threading;

namespace PyAlloc.Core.Tracing;

/// <summary>
/// The live <c>pa_snapshot *</c> handles (GCHandles of <see cref="Snapshot"/>).
/// </summary>
/// <remarks>
/// A GCHandle must never be made from a pointer the library did not hand out (GCHandle.FromIntPtr
/// of garbage reads anywhere), so the exports look every handle up here first. Snapshots are few
/// and slow to make: a set under a monitor is enough. Held across fork (ForkSafety.cs).
/// </remarks>
internal static class SnapshotHandles
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

    internal static void LockForFork() => Monitor.Enter(s_live);
    internal static void UnlockAfterFork() => Monitor.Exit(s_live);
}
