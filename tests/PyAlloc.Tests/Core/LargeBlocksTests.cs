using System;
using System.Collections.Generic;
using System.Linq;
using NUnit.Framework;
using PyAlloc.Core.Allocator;
using PyAlloc.Core.Support;
using PyAlloc.Tests.Support;

namespace PyAlloc.Tests.Core;

/// <summary>The registry of large blocks, driven through the in-process Pymalloc.</summary>
[TestFixture]
public sealed unsafe class LargeBlocksTests
{
    [Test]
    public void ManyLargeBlocks_FreedInRandomOrder_LeaveTheRegistryExactly()
    {
        var random = new Random(2024);
        nuint count = LargeBlocks.Count, bytes = LargeBlocks.Bytes;
        var blocks = new List<(nint P, nuint Size)>();
        for (int i = 0; i < 5000; i++) // several rehashes of a 1024-slot table
        {
            nuint size = (nuint)random.Next(513, 20000);
            void* p = Pymalloc.Malloc(size);
            Assert.That((long)p, Is.Not.Zero, Errors.LastErrorString);
            Memory.Fill(p, 16, (ulong)i);
            blocks.Add(((nint)p, size));
        }
        Assert.That((ulong)LargeBlocks.Count - count, Is.EqualTo((ulong)blocks.Count));
        Assert.That(blocks.All(b => LargeBlocks.Contains((void*)b.P)), Is.True, "a live block is missing from the registry");

        var order = blocks.OrderBy(_ => random.Next()).ToList();
        var freed = new List<nint>();
        for (int i = 0; i < order.Count; i++)
        {
            Pymalloc.Free((void*)order[i].P);
            Assert.That(LargeBlocks.Contains((void*)order[i].P), Is.False, $"freed block #{i} is still registered");
            freed.Add(order[i].P);
            if (i % 1000 == 999)
            {
                // tombstones must not hide the blocks behind them
                var remaining = order.Skip(i + 1).Where(b => !LargeBlocks.Contains((void*)b.P)).ToList();
                Assert.That(remaining, Is.Empty, $"after {i + 1} frees, {remaining.Count} live blocks are lost");
            }
        }
        Assert.That((ulong)LargeBlocks.Count, Is.EqualTo((ulong)count));
        Assert.That((ulong)LargeBlocks.Bytes, Is.EqualTo((ulong)bytes));
    }

    [Test]
    public void FreeingALargeBlockTwice_IsRefused()
    {
        void* p = Pymalloc.Malloc(10000);
        Pymalloc.Free(p);
        Errors.Clear();
        Pymalloc.Free(p);
        Assert.That(Errors.LastErrorString, Does.StartWith("pa_free:"));
        Assert.That(LargeBlocks.Contains(p), Is.False);
    }

    [Test]
    public void ReallocOfALargeBlock_MovesItsRegistration()
    {
        void* p = Pymalloc.Malloc(1000);
        Memory.Fill(p, 1000, 1);
        nuint count = LargeBlocks.Count;
        void* q = Pymalloc.Realloc(p, 1 << 22); // big enough to move on glibc
        Assert.That((long)q, Is.Not.Zero, Errors.LastErrorString);
        Assert.That(Memory.FirstMismatch(q, 1000, 1), Is.EqualTo(-1));
        Assert.That(LargeBlocks.Contains(q), Is.True);
        if (q != p)
            Assert.That(LargeBlocks.Contains(p), Is.False);
        Assert.That((ulong)LargeBlocks.Count, Is.EqualTo((ulong)count));
        Assert.That((ulong)LargeBlocks.Bytes, Is.GreaterThanOrEqualTo((ulong)(1 << 22)));
        Pymalloc.Free(q);
        Assert.That(LargeBlocks.Contains(q), Is.False);
    }

    [Test]
    public void ContainsOfPoolBlocksAndForeignPointers_IsFalse()
    {
        void* small = Pymalloc.Malloc(100);
        long local = 0;
        Assert.That(LargeBlocks.Contains(small), Is.False);
        Assert.That(LargeBlocks.Contains(&local), Is.False);
        Assert.That(LargeBlocks.Contains(null), Is.False);
        Pymalloc.Free(small);
    }
}
