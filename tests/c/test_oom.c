/* test_oom.c -- out of memory at every step (issue 13).

   PYALLOC_FAIL_MAP_AT=N makes the N-th mapping of the OS memory layer, and
   every later one, fail as mmap does when memory is exhausted (src/PyAlloc.Core/Platform/
   OsMemory.Unix.cs), in the manner of Lua's test allocator.  The test runs a
   workload (blocks of every size over several arenas, a runtime with
   objects, cycles and weakrefs, collections, tracemalloc and a snapshot) in
   a fresh process for every N from 1 to 40 (the workload maps fewer
   times): in every run each failure must surface as NULL or -1 with a
   message (or be absorbed: as CPython's pymalloc, pa_malloc falls back to
   the system allocator when no arena can be mapped), nothing may crash,
   and afterwards every block is freed, the runtime too, and the
   allocator's statistics hold no block (nothing leaked). */
#define _GNU_SOURCE
#include "test_objects.h"

#include <spawn.h>
#include <sys/wait.h>

extern char **environ;

static int failures;

/* A failed call must leave a message. */
static void saw_failure(const char *what)
{
    failures++;
    if (pa_last_error()[0] == '\0') {
        fprintf(stderr, "%s failed without a message\n", what);
        _exit(4);
    }
    pa_clear_error();
}

/* The workload; exit 0 when all went well (a failure or not), another code
   when something was wrong. */
static int workload(void)
{
    enum { N = 30000 };
    static void *blocks[N];
    for (int i = 0; i < N; i++) {
        size_t n = (size_t)(i * 37) % 600 + 1;
        if (i % 1000 == 0)
            n = 100000;
        blocks[i] = pa_malloc(n);
        if (blocks[i] == NULL)
            saw_failure("pa_malloc");
        else
            memset(blocks[i], 0xAB, n);
    }
    pa_runtime *rt = pa_runtime_new();
    if (rt == NULL)
        saw_failure("pa_runtime_new");
    else {
        pa_object *root = pa_list_new(rt);
        if (root == NULL)
            saw_failure("pa_list_new");
        for (int i = 0; i < 20000; i++) {
            pa_object *a = pa_list_new(rt);
            if (a == NULL) {
                saw_failure("pa_list_new");
                continue;
            }
            if (pa_list_append(a, a) != 0)
                saw_failure("pa_list_append");
            if (root != NULL && i % 10 == 0 && pa_list_append(root, a) != 0)
                saw_failure("pa_list_append");
            if (i % 100 == 0) {
                pa_object *w = pa_weakref_new(a, NULL, NULL);
                if (w == NULL)
                    saw_failure("pa_weakref_new");
                pa_xdecref(w);
            }
            pa_decref(a);
        }
        if (pa_gc_collect(rt, 2) < 0)
            saw_failure("pa_gc_collect");
        pa_xdecref(root);
        if (pa_gc_collect(rt, 2) < 0)
            saw_failure("pa_gc_collect");
        pa_runtime_free(rt);
    }
    if (pa_tracemalloc_start(3) != 0)
        saw_failure("pa_tracemalloc_start");
    void *traced[100];
    for (int i = 0; i < 100; i++)
        if ((traced[i] = pa_malloc((size_t)i * 5 + 1)) == NULL)
            saw_failure("pa_malloc (traced)");
    pa_snapshot *s = pa_tracemalloc_take_snapshot();
    if (s == NULL)
        saw_failure("pa_tracemalloc_take_snapshot");
    pa_snapshot_free(s);
    for (int i = 0; i < 100; i++)
        pa_free(traced[i]);
    pa_tracemalloc_stop();
    for (int i = 0; i < N; i++)
        pa_free(blocks[i]);
    pa_trim();
    pa_malloc_stats st;
    if (pa_get_malloc_stats(&st) != 0)
        return 5;
    size_t in_use = 0;
    for (int i = 0; i < PA_NUM_SIZE_CLASSES; i++)
        in_use += st.classes[i].blocks_in_use;
    if (in_use != 0 || st.large_blocks != 0) {
        fprintf(stderr, "leaked: %zu pool blocks, %zu large blocks\n", in_use, st.large_blocks);
        return 6;
    }
    printf("%d failures seen\n", failures);
    return 0;
}

static void every_failing_map_surfaces_as_an_error(void **state)
{
    (void)state;
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    assert_true(len > 0);
    self[len] = '\0';
    int runs = 0, bad = 0;
    enum { MAX_N = 40 };
    char report[2048] = "";
    for (int n = 1; n <= MAX_N; n++) {
        char var[64];
        snprintf(var, sizeof var, "PYALLOC_FAIL_MAP_AT=%d", n);
        char *env[] = {var, "PA_TEST_OOM_WORKLOAD=1", "PYALLOC_MALLOC=", NULL};
        char *argv[] = {self, NULL};
        pid_t pid;
        assert_int_equal(posix_spawn(&pid, self, NULL, NULL, argv, env), 0);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        runs++;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            bad++;
            size_t l = strlen(report);
            if (l + 100 < sizeof report)
                snprintf(report + l, sizeof report - l, "  map %d failing: %s %d\n", n,
                         WIFEXITED(status) ? "exit code" : "signal",
                         WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        }
    }
    print_message("%d runs, one more map failing in each; %d went wrong\n%s", runs, bad, report);
    assert_int_equal(runs, MAX_N);
    assert_int_equal(bad, 0);
}

int main(int argc, char **argv)
{
    if (getenv("PA_TEST_OOM_WORKLOAD") != NULL)
        return workload();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_failing_map_surfaces_as_an_error),
    };
    return PA_RUN_TESTS(tests, argc, argv);
}
