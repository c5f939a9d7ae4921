using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using PyAlloc.Core.Support;

namespace PyAlloc.Native.Exports;

/// <summary>Section 1 of pyalloc.h: conventions and errors.</summary>
internal static unsafe class ErrorExports
{
    [UnmanagedCallersOnly(EntryPoint = "pa__last_error")]   // pa_last_error in native/entry/entry.c
    public static byte* LastError() => Errors.LastError;

    [UnmanagedCallersOnly(EntryPoint = "pa__clear_error")]  // pa_clear_error in native/entry/entry.c
    public static void ClearError() => Errors.Clear();

    [UnmanagedCallersOnly(EntryPoint = "pa_version")]
    public static byte* Version() => (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(PyAlloc.Core.Version.Utf8));
}
