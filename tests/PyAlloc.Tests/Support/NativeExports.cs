using System.Runtime.InteropServices;

namespace PyAlloc.Tests.Support;

/// <summary>
/// Raw entry points of the very libpyalloc.so the binding loaded, for the few tests that must
/// read <c>errno</c> right after a call (no GC transition in between).
/// </summary>
internal static unsafe class NativeExports
{
    private static nint Handle
    {
        get
        {
            NativeMethods.pa_version(); // runs the binding's static constructor (its resolver)
            return NativeLibrary.Load(NativeMethods.LibraryName, typeof(NativeMethods).Assembly, null);
        }
    }

    /// <summary>pa_calloc, then errno.</summary>
    public static void* CallocReadingErrno(nuint nelem, nuint elsize, out int errno)
    {
        var calloc = (delegate* unmanaged[Cdecl, SuppressGCTransition]<nuint, nuint, void*>)
            NativeLibrary.GetExport(Handle, "pa_calloc");
        Marshal.SetLastSystemError(0);
        void* p = calloc(nelem, elsize);
        errno = Marshal.GetLastSystemError();
        return p;
    }

    /// <summary>pa_malloc, then errno.</summary>
    public static void* MallocReadingErrno(nuint n, out int errno)
    {
        var malloc = (delegate* unmanaged[Cdecl, SuppressGCTransition]<nuint, void*>)
            NativeLibrary.GetExport(Handle, "pa_malloc");
        Marshal.SetLastSystemError(0);
        void* p = malloc(n);
        errno = Marshal.GetLastSystemError();
        return p;
    }

    /// <summary>ENOMEM on Linux.</summary>
    public const int ENOMEM = 12;
}
