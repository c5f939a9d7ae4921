using System.Collections.Generic;
using NUnit.Framework;
using PyAlloc.Core.Allocator;
using PyAlloc.Core.Support;

namespace PyAlloc.Tests.Core;

/// <summary>Heap.FillCache and Heap.DrainCache: the batches that feed and empty the C thread caches.</summary>
[TestFixture]
public sealed unsafe class HeapCacheTests
{
    private const nuint Secret = 0x5DEECE6D;
    private Heap* _heap;

    [SetUp]
    public void CreateHeap()
    {
        _heap = Heap.Create();
        Assert.That((long)_heap, Is.Not.Zero);
        Errors.Clear();
    }

    [TearDown]
    public void DestroyHeap() => Heap.Destroy(_heap);

    private static List<nint> Walk(byte* head)
    {
        var blocks = new List<nint>();
        for (byte* b = head; b != null; b = *(byte**)b)
            blocks.Add((nint)b);
        return blocks;
    }

    [Test]
    public void FillCache_LinksLiveTaggedBlocksInTheHeapsOrder_InFrontOfTheList()
    {
        byte* old = Heap.Allocate(_heap, 3); // stands for a block already in the list
        *(byte**)old = null;
        byte* head = old;
        uint got = Heap.FillCache(_heap, 3, &head, 10, Secret);
        Assert.That(got, Is.EqualTo(10u));
        List<nint> blocks = Walk(head);
        Assert.That(blocks, Has.Count.EqualTo(11));
        Assert.That(blocks[^1], Is.EqualTo((nint)old), "the list that was there follows the new blocks");
        for (int i = 0; i < 10; i++)
        {
            byte* b = (byte*)blocks[i];
            Assert.That(((nuint*)b)[1], Is.EqualTo(Secret ^ (nuint)b), $"block {i} is tagged");
            if (i > 0)
                Assert.That(blocks[i] - blocks[i - 1], Is.EqualTo((nint)64), "fresh pool blocks in address order");
            Assert.That(Heap.Probe(_heap, ArenaMap.Lookup(b), b, out _), Is.EqualTo(BlockState.Live));
        }
        Assert.That(_heap->BlocksInUse, Is.EqualTo((nuint)11));
    }

    [Test]
    public void DrainCache_ReturnsTheBlocksToTheirPools_AndClearsTheTags()
    {
        byte* head = null;
        Assert.That(Heap.FillCache(_heap, 0, &head, 20, Secret), Is.EqualTo(20u));
        List<nint> blocks = Walk(head);
        Heap.DrainCache(head, 20);
        Assert.That(_heap->BlocksInUse, Is.EqualTo((nuint)0));
        foreach (nint p in blocks)
        {
            byte* b = (byte*)p;
            Assert.That(((nuint*)b)[1], Is.EqualTo((nuint)0), "the tag is gone");
            Assert.That(Heap.Probe(_heap, ArenaMap.Lookup(b), b, out _), Is.EqualTo(BlockState.Free));
        }
    }

    [Test]
    public void DrainCache_GivesEachBlockBackToItsOwnHeap()
    {
        Heap* other = Heap.Create();
        try
        {
            byte* mine = null, theirs = null;
            Heap.FillCache(_heap, 2, &mine, 5, Secret);
            Heap.FillCache(other, 2, &theirs, 5, Secret);
            // One list mixing both heaps' blocks, as a thread that frees others' blocks has.
            byte* last = mine;
            while (*(byte**)last != null)
                last = *(byte**)last;
            *(byte**)last = theirs;
            Heap.DrainCache(mine, 10);
            Assert.That(_heap->BlocksInUse, Is.EqualTo((nuint)0));
            Assert.That(other->BlocksInUse, Is.EqualTo((nuint)0));
            Assert.That(HeapInvariants.Check(_heap, 0), Is.Empty);
            Assert.That(HeapInvariants.Check(other, 0), Is.Empty);
        }
        finally
        {
            Heap.Destroy(other);
        }
    }

    [Test]
    public void DrainCache_SkipsABlockThatIsNotLive_SoNoPoolListGetsItTwice()
    {
        byte* head = null;
        Heap.FillCache(_heap, 1, &head, 2, Secret);
        byte* first = head, second = *(byte**)head;
        // The last block of the list is freed behind the cache's back (two threads
        // freeing it at once): its first word is now its pool's link.
        ((nuint*)second)[1] = 0;
        Assert.That(Heap.Free(_heap, ArenaMap.Lookup(second), second, "test"), Is.True);
        Heap.DrainCache(first, 2);
        Assert.That(_heap->BlocksInUse, Is.EqualTo((nuint)0));
        byte* a = Heap.Allocate(_heap, 1), b = Heap.Allocate(_heap, 1), c = Heap.Allocate(_heap, 1);
        Assert.That(new HashSet<nint> { (nint)a, (nint)b, (nint)c }, Has.Count.EqualTo(3), "no block handed out twice");
    }
}
