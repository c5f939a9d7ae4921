using System;
using System.Runtime.CompilerServices;

namespace PyAlloc.Core.Support;

/// <summary>
/// Errors the library cannot recover from: a broken invariant such as a reference
/// count that is too small for the references the collector found.
/// </summary>
/// <remarks>
/// Like CPython's <c>Py_FatalError</c>: the message goes to stderr, then the process
/// aborts (continuing would free memory still in use).
/// </remarks>
internal static class Fatal
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Error(string message)
    {
        Console.Error.WriteLine($"Fatal PyAlloc error: {message}");
        Console.Error.Flush();
        Environment.FailFast($"PyAlloc: {message}");
    }
}
