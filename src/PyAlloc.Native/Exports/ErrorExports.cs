using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using PyAlloc.Core.Support;

namespace PyAlloc.Native.Exports;

/// <summary>Section 1 of pyalloc.h: conventions and errors.</summary>
/// <remarks>
/// pa__last_error and pa__clear_error touch the thread's [ThreadStatic] message pointer, whose
/// storage the runtime makes at a thread's first access (an allocation): they catch through
/// <see cref="Boundary"/>. pa_version cannot throw: it returns the address of static data.
/// </remarks>
internal static unsafe class ErrorExports
{
    [UnmanagedCallersOnly(EntryPoint = "pa__last_error")]   // pa_last_error in native/entry/entry.c
    public static byte* LastError()
    {
        try { return Errors.LastError; }
        catch (Exception e) { Boundary.Fail("pa_last_error", e); return Errors.Empty; }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa__clear_error")]  // pa_clear_error in native/entry/entry.c
    public static void ClearError()
    {
        try { Errors.Clear(); }
        catch (Exception e) { Boundary.Fail("pa_clear_error", e); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_version")]
    public static byte* Version() => (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(PyAlloc.Core.Version.Utf8));
}
