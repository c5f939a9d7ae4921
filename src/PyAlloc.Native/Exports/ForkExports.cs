using System.Runtime.InteropServices;
using PyAlloc.Core.Api;
using PyAlloc.Core.Support;

namespace PyAlloc.Native.Exports;

/// <summary>The pthread_atfork handlers of native/host/fork.c (not in the header).</summary>
internal static class ForkExports
{
    [UnmanagedCallersOnly(EntryPoint = "pa__fork_lock")]
    public static void Lock() => ForkSafety.Lock();

    [UnmanagedCallersOnly(EntryPoint = "pa__fork_unlock")]
    public static void Unlock() => ForkSafety.Unlock();
}
