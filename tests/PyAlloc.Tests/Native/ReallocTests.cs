using System;
using System.Runtime.InteropServices;
using NUnit.Framework;
using PyAlloc.Tests.Support;
using static PyAlloc.Interop.NativeMethods;

namespace PyAlloc.Tests.Native;

/// <summary>pa_realloc through the binding, on the real libpyalloc.so.</summary>
[TestFixture]
public sealed unsafe class ReallocTests
{
    [SetUp]
    public void ClearError() => pa_clear_error();

    [Test]
    public void Realloc_OfNull_AllocatesLikeMalloc([Values(0u, 40u, 512u, 2000u)] uint n)
    {
        void* p = pa_realloc(null, n);
        Memory.AssertBlock(p, $"pa_realloc(NULL, {n})");
        Assert.That((ulong)pa_usable_size(p), Is.GreaterThanOrEqualTo((ulong)Math.Max(n, 1u)));
        pa_free(p);
        Assert.That(PyMemory.LastError, Is.Empty);
    }

    [TestCase(100u, 1000u)]
    [TestCase(512u, 513u)]
    [TestCase(1u, 100000u)]
    public void Realloc_GrowingPast512_MovesToTheSystemAllocatorKeepingContents(uint from, uint to)
    {
        void* p = pa_malloc(from);
        Memory.AssertBlock(p, "pa_malloc");
        Memory.Fill(p, from, 7);
        MallocStats before = PyMemory.GetStats();

        void* q = pa_realloc(p, to);
        Memory.AssertBlock(q, $"pa_realloc(p, {to})");
        MallocStats after = PyMemory.GetStats();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Memory.FirstMismatch(q, from, 7), Is.EqualTo(-1), "contents lost");
            Assert.That((ulong)pa_usable_size(q), Is.GreaterThanOrEqualTo((ulong)to));
            Assert.That(after.LargeBlocks - before.LargeBlocks, Is.EqualTo(1), "the new block is a large one");
            Assert.That(after.ClassFor((int)from).BlocksInUse - before.ClassFor((int)from).BlocksInUse, Is.EqualTo(-1),
                "the pool block was freed");
        }
        pa_free(q);
        Assert.That(PyMemory.LastError, Is.Empty);
    }

    [TestCase(1000u, 100u)]
    [TestCase(513u, 512u)]
    [TestCase(100000u, 1u)]
    public void Realloc_ShrinkingUnder512_MovesIntoAPoolKeepingContents(uint from, uint to)
    {
        void* p = pa_malloc(from);
        Memory.AssertBlock(p, "pa_malloc");
        Memory.Fill(p, from, 9);
        MallocStats before = PyMemory.GetStats();

        void* q = pa_realloc(p, to);
        Memory.AssertBlock(q, $"pa_realloc(p, {to})");
        MallocStats after = PyMemory.GetStats();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Memory.FirstMismatch(q, to, 9), Is.EqualTo(-1), "contents lost");
            Assert.That((ulong)pa_usable_size(q), Is.EqualTo((ulong)Memory.ClassSize(to)), "the new block is a pool block");
            Assert.That(after.LargeBlocks - before.LargeBlocks, Is.EqualTo(-1), "the large block was freed");
            Assert.That(after.ClassFor((int)to).BlocksInUse - before.ClassFor((int)to).BlocksInUse, Is.EqualTo(1));
        }
        pa_free(q);
        Assert.That(PyMemory.LastError, Is.Empty);
    }

    /// <summary>
    /// CPython's rule: a pool block stays while the new size fits its class and shrinking
    /// would not save a quarter of it (4n &gt; 3 * size); otherwise it moves.
    /// </summary>
    [Test]
    public void Realloc_OfPoolBlock_StaysInPlaceExactlyWhenCPythonsRuleSaysSo(
        [Values(16u, 32u, 48u, 256u, 496u, 512u)] uint classSize)
    {
        uint[] targets =
        [
            0, 1, classSize / 2, classSize * 3 / 4, classSize * 3 / 4 + 1, classSize - 1, classSize, classSize + 1,
            Math.Min(classSize + 16, 512), 600,
        ];
        foreach (uint n in targets)
        {
            void* p = pa_malloc(classSize);
            Memory.AssertBlock(p, "pa_malloc");
            Memory.Fill(p, classSize, n);
            bool inPlace = n <= classSize && 4 * n > 3 * classSize;

            void* q = pa_realloc(p, n);
            Memory.AssertBlock(q, $"pa_realloc(p[{classSize}], {n})");
            using (Assert.EnterMultipleScope())
            {
                Assert.That(q == p, Is.EqualTo(inPlace),
                    $"pa_realloc of a {classSize}-byte block to {n} bytes: expected it {(inPlace ? "in place" : "moved")}");
                Assert.That(Memory.FirstMismatch(q, Math.Min(n, classSize), n), Is.EqualTo(-1),
                    $"contents lost resizing {classSize} to {n}");
            }
            pa_free(q);
        }
        Assert.That(PyMemory.LastError, Is.Empty);
    }

    [Test]
    public void Realloc_ToZero_FreesTheBlockAndReturnsAMinimalOne([Values(100u, 5000u)] uint n)
    {
        void* p = pa_malloc(n);
        Memory.AssertBlock(p, "pa_malloc");
        MallocStats before = PyMemory.GetStats();
        void* q = pa_realloc(p, 0);
        MallocStats after = PyMemory.GetStats();
        Memory.AssertBlock(q, "pa_realloc(p, 0)");
        using (Assert.EnterMultipleScope())
        {
            Assert.That((ulong)pa_usable_size(q), Is.EqualTo((ulong)PA_ALIGNMENT), "the minimal block");
            if (n > PA_SMALL_REQUEST_THRESHOLD)
                Assert.That(after.LargeBlocks - before.LargeBlocks, Is.EqualTo(-1), "the large block was freed");
            else
                Assert.That(after.ClassFor((int)n).BlocksInUse - before.ClassFor((int)n).BlocksInUse, Is.EqualTo(-1), "the pool block was freed");
            Assert.That(after.ClassFor(0).BlocksInUse - before.ClassFor(0).BlocksInUse, Is.EqualTo(1), "one 16-byte block more");
        }
        pa_free(q);
        Assert.That(PyMemory.LastError, Is.Empty);
    }

    [Test]
    public void Realloc_ToAbsurdSize_FailsAndLeavesTheBlockUntouched(
        [Values(100u, 5000u)] uint n, [Values(ulong.MaxValue, (ulong)long.MaxValue)] ulong hugeSize)
    {
        nuint huge = (nuint)hugeSize;
        void* p = pa_malloc(n);
        Memory.AssertBlock(p, "pa_malloc");
        Memory.Fill(p, n, 3);
        nuint usable = pa_usable_size(p);

        Assert.That((long)pa_realloc(p, huge), Is.Zero, $"pa_realloc(p, {huge}) succeeded");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(PyMemory.LastError, Does.StartWith("pa_realloc:"));
            Assert.That((ulong)pa_usable_size(p), Is.EqualTo((ulong)usable), "the block is still live and the same");
            Assert.That(Memory.FirstMismatch(p, n, 3), Is.EqualTo(-1), "contents changed");
        }
        pa_clear_error();
        pa_free(p);
        Assert.That(PyMemory.LastError, Is.Empty, "the block was still ours to free");
    }

    [Test]
    public void Realloc_BetweenLargeSizes_KeepsContents()
    {
        void* p = pa_malloc(1000);
        Memory.AssertBlock(p, "pa_malloc");
        Memory.Fill(p, 1000, 5);
        p = pa_realloc(p, 300000);
        Memory.AssertBlock(p, "pa_realloc grow");
        Assert.That(Memory.FirstMismatch(p, 1000, 5), Is.EqualTo(-1));
        Memory.Fill(p, 300000, 6);
        p = pa_realloc(p, 700);
        Memory.AssertBlock(p, "pa_realloc shrink");
        Assert.That(Memory.FirstMismatch(p, 700, 6), Is.EqualTo(-1));
        pa_free(p);
        Assert.That(PyMemory.LastError, Is.Empty);
    }

    [Test]
    public void Realloc_OfForeignPointer_ReturnsNullAndLeavesItAlone()
    {
        byte* foreign = (byte*)NativeMemory.Alloc(64);
        try
        {
            foreign[0] = 42;
            Assert.That((long)pa_realloc(foreign, 128), Is.Zero);
            Assert.That(PyMemory.LastError, Does.StartWith("pa_realloc:"));
            Assert.That(foreign[0], Is.EqualTo(42));
        }
        finally
        {
            NativeMemory.Free(foreign);
        }
    }
}
