using System.Runtime.InteropServices;

namespace PyAlloc;

/// <summary>The few C library calls the binding needs to capture a C stream as a string.</summary>
internal static unsafe partial class Libc
{
    private const string Name = "libc";

    [LibraryImport(Name, SetLastError = true)]
    public static partial void* open_memstream(byte** bufferLocation, nuint* sizeLocation);

    [LibraryImport(Name)]
    public static partial int fclose(void* stream);

    [LibraryImport(Name)]
    public static partial void free(void* p);
}
