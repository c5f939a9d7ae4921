using System;
using PyAlloc.Core.Support;

namespace PyAlloc.Native;

/// <summary>
/// The one way an export maps an exception to the C error convention: pa_last_error says
/// "&lt;function&gt;: internal error: ..." and the call returns its failure value.
/// </summary>
/// <remarks>
/// Every export is <c>if (!checks) return failure; try { return Core(...); } catch (Exception e)
/// { return Boundary.Fail(caller, e, failure); }</c>. The core reports the failures of its contract
/// through <see cref="Errors"/> and does not throw; what it may still throw (an allocation for a
/// message, a bug) must not unwind into C. The try costs nothing on the non-throwing path
/// (NativeAOT's exception handling is table-driven).
/// </remarks>
internal static unsafe class Boundary
{
    /// <summary>Sets the internal error of <paramref name="caller"/> and returns <paramref name="failure"/>.</summary>
    public static T Fail<T>(string caller, Exception e, T failure)
    {
        Errors.SetInternal(caller, e);
        return failure;
    }

    /// <summary>Sets the internal error of <paramref name="caller"/> and returns null (a pointer-returning export).</summary>
    public static unsafe void* Null(string caller, Exception e)
    {
        Errors.SetInternal(caller, e);
        return null;
    }

    /// <summary>Sets the internal error of <paramref name="caller"/> (a void export).</summary>
    public static void Fail(string caller, Exception e) => Errors.SetInternal(caller, e);
}
