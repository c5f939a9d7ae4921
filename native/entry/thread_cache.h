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

   Why pa_free may trust what it reads
     It reads, in order, the arena map (never freed; or the thread's copy of
     its answer, checked against the descriptor), the arena's descriptor
     (never freed), the arena's live bitmap (outside the arena), and only when
     the block's live bit is set, the block and its pool header: a live block's
     arena is mapped.  Anything unusual (not 16-byte aligned, not our process
     heap's arena, bit clear, tagged) goes to the core, which decides with its
     lock held and reports.
     The limit: a free of a stale pointer (a double free) that races with
     another thread unmapping that pointer's arena may read the arena's bitmap
     after it is freed, between the epoch check and the bitmap load; and two
     threads freeing one block at the same moment may both cache it.  Neither
     can happen in a program that frees each block once.

   What the core owns
     Everything.  This file mirrors the few fields it reads (pa__arena,
     pa__pool, pa__tcache, pa__fastpath: src/PyAlloc.Core/Allocator/ThreadCache.cs
     and Types.cs); the agreement test checks the offsets.  The core sets
     fp.enabled only in pymalloc mode while tracemalloc is off: every other
     case (debug hooks, malloc mode, tracing, first use) takes the old path. */
#ifndef PA_THREAD_CACHE_H
#define PA_THREAD_CACHE_H

#include <stddef.h>
#include <stdint.h>

#define PA__NUM_CLASSES 32
#define PA__SMALL_MAX 512
#define PA__POOL_SIZE 16384u
#define PA__POOL_OVERHEAD 48u
#define PA__POOLS_PER_ARENA 64u
#define PA__LIVE_WORDS_PER_POOL 16u
#define PA__ARENA_BITS 20
#define PA__MAP_LEAF_BITS 14

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
#define PA__ARENA_SLOTS 256
#define PA__LARGE_SLOTS 8
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
       of a 256 MiB stretch of addresses a slot of its own; with 16, a live set
       spread over 30-odd arenas (the churn benchmark's 100,000 blocks) missed
       its slot on most frees and walked the map: churn 74-78 -> 37-58 ns. */
    uint64_t arena_epoch;
    uintptr_t arena_base[PA__ARENA_SLOTS];
    uint64_t *live[PA__ARENA_SLOTS];
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
void pa__tcache_overflow(pa__tcache *tc, uint32_t index);
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
    uint32_t index = (uint32_t)((n - (n != 0)) >> 4);
    void **b = (void **)tc->heads[index];
    if (PA__UNLIKELY(b == NULL))
        return NULL;
    tc->heads[index] = b[0];
    tc->counts[index]--;
    b[1] = NULL;                      /* the tag goes: the block is the user's now */
    return b;
}

/* Takes p into the calling thread's cache when it is a live block of the
   process heap's pools.  Returns 1 when taken, 2 when taken and its list is
   now over the limit (the caller drains it), 0 when not taken, touching
   nothing: no cache yet, an arena slot to fill, or something for the core
   (a large block, an error, a runtime's object memory, a double free).
   Fast because it calls nothing: a free that needs more leaves through the
   caller's tail call, so this path keeps no registers on the stack.
   Pre: pa__fp.enabled. */
static inline __attribute__((always_inline)) int pa__tcache_push(void *p)
{
    uintptr_t a = (uintptr_t)p;
    pa__tcache *tc = pa__tc;
    if (PA__UNLIKELY((a & 15) != 0 || tc == NULL))
        return 0;
    uintptr_t base = a & ~(((uintptr_t)1 << PA__ARENA_BITS) - 1);
    unsigned slot = (unsigned)(a >> PA__ARENA_BITS) & (PA__ARENA_SLOTS - 1);
    if (PA__UNLIKELY(tc->arena_base[slot] != base
                     || tc->arena_epoch != __atomic_load_n(&pa__fp.arena_epoch, __ATOMIC_RELAXED)))
        return 0;                     /* a slot to fill, or not a process heap's arena */
    /* The block's live bit is bit (a >> 4) mod 65536 of its arena's bitmap (a
       pool header's granules are never set, so a pointer into one fails here). */
    uint64_t word = __atomic_load_n(&tc->live[slot][(a >> 10) & (PA__POOLS_PER_ARENA * PA__LIVE_WORDS_PER_POOL - 1)],
                                    __ATOMIC_RELAXED);   /* the core sets other bits of it meanwhile */
    if (PA__UNLIKELY(((word >> ((a >> 4) & 63)) & 1) == 0))
        return 0;                     /* not a live block: the core reports it */
    uintptr_t pool = a & ~(uintptr_t)(PA__POOL_SIZE - 1);
    uintptr_t *b = (uintptr_t *)p;
    uintptr_t tag = pa__fp.secret ^ a;
    if (PA__UNLIKELY(b[1] == tag))
        return 0;                     /* cached already: a double free */
    uint32_t index = ((const pa__pool *)pool)->size_index;
    b[0] = (uintptr_t)tc->heads[index];
    b[1] = tag;
    tc->heads[index] = b;
    return PA__LIKELY(++tc->counts[index] <= pa__cache_limit[index]) ? 1 : 2;
}

#endif
