using System;
using System.Collections.Generic;
using NUnit.Framework;
using PyAlloc.Core.Allocator;
using PyAlloc.Tests.Support;

namespace PyAlloc.Tests.Core;

/// <summary>
/// A private heap driven only through the owner-serialised entry points (HeapOwned.cs), as a
/// runtime drives its heap: the same structure and live bits as the locking ones keep (the
/// exports' object checks read the bits), no lock taken.
/// </summary>
[TestFixture]
public sealed unsafe class HeapOwnedTests
{
    private Heap* _heap;
    private readonly List<(nint P, uint Index, ulong Tag)> _live = [];
    private ulong _nextTag;

    private long _savedDecay;

    [SetUp]
    public void CreateHeap()
    {
        // CPython's arena policy to the letter (a wholly free arena goes back at once, but
        // the last); WhollyFreeArenas_StayMappedForTheDecay checks PyAlloc's own.
        _savedDecay = Heap.ArenaDecayMs;
        Heap.ArenaDecayMs = 0;
        _heap = Heap.Create();
        Assert.That((long)_heap, Is.Not.Zero, "Heap.Create");
        _live.Clear();
    }

    [TearDown]
    public void DestroyHeap()
    {
        if (_heap != null)
            Heap.Destroy(_heap);
        _heap = null;
        Heap.ArenaDecayMs = _savedDecay;
    }

    private void Allocate(uint index)
    {
        byte* p = Heap.AllocateOwned(_heap, index);
        Assert.That((long)p, Is.Not.Zero, $"Heap.AllocateOwned(class {index})");
        Assert.That(_heap->Lock.IsHeld, Is.False, "AllocateOwned took the lock");
        ulong tag = ++_nextTag;
        Memory.Fill(p, Geometry.IndexToSize(index), tag);
        _live.Add(((nint)p, index, tag));
    }

    private void FreeLiveAt(int i)
    {
        var (p, index, tag) = _live[i];
        Assert.That(Memory.FirstMismatch((void*)p, Geometry.IndexToSize(index), tag), Is.EqualTo(-1),
            $"block 0x{p:x} of class {index} was overwritten while live");
        Heap.FreeOwned(_heap, (byte*)p);
        Assert.That(_heap->Lock.IsHeld, Is.False, "FreeOwned took the lock");
        _live[i] = _live[^1];
        _live.RemoveAt(_live.Count - 1);
    }

    private void AssertSound(string when)
    {
        List<string> problems = HeapInvariants.Check(_heap, _live.Count, liveBits: true);
        Assert.That(problems, Is.Empty, $"{when}:\n" + string.Join("\n", problems));
    }

    /// <summary>
    /// The random waves of HeapTests, through AllocateOwned and FreeOwned: thousands of live
    /// blocks over several arenas, pools filling, emptying and changing class, arenas drained
    /// and returned; the structure is checked all along, and the contents of every block.
    /// </summary>
    [Test]
    public void RandomAllocationsAndFrees_KeepTheHeapSound_AndTheLiveBitsExact_WithoutTheLock([Values(1, 2)] int seed)
    {
        var random = new Random(seed);
        for (int wave = 0; wave < 6; wave++)
        {
            double allocateShare = wave % 2 == 0 ? 0.8 : 0.35;
            for (int op = 0; op < 15000; op++)
            {
                if (_live.Count == 0 || random.NextDouble() < allocateShare)
                    Allocate(random.Next(2) == 0 ? (uint)random.Next(Geometry.NumSizeClasses) : (uint)random.Next(6));
                else
                    FreeLiveAt(random.Next(_live.Count));
                if (op % 1000 == 999)
                    AssertSound($"seed {seed}, wave {wave}, operation {op}");
            }
        }
        Assert.That(HeapInvariants.ArenasOf(_heap).Count, Is.GreaterThan(1), "the test should have spread over several arenas");
        while (_live.Count > 0)
            FreeLiveAt(random.Next(_live.Count));
        AssertSound("after freeing everything");
        Assert.That(HeapInvariants.ArenasOf(_heap), Has.Count.EqualTo(1), "only the last wholly free arena is kept");
    }

    /// <summary>A chain's pattern: a million blocks of one class, freed in allocation order.</summary>
    [Test]
    public void ManyBlocksOfOneClass_FreedInOrder_ReturnAllButOneArena()
    {
        const int n = 300_000;
        var blocks = new nint[n];
        for (int i = 0; i < n; i++)
            blocks[i] = (nint)Heap.AllocateOwned(_heap, 2);
        List<string> problems = HeapInvariants.Check(_heap, n, liveBits: true);
        Assert.That(problems, Is.Empty, "after allocating:\n" + string.Join("\n", problems));
        Assert.That(HeapInvariants.ArenasOf(_heap).Count, Is.GreaterThanOrEqualTo(n * 48 / Geometry.ArenaSize));
        for (int i = 0; i < n; i++)
            Heap.FreeOwned(_heap, (byte*)blocks[i]);
        AssertSound("after freeing");
        Assert.That(HeapInvariants.ArenasOf(_heap), Has.Count.EqualTo(1), "only the last wholly free arena is kept");
    }
}
