/* test_malloc.c -- section 1-3 of pyalloc.h call by call, in the default
   (pymalloc) mode: pa_malloc sizes and limits, alignment, pa_usable_size,
   pa_calloc zeroing and overflow, pa_realloc (in place, CPython's shrink rule,
   moves between pools and the system allocator), pa_free of NULL and of
   pointers PyAlloc did not hand out (refused, allocator unchanged), the
   per-thread last error, pa_version, the statistics (figures checked against
   what the test allocated) and the allocator mode calls.

   Every case measures stats as a difference from what it saw at its start, so
   cases do not depend on each other; CTest runs each in its own process.

   The debug.test_malloc.* copies run the same cases with the debug hooks over
   pymalloc (PYALLOC_TEST_MALLOC=debug, test_util.h).  What the hooks change is
   asserted as it is then, not skipped: the pools see n + 32 bytes for a
   request of n (pa_test_class_of), pa_usable_size gives n, the shrink rule
   applies to the raw block, and every refused pointer is also reported
   through the fatal error handler (recorded here instead of aborting). */
#define _GNU_SOURCE
#include "test_util.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#define countof(a) (sizeof(a) / sizeof((a)[0]))

static bool aligned16(const void *p)
{
    return ((uintptr_t)p & (PA_ALIGNMENT - 1)) == 0;
}

static size_t class_size(size_t n)
{
    return n == 0 ? PA_ALIGNMENT : (n + PA_ALIGNMENT - 1) / PA_ALIGNMENT * PA_ALIGNMENT;
}

static void fill(void *p, size_t n)
{
    pa_pattern_fill(p, n, pa_pattern_seed(p, n));
}

static void check_filled(const void *p, size_t n)
{
    size_t bad = pa_pattern_check(p, n, pa_pattern_seed(p, n));
    if (bad != (size_t)-1)
        fail_msg("block %p of %zu bytes: pattern broken at offset %zu", p, n, bad);
}

/* pymalloc keeps the raw block of a request of `old` bytes resized to n bytes
   exactly when it is a pool block, n's raw size fits its class and shrinking
   would not save a quarter of it (CPython's rule, on raw sizes). */
static bool realloc_stays(size_t old, size_t n)
{
    int c = pa_test_class_of(old);
    if (c < 0)
        return false;
    size_t have = (size_t)(c + 1) * PA_ALIGNMENT, raw = pa_test_raw_size(n);
    return raw <= have && 4 * raw > 3 * have;
}

/* ------------------------------------------------------------------ pa_malloc */

static void malloc_edge_sizes_are_aligned_writable_and_disjoint(void **state)
{
    (void)state;
    static const size_t sizes[] = {0, 1, 15, 16, 17, 31, 32, 33, 255, 256, 257, 511, 512, 513,
                                   1000, 4096, 65536, (size_t)1 << 20, (size_t)8 << 20};
    void *blocks[countof(sizes)];
    for (size_t i = 0; i < countof(sizes); i++) {
        blocks[i] = pa_malloc(sizes[i]);
        if (blocks[i] == NULL)
            fail_msg("pa_malloc(%zu) = NULL: %s", sizes[i], pa_last_error());
        assert_true(aligned16(blocks[i]));
        fill(blocks[i], sizes[i]);
    }
    /* All live at once: no block's pattern was overwritten by another's. */
    for (size_t i = 0; i < countof(sizes); i++)
        check_filled(blocks[i], sizes[i]);
    for (size_t i = 0; i < countof(sizes); i++)
        pa_free(blocks[i]);
}

static void malloc_every_size_up_to_1100_is_16_byte_aligned_and_disjoint(void **state)
{
    (void)state;
    enum { MAXN = 1100, COPIES = 3 };
    static void *blocks[MAXN + 1][COPIES];
    for (size_t n = 0; n <= MAXN; n++)
        for (int k = 0; k < COPIES; k++) {
            void *p = pa_malloc(n);
            assert_non_null(p);
            if (!aligned16(p))
                fail_msg("pa_malloc(%zu) = %p is not 16-byte aligned", n, p);
            fill(p, n);
            blocks[n][k] = p;
        }
    for (size_t n = 0; n <= MAXN; n++)
        for (int k = 0; k < COPIES; k++) {
            check_filled(blocks[n][k], n);
            pa_free(blocks[n][k]);
        }
}

static int cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)*(void *const *)a, y = (uintptr_t)*(void *const *)b;
    return x < y ? -1 : x > y;
}

static void malloc_zero_returns_unique_freeable_blocks(void **state)
{
    (void)state;
    enum { N = 5000 };
    static void *blocks[N];
    pa_malloc_stats before = pa_stats_now();
    for (int i = 0; i < N; i++) {
        blocks[i] = pa_malloc(0);
        assert_non_null(blocks[i]);
        assert_true(aligned16(blocks[i]));
        assert_int_equal(pa_usable_size(blocks[i]), pa_test_pool_usable(0));
    }
    pa_malloc_stats during = pa_stats_now();
    /* Served as 16-byte pool blocks (32-byte ones under the debug hooks). */
    assert_int_equal(pa_test_blocks_serving(&during, 0) - pa_test_blocks_serving(&before, 0), N);
    qsort(blocks, N, sizeof blocks[0], cmp_ptr);
    for (int i = 1; i < N; i++)
        if (blocks[i] == blocks[i - 1])
            fail_msg("pa_malloc(0) returned %p twice", blocks[i]);
    pa_clear_error();
    for (int i = 0; i < N; i++)
        pa_free(blocks[i]);
    assert_string_equal(pa_last_error(), "");
    pa_malloc_stats after = pa_stats_now();
    assert_int_equal(pa_test_blocks_serving(&after, 0), pa_test_blocks_serving(&before, 0));
}

static void malloc_absurd_sizes_fail_with_enomem_and_a_message(void **state)
{
    (void)state;
    static const size_t sizes[] = {SIZE_MAX, (size_t)PTRDIFF_MAX + 1, SIZE_MAX - 15,
                                   (size_t)PTRDIFF_MAX};
    pa_malloc_stats before = pa_stats_now();
    for (size_t i = 0; i < countof(sizes); i++) {
        char number[32];
        snprintf(number, sizeof number, "%zu", sizes[i]);
        pa_clear_error();
        errno = 0;
        void *p = pa_malloc(sizes[i]);
        if (p != NULL)
            fail_msg("pa_malloc(%zu) succeeded", sizes[i]);
        assert_int_equal(errno, ENOMEM);
        PA_ASSERT_ERROR_MENTIONS(number);
    }
    pa_malloc_stats after = pa_stats_now();
    pa_assert_stats_equal(&before, &after);
    /* The allocator still works. */
    void *p = pa_malloc(64);
    assert_non_null(p);
    pa_free(p);
}

static void malloc_success_does_not_clear_the_last_error(void **state)
{
    (void)state;
    assert_null(pa_malloc(SIZE_MAX));
    PA_ASSERT_ERROR_SET();
    char saved[512];
    snprintf(saved, sizeof saved, "%s", pa_last_error());
    void *p = pa_malloc(32);
    void *q = pa_malloc(4096);
    assert_non_null(p);
    assert_non_null(q);
    pa_free(p);
    pa_free(q);
    assert_string_equal(pa_last_error(), saved);
}

/* ------------------------------------------------------------- pa_usable_size */

static void usable_size_of_small_blocks_is_their_size_class(void **state)
{
    (void)state;
    for (size_t n = 0; n <= PA_SMALL_REQUEST_THRESHOLD; n++) {
        void *p = pa_malloc(n);
        assert_non_null(p);
        size_t usable = pa_usable_size(p);
        if (usable != pa_test_pool_usable(n))
            fail_msg("pa_usable_size(pa_malloc(%zu)) = %zu, expected %zu", n, usable, pa_test_pool_usable(n));
        /* The whole usable size may be written. */
        fill(p, usable);
        check_filled(p, usable);
        pa_free(p);
    }
    void *p = pa_malloc(0);
    assert_int_equal(pa_usable_size(p), pa_test_pool_usable(0)); /* 16, or 0 with the hooks */
    pa_free(p);
}

static void usable_size_of_large_blocks_covers_the_request(void **state)
{
    (void)state;
    static const size_t sizes[] = {513, 520, 1000, 4096, 100000, (size_t)1 << 20, (size_t)5 << 20};
    for (size_t i = 0; i < countof(sizes); i++) {
        void *p = pa_malloc(sizes[i]);
        assert_non_null(p);
        size_t usable = pa_usable_size(p);
        if (usable < sizes[i])
            fail_msg("pa_usable_size(pa_malloc(%zu)) = %zu", sizes[i], usable);
        fill(p, usable);
        check_filled(p, usable);
        pa_free(p);
    }
}

static void usable_size_of_null_is_zero_with_an_error(void **state)
{
    (void)state;
    pa_clear_error();
    assert_int_equal(pa_usable_size(NULL), 0);
    PA_ASSERT_ERROR_SET();
}

static void usable_size_of_foreign_pointers_is_zero_with_an_error(void **state)
{
    (void)state;
    char stack_buffer[64];
    void *glibc_small = malloc(48);
    void *glibc_large = malloc(100000);
    void *pool = pa_malloc(100);
    void *large = pa_malloc(5000);
    assert_non_null(glibc_small);
    assert_non_null(glibc_large);
    assert_non_null(pool);
    assert_non_null(large);
    const void *foreign[] = {stack_buffer, glibc_small, glibc_large,
                             (char *)pool + 16, (char *)pool + 8, (char *)pool + 1,
                             (char *)large + 16};
    for (size_t i = 0; i < countof(foreign); i++) {
        pa_clear_error();
        size_t n = pa_usable_size(foreign[i]);
        if (n != 0)
            fail_msg("pa_usable_size(foreign #%zu %p) = %zu", i, foreign[i], n);
        PA_ASSERT_ERROR_SET();
    }
    free(glibc_small);
    free(glibc_large);
    pa_free(pool);
    pa_free(large);
}

/* ------------------------------------------------------------------ pa_calloc */

static void calloc_zeroes_reused_dirty_blocks(void **state)
{
    (void)state;
    enum { N = 64 };
    static const size_t sizes[] = {1, 16, 100, 496, 512, 513, 5000, 300000};
    for (size_t s = 0; s < countof(sizes); s++) {
        size_t n = sizes[s];
        void *dirty[N];
        for (int i = 0; i < N; i++) {
            dirty[i] = pa_malloc(n);
            assert_non_null(dirty[i]);
            memset(dirty[i], 0xA5, pa_usable_size(dirty[i]));
        }
        for (int i = 0; i < N; i++)
            pa_free(dirty[i]);
        int reused = 0;
        void *clean[N];
        for (int i = 0; i < N; i++) {
            clean[i] = pa_calloc(1, n);
            assert_non_null(clean[i]);
            for (int j = 0; j < N; j++)
                reused += clean[i] == dirty[j];
            const unsigned char *b = clean[i];
            for (size_t k = 0; k < n; k++)
                if (b[k] != 0)
                    fail_msg("pa_calloc(1, %zu) = %p: byte %zu is 0x%02x", n, clean[i], k, b[k]);
        }
        /* The pool free lists hand dirtied blocks back (fresh arena memory is
           zero anyway), so zeroing was really tested. */
        if (n <= PA_SMALL_REQUEST_THRESHOLD && reused < N / 2)
            fail_msg("only %d of %d pa_calloc(1, %zu) blocks reused a dirtied block", reused, N, n);
        for (int i = 0; i < N; i++)
            pa_free(clean[i]);
    }
    /* nelem and elsize both count. */
    void *d = pa_malloc(480);
    memset(d, 0xFF, 480);
    pa_free(d);
    unsigned char *z = pa_calloc(30, 16);
    assert_non_null(z);
    for (size_t k = 0; k < 480; k++)
        assert_int_equal(z[k], 0);
    pa_free(z);
}

static void calloc_overflow_fails_with_enomem_naming_both_factors(void **state)
{
    (void)state;
    static const size_t cases[][2] = {
        {(size_t)1 << 62, 8},
        {8, (size_t)1 << 62},
        {SIZE_MAX, SIZE_MAX},
        {SIZE_MAX / 2 + 1, 2},
        {(size_t)1 << 32, (size_t)1 << 32},
    };
    pa_malloc_stats before = pa_stats_now();
    for (size_t i = 0; i < countof(cases); i++) {
        char a[32], b[32];
        snprintf(a, sizeof a, "%zu", cases[i][0]);
        snprintf(b, sizeof b, "%zu", cases[i][1]);
        pa_clear_error();
        errno = 0;
        void *p = pa_calloc(cases[i][0], cases[i][1]);
        if (p != NULL)
            fail_msg("pa_calloc(%s, %s) succeeded", a, b);
        assert_int_equal(errno, ENOMEM);
        PA_ASSERT_ERROR_MENTIONS(a);
        PA_ASSERT_ERROR_MENTIONS(b);
    }
    pa_malloc_stats after = pa_stats_now();
    pa_assert_stats_equal(&before, &after);
}

static void calloc_too_large_without_overflow_fails_with_enomem(void **state)
{
    (void)state;
    pa_clear_error();
    errno = 0;
    assert_null(pa_calloc(1, SIZE_MAX));
    assert_int_equal(errno, ENOMEM);
    PA_ASSERT_ERROR_SET();
    pa_clear_error();
    errno = 0;
    assert_null(pa_calloc((size_t)PTRDIFF_MAX / 2 + 1, 2)); /* = PTRDIFF_MAX + 1 */
    assert_int_equal(errno, ENOMEM);
    PA_ASSERT_ERROR_SET();
}

static void calloc_of_zero_bytes_returns_unique_freeable_blocks(void **state)
{
    (void)state;
    pa_malloc_stats before = pa_stats_now();
    void *a = pa_calloc(0, 8);
    void *b = pa_calloc(8, 0);
    void *c = pa_calloc(0, 0);
    void *d = pa_calloc(0, SIZE_MAX); /* 0 * anything does not overflow */
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_non_null(d);
    assert_true(a != b && a != c && b != c && d != a && d != b && d != c);
    assert_int_equal(pa_usable_size(a), pa_test_pool_usable(0));
    pa_clear_error();
    pa_free(a);
    pa_free(b);
    pa_free(c);
    pa_free(d);
    assert_string_equal(pa_last_error(), "");
    pa_malloc_stats after = pa_stats_now();
    assert_int_equal(pa_test_blocks_serving(&after, 0), pa_test_blocks_serving(&before, 0));
    assert_int_equal(after.large_blocks, before.large_blocks);
}

/* ----------------------------------------------------------------- pa_realloc */

static void realloc_of_null_acts_as_malloc(void **state)
{
    (void)state;
    static const size_t sizes[] = {0, 1, 100, 512, 513, 70000};
    for (size_t i = 0; i < countof(sizes); i++) {
        void *p = pa_realloc(NULL, sizes[i]);
        assert_non_null(p);
        assert_true(aligned16(p));
        if (pa_test_debug_hooks())
            assert_int_equal(pa_usable_size(p), sizes[i]);
        else if (sizes[i] <= PA_SMALL_REQUEST_THRESHOLD)
            assert_int_equal(pa_usable_size(p), class_size(sizes[i]));
        else
            assert_true(pa_usable_size(p) >= sizes[i]);
        fill(p, sizes[i]);
        check_filled(p, sizes[i]);
        pa_free(p);
    }
}

static void realloc_within_the_size_class_keeps_the_block_in_place(void **state)
{
    (void)state;
    unsigned char *p = pa_malloc(100); /* class 112 */
    assert_non_null(p);
    for (int i = 0; i < 100; i++)
        p[i] = (unsigned char)i;
    assert_ptr_equal(pa_realloc(p, 110), p);
    assert_ptr_equal(pa_realloc(p, 112), p);
    assert_ptr_equal(pa_realloc(p, 97), p);
    assert_ptr_equal(pa_realloc(p, 85), p); /* 4 * 85 = 340 > 3 * 112 = 336 */
    for (int i = 0; i < 85; i++)
        assert_int_equal(p[i], i);
    pa_free(p);
}

static void realloc_shrink_follows_cpythons_quarter_rule(void **state)
{
    (void)state;
    /* For every class size s and every n <= s: the block stays iff 4n > 3s. */
    for (size_t s = PA_ALIGNMENT; s <= PA_SMALL_REQUEST_THRESHOLD; s += PA_ALIGNMENT) {
        for (size_t n = 0; n <= s; n++) {
            void *p = pa_malloc(s);
            assert_non_null(p);
            fill(p, s);
            uint64_t seed = pa_pattern_seed(p, s);
            void *q = pa_realloc(p, n);
            assert_non_null(q);
            bool stays = realloc_stays(s, n); /* 4n > 3s, on raw sizes with the hooks */
            if (stays != (q == p))
                fail_msg("pa_realloc(pa_malloc(%zu), %zu) %s the block, CPython's rule says it %s",
                         s, n, q == p ? "kept" : "moved", stays ? "stays" : "moves");
            size_t bad = pa_pattern_check(q, n, seed);
            if (bad != (size_t)-1)
                fail_msg("pa_realloc(%zu -> %zu): byte %zu of the contents lost", s, n, bad);
            if (pa_test_debug_hooks())
                assert_int_equal(pa_usable_size(q), n);
            else
                assert_int_equal(pa_usable_size(q), stays ? s : class_size(n));
            pa_free(q);
        }
    }
}

static void realloc_grows_through_every_pool_class_keeping_contents(void **state)
{
    (void)state;
    unsigned char *p = pa_malloc(1);
    assert_non_null(p);
    p[0] = 0x5A;
    size_t old = 1;
    for (size_t n = 2; n <= 4096; n += (n < 600 ? 1 : 97)) {
        size_t have = pa_usable_size(p);
        unsigned char *q = pa_realloc(p, n);
        assert_non_null(q);
        assert_true(aligned16(q));
        for (size_t k = 0; k < old; k++)
            if (q[k] != (unsigned char)(k * 7 + 0x5A))
                fail_msg("realloc %zu -> %zu: byte %zu lost", old, n, k);
        for (size_t k = old; k < n; k++)
            q[k] = (unsigned char)(k * 7 + 0x5A);
        /* A pool block stays exactly when n fits it and uses more than 3/4 of it. */
        if (old <= PA_SMALL_REQUEST_THRESHOLD) {
            bool stays = pa_test_debug_hooks() ? realloc_stays(old, n) : n <= have && 4 * n > 3 * have;
            if (stays != (q == p))
                fail_msg("realloc %zu -> %zu of a %zu-byte block: %s", old, n, have, stays ? "moved" : "stayed");
        }
        if (n <= PA_SMALL_REQUEST_THRESHOLD)
            assert_true(pa_usable_size(q) >= n && pa_usable_size(q) <= PA_SMALL_REQUEST_THRESHOLD);
        p = q;
        old = n;
    }
    pa_free(p);
}

static void realloc_crosses_the_512_byte_line_both_ways(void **state)
{
    (void)state;
    pa_malloc_stats s0 = pa_stats_now();
    void *p = pa_malloc(300);
    assert_non_null(p);
    fill(p, 300);
    uint64_t seed300 = pa_pattern_seed(p, 300);

    pa_malloc_stats s1 = pa_stats_now();
    assert_int_equal(pa_test_blocks_serving(&s1, 300), pa_test_blocks_serving(&s0, 300) + 1);

    void *q = pa_realloc(p, 2000); /* pool -> system allocator */
    assert_non_null(q);
    assert_ptr_not_equal(q, p);
    assert_true(aligned16(q));
    assert_int_equal(pa_pattern_check(q, 300, seed300), (size_t)-1);
    assert_true(pa_usable_size(q) >= 2000);
    pa_malloc_stats s2 = pa_stats_now();
    assert_int_equal(pa_test_blocks_serving(&s2, 300), pa_test_blocks_serving(&s0, 300));
    assert_int_equal(s2.large_blocks, s0.large_blocks + 1);
    assert_true(s2.large_bytes >= s0.large_bytes + 2000);
    fill(q, 2000);
    uint64_t seed2000 = pa_pattern_seed(q, 2000);

    void *r = pa_realloc(q, 100); /* system allocator -> pool */
    assert_non_null(r);
    assert_true(aligned16(r));
    assert_int_equal(pa_pattern_check(r, 100, seed2000), (size_t)-1);
    assert_int_equal(pa_usable_size(r), pa_test_pool_usable(100));
    pa_malloc_stats s3 = pa_stats_now();
    assert_int_equal(s3.large_blocks, s0.large_blocks);
    assert_int_equal(s3.large_bytes, s0.large_bytes);
    assert_int_equal(pa_test_blocks_serving(&s3, 100), pa_test_blocks_serving(&s0, 100) + 1);

    /* Large to large keeps the contents too. */
    void *big = pa_malloc(5000);
    assert_non_null(big);
    fill(big, 5000);
    uint64_t seed5000 = pa_pattern_seed(big, 5000);
    void *bigger = pa_realloc(big, 3 << 20);
    assert_non_null(bigger);
    assert_int_equal(pa_pattern_check(bigger, 5000, seed5000), (size_t)-1);
    assert_true(pa_usable_size(bigger) >= (3 << 20));
    pa_malloc_stats s4 = pa_stats_now();
    assert_int_equal(s4.large_blocks, s0.large_blocks + 1);

    pa_clear_error();
    pa_free(bigger);
    pa_free(r);
    assert_string_equal(pa_last_error(), "");
    pa_malloc_stats s5 = pa_stats_now();
    assert_int_equal(s5.large_blocks, s0.large_blocks);
    assert_int_equal(pa_stats_blocks_in_use(&s5), pa_stats_blocks_in_use(&s0));
}

static void realloc_to_zero_returns_a_minimal_freeable_block(void **state)
{
    (void)state;
    static const size_t sizes[] = {1, 200, 512, 513, 100000};
    pa_malloc_stats before = pa_stats_now();
    for (size_t i = 0; i < countof(sizes); i++) {
        void *p = pa_malloc(sizes[i]);
        assert_non_null(p);
        void *q = pa_realloc(p, 0);
        if (q == NULL)
            fail_msg("pa_realloc(pa_malloc(%zu), 0) = NULL: %s", sizes[i], pa_last_error());
        assert_true(aligned16(q));
        assert_int_equal(pa_usable_size(q), pa_test_pool_usable(0));
        pa_clear_error();
        pa_free(q);
        assert_string_equal(pa_last_error(), "");
    }
    pa_malloc_stats after = pa_stats_now();
    assert_int_equal(pa_stats_blocks_in_use(&after), pa_stats_blocks_in_use(&before));
    assert_int_equal(after.large_blocks, before.large_blocks);
}

static void realloc_of_a_foreign_pointer_fails_and_leaves_it_untouched(void **state)
{
    (void)state;
    unsigned char stack_buffer[256];
    fill(stack_buffer, sizeof stack_buffer);
    unsigned char *glibc = malloc(200);
    assert_non_null(glibc);
    fill(glibc, 200);
    unsigned char *pool = pa_malloc(200);
    assert_non_null(pool);
    fill(pool, 200);

    pa_malloc_stats before = pa_stats_now();
    void *foreign[] = {stack_buffer, glibc, pool + 16, pool + 8};
    static const size_t sizes[] = {0, 10, 200, 5000};
    pa_test_catch_reports(); /* the debug hooks report each refusal too */
    for (size_t i = 0; i < countof(foreign); i++)
        for (size_t k = 0; k < countof(sizes); k++) {
            pa_clear_error();
            void *q = pa_realloc(foreign[i], sizes[k]);
            if (q != NULL)
                fail_msg("pa_realloc(foreign #%zu %p, %zu) = %p", i, foreign[i], sizes[k], q);
            PA_ASSERT_ERROR_SET();
        }
    if (pa_test_debug_hooks())
        PA_ASSERT_REPORTED((int)(countof(foreign) * countof(sizes)), "Fatal PyAlloc error: pa_realloc: bad pointer");
    else
        assert_int_equal(pa_test_seen.count, 0);
    pa_malloc_stats after = pa_stats_now();
    pa_assert_stats_equal(&before, &after);
    check_filled(stack_buffer, sizeof stack_buffer);
    check_filled(glibc, 200);
    check_filled(pool, 200);
    free(glibc); /* still glibc's: freeing it there must work */
    pa_free(pool);
}

static void realloc_failure_keeps_the_old_block(void **state)
{
    (void)state;
    static const size_t sizes[] = {100, 512, 4000};
    static const size_t huge[] = {SIZE_MAX, (size_t)PTRDIFF_MAX + 1, (size_t)PTRDIFF_MAX};
    for (size_t i = 0; i < countof(sizes); i++) {
        void *p = pa_malloc(sizes[i]);
        assert_non_null(p);
        fill(p, sizes[i]);
        for (size_t k = 0; k < countof(huge); k++) {
            pa_clear_error();
            errno = 0;
            void *q = pa_realloc(p, huge[k]);
            if (q != NULL)
                fail_msg("pa_realloc(%zu-byte block, %zu) succeeded", sizes[i], huge[k]);
            assert_int_equal(errno, ENOMEM);
            PA_ASSERT_ERROR_SET();
            check_filled(p, sizes[i]);
            assert_true(pa_usable_size(p) >= sizes[i]);
        }
        pa_clear_error();
        pa_free(p);
        assert_string_equal(pa_last_error(), "");
    }
}

/* -------------------------------------------------------------------- pa_free */

static void free_of_null_is_a_noop(void **state)
{
    (void)state;
    pa_malloc_stats before = pa_stats_now();
    pa_clear_error();
    for (int i = 0; i < 100; i++)
        pa_free(NULL);
    assert_string_equal(pa_last_error(), "");
    pa_malloc_stats after = pa_stats_now();
    pa_assert_stats_equal(&before, &after);
}

/* pa_free(p) must refuse p: error set, nothing freed, every figure unchanged.
   With the debug hooks on, it is also reported once, for debug_reason
   ("bad pointer", "double free"; NULL: either). */
static void assert_free_refused_as(void *p, const char *what, const char *debug_reason)
{
    pa_malloc_stats before = pa_stats_now();
    pa_test_catch_reports();
    pa_clear_error();
    pa_free(p);
    if (pa_last_error()[0] == '\0')
        fail_msg("pa_free(%s %p) set no error", what, p);
    pa_malloc_stats after = pa_stats_now();
    pa_assert_stats_equal(&before, &after);
    pa_assert_stats_consistent(&after);
    if (!pa_test_debug_hooks()) {
        assert_int_equal(pa_test_seen.count, 0);
        return;
    }
    PA_ASSERT_REPORTED(1, "Fatal PyAlloc error: pa_free: ");
    if (debug_reason != NULL)
        PA_ASSERT_REPORTED(1, debug_reason);
}

static void assert_free_refused(void *p, const char *what)
{
    assert_free_refused_as(p, what, NULL);
}

static void free_of_a_stack_pointer_is_refused(void **state)
{
    (void)state;
    unsigned char buffer[128];
    fill(buffer, sizeof buffer);
    void *keep = pa_malloc(32); /* so that there are arenas to confuse it with */
    assert_free_refused(buffer, "stack");
    assert_free_refused(buffer + 16, "stack");
    check_filled(buffer, sizeof buffer);
    pa_free(keep);
}

static void free_of_a_glibc_block_is_refused(void **state)
{
    (void)state;
    unsigned char *small = malloc(64);
    unsigned char *large = malloc(100000);
    assert_non_null(small);
    assert_non_null(large);
    fill(small, 64);
    fill(large, 100000);
    assert_free_refused(small, "glibc malloc(64)");
    assert_free_refused(large, "glibc malloc(100000)");
    check_filled(small, 64);
    check_filled(large, 100000);
    /* Had pa_free passed them to free(), glibc would now abort on a double free. */
    free(small);
    free(large);
}

static void free_of_an_interior_pointer_is_refused(void **state)
{
    (void)state;
    unsigned char *p = pa_malloc(100); /* a 112-byte block: p + 16 is no block start */
    unsigned char *big = pa_malloc(4000);
    assert_non_null(p);
    assert_non_null(big);
    fill(p, 100);
    fill(big, 4000);
    assert_free_refused(p + 16, "interior (pool, +16)");
    assert_free_refused(p + 8, "interior (pool, +8)");
    assert_free_refused(p + 1, "interior (pool, +1)");
    assert_free_refused(p + 96, "interior (pool, +96)");
    assert_free_refused(big + 16, "interior (large, +16)");
    check_filled(p, 100);
    check_filled(big, 4000);
    assert_int_equal(pa_usable_size(p), pa_test_pool_usable(100));
    pa_clear_error();
    pa_free(p);
    pa_free(big);
    assert_string_equal(pa_last_error(), "");
}

static void free_of_a_pointer_in_an_unused_part_of_an_arena_is_refused(void **state)
{
    (void)state;
    unsigned char *p = pa_malloc(64);
    assert_non_null(p);
    uintptr_t arena = (uintptr_t)p & ~(uintptr_t)(PA_ARENA_SIZE - 1);
    pa_malloc_stats st = pa_stats_now();
    /* The last pool of the arena is carved only when every other pool is (pools
       are carved in address order): with few pools in use it is untouched. */
    if (st.pools_in_use < PA_ARENA_SIZE / PA_POOL_SIZE - 1) {
        uintptr_t last_pool = arena + PA_ARENA_SIZE - PA_POOL_SIZE;
        assert_free_refused((void *)(last_pool + 48), "never-carved pool");
        assert_free_refused((void *)(last_pool + PA_POOL_SIZE - 64), "never-carved pool");
    } else {
        fail_msg("test set-up: %zu pools in use, expected few", st.pools_in_use);
    }
    /* The pool's header is not a block either. */
    uintptr_t pool = (uintptr_t)p & ~(uintptr_t)(PA_POOL_SIZE - 1);
    assert_free_refused((void *)pool, "pool header");
    assert_free_refused((void *)(pool + 16), "pool header");
    pa_free(p);
}

static void double_free_of_the_last_freed_block_is_refused(void **state)
{
    (void)state;
    void *keep = pa_malloc(48);
    void *a = pa_malloc(48);
    assert_non_null(a);
    pa_free(a);
    assert_free_refused_as(a, "already freed (most recent)", "double free");
    /* The class still hands out distinct blocks. */
    void *x = pa_malloc(48), *y = pa_malloc(48);
    assert_non_null(x);
    assert_non_null(y);
    assert_ptr_not_equal(x, y);
    pa_free(x);
    pa_free(y);
    pa_free(keep);
}

static void double_free_of_an_older_freed_block_is_refused(void **state)
{
    (void)state;
    /* a is freed, then b: a is no longer the first block of its pool's free
       list.  Freeing a again must still be refused, or the free list holds a
       twice and two later allocations return the same block. */
    void *keep = pa_malloc(48);
    void *a = pa_malloc(48);
    void *b = pa_malloc(48);
    void *c = pa_malloc(48);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    pa_free(a);
    pa_free(b);
    assert_free_refused_as(a, "already freed (not the most recent)", "double free");
    void *x = pa_malloc(48), *y = pa_malloc(48), *z = pa_malloc(48);
    assert_true(x != y && y != z && x != z && x != c && y != c && z != c);
    pa_free(x);
    pa_free(y);
    pa_free(z);
    pa_free(c);
    pa_free(keep);
}

static void free_of_a_never_allocated_block_inside_a_pool_is_refused(void **state)
{
    (void)state;
    /* Pools are carved lazily: after a and b (the first blocks of a fresh pool
       of the 480-byte class) the block after b is carved but was never handed
       out.  Once a is freed it is no longer the first free block of the pool;
       pa_free must still refuse it, and b must stay live.  (n is 480 bytes
       less the debug hooks' 32 when they are on: the raw blocks are 480.) */
    const size_t n = 480 - pa_test_raw_size(0);
    unsigned char *a = pa_malloc(n);
    unsigned char *b = pa_malloc(n);
    assert_non_null(a);
    assert_non_null(b);
    if (b != a + 480 || ((uintptr_t)a & (PA_POOL_SIZE - 1)) > 64)
        fail_msg("test set-up: expected the first two blocks of a fresh pool, got %p and %p",
                 (void *)a, (void *)b);
    fill(b, n);
    pa_free(a);
    assert_free_refused_as(b + 480, "carved but never allocated block", "bad pointer");
    check_filled(b, n);
    assert_int_equal(pa_usable_size(b), n);
    pa_malloc_stats st = pa_stats_now();
    assert_int_equal(st.classes[pa_class_of(480)].blocks_in_use, 1);
    /* The next two blocks of the class are distinct and not b. */
    void *x = pa_malloc(n), *y = pa_malloc(n);
    assert_true(x != y && x != b && y != b);
    pa_free(x);
    pa_free(y);
    pa_free(b);
}

static void realloc_of_an_already_freed_block_is_refused(void **state)
{
    (void)state;
    /* Like a double free: the block is on its pool's free list, so resizing
       it (in place or by a move) would hand the same memory to two owners. */
    void *keep = pa_malloc(48);
    unsigned char *a = pa_malloc(48);
    unsigned char *b = pa_malloc(48);
    assert_non_null(a);
    assert_non_null(b);
    fill(b, 48);
    pa_free(a);
    static const size_t sizes[] = {40, 48, 10, 200, 5000};
    pa_test_catch_reports();
    for (size_t i = 0; i < countof(sizes); i++) {
        pa_malloc_stats before = pa_stats_now();
        pa_clear_error();
        void *q = pa_realloc(a, sizes[i]);
        if (q != NULL)
            fail_msg("pa_realloc(freed block %p, %zu) = %p", (void *)a, sizes[i], q);
        PA_ASSERT_ERROR_SET();
        pa_malloc_stats after = pa_stats_now();
        pa_assert_stats_equal(&before, &after);
    }
    if (pa_test_debug_hooks())
        PA_ASSERT_REPORTED((int)countof(sizes), "Fatal PyAlloc error: pa_realloc: double free");
    else
        assert_int_equal(pa_test_seen.count, 0);
    check_filled(b, 48);
    pa_free(b);
    pa_free(keep);
}

static void double_free_of_a_large_block_is_refused(void **state)
{
    (void)state;
    void *p = pa_malloc(6000);
    assert_non_null(p);
    pa_free(p);
    assert_free_refused_as(p, "already freed large block", "double free");
}

static void free_of_a_block_of_a_released_arena_is_refused(void **state)
{
    (void)state;
    /* Fill more than one arena, free it all and trim: the old addresses are no
       longer mapped, and pa_free must say so without touching them. */
    enum { N = 3 * 2048 };
    static void *blocks[N];
    const size_t n = PA_SMALL_REQUEST_THRESHOLD - pa_test_raw_size(0); /* 512-byte pool blocks */
    for (int i = 0; i < N; i++) {
        blocks[i] = pa_malloc(n);
        assert_non_null(blocks[i]);
    }
    for (int i = 0; i < N; i++)
        pa_free(blocks[i]);
    pa_trim();
    pa_malloc_stats st = pa_stats_now();
    assert_int_equal(st.arenas_current, 0);
    assert_free_refused(blocks[0], "block of an unmapped arena");
    assert_free_refused(blocks[N - 1], "block of an unmapped arena");
    pa_clear_error();
    assert_int_equal(pa_usable_size(blocks[N / 2]), 0);
    PA_ASSERT_ERROR_SET();
}

/* ------------------------------------------------------ errors and version */

static void clear_error_empties_the_last_error(void **state)
{
    (void)state;
    assert_non_null(pa_last_error());
    pa_clear_error();
    assert_string_equal(pa_last_error(), "");
    assert_int_equal(pa_get_malloc_stats(NULL), -1);
    PA_ASSERT_ERROR_SET();
    pa_clear_error();
    assert_string_equal(pa_last_error(), "");
    pa_clear_error(); /* twice is fine */
    assert_string_equal(pa_last_error(), "");
}

static void *fail_on_this_thread(void *arg)
{
    char *out = arg;
    /* A thread that never failed has no error, whatever other threads did. */
    snprintf(out, 512, "%s", pa_last_error());
    return NULL;
}

static void *fail_with_calloc(void *arg)
{
    char *out = arg;
    if (pa_calloc((size_t)1 << 62, 8) != NULL)
        snprintf(out, 512, "pa_calloc succeeded");
    else
        snprintf(out, 512, "%s", pa_last_error());
    return NULL;
}

static void last_error_is_kept_per_thread(void **state)
{
    (void)state;
    pa_clear_error();
    assert_null(pa_malloc(SIZE_MAX));
    char mine[512];
    snprintf(mine, sizeof mine, "%s", pa_last_error());
    assert_true(mine[0] != '\0');

    char seen[512] = "unset";
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, fail_on_this_thread, seen), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_string_equal(seen, ""); /* thread B does not see A's error */

    assert_int_equal(pthread_create(&t, NULL, fail_with_calloc, seen), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_non_null(strstr(seen, "4611686018427387904"));
    assert_string_equal(pa_last_error(), mine); /* A's error survives B's failure */
}

static void version_matches_the_header_macros(void **state)
{
    (void)state;
    char expected[64];
    snprintf(expected, sizeof expected, "%d.%d.%d", PA_VERSION_MAJOR, PA_VERSION_MINOR, PA_VERSION_PATCH);
    assert_non_null(pa_version());
    assert_string_equal(pa_version(), expected);
    assert_ptr_equal(pa_version(), pa_version()); /* a static string */
}

/* ------------------------------------------------------------- statistics */

static void stats_count_blocks_per_class_exactly(void **state)
{
    (void)state;
    enum { PER_CLASS_BASE = 50, LARGE = 7 };
    static void *blocks[PA_NUM_SIZE_CLASSES][PER_CLASS_BASE + PA_NUM_SIZE_CLASSES];
    void *large[LARGE];
    /* The blocks each class must gain: PER_CLASS_BASE + c for class c; with the
       debug hooks the raw blocks are 32 bytes larger, so the requests of class
       c land in class c + 2, and those of the last two classes are large. */
    size_t expected[PA_NUM_SIZE_CLASSES] = {0};
    size_t expected_large = LARGE;
    pa_malloc_stats before = pa_stats_now();
    pa_assert_stats_consistent(&before);

    size_t used_bytes = 0, large_bytes = 0;
    for (size_t c = 0; c < PA_NUM_SIZE_CLASSES; c++) {
        size_t k = PER_CLASS_BASE + c; /* a different count per class */
        for (size_t i = 0; i < k; i++) {
            size_t n = c * PA_ALIGNMENT + 1 + (i % PA_ALIGNMENT); /* any size of the class */
            assert_int_equal(pa_class_of(n), c);
            blocks[c][i] = pa_malloc(n);
            assert_non_null(blocks[c][i]);
            int served = pa_test_class_of(n);
            if (served >= 0) {
                expected[served]++;
                used_bytes += (size_t)(served + 1) * PA_ALIGNMENT;
            } else {
                expected_large++;
                large_bytes += pa_test_raw_size(n);
            }
        }
    }
    for (int i = 0; i < LARGE; i++) {
        size_t n = 513 + (size_t)i * 10000;
        large[i] = pa_malloc(n);
        assert_non_null(large[i]);
        /* The hooks' pa_usable_size is the request: count the raw request instead. */
        large_bytes += pa_test_debug_hooks() ? pa_test_raw_size(n) : pa_usable_size(large[i]);
    }

    pa_malloc_stats during = pa_stats_now();
    pa_assert_stats_consistent(&during);
    for (size_t c = 0; c < PA_NUM_SIZE_CLASSES; c++) {
        size_t delta = during.classes[c].blocks_in_use - before.classes[c].blocks_in_use;
        if (delta != expected[c])
            fail_msg("class %zu: blocks_in_use grew by %zu, expected %zu", c, delta, expected[c]);
        if (expected[c] > 0)
            assert_true(during.classes[c].pools >= 1);
    }
    if (!pa_test_debug_hooks())
        for (size_t c = 0; c < PA_NUM_SIZE_CLASSES; c++)
            assert_int_equal(expected[c], PER_CLASS_BASE + c);
    assert_int_equal(during.bytes_in_used_blocks - before.bytes_in_used_blocks, used_bytes);
    assert_int_equal(during.large_blocks - before.large_blocks, expected_large);
    if (pa_test_debug_hooks()) /* the system allocator's usable sizes cover the raw requests */
        assert_true(during.large_bytes - before.large_bytes >= large_bytes);
    else
        assert_int_equal(during.large_bytes - before.large_bytes, large_bytes);
    assert_true(during.arenas_current >= 1);
    assert_true(during.arenas_highwater >= during.arenas_current);

    for (size_t c = 0; c < PA_NUM_SIZE_CLASSES; c++)
        for (size_t i = 0; i < PER_CLASS_BASE + c; i++)
            pa_free(blocks[c][i]);
    for (int i = 0; i < LARGE; i++)
        pa_free(large[i]);
    pa_malloc_stats after = pa_stats_now();
    pa_assert_stats_consistent(&after);
    for (size_t c = 0; c < PA_NUM_SIZE_CLASSES; c++)
        assert_int_equal(after.classes[c].blocks_in_use, before.classes[c].blocks_in_use);
    assert_int_equal(after.bytes_in_used_blocks, before.bytes_in_used_blocks);
    assert_int_equal(after.large_blocks, before.large_blocks);
    assert_int_equal(after.large_bytes, before.large_bytes);
}

static void stats_arena_and_pool_counters_agree(void **state)
{
    (void)state;
    /* 5 MiB of 512-byte blocks: 31 per pool, so at least ceil(n / 31) pools in
       that class and ceil(pools / 64) arenas.  (480-byte requests with the
       debug hooks on, whose raw blocks are 512 bytes.) */
    enum { N = 10240 };
    static void *blocks[N];
    const size_t n = PA_SMALL_REQUEST_THRESHOLD - pa_test_raw_size(0);
    pa_malloc_stats before = pa_stats_now();
    for (int i = 0; i < N; i++) {
        blocks[i] = pa_malloc(n);
        assert_non_null(blocks[i]);
    }
    pa_malloc_stats st = pa_stats_now();
    pa_assert_stats_consistent(&st);
    size_t per_pool = st.classes[31].blocks_in_use + st.classes[31].free_blocks;
    assert_true(st.classes[31].pools > 0);
    per_pool /= st.classes[31].pools;
    assert_int_equal(per_pool, 31); /* CPython 3.12, 64-bit: (16384 - 48) / 512 */
    size_t pools_needed = (N + per_pool - 1) / per_pool;
    assert_true(st.classes[31].pools >= pools_needed);
    assert_true(st.pools_in_use >= pools_needed);
    size_t arenas_needed = (pools_needed + 63) / 64;
    assert_true(st.arenas_current >= arenas_needed);
    assert_int_equal(st.arena_bytes, st.arenas_current * PA_ARENA_SIZE);
    assert_true(st.arenas_allocated + before.arenas_current >= before.arenas_allocated + arenas_needed);
    assert_true(st.arenas_highwater >= st.arenas_current);

    for (int i = 0; i < N; i++)
        pa_free(blocks[i]);
    pa_malloc_stats freed = pa_stats_now();
    pa_assert_stats_consistent(&freed);
    assert_int_equal(freed.classes[31].blocks_in_use, before.classes[31].blocks_in_use);
    /* Wholly free arenas stay mapped for reuse for a while (PYALLOC_ARENA_DECAY_MS),
       counted as arenas with every pool free; pa_trim returns them at once. */
    assert_true(freed.pools_free >= (freed.arenas_current - before.arenas_current) * 64);
    assert_int_equal(freed.arenas_highwater, st.arenas_highwater);
    pa_trim();
    pa_malloc_stats trimmed = pa_stats_now();
    assert_true(trimmed.arenas_current <= before.arenas_current);
    assert_true(trimmed.arenas_reclaimed >= st.arenas_reclaimed + st.arenas_current - before.arenas_current);
}

/* sys.getallocatedblocks(): every live block once, pool or large; back to
   where it was when they are freed (this thread's cache is flushed first). */
static void allocated_blocks_count_pool_and_large_blocks(void **state)
{
    (void)state;
    size_t before = pa_get_allocated_blocks();
    assert_true(before != PA_SIZE_ERROR);
    void *small[40], *large[5];
    for (int i = 0; i < 40; i++)
        small[i] = pa_malloc((size_t)(i * 12 + 1));
    for (int i = 0; i < 5; i++)
        large[i] = pa_malloc(1000 + (size_t)i * 5000);
    assert_int_equal(pa_get_allocated_blocks(), before + 45);
    pa_malloc_stats st;
    assert_int_equal(pa_get_malloc_stats(&st), 0);
    size_t sum = st.large_blocks;
    for (int i = 0; i < PA_NUM_SIZE_CLASSES; i++)
        sum += st.classes[i].blocks_in_use;
    assert_int_equal(pa_get_allocated_blocks(), sum);
    for (int i = 0; i < 40; i++)
        pa_free(small[i]);
    for (int i = 0; i < 5; i++)
        pa_free(large[i]);
    assert_int_equal(pa_get_allocated_blocks(), before);
}

static void get_malloc_stats_of_null_fails(void **state)
{
    (void)state;
    pa_clear_error();
    assert_int_equal(pa_get_malloc_stats(NULL), -1);
    PA_ASSERT_ERROR_SET();
}

/* The text pa_print_malloc_stats wrote, as a NUL-terminated malloc'ed string. */
static char *print_stats_to_string(void)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(pa_print_malloc_stats(f), 0);
    long len = ftell(f);
    assert_true(len > 0);
    rewind(f);
    char *text = malloc((size_t)len + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
    text[len] = '\0';
    fclose(f);
    return text;
}

/* The number after "label ... = " on the line that starts with label; -1 if none. */
static long long stats_line_value(const char *text, const char *label)
{
    for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncmp(line, label, strlen(label)) != 0)
            continue;
        const char *eq = strchr(line, '=');
        const char *eol = strchr(line, '\n');
        if (eq == NULL || (eol && eq > eol))
            return -1;
        long long v = 0;
        for (const char *c = eq + 1; *c && *c != '\n'; c++)
            if (*c >= '0' && *c <= '9')
                v = v * 10 + (*c - '0'); /* digits, skipping thousands separators */
        return v;
    }
    return -1;
}

static void print_malloc_stats_writes_a_row_per_used_class_and_the_arena_totals(void **state)
{
    (void)state;
    /* Four classes (the last one's raw blocks are 512 bytes whatever the mode). */
    const size_t sizes[] = {1, 100, 250, PA_SMALL_REQUEST_THRESHOLD - pa_test_raw_size(0)};
    enum { K = 40 };
    void *blocks[countof(sizes)][K];
    for (size_t s = 0; s < countof(sizes); s++)
        for (int i = 0; i < K; i++)
            assert_non_null(blocks[s][i] = pa_malloc(sizes[s]));
    pa_malloc_stats st = pa_stats_now();
    char *text = print_stats_to_string();

    if (strstr(text, "class   size   num pools   blocks in use  avail blocks") == NULL)
        fail_msg("no table header in:\n%s", text);
    /* One row per class with pools, figures as in the stats, no other rows. */
    int rows = 0;
    for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        int cls;
        size_t size, pools, used, avail;
        char end;
        if (sscanf(line, " %d %zu %zu %zu %zu%c", &cls, &size, &pools, &used, &avail, &end) != 6 || end != '\n')
            continue;
        assert_true(cls >= 0 && cls < PA_NUM_SIZE_CLASSES);
        const pa_size_class_stats *c = &st.classes[cls];
        assert_int_equal(size, c->block_size);
        assert_int_equal(pools, c->pools);
        assert_int_equal(used, c->blocks_in_use);
        assert_int_equal(avail, c->free_blocks);
        assert_true(c->pools > 0);
        rows++;
    }
    int used_classes = 0;
    for (int c = 0; c < PA_NUM_SIZE_CLASSES; c++)
        used_classes += st.classes[c].pools > 0;
    assert_true(used_classes >= (int)countof(sizes));
    assert_int_equal(rows, used_classes);

    assert_int_equal(stats_line_value(text, "# arenas allocated current"), (long long)st.arenas_current);
    assert_int_equal(stats_line_value(text, "# arenas allocated total"), (long long)st.arenas_allocated);
    assert_int_equal(stats_line_value(text, "# arenas reclaimed"), (long long)st.arenas_reclaimed);
    assert_int_equal(stats_line_value(text, "# arenas highwater mark"), (long long)st.arenas_highwater);
    assert_int_equal(stats_line_value(text, "# bytes in allocated blocks"), (long long)st.bytes_in_used_blocks);
    free(text);

    for (size_t s = 0; s < countof(sizes); s++)
        for (int i = 0; i < K; i++)
            pa_free(blocks[s][i]);
}

static void print_malloc_stats_to_null_fails(void **state)
{
    (void)state;
    pa_clear_error();
    assert_int_equal(pa_print_malloc_stats(NULL), -1);
    PA_ASSERT_ERROR_SET();
}

static void print_malloc_stats_reports_a_failed_write(void **state)
{
    (void)state;
    FILE *ro = fopen("/dev/null", "r"); /* writes to a read-only stream fail */
    assert_non_null(ro);
    pa_clear_error();
    assert_int_equal(pa_print_malloc_stats(ro), -1);
    PA_ASSERT_ERROR_SET();
    fclose(ro);
}

/* --------------------------------------------------------- allocator mode */

/* The mode this file runs in: pymalloc, or the debug hooks over it in the
   debug.* copies. */
static const char *default_mode(void)
{
    return pa_test_mode_name("pymalloc");
}

static void allocator_mode_is_pymalloc_by_default(void **state)
{
    (void)state;
    assert_string_equal(pa_get_allocator_mode(), default_mode());
    void *p = pa_malloc(10);
    assert_non_null(p);
    assert_string_equal(pa_get_allocator_mode(), default_mode());
    /* ... and small blocks really come from pools. */
    pa_malloc_stats st = pa_stats_now();
    assert_true(pa_test_blocks_serving(&st, 10) >= 1);
    assert_true(pa_test_class_of(10) >= 0);
    assert_true(st.arenas_current >= 1);
    pa_free(p);
}

static void set_allocator_mode_after_an_allocation_is_refused(void **state)
{
    (void)state;
    void *p = pa_malloc(10);
    assert_non_null(p);
    pa_clear_error();
    assert_int_equal(pa_set_allocator_mode("malloc"), -1);
    PA_ASSERT_ERROR_SET();
    assert_string_equal(pa_get_allocator_mode(), default_mode());
    /* Neither to the debug hooks nor from them. */
    pa_clear_error();
    assert_int_equal(pa_set_allocator_mode(pa_test_debug_hooks() ? "pymalloc" : "debug"), -1);
    PA_ASSERT_ERROR_SET();
    /* Asking for the mode already in force is not a change. */
    assert_int_equal(pa_set_allocator_mode(default_mode()), 0);
    assert_string_equal(pa_get_allocator_mode(), default_mode());
    void *q = pa_malloc(10);
    assert_non_null(q);
    pa_malloc_stats st = pa_stats_now();
    assert_true(pa_test_blocks_serving(&st, 10) >= 2); /* still pools */
    pa_free(p);
    pa_free(q);
}

static void set_allocator_mode_rejects_unknown_names_and_null(void **state)
{
    (void)state;
    static const char *const bad[] = {"", "bogus", "pymalloc ", "mallocx", "PYMALLOC_"};
    for (size_t i = 0; i < countof(bad); i++) {
        pa_clear_error();
        if (pa_set_allocator_mode(bad[i]) != -1)
            fail_msg("pa_set_allocator_mode(\"%s\") accepted", bad[i]);
        PA_ASSERT_ERROR_SET();
    }
    pa_clear_error();
    assert_int_equal(pa_set_allocator_mode(NULL), -1);
    PA_ASSERT_ERROR_SET();
    assert_string_equal(pa_get_allocator_mode(), default_mode());
    void *p = pa_malloc(1);
    assert_non_null(p);
    assert_string_equal(pa_get_allocator_mode(), default_mode());
    pa_free(p);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(malloc_edge_sizes_are_aligned_writable_and_disjoint),
        cmocka_unit_test(malloc_every_size_up_to_1100_is_16_byte_aligned_and_disjoint),
        cmocka_unit_test(malloc_zero_returns_unique_freeable_blocks),
        cmocka_unit_test(malloc_absurd_sizes_fail_with_enomem_and_a_message),
        cmocka_unit_test(malloc_success_does_not_clear_the_last_error),
        cmocka_unit_test(usable_size_of_small_blocks_is_their_size_class),
        cmocka_unit_test(usable_size_of_large_blocks_covers_the_request),
        cmocka_unit_test(usable_size_of_null_is_zero_with_an_error),
        cmocka_unit_test(usable_size_of_foreign_pointers_is_zero_with_an_error),
        cmocka_unit_test(calloc_zeroes_reused_dirty_blocks),
        cmocka_unit_test(calloc_overflow_fails_with_enomem_naming_both_factors),
        cmocka_unit_test(calloc_too_large_without_overflow_fails_with_enomem),
        cmocka_unit_test(calloc_of_zero_bytes_returns_unique_freeable_blocks),
        cmocka_unit_test(realloc_of_null_acts_as_malloc),
        cmocka_unit_test(realloc_within_the_size_class_keeps_the_block_in_place),
        cmocka_unit_test(realloc_shrink_follows_cpythons_quarter_rule),
        cmocka_unit_test(realloc_grows_through_every_pool_class_keeping_contents),
        cmocka_unit_test(realloc_crosses_the_512_byte_line_both_ways),
        cmocka_unit_test(realloc_to_zero_returns_a_minimal_freeable_block),
        cmocka_unit_test(realloc_of_a_foreign_pointer_fails_and_leaves_it_untouched),
        cmocka_unit_test(realloc_failure_keeps_the_old_block),
        cmocka_unit_test(free_of_null_is_a_noop),
        cmocka_unit_test(free_of_a_stack_pointer_is_refused),
        cmocka_unit_test(free_of_a_glibc_block_is_refused),
        cmocka_unit_test(free_of_an_interior_pointer_is_refused),
        cmocka_unit_test(free_of_a_pointer_in_an_unused_part_of_an_arena_is_refused),
        cmocka_unit_test(double_free_of_the_last_freed_block_is_refused),
        cmocka_unit_test(double_free_of_an_older_freed_block_is_refused),
        cmocka_unit_test(double_free_of_a_large_block_is_refused),
        cmocka_unit_test(free_of_a_never_allocated_block_inside_a_pool_is_refused),
        cmocka_unit_test(realloc_of_an_already_freed_block_is_refused),
        cmocka_unit_test(free_of_a_block_of_a_released_arena_is_refused),
        cmocka_unit_test(clear_error_empties_the_last_error),
        cmocka_unit_test(last_error_is_kept_per_thread),
        cmocka_unit_test(version_matches_the_header_macros),
        cmocka_unit_test(stats_count_blocks_per_class_exactly),
        cmocka_unit_test(stats_arena_and_pool_counters_agree),
        cmocka_unit_test(get_malloc_stats_of_null_fails),
        cmocka_unit_test(print_malloc_stats_writes_a_row_per_used_class_and_the_arena_totals),
        cmocka_unit_test(print_malloc_stats_to_null_fails),
        cmocka_unit_test(print_malloc_stats_reports_a_failed_write),
        cmocka_unit_test(allocator_mode_is_pymalloc_by_default),
        cmocka_unit_test(set_allocator_mode_after_an_allocation_is_refused),
        cmocka_unit_test(set_allocator_mode_rejects_unknown_names_and_null),
        cmocka_unit_test(allocated_blocks_count_pool_and_large_blocks),
    };
    return PA_RUN_TESTS(tests, argc, argv);
}
