/* test_arena_decay.c -- wholly free arenas stay mapped for reuse for a while
   (PYALLOC_ARENA_DECAY_MS, section 2 of pyalloc.h), then go back to the OS.

   - By default a wholly free arena is kept mapped (counted in arenas_current,
     all its pools free) and serves the next allocations without mapping a new
     arena; pa_trim returns it at once.
   - PYALLOC_ARENA_DECAY_MS=0 is CPython's policy: a wholly free arena goes back
     at once, but the last.
   - Once an arena has been free for the decay, the next arena that empties
     sends it back.
   - A value that is not a whole number of milliseconds leaves the default.

   Each case sets the variable before its process's first allocation (CTest
   runs every case in a process of its own). */
#include "test_util.h"

#include <stdlib.h>
#include <time.h>

enum { BLOCK = 256, MIB20 = 20 * 1024 * 1024 / BLOCK };
static void *blocks[MIB20];

/* 20 MiB of 256-byte blocks: about 20 arenas. */
static void allocate_20_mib(void)
{
    for (int i = 0; i < MIB20; i++) {
        blocks[i] = pa_malloc(BLOCK - pa_test_raw_size(0));
        assert_non_null(blocks[i]);
    }
}

static void free_20_mib(void)
{
    for (int i = 0; i < MIB20; i++)
        pa_free(blocks[i]);
}

static void sleep_ms(long ms)
{
    struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&t, &t) != 0)
        ;
}

static void wholly_free_arenas_stay_mapped_and_are_reused_until_pa_trim(void **state)
{
    (void)state;
    unsetenv("PYALLOC_ARENA_DECAY_MS");
    pa_malloc_stats before = pa_stats_now();
    allocate_20_mib();
    pa_malloc_stats full = pa_stats_now();
    assert_true(full.arenas_current >= before.arenas_current + 19);
    free_20_mib();
    pa_malloc_stats freed = pa_stats_now();
    pa_assert_stats_consistent(&freed);
    assert_int_equal(freed.arenas_current, full.arenas_current);       /* kept mapped */
    assert_true(freed.pools_free >= (freed.arenas_current - before.arenas_current) * 64);

    allocate_20_mib();                                                  /* reused */
    pa_malloc_stats again = pa_stats_now();
    assert_int_equal(again.arenas_allocated, full.arenas_allocated);
    free_20_mib();

    size_t released = pa_trim();
    pa_malloc_stats trimmed = pa_stats_now();
    assert_true(trimmed.arenas_current <= before.arenas_current);
    assert_true(released >= (full.arenas_current - before.arenas_current) * PA_ARENA_SIZE);
}

static void a_decay_of_zero_returns_them_at_once_but_the_last(void **state)
{
    (void)state;
    setenv("PYALLOC_ARENA_DECAY_MS", "0", 1);
    pa_malloc_stats before = pa_stats_now();
    allocate_20_mib();
    free_20_mib();
    pa_malloc_stats freed = pa_stats_now();
    assert_true(freed.arenas_current <= before.arenas_current + 1);
}

static void arenas_free_for_the_decay_go_back_when_another_empties(void **state)
{
    (void)state;
    setenv("PYALLOC_ARENA_DECAY_MS", "50", 1);
    pa_malloc_stats before = pa_stats_now();
    allocate_20_mib();
    free_20_mib();
    pa_malloc_stats freed = pa_stats_now();
    assert_true(freed.arenas_current >= before.arenas_current + 19);   /* young: kept */
    sleep_ms(200);                                                      /* four times the decay */
    /* One arena's worth, allocated and freed: one kept arena serves it and
       empties again, which sends the idle ones back, but for the last. */
    enum { ONE_MIB = 1024 * 1024 / BLOCK };
    for (int i = 0; i < ONE_MIB; i++)
        blocks[i] = pa_malloc(BLOCK - pa_test_raw_size(0));
    for (int i = 0; i < ONE_MIB; i++)
        pa_free(blocks[i]);
    pa_malloc_stats later = pa_stats_now();
    assert_true(later.arenas_current <= before.arenas_current + 3);
    assert_true(later.arenas_reclaimed >= freed.arenas_reclaimed + 16);
}

static void a_value_that_is_not_a_number_leaves_the_default(void **state)
{
    (void)state;
    setenv("PYALLOC_ARENA_DECAY_MS", "soon", 1);
    pa_malloc_stats before = pa_stats_now();
    allocate_20_mib();
    free_20_mib();
    pa_malloc_stats freed = pa_stats_now();
    assert_true(freed.arenas_current >= before.arenas_current + 19);   /* the default keeps them */
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(wholly_free_arenas_stay_mapped_and_are_reused_until_pa_trim),
        cmocka_unit_test(a_decay_of_zero_returns_them_at_once_but_the_last),
        cmocka_unit_test(arenas_free_for_the_decay_go_back_when_another_empties),
        cmocka_unit_test(a_value_that_is_not_a_number_leaves_the_default),
    };
    return PA_RUN_TESTS(tests, argc, argv);
}
