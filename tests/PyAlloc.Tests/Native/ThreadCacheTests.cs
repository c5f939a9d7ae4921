using System;
using System.Linq;
using System.Threading;
using NUnit.Framework;
using static PyAlloc.Interop.NativeMethods;

namespace PyAlloc.Tests.Native;

/// <summary>
/// The per-thread cache behind pa_malloc and pa_free (native/entry/thread_cache.h), as a
/// .NET caller meets it through the binding: a cached block is free to the caller, the
/// statistics count it as free, and the blocks of a .NET thread come back when it ends.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed unsafe class ThreadCacheTests
{
    [SetUp]
    public void InPymallocMode()
    {
        pa_clear_error();
        Assert.That(PyMemory.Mode, Is.EqualTo(AllocatorMode.Pymalloc), "the thread cache is pymalloc mode's");
    }

    private static long InUse(MallocStats st) => st.Classes.Sum(c => c.BlocksInUse);

    private static long TrimAndCountArenas()
    {
        PyMemory.Trim();
        return PyMemory.GetStats().ArenasCurrent;
    }

    [Test]
    public void FreeingACachedBlockAgain_IsRefusedAsADoubleFree()
    {
        void* p = pa_malloc(40);
        pa_free(p);
        pa_free(p);
        Assert.That(PyMemory.LastError, Does.StartWith("pa_free:").And.Contain("double free"));
        void* a = pa_malloc(40), b = pa_malloc(40);
        Assert.That((nint)a, Is.Not.EqualTo((nint)b), "the block is handed out once");
        pa_free(a);
        pa_free(b);
    }

    [Test]
    public void AFreedLargeBlock_IsKeptForTheNextMallocItFits_AndFreeingItAgainIsRefused()
    {
        void* p = pa_malloc(4000);
        Assert.That((nint)p, Is.Not.Zero);
        long before = PyMemory.GetStats().LargeBlocks;   // flushes this thread's cache first
        pa_free(p);
        pa_free(p);
        Assert.That(PyMemory.LastError, Does.StartWith("pa_free:").And.Contain("double free"));
        pa_clear_error();
        void* q = pa_malloc(3000);
        Assert.That((nint)q, Is.EqualTo((nint)p), "the kept block serves a request it fits");
        Assert.That(pa_usable_size(q), Is.GreaterThanOrEqualTo((nuint)4000));
        pa_free(q);
        Assert.That(PyMemory.GetStats().LargeBlocks, Is.EqualTo(before - 1), "a flush frees the kept block");
    }

    [Test]
    public void UsableSizeOfACachedBlock_IsRefused()
    {
        void* p = pa_malloc(100);
        Assert.That(pa_usable_size(p), Is.EqualTo((nuint)112));
        pa_free(p);
        Assert.That(pa_usable_size(p), Is.EqualTo((nuint)0));
        Assert.That(PyMemory.LastError, Does.Contain("double free"));
    }

    [Test]
    public void CallocFromTheCache_IsZeroed()
    {
        var blocks = new nint[64];
        for (int i = 0; i < blocks.Length; i++)
        {
            blocks[i] = (nint)pa_malloc(96);
            new System.Span<byte>((void*)blocks[i], 96).Fill(0xAB);
        }
        foreach (nint b in blocks)
            pa_free((void*)b);
        for (int i = 0; i < blocks.Length; i++)
        {
            blocks[i] = (nint)pa_calloc(3, 32);
            Assert.That(MemoryExtensions.IndexOfAnyExcept(new ReadOnlySpan<byte>((void*)blocks[i], 96), (byte)0), Is.EqualTo(-1));
        }
        foreach (nint b in blocks)
            pa_free((void*)b);
    }

    [Test]
    public void BlocksCachedByARunningThread_CountAsFree_AndComeBackWhenItEnds()
    {
        long before = InUse(PyMemory.GetStats());
        using var cached = new ManualResetEventSlim();
        using var checkedStats = new ManualResetEventSlim();
        var thread = new Thread(() =>
        {
            var blocks = new nint[200];
            for (int i = 0; i < blocks.Length; i++)
                blocks[i] = (nint)pa_malloc(48);
            foreach (nint b in blocks)
                pa_free((void*)b);
            cached.Set();
            checkedStats.Wait();
        });
        thread.Start();
        cached.Wait();
        MallocStats during = PyMemory.GetStats();
        Assert.That(InUse(during), Is.EqualTo(before), "cached blocks are free blocks");
        Assert.That(during.ClassFor(48).FreeBlocks, Is.GreaterThanOrEqualTo(200));
        checkedStats.Set();
        thread.Join();
        Assert.That(InUse(PyMemory.GetStats()), Is.EqualTo(before));
    }

    [Test]
    public void AThreadThatOnlyFrees_GivesEveryBlockBack()
    {
        PyMemory.Trim();
        MallocStats before = PyMemory.GetStats();
        var blocks = new nint[20000];
        var rng = new System.Random(3);
        for (int i = 0; i < blocks.Length; i++)
            blocks[i] = (nint)pa_malloc((nuint)rng.Next(1, 513));
        string error = "";
        var consumer = new Thread(() =>
        {
            foreach (nint b in blocks)
                pa_free((void*)b);
            error = PyMemory.LastError;
        });
        consumer.Start();
        consumer.Join();
        Assert.That(error, Is.Empty);
        MallocStats after = PyMemory.GetStats();
        Assert.That(InUse(after), Is.EqualTo(InUse(before)));
        // Thread.Join returns when the managed thread is done; the OS thread ends (and
        // hands its cache back) a moment later.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long arenas;
        while ((arenas = TrimAndCountArenas()) != before.ArenasCurrent && clock.ElapsedMilliseconds < 10_000)
            Thread.Sleep(10);
        Assert.That(arenas, Is.EqualTo(before.ArenasCurrent));
    }
}
