using System;
using System.Collections.Generic;
using System.Linq;
using NUnit.Framework;
using PyAlloc.Core.Allocator;
using PyAlloc.Core.Support;
using PyAlloc.Tests.Support;

namespace PyAlloc.Tests.Core;

/// <summary>A private heap from Heap.Create(), driven directly and checked structurally.</summary>
[TestFixture]
public sealed unsafe class HeapTests
{
    private Heap* _heap;
    private readonly List<(nint P, uint Index, ulong Tag)> _live = [];
    private ulong _nextTag;

    [SetUp]
    public void CreateHeap()
    {
        _heap = Heap.Create();
        Assert.That((long)_heap, Is.Not.Zero, "Heap.Create");
        _live.Clear();
        Errors.Clear();
    }

    [TearDown]
    public void DestroyHeap()
    {
        if (_heap != null)
            Heap.Destroy(_heap);
        _heap = null;
    }

    private byte* Allocate(uint index)
    {
        byte* p = Heap.Allocate(_heap, index);
        Assert.That((long)p, Is.Not.Zero, $"Heap.Allocate(class {index})");
        ulong tag = ++_nextTag;
        Memory.Fill(p, Geometry.IndexToSize(index), tag);
        _live.Add(((nint)p, index, tag));
        return p;
    }

    private bool Free(byte* p) => Heap.Free(_heap, ArenaMap.Lookup(p), p, "test");

    private void FreeLiveAt(int i)
    {
        var (p, index, tag) = _live[i];
        Assert.That(Memory.FirstMismatch((void*)p, Geometry.IndexToSize(index), tag), Is.EqualTo(-1),
            $"block 0x{p:x} of class {index} was overwritten while live");
        Assert.That(Free((byte*)p), Is.True, $"Heap.Free(0x{p:x}): {Errors.LastErrorString}");
        _live[i] = _live[^1];
        _live.RemoveAt(_live.Count - 1);
    }

    private void AssertSound(string when)
    {
        List<string> problems = HeapInvariants.Check(_heap, _live.Count);
        Assert.That(problems, Is.Empty, $"{when}:\n" + string.Join("\n", problems));
    }

    private static nint ArenaBase(nint p) => p & ~(nint)(Geometry.ArenaSize - 1);

    [Test]
    public void NewHeap_HasNoArenas_AndIsSound()
    {
        Assert.That(HeapInvariants.ArenasOf(_heap), Is.Empty);
        Assert.That((long)_heap->UsableArenas, Is.Zero);
        AssertSound("a new heap");
    }

    [Test]
    public void Allocate_GivesDistinctAlignedBlocksInsideTheirPool()
    {
        for (uint index = 0; index < Geometry.NumSizeClasses; index++)
        {
            for (int k = 0; k < 100; k++)
            {
                byte* p = Allocate(index);
                nuint inPool = (nuint)p & (Geometry.PoolSize - 1);
                Assert.That((ulong)p % Geometry.Alignment, Is.Zero);
                Assert.That((ulong)inPool, Is.GreaterThanOrEqualTo((ulong)Geometry.PoolOverhead));
                Assert.That((ulong)(inPool) + Geometry.IndexToSize(index), Is.LessThanOrEqualTo((ulong)Geometry.PoolSize));
                Assert.That((ulong)Heap.UsableSize(_heap, ArenaMap.Lookup(p), p, "test"), Is.EqualTo(Geometry.IndexToSize(index)));
            }
        }
        Assert.That(_live.Select(b => b.P).Distinct().Count(), Is.EqualTo(_live.Count));
        AssertSound("after allocating every class");
        while (_live.Count > 0)
            FreeLiveAt(_live.Count - 1);
        AssertSound("after freeing everything");
    }

    /// <summary>
    /// Grows to thousands of live blocks over several arenas and shrinks again, in waves, with
    /// random classes and random victims; the structure is checked all along.
    /// </summary>
    [Test]
    public void RandomAllocationsAndFrees_KeepUsableArenasSorted_AndNfp2lastaConsistent([Values(1, 2, 3)] int seed)
    {
        var random = new Random(seed);
        int checks = 0;
        for (int wave = 0; wave < 6; wave++)
        {
            double allocateShare = wave % 2 == 0 ? 0.8 : 0.35;
            for (int op = 0; op < 15000; op++)
            {
                if (_live.Count == 0 || random.NextDouble() < allocateShare)
                {
                    // small classes are common, as in real programs; every class occurs
                    uint index = random.Next(2) == 0 ? (uint)random.Next(Geometry.NumSizeClasses) : (uint)random.Next(6);
                    Allocate(index);
                }
                else
                {
                    FreeLiveAt(random.Next(_live.Count));
                }
                if (op % 1000 == 999)
                {
                    AssertSound($"seed {seed}, wave {wave}, operation {op}");
                    checks++;
                }
            }
        }
        Assert.That(HeapInvariants.ArenasOf(_heap).Count, Is.GreaterThan(1), "the test should have spread over several arenas");
        while (_live.Count > 0)
            FreeLiveAt(random.Next(_live.Count));
        AssertSound("after freeing everything");
        Assert.That(HeapInvariants.ArenasOf(_heap), Has.Count.EqualTo(1), "only the last wholly free arena is kept");
        Assert.That(checks, Is.GreaterThan(0));
    }

    /// <summary>Fills <paramref name="arenas"/> arenas exactly with 512-byte blocks; returns them grouped by arena, in mapping order.</summary>
    private List<List<nint>> FillArenas(int arenas)
    {
        const uint index = Geometry.NumSizeClasses - 1;
        long perArena = Geometry.BlocksPerPool(index) * Geometry.PoolsPerArena;
        var order = new List<nint>();
        var byArena = new Dictionary<nint, List<nint>>();
        for (long i = 0; i < perArena * arenas; i++)
        {
            nint p = (nint)Allocate(index);
            nint a = ArenaBase(p);
            if (!byArena.TryGetValue(a, out var list))
            {
                byArena[a] = list = [];
                order.Add(a);
            }
            list.Add(p);
        }
        Assert.That(order, Has.Count.EqualTo(arenas), "blocks spread over unexpected arenas");
        Assert.That(_heap->UsableArenas == null, Is.True, "every arena is full");
        return order.Select(a => byArena[a]).ToList();
    }

    private void FreeAll(List<nint> blocks)
    {
        var set = blocks.ToHashSet();
        for (int i = _live.Count - 1; i >= 0; i--)
            if (set.Contains(_live[i].P))
                FreeLiveAt(i);
    }

    [Test]
    public void WhollyFreeArena_IsReturnedToTheOs_UnlessItIsTheLastUsableArena()
    {
        List<List<nint>> arenas = FillArenas(3);
        nint[] bases = arenas.Select(a => ArenaBase(a[0])).ToArray();
        long reclaimed = (long)_heap->ArenasReclaimed;

        FreeAll(arenas[0]);
        AssertSound("after emptying the first arena");
        Assert.That(HeapInvariants.ArenasOf(_heap), Has.Count.EqualTo(3), "the only usable arena is kept");
        Assert.That((long)ArenaMap.Lookup((void*)bases[0]), Is.Not.Zero);

        FreeAll(arenas[1]);
        AssertSound("after emptying the second arena");
        Assert.That(HeapInvariants.ArenasOf(_heap), Has.Count.EqualTo(2), "a second wholly free arena is returned");
        Assert.That((long)ArenaMap.Lookup((void*)bases[1]), Is.Zero, "the returned arena is still in the arena map");

        FreeAll(arenas[2]);
        AssertSound("after emptying the third arena");
        Assert.That(HeapInvariants.ArenasOf(_heap), Has.Count.EqualTo(1));
        Assert.That((long)ArenaMap.Lookup((void*)bases[2]), Is.Zero);
        Assert.That((long)ArenaMap.Lookup((void*)bases[0]), Is.Not.Zero, "the kept arena is the first");
        Assert.That((long)_heap->ArenasReclaimed - reclaimed, Is.EqualTo(2));
    }

    [Test]
    public void Trim_ReleasesOnlyWhollyFreeArenas()
    {
        List<List<nint>> arenas = FillArenas(2);
        nint survivor = arenas[1][^1];
        FreeAll(arenas[0]);
        FreeAll(arenas[1].Take(arenas[1].Count - 1).ToList());
        AssertSound("before trimming");
        Assert.That(HeapInvariants.ArenasOf(_heap), Has.Count.EqualTo(2));

        Assert.That((ulong)Heap.Trim(_heap), Is.EqualTo((ulong)Geometry.ArenaSize), "one wholly free arena");
        AssertSound("after trimming");
        Assert.That(HeapInvariants.ArenasOf(_heap), Has.Count.EqualTo(1));
        Assert.That((long)_heap->NfpToLastA[Geometry.PoolsPerArena], Is.Zero);
        Assert.That((ulong)Heap.UsableSize(_heap, ArenaMap.Lookup((void*)survivor), (byte*)survivor, "test"),
            Is.EqualTo(Geometry.IndexToSize(Geometry.NumSizeClasses - 1)), "the live block survived");

        FreeAll([survivor]);
        AssertSound("after freeing the last block");
        Assert.That(HeapInvariants.ArenasOf(_heap), Has.Count.EqualTo(1), "kept as the last arena");
        Assert.That((ulong)Heap.Trim(_heap), Is.EqualTo((ulong)Geometry.ArenaSize));
        Assert.That(HeapInvariants.ArenasOf(_heap), Is.Empty);
        Assert.That((ulong)Heap.Trim(_heap), Is.Zero);
        AssertSound("after the last trim");

        Allocate(3); // a trimmed heap still works
        AssertSound("after allocating again");
    }

    [Test]
    public void Destroy_ReturnsEveryArenaAndForgetsThem()
    {
        FillArenas(2);
        Allocate(0);
        List<nint> arenas = HeapInvariants.ArenasOf(_heap);
        var blocks = _live.Select(b => b.P).ToList();
        long mapped = ArenaTable.ArenasMapped;
        Heap* heap = _heap;

        Heap.Destroy(heap);
        _heap = null;

        Assert.That(arenas, Has.Count.EqualTo(3));
        Assert.That(HeapInvariants.ArenasOf(heap), Is.Empty, "descriptors still name the destroyed heap");
        Assert.That(ArenaTable.ArenasMapped, Is.EqualTo(mapped - 3));
        Assert.That(blocks.Where(p => ArenaMap.Lookup((void*)p) != null), Is.Empty, "the arena map still knows blocks of the destroyed heap");
    }

    [Test]
    public void EmptiedPool_IsReusedForAnotherClass()
    {
        byte* p = Allocate(0);
        nint pool = (nint)p & ~(nint)(Geometry.PoolSize - 1);
        FreeLiveAt(0);
        byte* q = Allocate(20);
        Assert.That((long)q & ~(nint)(Geometry.PoolSize - 1), Is.EqualTo((long)pool), "the empty pool was not reused");
        Assert.That((ulong)Heap.UsableSize(_heap, ArenaMap.Lookup(q), q, "test"), Is.EqualTo(Geometry.IndexToSize(20)));
        Allocate(20);
        AssertSound("after reusing a pool for another class");
    }

    [Test]
    public void Free_OfInteriorAndUncarvedAddresses_IsRefused()
    {
        byte* p = Allocate(1); // 32 bytes
        nint arena = ArenaBase((nint)p);
        foreach (nint bad in new[] { (nint)p + 16, (nint)p + 1, arena, arena + Geometry.PoolOverhead / 2,
                                     arena + Geometry.ArenaSize - Geometry.PoolSize + Geometry.PoolOverhead })
        {
            Errors.Clear();
            Assert.That(Free((byte*)bad), Is.False, $"Heap.Free(0x{bad:x}) accepted");
            Assert.That(Errors.LastErrorString, Does.StartWith("test:"));
        }
        AssertSound("after the refusals");
    }

    [Test]
    public void Free_TwiceInARow_IsRefusedAsDoubleFree()
    {
        Allocate(2);
        byte* p = Allocate(2);
        Allocate(2);
        FreeLiveAt(1);
        Assert.That(Free(p), Is.False);
        Assert.That(Errors.LastErrorString, Does.Contain("double free"));
        AssertSound("after the refused double free");
    }

    /// <summary>
    /// The second free of a block must be refused even when another block of the pool was
    /// freed in between (the first free is then no longer the head of the pool's free list).
    /// </summary>
    [Test]
    public void Free_TwiceWithAnotherFreeInBetween_IsRefused()
    {
        byte* a = Allocate(0);
        byte* b = Allocate(0);
        Allocate(0); // c keeps the pool in use
        Assert.That(Free(a), Is.True);
        Assert.That(Free(b), Is.True);
        _live.RemoveAll(x => x.P == (nint)a || x.P == (nint)b);
        Errors.Clear();

        bool accepted = Free(a);

        List<string> problems = HeapInvariants.Check(_heap, _live.Count);
        Assert.That(accepted, Is.False,
            "Heap.Free accepted the second free of a block that is not the head of its pool's free list; "
            + "the heap now says:\n" + string.Join("\n", problems));
        Assert.That(problems, Is.Empty);
    }
}
