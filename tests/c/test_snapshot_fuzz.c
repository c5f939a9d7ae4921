/* test_snapshot_fuzz.c -- snapshot files are hostile input (issue 13).

   - Mutation fuzzing: from valid files dumped by the library (several
     tracebacks of up to 5 frames, several file names), thousands of
     mutants: random bit flips, truncations, splices of two files, and
     crafted values of every count and field (0, 1, -1, INT_MAX, INT_MIN,
     2^64 - 16, ...); most with the checksum fixed up, so that the contents
     checks (not the checksum) must catch them.  Every mutant is loaded:
     refused with a message naming pa_snapshot_load and the file, or loaded
     and then fully used (statistics by every key, each formatted,
     compare_to, filter).  No crash, no hang (CTest's time limit), and the
     process's peak RSS stays bounded.
   - The cases the issue found: a 0-frame traceback with a valid checksum,
     a traceback limit of 0 and INT_MAX, line INT_MIN, sizes that wrap the
     totals, invalid UTF-8 names: refused, naming the field.
   - /dev/zero and a large foreign file are refused at once, in bounded
     memory (the magic is checked before the rest is read). */
#define _GNU_SOURCE
#include "test_tracing.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <time.h>

#define FUZZ_CASES 4000

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
    uint64_t h = 0xCBF29CE484222325ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001B3ULL;
    return h;
}

static void fix_checksum(unsigned char *p, size_t n)
{
    if (n < 8)
        return;
    uint64_t h = fnv1a(p, n - 8);
    memcpy(p + n - 8, &h, 8);
}

static void write_all(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static size_t read_all(const char *path, unsigned char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static void tmp_name(char *out, size_t cap, const char *tag)
{
    snprintf(out, cap, "/tmp/pyalloc-fuzz-%d-%s.snap", (int)getpid(), tag);
}

/* A valid snapshot file of traces from nframe-deep call chains. */
static void *__attribute__((noinline)) alloc_at(int depth, size_t n)
{
    if (depth > 0)
        return alloc_at(depth - 1, n);
    return pa_malloc(n);
}

static size_t make_valid(const char *path, int nframe, unsigned char *buf, size_t cap)
{
    assert_int_equal(pa_tracemalloc_start(nframe), 0);
    void *keep[24];
    for (int i = 0; i < 24; i++)
        keep[i] = i % 3 == 0 ? PA_MALLOC((size_t)(i * 7 + 1)) : alloc_at(i % 4, (size_t)(i * 13 + 5));
    pa_snapshot *s = pa_tracemalloc_take_snapshot();
    assert_non_null(s);
    assert_int_equal(pa_snapshot_dump(s, path), 0);
    pa_snapshot_free(s);
    for (int i = 0; i < 24; i++)
        pa_free(keep[i]);
    pa_tracemalloc_stop();
    return read_all(path, buf, cap);
}

/* The offsets of the file's fields, by walking it as the format says. */
enum { F_U32, F_I32, F_U64 };
typedef struct { size_t at; int kind; } field;

static size_t fields_of(const unsigned char *p, size_t n, field *out, size_t cap)
{
    size_t k = 0, at = 12;
#define U32AT(o) (*(const uint32_t *)(p + (o)))
#define ADD(o, kd) do { if (k < cap) { out[k].at = (o); out[k].kind = (kd); k++; } } while (0)
    ADD(8, F_U32);                       /* version */
    ADD(at, F_U32); at += 4;             /* traceback limit */
    uint32_t names = U32AT(at); ADD(at, F_U32); at += 4;
    for (uint32_t i = 0; i < names; i++) { ADD(at, F_U32); at += 4 + U32AT(at); }
    uint32_t tbs = U32AT(at); ADD(at, F_U32); at += 4;
    for (uint32_t t = 0; t < tbs; t++) {
        uint32_t frames = U32AT(at); ADD(at, F_U32); at += 4;
        for (uint32_t f = 0; f < frames; f++) { ADD(at, F_U32); ADD(at + 4, F_I32); at += 8; }
    }
    uint64_t traces; memcpy(&traces, p + at, 8); ADD(at, F_U64); at += 8;
    size_t per_trace = U32AT(8) >= 2 ? 16 : 12;   /* version 2: size, traceback, domain */
    for (uint64_t i = 0; i < traces; i++) {
        ADD(at, F_U64); ADD(at + 8, F_U32);
        if (per_trace == 16)
            ADD(at + 12, F_U32);
        at += per_trace;
    }
    assert_int_equal(at + 8, n);         /* the walk ends at the checksum */
#undef U32AT
#undef ADD
    return k;
}

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
#define next_rand() pa_test_random(&rng)

static const uint64_t extremes[] = {
    0, 1, 2, 5, 100, 101, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFFFFFE,
    0x7FFFFFFFFFFFFFFFULL, 0x8000000000000000ULL, 0xFFFFFFFFFFFFFFF0ULL, 0xFFFFFFFFFFFFFFFFULL,
};

/* Loads path; when it loads, uses all of it.  Returns 1 when loaded. */
static int load_and_use(const char *path)
{
    pa_clear_error();
    pa_snapshot *s = pa_snapshot_load(path);
    if (s == NULL) {
        const char *e = pa_last_error();
        if (strstr(e, "pa_snapshot_load") == NULL || strstr(e, path) == NULL)
            fail_msg("a refusal that does not name the call and the file: \"%s\"", e);
        return 0;
    }
    static pa_statistic st[256];
    static pa_statistic_diff diff[256];
    char text[512];
    for (int key = 0; key < 3; key++) {
        size_t n = pa_snapshot_statistics(s, (pa_stat_key)key, st, 256);
        assert_true(n != PA_SIZE_ERROR);
        for (size_t i = 0; i < n && i < 256; i++) {
            assert_true(st[i].nframes >= 1);
            assert_true(pa_statistic_format(&st[i], text, sizeof text) >= 0);
        }
        size_t d = pa_snapshot_compare_to(s, s, (pa_stat_key)key, diff, 256);
        assert_true(d != PA_SIZE_ERROR);
        for (size_t i = 0; i < d && i < 256; i++)
            assert_true(pa_statistic_diff_format(&diff[i], text, sizeof text) >= 0);
    }
    pa_snapshot *f = pa_snapshot_filter(s, 1, "*", 0);
    assert_non_null(f);
    pa_snapshot_free(f);
    for (int key = 0; key < 2; key++)
        assert_true(pa_snapshot_statistics_cumulative(s, (pa_stat_key)key, st, 256) != PA_SIZE_ERROR);
    size_t traces = pa_snapshot_trace_count(s);
    for (size_t i = 0; i < traces; i++) {
        pa_trace t;
        assert_int_equal(pa_snapshot_get_trace(s, i, &t), 0);
        assert_true(t.nframes >= 1);
        assert_true(pa_traceback_format(t.frames, t.nframes, PA_TRACEBACK_NO_LIMIT, 0, text, sizeof text) >= 0);
    }
    pa_filter filters[3] = {
        {.kind = PA_FILTER, .inclusive = 1, .filename_pattern = "*", .all_frames = 1},
        {.kind = PA_FILTER, .inclusive = 0, .filename_pattern = "*.h"},
        {.kind = PA_DOMAIN_FILTER, .inclusive = 0, .domain = 7},
    };
    f = pa_snapshot_filter_traces(s, filters, 3);
    assert_non_null(f);
    pa_snapshot_free(f);
    pa_snapshot_free(s);
    return 1;
}

static long peak_rss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static void mutants_are_refused_or_load_whole(void **state)
{
    (void)state;
    static unsigned char a[1 << 16], b[1 << 16], m[1 << 17];
    static field fields[4096];
    char pa_[96], pb[96], pm[96];
    tmp_name(pa_, sizeof pa_, "a");
    tmp_name(pb, sizeof pb, "b");
    tmp_name(pm, sizeof pm, "m");
    size_t na = make_valid(pa_, 5, a, sizeof a);
    size_t nb = make_valid(pb, 3, b, sizeof b);
    size_t nf = fields_of(a, na, fields, 4096);
    assert_true(nf > 20);
    long rss_before = peak_rss_kib();

    int loaded = 0, refused = 0;
    int counts[4] = {0};
    for (int c = 0; c < FUZZ_CASES; c++) {
        size_t n = na;
        memcpy(m, a, na);
        int kind = (int)(next_rand() % 4);
        counts[kind]++;
        int fix = next_rand() % 8 != 0;        /* most mutants get a right checksum */
        switch (kind) {
        case 0: {                               /* bit flips */
            int flips = 1 + (int)(next_rand() % 4);
            for (int i = 0; i < flips; i++) {
                size_t at = next_rand() % (n - 8);
                m[at] ^= (unsigned char)(1u << (next_rand() % 8));
            }
            break;
        }
        case 1:                                 /* truncation */
            n = next_rand() % na;
            break;
        case 2: {                               /* splice: a's head, b's tail */
            size_t cut_a = next_rand() % na, cut_b = next_rand() % nb;
            memcpy(m + cut_a, b + cut_b, nb - cut_b);
            n = cut_a + (nb - cut_b);
            break;
        }
        default: {                              /* a crafted value in a field */
            field f = fields[next_rand() % nf];
            uint64_t v = extremes[next_rand() % (sizeof extremes / sizeof extremes[0])];
            if (f.kind == F_U64)
                memcpy(m + f.at, &v, 8);
            else {
                uint32_t v32 = (uint32_t)v;
                memcpy(m + f.at, &v32, 4);
            }
            break;
        }
        }
        if (fix)
            fix_checksum(m, n);
        write_all(pm, m, n);
        if (load_and_use(pm))
            loaded++;
        else
            refused++;
    }
    long rss_growth = peak_rss_kib() - rss_before;
    print_message("%d mutants (%d flips, %d truncations, %d splices, %d crafted fields): %d loaded, %d refused; "
                  "peak RSS grew by %ld KiB\n", FUZZ_CASES, counts[0], counts[1], counts[2], counts[3],
                  loaded, refused, rss_growth);
    assert_true(refused > FUZZ_CASES / 2);
    assert_true(rss_growth < 64 * 1024);       /* bounded: the files are a few KiB */
    unlink(pa_);
    unlink(pb);
    unlink(pm);
}

/* Sets the u32/i32/u64 field at `at` of a copy of the valid file, fixes the
   checksum, and expects a refusal whose message contains `part`. */
static void expect_field_refused(const unsigned char *valid, size_t n, size_t at, int width, uint64_t v,
                                 const char *part)
{
    static unsigned char m[1 << 16];
    char path[96];
    tmp_name(path, sizeof path, "field");
    memcpy(m, valid, n);
    memcpy(m + at, &v, (size_t)width);
    fix_checksum(m, n);
    write_all(path, m, n);
    pa_clear_error();
    pa_snapshot *s = pa_snapshot_load(path);
    if (s != NULL)
        fail_msg("a file with field at %zu = %llu loaded", at, (unsigned long long)v);
    if (strstr(pa_last_error(), part) == NULL)
        fail_msg("expected \"%s\" in \"%s\"", part, pa_last_error());
    unlink(path);
}

static void the_issues_crafted_files_are_refused_naming_the_field(void **state)
{
    (void)state;
    static unsigned char a[1 << 16];
    static field fields[4096];
    char path[96];
    tmp_name(path, sizeof path, "valid");
    size_t n = make_valid(path, 5, a, sizeof a);
    size_t nf = fields_of(a, n, fields, 4096);
    /* fields[1]: the limit; fields[2]: the string count; then the strings; then the traceback count. */
    expect_field_refused(a, n, fields[1].at, 4, 0, "traceback limit is 0");
    expect_field_refused(a, n, fields[1].at, 4, 0x7FFFFFFF, "traceback limit is 2147483647");
    size_t tb_count = 0, first_frames = 0, first_line = 0, first_size = 0;
    uint32_t names = *(uint32_t *)(a + fields[2].at);
    tb_count = fields[3 + names].at;
    first_frames = fields[4 + names].at;
    first_line = fields[6 + names].at;
    for (size_t i = 0; i < nf; i++)
        if (fields[i].kind == F_U64) {
            first_size = fields[i + 1].at;      /* the trace count, then the first trace's size */
            break;
        }
    (void)tb_count;
    expect_field_refused(a, n, first_frames, 4, 0, "traceback 0 has 0 frames");
    expect_field_refused(a, n, first_line, 4, 0x80000000u, "has line -2147483648");
    expect_field_refused(a, n, first_size, 8, 0xFFFFFFFFFFFFFFF0ULL, "PTRDIFF_MAX");
    /* A name that is not UTF-8: the first string's first byte. */
    expect_field_refused(a, n, fields[3].at + 4, 1, 0xFF, "not valid UTF-8");
    unlink(path);
}

/* A version 1 file (PyAlloc 0.1.0 before domains: 12 bytes per trace) still
   loads, every trace in domain 0; a version above 2 is refused by number. */
static void version_1_files_still_load_in_domain_0(void **state)
{
    (void)state;
    static unsigned char a[1 << 16], v1[1 << 16];
    static field fields[4096];
    char path[96];
    tmp_name(path, sizeof path, "v1");
    size_t n = make_valid(path, 3, a, sizeof a);
    size_t nf = fields_of(a, n, fields, 4096);
    size_t count_at = 0;
    for (size_t i = 0; i < nf; i++)
        if (fields[i].kind == F_U64) {
            count_at = fields[i].at;            /* the trace count */
            break;
        }
    uint64_t traces;
    memcpy(&traces, a + count_at, 8);
    size_t m = count_at + 8;
    memcpy(v1, a, m);
    uint32_t one = 1;
    memcpy(v1 + 8, &one, 4);
    for (uint64_t i = 0; i < traces; i++) {      /* drop each trace's domain */
        memcpy(v1 + m, a + count_at + 8 + i * 16, 12);
        m += 12;
    }
    m += 8;                                       /* the checksum */
    fix_checksum(v1, m);
    write_all(path, v1, m);
    pa_snapshot *s = pa_snapshot_load(path);
    assert_non_null(s);
    assert_int_equal(pa_snapshot_trace_count(s), traces);
    for (size_t i = 0; i < traces; i++) {
        pa_trace t;
        assert_int_equal(pa_snapshot_get_trace(s, i, &t), 0);
        assert_int_equal(t.domain, 0);
    }
    pa_snapshot_free(s);
    uint32_t three = 3;
    memcpy(a + 8, &three, 4);
    fix_checksum(a, n);
    write_all(path, a, n);
    assert_null(pa_snapshot_load(path));
    assert_non_null(strstr(pa_last_error(), "version 3; this PyAlloc reads versions 1 to 2"));
    unlink(path);
}

static void dev_zero_and_large_foreign_files_are_refused_at_once(void **state)
{
    (void)state;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_null(pa_snapshot_load("/dev/zero"));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_non_null(strstr(pa_last_error(), "not a PyAlloc snapshot"));
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    assert_true(ms < 1000);
    /* A sparse 4 GiB file with the right magic: refused by its size, unread. */
    char path[96];
    tmp_name(path, sizeof path, "big");
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    unsigned char head[16] = {'S', 'N', 'A', 'B', 'S', 'N', 'A', 'P', 1, 0, 0, 0, 5, 0, 0, 0};
    assert_int_equal(write(fd, head, 16), 16);
    assert_int_equal(ftruncate(fd, (off_t)4 << 30), 0);
    close(fd);
    long before = peak_rss_kib();
    assert_null(pa_snapshot_load(path));
    assert_non_null(strstr(pa_last_error(), "more than the"));
    assert_true(peak_rss_kib() - before < 16 * 1024);
    unlink(path);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mutants_are_refused_or_load_whole),
        cmocka_unit_test(the_issues_crafted_files_are_refused_naming_the_field),
        cmocka_unit_test(version_1_files_still_load_in_domain_0),
        cmocka_unit_test(dev_zero_and_large_foreign_files_are_refused_at_once),
    };
    return PA_RUN_TESTS(tests, argc, argv);
}
