// A fresh app that uses PyAlloc from its NuGet package (tests/package/package.cmake builds
// it against the package in a local folder feed, runs it under the JIT, publishes it with
// PublishAot=true and runs that). The code is the README's .NET examples, plus tracemalloc;
// each line it prints is checked.
using System;
using PyAlloc;

Console.WriteLine($"version {PyMemory.Version}");

using (PyBuffer buffer = PyBuffer.Allocate(100))   // a pool block, freed by Dispose
{
    buffer.Span.Fill(0x2a);
    Console.WriteLine($"buffer {buffer.Length} bytes, {buffer.UsableSize} usable");
}

unsafe
{
    void* p = PyMemory.Alloc(4000);                // throws PyAllocException when out of memory
    PyMemory.Free(p);
    void* q = PyMemory.TryAlloc(64);               // Try forms: null instead, see PyMemory.LastError
    PyMemory.Free(q);
}

MallocStats stats = PyMemory.GetStats();
Console.WriteLine($"stats {stats.ArenasCurrent} arenas");

using var rt = new PyRuntime();
PyType node = PyType.Define<Node>(rt, "Node");      // GC type, ref_offsets from [PyRef]
Console.WriteLine($"ref_offsets {string.Join(",", node.RefOffsets)}");
using PyOwned root = node.New();                    // a new reference: count 1
using (PyOwned a = PyList.New(rt), b = PyList.New(rt))
{
    PyList.Append(a, b);                            // the list takes its own reference
    PyList.Append(b, a);                            // a cycle: counts are 2 and 2
}                                                   // del a, b: counts 1 and 1
int callbacks = 0;
using (IDisposable cb = rt.AddCallback((phase, info) => callbacks++))
    Console.WriteLine($"collected {rt.Collect()}");  // 2
Console.WriteLine($"callbacks {callbacks}");

Tracemalloc.Start(1);
using (PyOwned traced = PyList.New(rt))             // traced at this line: the C# caller, not an interop stub
using (TraceSnapshot snapshot = Tracemalloc.TakeSnapshot())
{
    Console.WriteLine($"traces {(snapshot.TraceCount > 0 ? "some" : "none")}");
    var frames = Tracemalloc.GetTraceback(traced);
    Console.WriteLine($"list traced at {(frames.Count > 0 ? $"{System.IO.Path.GetFileName(frames[0].Filename)}:{frames[0].Lineno}" : "nothing")}");
}
Tracemalloc.Stop();

PyType safeNode = PyType.Define<SafeNode>(rt, "SafeNode");  // no unsafe: [PyRef] PyObjectRef fields
using (PyOwned x = safeNode.New(), y = safeNode.New())
{
    PyObjectRef.Assign(ref x.AsRef<SafeNode>().Next, y);
    PyObjectRef.Assign(ref y.AsRef<SafeNode>().Next, x);
}
Console.WriteLine($"safe collected {rt.Collect()}");
Console.WriteLine("done");

unsafe struct Node { public PaObject Header; [PyRef] public PaObject* Parent; [PyRef] public PaObject* Children; }
struct SafeNode { public PaObject Header; [PyRef] public PyObjectRef Next; }
