using System;
using NUnit.Framework;

namespace PyAlloc.Tests.Support;

/// <summary>Patterns and pointer checks shared by the allocator tests.</summary>
internal static unsafe class Memory
{
    /// <summary>The byte a block tagged <paramref name="tag"/> holds at <paramref name="offset"/>.</summary>
    public static byte PatternByte(ulong tag, nuint offset) => (byte)((tag * 131) ^ (offset * 7) ^ (offset >> 8));

    /// <summary>Writes the pattern of <paramref name="tag"/> over <paramref name="length"/> bytes.</summary>
    public static void Fill(void* p, nuint length, ulong tag)
    {
        byte* b = (byte*)p;
        for (nuint i = 0; i < length; i++)
            b[i] = PatternByte(tag, i);
    }

    /// <summary>The first offset where the pattern of <paramref name="tag"/> is broken, or -1.</summary>
    public static long FirstMismatch(void* p, nuint length, ulong tag)
    {
        byte* b = (byte*)p;
        for (nuint i = 0; i < length; i++)
        {
            if (b[i] != PatternByte(tag, i))
                return (long)i;
        }
        return -1;
    }

    /// <summary>True when all <paramref name="length"/> bytes are zero.</summary>
    public static bool IsZero(void* p, nuint length) => new ReadOnlySpan<byte>(p, checked((int)length)).IndexOfAnyExcept((byte)0) < 0;

    /// <summary>Fails unless <paramref name="p"/> is non-null and 16-byte aligned.</summary>
    public static void AssertBlock(void* p, string what)
    {
        Assert.That((long)p, Is.Not.Zero, $"{what} returned NULL: {PyMemory.LastError}");
        Assert.That((ulong)p % NativeMethods.PA_ALIGNMENT, Is.Zero, $"{what} returned 0x{(nuint)p:x}, not 16-byte aligned");
    }

    /// <summary>The class size pymalloc serves a request of <paramref name="n"/> (0..512) bytes with.</summary>
    public static nuint ClassSize(nuint n) => n == 0 ? NativeMethods.PA_ALIGNMENT
        : (n + NativeMethods.PA_ALIGNMENT - 1) / NativeMethods.PA_ALIGNMENT * NativeMethods.PA_ALIGNMENT;
}
