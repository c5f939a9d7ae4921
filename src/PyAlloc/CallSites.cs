using System;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace PyAlloc;

/// <summary>
/// The C# caller's source file, as the NUL-terminated UTF-8 string the <c>_at</c> entry points
/// keep while tracing (pyalloc.h section 10: "file must stay valid while tracing").
/// </summary>
/// <remarks>
/// The idiomatic allocation calls (<see cref="PyMemory.Alloc"/>, <see cref="PyType.New"/>,
/// <see cref="PyList.New"/> ...) take the caller's <c>[CallerFilePath]</c> and
/// <c>[CallerLineNumber]</c>, so tracemalloc attributes their blocks and objects to the C# line
/// that asked, as <c>PA_MALLOC(n)</c> does for C. Each distinct path is copied once into native
/// memory kept for the life of the process (a program has as many as it has source files). The
/// compiler passes the same interned string object at every call from one file, so the common
/// case is one reference comparison with the thread's last path: no lookup, no allocation.
/// </remarks>
internal static unsafe class CallSites
{
    private static readonly ConcurrentDictionary<string, nint> s_files = new(StringComparer.Ordinal);

    [ThreadStatic] private static string? t_lastPath;
    [ThreadStatic] private static nint t_lastUtf8;

    /// <summary>The UTF-8 copy of <paramref name="path"/>; null for an empty path (no site).</summary>
    public static byte* File(string path)
    {
        if ((object)path == t_lastPath)
            return (byte*)t_lastUtf8;
        return Intern(path);
    }

    private static byte* Intern(string path)
    {
        if (string.IsNullOrEmpty(path))
            return null;
        nint utf8 = s_files.GetOrAdd(path, static p => Marshal.StringToCoTaskMemUTF8(p));
        t_lastPath = path;
        t_lastUtf8 = utf8;
        return (byte*)utf8;
    }
}
