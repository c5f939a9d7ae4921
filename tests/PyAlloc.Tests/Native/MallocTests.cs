using System.Collections.Generic;
using System.Runtime.InteropServices;
using NUnit.Framework;
using PyAlloc.Tests.Support;
using static PyAlloc.Interop.NativeMethods;

namespace PyAlloc.Tests.Native;

/// <summary>pa_malloc, pa_calloc and pa_usable_size through the binding, on the real libpyalloc.so.</summary>
[TestFixture]
public sealed unsafe class MallocTests
{
    [SetUp]
    public void ClearError() => pa_clear_error();

    [TestCase(0u)]
    [TestCase(1u)]
    [TestCase(15u)]
    [TestCase(16u)]
    [TestCase(17u)]
    [TestCase(511u)]
    [TestCase(512u)]
    public void Malloc_OfPoolSize_ReturnsAlignedBlockWhoseUsableSizeIsItsClass(uint n)
    {
        void* p = pa_malloc(n);
        Memory.AssertBlock(p, $"pa_malloc({n})");
        nuint usable = pa_usable_size(p);
        Assert.That((ulong)usable, Is.EqualTo((ulong)Memory.ClassSize(n)), $"usable size of pa_malloc({n})");
        Memory.Fill(p, usable, n); // every usable byte is writable
        Assert.That(Memory.FirstMismatch(p, usable, n), Is.EqualTo(-1));
        pa_free(p);
        Assert.That(PyMemory.LastError, Is.Empty);
    }

    [TestCase(513u)]
    [TestCase(4096u)]
    [TestCase(1u << 20)]
    public void Malloc_OverThreshold_ComesFromSystemAllocatorAndIsCountedAsLarge(uint n)
    {
        MallocStats before = PyMemory.GetStats();
        void* p = pa_malloc(n);
        Memory.AssertBlock(p, $"pa_malloc({n})");
        nuint usable = pa_usable_size(p);
        MallocStats during = PyMemory.GetStats();
        pa_free(p);
        MallocStats after = PyMemory.GetStats();

        using (Assert.EnterMultipleScope())
        {
            Assert.That((ulong)usable, Is.GreaterThanOrEqualTo((ulong)n));
            Assert.That(during.LargeBlocks - before.LargeBlocks, Is.EqualTo(1));
            Assert.That(during.LargeBytes - before.LargeBytes, Is.EqualTo((long)usable));
            Assert.That(during.BytesInUsedBlocks, Is.EqualTo(before.BytesInUsedBlocks), "a large block is not a pool block");
            Assert.That(after.LargeBlocks, Is.EqualTo(before.LargeBlocks));
            Assert.That(after.LargeBytes, Is.EqualTo(before.LargeBytes));
            Assert.That(PyMemory.LastError, Is.Empty);
        }
    }

    [Test]
    public void Malloc_OfZero_ReturnsDistinctFreeableBlocks()
    {
        var seen = new HashSet<nuint>();
        var blocks = new List<nint>();
        for (int i = 0; i < 100; i++)
        {
            void* p = pa_malloc(0);
            Memory.AssertBlock(p, "pa_malloc(0)");
            Assert.That(seen.Add((nuint)p), Is.True, $"pa_malloc(0) returned 0x{(nuint)p:x} twice");
            blocks.Add((nint)p);
        }
        foreach (nint p in blocks)
            pa_free((void*)p);
        Assert.That(PyMemory.LastError, Is.Empty, "pa_free refused a pa_malloc(0) block");
    }

    [Test]
    public void Malloc_OfAbsurdSize_ReturnsNullWithErrorAndEnomem(
        [Values(ulong.MaxValue, (ulong)long.MaxValue + 1, (ulong)long.MaxValue)] ulong size)
    {
        nuint n = (nuint)size;
        void* p = NativeExports.MallocReadingErrno(n, out int errno);
        Assert.That((long)p, Is.Zero, $"pa_malloc({n}) succeeded");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(errno, Is.EqualTo(NativeExports.ENOMEM), "errno");
            Assert.That(PyMemory.LastError, Does.StartWith("pa_malloc:").And.Contain(n.ToString()));
        }
    }

    [Test]
    public void Malloc_OfAbsurdSize_ThroughTheBinding_ReturnsNull()
    {
        Assert.That((long)pa_malloc(nuint.MaxValue), Is.Zero);
        Assert.That(PyMemory.LastError, Is.Not.Empty);
    }

    [Test]
    public void Malloc_BlocksOfEveryClass_DoNotOverlap()
    {
        const int perSize = 5;
        var blocks = new List<(nint P, nuint Size, ulong Tag)>();
        ulong tag = 1;
        for (nuint n = 1; n <= PA_SMALL_REQUEST_THRESHOLD + 64; n += 7)
        {
            for (int k = 0; k < perSize; k++, tag++)
            {
                void* p = pa_malloc(n);
                Memory.AssertBlock(p, $"pa_malloc({n})");
                Memory.Fill(p, n, tag);
                blocks.Add(((nint)p, n, tag));
            }
        }
        foreach (var (p, size, t) in blocks)
            Assert.That(Memory.FirstMismatch((void*)p, size, t), Is.EqualTo(-1), $"block 0x{p:x} of {size} bytes was overwritten");
        foreach (var (p, _, _) in blocks)
            pa_free((void*)p);
        Assert.That(PyMemory.LastError, Is.Empty);
    }

    [TestCase(1u)]
    [TestCase(100u)]
    [TestCase(512u)]
    [TestCase(513u)]
    [TestCase(5000u)]
    public void Calloc_ReturnsZeroedBytes_EvenInARecycledBlock(uint n)
    {
        // Dirty a block of the same size first: pymalloc hands the last freed block out again.
        void* dirty = pa_malloc(n);
        Memory.AssertBlock(dirty, "pa_malloc");
        new System.Span<byte>(dirty, (int)n).Fill(0xAB);
        pa_free(dirty);

        void* p = pa_calloc(1, n);
        Memory.AssertBlock(p, $"pa_calloc(1, {n})");
        Assert.That(Memory.IsZero(p, n), Is.True, $"pa_calloc(1, {n}) is not zeroed");
        pa_free(p);

        void* q = pa_calloc(n, 1);
        Memory.AssertBlock(q, $"pa_calloc({n}, 1)");
        Assert.That(Memory.IsZero(q, n), Is.True, $"pa_calloc({n}, 1) is not zeroed");
        pa_free(q);
    }

    [TestCase(1ul << 62, 8ul)]
    [TestCase(ulong.MaxValue, 2ul)]
    [TestCase(1ul << 32, 1ul << 32)]
    public void Calloc_WhenTheProductOverflows_ReturnsNullNamingBothFactors(ulong nelem, ulong elsize)
    {
        void* p = NativeExports.CallocReadingErrno((nuint)nelem, (nuint)elsize, out int errno);
        Assert.That((long)p, Is.Zero, $"pa_calloc({nelem}, {elsize}) succeeded");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(errno, Is.EqualTo(NativeExports.ENOMEM), "errno");
            Assert.That(PyMemory.LastError, Does.StartWith("pa_calloc:").And.Contain(nelem.ToString()).And.Contain(elsize.ToString()));
        }
    }

    [TestCase(0ul, 8ul)]
    [TestCase(8ul, 0ul)]
    [TestCase(0ul, ulong.MaxValue)]
    [TestCase(ulong.MaxValue, 0ul)]
    public void Calloc_WithAZeroFactor_ReturnsAMinimalBlock(ulong nelem, ulong elsize)
    {
        void* p = pa_calloc((nuint)nelem, (nuint)elsize);
        Memory.AssertBlock(p, $"pa_calloc({nelem}, {elsize})");
        Assert.That((ulong)pa_usable_size(p), Is.EqualTo((ulong)PA_ALIGNMENT));
        pa_free(p);
        Assert.That(PyMemory.LastError, Is.Empty);
    }

    [Test]
    public void UsableSize_OfNull_IsZeroWithError()
    {
        Assert.That((ulong)pa_usable_size(null), Is.Zero);
        Assert.That(PyMemory.LastError, Does.StartWith("pa_usable_size:"));
    }

    [Test]
    public void UsableSize_OfForeignPointers_IsZeroWithError()
    {
        void* small = NativeMemory.Alloc(64);
        void* large = NativeMemory.Alloc(1 << 20);
        int local = 0;
        try
        {
            foreach (nint p in new[] { (nint)small, (nint)large, (nint)(&local) })
            {
                pa_clear_error();
                Assert.That((ulong)pa_usable_size((void*)p), Is.Zero, $"pa_usable_size(0x{p:x})");
                Assert.That(PyMemory.LastError, Does.StartWith("pa_usable_size:"));
            }
        }
        finally
        {
            NativeMemory.Free(small);
            NativeMemory.Free(large);
        }
    }
}
