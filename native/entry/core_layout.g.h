/* GENERATED from src/PyAlloc.Core by tests/PyAlloc.Tests/Agreement/CoreLayoutHeader.cs:
   do not edit.  Regenerate: PYALLOC_REGENERATE=1 dotnet test tests/PyAlloc.Tests -c Release
   --filter CoreLayoutHeader (a test of ./build.sh test fails while it is stale).

   What the C entry (native/entry) shares with the core: the constants, the
   size-class formula, and the offsets of every field it mirrors, checked by
   the compiler (PA__CORE_LAYOUT_ASSERTS, used once the structs are defined). */
#ifndef PA_CORE_LAYOUT_G_H
#define PA_CORE_LAYOUT_G_H

#include <stddef.h>
#include <stdint.h>

#define PA__ALIGNMENT_SHIFT      4       /* Geometry.AlignmentShift: blocks are 16-byte granules */
#define PA__NUM_CLASSES          32      /* Geometry.NumSizeClasses */
#define PA__SMALL_MAX            512     /* Geometry.SmallRequestThreshold: larger requests are not pool blocks */
#define PA__POOL_SIZE            16384u  /* Geometry.PoolSize */
#define PA__POOL_OVERHEAD        48u     /* Geometry.PoolOverhead: the pool header */
#define PA__POOLS_PER_ARENA      64u     /* Geometry.PoolsPerArena */
#define PA__LIVE_WORDS_PER_POOL  16u     /* Geometry.LiveWordsPerPool */
#define PA__ARENA_BITS           20      /* Geometry.ArenaBits: arenas are 1 MiB, aligned */
#define PA__ADDRESS_BITS         48      /* ArenaMap.AddressBits: the arena map covers user space */
#define PA__MAP_LEAF_BITS        14      /* ArenaMap.LeafBits: a leaf of the arena map */
#define PA__ARENA_SLOTS          256     /* ThreadCaches.ArenaSlots */
#define PA__LARGE_SLOTS          8       /* ThreadCaches.LargeSlots */
#define PA__PENDING              16      /* ThreadCaches.PendingSlots: the ring of pending frees */

/* A block's address is a multiple of the granule: the low bits a pointer to one has clear. */
#define PA__ALIGNMENT_MASK ((1u << PA__ALIGNMENT_SHIFT) - 1)

/* Geometry.SizeToIndex: the size class of a request of n bytes, 0 < n <= PA__SMALL_MAX
   (and class 0 for n = 0, which gets a 16-byte block). */
#define PA__SIZE_CLASS(n) ((uint32_t)(((n) - ((n) != 0)) >> PA__ALIGNMENT_SHIFT))

/* Where the core has each mirrored field (Marshal.OffsetOf of its struct). */
#define PA__CORE_LAYOUT_ASSERTS(STRUCT) PA__CORE_LAYOUT_ASSERTS_##STRUCT
#define PA__CORE_LAYOUT_ASSERTS_pa__arena \
    _Static_assert(offsetof(pa__arena, address) == 0, "pa__arena.address is at 0 in the core (ArenaObject.Address)"); \
    _Static_assert(offsetof(pa__arena, heap) == 40, "pa__arena.heap is at 40 in the core (ArenaObject.Heap)"); \
    _Static_assert(offsetof(pa__arena, live_bits) == 56, "pa__arena.live_bits is at 56 in the core (ArenaObject.LiveBits)"); \
    _Static_assert(1, "")
#define PA__CORE_LAYOUT_ASSERTS_pa__pool \
    _Static_assert(offsetof(pa__pool, count) == 0, "pa__pool.count is at 0 in the core (PoolHeader.Count)"); \
    _Static_assert(offsetof(pa__pool, size_index) == 4, "pa__pool.size_index is at 4 in the core (PoolHeader.SizeIndex)"); \
    _Static_assert(1, "")
#define PA__CORE_LAYOUT_ASSERTS_pa__tcache \
    _Static_assert(offsetof(pa__tcache, heads) == 0, "pa__tcache.heads is at 0 in the core (ThreadCache.Heads)"); \
    _Static_assert(offsetof(pa__tcache, counts) == 256, "pa__tcache.counts is at 256 in the core (ThreadCache.Counts)"); \
    _Static_assert(offsetof(pa__tcache, next_orphan) == 384, "pa__tcache.next_orphan is at 384 in the core (ThreadCache.NextOrphan)"); \
    _Static_assert(offsetof(pa__tcache, next_live) == 392, "pa__tcache.next_live is at 392 in the core (ThreadCache.NextLive)"); \
    _Static_assert(offsetof(pa__tcache, prev_live) == 400, "pa__tcache.prev_live is at 400 in the core (ThreadCache.PrevLive)"); \
    _Static_assert(offsetof(pa__tcache, heap) == 408, "pa__tcache.heap is at 408 in the core (ThreadCache.Heap)"); \
    _Static_assert(offsetof(pa__tcache, nlarge) == 416, "pa__tcache.nlarge is at 416 in the core (ThreadCache.LargeCount)"); \
    _Static_assert(offsetof(pa__tcache, large) == 424, "pa__tcache.large is at 424 in the core (ThreadCache.Large)"); \
    _Static_assert(offsetof(pa__tcache, large_size) == 488, "pa__tcache.large_size is at 488 in the core (ThreadCache.LargeSizes)"); \
    _Static_assert(offsetof(pa__tcache, arena_epoch) == 552, "pa__tcache.arena_epoch is at 552 in the core (ThreadCache.ArenaSlots)"); \
    _Static_assert(offsetof(pa__tcache, npending) == 4656, "pa__tcache.npending is at 4656 in the core (ThreadCache.PendingCount)"); \
    _Static_assert(offsetof(pa__tcache, last_index) == 4660, "pa__tcache.last_index is at 4660 in the core (ThreadCache.LastIndex)"); \
    _Static_assert(offsetof(pa__tcache, last) == 4664, "pa__tcache.last is at 4664 in the core (ThreadCache.Last)"); \
    _Static_assert(offsetof(pa__tcache, pending) == 4672, "pa__tcache.pending is at 4672 in the core (ThreadCache.Pending)"); \
    _Static_assert(1, "")
#define PA__CORE_LAYOUT_ASSERTS_pa__fastpath \
    _Static_assert(offsetof(pa__fastpath, enabled) == 0, "pa__fastpath.enabled is at 0 in the core (FastPath.Enabled)"); \
    _Static_assert(offsetof(pa__fastpath, attached) == 4, "pa__fastpath.attached is at 4 in the core (FastPath.Attached)"); \
    _Static_assert(offsetof(pa__fastpath, heaps) == 8, "pa__fastpath.heaps is at 8 in the core (FastPath.Heaps)"); \
    _Static_assert(offsetof(pa__fastpath, arena_root) == 16, "pa__fastpath.arena_root is at 16 in the core (FastPath.ArenaRoot)"); \
    _Static_assert(offsetof(pa__fastpath, secret) == 24, "pa__fastpath.secret is at 24 in the core (FastPath.Secret)"); \
    _Static_assert(offsetof(pa__fastpath, orphans) == 32, "pa__fastpath.orphans is at 32 in the core (FastPath.Orphans)"); \
    _Static_assert(offsetof(pa__fastpath, heaps_span) == 40, "pa__fastpath.heaps_span is at 40 in the core (FastPath.HeapsSpan)"); \
    _Static_assert(offsetof(pa__fastpath, arena_epoch) == 48, "pa__fastpath.arena_epoch is at 48 in the core (FastPath.ArenaEpoch)"); \
    _Static_assert(offsetof(pa__fastpath, deferred) == 56, "pa__fastpath.deferred is at 56 in the core (FastPath.Deferred)"); \
    _Static_assert(1, "")
#define PA__CORE_LAYOUT_ASSERTS_pa__deferred \
    _Static_assert(offsetof(pa__deferred, next) == 0, "pa__deferred.next is at 0 in the core (DeferredFree.Next)"); \
    _Static_assert(offsetof(pa__deferred, block) == 8, "pa__deferred.block is at 8 in the core (DeferredFree.Block)"); \
    _Static_assert(1, "")
#define PA__CORE_LAYOUT_ASSERTS_pa__site \
    _Static_assert(offsetof(pa__site, file) == 0, "pa__site.file is at 0 in the core (AllocationSite.File)"); \
    _Static_assert(offsetof(pa__site, line) == 8, "pa__site.line is at 8 in the core (AllocationSite.Line)"); \
    _Static_assert(offsetof(pa__site, frames) == 16, "pa__site.frames is at 16 in the core (AllocationSite.Frames)"); \
    _Static_assert(offsetof(pa__site, nframes) == 24, "pa__site.nframes is at 24 in the core (AllocationSite.FrameCount)"); \
    _Static_assert(1, "")

#endif
