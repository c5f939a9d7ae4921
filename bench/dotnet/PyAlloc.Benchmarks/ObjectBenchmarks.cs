using BenchmarkDotNet.Attributes;

using PyAlloc.Interop;

namespace PyAlloc.Benchmarks;

/// <summary>A small GC object: the header and two references (bench/c/bench_gc.c's node).</summary>
public unsafe struct Node
{
    /// <summary>The object header.</summary>
    public PaObject Header;
    /// <summary>First reference.</summary>
    [PyRef] public PaObject* A;
    /// <summary>Second reference.</summary>
    [PyRef] public PaObject* B;
}

/// <summary>
/// Objects through the idiomatic layer, in one runtime made for the class: lists in unreachable
/// 2-cycles found by a full collection, and a <see cref="PyType.Define{T}"/> type's objects made and released.
/// </summary>
/// <remarks>
/// The runtime keeps its default collector settings (automatic collections on), as a caller gets it;
/// so some of the cycles may already be found by young collections while the lists are made.
/// <see cref="PyOwned"/> is a class: its managed allocation shows in the Allocated column.
/// </remarks>
public unsafe class Objects
{
    /// <summary>Lists per invocation of <see cref="ListCycles_NewAppendCollect"/>: half as many 2-cycles.</summary>
    public const int Lists = 1000;

    private PyRuntime _runtime = null!;
    private PyType _node = null!;

    /// <summary>A fresh runtime and the Node type.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _runtime = new PyRuntime();
        _node = PyType.Define<Node>(_runtime, "Node");
    }

    /// <summary>Ends the runtime (every object left goes with it).</summary>
    [GlobalCleanup]
    public void Cleanup() => _runtime.Dispose();

    /// <summary>
    /// README's example, 500 times: two lists that hold each other, the owners released, then
    /// <see cref="PyRuntime.Collect"/>; the time is per list (made, linked, collected).
    /// </summary>
    [Benchmark(OperationsPerInvoke = Lists)]
    public long ListCycles_NewAppendCollect()
    {
        for (int i = 0; i < Lists / 2; i++)
        {
            using PyOwned a = PyList.New(_runtime), b = PyList.New(_runtime);
            PyList.Append(a, b);
            PyList.Append(b, a);
        }
        return _runtime.Collect();
    }

    /// <summary>One object of a <see cref="PyType.Define{T}"/> type: <see cref="PyType.New"/> then <see cref="PyOwned.Dispose"/>.</summary>
    [Benchmark]
    public void Node_New_Dispose()
    {
        using PyOwned o = _node.New();
    }

    /// <summary>The same through the raw binding (<c>pa_object_new</c>, <c>pa_decref</c>): no <see cref="PyOwned"/>.</summary>
    [Benchmark]
    public void Node_pa_object_new_decref() => NativeMethods.pa_decref(NativeMethods.pa_object_new(_node.Handle));
}
