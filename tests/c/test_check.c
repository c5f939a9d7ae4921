/* test_check.c -- PYALLOC_CHECK=1: the heap checker of the core
   (src/PyAlloc.Core/Allocator/HeapInvariants.cs) run on the process heaps at
   each pa_trim and pa_get_malloc_stats.

   - A healthy heap passes it: random mallocs, reallocs and frees of 1..600
     bytes, trims and statistics between them, no fatal report.
   - It runs safely beside other threads: four threads allocate and free
     while the main thread asks for statistics (each a full check) again and
     again.
   - It finds a broken heap: a child damages a pool header (its live count)
     and calls pa_trim; the check reports "PYALLOC_CHECK" with the rule that
     broke as a fatal error, and the child dies of SIGABRT. */
#define _GNU_SOURCE
#include "test_util.h"
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

static int reports;
static void count_report(const char *message, void *user)
{
    (void)user;
    fprintf(stderr, "unexpected fatal report:\n%s\n", message);
    reports++;
}

static uint64_t rng = 0x9e3779b97f4a7c15u;
#define next() pa_test_random(&rng)

static void a_healthy_heap_passes_the_check(void **state)
{
    (void)state;
    pa_set_fatal_error_handler(count_report, NULL);
    enum { SLOTS = 4096, OPS = 200000 };
    static void *slot[SLOTS];
    pa_malloc_stats stats;
    for (int i = 0; i < OPS; i++) {
        size_t k = next() % SLOTS, n = 1 + next() % 600;
        if (slot[k] == NULL) {
            slot[k] = pa_malloc(n);
            assert_non_null(slot[k]);
        } else if (next() % 4 == 0) {
            slot[k] = pa_realloc(slot[k], n);
            assert_non_null(slot[k]);
        } else {
            pa_free(slot[k]);
            slot[k] = NULL;
        }
        if (i % 20000 == 0) {
            assert_int_equal(pa_get_malloc_stats(&stats), 0);
            pa_trim();
        }
    }
    for (int k = 0; k < SLOTS; k++)
        pa_free(slot[k]);
    pa_trim();
    assert_int_equal(pa_get_malloc_stats(&stats), 0);
    assert_int_equal(reports, 0);
}

static volatile int stop_workers;
static void *worker(void *arg)
{
    uint64_t r = (uintptr_t)arg * 0x2545F4914F6CDD1Du + 1;
    void *mine[512] = {0};
    while (!stop_workers) {
        pa_test_random(&r);
        size_t k = r % 512;
        if (mine[k]) { pa_free(mine[k]); mine[k] = NULL; }
        else mine[k] = pa_malloc(1 + (r >> 20) % 512);
    }
    for (int k = 0; k < 512; k++)
        pa_free(mine[k]);
    return NULL;
}

static void the_check_runs_beside_other_threads(void **state)
{
    (void)state;
    pa_set_fatal_error_handler(count_report, NULL);
    pthread_t t[4];
    for (uintptr_t i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, worker, (void *)(i + 1)), 0);
    pa_malloc_stats stats;
    for (int i = 0; i < 200; i++)
        assert_int_equal(pa_get_malloc_stats(&stats), 0);
    stop_workers = 1;
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    pa_trim();
    assert_int_equal(reports, 0);
}

static void a_damaged_pool_header_is_reported(void **state)
{
    (void)state;
    int err[2];
    assert_int_equal(pipe(err), 0);
    pid_t pid = fork();   /* before this process's first call into PyAlloc */
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(err[1], 2);
        close(err[0]);
        void *p[64];
        for (int i = 0; i < 64; i++)
            p[i] = pa_malloc(48);
        uint32_t *pool = (uint32_t *)((uintptr_t)p[10] & ~(uintptr_t)(16384 - 1));
        pool[0] += 1;     /* the pool's live count (PoolHeader.Count) is now wrong */
        pa_trim();
        _exit(0);         /* not reached: the check aborts */
    }
    close(err[1]);
    char text[8192];
    size_t got = 0;
    ssize_t r;
    while (got < sizeof text - 1 && (r = read(err[0], text + got, sizeof text - 1 - got)) > 0)
        got += (size_t)r;
    text[got] = 0;
    close(err[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT)
        fail_msg("the child should die of SIGABRT; status 0x%x, stderr:\n%s", status, text);
    if (!strstr(text, "Fatal PyAlloc error: pa_trim: PYALLOC_CHECK: process heap")
        || !strstr(text, "the live bitmap has"))
        fail_msg("the report should name the check and the broken rule; stderr:\n%s", text);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_healthy_heap_passes_the_check),
        cmocka_unit_test(the_check_runs_beside_other_threads),
        cmocka_unit_test(a_damaged_pool_header_is_reported),
    };
    return PA_RUN_TESTS(tests, argc, argv);
}
