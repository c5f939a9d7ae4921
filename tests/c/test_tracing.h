/* test_tracing.h -- shared helpers of the tracemalloc C tests
   (test_tracemalloc.c, test_callsites.c, test_census.c).

   - Snapshots and their statistics as whole arrays (a cap-0 call sizes them),
     failing the test on any error.
   - Lookup of a statistic by (file, line), formatting into a static buffer.
   - Temporary files for dump / load.

   The expected numbers are always computed by the test itself from the
   sizes it allocated; the expected texts of str(Statistic) were checked
   with CPython 3.12's tracemalloc (see the comments at each table). */
#ifndef PA_TEST_TRACING_H
#define PA_TEST_TRACING_H

#include "test_objects.h"

#include <stdbool.h>

/* ---------------------------------------------------------------- strings */

static inline bool ends_with(const char *s, const char *suffix)
{
    if (s == NULL)
        return false;
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static inline const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash != NULL ? slash + 1 : path;
}

/* ---------------------------------------------------------------- tracing */

static inline void start_tracing(int nframe)
{
    if (pa_tracemalloc_start(nframe) != 0)
        fail_msg("pa_tracemalloc_start(%d) failed: %s", nframe, pa_last_error());
    assert_int_equal(pa_tracemalloc_is_tracing(), 1);
}

static inline size_t traced_current(void)
{
    size_t current = (size_t)-7, peak = (size_t)-7;
    pa_tracemalloc_get_traced_memory(&current, &peak);
    return current;
}

static inline size_t traced_peak(void)
{
    size_t current = (size_t)-7, peak = (size_t)-7;
    pa_tracemalloc_get_traced_memory(&current, &peak);
    return peak;
}

#define ASSERT_TRACED(cur, pk)                                                                  \
    do {                                                                                        \
        size_t c_ = (size_t)-7, p_ = (size_t)-7;                                                \
        pa_tracemalloc_get_traced_memory(&c_, &p_);                                             \
        if (c_ != (size_t)(cur) || p_ != (size_t)(pk))                                          \
            fail_msg("traced memory (current %zu, peak %zu), expected (%zu, %zu)", c_, p_,      \
                     (size_t)(cur), (size_t)(pk));                                              \
    } while (0)

static inline pa_snapshot *take(void)
{
    pa_snapshot *s = pa_tracemalloc_take_snapshot();
    if (s == NULL)
        fail_msg("pa_tracemalloc_take_snapshot() = NULL: %s", pa_last_error());
    return s;
}

/* Every statistic of s by key, in the library's order (free() the array). */
static inline size_t all_stats(const pa_snapshot *s, pa_stat_key key, pa_statistic **out)
{
    size_t n = pa_snapshot_statistics(s, key, NULL, 0);
    if (n == PA_SIZE_ERROR)
        fail_msg("pa_snapshot_statistics(key %d) failed: %s", (int)key, pa_last_error());
    pa_statistic *v = calloc(n + 1, sizeof *v);
    assert_non_null(v);
    size_t m = pa_snapshot_statistics(s, key, v, n);
    assert_int_equal(m, n);
    *out = v;
    return n;
}

static inline size_t all_diffs(const pa_snapshot *now, const pa_snapshot *old, pa_stat_key key,
                               pa_statistic_diff **out)
{
    size_t n = pa_snapshot_compare_to(now, old, key, NULL, 0);
    if (n == PA_SIZE_ERROR)
        fail_msg("pa_snapshot_compare_to(key %d) failed: %s", (int)key, pa_last_error());
    pa_statistic_diff *v = calloc(n + 1, sizeof *v);
    assert_non_null(v);
    size_t m = pa_snapshot_compare_to(now, old, key, v, n);
    assert_int_equal(m, n);
    *out = v;
    return n;
}

/* The index of the statistic whose first frame is (file, line), or -1. */
static inline int find_stat(const pa_statistic *v, size_t n, const char *file, int line)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].filename != NULL && strcmp(v[i].filename, file) == 0 && v[i].lineno == line)
            return (int)i;
    return -1;
}

static inline int find_diff(const pa_statistic_diff *v, size_t n, const char *file, int line)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].filename != NULL && strcmp(v[i].filename, file) == 0 && v[i].lineno == line)
            return (int)i;
    return -1;
}

/* str(Statistic), in a buffer that lives until the next call. */
static inline const char *fmt_stat(const pa_statistic *st)
{
    static char buf[4096];
    int n = pa_statistic_format(st, buf, sizeof buf);
    if (n < 0 || (size_t)n >= sizeof buf)
        fail_msg("pa_statistic_format = %d: %s", n, pa_last_error());
    return buf;
}

static inline const char *fmt_diff(const pa_statistic_diff *st)
{
    static char buf[4096];
    int n = pa_statistic_diff_format(st, buf, sizeof buf);
    if (n < 0 || (size_t)n >= sizeof buf)
        fail_msg("pa_statistic_diff_format = %d: %s", n, pa_last_error());
    return buf;
}

/* A statistic of one frame (file, line), as pa_snapshot_statistics makes for PA_STAT_LINENO. */
static inline pa_statistic one_frame_stat(pa_frame *frame, const char *file, int line, size_t size, size_t count)
{
    frame->filename = file;
    frame->lineno = line;
    pa_statistic st;
    memset(&st, 0, sizeof st);
    st.filename = file;
    st.lineno = line;
    st.frames = frame;
    st.nframes = 1;
    st.size = size;
    st.count = count;
    return st;
}

/* The frames of the traceback of block (count in *n), failing on error. */
static inline int traceback_of(const void *block, pa_frame *out, int cap)
{
    int n = pa_tracemalloc_get_traceback(block, out, cap);
    if (n < 0)
        fail_msg("pa_tracemalloc_get_traceback failed: %s", pa_last_error());
    return n;
}

/* ------------------------------------------------------------------ files */

/* A fresh path under /tmp (the file is created empty). */
static inline void temp_path(char *buf, size_t cap, const char *tag)
{
    snprintf(buf, cap, "/tmp/pa_%s_XXXXXX", tag);
    int fd = mkstemp(buf);
    assert_true(fd >= 0);
    close(fd);
}

static inline size_t read_file(const char *path, unsigned char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, cap, f);
    assert_true(feof(f) || n < cap);
    fclose(f);
    return n;
}

static inline void write_file(const char *path, const void *buf, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

#endif /* PA_TEST_TRACING_H */
