namespace PyAlloc.Tests.Native.Tracing;

/// <summary>A second source file for <see cref="CallerSiteTests"/>: its calls carry this file's path.</summary>
internal static unsafe class OtherFile
{
    public static void* Alloc(nuint n) => PyMemory.Alloc(n);
}
