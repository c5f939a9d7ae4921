/* test_debug_hooks.c -- section 11 of pyalloc.h: CPython's debug hooks.

   Every case runs twice under CTest: test_debug_hooks.<case> with
   PYALLOC_MALLOC=debug (the hooks over pymalloc's pools) and
   test_debug_hooks.malloc_debug.<case> with PYALLOC_MALLOC=malloc_debug (over
   the system allocator); the off_* cases run with the hooks off (pymalloc,
   and malloc).  Where the two debug modes differ (a freed pool block can
   still be shown, a freed malloc block cannot) the case says so.

   - The layout around a block p of n bytes: p[-16..-9] n big-endian, p[-8]
     the API id 'm', p[-7..-1] 0xFD, the data 0xCD (calloc: 0), p[n..n+7]
     0xFD, p[n+8..n+15] the serial number big-endian, one more per debug
     malloc/realloc.  These bytes belong to the block's raw allocation, so
     reading them is legal; freed memory is only looked at through the
     report of a double free, which shows it when it is still a free block
     of one of PyAlloc's pools.
   - Each detection (overflow, underflow, a damaged size, double free, an
     object freed with pa_free, foreign and interior pointers) through a
     handler set with pa_set_fatal_error_handler, with the report's lines in
     CPython's words; a handler that returns leaves the block alone.
   - The default handler prints the report and aborts: the case runs this
     program again as a child (--abort-helper) and reads its stderr.
   - The allocation traceback in the report while tracemalloc traces. */
#define _GNU_SOURCE
#include "test_util.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define countof(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------- helpers */

static bool pool_mode(void)
{
    return strcmp(pa_get_allocator_mode(), "debug") == 0;
}

static uint64_t read_be(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t serial_of(const void *p, size_t n)
{
    return read_be((const unsigned char *)p + n + 8);
}

/* The whole debug block around p (n bytes, API id api) is laid out as it
   should be; data is 0xCD, or 0 when zeroed. */
static void assert_layout(const void *block, size_t n, char api, bool zeroed)
{
    const unsigned char *p = block;
    assert_int_equal((uintptr_t)p % PA_ALIGNMENT, 0);
    if (read_be(p - 16) != n)
        fail_msg("block %p: size field %llu, requested %zu", block, (unsigned long long)read_be(p - 16), n);
    assert_int_equal(p[-8], (unsigned char)api);
    for (int i = 1; i <= 7; i++)
        if (p[-i] != 0xFD)
            fail_msg("block %p: leading pad byte p-%d is 0x%02x", block, i, p[-i]);
    for (size_t i = 0; i < n; i++)
        if (p[i] != (zeroed ? 0x00 : 0xCD))
            fail_msg("block %p: data byte %zu is 0x%02x", block, i, p[i]);
    for (size_t i = 0; i < 8; i++)
        if (p[n + i] != 0xFD)
            fail_msg("block %p: trailing pad byte tail+%zu is 0x%02x", block, i, p[n + i]);
    assert_true(serial_of(p, n) > 0);
}

/* The last report has this whole line (printf-style). */
static void assert_report_line(const char *fmt, ...)
{
    char line[512], needle[520];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    const char *r = pa_test_seen.last;
    size_t len = strlen(line);
    if (strncmp(r, line, len) == 0 && (r[len] == '\n' || r[len] == '\0'))
        return;
    snprintf(needle, sizeof needle, "\n%s", line);
    for (const char *at = strstr(r, needle); at != NULL; at = strstr(at + 1, needle))
        if (at[len + 1] == '\n' || at[len + 1] == '\0')
            return;
    fail_msg("the report has no line \"%s\":\n%s", line, r);
}

/* The last report's last line: "Fatal PyAlloc error: function: reason". */
static void assert_report_ends(const char *function, const char *reason)
{
    char last[512];
    snprintf(last, sizeof last, "Fatal PyAlloc error: %s: %s", function, reason);
    const char *nl = strrchr(pa_test_seen.last, '\n');
    const char *tail = nl ? nl + 1 : pa_test_seen.last;
    if (strcmp(tail, last) != 0)
        fail_msg("the report ends with \"%s\", expected \"%s\":\n%s", tail, last, pa_test_seen.last);
}

static void assert_report_lacks(const char *text)
{
    if (strstr(pa_test_seen.last, text) != NULL)
        fail_msg("the report says \"%s\":\n%s", text, pa_test_seen.last);
}

static size_t blocks_in_use(void)
{
    pa_malloc_stats st = pa_stats_now();
    return pa_stats_blocks_in_use(&st) + st.large_blocks;
}

/* A type of non-GC objects of basicsize bytes. */
static pa_type *plain_type(pa_runtime *rt, const char *name, size_t basicsize)
{
    pa_type_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.name = name;
    spec.basicsize = basicsize;
    pa_type *t = pa_type_new(rt, &spec);
    assert_non_null(t);
    return t;
}

/* ---------------------------------------------------------------- layout */

static void mode_is_the_debug_mode_asked_for(void **state)
{
    (void)state;
    const char *env = getenv("PYALLOC_MALLOC");
    assert_non_null(env);
    assert_string_equal(pa_get_allocator_mode(), env);
    void *p = pa_malloc(1);
    assert_non_null(p);
    assert_string_equal(pa_get_allocator_mode(), env);
    pa_free(p);
}

static void fresh_blocks_are_cleanbyte_between_forbidden_pads(void **state)
{
    (void)state;
    static const size_t sizes[] = {0, 1, 7, 8, 16, 24, 100, 479, 480, 481, 512, 5000, 100000};
    void *blocks[countof(sizes)];
    for (size_t i = 0; i < countof(sizes); i++) {
        blocks[i] = pa_malloc(sizes[i]);
        assert_non_null(blocks[i]);
        assert_layout(blocks[i], sizes[i], 'm', false);
        assert_int_equal(pa_debug_check_block(blocks[i]), 0);
    }
    pa_test_catch_reports();
    pa_clear_error();
    for (size_t i = 0; i < countof(blocks); i++)
        pa_free(blocks[i]);
    assert_int_equal(pa_test_seen.count, 0);
    assert_string_equal(pa_last_error(), "");
}

static void calloc_zeroes_the_data_and_lays_out_the_rest(void **state)
{
    (void)state;
    /* Dirty a block first so that a reused one would show. */
    unsigned char *d = pa_malloc(200);
    memset(d, 0x77, 200);
    pa_free(d);
    static const size_t shapes[][2] = {{0, 8}, {1, 1}, {25, 8}, {10, 48}, {1, 5000}};
    for (size_t i = 0; i < countof(shapes); i++) {
        size_t n = shapes[i][0] * shapes[i][1];
        void *p = pa_calloc(shapes[i][0], shapes[i][1]);
        assert_non_null(p);
        assert_layout(p, n, 'm', true);
        pa_free(p);
    }
}

static void serial_numbers_increase_by_one_per_debug_malloc_and_realloc(void **state)
{
    (void)state;
    unsigned char *a = pa_malloc(10);
    unsigned char *b = pa_calloc(3, 3);
    unsigned char *c = pa_malloc(5000);
    uint64_t sa = serial_of(a, 10), sb = serial_of(b, 9), sc = serial_of(c, 5000);
    assert_int_equal(sb, sa + 1);
    assert_int_equal(sc, sb + 1);
    /* A realloc makes a new block, in place or not: the next number. */
    unsigned char *a2 = pa_realloc(a, 12);
    assert_non_null(a2);
    assert_int_equal(serial_of(a2, 12), sc + 1);
    unsigned char *c2 = pa_realloc(c, 9000);
    assert_non_null(c2);
    assert_int_equal(serial_of(c2, 9000), sc + 2);
    /* The report names it. */
    pa_test_catch_reports();
    a2[12] = 'X';
    assert_int_equal(pa_debug_check_block(a2), -1);
    assert_report_line("    The block was made by call #%llu to debug malloc/realloc.", (unsigned long long)(sc + 1));
    a2[12] = 0xFD;
    pa_free(a2);
    pa_free(b);
    pa_free(c2);
}

static void realloc_keeps_the_contents_and_fills_the_new_tail_with_cleanbyte(void **state)
{
    (void)state;
    static const size_t steps[] = {10, 20, 40, 100, 300, 470, 600, 5000, 100, 3, 0, 64};
    unsigned char *p = pa_malloc(4);
    assert_non_null(p);
    memcpy(p, "abcd", 4);
    size_t old = 4;
    for (size_t i = 0; i < countof(steps); i++) {
        size_t n = steps[i];
        unsigned char *q = pa_realloc(p, n);
        if (q == NULL)
            fail_msg("pa_realloc(%zu -> %zu) = NULL: %s", old, n, pa_last_error());
        size_t keep = old < n ? old : n;
        for (size_t k = 0; k < keep; k++)
            if (q[k] != (k < 4 ? (unsigned char)"abcd"[k] : (unsigned char)(0x40 + k % 64)))
                fail_msg("realloc %zu -> %zu: byte %zu lost", old, n, k);
        for (size_t k = keep; k < n; k++)
            if (q[k] != 0xCD)
                fail_msg("realloc %zu -> %zu: new byte %zu is 0x%02x, not CLEANBYTE", old, n, k, q[k]);
        assert_int_equal(read_be(q - 16), n);
        assert_int_equal(q[-8], 'm');
        for (size_t k = 0; k < 8; k++)
            assert_int_equal(q[n + k], 0xFD);
        assert_int_equal(pa_debug_check_block(q), 0);
        assert_int_equal(pa_usable_size(q), n);
        for (size_t k = keep; k < n; k++)
            q[k] = k < 4 ? (unsigned char)"abcd"[k] : (unsigned char)(0x40 + k % 64);
        p = q;
        old = n;
    }
    pa_free(p);
}

static void realloc_in_place_follows_pymallocs_rule_on_the_raw_block(void **state)
{
    (void)state;
    /* 100 bytes: a raw block of 132, class 144.  Growing to 112 (raw 144)
       stays; shrinking to 80 (raw 112 > 3/4 of 144) stays; to 60 (raw 92)
       moves.  Over malloc every resize moves. */
    unsigned char *p = pa_malloc(100);
    unsigned char *q = pa_realloc(p, 112);
    assert_non_null(q);
    assert_true(pool_mode() ? q == p : q != p);
    unsigned char *r = pa_realloc(q, 80);
    assert_non_null(r);
    assert_true(pool_mode() ? r == q : r != q);
    unsigned char *s = pa_realloc(r, 60);
    assert_non_null(s);
    assert_ptr_not_equal(s, r);
    assert_layout(s, 60, 'm', false);
    pa_free(s);
}

static void usable_size_is_the_size_requested(void **state)
{
    (void)state;
    static const size_t sizes[] = {1, 15, 16, 17, 100, 480, 481, 4096, 70000};
    for (size_t i = 0; i < countof(sizes); i++) {
        void *p = pa_malloc(sizes[i]);
        assert_int_equal(pa_usable_size(p), sizes[i]);
        pa_free(p);
    }
    /* 0 bytes: 0, with no error (an error gives 0 too, with pa_last_error set). */
    void *z = pa_malloc(0);
    pa_clear_error();
    assert_int_equal(pa_usable_size(z), 0);
    assert_string_equal(pa_last_error(), "");
    pa_free(z);
}

static void objects_are_debug_blocks_of_api_o(void **state)
{
    (void)state;
    pa_runtime *rt = pa_runtime_new();
    assert_non_null(rt);
    pa_type *small = plain_type(rt, "small", 24);
    pa_type *big = plain_type(rt, "big", 1000);
    pa_object *o = pa_object_new(small);
    pa_object *b = pa_object_new(big);
    assert_non_null(o);
    assert_non_null(b);
    /* The object follows its 16-byte GC head, which starts the data. */
    const unsigned char *data = (const unsigned char *)o - 16;
    assert_int_equal(read_be(data - 16), 16 + 24);
    assert_int_equal(data[-8], 'o');
    for (int i = 1; i <= 7; i++)
        assert_int_equal(data[-i], 0xFD);
    for (int i = 0; i < 8; i++)
        assert_int_equal(data[16 + 24 + i], 0xFD);
    assert_int_equal(pa_debug_check_block(o), 0);
    assert_int_equal(pa_debug_check_block(b), 0);
    pa_object *list = pa_list_new(rt);
    for (int i = 0; i < 100; i++)
        assert_int_equal(pa_list_append(list, o), 0);
    assert_int_equal(pa_debug_check_block(list), 0);
    pa_test_catch_reports();
    pa_decref(list);
    pa_decref(o);
    pa_decref(b);
    assert_int_equal(pa_test_seen.count, 0);
    pa_runtime_free(rt);
}

/* ------------------------------------------------------------- detections */

static void overflow_is_reported_on_free_and_the_block_kept(void **state)
{
    (void)state;
    unsigned char *p = pa_malloc(24);
    assert_non_null(p);
    memset(p, 0x41, 24);
    uint64_t serial = serial_of(p, 24);
    size_t before = blocks_in_use();
    p[24] = 0x00; /* one byte too far */

    pa_test_catch_reports();
    pa_clear_error();
    pa_free(p);
    PA_ASSERT_REPORTED(1, "bad trailing pad byte");
    assert_report_line("Debug memory block at address p=%p: API 'm'", (void *)p);
    assert_report_line("    24 bytes originally requested");
    assert_report_line("    The 7 pad bytes at p-7 are FORBIDDENBYTE, as expected.");
    assert_report_line("    The 8 pad bytes at tail=%p are not all FORBIDDENBYTE (0xfd):", (void *)(p + 24));
    assert_report_line("        at tail+0: 0x00 *** OUCH");
    assert_report_line("        at tail+1: 0xfd");
    assert_report_line("        at tail+7: 0xfd");
    assert_report_line("    The block was made by call #%llu to debug malloc/realloc.", (unsigned long long)serial);
    assert_report_line("    Data at p: 41 41 41 41 41 41 41 41 ... 41 41 41 41 41 41 41 41");
    assert_report_line("Enable tracemalloc to get the memory block allocation traceback");
    assert_report_ends("pa_free", "bad trailing pad byte");
    PA_ASSERT_ERROR_MENTIONS("pa_free: bad trailing pad byte");

    /* The handler returned: nothing was freed. */
    assert_int_equal(blocks_in_use(), before);
    assert_int_equal(p[0], 0x41);
    p[24] = 0xFD; /* repaired, it frees cleanly */
    pa_free(p);
    assert_int_equal(pa_test_seen.count, 1);
    assert_int_equal(blocks_in_use(), before - 1);
}

static void underflow_is_reported_on_free(void **state)
{
    (void)state;
    unsigned char *p = pa_malloc(5);
    assert_non_null(p);
    memcpy(p, "hello", 5);
    p[-3] = 0x00;
    pa_test_catch_reports();
    pa_free(p);
    PA_ASSERT_REPORTED(1, "bad leading pad byte");
    assert_report_line("Debug memory block at address p=%p: API 'm'", (void *)p);
    assert_report_line("    5 bytes originally requested");
    assert_report_line("    The 7 pad bytes at p-7 are not all FORBIDDENBYTE (0xfd):");
    assert_report_line("        at p-7: 0xfd");
    assert_report_line("        at p-3: 0x00 *** OUCH");
    assert_report_line("        at p-1: 0xfd");
    assert_report_line("    The 8 pad bytes at tail=%p are FORBIDDENBYTE, as expected.", (void *)(p + 5));
    assert_report_line("    Data at p: 68 65 6c 6c 6f");
    assert_report_ends("pa_free", "bad leading pad byte");
    p[-3] = 0xFD;
    pa_free(p);
    assert_int_equal(pa_test_seen.count, 1);
}

static void a_damaged_size_field_is_reported_without_reading_past_the_block(void **state)
{
    (void)state;
    /* The pads are intact but the size says 2^62 bytes: following it would
       read far outside the block.  The report says so and reads nothing there. */
    unsigned char *p = pa_malloc(40);
    assert_non_null(p);
    p[-16] = 0x40;
    pa_test_catch_reports();
    assert_int_equal(pa_debug_check_block(p), -1);
    PA_ASSERT_REPORTED(1, "bad size");
    assert_report_line("    4611686018427387944 bytes originally requested");
    assert_report_lacks("tail=");
    assert_report_ends("pa_debug_check_block", "bad size: the count of bytes requested was overwritten");
    pa_clear_error();
    assert_int_equal(pa_usable_size(p), 0);
    PA_ASSERT_ERROR_SET();
    p[-16] = 0x00;
    assert_int_equal(pa_debug_check_block(p), 0);
    pa_free(p);
    assert_int_equal(pa_test_seen.count, 1);
}

static void double_free_is_reported(void **state)
{
    (void)state;
    static const size_t sizes[] = {24, 3000};
    for (size_t i = 0; i < countof(sizes); i++) {
        size_t n = sizes[i];
        unsigned char *keep = pa_malloc(n); /* the pool stays carved */
        unsigned char *p = pa_malloc(n);
        assert_non_null(p);
        uint64_t serial = serial_of(p, n);
        pa_free(p);
        size_t before = blocks_in_use();

        pa_test_catch_reports();
        pa_clear_error();
        pa_free(p);
        PA_ASSERT_REPORTED(1, "double free");
        assert_report_line("Debug memory block at address p=%p: API 'm'", (void *)p);
        assert_report_line("    %zu bytes originally requested", n);
        assert_report_line("    The block was made by call #%llu to debug malloc/realloc.", (unsigned long long)serial);
        assert_report_line("    It was freed already: it is not a live block any more.");
        if (pool_mode() && n + 32 <= PA_SMALL_REQUEST_THRESHOLD)
            /* Still a free block of one of our pools: its data shows DEADBYTE. */
            assert_report_line("    Data at p: dd dd dd dd dd dd dd dd ... dd dd dd dd dd dd dd dd");
        else
            assert_report_line("    Its memory went back to the allocator underneath and was not read.");
        assert_report_ends("pa_free", "double free: the block was already freed");
        PA_ASSERT_ERROR_MENTIONS("double free");
        assert_int_equal(blocks_in_use(), before);

        /* pa_realloc and pa_debug_check_block say the same. */
        assert_null(pa_realloc(p, 10));
        assert_report_ends("pa_realloc", "double free: the block was already freed");
        assert_int_equal(pa_debug_check_block(p), -1);
        assert_report_ends("pa_debug_check_block", "double free: the block was already freed");
        assert_int_equal(pa_test_seen.count, 3);
        pa_free(keep);
    }
}

static void an_object_freed_with_pa_free_is_a_wrong_api(void **state)
{
    (void)state;
    pa_runtime *rt = pa_runtime_new();
    assert_non_null(rt);
    pa_type *small = plain_type(rt, "small", 32);
    pa_type *big = plain_type(rt, "big", 2000);
    pa_object *objects[] = {pa_object_new(small), pa_object_new(big), pa_list_new(rt)};
    for (size_t i = 0; i < countof(objects); i++) {
        assert_non_null(objects[i]);
        pa_test_catch_reports();
        pa_clear_error();
        pa_free(objects[i]);
        PA_ASSERT_REPORTED(1, "bad ID");
        /* p is the block's data: the GC head in front of the object. */
        assert_report_line("Debug memory block at address p=%p: API 'o'", (void *)((char *)objects[i] - 16));
        assert_report_line("    The 7 pad bytes at p-7 are FORBIDDENBYTE, as expected.");
        assert_report_ends("pa_free", "bad ID: Allocated using API 'o', verified using API 'm'");
        PA_ASSERT_ERROR_MENTIONS("bad ID");
        /* Refused: the object lives on and dies normally. */
        assert_int_equal(pa_refcnt(objects[i]), 1);
        assert_int_equal(pa_debug_check_block(objects[i]), 0);
        pa_decref(objects[i]);
        assert_int_equal(pa_test_seen.count, 1);
    }
    /* pa_realloc too. */
    pa_object *o = pa_object_new(small);
    pa_test_catch_reports();
    assert_null(pa_realloc(o, 100));
    assert_report_ends("pa_realloc", "bad ID: Allocated using API 'o', verified using API 'm'");
    assert_int_equal(pa_refcnt(o), 1);
    pa_decref(o);
    assert_int_equal(pa_test_seen.count, 1);
    pa_runtime_free(rt);
}

static void an_object_overflow_is_reported_when_it_dies(void **state)
{
    (void)state;
    pa_runtime *rt = pa_runtime_new();
    assert_non_null(rt);
    static const size_t basicsizes[] = {24, 1000};
    for (size_t i = 0; i < countof(basicsizes); i++) {
        pa_type *t = plain_type(rt, "overflowing", basicsizes[i]);
        pa_object *o = pa_object_new(t);
        assert_non_null(o);
        ((unsigned char *)o)[basicsizes[i] + 2] = 0x00; /* past the object */
        pa_test_catch_reports();
        assert_int_equal(pa_debug_check_block(o), -1);
        assert_report_line("Debug memory block at address p=%p: API 'o'", (void *)((char *)o - 16));
        assert_report_line("    %zu bytes originally requested", 16 + basicsizes[i]);
        assert_report_line("        at tail+2: 0x00 *** OUCH");
        assert_report_ends("pa_debug_check_block", "bad trailing pad byte");
        pa_decref(o); /* its memory is checked as it is released */
        PA_ASSERT_REPORTED(2, "API 'o'");
        assert_report_ends("object free", "bad trailing pad byte");
    }
    pa_runtime_free(rt);
}

static void foreign_and_interior_pointers_are_reported_without_reading_around_them(void **state)
{
    (void)state;
    /* p - 16 in a page that cannot be read: the hooks must not touch it. */
    long page = sysconf(_SC_PAGESIZE);
    unsigned char *map = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(map != MAP_FAILED);
    assert_int_equal(mprotect(map, (size_t)page, PROT_NONE), 0);
    char stack[64];
    unsigned char *glibc = malloc(64);
    unsigned char *mine = pa_malloc(100);
    unsigned char *large = pa_malloc(6000);
    void *foreign[] = {map + page, stack + 32, glibc, mine + 16, mine + 1, mine + 96, large + 16, (void *)0x40};
    size_t before = blocks_in_use();
    for (size_t i = 0; i < countof(foreign); i++) {
        pa_test_catch_reports();
        pa_clear_error();
        pa_free(foreign[i]);
        PA_ASSERT_REPORTED(1, "bad pointer");
        assert_report_line("Debug memory block at address p=%p: not a live block", foreign[i]);
        assert_report_ends("pa_free", "bad pointer: not a live block of PyAlloc's debug allocator");
        PA_ASSERT_ERROR_MENTIONS("bad pointer");
        assert_null(pa_realloc(foreign[i], 8));
        assert_report_ends("pa_realloc", "bad pointer: not a live block of PyAlloc's debug allocator");
        assert_int_equal(pa_debug_check_block(foreign[i]), -1);
        assert_report_ends("pa_debug_check_block", "bad pointer: not a live block of PyAlloc's debug allocator");
        pa_clear_error();
        assert_int_equal(pa_usable_size(foreign[i]), 0);
        PA_ASSERT_ERROR_SET();
        assert_int_equal(pa_test_seen.count, 3);
    }
    assert_int_equal(blocks_in_use(), before);
    assert_int_equal(pa_debug_check_block(mine), 0);
    pa_free(mine);
    pa_free(large);
    free(glibc);
    munmap(map, (size_t)page * 2);
}

static void realloc_of_a_damaged_block_returns_null_and_keeps_it(void **state)
{
    (void)state;
    unsigned char *p = pa_malloc(50);
    memset(p, 0x11, 50);
    p[55] = 0x00;
    pa_test_catch_reports();
    pa_clear_error();
    assert_null(pa_realloc(p, 500));
    PA_ASSERT_REPORTED(1, "        at tail+5: 0x00 *** OUCH");
    assert_report_ends("pa_realloc", "bad trailing pad byte");
    PA_ASSERT_ERROR_MENTIONS("pa_realloc: bad trailing pad byte");
    for (int i = 0; i < 50; i++)
        assert_int_equal(p[i], 0x11);
    p[55] = 0xFD;
    unsigned char *q = pa_realloc(p, 500);
    assert_non_null(q);
    assert_int_equal(q[49], 0x11);
    pa_free(q);
    assert_int_equal(pa_test_seen.count, 1);
}

static void a_damaged_id_is_reported_as_cpython_does(void **state)
{
    (void)state;
    unsigned char *p = pa_malloc(8);
    p[-8] = 'x';
    pa_test_catch_reports();
    pa_free(p);
    assert_report_line("Debug memory block at address p=%p: API 'x'", (void *)p);
    assert_report_ends("pa_free", "bad ID: Allocated using API 'x', verified using API 'm'");
    p[-8] = 0xDD;
    assert_int_equal(pa_debug_check_block(p), -1);
    assert_report_line("Debug memory block at address p=%p: API '\\xdd'", (void *)p);
    p[-8] = 'm';
    pa_free(p);
    assert_int_equal(pa_test_seen.count, 2);
}

static void check_block_of_null_is_an_error_not_a_report(void **state)
{
    (void)state;
    pa_test_catch_reports();
    pa_clear_error();
    assert_int_equal(pa_debug_check_block(NULL), -1);
    PA_ASSERT_ERROR_MENTIONS("pa_debug_check_block");
    assert_int_equal(pa_test_seen.count, 0);
}

static void the_allocator_stays_consistent_after_reports(void **state)
{
    (void)state;
    enum { N = 300 };
    static unsigned char *blocks[N];
    pa_test_catch_reports();
    for (int i = 0; i < N; i++) {
        size_t n = (size_t)(i * 7) % 700;
        blocks[i] = pa_malloc(n);
        assert_non_null(blocks[i]);
        if (i % 3 == 0)
            blocks[i][n] ^= 0x01; /* damaged: its free is refused */
    }
    for (int i = 0; i < N; i++)
        pa_free(blocks[i]);
    assert_int_equal(pa_test_seen.count, N / 3);
    pa_malloc_stats st = pa_stats_now();
    pa_assert_stats_consistent(&st);
    assert_int_equal(pa_stats_blocks_in_use(&st) + st.large_blocks, N / 3);
    for (int i = 0; i < N; i += 3) {
        blocks[i][(size_t)(i * 7) % 700] ^= 0x01;
        pa_free(blocks[i]);
    }
    assert_int_equal(pa_test_seen.count, N / 3);
    st = pa_stats_now();
    assert_int_equal(pa_stats_blocks_in_use(&st) + st.large_blocks, 0);
}

/* -------------------------------------------------------------- tracemalloc */

static void the_report_has_the_allocation_traceback_while_tracing(void **state)
{
    (void)state;
    unsigned char *untraced = pa_malloc(10);
    assert_int_equal(pa_tracemalloc_start(1), 0);
    int line = __LINE__ + 1;
    unsigned char *p = PA_MALLOC(10);
    assert_non_null(p);
    p[10] = 0;
    pa_test_catch_reports();
    pa_free(p);
    PA_ASSERT_REPORTED(1, "bad trailing pad byte");
    assert_report_line("Memory block allocated at (most recent call first):");
    assert_report_line("  File \"%s\", line %d", __FILE__, line);
    assert_report_lacks("Enable tracemalloc");
    /* pa_realloc's report has it too (issue 13), and the refused block keeps its trace. */
    pa_frame frame;
    assert_null(pa_realloc(p, 500));
    PA_ASSERT_REPORTED(2, "bad trailing pad byte");
    assert_report_ends("pa_realloc", "bad trailing pad byte");
    assert_report_line("Memory block allocated at (most recent call first):");
    assert_report_line("  File \"%s\", line %d", __FILE__, line);
    assert_report_lacks("Enable tracemalloc");
    /* The trace stays while the block does, and goes when it is freed. */
    assert_int_equal(pa_tracemalloc_get_traceback(p, &frame, 1), 1);
    p[10] = 0xFD;
    pa_free(p);
    assert_int_equal(pa_tracemalloc_get_traceback(p, &frame, 1), 0);

    /* A block allocated before tracing: neither a traceback nor the hint. */
    untraced[10] = 0;
    assert_int_equal(pa_debug_check_block(untraced), -1);
    assert_report_lacks("Memory block allocated at");
    assert_report_lacks("Enable tracemalloc");
    untraced[10] = 0xFD;
    pa_free(untraced);

    /* Objects are traced by their address; the report finds them too. */
    pa_runtime *rt = pa_runtime_new();
    pa_type *t = plain_type(rt, "traced", 24);
    int oline = __LINE__ + 1;
    pa_object *o = PA_OBJECT_NEW(t);
    ((unsigned char *)o)[24] = 0;
    assert_int_equal(pa_debug_check_block(o), -1);
    assert_report_line("  File \"%s\", line %d", __FILE__, oline);
    ((unsigned char *)o)[24] = 0xFD;
    pa_decref(o);
    pa_runtime_free(rt);
    assert_int_equal(pa_test_seen.count, 4);
    pa_tracemalloc_stop();
}

/* --------------------------------------------------------- default handler */

/* The child: do one bad thing with the default handler in place. */
static int abort_helper(const char *scenario)
{
    unsigned char *p = pa_malloc(16);
    if (strcmp(scenario, "overflow") == 0) {
        p[16] = 'X';
        pa_free(p);
    } else if (strcmp(scenario, "double_free") == 0) {
        pa_free(p);
        pa_free(p);
    } else if (strcmp(scenario, "handler_reset") == 0) {
        pa_test_catch_reports();
        pa_set_fatal_error_handler(NULL, NULL); /* back to the default */
        p[-1] = 0;
        pa_free(p);
    } else {
        fprintf(stderr, "abort_helper: unknown scenario %s\n", scenario);
        return 3;
    }
    printf("abort_helper: still alive after %s\n", scenario);
    return 0;
}

/* Runs this program as a child doing `scenario`; returns its wait status and
   what it wrote on stderr. */
static int run_helper(const char *scenario, char *err, size_t cap)
{
    int fd;
    pid_t pid = pa_test_fork_with_stderr(&fd);
    if (pid == 0) {
        execl("/proc/self/exe", "test_debug_hooks", "--abort-helper", scenario, (char *)NULL);
        _exit(127);
    }
    return pa_test_child_output(pid, fd, err, cap);
}

static void the_default_handler_prints_the_report_and_aborts(void **state)
{
    (void)state;
    static char err[65536];
    static const struct { const char *scenario, *reason; } cases[] = {
        {"overflow", "Fatal PyAlloc error: pa_free: bad trailing pad byte\n"},
        {"double_free", "Fatal PyAlloc error: pa_free: double free: the block was already freed\n"},
        {"handler_reset", "Fatal PyAlloc error: pa_free: bad leading pad byte\n"},
    };
    for (size_t i = 0; i < countof(cases); i++) {
        int status = run_helper(cases[i].scenario, err, sizeof err);
        if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT)
            fail_msg("%s: the child was not aborted (status 0x%x); stderr:\n%s", cases[i].scenario, status, err);
        if (strncmp(err, "Debug memory block at address p=", 32) != 0)
            fail_msg("%s: stderr does not start with the report:\n%s", cases[i].scenario, err);
        if (strstr(err, cases[i].reason) == NULL)
            fail_msg("%s: stderr lacks \"%s\":\n%s", cases[i].scenario, cases[i].reason, err);
    }
}

/* -------------------------------------------------------- with hooks off */

static void off_check_block_fails_with_an_error_when_the_hooks_are_off(void **state)
{
    (void)state;
    assert_false(pa_test_debug_hooks());
    void *p = pa_malloc(10);
    pa_test_catch_reports();
    pa_clear_error();
    assert_int_equal(pa_debug_check_block(p), -1);
    PA_ASSERT_ERROR_MENTIONS("debug hooks are not on");
    assert_int_equal(pa_test_seen.count, 0);
    pa_free(p);
    /* ... and nothing else reports: a foreign pointer is refused quietly. */
    char stack[32];
    pa_free(stack + 16);
    PA_ASSERT_ERROR_SET();
    assert_int_equal(pa_test_seen.count, 0);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--abort-helper") == 0)
        return abort_helper(argv[2]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mode_is_the_debug_mode_asked_for),
        cmocka_unit_test(fresh_blocks_are_cleanbyte_between_forbidden_pads),
        cmocka_unit_test(calloc_zeroes_the_data_and_lays_out_the_rest),
        cmocka_unit_test(serial_numbers_increase_by_one_per_debug_malloc_and_realloc),
        cmocka_unit_test(realloc_keeps_the_contents_and_fills_the_new_tail_with_cleanbyte),
        cmocka_unit_test(realloc_in_place_follows_pymallocs_rule_on_the_raw_block),
        cmocka_unit_test(usable_size_is_the_size_requested),
        cmocka_unit_test(objects_are_debug_blocks_of_api_o),
        cmocka_unit_test(overflow_is_reported_on_free_and_the_block_kept),
        cmocka_unit_test(underflow_is_reported_on_free),
        cmocka_unit_test(a_damaged_size_field_is_reported_without_reading_past_the_block),
        cmocka_unit_test(double_free_is_reported),
        cmocka_unit_test(an_object_freed_with_pa_free_is_a_wrong_api),
        cmocka_unit_test(an_object_overflow_is_reported_when_it_dies),
        cmocka_unit_test(foreign_and_interior_pointers_are_reported_without_reading_around_them),
        cmocka_unit_test(realloc_of_a_damaged_block_returns_null_and_keeps_it),
        cmocka_unit_test(a_damaged_id_is_reported_as_cpython_does),
        cmocka_unit_test(check_block_of_null_is_an_error_not_a_report),
        cmocka_unit_test(the_allocator_stays_consistent_after_reports),
        cmocka_unit_test(the_report_has_the_allocation_traceback_while_tracing),
        cmocka_unit_test(the_default_handler_prints_the_report_and_aborts),
        cmocka_unit_test(off_check_block_fails_with_an_error_when_the_hooks_are_off),
    };
    return PA_RUN_TESTS(tests, argc, argv);
}
