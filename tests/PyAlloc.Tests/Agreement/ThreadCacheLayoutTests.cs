using System;
using NUnit.Framework;
using PyAlloc.Core.Allocator;

namespace PyAlloc.Tests.Agreement;

/// <summary>
/// native/entry/thread_cache.h mirrors a few of the core's structures (the C fast path
/// reads them without calling the core): gcc's offsets must be the C# offsets.
/// </summary>
[TestFixture]
public sealed unsafe class ThreadCacheLayoutTests
{
    /// <summary>(C struct, C field, C# type, C# field): every field either side reads.</summary>
    private static readonly (string CStruct, string CField, Type Type, string Field)[] Mirrored =
    [
        ("pa__arena", "address", typeof(ArenaObject), nameof(ArenaObject.Address)),
        ("pa__arena", "heap", typeof(ArenaObject), nameof(ArenaObject.Heap)),
        ("pa__arena", "live_bits", typeof(ArenaObject), nameof(ArenaObject.LiveBits)),
        ("pa__pool", "count", typeof(PoolHeader), nameof(PoolHeader.Count)),
        ("pa__pool", "size_index", typeof(PoolHeader), nameof(PoolHeader.SizeIndex)),
        ("pa__tcache", "heads", typeof(ThreadCache), nameof(ThreadCache.Heads)),
        ("pa__tcache", "counts", typeof(ThreadCache), nameof(ThreadCache.Counts)),
        ("pa__tcache", "next_orphan", typeof(ThreadCache), nameof(ThreadCache.NextOrphan)),
        ("pa__tcache", "next_live", typeof(ThreadCache), nameof(ThreadCache.NextLive)),
        ("pa__tcache", "prev_live", typeof(ThreadCache), nameof(ThreadCache.PrevLive)),
        ("pa__tcache", "heap", typeof(ThreadCache), nameof(ThreadCache.Heap)),
        ("pa__tcache", "nlarge", typeof(ThreadCache), nameof(ThreadCache.LargeCount)),
        ("pa__tcache", "large", typeof(ThreadCache), nameof(ThreadCache.Large)),
        ("pa__tcache", "large_size", typeof(ThreadCache), nameof(ThreadCache.LargeSizes)),
        ("pa__tcache", "arena_epoch", typeof(ThreadCache), nameof(ThreadCache.ArenaSlots)),
        ("pa__tcache", "npending", typeof(ThreadCache), nameof(ThreadCache.PendingCount)),
        ("pa__tcache", "last_index", typeof(ThreadCache), nameof(ThreadCache.LastIndex)),
        ("pa__tcache", "last", typeof(ThreadCache), nameof(ThreadCache.Last)),
        ("pa__tcache", "pending", typeof(ThreadCache), nameof(ThreadCache.Pending)),
        ("pa__fastpath", "enabled", typeof(FastPath), nameof(FastPath.Enabled)),
        ("pa__fastpath", "attached", typeof(FastPath), nameof(FastPath.Attached)),
        ("pa__fastpath", "heaps", typeof(FastPath), nameof(FastPath.Heaps)),
        ("pa__fastpath", "heaps_span", typeof(FastPath), nameof(FastPath.HeapsSpan)),
        ("pa__fastpath", "arena_epoch", typeof(FastPath), nameof(FastPath.ArenaEpoch)),
        ("pa__fastpath", "deferred", typeof(FastPath), nameof(FastPath.Deferred)),
        ("pa__deferred", "next", typeof(DeferredFree), nameof(DeferredFree.Next)),
        ("pa__deferred", "block", typeof(DeferredFree), nameof(DeferredFree.Block)),
        ("pa__fastpath", "arena_root", typeof(FastPath), nameof(FastPath.ArenaRoot)),
        ("pa__fastpath", "secret", typeof(FastPath), nameof(FastPath.Secret)),
        ("pa__fastpath", "orphans", typeof(FastPath), nameof(FastPath.Orphans)),
    ];

    [Test]
    public void MirroredFields_HaveTheCoreOffsets()
    {
        var fields = Array.ConvertAll(Mirrored, m => new LayoutMirror.Field(m.CStruct, m.CField, m.Type, m.Field));
        LayoutMirror.Constant[] constants =
        [
            new("PA__NUM_CLASSES", Geometry.NumSizeClasses),
            new("PA__POOL_OVERHEAD", Geometry.PoolOverhead),
            new("PA__LIVE_WORDS_PER_POOL", Geometry.LiveWordsPerPool),
            new("PA__LARGE_SLOTS", ThreadCaches.LargeSlots),
            new("PA__ARENA_SLOTS", ThreadCaches.ArenaSlots),
            new("PA__PENDING", ThreadCaches.PendingSlots),
            new("PA__POOLS_PER_ARENA", Geometry.PoolsPerArena),
            new("PA__POOL_SIZE", Geometry.PoolSize),
            new("PA__ARENA_BITS", Geometry.ArenaBits),
        ];
        var problems = LayoutMirror.Problems("thread_cache.h", fields, constants);
        Assert.That(problems, Is.Empty, string.Join("\n", problems));
    }
}
