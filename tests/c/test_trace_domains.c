/* test_trace_domains.c -- the rest of CPython's tracemalloc (issue 17, items
   2-5) against CPython 3.12's Lib/tracemalloc.py and _tracemalloc.c:

   - PyTraceMalloc_Track / Untrack (pa_tracemalloc_track, _untrack): -2 when
     not tracing, tracking twice replaces the trace, untracking an unknown
     block returns 0, domain 0 shares PyAlloc's own table, every domain
     counts in the traced memory, clear and stop forget them all;
   - Snapshot.traces (pa_snapshot_get_trace) with each trace's domain;
   - statistics and compare_to with cumulative=True (each frame counts; two
     frames in one file count twice for it; 'traceback' refused);
   - filter_traces with several filters: inclusive ones OR'ed, exclusive ones
     all passed, all_frames, a Filter's domain, DomainFilter;
   - Traceback.format: limit None / n > 0 / 0 / n < 0, most_recent_first,
     the source line read from the file.

   The statistics and filter cases run on snapshots written here byte by
   byte (the version 2 file format, README "Snapshot files"), so that their
   tracebacks, domains and sizes are exactly the ones the expected values
   were computed from. */
#include "test_tracing.h"

static int setup(void **state)
{
    (void)state;
    pa_clear_error();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    pa_tracemalloc_stop();
    return 0;
}

/* ------------------------------------------------ a snapshot file by hand */

typedef struct {
    unsigned domain;
    uint64_t size;
    int nframes;
    const char *file[4];        /* most recent first */
    int line[4];
} crafted_trace;

typedef struct {
    unsigned char bytes[1 << 14];
    size_t n;
} blob;

static void put(blob *b, const void *p, size_t n)
{
    assert_true(b->n + n <= sizeof b->bytes);
    memcpy(b->bytes + b->n, p, n);
    b->n += n;
}

static void put32(blob *b, uint32_t v) { put(b, &v, 4); }
static void put64(blob *b, uint64_t v) { put(b, &v, 8); }

/* Writes a version 2 snapshot of the traces (one traceback each; strings
   not shared, which the format allows) and loads it back. */
static pa_snapshot *crafted(const crafted_trace *t, size_t count, int limit)
{
    static blob b;
    b.n = 0;
    put(&b, "SNABSNAP", 8);
    put32(&b, 2);
    put32(&b, (uint32_t)limit);
    uint32_t strings = 0;
    for (size_t i = 0; i < count; i++)
        strings += (uint32_t)t[i].nframes;
    put32(&b, strings);
    for (size_t i = 0; i < count; i++)
        for (int f = 0; f < t[i].nframes; f++) {
            put32(&b, (uint32_t)strlen(t[i].file[f]));
            put(&b, t[i].file[f], strlen(t[i].file[f]));
        }
    put32(&b, (uint32_t)count);
    uint32_t s = 0;
    for (size_t i = 0; i < count; i++) {
        put32(&b, (uint32_t)t[i].nframes);
        for (int f = 0; f < t[i].nframes; f++) {
            put32(&b, s++);
            put32(&b, (uint32_t)t[i].line[f]);
        }
    }
    put64(&b, count);
    for (size_t i = 0; i < count; i++) {
        put64(&b, t[i].size);
        put32(&b, (uint32_t)i);
        put32(&b, t[i].domain);
    }
    uint64_t h = 0xCBF29CE484222325ULL;
    for (size_t i = 0; i < b.n; i++)
        h = (h ^ b.bytes[i]) * 0x100000001B3ULL;
    put64(&b, h);
    char path[96];
    snprintf(path, sizeof path, "/tmp/pyalloc-crafted-%d.snap", (int)getpid());
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b.bytes, 1, b.n, f), b.n);
    fclose(f);
    pa_snapshot *snap = pa_snapshot_load(path);
    if (snap == NULL)
        fail_msg("the crafted snapshot does not load: %s", pa_last_error());
    unlink(path);
    return snap;
}

/* The traces of s as "domain:size:file:line" of their most recent frame, in order. */
static const char *trace_list(const pa_snapshot *s)
{
    static char text[4096];
    size_t at = 0;
    text[0] = 0;
    size_t n = pa_snapshot_trace_count(s);
    for (size_t i = 0; i < n; i++) {
        pa_trace t;
        assert_int_equal(pa_snapshot_get_trace(s, i, &t), 0);
        at += (size_t)snprintf(text + at, sizeof text - at, "%s%u:%zu:%s:%d", i ? " " : "", t.domain, t.size,
                               t.frames[0].filename, t.frames[0].lineno);
    }
    return text;
}

/* Three traces; a.c calls b.c, which allocates, and so on (most recent first). */
static const crafted_trace three[] = {
    {0, 100, 2, {"b.c", "a.c"}, {20, 10}},
    {0, 10, 3, {"c.c", "b.c", "a.c"}, {30, 21, 11}},
    {5, 1000, 1, {"gpu.c"}, {7}},
};

/* ------------------------------------------------------------ track, untrack */

static void track_and_untrack_do_nothing_when_not_tracing(void **state)
{
    (void)state;
    char buffer[64];
    pa_clear_error();
    assert_int_equal(pa_tracemalloc_track(3, (uintptr_t)buffer, 64), -2);
    assert_int_equal(pa_tracemalloc_untrack(3, (uintptr_t)buffer), -2);
    assert_string_equal(pa_last_error(), "");
}

static void track_counts_in_traced_memory_and_replaces_a_second_time(void **state)
{
    (void)state;
    start_tracing(1);
    size_t current, peak;
    char gpu[32];
    assert_int_equal(pa_tracemalloc_track(7, (uintptr_t)gpu, 4096), 0);
    pa_tracemalloc_get_traced_memory(&current, &peak);
    assert_int_equal(current, 4096);
    assert_int_equal(pa_tracemalloc_track_at(7, (uintptr_t)gpu, 100, "gpu.c", 42), 0);   /* the same block again */
    pa_tracemalloc_get_traced_memory(&current, &peak);
    assert_int_equal(current, 100);
    assert_int_equal(peak, 4096);
    assert_int_equal(pa_tracemalloc_track(8, (uintptr_t)gpu, 50), 0);                    /* another domain: another trace */
    pa_tracemalloc_get_traced_memory(&current, NULL);
    assert_int_equal(current, 150);

    pa_snapshot *s = pa_tracemalloc_take_snapshot();
    assert_non_null(s);
    assert_int_equal(pa_snapshot_trace_count(s), 2);
    int seen7 = 0, seen8 = 0;
    for (size_t i = 0; i < 2; i++) {
        pa_trace t;
        assert_int_equal(pa_snapshot_get_trace(s, i, &t), 0);
        if (t.domain == 7) {
            seen7 = 1;
            assert_int_equal(t.size, 100);
            assert_string_equal(t.frames[0].filename, "gpu.c");             /* the second call's site */
            assert_int_equal(t.frames[0].lineno, 42);
        } else {
            assert_int_equal(t.domain, 8);
            seen8 = 1;
            assert_int_equal(t.size, 50);
        }
    }
    assert_true(seen7 && seen8);
    pa_snapshot_free(s);

    assert_int_equal(pa_tracemalloc_untrack(9, (uintptr_t)gpu), 0);       /* unknown: 0, as CPython */
    assert_int_equal(pa_tracemalloc_untrack(7, (uintptr_t)gpu), 0);
    pa_tracemalloc_get_traced_memory(&current, NULL);
    assert_int_equal(current, 50);
    assert_int_equal(pa_tracemalloc_get_traceback(gpu, NULL, 0), 0);      /* get_object_traceback: domain 0 only */
    pa_tracemalloc_clear_traces();
    pa_tracemalloc_get_traced_memory(&current, NULL);
    assert_int_equal(current, 0);
    s = pa_tracemalloc_take_snapshot();
    assert_int_equal(pa_snapshot_trace_count(s), 0);
    pa_snapshot_free(s);
}

static void domain_0_is_pyallocs_own(void **state)
{
    (void)state;
    start_tracing(1);
    void *p = PA_MALLOC(40);
    size_t current;
    pa_tracemalloc_get_traced_memory(&current, NULL);
    assert_int_equal(current, 40);
    assert_int_equal(pa_tracemalloc_track_at(0, (uintptr_t)p, 1000, "mine.c", 9), 0);   /* replaces the block's trace */
    pa_tracemalloc_get_traced_memory(&current, NULL);
    assert_int_equal(current, 1000);
    pa_frame f[2];
    assert_int_equal(pa_tracemalloc_get_traceback(p, f, 2), 1);
    assert_string_equal(f[0].filename, "mine.c");
    assert_int_equal(pa_tracemalloc_untrack(0, (uintptr_t)p), 0);
    assert_int_equal(pa_tracemalloc_get_traceback(p, f, 2), 0);
    pa_free(p);
    pa_tracemalloc_get_traced_memory(&current, NULL);
    assert_int_equal(current, 0);
}

/* ------------------------------------------------------------------ traces */

static void get_trace_gives_domain_size_and_traceback(void **state)
{
    (void)state;
    pa_snapshot *s = crafted(three, 3, 3);
    assert_string_equal(trace_list(s), "0:100:b.c:20 0:10:c.c:30 5:1000:gpu.c:7");
    pa_trace t;
    assert_int_equal(pa_snapshot_get_trace(s, 1, &t), 0);
    assert_int_equal(t.nframes, 3);
    assert_string_equal(t.frames[2].filename, "a.c");
    assert_int_equal(pa_snapshot_get_trace(s, 3, &t), -1);
    assert_non_null(strstr(pa_last_error(), "index 3 out of range"));
    assert_int_equal(pa_snapshot_get_trace(s, 0, NULL), -1);
    assert_int_equal(pa_snapshot_get_trace(NULL, 0, &t), -1);
    pa_snapshot_free(s);
}

/* -------------------------------------------------------------- cumulative */

static const pa_statistic *domain_stat(const pa_statistic *st, size_t n, const char *file, int line)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(st[i].filename, file) == 0 && st[i].lineno == line)
            return &st[i];
    fail_msg("no statistic for %s:%d", file, line);
    return NULL;
}

static void cumulative_statistics_count_every_frame(void **state)
{
    (void)state;
    pa_snapshot *s = crafted(three, 3, 3);
    pa_statistic st[16];
    /* by line: each frame's line gets the trace */
    size_t n = pa_snapshot_statistics_cumulative(s, PA_STAT_LINENO, st, 16);
    assert_int_equal(n, 6);
    assert_int_equal(domain_stat(st, n, "a.c", 10)->size, 100);
    assert_int_equal(domain_stat(st, n, "a.c", 11)->size, 10);
    assert_int_equal(domain_stat(st, n, "b.c", 21)->size, 10);
    assert_int_equal(domain_stat(st, n, "gpu.c", 7)->size, 1000);
    assert_string_equal(st[0].filename, "gpu.c");                      /* largest first */
    /* by file: a.c and b.c get both traces, c.c one */
    n = pa_snapshot_statistics_cumulative(s, PA_STAT_FILENAME, st, 16);
    assert_int_equal(n, 4);
    assert_int_equal(domain_stat(st, n, "a.c", 0)->size, 110);
    assert_int_equal(domain_stat(st, n, "a.c", 0)->count, 2);
    assert_int_equal(domain_stat(st, n, "b.c", 0)->size, 110);
    assert_int_equal(domain_stat(st, n, "c.c", 0)->size, 10);
    /* the non-cumulative form sees the most recent frame only */
    n = pa_snapshot_statistics(s, PA_STAT_FILENAME, st, 16);
    assert_int_equal(n, 3);
    assert_int_equal(domain_stat(st, n, "b.c", 0)->size, 100);
    /* 'traceback' is refused (CPython: ValueError), an unknown key too */
    assert_true(pa_snapshot_statistics_cumulative(s, PA_STAT_TRACEBACK, st, 16) == PA_SIZE_ERROR);
    assert_non_null(strstr(pa_last_error(), "cumulative mode cannot be used"));
    assert_true(pa_snapshot_statistics_cumulative(s, (pa_stat_key)7, st, 16) == PA_SIZE_ERROR);
    pa_snapshot_free(s);
}

static void cumulative_counts_a_file_twice_when_two_frames_are_in_it(void **state)
{
    (void)state;
    static const crafted_trace recursive[] = {{0, 64, 3, {"r.c", "r.c", "main.c"}, {5, 9, 3}}};
    pa_snapshot *s = crafted(recursive, 1, 3);
    pa_statistic st[8];
    size_t n = pa_snapshot_statistics_cumulative(s, PA_STAT_FILENAME, st, 8);
    assert_int_equal(n, 2);
    assert_int_equal(domain_stat(st, n, "r.c", 0)->size, 128);           /* as CPython's _group_by */
    assert_int_equal(domain_stat(st, n, "r.c", 0)->count, 2);
    pa_snapshot_free(s);
}

static void cumulative_compare_to_follows_the_same_groups(void **state)
{
    (void)state;
    pa_snapshot *now = crafted(three, 3, 3);
    pa_snapshot *old = crafted(three, 1, 3);
    pa_statistic_diff d[16];
    size_t n = pa_snapshot_compare_to_cumulative(now, old, PA_STAT_FILENAME, d, 16);
    assert_int_equal(n, 4);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(d[i].filename, "a.c") == 0) {
            assert_int_equal(d[i].size, 110);
            assert_int_equal(d[i].size_diff, 10);
        }
        if (strcmp(d[i].filename, "c.c") == 0)
            assert_int_equal(d[i].size_diff, 10);
    }
    assert_string_equal(d[0].filename, "gpu.c");                       /* the largest change */
    assert_true(pa_snapshot_compare_to_cumulative(now, old, PA_STAT_TRACEBACK, d, 16) == PA_SIZE_ERROR);
    pa_snapshot_free(now);
    pa_snapshot_free(old);
}

/* ----------------------------------------------------------------- filters */

static const char *filtered(const pa_snapshot *s, const pa_filter *f, size_t n)
{
    pa_snapshot *r = pa_snapshot_filter_traces(s, f, n);
    if (r == NULL)
        fail_msg("pa_snapshot_filter_traces: %s", pa_last_error());
    const char *text = trace_list(r);
    pa_snapshot_free(r);
    return text;
}

static void filter_traces_follows_cpythons_rules(void **state)
{
    (void)state;
    pa_snapshot *s = crafted(three, 3, 3);
    /* no filter: a copy */
    assert_string_equal(filtered(s, NULL, 0), "0:100:b.c:20 0:10:c.c:30 5:1000:gpu.c:7");
    /* inclusive filters are OR'ed */
    pa_filter two_in[] = {{.kind = PA_FILTER, .inclusive = 1, .filename_pattern = "b.c"},
                          {.kind = PA_FILTER, .inclusive = 1, .filename_pattern = "gpu.*"}};
    assert_string_equal(filtered(s, two_in, 2), "0:100:b.c:20 5:1000:gpu.c:7");
    /* an exclusive filter must be passed too */
    pa_filter mixed[] = {{.kind = PA_FILTER, .inclusive = 1, .filename_pattern = "*.c"},
                         {.kind = PA_FILTER, .inclusive = 0, .filename_pattern = "gpu.c"}};
    assert_string_equal(filtered(s, mixed, 2), "0:100:b.c:20 0:10:c.c:30");
    /* a line number */
    pa_filter line[] = {{.kind = PA_FILTER, .inclusive = 1, .filename_pattern = "*", .lineno = 30}};
    assert_string_equal(filtered(s, line, 1), "0:10:c.c:30");
    /* all_frames: any frame matches; without it, only the most recent */
    pa_filter a_first[] = {{.kind = PA_FILTER, .inclusive = 1, .filename_pattern = "a.c"}};
    assert_string_equal(filtered(s, a_first, 1), "");
    pa_filter a_any[] = {{.kind = PA_FILTER, .inclusive = 1, .filename_pattern = "a.c", .all_frames = 1}};
    assert_string_equal(filtered(s, a_any, 1), "0:100:b.c:20 0:10:c.c:30");
    pa_filter not_b_any[] = {{.kind = PA_FILTER, .inclusive = 0, .filename_pattern = "b.c", .all_frames = 1}};
    assert_string_equal(filtered(s, not_b_any, 1), "5:1000:gpu.c:7");
    /* DomainFilter */
    pa_filter dom_in[] = {{.kind = PA_DOMAIN_FILTER, .inclusive = 1, .domain = 5}};
    assert_string_equal(filtered(s, dom_in, 1), "5:1000:gpu.c:7");
    pa_filter dom_out[] = {{.kind = PA_DOMAIN_FILTER, .inclusive = 0, .domain = 5}};
    assert_string_equal(filtered(s, dom_out, 1), "0:100:b.c:20 0:10:c.c:30");
    /* a Filter with a domain: inclusive needs both; exclusive drops only a match in that domain */
    pa_filter f_dom_in[] = {{.kind = PA_FILTER, .inclusive = 1, .filename_pattern = "*", .has_domain = 1, .domain = 0}};
    assert_string_equal(filtered(s, f_dom_in, 1), "0:100:b.c:20 0:10:c.c:30");
    pa_filter f_dom_out[] = {{.kind = PA_FILTER, .inclusive = 0, .filename_pattern = "b.c", .has_domain = 1, .domain = 5}};
    assert_string_equal(filtered(s, f_dom_out, 1), "0:100:b.c:20 0:10:c.c:30 5:1000:gpu.c:7");
    pa_filter f_dom_out0[] = {{.kind = PA_FILTER, .inclusive = 0, .filename_pattern = "b.c", .has_domain = 1, .domain = 0}};
    assert_string_equal(filtered(s, f_dom_out0, 1), "0:10:c.c:30 5:1000:gpu.c:7");
    pa_snapshot_free(s);
}

static void filter_traces_refuses_bad_arguments(void **state)
{
    (void)state;
    pa_snapshot *s = crafted(three, 3, 3);
    pa_filter no_pattern[] = {{.kind = PA_FILTER, .inclusive = 1}};
    assert_null(pa_snapshot_filter_traces(s, no_pattern, 1));
    assert_non_null(strstr(pa_last_error(), "filter 0 has no filename_pattern"));
    pa_filter bad_kind[] = {{.kind = (pa_filter_kind)9}};
    assert_null(pa_snapshot_filter_traces(s, bad_kind, 1));
    assert_non_null(strstr(pa_last_error(), "kind 9"));
    assert_null(pa_snapshot_filter_traces(s, NULL, 2));
    assert_null(pa_snapshot_filter_traces(NULL, NULL, 0));
    pa_snapshot_free(s);
}

/* ------------------------------------------------------ Traceback.format */

static const char *format(const pa_frame *f, int n, int limit, int recent_first)
{
    static char text[1024];
    int len = pa_traceback_format(f, n, limit, recent_first, text, sizeof text);
    assert_true(len >= 0 && (size_t)len < sizeof text);
    return text;
}

static void traceback_format_as_cpython(void **state)
{
    (void)state;
    /* most recent first, as PyAlloc gives them; no file of these names exists */
    pa_frame f[3] = {{"c.c", 3}, {"b.c", 2}, {"a.c", 1}};
    assert_string_equal(format(f, 3, PA_TRACEBACK_NO_LIMIT, 0),
                        "  File \"a.c\", line 1\n  File \"b.c\", line 2\n  File \"c.c\", line 3\n");
    assert_string_equal(format(f, 3, PA_TRACEBACK_NO_LIMIT, 1),
                        "  File \"c.c\", line 3\n  File \"b.c\", line 2\n  File \"a.c\", line 1\n");
    assert_string_equal(format(f, 3, 2, 0), "  File \"b.c\", line 2\n  File \"c.c\", line 3\n");  /* self[-2:] */
    assert_string_equal(format(f, 3, 0, 0), "");                                                  /* self[:0] */
    assert_string_equal(format(f, 3, -1, 0), "  File \"a.c\", line 1\n  File \"b.c\", line 2\n"); /* self[:-1] */
    assert_string_equal(format(f, 3, -5, 0), "");
    assert_string_equal(format(f, 3, 9, 1), "  File \"c.c\", line 3\n  File \"b.c\", line 2\n  File \"a.c\", line 1\n");
    assert_string_equal(format(f, 0, PA_TRACEBACK_NO_LIMIT, 0), "");
}

static void traceback_format_shows_the_source_line_stripped(void **state)
{
    (void)state;
    char path[96];
    snprintf(path, sizeof path, "/tmp/pyalloc-source-%d.c", (int)getpid());
    FILE *src = fopen(path, "w");
    assert_non_null(src);
    fputs("int first;\n    void *p = malloc(8);   \n", src);
    fclose(src);
    pa_frame f[1] = {{path, 2}};
    char expected[256];
    snprintf(expected, sizeof expected, "  File \"%s\", line 2\n    void *p = malloc(8);\n", path);
    assert_string_equal(format(f, 1, PA_TRACEBACK_NO_LIMIT, 0), expected);
    f[0].lineno = 7;                                                    /* past the end: no source line */
    snprintf(expected, sizeof expected, "  File \"%s\", line 7\n", path);
    assert_string_equal(format(f, 1, PA_TRACEBACK_NO_LIMIT, 0), expected);
    unlink(path);
}

static void traceback_format_has_snprintf_semantics_and_refuses_bad_arguments(void **state)
{
    (void)state;
    pa_frame f[1] = {{"x.c", 5}};
    char small[8];
    int need = pa_traceback_format(f, 1, PA_TRACEBACK_NO_LIMIT, 0, small, sizeof small);
    assert_int_equal(need, (int)strlen("  File \"x.c\", line 5\n"));
    assert_string_equal(small, "  File ");
    assert_int_equal(pa_traceback_format(f, 1, PA_TRACEBACK_NO_LIMIT, 0, NULL, 0), need);
    assert_int_equal(pa_traceback_format(NULL, 1, 0, 0, small, sizeof small), -1);
    assert_int_equal(pa_traceback_format(f, -1, 0, 0, small, sizeof small), -1);
    assert_int_equal(pa_traceback_format(f, 1, 0, 0, NULL, 4), -1);
    pa_frame nameless[1] = {{NULL, 1}};
    assert_int_equal(pa_traceback_format(nameless, 1, 0, 0, small, sizeof small), -1);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(track_and_untrack_do_nothing_when_not_tracing, setup, teardown),
        cmocka_unit_test_setup_teardown(track_counts_in_traced_memory_and_replaces_a_second_time, setup, teardown),
        cmocka_unit_test_setup_teardown(domain_0_is_pyallocs_own, setup, teardown),
        cmocka_unit_test_setup_teardown(get_trace_gives_domain_size_and_traceback, setup, teardown),
        cmocka_unit_test_setup_teardown(cumulative_statistics_count_every_frame, setup, teardown),
        cmocka_unit_test_setup_teardown(cumulative_counts_a_file_twice_when_two_frames_are_in_it, setup, teardown),
        cmocka_unit_test_setup_teardown(cumulative_compare_to_follows_the_same_groups, setup, teardown),
        cmocka_unit_test_setup_teardown(filter_traces_follows_cpythons_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(filter_traces_refuses_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(traceback_format_as_cpython, setup, teardown),
        cmocka_unit_test_setup_teardown(traceback_format_shows_the_source_line_stripped, setup, teardown),
        cmocka_unit_test_setup_teardown(traceback_format_has_snprintf_semantics_and_refuses_bad_arguments, setup, teardown),
    };
    return PA_RUN_TESTS(tests, argc, argv);
}
