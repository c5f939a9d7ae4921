/* test_stress.c -- a randomised single-threaded stress of pa_malloc,
   pa_calloc, pa_realloc and pa_free: 1,200,000 operations over 50,000 slots,
   sizes mostly 1..512 (pools) with some up to 64 KiB (system allocator).

   Every block is filled with a byte pattern seeded by its address and size
   and checked before it is freed or reallocated (after a realloc the kept
   prefix must still hold the old pattern), so overlapping blocks, lost
   contents and blocks handed out twice are caught.  Every 100,000 operations
   the stats must agree, class by class, with the blocks the test holds.  At
   the end everything is freed: no block may be left in use, and after
   pa_trim no arena may be left mapped.

   The seed is fixed and printed; PYALLOC_STRESS_SEED=<n> replays another.

   Under the debug hooks (debug.test_stress.*) pa_usable_size is the request
   and the class a block is counted in is that of its raw size (n + 32). */
#include "test_util.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

enum {
    SLOTS = 50000,
    OPS = 1200000,
    CHECK_EVERY = 100000,
};

typedef struct slot {
    unsigned char *p;
    size_t size;   /* requested bytes */
    int cls;       /* pool size class, or -1 for a system-allocator block */
} slot;

static uint64_t rng_state;

static uint64_t rnd(void) { return pa_test_splitmix64(&rng_state); }

static size_t random_size(void)
{
    uint64_t r = rnd() % 1000;
    if (r < 15)
        return 0;
    if (r < 915)
        return 1 + (size_t)(rnd() % PA_SMALL_REQUEST_THRESHOLD);           /* pools */
    if (r < 990)
        return PA_SMALL_REQUEST_THRESHOLD + 1 + (size_t)(rnd() % 3584);     /* 513..4096 */
    return 4097 + (size_t)(rnd() % (65536 - 4096));                          /* ..64 KiB */
}

/* Which allocator serves the live block p of n bytes, checked against its usable size. */
static int class_of_block(const void *p, size_t n, unsigned long op)
{
    size_t usable = pa_usable_size(p);
    if (pa_test_debug_hooks()) {
        if (usable != n)
            fail_msg("op %lu: pa_usable_size(%p) = %zu for a %zu-byte block under the debug hooks", op, p, usable, n);
        if (((uintptr_t)p & (PA_ALIGNMENT - 1)) != 0)
            fail_msg("op %lu: block %p is not 16-byte aligned", op, p);
        return pa_test_class_of(n);
    }
    if (usable == 0 || usable < n)
        fail_msg("op %lu: pa_usable_size(%p) = %zu for a %zu-byte block", op, p, usable, n);
    if (((uintptr_t)p & (PA_ALIGNMENT - 1)) != 0)
        fail_msg("op %lu: block %p is not 16-byte aligned", op, p);
    if (usable <= PA_SMALL_REQUEST_THRESHOLD) {
        if (usable % PA_ALIGNMENT != 0)
            fail_msg("op %lu: pool block %p has usable size %zu", op, p, usable);
        return (int)(usable / PA_ALIGNMENT) - 1;
    }
    if (n <= PA_SMALL_REQUEST_THRESHOLD)
        fail_msg("op %lu: a %zu-byte request was not served from a pool (usable %zu)", op, n, usable);
    return -1;
}

static void verify(const slot *s, unsigned long op, const char *before)
{
    size_t bad = pa_pattern_check(s->p, s->size, pa_pattern_seed(s->p, s->size));
    if (bad != (size_t)-1)
        fail_msg("op %lu: before %s, block %p (%zu bytes) differs from its pattern at byte %zu",
                 op, before, (void *)s->p, s->size, bad);
}

static void check_stats_against(const slot *slots, unsigned long op)
{
    size_t live[PA_NUM_SIZE_CLASSES] = {0};
    size_t large = 0;
    for (size_t i = 0; i < SLOTS; i++) {
        if (slots[i].p == NULL)
            continue;
        if (slots[i].cls < 0)
            large++;
        else
            live[slots[i].cls]++;
    }
    pa_malloc_stats st = pa_stats_now();
    pa_assert_stats_consistent(&st);
    for (int c = 0; c < PA_NUM_SIZE_CLASSES; c++)
        if (st.classes[c].blocks_in_use != live[c])
            fail_msg("op %lu: class %d: stats say %zu blocks in use, the test holds %zu",
                     op, c, st.classes[c].blocks_in_use, live[c]);
    if (st.large_blocks != large)
        fail_msg("op %lu: stats say %zu large blocks, the test holds %zu", op, st.large_blocks, large);
}

static void stress_million_random_operations_keep_every_block_intact(void **state)
{
    (void)state;
    uint64_t seed = 0x5EEDC0FFEE123457ULL;
    const char *env = getenv("PYALLOC_STRESS_SEED");
    if (env && *env)
        seed = strtoull(env, NULL, 0);
    printf("test_stress: seed 0x%016" PRIx64 " (PYALLOC_STRESS_SEED to replay), %d operations, %d slots\n",
           seed, OPS, SLOTS);
    rng_state = seed;

    slot *slots = calloc(SLOTS, sizeof *slots);
    assert_non_null(slots);
    unsigned long counts[4] = {0}; /* malloc, calloc, realloc, free */
    size_t peak_live = 0, live = 0;

    for (unsigned long op = 1; op <= OPS; op++) {
        slot *s = &slots[rnd() % SLOTS];
        uint64_t r = rnd() % 100;
        if (s->p == NULL) {
            size_t n = random_size();
            if (r < 70) {
                s->p = pa_malloc(n);
                counts[0]++;
            } else if (r < 90) {
                size_t elsize = 1 + (size_t)(rnd() % 16);
                size_t nelem = n / elsize;
                n = nelem * elsize;
                s->p = pa_calloc(nelem, elsize);
                counts[1]++;
                if (s->p) {
                    for (size_t k = 0; k < n; k++)
                        if (s->p[k] != 0)
                            fail_msg("op %lu: pa_calloc(%zu, %zu) byte %zu is not zero", op, nelem, elsize, k);
                }
            } else {
                s->p = pa_realloc(NULL, n);
                counts[2]++;
            }
            if (s->p == NULL)
                fail_msg("op %lu: allocating %zu bytes failed: %s", op, n, pa_last_error());
            s->size = n;
            s->cls = class_of_block(s->p, n, op);
            pa_pattern_fill(s->p, n, pa_pattern_seed(s->p, n));
            if (++live > peak_live)
                peak_live = live;
        } else if (r < 55) {
            verify(s, op, "pa_free");
            pa_free(s->p);
            counts[3]++;
            s->p = NULL;
            live--;
        } else {
            verify(s, op, "pa_realloc");
            size_t n = random_size();
            uint64_t old_seed = pa_pattern_seed(s->p, s->size);
            size_t keep = n < s->size ? n : s->size;
            unsigned char *q = pa_realloc(s->p, n);
            counts[2]++;
            if (q == NULL)
                fail_msg("op %lu: pa_realloc(%p, %zu) failed: %s", op, (void *)s->p, n, pa_last_error());
            size_t bad = pa_pattern_check(q, keep, old_seed);
            if (bad != (size_t)-1)
                fail_msg("op %lu: pa_realloc(%p [%zu bytes], %zu) = %p lost byte %zu of the contents",
                         op, (void *)s->p, s->size, n, (void *)q, bad);
            int cls = class_of_block(q, n, op);
            /* In place, the raw block keeps its class, which under the debug
               hooks the new request size alone does not tell. */
            if (pa_test_debug_hooks() && q == s->p)
                cls = s->cls;
            s->p = q;
            s->size = n;
            s->cls = cls;
            pa_pattern_fill(q, n, pa_pattern_seed(q, n));
        }
        if (op % CHECK_EVERY == 0)
            check_stats_against(slots, op);
    }
    printf("test_stress: %lu malloc, %lu calloc, %lu realloc, %lu free; peak %zu live blocks\n",
           counts[0], counts[1], counts[2], counts[3], peak_live);
    assert_true(peak_live > SLOTS / 2);

    pa_malloc_stats full = pa_stats_now();
    assert_true(full.arenas_current >= 1);
    for (size_t i = 0; i < SLOTS; i++) {
        if (slots[i].p == NULL)
            continue;
        verify(&slots[i], OPS, "the final pa_free");
        pa_free(slots[i].p);
        slots[i].p = NULL;
    }
    free(slots);

    pa_malloc_stats st = pa_stats_now();
    pa_assert_stats_consistent(&st);
    for (int c = 0; c < PA_NUM_SIZE_CLASSES; c++)
        if (st.classes[c].blocks_in_use != 0)
            fail_msg("class %d: %zu blocks still in use after freeing everything", c, st.classes[c].blocks_in_use);
    assert_int_equal(st.bytes_in_used_blocks, 0);
    assert_int_equal(st.large_blocks, 0);
    assert_int_equal(st.large_bytes, 0);
    assert_int_equal(st.pools_in_use, 0);
    /* pymalloc keeps at most one wholly free arena before a trim. */
    assert_true(st.arenas_current <= 1);

    size_t released = pa_trim();
    pa_malloc_stats trimmed = pa_stats_now();
    pa_assert_stats_consistent(&trimmed);
    assert_int_equal(trimmed.arenas_current, 0);
    assert_int_equal(trimmed.arena_bytes, 0);
    assert_int_equal(released, st.arenas_current * PA_ARENA_SIZE);
    assert_int_equal(trimmed.arenas_reclaimed, trimmed.arenas_allocated);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stress_million_random_operations_keep_every_block_intact),
    };
    return PA_RUN_TESTS(tests, argc, argv);
}
