using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using PyAlloc.Core.Abi;
using PyAlloc.Core.Objects;

namespace PyAlloc.Core.Gc;

/// <summary>One generation: its list of tracked objects, threshold and count.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct Generation
{
    public GcHead Head;
    public int Threshold;
    public nint Count;
}

[InlineArray(GcState.NumGenerations)]
internal struct GenerationArray
{
    private Generation _first;
}

[InlineArray(GcState.NumGenerations)]
internal struct GenerationStatsArray
{
    private PaGcGenerationStats _first;
}

/// <summary>A registered gc callback.</summary>
internal unsafe struct GcCallback
{
    public delegate* unmanaged<Runtime*, int, PaGcInfo*, void*, void> Function;
    public void* User;
}

/// <summary>The collector's state for one runtime (CPython's struct _gc_runtime_state).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct GcState
{
    public const int NumGenerations = 3;

    public GenerationArray Generations;
    public GcHead Permanent;           // frozen objects
    public int Enabled;
    public int Collecting;
    public int Debug;
    public nint LongLivedTotal;        // objects in generation 2 after the last full collection
    public nint LongLivedPending;      // objects that reached generation 2 since then
    public GenerationStatsArray Stats;
    public PaObject* Garbage;          // gc.garbage: an untracked list, made on first use
    public GcCallback* Callbacks;
    public int CallbackCount;
    public int CallbackCapacity;

    /// <summary>Thresholds (700, 10, 10), enabled, empty lists.</summary>
    public static void Initialize(GcState* gc)
    {
        for (int i = 0; i < NumGenerations; i++)
            GcList.Init(&((Generation*)Unsafe.AsPointer(ref gc->Generations[i]))->Head);
        gc->Generations[0].Threshold = 700;
        gc->Generations[1].Threshold = 10;
        gc->Generations[2].Threshold = 10;
        GcList.Init(&gc->Permanent);
        gc->Enabled = 1;
    }

    /// <summary>The list head of generation <paramref name="i"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static GcHead* GenHead(GcState* gc, int i) => &((Generation*)Unsafe.AsPointer(ref gc->Generations[i]))->Head;

    public static void Dispose(GcState* gc)
    {
        NativeMemory.Free(gc->Callbacks);
        gc->Callbacks = null;
    }
}
