/* test_trim.c -- pa_trim gives back the free pages of arenas it keeps.

   - The workload, smaller: 200,000 blocks of random sizes up to 512
     bytes, 90% freed in random order.  pa_trim then releases pages inside
     the arenas that keep live blocks: the bytes it returns are a plausible
     share of the arenas (about a fifth of the 4 KiB pages hold no live
     block), the resident set falls by them, a second pa_trim returns 0, and
     no statistic changes (free blocks on released pages are still free
     blocks).
   - Every surviving block keeps its contents (a pattern per block).
   - Blocks freed after the trim and allocations after it: the freed sizes
     are allocated again and take the free blocks back, parked ones included
     (no new arena is mapped); no block is handed out twice and no two live
     blocks overlap (sorted addresses, and every pattern intact).
   - One pool, made by hand: its pages 1..3 are released (mincore), freeing a
     block parked on them again is refused as a double free, and the next
     allocations of its class take the parked blocks before a new pool is
     carved.  An empty pool of a kept arena is released and then serves
     another size class from scratch.
   - Trims after each drain of random traffic (alloc, free, realloc; the
     next growth takes the parked blocks back) never damage a live block.

   The cases expect a fresh process with nothing allocated (CTest runs each
   case alone).  Under the debug hooks (debug.test_trim.*) requests are 32
   bytes smaller, so that the raw blocks the pools serve have the sizes above;
   the hooks fill freed blocks with 0xDD, so their pages are resident too. */
#define _GNU_SOURCE
#include "test_util.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define MIB ((size_t)1 << 20)
#define PAGE_4K ((size_t)4096)

static uint64_t rng_state = 0x7121A7E5EEDULL;

static uint64_t rnd(void) { return pa_test_splitmix64(&rng_state); }

/* The page holding p is resident (mincore). */
static bool resident(const void *p)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    unsigned char vec = 0;
    assert_int_equal(mincore((void *)((uintptr_t)p & ~(uintptr_t)(page - 1)), page, &vec), 0);
    return (vec & 1) != 0;
}

static bool pages_are_4k(void)
{
    return sysconf(_SC_PAGESIZE) == (long)PAGE_4K;
}

/* A request whose raw block (with the debug hooks: +32) is 8..512 bytes. */
static size_t random_request(void)
{
    size_t extra = pa_test_raw_size(0);
    size_t lo = extra >= 8 ? 1 : 8 - extra, hi = PA_SMALL_REQUEST_THRESHOLD - extra;
    return lo + (size_t)(rnd() % (hi - lo + 1));
}

typedef struct block {
    unsigned char *p;
    size_t n;
    uint64_t seed;
} block;

static void take(block *b, size_t n)
{
    b->p = pa_malloc(n);
    if (b->p == NULL)
        fail_msg("pa_malloc(%zu): %s", n, pa_last_error());
    b->n = n;
    b->seed = pa_pattern_seed(b->p, n) ^ rnd();
    pa_pattern_fill(b->p, n, b->seed);
}

static void verify(const block *b, const char *when)
{
    size_t at = pa_pattern_check(b->p, b->n, b->seed);
    if (at != (size_t)-1)
        fail_msg("%s: block %p of %zu bytes differs at byte %zu", when, (void *)b->p, b->n, at);
}

static void give_back(block *b)
{
    verify(b, "before pa_free");
    pa_clear_error();
    pa_free(b->p);
    if (pa_last_error()[0] != '\0')
        fail_msg("pa_free(%p): %s", (void *)b->p, pa_last_error());
    b->p = NULL;
}

static void shuffle(size_t *a, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(rnd() % i), t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

/* ------------------------------------------------ the workload */

enum { N = 200000 };

typedef struct workload {
    block blocks[N];
    size_t order[N];      /* order[0 .. N*9/10) freed, the rest survive */
    size_t nfreed;
} workload;

static workload w;

/* N blocks of random sizes, each with its pattern; 90% freed in random order. */
static void allocate_then_free_ninety_percent(void)
{
    pa_malloc_stats st = pa_stats_now();
    if (pa_stats_blocks_in_use(&st) != 0 || st.arenas_current != 0)
        fail_msg("test set-up: expected a fresh allocator (%zu blocks, %zu arenas)",
                 pa_stats_blocks_in_use(&st), st.arenas_current);
    for (size_t i = 0; i < N; i++) {
        take(&w.blocks[i], random_request());
        w.order[i] = i;
    }
    shuffle(w.order, N);
    w.nfreed = N * 9 / 10;
    for (size_t k = 0; k < w.nfreed; k++)
        give_back(&w.blocks[w.order[k]]);
}

static void trim_releases_the_free_pages_of_arenas_that_keep_live_blocks(void **state)
{
    (void)state;
    allocate_then_free_ninety_percent();
    pa_malloc_stats before = pa_stats_now();
    pa_assert_stats_consistent(&before);
    size_t rss0 = pa_test_rss_bytes();

    size_t released = pa_trim();

    size_t rss1 = pa_test_rss_bytes();
    pa_malloc_stats after = pa_stats_now();
    printf("test_trim: %zu arenas, %zu MiB free in blocks; pa_trim released %zu KiB; RSS %zu -> %zu KiB\n",
           before.arenas_current, before.bytes_in_free_blocks / MIB, released / 1024, rss0 / 1024, rss1 / 1024);
    /* About a fifth of the pages hold no live block (the benchmark's figure): at
       least a tenth of the arenas' bytes, at most what is free in them. */
    if (released < before.arena_bytes / 10)
        fail_msg("pa_trim released %zu bytes of %zu arena bytes with 90%% of the blocks freed",
                 released, before.arena_bytes);
    assert_true(released <= before.bytes_in_free_blocks + before.bytes_in_free_pools + before.bytes_quantization);
    assert_int_equal(released % (size_t)sysconf(_SC_PAGESIZE), 0);
    /* The pages it counts were resident: the resident set falls by (about) as much. */
    if (rss1 + released * 9 / 10 > rss0)
        fail_msg("RSS fell by %zu KiB only, pa_trim said %zu KiB", rss0 > rss1 ? (rss0 - rss1) / 1024 : 0,
                 released / 1024);
    /* Nothing left to release: the released pages are no longer resident. */
    assert_int_equal(pa_trim(), 0);
    /* No arena was wholly free, and free blocks on released pages are still free blocks. */
    pa_assert_stats_equal(&before, &after);
    pa_assert_stats_consistent(&after);
}

static void trim_changes_no_count_of_blocks(void **state)
{
    (void)state;
    allocate_then_free_ninety_percent();
    pa_malloc_stats before = pa_stats_now();
    pa_trim();
    pa_malloc_stats after = pa_stats_now();
    for (int c = 0; c < PA_NUM_SIZE_CLASSES; c++) {
        const pa_size_class_stats *x = &before.classes[c], *y = &after.classes[c];
        if (x->blocks_in_use != y->blocks_in_use || x->free_blocks != y->free_blocks)
            fail_msg("class %d: %zu in use + %zu free before pa_trim, %zu + %zu after", c,
                     x->blocks_in_use, x->free_blocks, y->blocks_in_use, y->free_blocks);
    }
    assert_int_equal(pa_stats_blocks_in_use(&after), N - w.nfreed);
}

static void every_surviving_block_keeps_its_contents_across_trim(void **state)
{
    (void)state;
    allocate_then_free_ninety_percent();
    assert_true(pa_trim() > 0);
    for (size_t k = w.nfreed; k < N; k++) {
        const block *b = &w.blocks[w.order[k]];
        verify(b, "after pa_trim");
        pa_clear_error();
        size_t usable = pa_usable_size(b->p);
        if (usable < b->n)
            fail_msg("pa_usable_size(%p) = %zu after pa_trim: %s", (void *)b->p, usable, pa_last_error());
    }
}

static int by_address(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)((const block *)a)->p, y = (uintptr_t)((const block *)b)->p;
    return x < y ? -1 : x > y;
}

static void blocks_freed_and_allocated_after_trim_reuse_parked_blocks_and_never_overlap(void **state)
{
    (void)state;
    allocate_then_free_ninety_percent();
    assert_true(pa_trim() > 0);
    pa_malloc_stats trimmed = pa_stats_now();

    /* A third of the survivors freed after the trim, in random order. */
    size_t extra_frees = (N - w.nfreed) / 3;
    for (size_t k = w.nfreed; k < w.nfreed + extra_frees; k++)
        give_back(&w.blocks[w.order[k]]);
    /* Every freed block's size again, in another random order: the free blocks,
       parked ones included, must take them all, so no arena is mapped. */
    size_t nagain = w.nfreed + extra_frees;
    shuffle(w.order, nagain);
    for (size_t k = 0; k < nagain; k++)
        take(&w.blocks[w.order[k]], w.blocks[w.order[k]].n);
    pa_malloc_stats refilled = pa_stats_now();
    pa_assert_stats_consistent(&refilled);
    assert_int_equal(pa_stats_blocks_in_use(&refilled), N);
    if (refilled.arenas_allocated != trimmed.arenas_allocated)
        fail_msg("the refill mapped %zu new arenas: free blocks on released pages were not used again",
                 refilled.arenas_allocated - trimmed.arenas_allocated);

    /* No block handed out twice, no two live blocks overlapping, every pattern intact. */
    static block sorted[N];
    memcpy(sorted, w.blocks, sizeof sorted);
    qsort(sorted, N, sizeof sorted[0], by_address);
    for (size_t i = 0; i + 1 < N; i++) {
        if (sorted[i].p + sorted[i].n > sorted[i + 1].p)
            fail_msg("blocks %p (%zu bytes) and %p overlap", (void *)sorted[i].p, sorted[i].n, (void *)sorted[i + 1].p);
    }
    for (size_t i = 0; i < N; i++)
        verify(&w.blocks[i], "after the refill");
    for (size_t i = 0; i < N; i++)
        give_back(&w.blocks[i]);
    pa_trim();
    pa_malloc_stats end = pa_stats_now();
    assert_int_equal(end.arenas_current, 0);
}

/* --------------------------------------------------------- one pool by hand */

enum { PER_POOL_512 = 31 };   /* (16384 - 48) / 512 */

/* The 31 blocks of one new pool of 512-byte raw blocks, in address order. */
static void fill_one_pool(unsigned char **blocks)
{
    size_t n = PA_SMALL_REQUEST_THRESHOLD - pa_test_raw_size(0);
    for (int i = 0; i < PER_POOL_512; i++) {
        blocks[i] = pa_malloc(n);
        assert_non_null(blocks[i]);
        memset(blocks[i], 0x5A, n);
    }
    for (int i = 1; i < PER_POOL_512; i++) {
        if (((uintptr_t)blocks[i] & ~(uintptr_t)(PA_POOL_SIZE - 1)) != ((uintptr_t)blocks[0] & ~(uintptr_t)(PA_POOL_SIZE - 1)))
            fail_msg("test set-up: the blocks of the first 512-byte pool are in two pools");
        if (blocks[i] < blocks[i - 1])
            fail_msg("test set-up: a new pool's blocks come in address order");
    }
}

static void a_parked_block_is_refused_as_a_double_free_and_taken_back_before_a_new_pool(void **state)
{
    (void)state;
    if (!pages_are_4k())
        skip();
    unsigned char *blocks[PER_POOL_512];
    fill_one_pool(blocks);
    /* Block 0 (page 0) stays; every page 1..3 then holds free blocks only. */
    for (int i = 1; i < PER_POOL_512; i++)
        pa_free(blocks[i]);
    assert_true(resident(blocks[20]));
    pa_malloc_stats before = pa_stats_now();

    assert_int_equal(pa_trim(), 3 * PAGE_4K);
    for (int i = 8; i < PER_POOL_512; i++) /* blocks 8.. lie wholly on pages 1..3 */
        if (resident(blocks[i]))
            fail_msg("block %d's page is still resident after pa_trim", i);
    assert_true(resident(blocks[0]));
    assert_int_equal(blocks[0][100], 0x5A);

    /* Freeing a parked block again is still a double free. */
    pa_test_catch_reports();
    pa_clear_error();
    pa_free(blocks[20]);
    PA_ASSERT_ERROR_SET();
    if (pa_test_debug_hooks())
        PA_ASSERT_REPORTED(1, "double free");
    else
        PA_ASSERT_ERROR_MENTIONS("double free");
    pa_malloc_stats refused = pa_stats_now();
    pa_assert_stats_equal(&before, &refused);

    /* The 30 free blocks (6 on page 0, 24 parked) come back before a new pool. */
    size_t n = PA_SMALL_REQUEST_THRESHOLD - pa_test_raw_size(0);
    unsigned char *again[PER_POOL_512 - 1];
    for (int i = 0; i < PER_POOL_512 - 1; i++) {
        again[i] = pa_malloc(n);
        assert_non_null(again[i]);
        bool ours = false;
        for (int j = 1; j < PER_POOL_512; j++)
            ours |= again[i] == blocks[j];
        if (!ours)
            fail_msg("allocation %d after pa_trim returned %p, not a free block of the trimmed pool", i, (void *)again[i]);
        for (int j = 0; j < i; j++)
            if (again[j] == again[i])
                fail_msg("block %p handed out twice after pa_trim", (void *)again[i]);
        memset(again[i], i, n);
    }
    pa_malloc_stats full = pa_stats_now();
    assert_int_equal(full.classes[PA_NUM_SIZE_CLASSES - 1].pools, 1);
    assert_int_equal(full.classes[PA_NUM_SIZE_CLASSES - 1].free_blocks, 0);
    for (int i = 0; i < PER_POOL_512 - 1; i++)
        for (size_t k = 0; k < n; k++)
            if (again[i][k] != (unsigned char)i)
                fail_msg("block %d was overwritten at byte %zu", i, k);
    unsigned char *next = pa_malloc(n); /* now a new pool */
    assert_non_null(next);
    assert_int_equal(pa_stats_now().classes[PA_NUM_SIZE_CLASSES - 1].pools, 2);
    pa_free(next);
    for (int i = 0; i < PER_POOL_512 - 1; i++)
        pa_free(again[i]);
    pa_free(blocks[0]);
}

static void an_empty_pool_of_a_kept_arena_is_released_and_serves_another_class(void **state)
{
    (void)state;
    if (!pages_are_4k())
        skip();
    unsigned char *kept[PER_POOL_512], *emptied[PER_POOL_512];
    fill_one_pool(kept);
    fill_one_pool(emptied);
    uintptr_t empty_pool = (uintptr_t)emptied[0] & ~(uintptr_t)(PA_POOL_SIZE - 1);
    for (int i = 0; i < PER_POOL_512; i++)
        pa_free(emptied[i]);
    for (int i = 1; i < PER_POOL_512; i++)
        pa_free(kept[i]);
    pa_malloc_stats before = pa_stats_now();
    assert_int_equal(before.pools_in_use, 1);

    /* Pages 1..3 of both pools. */
    assert_int_equal(pa_trim(), 6 * PAGE_4K);
    for (size_t page = 1; page < PA_POOL_SIZE / PAGE_4K; page++)
        assert_false(resident((void *)(empty_pool + page * PAGE_4K)));
    pa_malloc_stats after = pa_stats_now();
    pa_assert_stats_equal(&before, &after);

    /* The next class that needs a pool gets the empty one, initialised afresh. */
    size_t n = 48 - pa_test_raw_size(0); /* raw 48 bytes: class 2 */
    block small[300];
    for (int i = 0; i < 300; i++) {
        take(&small[i], n);
        if (((uintptr_t)small[i].p & ~(uintptr_t)(PA_POOL_SIZE - 1)) != empty_pool)
            fail_msg("block %d of the new class is at %p, not in the empty pool %p", i, (void *)small[i].p,
                     (void *)empty_pool);
    }
    for (int i = 0; i < 300; i++)
        for (int j = 0; j < i; j++)
            if (small[i].p == small[j].p)
                fail_msg("block %p handed out twice", (void *)small[i].p);
    for (int i = 0; i < 300; i++)
        give_back(&small[i]);
    pa_free(kept[0]);
}

/* ------------------------------------------------------ trims during traffic */

/* Replaces b's block by one of a random size with pa_realloc: contents kept up to the smaller size. */
static void resize(block *b)
{
    verify(b, "before pa_realloc");
    size_t n = random_request();
    unsigned char *q = pa_realloc(b->p, n);
    if (q == NULL)
        fail_msg("pa_realloc(%p, %zu): %s", (void *)b->p, n, pa_last_error());
    size_t keep = n < b->n ? n : b->n;
    size_t at = pa_pattern_check(q, keep, b->seed);
    if (at != (size_t)-1)
        fail_msg("pa_realloc lost the contents at byte %zu", at);
    b->p = q;
    b->n = n;
    b->seed = pa_pattern_seed(q, n) ^ rnd();
    pa_pattern_fill(q, n, b->seed);
}

static void trims_in_the_middle_of_random_traffic_damage_no_block(void **state)
{
    (void)state;
    enum { SLOTS = 40000, ROUNDS = 12 };
    static block slots[SLOTS];
    size_t released = 0;
    for (int round = 0; round < ROUNDS; round++) {
        /* Grow: fill empty slots (blocks parked by the last trim come back), resize some. */
        for (size_t op = 0; op < SLOTS; op++) {
            block *b = &slots[rnd() % SLOTS];
            if (b->p == NULL)
                take(b, random_request());
            else if (rnd() % 4 == 0)
                resize(b);
        }
        /* Drain to about a sixth, in random order, then trim. */
        for (size_t op = 0; op < 2 * SLOTS; op++) {
            block *b = &slots[rnd() % SLOTS];
            if (b->p == NULL)
                continue;
            if (rnd() % 10 != 0)
                give_back(b);
            else
                resize(b);
        }
        pa_malloc_stats before = pa_stats_now();
        released += pa_trim();
        pa_malloc_stats after = pa_stats_now();
        pa_assert_stats_consistent(&after);
        assert_int_equal(pa_stats_blocks_in_use(&after), pa_stats_blocks_in_use(&before));
        for (size_t i = 0; i < SLOTS; i++)
            if (slots[i].p != NULL)
                verify(&slots[i], "after a pa_trim");
    }
    printf("test_trim: %d trims released %zu KiB in all\n", ROUNDS, released / 1024);
    assert_true(released > 0);
    for (size_t i = 0; i < SLOTS; i++)
        if (slots[i].p != NULL)
            give_back(&slots[i]);
    pa_trim();
    assert_int_equal(pa_stats_now().arenas_current, 0);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(trim_releases_the_free_pages_of_arenas_that_keep_live_blocks),
        cmocka_unit_test(trim_changes_no_count_of_blocks),
        cmocka_unit_test(every_surviving_block_keeps_its_contents_across_trim),
        cmocka_unit_test(blocks_freed_and_allocated_after_trim_reuse_parked_blocks_and_never_overlap),
        cmocka_unit_test(a_parked_block_is_refused_as_a_double_free_and_taken_back_before_a_new_pool),
        cmocka_unit_test(an_empty_pool_of_a_kept_arena_is_released_and_serves_another_class),
        cmocka_unit_test(trims_in_the_middle_of_random_traffic_damage_no_block),
    };
    return PA_RUN_TESTS(tests, argc, argv);
}
