using System;
using System.Runtime.InteropServices;
using NUnit.Framework;
using PyAlloc.Tests.Support;

namespace PyAlloc.Tests.Native;

/// <summary>The idiomatic layer: PyMemory's two error conventions, PyBuffer, FormatStats.</summary>
[TestFixture]
public sealed unsafe class PyMemoryTests
{
    [SetUp]
    public void ClearError() => PyMemory.ClearError();

    [Test]
    public void TryForms_ReportFailureLikeC_WithNullAndLastError()
    {
        Assert.That((long)PyMemory.TryAlloc(nuint.MaxValue), Is.Zero);
        Assert.That(PyMemory.LastError, Does.StartWith("pa_malloc:"));
        Assert.That((long)PyMemory.TryCalloc(nuint.MaxValue, 2), Is.Zero);
        Assert.That(PyMemory.LastError, Does.StartWith("pa_calloc:"));
        void* p = PyMemory.TryAlloc(10);
        Assert.That((long)p, Is.Not.Zero);
        Assert.That((long)PyMemory.TryRealloc(p, nuint.MaxValue), Is.Zero);
        Assert.That(PyMemory.LastError, Does.StartWith("pa_realloc:"));
        p = PyMemory.TryRealloc(p, 100);
        Assert.That((long)p, Is.Not.Zero);
        Assert.That(PyMemory.TryFree(p), Is.True);
    }

    [Test]
    public void Failures_ThrowPyAllocExceptionWithTheLibrarysMessage()
    {
        var e = Assert.Throws<PyAllocException>(() => PyMemory.Alloc(nuint.MaxValue));
        Assert.That(e!.Message, Does.StartWith("pa_malloc:").And.EqualTo(PyMemory.LastError));

        e = Assert.Throws<PyAllocException>(() => PyMemory.Calloc((nuint)1 << 62, 8));
        Assert.That(e!.Message, Does.StartWith("pa_calloc:").And.Contain("4611686018427387904"));

        void* p = PyMemory.Alloc(10);
        e = Assert.Throws<PyAllocException>(() => PyMemory.Realloc(p, nuint.MaxValue));
        Assert.That(e!.Message, Does.StartWith("pa_realloc:"));
        Assert.That((ulong)PyMemory.UsableSize(p), Is.EqualTo((ulong)16), "the block survives a failed Realloc");
        Assert.That(PyMemory.TryFree(p), Is.True);
    }

    [Test]
    public void TryFree_OfAForeignPointer_IsFalse_AndFreeOnlySetsTheError()
    {
        void* foreign = NativeMemory.Alloc(32);
        try
        {
            Assert.That(PyMemory.TryFree(foreign), Is.False);
            Assert.That(PyMemory.LastError, Does.StartWith("pa_free:"));

            PyMemory.ClearError();
            Assert.DoesNotThrow(() => PyMemory.Free(foreign));
            Assert.That(PyMemory.LastError, Does.StartWith("pa_free:"));
        }
        finally
        {
            NativeMemory.Free(foreign);
        }
    }

    [Test]
    public void TryFree_OfALiveBlockOrNull_IsTrue_EvenWithAnOlderErrorPending()
    {
        PyMemory.Free((void*)0x30); // leaves an error behind
        void* p = PyMemory.Alloc(700);
        Assert.That(PyMemory.TryFree(p), Is.True);
        Assert.That(PyMemory.TryFree(null), Is.True);
    }

    [Test]
    [NonParallelizable]
    public void AllocatedBlocks_CountsTheBlocksHandedOut_AsGetStatsDoes()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();   // no PyBuffer freed by the finaliser in between
        long before = PyMemory.AllocatedBlocks;
        var blocks = new nint[12];
        for (int i = 0; i < blocks.Length; i++)
            blocks[i] = (nint)PyMemory.Alloc((nuint)(i < 10 ? 64 : 4000));
        Assert.That(PyMemory.AllocatedBlocks, Is.EqualTo(before + blocks.Length));
        foreach (nint p in blocks)
            PyMemory.Free((void*)p);
        Assert.That(PyMemory.AllocatedBlocks, Is.EqualTo(before));
    }

    [Test]
    public void GetStats_ExposesEveryClassInOrder()
    {
        MallocStats stats = PyMemory.GetStats();
        Assert.That(stats.Classes, Has.Count.EqualTo(NativeMethods.PA_NUM_SIZE_CLASSES));
        for (int i = 0; i < stats.Classes.Count; i++)
            Assert.That(stats.Classes[i].Index, Is.EqualTo(i));
        Assert.That(stats.ClassFor(0).Index, Is.Zero);
        Assert.That(stats.ClassFor(16).Index, Is.Zero);
        Assert.That(stats.ClassFor(17).Index, Is.EqualTo(1));
        Assert.That(stats.ClassFor(512).Index, Is.EqualTo(31));
        Assert.Throws<ArgumentOutOfRangeException>(() => stats.ClassFor(513));
        Assert.Throws<ArgumentOutOfRangeException>(() => stats.ClassFor(-1));
    }

    [Test]
    public void FormatStats_ShowsTheRowOfAClassInUse()
    {
        void* p = PyMemory.Alloc(400);
        try
        {
            MallocStats stats = PyMemory.GetStats();
            string table = PyMemory.FormatStats();
            SizeClassStats c = stats.ClassFor(400);
            Assert.That(table, Does.Match($@"(?m)^\s*{c.Index}\s+{c.BlockSize}\s+{c.Pools}\s+{c.BlocksInUse}\s+{c.FreeBlocks}\s*$"));
        }
        finally
        {
            PyMemory.Free(p);
        }
    }

    [Test]
    public void PrintStats_ToNull_IsRefused_InCAndInTheBinding()
    {
        Assert.That(NativeMethods.pa_print_malloc_stats(null), Is.EqualTo(-1));
        Assert.That(PyMemory.LastError, Does.StartWith("pa_print_malloc_stats:"));
        Assert.Throws<ArgumentNullException>(() => PyMemory.PrintStats(null));
    }

    [Test]
    public void ModeName_IsTheCName_ForEveryMode()
    {
        Assert.That(PyMemory.ModeName(AllocatorMode.Pymalloc), Is.EqualTo("pymalloc"));
        Assert.That(PyMemory.ModeName(AllocatorMode.Malloc), Is.EqualTo("malloc"));
        Assert.That(PyMemory.ModeName(AllocatorMode.Debug), Is.EqualTo("debug"));
        Assert.That(PyMemory.ModeName(AllocatorMode.MallocDebug), Is.EqualTo("malloc_debug"));
        Assert.Throws<ArgumentOutOfRangeException>(() => PyMemory.ModeName((AllocatorMode)42));
    }

    [Test]
    public void PyBuffer_HoldsItsBytes_ResizesKeepingThem_AndFreesOnDispose()
    {
        MallocStats before = PyMemory.GetStats();
        var buffer = PyBuffer.Allocate(100);
        Assert.That(buffer.Length, Is.EqualTo(100));
        Assert.That((ulong)buffer.Pointer % 16, Is.Zero);
        Assert.That((ulong)buffer.UsableSize, Is.EqualTo((ulong)112));
        for (int i = 0; i < buffer.Length; i++)
            buffer.Span[i] = (byte)i;

        buffer.Resize(5000);
        Assert.That(buffer.Length, Is.EqualTo(5000));
        for (int i = 0; i < 100; i++)
            Assert.That(buffer.Span[i], Is.EqualTo((byte)i), $"byte {i} after growing");
        buffer.Resize(10);
        for (int i = 0; i < 10; i++)
            Assert.That(buffer.Span[i], Is.EqualTo((byte)i), $"byte {i} after shrinking");

        buffer.Dispose();
        buffer.Dispose(); // twice is fine
        MallocStats after = PyMemory.GetStats();
        Assert.That(buffer.IsDisposed, Is.True);
        Assert.Throws<ObjectDisposedException>(() => _ = buffer.Span);
        Assert.Throws<ObjectDisposedException>(() => buffer.Resize(1));
        Assert.That(after.BytesInUsedBlocks, Is.EqualTo(before.BytesInUsedBlocks));
        Assert.That(after.LargeBlocks, Is.EqualTo(before.LargeBlocks));
        Assert.That(PyMemory.LastError, Is.Empty);
    }

    [Test]
    public void PyBuffer_Zeroed_IsZero_AndEmptyIsValid()
    {
        using (var dirty = PyBuffer.Allocate(300))
            dirty.Span.Fill(0xEE);
        using var zeroed = PyBuffer.AllocateZeroed(300);
        Assert.That(zeroed.Span.IndexOfAnyExcept((byte)0), Is.EqualTo(-1));
        using var empty = PyBuffer.Allocate(0);
        Assert.That(empty.Span.Length, Is.Zero);
        Assert.That((long)empty.Pointer, Is.Not.Zero, "a zero-length buffer still owns the minimal block");
        Assert.Throws<ArgumentOutOfRangeException>(() => PyBuffer.Allocate(-1));
    }

    [Test]
    public void PyBuffer_ResizeToANegativeLength_ThrowsAndKeepsTheBuffer()
    {
        using var buffer = PyBuffer.Allocate(64);
        buffer.Span.Fill(9);
        void* before = buffer.Pointer;
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.Resize(-5));
        Assert.That(buffer.Length, Is.EqualTo(64));
        Assert.That(buffer.Pointer == before, Is.True);
        Assert.That(buffer.Span.IndexOfAnyExcept((byte)9), Is.EqualTo(-1));
    }
}
