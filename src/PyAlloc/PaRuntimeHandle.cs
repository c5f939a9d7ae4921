using System;
using System.Runtime.InteropServices;

using PyAlloc.Interop;

namespace PyAlloc;

/// <summary>
/// The owner of one <c>pa_runtime*</c> (named after the C type, as SafeHandles are): what a <see cref="PyRuntime"/>
/// frees when it is disposed, and what reports it when it never was.
/// </summary>
/// <remarks>
/// <para><b>Disposed</b> (through <see cref="PyRuntime.Dispose"/>, on the runtime's own thread): the runtime is freed
/// with <c>pa_runtime_free</c>.</para>
/// <para><b>Never disposed</b>: when the handle becomes unreachable, the .NET finaliser thread releases it. A runtime
/// is single-threaded, and C code or a <see cref="PyObjectRef"/> (a bare pointer) may still be using it on another
/// thread, so the finaliser does NOT free it: it reports the leak as CPython reports an unclosed file, through
/// <see cref="PyRuntime.ResourceWarning"/> (by default a "ResourceWarning: ..." line on stderr), and the runtime's
/// memory stays allocated until the process ends.</para>
/// </remarks>
public sealed unsafe class PaRuntimeHandle : SafeHandle
{
    private bool _disposing;

    internal PaRuntimeHandle(PaRuntime* runtime)
        : base(IntPtr.Zero, ownsHandle: true) => SetHandle((nint)runtime);

    /// <summary>True for the null pointer.</summary>
    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        _disposing = disposing;
        base.Dispose(disposing);
    }

    /// <summary>Frees the runtime when disposed; reports it, and frees nothing, when finalised.</summary>
    /// <returns>True: the handle is released either way (a leak is reported once).</returns>
    protected override bool ReleaseHandle()
    {
        if (_disposing)
            NativeMethods.pa_runtime_free((PaRuntime*)handle);
        else
        {
            PyRuntime.Forget(handle);
            PyRuntime.WarnResource(
                $"PyRuntime 0x{(nuint)handle:x} was never disposed; its objects and memory stay allocated until the " +
                "process ends (the finaliser thread may not free a runtime that another thread may still use)");
        }
        return true;
    }
}
