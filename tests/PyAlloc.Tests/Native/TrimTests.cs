using System;
using System.Collections.Generic;
using System.Linq;
using NUnit.Framework;
using PyAlloc.Tests.Support;
using static PyAlloc.Interop.NativeMethods;

namespace PyAlloc.Tests.Native;

/// <summary>
/// pa_trim (<see cref="PyMemory.Trim"/>) on the real libpyalloc.so gives back the free pages of the
/// arenas it keeps: a plausible share after a random 90% free, no statistic changed, every
/// survivor intact, parked blocks refused as double frees and used again without handing a block out twice.
/// </summary>
/// <remarks>
/// The process heap is shared with the other tests: figures are compared before and after, and the
/// blocks a test owns are told apart by address.
/// </remarks>
[TestFixture]
public sealed unsafe class TrimTests
{
    private readonly List<(nint P, nuint Size, ulong Tag)> _blocks = [];
    private ulong _nextTag = 0x7121;

    [SetUp]
    public void Start()
    {
        pa_clear_error();
        _blocks.Clear();
        _freedSizes.Clear();
        PyMemory.Trim(); // no wholly free arena left over, no resident free page: figures compare
    }

    [TearDown]
    public void FreeTheBlocks()
    {
        foreach (var (p, _, _) in _blocks)
            PyMemory.Free((void*)p);
        _blocks.Clear();
    }

    private nint Take(nuint size)
    {
        void* p = PyMemory.Alloc(size);
        ulong tag = ++_nextTag;
        Memory.Fill(p, size, tag);
        _blocks.Add(((nint)p, size, tag));
        return (nint)p;
    }

    private readonly List<nuint> _freedSizes = [];

    private void FreeAt(int i)
    {
        var (p, size, tag) = _blocks[i];
        _freedSizes.Add(size);
        Assert.That(Memory.FirstMismatch((void*)p, size, tag), Is.EqualTo(-1), $"block 0x{p:x} was overwritten while live");
        Assert.That(PyMemory.TryFree((void*)p), Is.True, PyMemory.LastError);
        _blocks[i] = _blocks[^1];
        _blocks.RemoveAt(_blocks.Count - 1);
    }

    private void AssertEveryBlockIntact(string when)
    {
        foreach (var (p, size, tag) in _blocks)
            Assert.That(Memory.FirstMismatch((void*)p, size, tag), Is.EqualTo(-1), $"{when}: block 0x{p:x} of {size} bytes lost its contents");
    }

    private static void AssertSameBlockCounts(MallocStats before, MallocStats after, string when)
    {
        using (Assert.EnterMultipleScope())
        {
            for (int i = 0; i < PA_NUM_SIZE_CLASSES; i++)
            {
                Assert.That(after.Classes[i].BlocksInUse, Is.EqualTo(before.Classes[i].BlocksInUse), $"{when}: blocks in use of class {i}");
                Assert.That(after.Classes[i].FreeBlocks, Is.EqualTo(before.Classes[i].FreeBlocks), $"{when}: free blocks of class {i}");
                Assert.That(after.Classes[i].Pools, Is.EqualTo(before.Classes[i].Pools), $"{when}: pools of class {i}");
            }
            Assert.That(after.BytesInUsedBlocks, Is.EqualTo(before.BytesInUsedBlocks), when);
            Assert.That(after.BytesInFreeBlocks, Is.EqualTo(before.BytesInFreeBlocks), when);
        }
    }

    /// <summary>100,000 blocks of 8..512 bytes, 90% freed in random order; returns the arenas they added.</summary>
    private long AllocateThenFreeNinetyPercent(Random random)
    {
        long arenas = PyMemory.GetStats().ArenasCurrent;
        for (int i = 0; i < 100_000; i++)
            Take((nuint)random.Next(8, 513));
        long added = PyMemory.GetStats().ArenasCurrent - arenas;
        for (int i = 0; i < 90_000; i++)
            FreeAt(random.Next(_blocks.Count));
        return added;
    }

    [Test]
    public void Trim_AfterFreeingNinetyPercentAtRandom_ReleasesAFifthOfThePages_AndChangesNoCount()
    {
        long arenas = AllocateThenFreeNinetyPercent(new Random(6));
        MallocStats before = PyMemory.GetStats();

        nuint released = PyMemory.Trim();

        MallocStats after = PyMemory.GetStats();
        TestContext.Out.WriteLine($"{arenas} arenas added; pa_trim released {released / 1024} KiB");
        Assert.That((long)released, Is.GreaterThan(arenas * PA_ARENA_SIZE / 10), "about a fifth of the pages hold no live block");
        Assert.That((long)released, Is.LessThanOrEqualTo(before.BytesInFreeBlocks + before.BytesInFreePools + before.BytesQuantization));
        Assert.That(after.ArenasCurrent, Is.EqualTo(before.ArenasCurrent), "no arena was wholly free");
        AssertSameBlockCounts(before, after, "across pa_trim");
        Assert.That((ulong)PyMemory.Trim(), Is.Zero, "the released pages are not resident any more");
        AssertEveryBlockIntact("after pa_trim");
    }

    [Test]
    public void Trim_ThenFreeAndAllocateAgain_UsesTheParkedBlocks_AndNeverHandsOutABlockTwice()
    {
        var random = new Random(61);
        AllocateThenFreeNinetyPercent(random);
        Assert.That((ulong)PyMemory.Trim(), Is.GreaterThan(0UL));
        MallocStats trimmed = PyMemory.GetStats();

        // Free a third of the survivors, then allocate every freed size again, in another order:
        // the free blocks, parked ones included, take them all, so no arena is mapped.
        for (int i = 0; i < 3000; i++)
            FreeAt(random.Next(_blocks.Count));
        foreach (nuint size in _freedSizes.OrderBy(_ => random.Next()).ToList())
            Take(size);
        MallocStats refilled = PyMemory.GetStats();

        var addresses = _blocks.Select(b => b.P).ToArray();
        Assert.That(addresses.Distinct().Count(), Is.EqualTo(addresses.Length), "a block was handed out twice");
        AssertEveryBlockIntact("after the refill"); // overlapping blocks would have broken each other's pattern
        Assert.That(refilled.ArenasAllocated, Is.EqualTo(trimmed.ArenasAllocated),
            "the refill mapped new arenas instead of using the free blocks on released pages");
    }

    [Test]
    public void TryFree_OfABlockParkedOnAReleasedPage_IsRefusedAsDoubleFree()
    {
        Assume.That(Environment.SystemPageSize, Is.EqualTo(4096));
        // A pool whose 31 blocks of 512 bytes are all ours: allocate until one is filled.
        nint pool = 0;
        for (int i = 0; i < 40 * 31 && pool == 0; i++)
        {
            nint p = Take(512);
            nint candidate = p & ~(nint)(PA_POOL_SIZE - 1);
            if (_blocks.Count(b => (b.P & ~(nint)(PA_POOL_SIZE - 1)) == candidate) == 31)
                pool = candidate;
        }
        Assert.That(pool, Is.Not.Zero, "no pool of 512-byte blocks was filled with the test's blocks");
        var ours = _blocks.Where(b => (b.P & ~(nint)(PA_POOL_SIZE - 1)) == pool).Select(b => b.P).OrderBy(p => p).ToList();
        // The others go; in the pool, block 0 (page 0) stays, and pages 1..3 then hold free blocks only.
        for (int i = _blocks.Count - 1; i >= 0; i--)
            if (_blocks[i].P != ours[0])
                FreeAt(i);
        nint parked = ours[20];
        Assert.That(TestLibc.IsResident((void*)parked), Is.True);

        Assert.That((long)PyMemory.Trim(), Is.GreaterThanOrEqualTo(3 * 4096));
        Assert.That(TestLibc.IsResident((void*)parked), Is.False, "the page of a free block was not released");
        MallocStats before = PyMemory.GetStats();

        Assert.That(PyMemory.TryFree((void*)parked), Is.False);
        Assert.That(PyMemory.LastError, Does.Contain("double free"));
        AssertSameBlockCounts(before, PyMemory.GetStats(), "after the refused free");

        // Its class takes the free blocks back, the parked ones included, each once.
        var again = new HashSet<nint>();
        for (int i = 0; i < 64 * 31 && !again.Contains(parked); i++)
            Assert.That(again.Add(Take(512)), Is.True, "a block was handed out twice");
        Assert.That(again.Contains(parked), Is.True, "the parked block was not used again");
        AssertEveryBlockIntact("after taking the pool's blocks back");
    }
}
