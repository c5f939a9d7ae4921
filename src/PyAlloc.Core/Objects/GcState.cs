using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using PyAlloc.Core.Abi;

namespace PyAlloc.Core.Objects;

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

    /// <summary>
    /// A GC object is being allocated (3.11's _PyObject_GC_Link): count it, and when
    /// generation 0 passes its threshold, collect (<see cref="CollectorCalls.CollectGenerations"/>)
    /// before the new object is tracked.
    /// </summary>
    /// <remarks>The count and the test are inline here; only a due collection calls up.</remarks>
    public static void OnGcAllocation(Runtime* rt)
    {
        GcState* gc = &rt->Gc;
        ref Generation young = ref gc->Generations[0];
        young.Count++;
        if (young.Count > young.Threshold && gc->Enabled != 0 && young.Threshold != 0
            && gc->Collecting == 0 && !rt->Freeing)
        {
            gc->Collecting = 1;
            try
            {
                CollectorCalls.CollectGenerations(rt);
            }
            finally
            {
                gc->Collecting = 0;
            }
        }
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

/// <summary>
/// The collector's entry points that the object layer calls up to. The collector (Gc/) sits
/// above the objects it collects, so Objects/ names it only through these slots, which
/// Api/Wiring.cs fills once, when the library loads.
/// </summary>
/// <remarks>Cold paths only: a collection that is due, the end of a runtime.</remarks>
internal static unsafe class CollectorCalls
{
    /// <summary>Collector.CollectGenerations: generation 0 passed its threshold (Collecting is set).</summary>
    public static delegate*<Runtime*, void> CollectGenerations;

    /// <summary>GcModule.CollectAtShutdown: pa_runtime_free's final full collection and its warning.</summary>
    public static delegate*<Runtime*, void> CollectAtShutdown;
}
