/* test_exports_fuzz.c -- every export of libpyalloc.so's dynamic symbol
   table, called with bad arguments (issue 13): no crash, no exception out of
   the library, no hang.

   The list of exports is read from the loaded library itself (`nm -D
   --defined-only` of the file dladdr names), so a new export is fuzzed the
   day it appears.  Each export is called with every argument register set
   to one pattern (the x86-64 calling convention lets a function ignore the
   extra ones; a size or int argument gets the same bits):
     null      0
     made-up   the address of a 1 MiB buffer of 0x5a bytes (0-terminated):
               a made-up object, runtime, type, snapshot or block that can
               be read, as a stale pointer into reused memory would be;
     wild      0x5a5a5a5a5a5a5a5a, an address nothing is mapped at.
   Each call runs in a child of its own (a crash there is caught and named
   by its signal), bounded by a time limit, with a fatal error handler that
   returns (the debug hooks report bad frees through it; reporting is their
   job, not a crash).  A call may return anything and set any error; it must
   return.

   Not called with "wild": the calls whose pointer arguments are the
   caller's own memory, which the library reads or writes as the contract
   says (an out-parameter, a string, a FILE *, a pa_statistic filled by a
   snapshot call), exactly as memcpy would: those are listed below with the
   argument, and the header says so (section 1). */
#define _GNU_SOURCE
#include "test_util.h"

#include <dlfcn.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

typedef uintptr_t (*any_fn)(uintptr_t, uintptr_t, uintptr_t, uintptr_t, uintptr_t, uintptr_t);

/* Calls that read or write the caller's memory through a pointer argument. */
static const char *const callers_memory[] = {
    "pa_get_malloc_stats",              /* out */
    "pa_print_malloc_stats",            /* FILE *out */
    "pa_object_get_arena_allocator",    /* out */
    "pa_object_set_arena_allocator",    /* const pa_mem_arena_allocator *: its functions are called later */
    "pa_pool_map",                      /* out, cap */
    "pa_set_allocator_mode",            /* const char *mode */
    "pa_snapshot_load",                 /* const char *path */
    "pa_statistic_format",              /* const pa_statistic *, char *buf */
    "pa_statistic_diff_format",         /* const pa_statistic_diff *, char *buf */
    "pa_tracemalloc_get_traced_memory", /* size_t *current, *peak */
    "pa_malloc_at",                     /* const char *file: read while tracing */
    "pa_gc_get_referents_n",            /* pa_object *const *objs, n: read before any object */
    "pa_tracemalloc_track_at",          /* const char *file: read while tracing */
    "pa_traceback_format",              /* const pa_frame *frames, char *buf */
    "pa_mem_get_allocator",             /* pa_mem_allocator *out */
    "pa_mem_set_allocator",             /* const pa_mem_allocator *allocator */
    "pa_runtime_get_malloc_stats",      /* out */
    "pa_runtime_print_malloc_stats",    /* FILE *out */
};

static int reads_callers_memory(const char *name)
{
    for (size_t i = 0; i < sizeof callers_memory / sizeof callers_memory[0]; i++)
        if (strcmp(name, callers_memory[i]) == 0)
            return 1;
    return 0;
}

static void returning_handler(const char *message, void *user)
{
    (void)message;
    (void)user;
}

#define MAX_EXPORTS 512

static int read_exports(char names[][64], int max)
{
    Dl_info info;
    if (dladdr((void *)pa_version, &info) == 0 || info.dli_fname == NULL)
        return -1;
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "nm -D --defined-only '%s'", info.dli_fname);
    FILE *p = popen(cmd, "r");
    if (p == NULL)
        return -1;
    int n = 0;
    char line[256];
    while (fgets(line, sizeof line, p) != NULL && n < max) {
        char addr[64], type[8], name[128];
        if (sscanf(line, "%63s %7s %127s", addr, type, name) != 3)
            continue;
        char *at = strchr(name, '@');      /* "pa_malloc@@V1.0": the version goes */
        if (at != NULL)
            *at = '\0';
        if (type[0] == 'T' && strlen(name) < 64)
            strcpy(names[n++], name);
    }
    pclose(p);
    return n;
}

/* Runs fn(x, x, x, x, x, x) in a child; "" when it returned, else what happened. */
static const char *call_in_child(any_fn fn, uintptr_t x, char *why, size_t cap)
{
    pid_t pid = fork();
    if (pid < 0)
        return "fork failed";
    if (pid == 0) {
        alarm(20);
        pa_set_fatal_error_handler(returning_handler, NULL);
        fn(x, x, x, x, x, x);
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return "";
    if (WIFSIGNALED(status))
        snprintf(why, cap, "killed by signal %d (%s)", WTERMSIG(status),
                 WTERMSIG(status) == SIGALRM ? "hung" : strsignal(WTERMSIG(status)));
    else
        snprintf(why, cap, "exit code %d", WEXITSTATUS(status));
    return why;
}

static void every_export_survives_null_made_up_and_wild_pointers(void **state)
{
    (void)state;
    static char names[MAX_EXPORTS][64];
    int n = read_exports(names, MAX_EXPORTS);
    assert_true(n > 80);                   /* the header's functions, and pa__dealloc & co. */
    assert_string_equal(names[0], "pa__dealloc");

    size_t buf_size = (size_t)1 << 20;
    char *made_up = mmap(NULL, buf_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(made_up != MAP_FAILED);
    memset(made_up, 0x5a, buf_size - 1);
    made_up[buf_size - 1] = 0;
    pa_free(pa_malloc(1));                 /* the library's start, before any fork */

    const struct { const char *name; uintptr_t value; } patterns[] = {
        {"null", 0},
        {"made-up", (uintptr_t)made_up},
        {"wild", (uintptr_t)0x5a5a5a5a5a5a5a5au},
    };
    int calls = 0, bad = 0;
    static char report[1 << 16];
    report[0] = 0;
    for (int i = 0; i < n; i++) {
        any_fn fn = (any_fn)dlsym(RTLD_DEFAULT, names[i]);
        assert_non_null(fn);
        for (size_t k = 0; k < sizeof patterns / sizeof patterns[0]; k++) {
            if (patterns[k].value != 0 && reads_callers_memory(names[i]))
                continue;
            char why[96];
            const char *r = call_in_child(fn, patterns[k].value, why, sizeof why);
            calls++;
            if (r[0] != '\0') {
                bad++;
                size_t len = strlen(report);
                if (len + 256 < sizeof report)
                    snprintf(report + len, sizeof report - len, "  %.63s(%.8s...): %.95s\n", names[i], patterns[k].name, r);
            }
        }
    }
    print_message("%d exports, %d calls, %d failed\n%s", n, calls, bad, report);
    munmap(made_up, buf_size);
    assert_int_equal(bad, 0);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_export_survives_null_made_up_and_wild_pointers),
    };
    return PA_RUN_TESTS(tests, argc, argv);
}
