using System.Runtime.InteropServices;

namespace PyAlloc.Tests.Support;

/// <summary>C streams for the tests of pa_print_malloc_stats; page residency for the tests of trim.</summary>
internal static unsafe partial class TestLibc
{
    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    public static partial void* fopen(string path, string mode);

    [LibraryImport("libc")]
    public static partial int fclose(void* stream);

    [LibraryImport("libc")]
    public static partial int mincore(void* addr, nuint length, byte* vec);

    /// <summary>True when the page holding <paramref name="p"/> is resident (mincore).</summary>
    public static bool IsResident(void* p)
    {
        nuint page = (nuint)System.Environment.SystemPageSize;
        byte vec = 0;
        int rc = mincore((void*)((nuint)p & ~(page - 1)), page, &vec);
        NUnit.Framework.Assert.That(rc, NUnit.Framework.Is.Zero, "mincore");
        return (vec & 1) != 0;
    }
}
