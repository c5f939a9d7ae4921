using System.Runtime.InteropServices;

namespace PyAlloc.Tests.Support;

/// <summary>C streams for the tests of pa_print_malloc_stats.</summary>
internal static unsafe partial class TestLibc
{
    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    public static partial void* fopen(string path, string mode);

    [LibraryImport("libc")]
    public static partial int fclose(void* stream);
}
