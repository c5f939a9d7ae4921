using System.Runtime.InteropServices;
using NUnit.Framework;
using PyAlloc.Core.Allocator;

namespace PyAlloc.Tests.Core;

/// <summary>The radix tree that tells our arenas from every other address.</summary>
[TestFixture]
public sealed unsafe class ArenaMapTests
{
    private Heap* _heap;

    [SetUp]
    public void CreateHeap()
    {
        _heap = Heap.Create();
        Assert.That((long)_heap, Is.Not.Zero);
    }

    [TearDown]
    public void DestroyHeap()
    {
        if (_heap != null)
            Heap.Destroy(_heap);
    }

    [Test]
    public void Lookup_OfAddressesNoArenaHolds_IsNull()
    {
        Heap.Allocate(_heap, 0); // the map has nodes
        long local = 0;
        void* small = NativeMemory.Alloc(48);
        void* large = NativeMemory.Alloc(4 << 20);
        void* aligned = NativeMemory.AlignedAlloc(1 << 20, 1 << 20);
        try
        {
            ulong[] addresses =
            [
                0, 1, (ulong)(&local), (ulong)small, (ulong)large, (ulong)large + (2 << 20), (ulong)aligned,
                1ul << 48, (1ul << 48) + (1 << 20), 0x0000_7FFF_FFFF_F000, 0xFFFF_8000_0000_0000, 0xFFFF_FFFF_FFFF_FFF0, ulong.MaxValue,
            ];
            foreach (ulong a in addresses)
                Assert.That((long)ArenaMap.Lookup((void*)a), Is.Zero, $"ArenaMap.Lookup(0x{a:x})");
        }
        finally
        {
            NativeMemory.Free(small);
            NativeMemory.Free(large);
            NativeMemory.AlignedFree(aligned);
        }
    }

    [Test]
    public void Lookup_OfEveryPartOfAnArena_IsThatArena_AndNothingAround()
    {
        byte* p = Heap.Allocate(_heap, 4);
        ArenaObject* arena = ArenaMap.Lookup(p);
        Assert.That((long)arena, Is.Not.Zero);
        byte* start = arena->Address;
        Assert.That((ulong)start, Is.EqualTo((ulong)p & ~(nuint)(Geometry.ArenaSize - 1)));
        Assert.That(arena->Heap == _heap, Is.True);
        for (nuint offset = 0; offset < Geometry.ArenaSize; offset += 4096 - 16)
            Assert.That(ArenaMap.Lookup(start + offset) == arena, Is.True, $"offset {offset}");
        Assert.That(ArenaMap.Lookup(start + Geometry.ArenaSize - 1) == arena, Is.True, "the last byte");
        Assert.That(ArenaMap.Lookup(start - 1) == arena, Is.False, "the byte before");
        Assert.That(ArenaMap.Lookup(start + Geometry.ArenaSize) == arena, Is.False, "the byte after");
    }

    [Test]
    public void Lookup_AfterTheArenaIsReturned_IsNull()
    {
        byte* p = Heap.Allocate(_heap, 7);
        ArenaObject* arena = ArenaMap.Lookup(p);
        Assert.That(Heap.Free(_heap, arena, p, "test"), Is.True);
        Assert.That((long)ArenaMap.Lookup(p), Is.Not.Zero, "the last arena is kept after its last free");
        Assert.That((ulong)Heap.Trim(_heap), Is.EqualTo((ulong)Geometry.ArenaSize));
        Assert.That((long)ArenaMap.Lookup(p), Is.Zero);
    }
}
