/* test_mode.c -- the allocator mode (section 3 of pyalloc.h), chosen once
   before the first allocation.

   The env_malloc_* cases run (under CTest) with PYALLOC_MALLOC=malloc in the
   environment: every request, small ones included, goes to the system
   allocator, so the stats show large blocks and no pools.  The other cases
   run with PYALLOC_MALLOC empty and choose the mode with
   pa_set_allocator_mode() before allocating anything.

   Each case needs a fresh process (the mode is fixed by the first
   allocation): run them one at a time, as CTest does.

   The debug.test_mode.* copies run with PYALLOC_TEST_MALLOC=debug: each
   mode named here becomes its debug counterpart (pa_test_mode_name:
   "malloc" -> "malloc_debug", "pymalloc" -> "debug"), and the same things
   must hold of it; a foreign pointer is then reported as well as refused. */
#include "test_util.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

/* The mode names of this run: "pymalloc" and "malloc", or "debug" and "malloc_debug". */
#define PYMALLOC pa_test_mode_name("pymalloc")
#define MALLOC   pa_test_mode_name("malloc")

/* PYALLOC_MALLOC is what CTest pinned for the case (rewritten by the debug override). */
static void require_env(const char *pinned)
{
    const char *expected = pinned;
    const char *o = getenv("PYALLOC_TEST_MALLOC");
    if (o != NULL && strcmp(o, "debug") == 0)
        expected = pa_test_mode_name(pinned[0] == '\0' ? "pymalloc" : pinned);
    const char *v = getenv("PYALLOC_MALLOC");
    if (v == NULL ? expected[0] != '\0' : strcmp(v, expected) != 0)
        fail_msg("test set-up: PYALLOC_MALLOC is \"%s\", this case needs \"%s\"", v ? v : "(unset)", expected);
}

/* Small and large blocks in a mode where the system allocator serves all of
   them: they work, and the stats count every one of them as a large block. */
static void check_everything_goes_to_the_system_allocator(void)
{
    enum { N = 600 };
    static void *blocks[N];
    pa_malloc_stats before = pa_stats_now();
    for (size_t i = 0; i < N; i++) {
        size_t n = i; /* 0..599: pool sizes in pymalloc mode, and some above */
        blocks[i] = pa_malloc(n);
        assert_non_null(blocks[i]);
        assert_int_equal((uintptr_t)blocks[i] % PA_ALIGNMENT, 0);
        assert_true(pa_usable_size(blocks[i]) >= n);
        pa_pattern_fill(blocks[i], n, pa_pattern_seed(blocks[i], n));
    }
    unsigned char *z = pa_calloc(10, 30);
    assert_non_null(z);
    for (int k = 0; k < 300; k++)
        assert_int_equal(z[k], 0);

    pa_malloc_stats st = pa_stats_now();
    pa_assert_stats_consistent(&st);
    assert_int_equal(st.large_blocks - before.large_blocks, N + 1);
    assert_int_equal(st.pools_in_use, 0);
    assert_int_equal(st.arenas_current, 0);
    assert_int_equal(st.arenas_allocated, 0);
    assert_int_equal(pa_stats_blocks_in_use(&st), 0);
    assert_true(st.large_bytes >= before.large_bytes + (size_t)N * (N - 1) / 2);

    for (size_t i = 0; i < N; i++)
        assert_int_equal(pa_pattern_check(blocks[i], i, pa_pattern_seed(blocks[i], i)), (size_t)-1);

    /* realloc keeps contents across every size. */
    unsigned char *p = pa_malloc(100);
    assert_non_null(p);
    for (int k = 0; k < 100; k++)
        p[k] = (unsigned char)k;
    p = pa_realloc(p, 5000);
    assert_non_null(p);
    p = pa_realloc(p, 10);
    assert_non_null(p);
    for (int k = 0; k < 10; k++)
        assert_int_equal(p[k], k);
    void *zero = pa_realloc(p, 0);
    assert_non_null(zero);

    /* A foreign pointer is still refused (and reported, with the debug hooks). */
    char stack[64];
    pa_test_catch_reports();
    pa_clear_error();
    pa_free(stack + 32);
    assert_true(pa_last_error()[0] != '\0');
    if (pa_test_debug_hooks())
        PA_ASSERT_REPORTED(1, "Fatal PyAlloc error: pa_free: bad pointer");
    else
        assert_int_equal(pa_test_seen.count, 0);

    pa_clear_error();
    for (size_t i = 0; i < N; i++)
        pa_free(blocks[i]);
    pa_free(z);
    pa_free(zero);
    assert_string_equal(pa_last_error(), "");
    pa_malloc_stats after = pa_stats_now();
    assert_int_equal(after.large_blocks, before.large_blocks);
    assert_int_equal(after.large_bytes, before.large_bytes);
    assert_int_equal(after.arenas_allocated, 0);
}

static void env_malloc_mode_is_in_force_before_and_after_the_first_allocation(void **state)
{
    (void)state;
    require_env("malloc");
    assert_string_equal(pa_get_allocator_mode(), MALLOC);
    void *p = pa_malloc(16);
    assert_non_null(p);
    assert_string_equal(pa_get_allocator_mode(), MALLOC);
    pa_free(p);
}

static void env_malloc_mode_serves_small_blocks_from_the_system_allocator(void **state)
{
    (void)state;
    require_env("malloc");
    check_everything_goes_to_the_system_allocator();
}

static void env_malloc_mode_cannot_be_changed_after_an_allocation(void **state)
{
    (void)state;
    require_env("malloc");
    void *p = pa_malloc(16);
    assert_non_null(p);
    pa_clear_error();
    assert_int_equal(pa_set_allocator_mode(PYMALLOC), -1);
    assert_true(pa_last_error()[0] != '\0');
    assert_int_equal(pa_set_allocator_mode(MALLOC), 0); /* no change: fine */
    assert_string_equal(pa_get_allocator_mode(), MALLOC);
    if (pa_test_debug_hooks()) /* the hooks are part of the mode */
        assert_int_equal(pa_set_allocator_mode("malloc"), -1);
    pa_free(p);
}

static void set_mode_malloc_before_the_first_allocation_takes_effect(void **state)
{
    (void)state;
    require_env("");
    assert_string_equal(pa_get_allocator_mode(), PYMALLOC);
    assert_int_equal(pa_set_allocator_mode(MALLOC), 0);
    assert_string_equal(pa_get_allocator_mode(), MALLOC);
    check_everything_goes_to_the_system_allocator();
    assert_string_equal(pa_get_allocator_mode(), MALLOC);
    pa_clear_error();
    assert_int_equal(pa_set_allocator_mode(PYMALLOC), -1);
    assert_true(pa_last_error()[0] != '\0');
    assert_string_equal(pa_get_allocator_mode(), MALLOC);
}

static void set_mode_may_be_changed_until_the_first_allocation(void **state)
{
    (void)state;
    require_env("");
    assert_int_equal(pa_set_allocator_mode(MALLOC), 0);
    assert_int_equal(pa_set_allocator_mode(PYMALLOC), 0);
    assert_string_equal(pa_get_allocator_mode(), PYMALLOC);
    void *p = pa_malloc(16);
    assert_non_null(p);
    pa_malloc_stats st = pa_stats_now();
    assert_true(pa_test_class_of(16) >= 0);
    assert_int_equal(st.classes[pa_test_class_of(16)].blocks_in_use, 1); /* from a pool */
    assert_int_equal(st.large_blocks, 0);
    assert_int_equal(st.arenas_current, 1);
    pa_free(p);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(env_malloc_mode_is_in_force_before_and_after_the_first_allocation),
        cmocka_unit_test(env_malloc_mode_serves_small_blocks_from_the_system_allocator),
        cmocka_unit_test(env_malloc_mode_cannot_be_changed_after_an_allocation),
        cmocka_unit_test(set_mode_malloc_before_the_first_allocation_takes_effect),
        cmocka_unit_test(set_mode_may_be_changed_until_the_first_allocation),
    };
    return PA_RUN_TESTS(tests, argc, argv);
}
