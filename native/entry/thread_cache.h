/* The thread cache: the fast path of pa_malloc, pa_calloc and pa_free.

   Why it exists
     A call from C into the C# core (an [UnmanagedCallersOnly] export) costs
     about as much as glibc's whole malloc+free of a small block.  So small
     blocks are handed out and taken back here, in C, from a per-thread cache
     of free blocks: one list per size class, popped by malloc and pushed by
     free with no lock, no atomic and no call.  The core fills a list when it
     runs dry and takes blocks back when one grows too long, a batch at a time
     (pa__cache_refill, pa__cache_drain: one crossing and one lock per batch).

   What a cached block is
     To the heap it is live: counted in use, its live bit set.  To the user it
     is free.  Its first word links it to the next cached block of its class;
     its second word holds its tag, fp.secret ^ address, a number no live block
     holds unless its owner wrote exactly that.  So a free that finds the tag
     is a double free: the core refuses it with pa_last_error(), as it refuses
     one of a block that is back in its pool (live bit clear).  malloc clears
     the tag of the block it hands out.

   Why pa_free only stores
     A freed block is usually cold: a program frees what it allocated long
     ago.  Reading it (its tag) stalls the free on a cache miss, and a load
     that misses holds up everything after it, where a store retires at once.
     So pa_free checks only what the thread cache itself holds (the pointer's
     alignment and its arena's slot), writes the pointer into the thread's
     ring of pending frees and prefetches the block.  Every PA__PENDING frees
     (and before anything that must see them: a malloc that finds its list
     empty, a call into the core, pa_realloc, pa_usable_size, pa_last_error)
     the ring is settled: each block's live bit and tag are checked, the
     loads of all of them in flight at once, and the block joins its class's
     list, or goes to the core, which refuses a double free or a pointer that
     is not a live block with the same message as before.  A block waits in
     the ring for at most PA__PENDING frees of its thread; the statistics
     count it free, as a cached block.
     One block skips the ring: the one this thread's pa_malloc handed out
     last (tc->last), freed before the next malloc (a temporary).  It is hot,
     so it is checked at once and joins its list; its class is the one malloc
     took it from.

   Why pa_free may trust what it reads
     The ring path reads only the thread's arena slot (filled from the arena
     map, which is never freed) and the pointer it frees.  Settling, and the
     hot block's check, first compare the epoch (raised whenever an arena is
     unmapped: then every slot is filled again from the map), then read the
     arena's live bitmap (outside the arena), and only when the block's live
     bit is set, the block and its pool header: a live block's arena is mapped.
     Anything unusual (not 16-byte aligned, not our process heap's arena, bit
     clear, tagged) goes to the core, which decides with its lock held and
     reports.
     The limit: a free of a stale pointer (a double free) that races with
     another thread unmapping that pointer's arena may read the arena's bitmap
     after it is freed, between the epoch check and the bitmap load; and two
     threads settling one block at the same moment may both cache it.  Neither
     can happen in a program that frees each block once.  A block pending in
     one thread's ring is, to another thread's pa_realloc or pa_usable_size,
     still live until its thread settles it.

   What the core owns
     Everything.  This file mirrors the few fields it reads (pa__arena,
     pa__pool, pa__tcache, pa__fastpath: src/PyAlloc.Core/Allocator/ThreadCache.cs
     and Types.cs); core_layout.g.h, generated from the core, holds the shared
     constants and makes the compiler check each mirrored offset.  The core sets
     fp.enabled only in pymalloc mode while tracemalloc is off: every other
     case (debug hooks, malloc mode, tracing, first use) takes the old path. */
#ifndef PA_THREAD_CACHE_H
#define PA_THREAD_CACHE_H

#include <stddef.h>
#include <stdint.h>

/* The constants shared with the core (PA__NUM_CLASSES, PA__SMALL_MAX,
   PA__ARENA_SLOTS, ...), the size-class formula and the layout checks:
   generated from the core, see its first lines. */
#include "core_layout.g.h"
#include "check.h"

/* ArenaObject (Types.cs): the fields the free path reads. */
typedef struct pa__arena {
    uint8_t *address;         /* 0: the arena's base, NULL when the descriptor is spare */
    void *pool_address;       /* 8 */
    void *free_pools;         /* 16 */
    void *next, *prev;        /* 24, 32 */
    void *heap;               /* 40: the heap whose pools these are */
    uint32_t nfree, ntotal;   /* 48, 52 */
    uint64_t *live_bits;      /* 56: a bit per 16-byte granule of the arena, set where a live block starts */
} pa__arena;

/* PoolHeader (Types.cs): the size class of a pool's blocks is its second word. */
typedef struct pa__pool {
    uint32_t count;
    uint32_t size_index;
} pa__pool;

/* ThreadCache (ThreadCache.cs): one per thread, made on first use, given back
   to the core through fp.orphans when the thread ends.  The core reads the
   fields up to large_size; the arena slots after them are the C side's own. */
/* PA__PENDING, the frees a thread makes before it checks them: far enough
   apart that the prefetch of the first has landed when the ring is settled. */
typedef struct pa__tcache {
    void *heads[PA__NUM_CLASSES];      /* cached blocks, linked by their first word */
    uint32_t counts[PA__NUM_CLASSES];  /* length of each list */
    struct pa__tcache *next_orphan;
    struct pa__tcache *next_live, *prev_live;  /* the core's registry of caches */
    void *heap;                                /* the process heap it refills from (the core's) */
    /* Freed blocks over 512 bytes (at most 16 KiB) kept for this thread's next
       pa_malloc they fit: still registered with the core, tagged like cached
       pool blocks.  The core frees them at a flush and when the thread ends. */
    uint32_t nlarge;
    void *large[PA__LARGE_SLOTS];
    size_t large_size[PA__LARGE_SLOTS];
    /* The arenas of the process heaps this thread freed into lately, by
       (address >> 20) % SLOTS, with their live bitmaps: a free need not walk
       the arena map (three dependent loads) nor read the descriptor.  Valid
       while arena_epoch equals fp.arena_epoch, which the core raises whenever
       any arena is unmapped (before its bitmap is freed): then every slot is
       filled again from the map.  256 slots (4 KiB a thread) give every arena
       of a 256 MiB stretch of addresses a slot of its own, so a live set
       spread over dozens of arenas rarely misses its slot (bench/results/
       README.md has the measurement that chose 256). */
    uint64_t arena_epoch;
    uintptr_t arena_base[PA__ARENA_SLOTS];
    uint64_t *live[PA__ARENA_SLOTS];
    /* Frees not yet checked ("Why pa_free only stores"): pending[0..npending). */
    uint32_t npending;
    uint32_t last_index;              /* the size class of last */
    void *last;                       /* the block this thread's pa_malloc handed out last, until freed */
    void *pending[PA__PENDING];
} pa__tcache;

/* A pa_free made after this thread's cache was given back (a TLS destructor
   that runs after ours, when the NativeAOT runtime has let the thread go and a
   call into the core would stop the process): the pointer waits here, in
   memory from the C library, until the core frees it on another call. */
typedef struct pa__deferred {
    struct pa__deferred *next;
    void *block;
} pa__deferred;

/* FastPath (ThreadCache.cs): what the core tells the C fast path. */
typedef struct pa__fastpath {
    volatile int enabled;                /* 1: the caches may serve (pymalloc, not tracing) */
    int attached;                        /* the core knows this struct */
    void *volatile heaps;                /* the first process heap */
    const intptr_t *volatile arena_root; /* the arena map's root, once mapped */
    uintptr_t secret;                    /* the tag key */
    pa__tcache *volatile orphans;        /* caches of ended threads, a lock-free stack */
    uintptr_t heaps_span;                /* the process heaps are [heaps, heaps + heaps_span) */
    volatile uint64_t arena_epoch;       /* raised whenever an arena is unmapped */
    pa__deferred *volatile deferred;     /* frees of ended threads, a lock-free stack */
} pa__fastpath;

/* Each mirrored field where the core has it, or the build stops here. */
PA__CORE_LAYOUT_ASSERTS(pa__arena);
PA__CORE_LAYOUT_ASSERTS(pa__pool);
PA__CORE_LAYOUT_ASSERTS(pa__tcache);
PA__CORE_LAYOUT_ASSERTS(pa__fastpath);
PA__CORE_LAYOUT_ASSERTS(pa__deferred);


extern pa__fastpath pa__fp;

/* True when heap is one of the process heaps (not a runtime's): one range check. */
static inline int pa__is_process_heap(const void *heap)
{
    return (uintptr_t)heap - (uintptr_t)pa__fp.heaps < pa__fp.heaps_span;
}

extern __thread pa__tcache *pa__tc __attribute__((tls_model("initial-exec")));

/* Longest list per class: about 8 KiB of blocks, at least 16 and at most 128
   (thread_cache.c). */
extern const uint8_t pa__cache_limit[PA__NUM_CLASSES];

/* The slow halves (thread_cache.c). */
pa__tcache *pa__tcache_create(void);
void *pa__tcache_malloc_slow(size_t n);
void pa__tcache_settle(pa__tcache *tc);
void pa__tcache_overflow(pa__tcache *tc, uint32_t index);
int pa__tcache_realloc(void *p, size_t n, void **out);
void pa__tcache_settle_current(void);
int pa__tcache_arena_slot(pa__tcache *tc, uintptr_t a);
void pa__tcache_attach(void);
void pa__tcache_flush_current(void);
int pa__tcache_defer_free(void *p);
int pa__tcache_exited(void);
void *pa__tcache_large_pop(pa__tcache *tc, size_t n);
int pa__tcache_large_push(pa__tcache *tc, void *p);

#define PA__LIKELY(x) __builtin_expect(!!(x), 1)
#define PA__UNLIKELY(x) __builtin_expect(!!(x), 0)

/* A cached block of n <= 512 bytes, or NULL (cache empty or absent).
   Fast because it is a TLS load, a list pop and a store into the block's
   line, which the caller is about to use anyway. */
static inline __attribute__((always_inline)) void *pa__tcache_pop(size_t n)
{
    pa__tcache *tc = pa__tc;
    if (PA__UNLIKELY(tc == NULL || n > PA__SMALL_MAX))
        return NULL;
    uint32_t index = PA__SIZE_CLASS(n);
    void **b = (void **)tc->heads[index];
    if (PA__UNLIKELY(b == NULL))
        return NULL;
    pa__assert_fast(((uintptr_t)b & PA__ALIGNMENT_MASK) == 0, "a cached block is 16-byte aligned");
    pa__assert_fast((uintptr_t)b[1] == (pa__fp.secret ^ (uintptr_t)b),
                    "a cached block carries its free tag (else it was written after its free)");
    pa__assert_fast(tc->counts[index] > 0, "a class list with a block counts it");
    tc->heads[index] = b[0];
    tc->counts[index]--;
    b[1] = NULL;                      /* the tag goes: the block is the user's now */
    tc->last = b;
    tc->last_index = index;
    return b;
}

/* The live-bitmap word of address a in the bitmap `live` of its arena, and
   a's bit in it: bit (a >> 4) mod 65536 of the arena's bitmap (a pool
   header's granules are never set, so a pointer into one fails the check). */
static inline uint64_t *pa__live_word(uint64_t *live, uintptr_t a)
{
    return &live[(a >> 10) & (PA__POOLS_PER_ARENA * PA__LIVE_WORDS_PER_POOL - 1)];
}
#define PA__LIVE_BIT(a) ((uint64_t)1 << (((a) >> PA__ALIGNMENT_SHIFT) & 63))

/* What pa__tcache_push did with a block: pa_free's next step. */
typedef enum pa__push {
    PA__PUSH_DECLINED = 0,   /* not taken, nothing touched: no cache yet, an arena slot to
                                fill, or the core's (a large block, an error, an object) */
    PA__PUSH_TAKEN = 1,      /* taken: nothing more to do */
    PA__PUSH_RING_FULL = 2,  /* taken into the ring of pending frees, now full: settle it */
    PA__PUSH_LIST_FULL = 3,  /* taken onto its class list (the block handed out last), now
                                over its limit: give half of it back (pa__tcache_overflow) */
} pa__push;

/* Takes p into the calling thread's ring of pending frees when it lies in an
   arena of the process heaps the thread knows (see pa__push for the results).
   Fast because it loads nothing that can miss: the slot is the thread's own,
   the block is only prefetched, and the pointer is stored
   in the thread's ring ("Why pa_free only stores").  Its live bit is not
   prefetched: the bitmaps are small (8 KiB an arena) and mostly in the cache,
   and a second prefetch made churn slower, not faster.  It calls nothing: a free
   that needs more leaves through the caller's tail call.
   Pre: pa__fp.enabled. */
static inline __attribute__((always_inline)) pa__push pa__tcache_push(void *p)
{
    uintptr_t a = (uintptr_t)p;
    pa__tcache *tc = pa__tc;
    if (PA__UNLIKELY((a & PA__ALIGNMENT_MASK) != 0 || tc == NULL))
        return PA__PUSH_DECLINED;
    uintptr_t base = a & ~(((uintptr_t)1 << PA__ARENA_BITS) - 1);
    unsigned slot = (unsigned)(a >> PA__ARENA_BITS) & (PA__ARENA_SLOTS - 1);
    if (PA__UNLIKELY(tc->arena_base[slot] != base))
        return PA__PUSH_DECLINED;     /* a slot to fill, or not a process heap's arena */
    if (p == tc->last) {
        /* The block this thread handed out last, freed straight away (a
           temporary): its line and its bitmap word are in the cache, so it
           is checked now and joins its list at once, its class known without
           reading its pool.  tc->last is cleared: a second free of it takes
           the ring and is refused there. */
        uintptr_t *b = (uintptr_t *)p;
        uintptr_t tag = pa__fp.secret ^ a;
        if (PA__LIKELY(tc->arena_epoch == __atomic_load_n(&pa__fp.arena_epoch, __ATOMIC_RELAXED)
                       && (__atomic_load_n(pa__live_word(tc->live[slot], a), __ATOMIC_RELAXED) & PA__LIVE_BIT(a)) != 0
                       && b[1] != tag)) {
            uint32_t index = tc->last_index;
            tc->last = NULL;
            b[0] = (uintptr_t)tc->heads[index];
            b[1] = tag;
            tc->heads[index] = b;
            return PA__LIKELY(++tc->counts[index] <= pa__cache_limit[index]) ? PA__PUSH_TAKEN : PA__PUSH_LIST_FULL;
        }
    }
    /* Any other block: into the ring, unread.  No epoch check: the slot may be
       stale (its arena unmapped since), but nothing is read through it, only
       prefetched, which cannot fault; settling checks the epoch before it
       reads the bitmap. */
    __builtin_prefetch(p, 1, 3);      /* settling reads the tag and writes the links */
    uint32_t n = tc->npending;
    pa__assert_fast(n < PA__PENDING, "the ring of pending frees has room (a full ring is settled at once)");
    tc->pending[n] = p;
    tc->npending = ++n;
    return PA__LIKELY(n < PA__PENDING) ? PA__PUSH_TAKEN : PA__PUSH_RING_FULL;
}

#endif
