using System;
using System.IO;
using System.Runtime.CompilerServices;
using NUnit.Framework;
using PyAlloc.Tests.Support;

namespace PyAlloc.Tests.Native.Tracing;

/// <summary>
/// The idiomatic layer names its caller for tracemalloc: a block from <see cref="PyMemory.Alloc"/> (and its
/// twins) or an object from <see cref="PyType.New"/>, <see cref="PyList.New"/> is traced at the C# file and line
/// of the call (<c>[CallerFilePath]</c>, <c>[CallerLineNumber]</c> passed to the <c>_at</c> entry points), not at
/// an interop stub's address.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed unsafe class CallerSiteTests : RuntimeFixture
{
    [SetUp]
    public void StartTracing() => Tracemalloc.Start(1);

    [TearDown]
    public void StopTracing() => Tracemalloc.Stop();

    private static int Here([CallerLineNumber] int line = 0) => line;

    private static void AssertTracedHere(void* block, int line, string what)
    {
        var tb = Tracemalloc.GetTraceback(block);
        Assert.That(tb, Is.Not.Empty, $"{what}: not traced");
        Assert.That(Path.GetFileName(tb[0].Filename), Is.EqualTo(nameof(CallerSiteTests) + ".cs"), what);
        Assert.That(tb[0].Lineno, Is.EqualTo(line), what);
    }

    [Test]
    public void Blocks_are_traced_at_the_callers_line()
    {
        void* a = PyMemory.Alloc(40); int la = Here();
        void* c = PyMemory.Calloc(2, 24); int lc = Here();
        void* k = PyMemory.TryAlloc(300); int lk = Here();
        void* r = PyMemory.Realloc(PyMemory.Alloc(16), 2000); int lr = Here();
        using PyBuffer b = PyBuffer.Allocate(100); int lb = Here();
        try
        {
            AssertTracedHere(a, la, "Alloc");
            AssertTracedHere(c, lc, "Calloc");
            AssertTracedHere(k, lk, "TryAlloc");
            AssertTracedHere(r, lr, "Realloc");
            AssertTracedHere(b.Pointer, lb, "PyBuffer.Allocate");
        }
        finally
        {
            PyMemory.Free(a); PyMemory.Free(c); PyMemory.Free(k); PyMemory.Free(r);
        }
    }

    [Test]
    public void Objects_are_traced_at_the_callers_line()
    {
        using var rt = new PyRuntime();
        using PyOwned list = PyList.New(rt); int ll = Here();
        AssertTracedHere(list.Pointer, ll, "PyList.New");
    }

    [Test]
    public void Many_files_and_threads_keep_their_own_sites()
    {
        // The per-thread cache of the last path must not give one thread's file to another.
        var threads = new System.Threading.Thread[4];
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        for (int t = 0; t < threads.Length; t++)
        {
            threads[t] = new System.Threading.Thread(() =>
            {
                for (int i = 0; i < 1000; i++)
                {
                    void* p = OtherFile.Alloc(32);
                    void* q = PyMemory.Alloc(32); int lq = Here();
                    var tp = Tracemalloc.GetTraceback(p);
                    var tq = Tracemalloc.GetTraceback(q);
                    if (tp.Count == 0 || Path.GetFileName(tp[0].Filename) != "CallerSiteTests.OtherFile.cs")
                        failures.Enqueue($"other file's block traced at {(tp.Count > 0 ? tp[0].ToString() : "nothing")}");
                    if (tq.Count == 0 || tq[0].Lineno != lq || Path.GetFileName(tq[0].Filename) != "CallerSiteTests.cs")
                        failures.Enqueue($"this file's block traced at {(tq.Count > 0 ? tq[0].ToString() : "nothing")}");
                    PyMemory.Free(p);
                    PyMemory.Free(q);
                }
            });
            threads[t].Start();
        }
        foreach (var th in threads)
            th.Join();
        Assert.That(failures, Is.Empty);
    }
}
