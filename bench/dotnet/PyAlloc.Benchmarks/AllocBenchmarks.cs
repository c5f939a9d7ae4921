using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;

using PyAlloc.Interop;

namespace PyAlloc.Benchmarks;

/// <summary>
/// One block allocated and freed at once, through the binding and through <see cref="NativeMemory"/>
/// (glibc's malloc, the baseline): the ratio column is PyAlloc / NativeMemory.
/// </summary>
/// <remarks>
/// 16 to 512 bytes are pool sizes (the thread cache's fast path); 4096 is past
/// <see cref="NativeMethods.PA_SMALL_REQUEST_THRESHOLD"/> and goes to the system allocator with
/// PyAlloc's registry of large blocks on top.  <see cref="PyMemory.Free"/> differs from the raw
/// <see cref="NativeMethods.pa_free"/> by one static check (whether the debug hooks need the GC transition).
/// </remarks>
public unsafe class AllocPair
{
    /// <summary>Bytes per block.</summary>
    [Params(16, 64, 256, 512, 4096)]
    public int Size { get; set; }

    /// <summary>The baseline: <see cref="NativeMemory.Alloc(nuint)"/> then <see cref="NativeMemory.Free"/>.</summary>
    [Benchmark(Baseline = true)]
    public void NativeMemory_AllocFree() => NativeMemory.Free(NativeMemory.Alloc((nuint)Size));

    /// <summary>The raw binding: <c>pa_malloc</c> then <c>pa_free</c> (LibraryImport, SuppressGCTransition).</summary>
    [Benchmark]
    public void NativeMethods_pa_malloc_free() => NativeMethods.pa_free(NativeMethods.pa_malloc((nuint)Size));

    /// <summary>The raw binding with a call site: <c>pa_malloc_at</c> (which keeps its GC transition) then <c>pa_free</c>.</summary>
    [Benchmark]
    public void NativeMethods_pa_malloc_at_free() => NativeMethods.pa_free(NativeMethods.pa_malloc_at((nuint)Size, Site, 1));

    /// <summary>The idiomatic layer: <see cref="PyMemory.Alloc"/> (which names its caller while tracing) then <see cref="PyMemory.Free"/>.</summary>
    [Benchmark]
    public void PyMemory_AllocFree() => PyMemory.Free(PyMemory.Alloc((nuint)Size));

    private static readonly byte* Site = (byte*)System.Runtime.InteropServices.Marshal.StringToCoTaskMemUTF8("bench.cs");
}

/// <summary>
/// <see cref="Count"/> blocks allocated, then all freed, per invocation; the times are per block
/// (OperationsPerInvoke), so they compare with <see cref="AllocPair"/>'s.  A thousand blocks outgrow the
/// thread cache, so its refill and drain (and new pools) are in the measurement.
/// </summary>
public unsafe class AllocBatch
{
    /// <summary>Blocks per invocation.</summary>
    public const int Count = 1000;

    private void** _blocks;

    /// <summary>Bytes per block.</summary>
    [Params(16, 64, 256, 512, 4096)]
    public int Size { get; set; }

    /// <summary>The array of block pointers, outside both allocators' pools.</summary>
    [GlobalSetup]
    public void Setup() => _blocks = (void**)NativeMemory.AllocZeroed(Count, (nuint)sizeof(void*));

    /// <summary>Frees the array.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        NativeMemory.Free(_blocks);
        _blocks = null;
    }

    /// <summary>The baseline: <see cref="NativeMemory"/> (glibc's malloc).</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Count)]
    public void NativeMemory_Batch()
    {
        nuint n = (nuint)Size;
        for (int i = 0; i < Count; i++)
            _blocks[i] = NativeMemory.Alloc(n);
        for (int i = 0; i < Count; i++)
            NativeMemory.Free(_blocks[i]);
    }

    /// <summary>The idiomatic layer: <see cref="PyMemory.Alloc"/> and <see cref="PyMemory.Free"/>.</summary>
    [Benchmark(OperationsPerInvoke = Count)]
    public void PyMemory_Batch()
    {
        nuint n = (nuint)Size;
        for (int i = 0; i < Count; i++)
            _blocks[i] = PyMemory.Alloc(n);
        for (int i = 0; i < Count; i++)
            PyMemory.Free(_blocks[i]);
    }
}
