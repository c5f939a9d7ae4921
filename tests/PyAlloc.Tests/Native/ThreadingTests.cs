using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using NUnit.Framework;
using PyAlloc.Tests.Support;
using static PyAlloc.Interop.NativeMethods;

namespace PyAlloc.Tests.Native;

/// <summary>Many threads at once on the real libpyalloc.so, with blocks freed by other threads.</summary>
[TestFixture]
public sealed unsafe class ThreadingTests
{
    private readonly record struct Block(nint Pointer, nuint Size, ulong Tag);

    /// <summary>
    /// Each thread allocates blocks of random sizes (pool and large), stamps them with a
    /// pattern, keeps some and hands the rest to the next thread through a queue; every
    /// thread checks and frees what it receives and what it kept. Any overlap, lost write
    /// or refused free shows as a broken pattern or an error.
    /// </summary>
    [Test]
    public void ManyThreads_AllocatingAndFreeingEachOthersBlocks_KeepEveryPatternAndLeakNothing()
    {
        const int threads = 4;
        const int rounds = 20000;
        var queues = new BlockingCollection<Block>[threads];
        for (int t = 0; t < threads; t++)
            queues[t] = new BlockingCollection<Block>(new ConcurrentQueue<Block>());
        var failures = new ConcurrentQueue<string>();
        long tagSource = 0;
        // A PyBuffer another test left to its finaliser must not be freed in the middle of the count.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        MallocStats before = PyMemory.GetStats();

        void Check(Block b, int thread)
        {
            long bad = Memory.FirstMismatch((void*)b.Pointer, b.Size, b.Tag);
            if (bad >= 0)
                failures.Enqueue($"thread {thread}: block 0x{b.Pointer:x} ({b.Size} bytes, tag {b.Tag}) broken at offset {bad}");
            if (pa_usable_size((void*)b.Pointer) < b.Size)
                failures.Enqueue($"thread {thread}: usable size of 0x{b.Pointer:x} below {b.Size}: {PyMemory.LastError}");
            pa_clear_error();
            pa_free((void*)b.Pointer);
            string error = PyMemory.LastError;
            if (error.Length != 0)
                failures.Enqueue($"thread {thread}: pa_free(0x{b.Pointer:x}) refused: {error}");
        }

        void Run(int thread)
        {
            var random = new Random(thread * 7919 + 1);
            var kept = new List<Block>();
            BlockingCollection<Block> next = queues[(thread + 1) % threads];
            for (int i = 0; i < rounds; i++)
            {
                nuint size = (nuint)(random.Next(8) == 0 ? random.Next(513, 3000) : random.Next(0, 513));
                void* p = pa_malloc(size);
                if (p == null || (nuint)p % PA_ALIGNMENT != 0)
                {
                    failures.Enqueue($"thread {thread}: pa_malloc({size}) = 0x{(nuint)p:x}: {PyMemory.LastError}");
                    continue;
                }
                var block = new Block((nint)p, size, (ulong)Interlocked.Increment(ref tagSource));
                Memory.Fill(p, size, block.Tag);
                if (random.Next(2) == 0)
                    next.Add(block);
                else
                    kept.Add(block);
                if (kept.Count > 64)
                {
                    int k = random.Next(kept.Count);
                    Check(kept[k], thread);
                    kept[k] = kept[^1];
                    kept.RemoveAt(kept.Count - 1);
                }
                while (queues[thread].TryTake(out Block received))
                    Check(received, thread);
            }
            foreach (Block b in kept)
                Check(b, thread);
        }

        var workers = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            int id = t;
            workers[t] = new Thread(() =>
            {
                try { Run(id); }
                catch (Exception e) { failures.Enqueue($"thread {id}: {e}"); }
            }) { IsBackground = true, Name = $"pyalloc-worker-{id}" };
        }
        foreach (Thread w in workers)
            w.Start();
        foreach (Thread w in workers)
            w.Join();
        for (int t = 0; t < threads; t++)
        {
            queues[t].CompleteAdding();
            foreach (Block b in queues[t].GetConsumingEnumerable())
                Check(b, -1); // whatever arrived after its receiver finished
        }

        // A worker's cache of large blocks goes back when its OS thread ends, which can be a moment
        // after Join returns (the TLS destructors run after the managed thread is done).
        MallocStats after = PyMemory.GetStats();
        for (int wait = 0; wait < 200 && after.LargeBlocks != before.LargeBlocks; wait++)
        {
            Thread.Sleep(10);
            after = PyMemory.GetStats();
        }
        using (Assert.EnterMultipleScope())
        {
            Assert.That(failures, Is.Empty, string.Join("\n", failures));
            Assert.That(after.BytesInUsedBlocks, Is.EqualTo(before.BytesInUsedBlocks), "pool blocks leaked or freed twice");
            Assert.That(after.LargeBlocks, Is.EqualTo(before.LargeBlocks), "large blocks leaked or freed twice");
            for (int i = 0; i < PA_NUM_SIZE_CLASSES; i++)
                Assert.That(after.Classes[i].BlocksInUse, Is.EqualTo(before.Classes[i].BlocksInUse), $"class {i}");
        }
    }

    [Test]
    public void LastError_IsKeptPerThread()
    {
        pa_clear_error();
        pa_free((void*)0x10); // a failure on this thread
        string mine = PyMemory.LastError;
        string? other = null, otherAfterFailing = null;
        var thread = new Thread(() =>
        {
            other = PyMemory.LastError;
            pa_usable_size(null);
            otherAfterFailing = PyMemory.LastError;
        });
        thread.Start();
        thread.Join();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(mine, Does.StartWith("pa_free:"));
            Assert.That(other, Is.Empty, "a new thread starts without an error");
            Assert.That(otherAfterFailing, Does.StartWith("pa_usable_size:"));
            Assert.That(PyMemory.LastError, Is.EqualTo(mine), "another thread's failure changed this thread's error");
        }
    }
}
