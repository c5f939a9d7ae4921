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
        Errors.Clear();
    }

    [TearDown]
    public void DestroyHeap()
    {
        if (_heap != null)
            Heap.Destroy(_heap);
        _heap = null;
        Heap.ArenaDecayMs = _savedDecay;
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
    public void WhollyFreeArenas_StayMappedForTheDecay_ThenAllButTheLastGoBack()
    {
        Heap.ArenaDecayMs = 3_600_000; // an hour: nothing decays during the test
        List<List<nint>> arenas = FillArenas(4);
        nint[] bases = arenas.Select(a => ArenaBase(a[0])).ToArray();
        long reclaimed = (long)_heap->ArenasReclaimed;
        for (int i = 0; i < 3; i++)
            FreeAll(arenas[i]);
        AssertSound("after emptying three arenas");
        Assert.That(HeapInvariants.ArenasOf(_heap), Has.Count.EqualTo(4), "young wholly free arenas stay mapped");
        Assert.That((long)_heap->ArenasReclaimed, Is.EqualTo(reclaimed));

        // They are reused before any new arena is mapped.
        long allocated = (long)_heap->ArenasAllocated;
        List<List<nint>> again = FillArenas(3);
        AssertSound("after filling them again");
        Assert.That((long)_heap->ArenasAllocated, Is.EqualTo(allocated), "the kept arenas served the new pools");
        foreach (List<nint> a in again)
            FreeAll(a);

        // Once they are older than the decay, the next arena that empties sends them
        // back, but for the last of the usable list (CPython's one).
        Heap.ArenaDecayMs = 0;
        FreeAll(arenas[3]);
        AssertSound("after the decay");
        Assert.That(HeapInvariants.ArenasOf(_heap), Has.Count.EqualTo(1));
        Assert.That((long)_heap->ArenasReclaimed - reclaimed, Is.EqualTo(3));
        Assert.That(bases.Count(b => ArenaMap.Lookup((void*)b) != null), Is.EqualTo(1));
    }

    [Test]
    public void Trim_ReleasesWhollyFreeArenas_AndTheFreePagesOfTheArenasKept()
    {
        Assume.That(Environment.SystemPageSize, Is.EqualTo(4096), "the figures below are for 4 KiB pages");
        List<List<nint>> arenas = FillArenas(2);
        nint survivor = arenas[1][^1]; // block 30 of the last pool: on its page 3
        FreeAll(arenas[0]);
        FreeAll(arenas[1].Take(arenas[1].Count - 1).ToList());
        AssertSound("before trimming");
        Assert.That(HeapInvariants.ArenasOf(_heap), Has.Count.EqualTo(2));

        // The wholly free arena, pages 1..3 of the 63 empty pools of the other, and pages 1
        // and 2 of the survivor's pool (every page was written: resident).
        Assert.That((ulong)Heap.Trim(_heap), Is.EqualTo((ulong)Geometry.ArenaSize + (63 * 3 + 2) * 4096UL));
        AssertSound("after trimming");
        Assert.That(HeapInvariants.ArenasOf(_heap), Has.Count.EqualTo(1));
        Assert.That((long)_heap->NfpToLastA[Geometry.PoolsPerArena], Is.Zero);
        Assert.That((ulong)Heap.UsableSize(_heap, ArenaMap.Lookup((void*)survivor), (byte*)survivor, "test"),
            Is.EqualTo(Geometry.IndexToSize(Geometry.NumSizeClasses - 1)), "the live block survived");
        Assert.That((ulong)Heap.Trim(_heap), Is.Zero, "the released pages are not resident: nothing more to release");

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

    // ------------------------------------------------------------ trim: released pages

    private const uint Class512 = Geometry.NumSizeClasses - 1; // 31 blocks per pool, 8 or 9 per page

    /// <summary>Fills one new pool of 512-byte blocks; returns its blocks in address order.</summary>
    private List<nint> FillOnePool()
    {
        var blocks = new List<nint>();
        for (int i = 0; i < Geometry.BlocksPerPool(Class512); i++)
            blocks.Add((nint)Allocate(Class512));
        nint pool = blocks[0] & ~(nint)(Geometry.PoolSize - 1);
        Assert.That(blocks.All(b => (b & ~(nint)(Geometry.PoolSize - 1)) == pool), "one pool");
        blocks.Sort();
        return blocks;
    }

    private static byte ReleasedPagesOf(nint block)
    {
        ArenaObject* a = ArenaMap.Lookup((void*)block);
        return HeapInvariants.ReleasedPages(a, (block & (Geometry.ArenaSize - 1)) >> Geometry.PoolBits);
    }

    [Test]
    public void Trim_ParksTheFreeBlocksOfReleasedPages_AndAllocationTakesThemBackBeforeANewPool()
    {
        Assume.That(Environment.SystemPageSize, Is.EqualTo(4096));
        List<nint> blocks = FillOnePool();
        FreeAll(blocks.Skip(1).ToList()); // block 0 (page 0) stays live: pages 1..3 hold no live block
        AssertSound("before trimming");

        Assert.That((ulong)Heap.Trim(_heap), Is.EqualTo(3 * 4096UL));
        AssertSound("after trimming");
        Assert.That(ReleasedPagesOf(blocks[0]), Is.EqualTo(0b1110), "pages 1..3 released with blocks parked on them");
        Assert.That(TestLibc.IsResident((void*)blocks[20]), Is.False, "page 2 is still resident");

        // A parked block is free, not live: freeing it again is a double free.
        Errors.Clear();
        Assert.That(Free((byte*)blocks[20]), Is.False, "the double free of a parked block was accepted");
        Assert.That(Errors.LastErrorString, Does.Contain("double free"));
        Assert.That(Heap.Probe(_heap, ArenaMap.Lookup((void*)blocks[20]), (byte*)blocks[20], out uint size), Is.EqualTo(BlockState.Free));
        Assert.That(size, Is.EqualTo(512u));
        AssertSound("after the refused double free");

        // The 30 free blocks (6 on the free list, 24 parked) are all handed out before a new pool is carved.
        var again = new HashSet<nint>();
        for (int i = 1; i < blocks.Count; i++)
        {
            nint p = (nint)Allocate(Class512);
            Assert.That(again.Add(p), Is.True, $"block 0x{p:x} handed out twice");
            Assert.That(blocks.Contains(p), Is.True, $"block 0x{p:x} is not from the trimmed pool");
        }
        Assert.That(ReleasedPagesOf(blocks[0]), Is.Zero, "the parked blocks are back: no page is marked");
        AssertSound("after taking every block back");
        foreach (var (p, index, tag) in _live)
            Assert.That(Memory.FirstMismatch((void*)p, Geometry.IndexToSize(index), tag), Is.EqualTo(-1), $"block 0x{p:x} overwritten");
        nint next = (nint)Allocate(Class512);
        Assert.That(blocks.Contains(next), Is.False, "the full pool handed out a block again");
        AssertSound("after a new pool");
    }

    [Test]
    public void Trim_KeepsOneFreePageInAPoolWhoseFreeBlocksAreAllOnFreePages()
    {
        Assume.That(Environment.SystemPageSize, Is.EqualTo(4096));
        List<nint> blocks = FillOnePool();
        // Blocks 0..6 fill page 0 and stay; block 7 straddles pages 0 and 1; 7..30 are freed.
        FreeAll(blocks.Skip(7).ToList());
        Assert.That((ulong)Heap.Trim(_heap), Is.EqualTo(2 * 4096UL), "page 1 keeps the pool's free list");
        Assert.That(ReleasedPagesOf(blocks[0]), Is.EqualTo(0b1100));
        AssertSound("after trimming: the pool is still on its used list with a free block");

        var again = new HashSet<nint>();
        for (int i = 7; i < blocks.Count; i++)
            Assert.That(again.Add((nint)Allocate(Class512)), Is.True);
        Assert.That(again.SetEquals(blocks.Skip(7)), Is.True, "the pool's own free blocks come back, parked ones included");
        AssertSound("after refilling the pool");
    }

    [Test]
    public void Trim_ReleasesTheEmptyPoolsOfAKeptArena_WhichAreInitialisedAfreshOnReuse()
    {
        Assume.That(Environment.SystemPageSize, Is.EqualTo(4096));
        List<nint> kept = FillOnePool();
        List<nint> emptied = FillOnePool();
        nint emptyPool = emptied[0] & ~(nint)(Geometry.PoolSize - 1);
        FreeAll(emptied);
        FreeAll(kept.Skip(1).ToList());
        AssertSound("before trimming");

        Assert.That((ulong)Heap.Trim(_heap), Is.EqualTo(6 * 4096UL), "pages 1..3 of both pools");
        Assert.That(((PoolHeader*)emptyPool)->SizeIndex, Is.EqualTo(Geometry.NoSizeClass), "the empty pool forgot its class");
        Assert.That(Heap.Probe(_heap, ArenaMap.Lookup((void*)emptied[5]), (byte*)emptied[5], out _), Is.EqualTo(BlockState.None));
        AssertSound("after trimming");
        Assert.That((ulong)Heap.Trim(_heap), Is.Zero, "a second trim finds nothing resident to release");

        // The empty pool serves the next class that needs a pool, from scratch.
        var fresh = new List<nint>();
        for (int i = 0; i < 200; i++)
            fresh.Add((nint)Allocate(2));
        Assert.That(fresh.All(p => (p & ~(nint)(Geometry.PoolSize - 1)) == emptyPool), "the empty pool was not reused");
        Assert.That(fresh.Distinct().Count(), Is.EqualTo(fresh.Count));
        AssertSound("after reusing the empty pool for another class");
        foreach (var (p, index, tag) in _live)
            Assert.That(Memory.FirstMismatch((void*)p, Geometry.IndexToSize(index), tag), Is.EqualTo(-1), $"block 0x{p:x} overwritten");
    }

    private PyAlloc.Core.Abi.PaMallocStats StatsOfHeap()
    {
        PyAlloc.Core.Abi.PaMallocStats stats = default;
        Heap.AddStats(_heap, &stats);
        return stats;
    }

    /// <summary>
    /// The workload on a private heap: random sizes, 90% freed in random order, trim; then
    /// survivors are checked, some freed, and the freed classes allocated again.
    /// </summary>
    [Test]
    public void Trim_AfterFreeingNinetyPercentAtRandom_ReleasesPages_AndTheHeapStaysSound([Values(1, 2)] int seed)
    {
        var random = new Random(seed);
        for (int i = 0; i < 60000; i++)
            Allocate((uint)random.Next(Geometry.NumSizeClasses));
        var freedClasses = new List<uint>();
        for (int i = 0; i < 54000; i++)
        {
            int victim = random.Next(_live.Count);
            freedClasses.Add(_live[victim].Index);
            FreeLiveAt(victim);
        }
        var before = StatsOfHeap();
        nuint arenasBefore = _heap->ArenasCurrent;

        nuint released = Heap.Trim(_heap);
        var after = StatsOfHeap();
        AssertSound("after trimming");
        // About a fifth of the pages hold no live block; at least a tenth of the arenas' bytes.
        Assert.That((ulong)released, Is.GreaterThan((ulong)arenasBefore * Geometry.ArenaSize / 10),
            $"{released} bytes released of {arenasBefore} arenas");
        Assert.That(after.BytesInUsedBlocks, Is.EqualTo(before.BytesInUsedBlocks));
        Assert.That(after.BytesInFreeBlocks, Is.EqualTo(before.BytesInFreeBlocks), "parked blocks are free blocks");
        Assert.That(after.PoolsInUse, Is.EqualTo(before.PoolsInUse));
        Assert.That(after.PoolsFree, Is.EqualTo(before.PoolsFree));
        for (int c = 0; c < Geometry.NumSizeClasses; c++)
            Assert.That(after.Classes[c].FreeBlocks + after.Classes[c].BlocksInUse,
                Is.EqualTo(before.Classes[c].FreeBlocks + before.Classes[c].BlocksInUse), $"class {c}");
        foreach (var (p, index, tag) in _live)
            Assert.That(Memory.FirstMismatch((void*)p, Geometry.IndexToSize(index), tag), Is.EqualTo(-1), $"survivor 0x{p:x} lost its contents");

        // Free a third of the survivors after the trim, then allocate every freed class again:
        // the blocks freed before and after the trim, parked or not, take them all, no arena is added.
        for (int i = 0; i < 2000; i++)
        {
            int victim = random.Next(_live.Count);
            freedClasses.Add(_live[victim].Index);
            FreeLiveAt(victim);
        }
        AssertSound("after freeing survivors");
        foreach (uint index in freedClasses.OrderBy(_ => random.Next()))
            Allocate(index);
        Assert.That(_live.Select(b => b.P).Distinct().Count(), Is.EqualTo(_live.Count), "a block was handed out twice");
        Assert.That(_heap->ArenasCurrent, Is.EqualTo(arenasBefore), "the refill mapped a new arena: parked blocks were not reused");
        AssertSound("after the refill");
        foreach (var (p, index, tag) in _live)
            Assert.That(Memory.FirstMismatch((void*)p, Geometry.IndexToSize(index), tag), Is.EqualTo(-1), $"block 0x{p:x} overwritten");
        while (_live.Count > 0)
            FreeLiveAt(random.Next(_live.Count));
        AssertSound("after freeing everything");
    }

    /// <summary>Trims in the middle of random traffic: blocks carved into released pages, pools emptied and reused.</summary>
    [Test]
    public void Trim_RepeatedDuringRandomTraffic_KeepsTheHeapSound([Values(1, 2, 3)] int seed)
    {
        var random = new Random(seed);
        nuint releasedTotal = 0;
        for (int round = 0; round < 12; round++)
        {
            double allocateShare = round % 3 == 2 ? 0.3 : 0.6;
            for (int op = 0; op < 6000; op++)
            {
                if (_live.Count == 0 || random.NextDouble() < allocateShare)
                    Allocate(random.Next(2) == 0 ? (uint)random.Next(Geometry.NumSizeClasses) : (uint)random.Next(Geometry.NumSizeClasses - 4, Geometry.NumSizeClasses)); // large classes: few blocks per page
                else
                    FreeLiveAt(random.Next(_live.Count));
            }
            releasedTotal += Heap.Trim(_heap);
            AssertSound($"seed {seed}, after the trim of round {round}");
            Assert.That(_live.Select(b => b.P).Distinct().Count(), Is.EqualTo(_live.Count), "a block was handed out twice");
        }
        Assert.That((ulong)releasedTotal, Is.GreaterThan(0UL));
        foreach (var (p, index, tag) in _live)
            Assert.That(Memory.FirstMismatch((void*)p, Geometry.IndexToSize(index), tag), Is.EqualTo(-1), $"block 0x{p:x} overwritten");
        while (_live.Count > 0)
            FreeLiveAt(random.Next(_live.Count));
        AssertSound("after freeing everything");
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
