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
/// Every report ends with the line "Fatal PyAlloc error: ...".
/// A handler may return: <see cref="Report"/> then returns to the caller, which
/// goes on as documented (the debug hooks free nothing); <see cref="Error"/> (a broken
/// collector invariant) aborts anyway, since going on would free memory still in use.
/// </remarks>
internal static unsafe class Fatal
{
    private const string Prefix = "Fatal PyAlloc error: ";

    private static delegate* unmanaged<byte*, void*, void> s_handler;
    private static void* s_user;

    public static void SetHandler(delegate* unmanaged<byte*, void*, void> handler, void* user)
    {
        s_user = user;
        s_handler = handler;
    }

    /// <summary>
    /// Hands a whole report (its last line "Fatal PyAlloc error: function: reason") to the
    /// handler; returns if the handler returns. Without a handler: prints it and aborts.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Report(string report)
    {
        var handler = s_handler;
        byte[] text = Encoding.UTF8.GetBytes(report + "\0");
        fixed (byte* p = text)
        {
            Probes.Fatal(p);   // the USDT probe fatal(message), before the handler or the abort
            if (handler == null)
                Abort(report);
            handler(p, s_user);
        }
    }

    /// <summary>Reports "Fatal PyAlloc error: message", then aborts whatever the handler does.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Error(string message)
    {
        string report = Prefix + message;
        Report(report);
        Abort(report);
    }

    /* Print the report, then end the process (SIGABRT) with its last line as the reason. */
    private static void Abort(string report)
    {
        Platform.Stderr.WriteLine(report);
        int last = report.LastIndexOf(Prefix, StringComparison.Ordinal);
        Environment.FailFast("PyAlloc: " + (last >= 0 ? report[(last + Prefix.Length)..] : report));
    }
}
