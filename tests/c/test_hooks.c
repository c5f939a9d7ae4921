/* test_hooks.c -- allocator hooks (pa_mem_get_allocator, pa_mem_set_allocator,
   pa_mem_setup_debug_hooks: CPython's PyMem_GetAllocator, PyMem_SetAllocator,
   PyMem_SetupDebugHooks), the PYTHONMALLOC names of PYALLOC_MALLOC,
   pa_get_allocated_blocks (sys.getallocatedblocks) and PYALLOC_MALLOCSTATS.

   The hooks are CPython's wrappers: one that counts and forwards to the
   allocator it replaced (accounting), one that refuses past a budget
   (limits), one that serves blocks from the C library itself (a foreign
   allocator).  Each case runs in its own process (CTest), so a hook left
   installed by a failing case cannot touch another. */
#define _GNU_SOURCE
#include "test_util.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/wait.h>

/* ------------------------------------------------------------ the wrappers */

typedef struct counting {
    pa_mem_allocator old;        /* the allocator it forwards to */
    size_t mallocs, callocs, reallocs, frees;
    size_t bytes;                /* requested by malloc, calloc and realloc */
    size_t budget;               /* 0: no limit; else refuse a request past it */
    void *last_freed;
} counting;

static int over_budget(counting *c, size_t n)
{
    return c->budget != 0 && n > c->budget;
}

static void *counting_malloc(void *ctx, size_t n)
{
    counting *c = ctx;
    c->mallocs++;
    if (over_budget(c, n))
        return NULL;
    c->bytes += n;
    return c->old.malloc(c->old.ctx, n);
}

static void *counting_calloc(void *ctx, size_t nelem, size_t elsize)
{
    counting *c = ctx;
    c->callocs++;
    if (over_budget(c, nelem * elsize))
        return NULL;
    c->bytes += nelem * elsize;
    return c->old.calloc(c->old.ctx, nelem, elsize);
}

static void *counting_realloc(void *ctx, void *p, size_t n)
{
    counting *c = ctx;
    c->reallocs++;
    if (over_budget(c, n))
        return NULL;
    c->bytes += n;
    return c->old.realloc(c->old.ctx, p, n);
}

static void counting_free(void *ctx, void *p)
{
    counting *c = ctx;
    c->frees++;
    c->last_freed = p;
    c->old.free(c->old.ctx, p);
}

/* Installs a counting wrapper over the allocator in force. */
static void install_counting(counting *c, size_t budget)
{
    memset(c, 0, sizeof *c);
    c->budget = budget;
    assert_int_equal(pa_mem_get_allocator(PA_MEM_DOMAIN_MEM, &c->old), 0);
    pa_mem_allocator hook = {c, counting_malloc, counting_calloc, counting_realloc, counting_free};
    assert_int_equal(pa_mem_set_allocator(PA_MEM_DOMAIN_MEM, &hook), 0);
}

static void uninstall(counting *c)
{
    assert_int_equal(pa_mem_set_allocator(PA_MEM_DOMAIN_MEM, &c->old), 0);
}

/* A foreign allocator: the C library's own blocks, no forwarding. */
static void *libc_malloc(void *ctx, size_t n) { (void)ctx; return malloc(n); }
static void *libc_calloc(void *ctx, size_t a, size_t b) { (void)ctx; return calloc(a, b); }
static void *libc_realloc(void *ctx, void *p, size_t n) { (void)ctx; return realloc(p, n); }
static void libc_free(void *ctx, void *p) { (void)ctx; free(p); }

/* ------------------------------------------------------------------- cases */

/* The default allocator works when called directly, and setting it again (with no
   hook, or over a hook: that removes it) changes nothing the program can see. */
static void get_and_set_the_same_allocator_is_a_no_op(void **state)
{
    (void)state;
    pa_mem_allocator a, b;
    assert_int_equal(pa_mem_get_allocator(PA_MEM_DOMAIN_MEM, &a), 0);
    assert_null(a.ctx);
    assert_non_null(a.malloc);
    assert_int_equal(pa_mem_set_allocator(PA_MEM_DOMAIN_MEM, &a), 0);
    assert_int_equal(pa_mem_get_allocator(PA_MEM_DOMAIN_MEM, &b), 0);
    assert_memory_equal(&a, &b, sizeof a);

    char *p = a.malloc(a.ctx, 40);                 /* the default functions are usable */
    assert_non_null(p);
    memset(p, 1, 40);
    p = a.realloc(a.ctx, p, 4000);
    assert_non_null(p);
    assert_int_equal(p[39], 1);
    a.free(a.ctx, p);
    char *z = a.calloc(a.ctx, 10, 10);
    assert_non_null(z);
    assert_int_equal(z[99], 0);
    pa_free(z);                                    /* a default block is pa_malloc's */

    counting c;
    install_counting(&c, 0);
    pa_mem_allocator h1, h2;
    assert_int_equal(pa_mem_get_allocator(PA_MEM_DOMAIN_MEM, &h1), 0);
    assert_ptr_equal(h1.ctx, &c);
    assert_int_equal(pa_mem_set_allocator(PA_MEM_DOMAIN_MEM, &h1), 0);   /* the hook again */
    assert_int_equal(pa_mem_get_allocator(PA_MEM_DOMAIN_MEM, &h2), 0);
    assert_memory_equal(&h1, &h2, sizeof h1);
    pa_free(pa_malloc(8));
    assert_int_equal(c.mallocs, 1);                /* installed once, called once */
    assert_int_equal(c.frees, 1);

    uninstall(&c);                                 /* the default again: no hook */
    assert_int_equal(pa_mem_get_allocator(PA_MEM_DOMAIN_MEM, &b), 0);
    assert_memory_equal(&a, &b, sizeof a);
    pa_free(pa_malloc(8));
    assert_int_equal(c.mallocs, 1);
}

/* Accounting: every call of the family reaches the hook, with its size; the blocks
   are the default allocator's (pa_get_allocated_blocks counts them). */
static void a_counting_wrapper_sees_every_call(void **state)
{
    (void)state;
    counting c;
    install_counting(&c, 0);
    size_t before = pa_get_allocated_blocks();
    void *small = pa_malloc(24);
    void *large = pa_malloc(5000);
    void *zeroed = pa_calloc(3, 8);
    void *at = pa_malloc_at(100, "hooked.c", 7);
    assert_non_null(small);
    assert_non_null(large);
    assert_non_null(zeroed);
    assert_non_null(at);
    assert_int_equal(pa_get_allocated_blocks(), before + 4);
    small = pa_realloc(small, 300);
    assert_non_null(small);
    assert_int_equal(c.mallocs, 3);
    assert_int_equal(c.callocs, 1);
    assert_int_equal(c.reallocs, 1);
    assert_int_equal(c.bytes, 24 + 5000 + 24 + 100 + 300);
    pa_free(small);
    pa_free(large);
    pa_free(zeroed);
    pa_free(at);
    pa_free(NULL);                                 /* not a call (pyalloc.h says so) */
    assert_int_equal(c.frees, 4);
    assert_int_equal(pa_get_allocated_blocks(), before);
    uninstall(&c);
}

/* A block allocated before the hook, freed and resized after it: the hook's free and
   realloc get it, forward it to the allocator it replaced, which frees it for real. */
static void a_block_from_before_the_hook_reaches_the_right_free(void **state)
{
    (void)state;
    char *early = pa_malloc(64);
    char *early2 = pa_malloc(64);
    assert_non_null(early);
    memset(early2, 0x42, 64);
    size_t before = pa_get_allocated_blocks();
    counting c;
    install_counting(&c, 0);
    pa_free(early);
    assert_int_equal(c.frees, 1);
    assert_ptr_equal(c.last_freed, early);
    assert_int_equal(pa_get_allocated_blocks(), before - 1);
    char *moved = pa_realloc(early2, 2000);
    assert_non_null(moved);
    assert_int_equal(c.reallocs, 1);
    assert_int_equal(moved[63], 0x42);
    uninstall(&c);
    pa_clear_error();
    pa_free(moved);                                /* the hook's block, freed after it: the default's */
    assert_string_equal(pa_last_error(), "");
    assert_int_equal(pa_get_allocated_blocks(), before - 2);
}

/* Limits: past the budget the hook returns NULL; callers see NULL, errno ENOMEM and an
   error naming the hook; a failed realloc leaves the block as it was. */
static void a_budget_hook_gives_null_and_an_error(void **state)
{
    (void)state;
    char *keep = pa_malloc(32);
    memset(keep, 7, 32);
    counting c;
    install_counting(&c, 1000);
    void *ok = pa_malloc(1000);
    assert_non_null(ok);
    errno = 0;
    pa_clear_error();
    assert_null(pa_malloc(1001));
    assert_int_equal(errno, ENOMEM);
    PA_ASSERT_ERROR_MENTIONS("pa_malloc: the allocator installed by pa_mem_set_allocator returned NULL for 1001 bytes");
    assert_null(pa_calloc(2, 600));
    PA_ASSERT_ERROR_MENTIONS("pa_calloc: the allocator installed by pa_mem_set_allocator returned NULL for 1200 bytes");
    assert_null(pa_realloc(keep, 5000));
    PA_ASSERT_ERROR_MENTIONS("pa_realloc:");
    assert_int_equal(keep[31], 7);                 /* left intact, still the caller's */
    pa_free(keep);
    pa_free(ok);
    uninstall(&c);
}

/* A forwarding hook whose default call fails keeps the default's own error. */
static void a_default_failure_under_the_hook_keeps_its_error(void **state)
{
    (void)state;
    counting c;
    install_counting(&c, 0);
    pa_clear_error();
    assert_null(pa_calloc(SIZE_MAX / 2, 4));
    PA_ASSERT_ERROR_MENTIONS("overflows");
    uninstall(&c);
}

/* A foreign allocator's blocks: served, and one that reaches the default allocator
   after the hook is gone is refused with an error (reported, under the debug hooks),
   never followed. */
static void a_foreign_block_after_the_hook_is_refused(void **state)
{
    (void)state;
    pa_test_catch_reports();
    pa_mem_allocator old;
    assert_int_equal(pa_mem_get_allocator(PA_MEM_DOMAIN_MEM, &old), 0);
    pa_mem_allocator libc = {NULL, libc_malloc, libc_calloc, libc_realloc, libc_free};
    assert_int_equal(pa_mem_set_allocator(PA_MEM_DOMAIN_MEM, &libc), 0);
    size_t blocks = pa_get_allocated_blocks();
    char *p = pa_malloc(48);
    assert_non_null(p);
    strcpy(p, "from libc");
    assert_int_equal(pa_get_allocated_blocks(), blocks);   /* not PyAlloc's */
    assert_int_equal(pa_mem_set_allocator(PA_MEM_DOMAIN_MEM, &old), 0);
    pa_clear_error();
    pa_free(p);
    PA_ASSERT_ERROR_MENTIONS(pa_test_debug_hooks() ? "not a live block" : "not allocated by PyAlloc");
    assert_string_equal(p, "from libc");           /* untouched */
    free(p);
}

/* tracemalloc names the program's call, not the hook's call into the default. */
static void tracemalloc_names_the_call_site_under_a_hook(void **state)
{
    (void)state;
    assert_int_equal(pa_tracemalloc_start(1), 0);
    counting c;
    install_counting(&c, 0);
    void *p = pa_malloc_at(100, "hooked.c", 42);
    assert_non_null(p);
    pa_frame f[1];
    assert_int_equal(pa_tracemalloc_get_traceback(p, f, 1), 1);
    assert_string_equal(f[0].filename, "hooked.c");
    assert_int_equal(f[0].lineno, 42);
    pa_free(p);
    uninstall(&c);
    pa_tracemalloc_stop();
}

/* Bad arguments: errors, never a crash. */
static void bad_arguments_are_refused(void **state)
{
    (void)state;
    pa_mem_allocator a;
    assert_int_equal(pa_mem_get_allocator(PA_MEM_DOMAIN_RAW, &a), -1);
    PA_ASSERT_ERROR_MENTIONS("PA_MEM_DOMAIN_RAW has no allocator of its own");
    assert_int_equal(pa_mem_get_allocator(PA_MEM_DOMAIN_OBJ, &a), -1);
    PA_ASSERT_ERROR_MENTIONS("PA_MEM_DOMAIN_OBJ");
    assert_int_equal(pa_mem_get_allocator(7, &a), -1);
    PA_ASSERT_ERROR_MENTIONS("unknown domain 7");
    assert_int_equal(pa_mem_get_allocator(PA_MEM_DOMAIN_MEM, NULL), -1);
    PA_ASSERT_ERROR_MENTIONS("out is NULL");
    assert_int_equal(pa_mem_set_allocator(PA_MEM_DOMAIN_MEM, NULL), -1);
    PA_ASSERT_ERROR_MENTIONS("allocator is NULL");
    assert_int_equal(pa_mem_get_allocator(PA_MEM_DOMAIN_MEM, &a), 0);
    a.calloc = NULL;
    assert_int_equal(pa_mem_set_allocator(PA_MEM_DOMAIN_MEM, &a), -1);
    PA_ASSERT_ERROR_MENTIONS("a function of the allocator is NULL");
    assert_int_equal(pa_mem_set_allocator(-1, &a), -1);
    pa_free(pa_malloc(8));                         /* nothing was installed */
}

/* PyMem_SetupDebugHooks before the first allocation: the debug variant of the mode. */
static void setup_debug_hooks_before_the_first_allocation(void **state)
{
    (void)state;
    assert_int_equal(pa_mem_setup_debug_hooks(), 0);
    assert_string_equal(pa_get_allocator_mode(), "debug");
    unsigned char *p = pa_malloc(8);
    assert_non_null(p);
    assert_int_equal(p[0], 0xCD);                  /* CLEANBYTE: the hooks lay it out */
    pa_free(p);
    assert_int_equal(pa_mem_setup_debug_hooks(), 0);   /* on already: nothing changes */
}

/* ... and after it: refused (the blocks have no header), unless the hooks are on. */
static void setup_debug_hooks_after_allocation(void **state)
{
    (void)state;
    pa_free(pa_malloc(8));
    if (pa_test_debug_hooks()) {
        assert_int_equal(pa_mem_setup_debug_hooks(), 0);
        return;
    }
    assert_int_equal(pa_mem_setup_debug_hooks(), -1);
    PA_ASSERT_ERROR_MENTIONS("before the first allocation");
    assert_string_equal(pa_get_allocator_mode(), "pymalloc");
}

/* PyMem_SetupDebugHooks over a hook: CPython's order, the hooks outermost.  The hook
   sees each request with the hooks' 4S bytes and frees the raw block 2S before the
   data; the data has the hooks' layout (CLEANBYTE, checkable). */
static void debug_hooks_go_over_an_installed_hook(void **state)
{
    (void)state;
    counting c;
    install_counting(&c, 0);
    assert_int_equal(pa_mem_setup_debug_hooks(), 0);
    pa_mem_allocator in_force;
    assert_int_equal(pa_mem_get_allocator(PA_MEM_DOMAIN_MEM, &in_force), 0);
    assert_ptr_not_equal(in_force.malloc, counting_malloc);   /* the hooks' functions now */

    unsigned char *p = pa_malloc(10);
    assert_non_null(p);
    assert_int_equal(c.mallocs, 1);
    assert_int_equal(c.bytes, 10 + 32);
    assert_int_equal(p[0], 0xCD);
    assert_int_equal(p[9], 0xCD);
    assert_int_equal(pa_debug_check_block(p), 0);

    unsigned char *z = pa_calloc(4, 5);
    assert_non_null(z);
    assert_int_equal(c.callocs, 1);
    for (int i = 0; i < 20; i++)
        assert_int_equal(z[i], 0);

    memcpy(p, "0123456789", 10);
    unsigned char *q = pa_realloc(p, 2000);
    assert_non_null(q);
    assert_int_equal(c.reallocs, 1);             /* the hook's realloc, as CPython's hooks call it */
    assert_memory_equal(q, "0123456789", 10);
    assert_int_equal(q[10], 0xCD);
    assert_int_equal(pa_debug_check_block(q), 0);

    pa_free(q);
    assert_int_equal(c.frees, 1);
    assert_ptr_equal(c.last_freed, q - 16);      /* the raw block, where the hook made it */
    pa_free(z);
    assert_int_equal(c.frees, 2);

    assert_int_equal(pa_mem_setup_debug_hooks(), 0);   /* over themselves: nothing changes */
    pa_mem_allocator again;
    assert_int_equal(pa_mem_get_allocator(PA_MEM_DOMAIN_MEM, &again), 0);
    assert_ptr_equal(again.malloc, in_force.malloc);
    assert_ptr_equal(again.ctx, in_force.ctx);
}

/* The hooks over a hook catch what they catch over pymalloc: an overflow is reported,
   the damaged block is not freed (the handler returned), a double free is named. */
static void debug_hooks_over_a_hook_report_damage(void **state)
{
    (void)state;
    pa_test_catch_reports();
    counting c;
    install_counting(&c, 0);
    assert_int_equal(pa_mem_setup_debug_hooks(), 0);
    char *p = pa_malloc(24);
    assert_non_null(p);
    p[24] = 'x';                                  /* one byte past the end: the trailing pad */
    pa_free(p);
    PA_ASSERT_REPORTED(1, "bad trailing pad byte");
    PA_ASSERT_ERROR_MENTIONS("bad trailing pad byte");
    assert_int_equal(c.frees, 0);                 /* reported, not freed */
    p[24] = (char)0xFD;                           /* repaired: now it goes */
    pa_free(p);
    assert_int_equal(c.frees, 1);
    pa_free(p);
    PA_ASSERT_REPORTED(2, "double free");
    assert_int_equal(c.frees, 1);
}

/* Over a foreign allocator (the C library's): its blocks carry the hooks' layout; a
   block it made before the hooks were set up has none, and is refused, not read. */
static void debug_hooks_over_a_foreign_allocator(void **state)
{
    (void)state;
    pa_test_catch_reports();
    pa_mem_allocator libc = {NULL, libc_malloc, libc_calloc, libc_realloc, libc_free};
    assert_int_equal(pa_mem_set_allocator(PA_MEM_DOMAIN_MEM, &libc), 0);
    char *before = pa_malloc(40);
    assert_non_null(before);
    assert_int_equal(pa_mem_setup_debug_hooks(), 0);
    unsigned char *p = pa_malloc(100);
    assert_non_null(p);
    assert_int_equal(p[99], 0xCD);
    pa_free(p);
    assert_int_equal(pa_test_seen.count, 0);
    pa_free(before);
    PA_ASSERT_REPORTED(1, "not a live block");
    free(before);                                 /* still the C library's */
}

/* Two forwarding hooks, each of which knows its own ctx: a call that paired one hook's
   function with the other's ctx (a half-installed allocator) would be counted. */
typedef struct tagged {
    int tag;
    pa_mem_allocator old;
} tagged;

static _Atomic long mixed_calls;

#define TAGGED_FUNCS(T) \
    static void *tagged##T##_malloc(void *ctx, size_t n) \
    { tagged *t = ctx; if (t->tag != T) mixed_calls++; return t->old.malloc(t->old.ctx, n); } \
    static void *tagged##T##_calloc(void *ctx, size_t a, size_t b) \
    { tagged *t = ctx; if (t->tag != T) mixed_calls++; return t->old.calloc(t->old.ctx, a, b); } \
    static void *tagged##T##_realloc(void *ctx, void *p, size_t n) \
    { tagged *t = ctx; if (t->tag != T) mixed_calls++; return t->old.realloc(t->old.ctx, p, n); } \
    static void tagged##T##_free(void *ctx, void *p) \
    { tagged *t = ctx; if (t->tag != T) mixed_calls++; t->old.free(t->old.ctx, p); }
TAGGED_FUNCS(1)
TAGGED_FUNCS(2)

static _Atomic int racing_done;

static void *allocate_while_hooks_change(void *arg)
{
    (void)arg;
    while (!racing_done) {
        char *p = pa_malloc(48);
        if (p == NULL)
            continue;
        p[0] = 1;
        p = pa_realloc(p, 700);
        pa_free(p);
    }
    return NULL;
}

/* pa_mem_set_allocator while another thread allocates: each call of that thread sees one
   allocator whole (its functions with its own ctx), old or new, never a mix, and every
   block is freed where it came from (both hooks forward to the default). */
static void a_thread_racing_with_the_change_sees_one_allocator_whole(void **state)
{
    (void)state;
    pa_mem_allocator def;
    assert_int_equal(pa_mem_get_allocator(PA_MEM_DOMAIN_MEM, &def), 0);
    static tagged t1, t2;
    t1 = (tagged){1, def};
    t2 = (tagged){2, def};
    pa_mem_allocator h1 = {&t1, tagged1_malloc, tagged1_calloc, tagged1_realloc, tagged1_free};
    pa_mem_allocator h2 = {&t2, tagged2_malloc, tagged2_calloc, tagged2_realloc, tagged2_free};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, allocate_while_hooks_change, NULL), 0);
    for (int i = 0; i < 3000; i++) {
        const pa_mem_allocator *a = i % 3 == 0 ? &h1 : i % 3 == 1 ? &h2 : &def;
        assert_int_equal(pa_mem_set_allocator(PA_MEM_DOMAIN_MEM, a), 0);
    }
    racing_done = 1;
    pthread_join(th, NULL);
    assert_int_equal(pa_mem_set_allocator(PA_MEM_DOMAIN_MEM, &def), 0);
    assert_int_equal(mixed_calls, 0);
}

/* PYTHONMALLOC's names: "default" is pymalloc, "pymalloc_debug" is "debug". */
static void mode_default_is_pymalloc(void **state)
{
    (void)state;
    assert_int_equal(pa_set_allocator_mode("default"), 0);
    pa_free(pa_malloc(8));
    assert_string_equal(pa_get_allocator_mode(), "pymalloc");
}

static void mode_pymalloc_debug_is_debug(void **state)
{
    (void)state;
    assert_int_equal(pa_set_allocator_mode("pymalloc_debug"), 0);
    pa_free(pa_malloc(8));
    assert_string_equal(pa_get_allocator_mode(), "debug");
}

static void mode_mimalloc_is_refused_with_the_reason(void **state)
{
    (void)state;
    assert_int_equal(pa_set_allocator_mode("mimalloc"), -1);
    PA_ASSERT_ERROR_MENTIONS("has no mimalloc");
    assert_int_equal(pa_set_allocator_mode("mimalloc_debug"), -1);
    PA_ASSERT_ERROR_MENTIONS("preload it and choose malloc");
    assert_int_equal(pa_set_allocator_mode("pymalloc-debug"), -1);
    PA_ASSERT_ERROR_MENTIONS("expected default, pymalloc, malloc, debug, pymalloc_debug or malloc_debug");
}

/* sys.getallocatedblocks: pool and large blocks, up and down again. */
static void allocated_blocks_count_pool_and_large_blocks(void **state)
{
    (void)state;
    size_t before = pa_get_allocated_blocks();
    void *b[10];
    for (int i = 0; i < 10; i++)
        b[i] = pa_malloc(i < 5 ? 16 : 4096);
    assert_int_equal(pa_get_allocated_blocks(), before + 10);
    for (int i = 0; i < 10; i++)
        pa_free(b[i]);
    assert_int_equal(pa_get_allocated_blocks(), before);
}

/* The child of the PYALLOC_MALLOCSTATS case: allocates and exits normally. */
static void mallocstats_child(void **state)
{
    (void)state;
    for (int i = 0; i < 12000; i++)                /* 3 MiB of 256-byte blocks, kept: new arenas */
        pa_malloc(256);
}

/* The child's stderr, run with PYALLOC_MALLOCSTATS=1 and PYALLOC_MALLOC=mode. */
static const char *mallocstats_child_stderr(const char *mode)
{
    int fd;
    pid_t pid = pa_test_fork_with_stderr(&fd);
    if (pid == 0) {
        setenv("PYALLOC_MALLOCSTATS", "1", 1);
        setenv("PYALLOC_MALLOC", mode, 1);
        setenv("PYALLOC_TEST_MALLOC", "", 1);
        execl("/proc/self/exe", "test_hooks", "mallocstats_child", (char *)NULL);
        _exit(127);
    }
    static char out[1 << 20];
    int status = pa_test_child_output(pid, fd, out, sizeof out);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    return out;
}

static int count_of(const char *text, const char *what)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, what)) != NULL; p += strlen(what))
        n++;
    return n;
}

/* PYALLOC_MALLOCSTATS=1: the stats table on stderr each time an arena is mapped and at
   exit, in the pool modes; nothing over malloc (as CPython ignores it there). */
static void mallocstats_prints_the_table_per_arena_and_at_exit(void **state)
{
    (void)state;
    const char *line = "# arenas allocated current";
    const char *out = mallocstats_child_stderr("pymalloc");
    int tables = count_of(out, line);
    if (tables < 4)                                /* 3 MiB: at least 3 arenas, then the exit */
        fail_msg("%d stats tables on the child's stderr, expected at least 4:\n%s", tables, out);
    assert_non_null(strstr(out, "Small block threshold = 512"));
    out = mallocstats_child_stderr("debug");
    assert_true(count_of(out, line) >= 4);
    out = mallocstats_child_stderr("malloc");
    if (count_of(out, line) != 0)
        fail_msg("a stats table over malloc:\n%s", out);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(get_and_set_the_same_allocator_is_a_no_op),
        cmocka_unit_test(a_counting_wrapper_sees_every_call),
        cmocka_unit_test(a_block_from_before_the_hook_reaches_the_right_free),
        cmocka_unit_test(a_budget_hook_gives_null_and_an_error),
        cmocka_unit_test(a_default_failure_under_the_hook_keeps_its_error),
        cmocka_unit_test(a_foreign_block_after_the_hook_is_refused),
        cmocka_unit_test(tracemalloc_names_the_call_site_under_a_hook),
        cmocka_unit_test(bad_arguments_are_refused),
        cmocka_unit_test(setup_debug_hooks_before_the_first_allocation),
        cmocka_unit_test(setup_debug_hooks_after_allocation),
        cmocka_unit_test(a_thread_racing_with_the_change_sees_one_allocator_whole),
        cmocka_unit_test(debug_hooks_go_over_an_installed_hook),
        cmocka_unit_test(debug_hooks_over_a_hook_report_damage),
        cmocka_unit_test(debug_hooks_over_a_foreign_allocator),
        cmocka_unit_test(mode_default_is_pymalloc),
        cmocka_unit_test(mode_pymalloc_debug_is_debug),
        cmocka_unit_test(mode_mimalloc_is_refused_with_the_reason),
        cmocka_unit_test(allocated_blocks_count_pool_and_large_blocks),
        cmocka_unit_test(mallocstats_child),
        cmocka_unit_test(mallocstats_prints_the_table_per_arena_and_at_exit),
    };
    return PA_RUN_TESTS(tests, argc, argv);
}
