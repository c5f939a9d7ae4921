using System;
using System.Runtime.CompilerServices;
using System.Text;

namespace PyAlloc.Core.Support;

/// <summary>
/// Errors the library cannot recover from: a broken invariant such as a reference
/// count that is too small for the references the collector found, or (debug hooks)
/// a damaged block.
/// </summary>
/// <remarks>
/// Like CPython's <c>Py_FatalError</c>: the report goes to the handler set with
/// <c>pa_set_fatal_error_handler</c>; the default prints it on stderr and aborts.
/// A handler may return: <see cref="Report"/> then returns to the caller, which
/// goes on as documented; <see cref="Error"/> (a broken collector invariant) aborts
/// anyway, since going on would free memory still in use.
/// </remarks>
internal static unsafe class Fatal
{
    private static delegate* unmanaged<byte*, void*, void> s_handler;
    private static void* s_user;

    public static void SetHandler(delegate* unmanaged<byte*, void*, void> handler, void* user)
    {
        s_user = user;
        s_handler = handler;
    }

    /// <summary>Reports through the handler; returns if the handler returns.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Report(string message)
    {
        var handler = s_handler;
        if (handler == null)
            Abort(message);
        byte[] text = Encoding.UTF8.GetBytes(message + "\0");
        fixed (byte* p = text)
            handler(p, s_user);
    }

    /// <summary>Reports, then aborts whatever the handler does.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Error(string message)
    {
        Report($"Fatal PyAlloc error: {message}");
        Abort(message);
    }

    private static void Abort(string message)
    {
        Console.Error.WriteLine(message.StartsWith("Fatal PyAlloc error", StringComparison.Ordinal) ? message : $"Fatal PyAlloc error: {message}");
        Console.Error.Flush();
        Environment.FailFast($"PyAlloc: {message}");
    }
}
