using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace PyAlloc.Tests.Support;

/// <summary>
/// File names for the <c>_at</c> calls from C#: the library keeps the pointer while tracing, so it must never move
/// or die. A UTF-8 string literal (<c>"site.cs\0"u8</c>) lives in the assembly's static data, which satisfies both.
/// </summary>
internal static unsafe class Sites
{
    /// <summary>The address of a NUL-terminated UTF-8 LITERAL (never a span over the stack or a managed array).</summary>
    public static byte* Of(ReadOnlySpan<byte> nulTerminatedLiteral)
    {
        if (nulTerminatedLiteral.Length == 0 || nulTerminatedLiteral[^1] != 0)
            throw new ArgumentException("the literal must end with \\0", nameof(nulTerminatedLiteral));
        return (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(nulTerminatedLiteral));
    }

    /// <summary><c>pa_malloc_at(n, file, line)</c> that must succeed.</summary>
    public static void* Malloc(nuint n, byte* file, int line)
    {
        void* p = NativeMethods.pa_malloc_at(n, file, line);
        if (p == null)
            throw new InvalidOperationException("pa_malloc_at failed: " + PyMemory.LastError);
        return p;
    }
}
