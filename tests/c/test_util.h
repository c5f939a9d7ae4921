/* test_util.h -- shared helpers of the PyAlloc C tests.

   - pa_test_main(): runs one cmocka group, restricted to the case named by
     argv[1] when given (CTest runs one process per case), and refuses a name
     that is not a case of the group: a misspelt filter would otherwise run
     nothing and pass.  It first applies PYALLOC_TEST_MALLOC (see below).
   - The allocator mode a case runs in, and what differs with the debug hooks
     on: the raw size the pools see (n + 32), the size class, usable sizes,
     and a handler that records the hooks' reports instead of aborting.
   - Byte patterns derived from a block's address and size, to prove that the
     allocator neither overlaps live blocks nor loses contents on realloc.
   - Small helpers over pa_get_malloc_stats().
   - pa_test_random(): a reproducible xorshift64 stream. */
#ifndef PA_TEST_UTIL_H
#define PA_TEST_UTIL_H

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <cmocka.h>

#include <pyalloc.h>

/* ------------------------------------------------------- mode of the run

   CTest pins PYALLOC_MALLOC for every case (empty: pymalloc, the default;
   test_mode's env_malloc_* cases: malloc).  PYALLOC_TEST_MALLOC=debug puts
   the debug hooks over whatever the case pins: PYALLOC_MALLOC becomes
   "debug" (for "" or "pymalloc") or "malloc_debug" (for "malloc") before the
   library reads it.  The CTest tests named debug.<file>.<case> run every
   case that way; `PYALLOC_TEST_MALLOC=debug ctest` runs all of them so. */

/* Applies PYALLOC_TEST_MALLOC; 0, or -1 (with a message) for a value other than "debug". */
static inline int pa_test_apply_mode_override(void)
{
    const char *o = getenv("PYALLOC_TEST_MALLOC");
    if (o == NULL || o[0] == '\0')
        return 0;
    if (strcmp(o, "debug") != 0) {
        fprintf(stderr, "PYALLOC_TEST_MALLOC=%s: the only override is \"debug\"\n", o);
        return -1;
    }
    const char *m = getenv("PYALLOC_MALLOC");
    const char *debug = "debug";
    if (m != NULL && (strcmp(m, "malloc") == 0 || strcmp(m, "malloc_debug") == 0))
        debug = "malloc_debug";
    return setenv("PYALLOC_MALLOC", debug, 1);
}

/* The mode a case that pins `base` ("pymalloc" or "malloc") runs in: base,
   or its debug counterpart under PYALLOC_TEST_MALLOC=debug. */
static inline const char *pa_test_mode_name(const char *base)
{
    const char *o = getenv("PYALLOC_TEST_MALLOC");
    if (o == NULL || strcmp(o, "debug") != 0)
        return base;
    return strcmp(base, "malloc") == 0 ? "malloc_debug" : "debug";
}

/* The mode in force is one of the two debug modes. */
static inline int pa_test_debug_hooks(void)
{
    const char *m = pa_get_allocator_mode();
    return strcmp(m, "debug") == 0 || strcmp(m, "malloc_debug") == 0;
}

/* Small raw requests are served from pools ("pymalloc", "debug"). */
static inline int pa_test_pools(void)
{
    const char *m = pa_get_allocator_mode();
    return strcmp(m, "pymalloc") == 0 || strcmp(m, "debug") == 0;
}

/* What the allocator under the hooks is asked for a request of n bytes:
   n + 32 (size, id and pads, serial number) with the debug hooks on. */
static inline size_t pa_test_raw_size(size_t n)
{
    return pa_test_debug_hooks() ? n + 32 : n;
}

/* The size class whose pools serve a request of n bytes, or -1 when the
   system allocator does (large, or a malloc mode). */
static inline int pa_test_class_of(size_t n)
{
    size_t raw = pa_test_raw_size(n);
    if (!pa_test_pools() || raw > PA_SMALL_REQUEST_THRESHOLD)
        return -1;
    return raw == 0 ? 0 : (int)((raw - 1) / PA_ALIGNMENT);
}

/* pa_usable_size of a live block of n bytes served from a pool: its class
   size, or with the debug hooks exactly n. */
static inline size_t pa_test_pool_usable(size_t n)
{
    if (pa_test_debug_hooks())
        return n;
    return n == 0 ? PA_ALIGNMENT : (n + PA_ALIGNMENT - 1) / PA_ALIGNMENT * PA_ALIGNMENT;
}

/* ------------------------------------------------ debug hooks' reports */

/* What the recording handler saw: how many reports, and the last one. */
typedef struct pa_test_reports {
    int count;
    char last[16384];
} pa_test_reports;

static pa_test_reports pa_test_seen;

static inline void pa_test_record_report(const char *message, void *user)
{
    pa_test_reports *r = (pa_test_reports *)user;
    r->count++;
    snprintf(r->last, sizeof r->last, "%s", message);
}

/* Forks a child whose standard error is a pipe: returns 0 in the child (stderr
   is the pipe's write end), and in the parent the child's pid with *fd the read
   end, for pa_test_child_output. */
static inline pid_t pa_test_fork_with_stderr(int *fd)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        close(fds[1]);
        return 0;
    }
    close(fds[1]);
    *fd = fds[0];
    return pid;
}

/* A forked child's standard error (read from fd, its pipe, until the child
   closes it; NUL-terminated in out), then its wait status. */
static inline int pa_test_child_output(pid_t pid, int fd, char *out, size_t cap)
{
    size_t n = 0;
    ssize_t r;
    while (n + 1 < cap && ((r = read(fd, out + n, cap - 1 - n)) > 0 || (r < 0 && errno == EINTR)))
        if (r > 0)
            n += (size_t)r;
    out[n] = '\0';
    close(fd);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

/* Forget earlier reports and record the next ones instead of aborting. */
static inline void pa_test_catch_reports(void)
{
    pa_test_seen.count = 0;
    pa_test_seen.last[0] = '\0';
    pa_set_fatal_error_handler(pa_test_record_report, &pa_test_seen);
}

/* Exactly `count` reports since pa_test_catch_reports, the last one containing text. */
#define PA_ASSERT_REPORTED(count_, text) \
    do { if (pa_test_seen.count != (count_)) fail_msg("%d reports, expected %d; last:\n%s", \
                                                       pa_test_seen.count, (count_), pa_test_seen.last); \
         if (strstr(pa_test_seen.last, (text)) == NULL) \
             fail_msg("the report does not say \"%s\":\n%s", (text), pa_test_seen.last); } while (0)

/* ------------------------------------------------------------ random numbers

   xorshift64: a fast, reproducible stream from a seed the caller keeps (a
   test's run draws the same numbers every time; never 0). */
static inline uint64_t pa_test_random(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

/* ---------------------------------------------------------------- watchdog

   PA_TEST_WATCHDOG=N (seconds; tests/c/CMakeLists.txt sets it below CTest's
   TIMEOUT for the suites whose cases start threads): a case still running N
   seconds after the program started prints every thread's stack (gdb, when
   /usr/bin/gdb exists) on stderr, then aborts.  A hang then leaves its stacks
   in the CTest log (--output-on-failure) instead of a bare "Timeout".
   The handler only makes system calls: the hung threads may hold any lock
   (malloc's, stdio's, the library's), so it writes with write(2), starts gdb
   with vfork and execv (no pthread_atfork handler runs: the library's takes
   every lock of the core) and waits for it. */
#include <signal.h>
#include <sys/prctl.h>

static char pa_watchdog_pid[24];
static char *pa_watchdog_argv[] = { "gdb", "-nx", "-batch", "-p", pa_watchdog_pid,
                                    "-ex", "thread apply all bt", NULL };
static const char pa_watchdog_gdb[] = "/usr/bin/gdb";

static inline void pa_test_watchdog_fire(int sig)
{
    (void)sig;
    static const char said[] = "\npa_test watchdog: the case still runs after PA_TEST_WATCHDOG seconds: "
                               "every thread's stack, then abort\n";
    ssize_t ignored = write(2, said, sizeof said - 1);
    (void)ignored;
    pid_t child = vfork();
    if (child == 0) {
        dup2(2, 1);
        execv(pa_watchdog_gdb, pa_watchdog_argv);
        _exit(127);
    }
    if (child > 0)
        waitpid(child, NULL, 0);
    abort();
}

/* Arms the watchdog when PA_TEST_WATCHDOG names a number of seconds > 0. */
static inline void pa_test_arm_watchdog(void)
{
    const char *s = getenv("PA_TEST_WATCHDOG");
    unsigned seconds = s != NULL ? (unsigned)strtoul(s, NULL, 10) : 0;
    if (seconds == 0)
        return;
    snprintf(pa_watchdog_pid, sizeof pa_watchdog_pid, "%ld", (long)getpid());
    prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);   /* Yama: gdb, our child, may attach */
    struct sigaction act;
    memset(&act, 0, sizeof act);
    act.sa_handler = pa_test_watchdog_fire;
    sigemptyset(&act.sa_mask);
    sigaction(SIGALRM, &act, NULL);
    alarm(seconds);
}

/* ------------------------------------------------------------ test driver */

static inline int pa_test_main(const char *group, const struct CMUnitTest *tests, size_t n,
                               int argc, char **argv)
{
    if (pa_test_apply_mode_override() != 0)
        return 2;
    pa_test_arm_watchdog();
    if (argc > 1) {
        size_t i;
        for (i = 0; i < n; i++)
            if (strcmp(tests[i].name, argv[1]) == 0)
                break;
        if (i == n) {
            fprintf(stderr, "%s: no test case named '%s'\n", group, argv[1]);
            return 2;
        }
        cmocka_set_test_filter(argv[1]);
    }
    return _cmocka_run_group_tests(group, tests, n, NULL, NULL);
}

#define PA_RUN_TESTS(tests, argc, argv) \
    pa_test_main(#tests, tests, sizeof(tests) / sizeof((tests)[0]), (argc), (argv))

/* ---------------------------------------------------------------- patterns */

/* A deterministic byte stream: byte i of the pattern of (seed) depends only on
   seed and i, so a prefix of a block can be checked after realloc. */
static inline uint64_t pa_pattern_seed(const void *p, size_t size)
{
    uint64_t s = ((uint64_t)(uintptr_t)p ^ (uint64_t)size) * 0x9E3779B97F4A7C15ULL;
    return s ? s : 0x2545F4914F6CDD1DULL;
}

static inline uint64_t pa_pattern_next(uint64_t *s)
{
    /* xorshift64* */
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static inline void pa_pattern_fill(void *block, size_t n, uint64_t seed)
{
    unsigned char *b = (unsigned char *)block;
    uint64_t s = seed;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t v = pa_pattern_next(&s);
        memcpy(b + i, &v, 8);
    }
    if (i < n) {
        uint64_t v = pa_pattern_next(&s);
        memcpy(b + i, &v, n - i);
    }
}

/* The offset of the first byte of block[0..n) that differs from the pattern,
   or (size_t)-1 when all match. */
static inline size_t pa_pattern_check(const void *block, size_t n, uint64_t seed)
{
    const unsigned char *b = (const unsigned char *)block;
    uint64_t s = seed;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t v = pa_pattern_next(&s);
        if (memcmp(b + i, &v, 8) != 0)
            break;
    }
    if (i < n) {
        uint64_t v = pa_pattern_next(&s);
        size_t k = n - i < 8 ? n - i : 8;
        const unsigned char *vb = (const unsigned char *)&v;
        for (size_t j = 0; j < k; j++)
            if (b[i + j] != vb[j])
                return i + j;
        if (k == 8) /* a full word mismatched above */
            return i;
    }
    return (size_t)-1;
}

/* -------------------------------------------------------------------- stats */

/* The size class index pymalloc serves n (<= 512) from: blocks of 16 * (i + 1). */
static inline size_t pa_class_of(size_t n)
{
    return n == 0 ? 0 : (n - 1) / PA_ALIGNMENT;
}

/* Blocks in use that serve requests of n bytes: in the size class that
   serves n (pa_test_class_of), or large ones. */
static inline size_t pa_test_blocks_serving(const pa_malloc_stats *st, size_t n)
{
    int c = pa_test_class_of(n);
    return c >= 0 ? st->classes[c].blocks_in_use : st->large_blocks;
}

static inline pa_malloc_stats pa_stats_now(void)
{
    pa_malloc_stats st;
    memset(&st, 0xAB, sizeof st); /* the call must overwrite every field */
    assert_int_equal(pa_get_malloc_stats(&st), 0);
    return st;
}

static inline size_t pa_stats_blocks_in_use(const pa_malloc_stats *st)
{
    size_t total = 0;
    for (int i = 0; i < PA_NUM_SIZE_CLASSES; i++)
        total += st->classes[i].blocks_in_use;
    return total;
}

/* Fails the test (with the first bad figure) when the stats contradict each other. */
static inline void pa_assert_stats_consistent(const pa_malloc_stats *st)
{
    size_t pools = 0, used_bytes = 0, free_bytes = 0, quantization = 0, header = 0;
    assert_int_equal(st->arena_bytes, st->arenas_current * PA_ARENA_SIZE);
    assert_true(st->arenas_highwater >= st->arenas_current);
    assert_int_equal(st->arenas_allocated - st->arenas_reclaimed, st->arenas_current);
    assert_int_equal(st->pools_in_use + st->pools_free, st->arenas_current * (PA_ARENA_SIZE / PA_POOL_SIZE));
    assert_int_equal(st->bytes_in_free_pools, st->pools_free * PA_POOL_SIZE);
    if (st->pools_in_use != 0) {
        /* The pool header size is not in the API: derive it, then check it. */
        assert_int_equal(st->bytes_pool_headers % st->pools_in_use, 0);
        header = st->bytes_pool_headers / st->pools_in_use;
        assert_int_equal(header % PA_ALIGNMENT, 0);  /* the first block stays aligned */
        assert_true(header > 0 && header < PA_POOL_SIZE / 2);
    } else {
        assert_int_equal(st->bytes_pool_headers, 0);
    }
    for (int i = 0; i < PA_NUM_SIZE_CLASSES; i++) {
        const pa_size_class_stats *c = &st->classes[i];
        assert_int_equal(c->block_size, (size_t)PA_ALIGNMENT * (size_t)(i + 1));
        if (c->pools == 0) {
            assert_int_equal(c->blocks_in_use, 0);
            assert_int_equal(c->free_blocks, 0);
            continue;
        }
        size_t per_pool = (PA_POOL_SIZE - header) / c->block_size;
        assert_int_equal(c->blocks_in_use + c->free_blocks, c->pools * per_pool);
        /* a carved pool has at least one live block (empty pools count as free pools) */
        assert_true(c->blocks_in_use >= c->pools);
        pools += c->pools;
        used_bytes += c->blocks_in_use * c->block_size;
        free_bytes += c->free_blocks * c->block_size;
        quantization += c->pools * (PA_POOL_SIZE - header - per_pool * c->block_size);
    }
    assert_int_equal(pools, st->pools_in_use);
    assert_int_equal(used_bytes, st->bytes_in_used_blocks);
    assert_int_equal(free_bytes, st->bytes_in_free_blocks);
    assert_int_equal(quantization, st->bytes_quantization);
    /* Every byte of every current arena is accounted for exactly once. */
    assert_int_equal(st->bytes_in_used_blocks + st->bytes_in_free_blocks + st->bytes_in_free_pools
                         + st->bytes_pool_headers + st->bytes_quantization,
                     st->arena_bytes);
}

/* Fails the test, naming the first differing figure, when a and b differ. */
#define PA_STATS_FIELD_EQ(a, b, f) \
    do { if ((a)->f != (b)->f) fail_msg("stats field %s: %zu != %zu", #f, (size_t)(a)->f, (size_t)(b)->f); } while (0)

static inline void pa_assert_stats_equal(const pa_malloc_stats *a, const pa_malloc_stats *b)
{
    PA_STATS_FIELD_EQ(a, b, arenas_allocated);
    PA_STATS_FIELD_EQ(a, b, arenas_reclaimed);
    PA_STATS_FIELD_EQ(a, b, arenas_highwater);
    PA_STATS_FIELD_EQ(a, b, arenas_current);
    PA_STATS_FIELD_EQ(a, b, arena_bytes);
    PA_STATS_FIELD_EQ(a, b, pools_in_use);
    PA_STATS_FIELD_EQ(a, b, pools_free);
    PA_STATS_FIELD_EQ(a, b, bytes_in_used_blocks);
    PA_STATS_FIELD_EQ(a, b, bytes_in_free_blocks);
    PA_STATS_FIELD_EQ(a, b, bytes_in_free_pools);
    PA_STATS_FIELD_EQ(a, b, bytes_pool_headers);
    PA_STATS_FIELD_EQ(a, b, bytes_quantization);
    PA_STATS_FIELD_EQ(a, b, large_blocks);
    PA_STATS_FIELD_EQ(a, b, large_bytes);
    for (int i = 0; i < PA_NUM_SIZE_CLASSES; i++) {
        const pa_size_class_stats *x = &a->classes[i], *y = &b->classes[i];
        if (x->pools != y->pools || x->blocks_in_use != y->blocks_in_use || x->free_blocks != y->free_blocks)
            fail_msg("stats of class %d (%zu bytes): pools %zu/%zu, blocks in use %zu/%zu, free %zu/%zu",
                     i, x->block_size, x->pools, y->pools, x->blocks_in_use, y->blocks_in_use,
                     x->free_blocks, y->free_blocks);
    }
}

/* The calling thread has an error message. */
#define PA_ASSERT_ERROR_SET() \
    do { const char *e_ = pa_last_error(); assert_non_null(e_); \
         if (e_[0] == '\0') fail_msg("pa_last_error() is empty after a failing call"); } while (0)

/* The calling thread's error message contains text. */
#define PA_ASSERT_ERROR_MENTIONS(text) \
    do { const char *e_ = pa_last_error(); assert_non_null(e_); \
         if (strstr(e_, (text)) == NULL) fail_msg("pa_last_error() = \"%s\" does not mention \"%s\"", e_, (text)); } while (0)

/* ------------------------------------------------------- randomness, RSS */

/* splitmix64: the next number of the sequence kept in *state (each test file
   keeps its own seed, so its cases draw the same numbers on every run). */
static inline uint64_t pa_test_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* The process's resident set in bytes (/proc/self/statm), failing the case
   when it cannot be read. */
static inline size_t pa_test_rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    assert_non_null(f);
    unsigned long size = 0, resident = 0;
    assert_int_equal(fscanf(f, "%lu %lu", &size, &resident), 2);
    fclose(f);
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

#endif /* PA_TEST_UTIL_H */
