/* test_callsites.c -- call sites (section 10 of pyalloc.h) and the traces of
   objects:

   - the PA_ macros and the _at forms record the file and line they name;
   - a plain pa_malloc & co. is attributed to its caller: this file is built
     with -g, and addr2line turns the return address into this file and the
     line of the call;
   - with nframe > 1 the native frames above follow, most recent first (a
     chain a() -> b() -> pa_malloc), and a named site stands for its caller;
   - realloc re-attributes the block to the realloc's site; a realloc that
     moves the block forgets the old address;
   - pa_tracemalloc_get_traceback for blocks and objects, and for blocks that
     are not traced;
   - objects are traced with their whole size (GC head included, as
     pa_count_objects_by_type counts them), and their traces go when they
     die: by count, by collection, or with their runtime. */
#include "test_tracing.h"

static pa_runtime *g_rt;
static pa_type *g_node;
static pa_type *g_var;     /* non-GC, variable-sized: items of 8 bytes */

static int setup(void **state)
{
    (void)state;
    ev_reset();
    pa_clear_error();
    g_rt = new_runtime();
    g_node = node_type(g_rt);
    pa_type_spec spec = {0};
    spec.name = "var";
    spec.basicsize = sizeof(pa_var_object);
    spec.itemsize = 8;
    g_var = pa_type_new(g_rt, &spec);
    assert_non_null(g_var);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    pa_tracemalloc_stop();
    pa_runtime_free(g_rt);
    g_rt = NULL;
    return 0;
}

#define THIS_FILE "test_callsites.c"

/* The frame names this file (as addr2line spells it) at line. */
#define ASSERT_FRAME_HERE(frame, line)                                                       \
    do {                                                                                     \
        const pa_frame f_ = (frame);                                                         \
        if (!ends_with(f_.filename, THIS_FILE) || f_.lineno != (line))                       \
            fail_msg("frame %s:%d, expected %s:%d", f_.filename ? f_.filename : "(null)",    \
                     f_.lineno, THIS_FILE, (int)(line));                                     \
    } while (0)

#define ASSERT_FRAME(frame, file, line)                                                      \
    do {                                                                                     \
        const pa_frame f_ = (frame);                                                         \
        if (f_.filename == NULL || strcmp(f_.filename, (file)) != 0 || f_.lineno != (line))  \
            fail_msg("frame %s:%d, expected %s:%d", f_.filename ? f_.filename : "(null)",    \
                     f_.lineno, (file), (int)(line));                                        \
    } while (0)

/* The one frame of a block traced with nframe 1. */
static pa_frame only_frame(const void *block)
{
    pa_frame f[4];
    int n = traceback_of(block, f, 4);
    if (n != 1)
        fail_msg("the block has %d frames, expected 1", n);
    return f[0];
}

/* census bytes of the type named name, or (size_t)-1. */
static size_t census_bytes(pa_runtime *rt, const char *name, size_t *count)
{
    pa_type_count rows[16];
    size_t n = pa_count_objects_by_type(rt, rows, 16);
    assert_true(n <= 16);
    for (size_t i = 0; i < n; i++)
        if (strcmp(rows[i].name, name) == 0) {
            if (count != NULL)
                *count = rows[i].count;
            return rows[i].bytes;
        }
    return (size_t)-1;
}

/* ------------------------------------------------------- named call sites */

static void macros_record_file_and_line(void **state)
{
    (void)state;
    start_tracing(1);
    int l1 = __LINE__; void *m = PA_MALLOC(10);
    int l2 = __LINE__; void *c = PA_CALLOC(2, 5);
    void *r0 = PA_MALLOC(10);
    int l3 = __LINE__; void *r = PA_REALLOC(r0, 20);
    int l4 = __LINE__; pa_object *o = PA_OBJECT_NEW(g_node);
    int l5 = __LINE__; pa_object *v = PA_OBJECT_NEW_VAR(g_var, 3);
    int l6 = __LINE__; pa_object *l = PA_LIST_NEW(g_rt);
    assert_true(m && c && r && o && v && l);

    ASSERT_FRAME(only_frame(m), __FILE__, l1);
    ASSERT_FRAME(only_frame(c), __FILE__, l2);
    ASSERT_FRAME(only_frame(r), __FILE__, l3);
    ASSERT_FRAME(only_frame(o), __FILE__, l4);
    ASSERT_FRAME(only_frame(v), __FILE__, l5);
    ASSERT_FRAME(only_frame(l), __FILE__, l6);
    assert_int_equal(((pa_var_object *)v)->ob_size, 3);

    pa_snapshot *s = take();
    pa_statistic *st;
    size_t n = all_stats(s, PA_STAT_LINENO, &st);
    assert_int_equal(n, 6);
    const struct { int line; size_t size; } want[] = {
        {l1, 10}, {l2, 10}, {l3, 20},
        {l4, census_bytes(g_rt, "node", NULL)},
        {l5, census_bytes(g_rt, "var", NULL)},
        {l6, census_bytes(g_rt, "list", NULL)},
    };
    for (size_t i = 0; i < countof(want); i++) {
        int k = find_stat(st, n, __FILE__, want[i].line);
        if (k < 0)
            fail_msg("no statistic for line %d", want[i].line);
        assert_int_equal(st[k].size, want[i].size);
        assert_int_equal(st[k].count, 1);
    }
    free(st);
    pa_snapshot_free(s);
    pa_free(m);
    pa_free(c);
    pa_free(r);
    pa_decref(o);
    pa_decref(v);
    pa_decref(l);
    ASSERT_TRACED(0, traced_peak());
}

static void at_forms_record_the_site_they_are_given(void **state)
{
    (void)state;
    start_tracing(1);
    void *m = pa_malloc_at(1, "one.c", 11);
    void *c = pa_calloc_at(1, 2, "two.c", 22);
    void *r = pa_realloc_at(NULL, 3, "three.c", 33);
    pa_object *o = pa_object_new_at(g_node, "four.c", 44);
    pa_object *v = pa_object_new_var_at(g_var, 0, "five.c", 55);
    pa_object *l = pa_list_new_at(g_rt, "six.c", 66);
    void *z = pa_malloc_at(4, "zero.c", 0);
    void *u = pa_malloc_at(5, "/an/absolute/path/with spaces/ü.c", 123456);
    assert_true(m && c && r && o && v && l && z && u);
    ASSERT_FRAME(only_frame(m), "one.c", 11);
    ASSERT_FRAME(only_frame(c), "two.c", 22);
    ASSERT_FRAME(only_frame(r), "three.c", 33);
    ASSERT_FRAME(only_frame(o), "four.c", 44);
    ASSERT_FRAME(only_frame(v), "five.c", 55);
    ASSERT_FRAME(only_frame(l), "six.c", 66);
    ASSERT_FRAME(only_frame(z), "zero.c", 0);
    ASSERT_FRAME(only_frame(u), "/an/absolute/path/with spaces/ü.c", 123456);

    pa_snapshot *s = take();
    pa_statistic *st;
    size_t n = all_stats(s, PA_STAT_LINENO, &st);
    int k = find_stat(st, n, "/an/absolute/path/with spaces/ü.c", 123456);
    assert_true(k >= 0);
    assert_string_equal(fmt_stat(&st[k]), "/an/absolute/path/with spaces/ü.c:123456: size=5 B, count=1, average=5 B");
    free(st);
    pa_snapshot_free(s);
    pa_free(m);
    pa_free(c);
    pa_free(r);
    pa_free(z);
    pa_free(u);
    pa_decref(o);
    pa_decref(v);
    pa_decref(l);
}

/* The _at forms fail as the plain calls do, and a failure leaves no trace. */
static void at_forms_fail_as_the_plain_calls_and_leave_no_trace(void **state)
{
    (void)state;
    start_tracing(1);
    pa_clear_error();
    assert_null(pa_calloc_at((size_t)1 << 62, 8, "bad.c", 1));
    PA_ASSERT_ERROR_MENTIONS("overflow");
    pa_clear_error();
    assert_null(pa_malloc_at((size_t)-1 / 2 + 1, "bad.c", 2));
    PA_ASSERT_ERROR_SET();
    pa_clear_error();
    assert_null(pa_object_new_at(NULL, "bad.c", 3));
    PA_ASSERT_ERROR_SET();
    pa_clear_error();
    assert_null(pa_object_new_var_at(g_node, 2, "bad.c", 4));   /* node has no items */
    PA_ASSERT_ERROR_SET();
    pa_clear_error();
    assert_null(pa_list_new_at(NULL, "bad.c", 5));
    PA_ASSERT_ERROR_SET();
    void *p = pa_malloc_at(8, "ok.c", 1);
    pa_clear_error();
    assert_null(pa_realloc_at(p, (size_t)-1 / 2 + 1, "bad.c", 6));
    PA_ASSERT_ERROR_SET();
    ASSERT_FRAME(only_frame(p), "ok.c", 1);       /* p untouched, still traced where it was */
    ASSERT_TRACED(8, 8);
    pa_snapshot *s = take();
    assert_int_equal(pa_snapshot_trace_count(s), 1);
    pa_snapshot_free(s);
    pa_free(p);
}

/* A C file name is bytes: a name that is not UTF-8 (a Latin-1 path) is kept
   byte for byte in snapshots as in get_traceback, and a filter tells it from
   a different byte. */
static void at_form_file_names_are_kept_byte_for_byte(void **state)
{
    (void)state;
    start_tracing(1);
    void *p = pa_malloc_at(5, "caf\xe9.c", 1);
    ASSERT_FRAME(only_frame(p), "caf\xe9.c", 1);
    pa_snapshot *s = take();
    pa_statistic *st;
    assert_int_equal(all_stats(s, PA_STAT_LINENO, &st), 1);
    if (strcmp(st[0].filename, "caf\xe9.c") != 0) {
        char hex[64] = "";
        for (const unsigned char *c = (const unsigned char *)st[0].filename; *c && strlen(hex) < 56; c++)
            snprintf(hex + strlen(hex), sizeof hex - strlen(hex), "%02x ", *c);
        fail_msg("the snapshot names the site [%s], the program named it [63 61 66 e9 2e 63]", hex);
    }
    free(st);
    pa_snapshot *other = pa_snapshot_filter(s, 1, "caf\xe8.c", 0);
    assert_non_null(other);
    assert_int_equal(pa_snapshot_trace_count(other), 0);
    pa_snapshot_free(other);
    pa_snapshot_free(s);
    pa_free(p);
}

/* ----------------------------------------------- plain calls: the caller */

static void plain_calls_are_attributed_to_their_callers_line(void **state)
{
    (void)state;
    void *r0 = pa_malloc(10);                     /* before tracing */
    start_tracing(1);
    int l1 = __LINE__; void *m = pa_malloc(10);
    int l2 = __LINE__; void *c = pa_calloc(3, 4);
    int l3 = __LINE__; void *r = pa_realloc(r0, 700);
    int l4 = __LINE__; pa_object *o = pa_object_new(g_node);
    int l5 = __LINE__; pa_object *v = pa_object_new_var(g_var, 2);
    int l6 = __LINE__; pa_object *l = pa_list_new(g_rt);
    assert_true(m && c && r && o && v && l);
    ASSERT_FRAME_HERE(only_frame(m), l1);
    ASSERT_FRAME_HERE(only_frame(c), l2);
    ASSERT_FRAME_HERE(only_frame(r), l3);
    ASSERT_FRAME_HERE(only_frame(o), l4);
    ASSERT_FRAME_HERE(only_frame(v), l5);
    ASSERT_FRAME_HERE(only_frame(l), l6);

    /* a snapshot names them the same way */
    pa_snapshot *s = take();
    pa_statistic *st;
    size_t n = all_stats(s, PA_STAT_LINENO, &st);
    assert_int_equal(n, 6);
    const int lines[] = {l1, l2, l3, l4, l5, l6};
    const size_t sizes[] = {10, 12, 700};
    for (int i = 0; i < 6; i++) {
        int k = -1;
        for (size_t j = 0; j < n; j++)
            if (ends_with(st[j].filename, THIS_FILE) && st[j].lineno == lines[i])
                k = (int)j;
        if (k < 0)
            fail_msg("no statistic names %s:%d", THIS_FILE, lines[i]);
        if (i < 3)
            assert_int_equal(st[k].size, sizes[i]);
        assert_string_equal(st[k].filename, only_frame(m).filename);
    }
    free(st);
    pa_snapshot_free(s);
    pa_free(m);
    pa_free(c);
    pa_free(r);
    pa_decref(o);
    pa_decref(v);
    pa_decref(l);
}

/* ---------------------------------------------------- frames above the site */

static int line_in_b, line_in_a, line_in_named_b, line_in_named_a;

static __attribute__((noinline)) void *chain_b(size_t n)
{
    void *p;
    line_in_b = __LINE__; p = pa_malloc(n);
    __asm__ volatile("" ::: "memory");            /* no tail call */
    return p;
}

static __attribute__((noinline)) void *chain_a(size_t n)
{
    void *p;
    line_in_a = __LINE__; p = chain_b(n);
    __asm__ volatile("" ::: "memory");
    return p;
}

static __attribute__((noinline)) void *named_b(size_t n)
{
    void *p;
    line_in_named_b = __LINE__; p = pa_malloc_at(n, "deep.c", 99);
    __asm__ volatile("" ::: "memory");
    return p;
}

static __attribute__((noinline)) void *named_a(size_t n)
{
    void *p;
    line_in_named_a = __LINE__; p = named_b(n);
    __asm__ volatile("" ::: "memory");
    return p;
}

/* a() -> b() -> pa_malloc with nframe 3: b's call, a's call, this test's call. */
static void call_chain_frames_come_most_recent_first(void **state)
{
    (void)state;
    pa_frame f[8];
    start_tracing(3);
    int l = __LINE__; void *p = chain_a(24);
    assert_int_equal(traceback_of(p, f, 8), 3);
    ASSERT_FRAME_HERE(f[0], line_in_b);
    ASSERT_FRAME_HERE(f[1], line_in_a);
    ASSERT_FRAME_HERE(f[2], l);

    pa_snapshot *s = take();
    pa_statistic *st;
    size_t n = all_stats(s, PA_STAT_TRACEBACK, &st);
    assert_int_equal(n, 1);
    assert_int_equal(st[0].nframes, 3);
    ASSERT_FRAME_HERE(st[0].frames[0], line_in_b);
    ASSERT_FRAME_HERE(st[0].frames[1], line_in_a);
    ASSERT_FRAME_HERE(st[0].frames[2], l);
    assert_int_equal(st[0].lineno, line_in_b);
    free(st);
    pa_snapshot_free(s);

    start_tracing(5);                             /* deeper: the test's callers follow */
    int l5 = __LINE__; void *q = chain_a(24);
    assert_int_equal(traceback_of(q, f, 8), 5);
    ASSERT_FRAME_HERE(f[0], line_in_b);
    ASSERT_FRAME_HERE(f[1], line_in_a);
    ASSERT_FRAME_HERE(f[2], l5);
    assert_non_null(f[3].filename);
    assert_false(ends_with(f[3].filename, THIS_FILE));   /* cmocka's runner called the test */

    start_tracing(1);
    void *r = chain_a(24);
    assert_int_equal(traceback_of(r, f, 8), 1);
    ASSERT_FRAME_HERE(f[0], line_in_b);
    pa_free(p);
    pa_free(q);
    pa_free(r);
}

/* A named site is the first frame and stands for the function that named it:
   the next frame is that function's caller. */
static void named_site_then_the_callers_above_it(void **state)
{
    (void)state;
    pa_frame f[8];
    start_tracing(3);
    int l = __LINE__; void *p = named_a(8);
    assert_int_equal(traceback_of(p, f, 8), 3);
    ASSERT_FRAME(f[0], "deep.c", 99);
    ASSERT_FRAME_HERE(f[1], line_in_named_a);
    ASSERT_FRAME_HERE(f[2], l);
    (void)line_in_named_b;
    pa_free(p);
}

/* --------------------------------------------------------------- realloc */

/* A realloc in place: the block is re-attributed to the realloc's site with its new size. */
static void realloc_in_place_reattributes_the_block(void **state)
{
    (void)state;
    start_tracing(1);
    int l1 = __LINE__; char *p = PA_MALLOC(100);
    (void)l1;
    int l2 = __LINE__; char *q = PA_REALLOC(p, 110);    /* same size class (112): stays */
    assert_ptr_equal(q, p);
    ASSERT_FRAME(only_frame(q), __FILE__, l2);
    ASSERT_TRACED(110, 110);
    int l3 = __LINE__; q = PA_REALLOC(q, 100);           /* saves less than a quarter: stays */
    assert_ptr_equal(q, p);
    ASSERT_FRAME(only_frame(q), __FILE__, l3);
    ASSERT_TRACED(100, 110);

    pa_snapshot *s = take();
    pa_statistic *st;
    size_t n = all_stats(s, PA_STAT_LINENO, &st);
    assert_int_equal(n, 1);
    assert_int_equal(st[0].lineno, l3);
    assert_int_equal(st[0].size, 100);
    free(st);
    pa_snapshot_free(s);
    pa_free(q);
    ASSERT_TRACED(0, 110);
}

/* A realloc that moves: the old address is no longer traced. */
static void realloc_that_moves_forgets_the_old_address(void **state)
{
    (void)state;
    pa_frame f[2];
    start_tracing(1);
    char *p = PA_MALLOC(100);
    int l2 = __LINE__; char *q = PA_REALLOC(p, 4000);    /* pool -> system allocator */
    assert_ptr_not_equal(q, p);
    assert_int_equal(traceback_of(p, f, 2), 0);
    ASSERT_FRAME(only_frame(q), __FILE__, l2);
    ASSERT_TRACED(4000, 4000);

    char *a = PA_MALLOC(16);
    int l4 = __LINE__; char *b = PA_REALLOC(a, 300);     /* pool -> another pool */
    assert_ptr_not_equal(a, b);
    assert_int_equal(traceback_of(a, f, 2), 0);
    ASSERT_FRAME(only_frame(b), __FILE__, l4);
    ASSERT_TRACED(4300, 4300);

    int l5 = __LINE__; char *c = PA_REALLOC(q, 8);       /* system allocator -> pool */
    assert_ptr_not_equal(c, q);
    assert_int_equal(traceback_of(q, f, 2), 0);
    ASSERT_FRAME(only_frame(c), __FILE__, l5);
    ASSERT_TRACED(308, 4300);

    pa_snapshot *s = take();
    assert_int_equal(pa_snapshot_trace_count(s), 2);
    pa_snapshot_free(s);
    pa_free(b);
    pa_free(c);
    ASSERT_TRACED(0, 4300);
}

/* realloc(NULL, n) is a malloc at the realloc's site; realloc(p, 0) frees p
   and the minimal block it returns is traced (0 bytes) at the realloc's site. */
static void realloc_of_null_and_to_zero(void **state)
{
    (void)state;
    pa_frame f[2];
    start_tracing(1);
    int l1 = __LINE__; char *p = PA_REALLOC(NULL, 50);
    assert_non_null(p);
    ASSERT_FRAME(only_frame(p), __FILE__, l1);
    ASSERT_TRACED(50, 50);
    int l2 = __LINE__; char *q = PA_REALLOC(p, 0);
    assert_non_null(q);
    if (q != p)
        assert_int_equal(traceback_of(p, f, 2), 0);
    ASSERT_FRAME(only_frame(q), __FILE__, l2);
    ASSERT_TRACED(0, 50);
    pa_snapshot *s = take();
    assert_int_equal(pa_snapshot_trace_count(s), 1);
    pa_statistic *st;
    assert_int_equal(all_stats(s, PA_STAT_LINENO, &st), 1);
    assert_int_equal(st[0].size, 0);
    assert_int_equal(st[0].count, 1);
    free(st);
    pa_snapshot_free(s);
    pa_free(q);
}

/* A block from before tracing becomes traced when it is reallocated; a failed
   realloc leaves the block and its trace as they were. */
static void realloc_of_an_untraced_block_traces_it(void **state)
{
    (void)state;
    pa_frame f[2];
    char *p = PA_MALLOC(100);
    start_tracing(1);
    assert_int_equal(traceback_of(p, f, 2), 0);
    int l = __LINE__; char *q = PA_REALLOC(p, 200);
    ASSERT_FRAME(only_frame(q), __FILE__, l);
    ASSERT_TRACED(200, 200);
    assert_null(PA_REALLOC(q, (size_t)-1 / 2 + 1));
    ASSERT_FRAME(only_frame(q), __FILE__, l);
    ASSERT_TRACED(200, 200);
    pa_free(q);
    ASSERT_TRACED(0, 200);
}

/* -------------------------------------------------------- get_traceback */

static void get_traceback_of_untraced_freed_and_foreign_blocks(void **state)
{
    (void)state;
    pa_frame f[4];
    void *before = PA_MALLOC(32);
    start_tracing(2);
    assert_int_equal(traceback_of(before, f, 4), 0);
    void *p = PA_MALLOC(32);
    assert_int_equal(traceback_of(p, f, 4), 2);
    pa_free(p);
    assert_int_equal(traceback_of(p, f, 4), 0);
    int local = 0;
    assert_int_equal(traceback_of(&local, f, 4), 0);     /* never a PyAlloc block */
    void *q = PA_MALLOC(64);
    assert_int_equal(traceback_of((char *)q + 16, f, 4), 0);   /* an interior pointer */

    pa_clear_error();
    assert_int_equal(pa_tracemalloc_get_traceback(NULL, f, 4), -1);
    PA_ASSERT_ERROR_SET();
    pa_clear_error();
    assert_int_equal(pa_tracemalloc_get_traceback(q, NULL, 4), -1);
    PA_ASSERT_ERROR_SET();
    pa_clear_error();
    assert_int_equal(pa_tracemalloc_get_traceback(q, f, -1), -1);
    PA_ASSERT_ERROR_SET();
    pa_free(before);
    pa_free(q);
}

/* out[0..cap): never a frame more. */
static void get_traceback_writes_at_most_cap_frames(void **state)
{
    (void)state;
    pa_frame f[8];
    start_tracing(3);
    int l = __LINE__; void *p = chain_a(8);
    memset(f, 0xEE, sizeof f);
    int n = pa_tracemalloc_get_traceback(p, f, 1);
    assert_true(n >= 1);
    ASSERT_FRAME_HERE(f[0], line_in_b);
    unsigned char canary[sizeof f[1]];
    memset(canary, 0xEE, sizeof canary);
    assert_memory_equal(&f[1], canary, sizeof canary);
    memset(f, 0xEE, sizeof f);
    assert_int_equal(pa_tracemalloc_get_traceback(p, f, 3), 3);
    ASSERT_FRAME_HERE(f[2], l);
    assert_memory_equal(&f[3], canary, sizeof canary);
    pa_free(p);
}

/* "returns the number of frames": as pa_snapshot_statistics and
   pa_gc_get_objects, the whole count, whatever cap is -- a cap-0 call sizes
   the array, and 0 keeps meaning "not traced". */
static void get_traceback_with_a_small_cap_returns_the_whole_count(void **state)
{
    (void)state;
    pa_frame f[8];
    start_tracing(3);
    void *p = chain_a(8);
    assert_int_equal(pa_tracemalloc_get_traceback(p, NULL, 0), 3);
    assert_int_equal(pa_tracemalloc_get_traceback(p, f, 1), 3);
    assert_int_equal(pa_tracemalloc_get_traceback(p, f, 2), 3);
    pa_free(p);
}

/* get_object_traceback(obj): the object pointer finds its allocation. */
static void get_traceback_of_objects(void **state)
{
    (void)state;
    pa_frame f[2];
    pa_object *before = pa_object_new(g_node);
    start_tracing(1);
    assert_int_equal(traceback_of(before, f, 2), 0);
    int l1 = __LINE__; pa_object *o = PA_OBJECT_NEW(g_node);
    int l2 = __LINE__; pa_object *l = PA_LIST_NEW(g_rt);
    ASSERT_FRAME(only_frame(o), __FILE__, l1);
    ASSERT_FRAME(only_frame(l), __FILE__, l2);
    assert_int_equal(traceback_of(&NODE(o)->a, f, 2), 0);      /* a field, not the object */
    pa_decref(before);
    pa_decref(o);
    pa_decref(l);
}

/* --------------------------------------------------------------- objects */

/* An object's trace is its whole memory, GC head (two words) included: the
   bytes pa_count_objects_by_type counts for it. */
static void object_traces_have_the_census_size(void **state)
{
    (void)state;
    start_tracing(1);
    pa_object *o = PA_OBJECT_NEW(g_node);
    pa_object *v = PA_OBJECT_NEW_VAR(g_var, 5);
    pa_object *w = PA_OBJECT_NEW_VAR(g_var, 0);
    pa_object *l = PA_LIST_NEW(g_rt);
    size_t n_node, n_var, n_list;
    size_t b_node = census_bytes(g_rt, "node", &n_node);
    size_t b_var = census_bytes(g_rt, "var", &n_var);
    size_t b_list = census_bytes(g_rt, "list", &n_list);
    assert_int_equal(n_node, 1);
    assert_int_equal(n_var, 2);
    assert_int_equal(n_list, 1);
    assert_int_equal(b_node, 2 * sizeof(void *) + sizeof(node));
    assert_int_equal(b_var, 2 * (2 * sizeof(void *) + sizeof(pa_var_object)) + 5 * 8);
    ASSERT_TRACED(b_node + b_var + b_list, b_node + b_var + b_list);

    pa_snapshot *s = take();
    pa_statistic *st;
    size_t n = all_stats(s, PA_STAT_TRACEBACK, &st);
    assert_int_equal(n, 4);
    /* one trace per object, each of the object's own size (largest first) */
    const size_t head = 2 * sizeof(void *);
    size_t want[4] = {b_list, b_node, head + sizeof(pa_var_object) + 5 * 8, head + sizeof(pa_var_object)};
    for (int i = 0; i < 4; i++)                   /* sort descending */
        for (int j = i + 1; j < 4; j++)
            if (want[j] > want[i]) {
                size_t t = want[i];
                want[i] = want[j];
                want[j] = t;
            }
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(st[i].size, want[i]);
        assert_int_equal(st[i].count, 1);
    }
    free(st);
    pa_snapshot_free(s);
    pa_decref(o);
    pa_decref(v);
    pa_decref(w);
    pa_decref(l);
    ASSERT_TRACED(0, b_node + b_var + b_list);
}

static void object_traces_vanish_when_the_count_reaches_zero(void **state)
{
    (void)state;
    pa_frame f[2];
    start_tracing(1);
    pa_object *list = PA_LIST_NEW(g_rt);
    pa_object *items[10];
    for (int i = 0; i < 10; i++) {
        items[i] = PA_OBJECT_NEW(g_node);
        append(list, items[i]);
        pa_decref(items[i]);                      /* the list holds them */
    }
    size_t node_bytes = census_bytes(g_rt, "node", NULL);
    size_t list_bytes = census_bytes(g_rt, "list", NULL);
    ASSERT_TRACED(node_bytes + list_bytes, node_bytes + list_bytes);
    pa_decref(list);                              /* the list and its items die */
    ASSERT_TRACED(0, node_bytes + list_bytes);
    assert_int_equal(traceback_of(list, f, 2), 0);
    assert_int_equal(traceback_of(items[3], f, 2), 0);
    pa_snapshot *s = take();
    assert_int_equal(pa_snapshot_trace_count(s), 0);
    pa_snapshot_free(s);
}

static void object_traces_vanish_when_the_collector_frees_them(void **state)
{
    (void)state;
    pa_frame f[2];
    start_tracing(1);
    pa_object *x = PA_OBJECT_NEW(g_node);
    pa_object *y = PA_OBJECT_NEW(g_node);
    set_a(x, y);
    set_a(y, x);
    pa_decref(x);
    pa_decref(y);                                 /* a cycle: alive until collected */
    size_t bytes = 2 * (2 * sizeof(void *) + sizeof(node));
    ASSERT_TRACED(bytes, bytes);
    assert_int_equal(traceback_of(x, f, 2), 1);
    assert_int_equal(collect(g_rt, 2), 2);
    ASSERT_TRACED(0, bytes);
    assert_int_equal(traceback_of(x, f, 2), 0);
    assert_int_equal(traceback_of(y, f, 2), 0);
}

/* pa_runtime_free releases the objects still alive (without dealloc): their
   memory is gone, so must their traces be -- as every other way an object's
   memory goes back (CPython's tracemalloc sees every PyObject_Free). */
static void objects_alive_at_runtime_free_lose_their_traces(void **state)
{
    (void)state;
    pa_frame f[2];
    start_tracing(1);
    void *mine = PA_MALLOC(100);
    pa_runtime *rt = new_runtime();
    pa_type *t = node_type(rt);
    pa_object *kept = PA_OBJECT_NEW(t);           /* never released */
    pa_object *immortal = PA_OBJECT_NEW(t);
    pa_object_make_immortal(immortal);
    pa_object *list = PA_LIST_NEW(rt);
    append(list, kept);
    ASSERT_TRACED(100 + 2 * (2 * sizeof(void *) + sizeof(node)) + census_bytes(rt, "list", NULL), traced_peak());
    pa_runtime_free(rt);

    if (traced_current() != 100)
        fail_msg("after pa_runtime_free, traced memory is %zu bytes; only the 100-byte block is alive",
                 traced_current());
    assert_int_equal(traceback_of(kept, f, 2), 0);
    assert_int_equal(traceback_of(immortal, f, 2), 0);
    pa_snapshot *s = take();
    assert_int_equal(pa_snapshot_trace_count(s), 1);
    pa_snapshot_free(s);
    pa_free(mine);
}

/* Objects allocated before tracing started are not traced, and their deaths
   while tracing change nothing. */
static void untraced_objects_die_quietly(void **state)
{
    (void)state;
    pa_object *o = pa_object_new(g_node);
    pa_object *l = pa_list_new(g_rt);
    start_tracing(1);
    pa_object *p = PA_OBJECT_NEW(g_node);
    size_t bytes = traced_current();
    assert_int_equal(bytes, 2 * sizeof(void *) + sizeof(node));
    pa_decref(o);
    pa_decref(l);
    ASSERT_TRACED(bytes, bytes);
    pa_decref(p);
    ASSERT_TRACED(0, bytes);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(macros_record_file_and_line, setup, teardown),
        cmocka_unit_test_setup_teardown(at_forms_record_the_site_they_are_given, setup, teardown),
        cmocka_unit_test_setup_teardown(at_forms_fail_as_the_plain_calls_and_leave_no_trace, setup, teardown),
        cmocka_unit_test_setup_teardown(at_form_file_names_are_kept_byte_for_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(plain_calls_are_attributed_to_their_callers_line, setup, teardown),
        cmocka_unit_test_setup_teardown(call_chain_frames_come_most_recent_first, setup, teardown),
        cmocka_unit_test_setup_teardown(named_site_then_the_callers_above_it, setup, teardown),
        cmocka_unit_test_setup_teardown(realloc_in_place_reattributes_the_block, setup, teardown),
        cmocka_unit_test_setup_teardown(realloc_that_moves_forgets_the_old_address, setup, teardown),
        cmocka_unit_test_setup_teardown(realloc_of_null_and_to_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(realloc_of_an_untraced_block_traces_it, setup, teardown),
        cmocka_unit_test_setup_teardown(get_traceback_of_untraced_freed_and_foreign_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(get_traceback_writes_at_most_cap_frames, setup, teardown),
        cmocka_unit_test_setup_teardown(get_traceback_with_a_small_cap_returns_the_whole_count, setup, teardown),
        cmocka_unit_test_setup_teardown(get_traceback_of_objects, setup, teardown),
        cmocka_unit_test_setup_teardown(object_traces_have_the_census_size, setup, teardown),
        cmocka_unit_test_setup_teardown(object_traces_vanish_when_the_count_reaches_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(object_traces_vanish_when_the_collector_frees_them, setup, teardown),
        cmocka_unit_test_setup_teardown(objects_alive_at_runtime_free_lose_their_traces, setup, teardown),
        cmocka_unit_test_setup_teardown(untraced_objects_die_quietly, setup, teardown),
    };
    return PA_RUN_TESTS(tests, argc, argv);
}
