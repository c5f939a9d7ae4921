using System.Runtime.InteropServices;
using NUnit.Framework;
using PyAlloc.Tests.Support;
using static PyAlloc.Interop.NativeMethods;

namespace PyAlloc.Tests.Native;

/// <summary>pa_free through the binding: what it must refuse, and that refusing does no harm.</summary>
[TestFixture]
public sealed unsafe class FreeTests
{
    [SetUp]
    public void ClearError() => pa_clear_error();

    [Test]
    public void Free_OfNull_DoesNothingAndSetsNoError()
    {
        pa_free(null);
        Assert.That(PyMemory.LastError, Is.Empty);
    }

    [TestCase(16)]
    [TestCase(600)]
    [TestCase(1 << 20)]
    public void Free_OfANativeMemoryBlock_IsRefusedAndTheBlockStaysUsable(int size)
    {
        byte* foreign = (byte*)NativeMemory.Alloc((nuint)size);
        try
        {
            MallocStats before = PyMemory.GetStats();
            pa_free(foreign);
            MallocStats after = PyMemory.GetStats();
            using (Assert.EnterMultipleScope())
            {
                Assert.That(PyMemory.LastError, Does.StartWith("pa_free:").And.Contain($"{(nuint)foreign:x}"));
                Assert.That(after.LargeBlocks, Is.EqualTo(before.LargeBlocks));
                Assert.That(after.BytesInUsedBlocks, Is.EqualTo(before.BytesInUsedBlocks));
            }
            new System.Span<byte>(foreign, size).Fill(1); // still ours, still writable
        }
        finally
        {
            NativeMemory.Free(foreign); // glibc would abort here had pa_free freed it
        }
    }

    [Test]
    public void Free_OfAStackAddress_IsRefused()
    {
        long local = 7;
        pa_free(&local);
        Assert.That(PyMemory.LastError, Does.StartWith("pa_free:"));
        Assert.That(local, Is.EqualTo(7));
    }

    [Test]
    public void Free_OfInteriorPointers_IsRefusedAndTheBlockStaysLive([Values(64u, 512u, 4000u)] uint n)
    {
        byte* p = (byte*)pa_malloc(n);
        Memory.AssertBlock(p, "pa_malloc");
        nuint usable = pa_usable_size(p);
        foreach (int offset in new[] { 1, 8, 16, 32 })
        {
            pa_clear_error();
            pa_free(p + offset);
            Assert.That(PyMemory.LastError, Does.StartWith("pa_free:"), $"pa_free(p + {offset}) of a {n}-byte block");
        }
        Assert.That((ulong)pa_usable_size(p), Is.EqualTo((ulong)usable), "the block is still live");
        pa_clear_error();
        pa_free(p);
        Assert.That(PyMemory.LastError, Is.Empty);
    }

    [Test]
    public void Free_TwiceInARow_IsRefusedTheSecondTime([Values(16u, 200u, 512u, 3000u)] uint n)
    {
        // A neighbour keeps the pool in use, so the second free meets a live pool.
        void* neighbour = pa_malloc(n);
        void* p = pa_malloc(n);
        Memory.AssertBlock(p, "pa_malloc");
        MallocStats before = PyMemory.GetStats();
        pa_free(p);
        Assert.That(PyMemory.LastError, Is.Empty);
        MallocStats once = PyMemory.GetStats();
        pa_free(p);
        MallocStats twice = PyMemory.GetStats();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(PyMemory.LastError, Does.StartWith("pa_free:"), "the second pa_free was accepted");
            Assert.That(twice.BytesInUsedBlocks, Is.EqualTo(once.BytesInUsedBlocks), "the second free changed the pools");
            Assert.That(twice.LargeBlocks, Is.EqualTo(once.LargeBlocks), "the second free changed the large blocks");
            Assert.That(once.BytesInUsedBlocks + once.LargeBytes, Is.LessThan(before.BytesInUsedBlocks + before.LargeBytes));
        }
        pa_clear_error();
        pa_free(neighbour);
        Assert.That(PyMemory.LastError, Is.Empty);
    }

    [Test]
    public void Free_OfABlockFreedByRealloc_IsRefused()
    {
        void* p = pa_malloc(2000);
        void* q = pa_realloc(p, 20);
        Memory.AssertBlock(q, "pa_realloc");
        Assert.That(q != p, Is.True, "a large block moving into a pool moves");
        pa_free(p);
        Assert.That(PyMemory.LastError, Does.StartWith("pa_free:"));
        pa_clear_error();
        pa_free(q);
        Assert.That(PyMemory.LastError, Is.Empty);
    }
}
