/* test_entry_checks.c -- the C entry's checks (native/entry/check.h) run in
   the Debug library: registered only with PYALLOC_DEBUG_LIBRARY, and run
   against that library (LD_LIBRARY_PATH, tests/c/CMakeLists.txt).

   Each case makes a child break an invariant the Release library cannot see
   on its fast path, and checks that the child stopped with the check's
   message, naming the condition and where it is. */
#define _GNU_SOURCE
#include "test_util.h"

#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>

/* Runs body in a child with stderr captured; returns its stderr and whether it
   was killed by SIGABRT. */
static const char *child_stderr(void (*body)(void), int *aborted)
{
    int fd;
    pid_t pid = pa_test_fork_with_stderr(&fd);
    if (pid == 0) {
        body();
        _exit(0);
    }
    static char out[16384];
    int status = pa_test_child_output(pid, fd, out, sizeof out);
    *aborted = WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
    return out;
}

/* A write after free into a block the thread cache holds (its free tag, the
   second word): the next pa_malloc of its class pops it, and the check sees
   the tag gone.  The Release library hands the block out. */
static void write_after_free_into_a_cached_block(void)
{
    pa_free(pa_malloc(32));            /* the thread's cache exists, its arena slot is filled */
    uintptr_t *p = pa_malloc(32);
    pa_free(p);                        /* the block handed out last: onto its list at once */
    p[1] = 0x5A5A5A5A;                 /* the user's bug */
    (void)pa_malloc(32);
}

static void a_write_after_free_into_a_cached_block_stops_the_debug_library(void **state)
{
    (void)state;
    int aborted;
    const char *err = child_stderr(write_after_free_into_a_cached_block, &aborted);
    if (!aborted || strstr(err, "PyAlloc: C entry check failed: a cached block carries its free tag") == NULL)
        fail_msg("the child was not stopped by the check (aborted=%d):\n%s", aborted, err);
    assert_non_null(strstr(err, "thread_cache.h"));
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_write_after_free_into_a_cached_block_stops_the_debug_library),
    };
    return PA_RUN_TESTS(tests, argc, argv);
}
