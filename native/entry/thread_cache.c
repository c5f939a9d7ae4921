/* The thread cache's slow halves: making a thread's cache, refilling and
   draining it through the core, and giving it back when the thread ends.
   See thread_cache.h for what the cache is and why. */
#define _GNU_SOURCE
#include "thread_cache.h"
#include "private.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>


pa__fastpath pa__fp;

/* Initial-exec TLS, as in mimalloc, jemalloc and tcmalloc: the fast path's
   access is one %fs-relative load.  The library is marked STATIC_TLS, so a
   program that dlopens it (as .NET does) needs room in glibc's static TLS
   surplus: see the README's known issues. */
__thread pa__tcache *pa__tc __attribute__((tls_model("initial-exec")));

/* 8 KiB of blocks per class, 16 to 128 blocks: a refill or drain moves half. */
#define PA__LIMIT(i) ((8192 / (((i) + 1) * 16)) < 16 ? 16 : (8192 / (((i) + 1) * 16)) > 128 ? 128 \
                      : (8192 / (((i) + 1) * 16)))
const uint8_t pa__cache_limit[PA__NUM_CLASSES] = {
    PA__LIMIT(0), PA__LIMIT(1), PA__LIMIT(2), PA__LIMIT(3), PA__LIMIT(4), PA__LIMIT(5),
    PA__LIMIT(6), PA__LIMIT(7), PA__LIMIT(8), PA__LIMIT(9), PA__LIMIT(10), PA__LIMIT(11),
    PA__LIMIT(12), PA__LIMIT(13), PA__LIMIT(14), PA__LIMIT(15), PA__LIMIT(16), PA__LIMIT(17),
    PA__LIMIT(18), PA__LIMIT(19), PA__LIMIT(20), PA__LIMIT(21), PA__LIMIT(22), PA__LIMIT(23),
    PA__LIMIT(24), PA__LIMIT(25), PA__LIMIT(26), PA__LIMIT(27), PA__LIMIT(28), PA__LIMIT(29),
    PA__LIMIT(30), PA__LIMIT(31),
};

static void settle(pa__tcache *tc, int with_core);

static pthread_key_t exit_key;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;
static int exit_key_made;

/* 1 once this thread's cache went to the orphans: the thread is ending. */
static __thread int exited __attribute__((tls_model("initial-exec")));

/* The thread is ending: its cache goes to the core's orphan stack, which the
   core empties at its next refill, drain or flush (from any thread).  No call
   into the core here: the .NET runtime may have let go of this thread already. */
static void on_thread_exit(void *value)
{
    pa__tcache *tc = (pa__tcache *)value;
    pa__tc = NULL;
    exited = 1;
    settle(tc, 0);                    /* refused frees go to fp.deferred, lists may pass their limit */
    pa__tcache *head = __atomic_load_n(&pa__fp.orphans, __ATOMIC_RELAXED);
    do
        tc->next_orphan = head;
    while (!__atomic_compare_exchange_n(&pa__fp.orphans, &head, tc, 1, __ATOMIC_RELEASE, __ATOMIC_RELAXED));
}

static void make_exit_key(void)
{
    exit_key_made = pthread_key_create(&exit_key, on_thread_exit) == 0;
}

/* The calling thread's first cache, or NULL: the caches are off, out of
   memory, or no thread-exit hook could be made (a cache without one would
   strand its blocks when the thread ends). */
pa__tcache *pa__tcache_create(void)
{
    if (!pa__fp.enabled || exited)
        return NULL;
    pthread_once(&exit_key_once, make_exit_key);
    if (!exit_key_made)
        return NULL;
    pa__assert(pa__tc == NULL, "a thread makes its cache once");
    pa__tcache *tc = (pa__tcache *)calloc(1, sizeof *tc);
    if (tc == NULL)
        return NULL;
    for (int i = 0; i < PA__ARENA_SLOTS; i++)
        tc->arena_base[i] = UINTPTR_MAX;  /* matches no arena base (their low 20 bits are 0), NULL included */
    if (pthread_setspecific(exit_key, tc) != 0) {
        free(tc);
        return NULL;
    }
    pa__cache_register(tc);
    pa__tc = tc;
    return tc;
}

/* pa__tcache_pop found nothing: make the cache or refill the class, then pop.
   NULL sends the caller to the core (large request, out of memory, caches off). */
void *pa__tcache_malloc_slow(size_t n)
{
    if (n > PA__SMALL_MAX)
        return NULL;
    pa__tcache *tc = pa__tc;
    if (tc == NULL && (tc = pa__tcache_create()) == NULL)
        return NULL;
    uint32_t index = PA__SIZE_CLASS(n);
    if (tc->npending != 0)
        pa__tcache_settle(tc);        /* the pending frees may hold this class */
    if (tc->heads[index] == NULL && pa__cache_refill(tc, index, pa__cache_limit[index] / 2u) == 0)
        return NULL;
    pa__assert(tc->heads[index] != NULL && tc->counts[index] > 0,
               "a refill that brought blocks left them, counted, on the class list");
    return pa__tcache_pop(n);
}

/* The thread's arena slot for address a, filled from the arena map: the slot
   number, or -1 when a is in no arena of the process heap (the slot is left). */
int pa__tcache_arena_slot(pa__tcache *tc, uintptr_t a)
{
    /* The epoch is read before the map: an arena unmapped after this read raises
       it again, and the next free refills the slots. */
    uint64_t epoch = __atomic_load_n(&pa__fp.arena_epoch, __ATOMIC_ACQUIRE);
    if (tc->arena_epoch != epoch) {
        for (int i = 0; i < PA__ARENA_SLOTS; i++)
            tc->arena_base[i] = UINTPTR_MAX;
        tc->arena_epoch = epoch;
    }
    const intptr_t *root = pa__fp.arena_root;
    if ((a >> PA__ADDRESS_BITS) != 0 || root == NULL)
        return -1;
    const intptr_t *leaf = (const intptr_t *)root[a >> (PA__ARENA_BITS + PA__MAP_LEAF_BITS)];
    if (leaf == NULL)
        return -1;
    const pa__arena *arena = (const pa__arena *)leaf[(a >> PA__ARENA_BITS) & ((1u << PA__MAP_LEAF_BITS) - 1)];
    uintptr_t base = a & ~(((uintptr_t)1 << PA__ARENA_BITS) - 1);
    if (arena == NULL || !pa__is_process_heap(arena->heap) || (uintptr_t)arena->address != base)
        return -1;
    unsigned slot = (unsigned)(a >> PA__ARENA_BITS) & (PA__ARENA_SLOTS - 1);
    tc->arena_base[slot] = base;
    tc->live[slot] = arena->live_bits;
    return (int)slot;
}

/* The slot of address a in the thread's arena slots, filled from the arena
   map when it names another arena or the epoch moved; -1 when a is in no
   arena of the process heaps. */
static inline int slot_of(pa__tcache *tc, uintptr_t a)
{
    uintptr_t base = a & ~(((uintptr_t)1 << PA__ARENA_BITS) - 1);
    unsigned slot = (unsigned)(a >> PA__ARENA_BITS) & (PA__ARENA_SLOTS - 1);
    if (PA__LIKELY(tc->arena_base[slot] == base
                   && tc->arena_epoch == __atomic_load_n(&pa__fp.arena_epoch, __ATOMIC_RELAXED)))
        return (int)slot;
    return pa__tcache_arena_slot(tc, a);
}

/* Checks the ring of pending frees ("Why pa_free only stores" in
   thread_cache.h): each live, untagged block is tagged and joins the list of
   its class; the others (a double free, a pointer that is no live block) go
   to the core, which refuses them and sets pa_last_error(), or, when the
   core cannot be called (the thread is ending), to fp.deferred, where the
   core finds them later.  Lists that pass their limit give back all but the
   newest half (with the core only).
   Post: tc->npending == 0. */
static void settle(pa__tcache *tc, int with_core)
{
    uint32_t n = tc->npending;
    pa__assert(n <= PA__PENDING, "the ring of pending frees holds at most PA__PENDING blocks");
    void *refused[PA__PENDING];
    uint32_t nrefused = 0, over = 0;
    uintptr_t secret = pa__fp.secret;
    tc->npending = 0;
    for (uint32_t i = 0; i < n; i++) {
        /* Invariants: pending[0..i) are in their lists (counted) or in refused;
           bit k of over is set when list k passed its limit. */
        uintptr_t a = (uintptr_t)tc->pending[i];
        int slot = slot_of(tc, a);
        uint64_t word = slot < 0 ? 0 : __atomic_load_n(pa__live_word(tc->live[slot], a), __ATOMIC_RELAXED);
        uintptr_t *b = (uintptr_t *)a;
        uintptr_t tag = secret ^ a;
        if ((word & PA__LIVE_BIT(a)) == 0 || b[1] == tag) {
            refused[nrefused++] = (void *)a;   /* not a live block, or cached already */
            continue;
        }
        uint32_t index = ((const pa__pool *)(a & ~(uintptr_t)(PA__POOL_SIZE - 1)))->size_index;
        pa__assert(index < PA__NUM_CLASSES, "a live block's pool names a size class");
        b[0] = (uintptr_t)tc->heads[index];
        b[1] = tag;
        tc->heads[index] = b;
        if (++tc->counts[index] > pa__cache_limit[index])
            over |= (uint32_t)1 << index;
    }
    for (uint32_t i = 0; i < nrefused; i++) {
        if (with_core)
            pa__free(refused[i]);         /* refused, with its message */
        else
            pa__tcache_defer_free(refused[i]);
    }
    while (with_core && over != 0) {
        uint32_t index = (uint32_t)__builtin_ctz(over);
        over &= over - 1;
        pa__tcache_overflow(tc, index);
    }
}

/* pa_realloc of a block this thread's cache can vouch for: p is a live,
   untagged block of a process heap's pool, not waiting in this thread's ring.
   Then CPython's rule (pymalloc_realloc) is applied here: p stays while n
   fits its class and shrinking would not save a quarter; else the new block
   comes from the cache (or pa_malloc for n > 512), min(old, n) bytes are
   copied and p joins its class's list, checked already.  Returns 1 with
   *out set, 0 when the core must decide (a move out of the pools, no block
   at hand, anything unusual, errors included). */
int pa__tcache_realloc(void *p, size_t n, void **out)
{
    pa__tcache *tc = pa__tc;
    uintptr_t a = (uintptr_t)p;
    if (tc == NULL || (a & PA__ALIGNMENT_MASK) != 0 || n > PA__SMALL_MAX)
        return 0;                     /* moves out of the pools are the core's */
    for (uint32_t i = 0; i < tc->npending; i++)
        if (tc->pending[i] == p)
            return 0;                 /* freed already: the core says so */
    uintptr_t base = a & ~(((uintptr_t)1 << PA__ARENA_BITS) - 1);
    unsigned slot = (unsigned)(a >> PA__ARENA_BITS) & (PA__ARENA_SLOTS - 1);
    if (tc->arena_base[slot] != base
        || tc->arena_epoch != __atomic_load_n(&pa__fp.arena_epoch, __ATOMIC_RELAXED))
        return 0;
    uintptr_t *b = (uintptr_t *)p;
    uintptr_t tag = pa__fp.secret ^ a;
    if ((__atomic_load_n(pa__live_word(tc->live[slot], a), __ATOMIC_RELAXED) & PA__LIVE_BIT(a)) == 0
        || b[1] == tag)
        return 0;
    uint32_t index = ((const pa__pool *)(a & ~(uintptr_t)(PA__POOL_SIZE - 1)))->size_index;
    size_t size = ((size_t)index + 1) << 4;
    if (n <= size && 4 * n > 3 * size) {
        *out = p;                     /* CPython's rule: it fits, and shrinking saves too little */
        return 1;
    }
    void *q = pa__tcache_pop(n);
    if (q == NULL && (q = pa__tcache_malloc_slow(n)) == NULL)
        return 0;                     /* no block at hand: the core allocates, or reports */
    memcpy(q, p, n < size ? n : size);
    b[0] = (uintptr_t)tc->heads[index];
    b[1] = tag;
    tc->heads[index] = b;
    if (++tc->counts[index] > pa__cache_limit[index])
        pa__tcache_overflow(tc, index);
    *out = q;
    return 1;
}

/* A list passed its limit: the core takes back all but the newest half. */
void pa__tcache_overflow(pa__tcache *tc, uint32_t index)
{
    pa__assert(index < PA__NUM_CLASSES, "pa__tcache_overflow: a size class");
    pa__cache_drain(tc, index, pa__cache_limit[index] / 2u);
    pa__assert(tc->counts[index] <= pa__cache_limit[index] / 2u, "a drained list keeps at most half its limit");
}

/* The ring is full, or something must see the pending frees: settle them. */
void pa__tcache_settle(pa__tcache *tc)
{
    settle(tc, 1);
}

/* Settles the calling thread's pending frees, if it has any: before a call
   that reads a block's state (pa_realloc, pa_usable_size, the debug hooks'
   checks) or reports a failure (pa_last_error). */
void pa__tcache_settle_current(void)
{
    pa__tcache *tc = pa__tc;
    if (tc != NULL && tc->npending != 0)
        settle(tc, 1);
}

/* The first call of any entry point: tell the core where pa__fp is. */
void pa__tcache_attach(void)
{
    pa__fastpath_attach(&pa__fp);
}

/* Before the calls that report on the process heap (stats, pool map, trim):
   the calling thread's cached blocks go back, so a single-threaded program
   sees exact figures. */
void pa__tcache_flush_current(void)
{
    if (!pa__fp.attached)
        pa__tcache_attach();
    pa__tcache_settle_current();
    pa__cache_flush(pa__tc);          /* NULL: the core only adopts orphans */
}

/* pa_free after this thread's cache was given back: NativeAOT makes its key
   earlier than ours, so its thread-exit hook has run too and a call into the
   core would stop the process.  The block waits on fp.deferred (a node from
   the C library's malloc) for the core, which frees it at its next refill,
   drain or flush on any thread.  Returns 0 when the thread is not ending. */
int pa__tcache_defer_free(void *p)
{
    if (!exited)
        return 0;
    pa__deferred *node = (pa__deferred *)malloc(sizeof *node);
    if (node == NULL)
        return 1;                     /* no memory even for the note: the block is kept */
    node->block = p;
    pa__deferred *head = __atomic_load_n(&pa__fp.deferred, __ATOMIC_RELAXED);
    do
        node->next = head;
    while (!__atomic_compare_exchange_n(&pa__fp.deferred, &head, node, 1, __ATOMIC_RELEASE, __ATOMIC_RELAXED));
    return 1;
}

/* 1 when this thread's cache went to the orphans: the thread is ending, and
   only calls that need no core can be served (see pa__tcache_defer_free). */
int pa__tcache_exited(void)
{
    return exited;
}

/* A kept large block of at least n bytes and at most twice n (no 16 KiB block
   for a 600-byte request), or NULL.  Eight slots: a scan is cheaper than the
   call into the core it saves. */
void *pa__tcache_large_pop(pa__tcache *tc, size_t n)
{
    for (uint32_t i = 0; i < tc->nlarge; i++) {
        size_t size = tc->large_size[i];
        if (size >= n && size / 2 <= n) {
            uintptr_t *b = (uintptr_t *)tc->large[i];
            tc->nlarge--;
            tc->large[i] = tc->large[tc->nlarge];
            tc->large_size[i] = tc->large_size[tc->nlarge];
            b[1] = 0;                 /* the tag goes: the block is the user's now */
            return b;
        }
    }
    return NULL;
}

/* pa_free of p, which is in no arena of the process heaps: the core frees it,
   or, for a live large block it may keep, tags it and returns its size, and
   the cache keeps it (when all slots are taken, the block in slot 0 goes back
   in the same call and the last slot's block moves there: not the oldest
   after the first such eviction).  Returns 1: done, nothing left for the caller. */
int pa__tcache_large_push(pa__tcache *tc, void *p)
{
    void *evict = NULL;
    if (tc->nlarge == PA__LARGE_SLOTS) {
        evict = tc->large[0];
        tc->nlarge--;
        tc->large[0] = tc->large[tc->nlarge];
        tc->large_size[0] = tc->large_size[tc->nlarge];
    }
    size_t size = pa__free_keep_large(p, evict);
    if (size != 0) {
        tc->large[tc->nlarge] = p;
        tc->large_size[tc->nlarge] = size;
        tc->nlarge++;
    }
    return 1;
}
