/* test_hostile.c -- hostile input and hostile moments (issue 13):

   - pointers that are not what the call wants: an object of another
     runtime where the list's runtime is required; a made-up object on the
     stack; an unmapped address; a freed object; a list's item array (a live
     block of the runtime that is no object); a freed runtime (every call,
     and a second free); a made-up runtime filled with 0x5a; a freed type;
     each gets -1 / NULL / PA_SIZE_ERROR and a message, never a crash;
   - pa_runtime_free from a finaliser and from a gc callback of the same
     runtime is refused, and the runtime goes on working;
   - pa__refcnt_error(NULL) and pa__dealloc of a live object are refused;
   - ref_offsets whose offset + 8 wraps past SIZE_MAX are refused;
   - a finaliser that drops the last reference itself runs once, and its
     object dies once; pa_weakref_new refuses an object whose count is 0;
   - fork() while other threads hammer pa_malloc/pa_free and a runtime:
     hundreds of forks, every child allocates, frees, makes a runtime and
     collects within a time limit (a child that hangs is killed and
     counted), and all must succeed. */
#define _GNU_SOURCE
#include "test_objects.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

/* The call failed with a message that contains `part`. */
#define ASSERT_REFUSED_WITH(part)                                                   \
    do {                                                                            \
        const char *e_ = pa_last_error();                                           \
        if (strstr(e_, (part)) == NULL)                                             \
            fail_msg("expected an error containing \"%s\", got \"%s\"", (part), e_); \
        pa_clear_error();                                                           \
    } while (0)

/* An address with nothing mapped at it. */
static void *unmapped_address(void)
{
    void *p = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(p != MAP_FAILED);
    munmap(p, 1 << 16);
    return (char *)p + 4096;
}

/* Every call that takes an object, given o: each refuses it with `part`. */
static void assert_object_refused_everywhere(pa_object *o, pa_object *good_list, const char *part)
{
    pa_clear_error();
    assert_int_equal(pa_list_append(good_list, o), -1);
    ASSERT_REFUSED_WITH(part);
    assert_int_equal(pa_list_set(good_list, 0, o), -1);
    ASSERT_REFUSED_WITH(part);
    assert_int_equal(pa_list_append(o, good_list), -1);
    ASSERT_REFUSED_WITH(part);
    assert_true(pa_list_size(o) == PA_SIZE_ERROR);
    ASSERT_REFUSED_WITH(part);
    assert_null(pa_list_get(o, 0));
    ASSERT_REFUSED_WITH(part);
    assert_int_equal(pa_list_clear(o), -1);
    ASSERT_REFUSED_WITH(part);
    assert_int_equal(pa_list_check(o), 0);
    ASSERT_REFUSED_WITH(part);
    assert_int_equal(pa_weakref_check(o), 0);
    ASSERT_REFUSED_WITH(part);
    pa_gc_track(o);
    ASSERT_REFUSED_WITH(part);
    pa_gc_untrack(o);
    ASSERT_REFUSED_WITH(part);
    assert_int_equal(pa_gc_is_tracked(o), -1);
    ASSERT_REFUSED_WITH(part);
    assert_int_equal(pa_gc_is_finalized(o), -1);
    ASSERT_REFUSED_WITH(part);
    assert_true(pa_gc_get_referents(o, NULL, 0) == PA_SIZE_ERROR);
    ASSERT_REFUSED_WITH(part);
    assert_null(pa_object_runtime(o));
    ASSERT_REFUSED_WITH(part);
    pa_object_make_immortal(o);
    ASSERT_REFUSED_WITH(part);
    assert_null(pa_object_gc_resize(o, 4));
    ASSERT_REFUSED_WITH(part);
    assert_null(pa_weakref_new(o, NULL, NULL));
    ASSERT_REFUSED_WITH(part);
    assert_null(pa_weakref_get(o));
    ASSERT_REFUSED_WITH(part);
    assert_true(pa_weakref_count(o) == PA_SIZE_ERROR);
    ASSERT_REFUSED_WITH(part);
    pa__dealloc(o);
    ASSERT_REFUSED_WITH(part);
    pa__refcnt_error(o);
    ASSERT_REFUSED_WITH(part);
}

/* ------------------------------------------------------ objects of the wrong kind */

static void another_runtimes_object_is_refused(void **state)
{
    (void)state;
    pa_runtime *a = new_runtime();
    pa_runtime *b = new_runtime();
    pa_object *la = new_list(a);
    pa_object *lb = new_list(b);
    assert_int_equal(pa_list_append(lb, la), -1);
    ASSERT_REFUSED_WITH("another runtime");
    append(lb, lb);
    assert_int_equal(pa_list_set(lb, 0, la), -1);
    ASSERT_REFUSED_WITH("another runtime");
    assert_true(pa_gc_get_referrers(b, la, NULL, 0) == PA_SIZE_ERROR);
    ASSERT_REFUSED_WITH("another runtime");
    assert_int_equal(pa_list_size(lb), 1);
    /* What the issue saw crash: free A, then B's list and B itself. */
    pa_decref(la);
    pa_runtime_free(a);
    pa_decref(lb);
    assert_int_equal(pa_gc_collect(b, 2), 1);
    pa_runtime_free(b);
}

static void pointers_that_are_no_live_object_are_refused(void **state)
{
    (void)state;
    pa_runtime *rt = new_runtime();
    pa_object *l = new_list(rt);
    append(l, l);

    /* A made-up object on the stack whose "type" is a real type. */
    struct { pa_object head; void *pad[4]; } fake;
    memset(&fake, 0, sizeof fake);
    fake.head.ob_refcnt = 5;
    fake.head.ob_type = ((pa_object *)l)->ob_type;
    assert_object_refused_everywhere(&fake.head, l, "not a live object");

    /* Nothing mapped there, and addresses no allocator would give. */
    assert_object_refused_everywhere((pa_object *)unmapped_address(), l, "not a live object");
    assert_object_refused_everywhere((pa_object *)(uintptr_t)0x5a5a5a5a5a5a5a50u, l, "not a live object");
    assert_object_refused_everywhere((pa_object *)(uintptr_t)8, l, "not a live object");

    /* A block of pa_malloc, and a pointer into the middle of an object. */
    void *m = pa_malloc(64);
    assert_object_refused_everywhere((pa_object *)m, l, "not a live object");
    pa_free(m);
    assert_object_refused_everywhere((pa_object *)((char *)l + 16), l, "not a live object");

    /* A freed object (its block is free in its pool). */
    pa_type *t = node_type(rt);
    pa_object *n = new_node(t, 1);
    pa_decref(n);
    assert_object_refused_everywhere(n, l, "not a live object");

    /* The list's item array: a live block of the runtime, but no object. */
    for (int i = 0; i < 20; i++)
        append(l, l);
    pa_object **items = *(pa_object ***)((char *)l + sizeof(pa_var_object));
    assert_object_refused_everywhere((pa_object *)items, l, "not a live object");
    /* A large object (above 512 bytes) is vouched for too, and a freed one refused. */
    pa_type_spec big = {.name = "big", .basicsize = 4096};
    pa_type *bt = pa_type_new(rt, &big);
    assert_non_null(bt);
    pa_object *bo = pa_object_new(bt);
    assert_non_null(bo);
    append(l, bo);
    assert_ptr_equal(pa_object_runtime(bo), rt);
    pa_list_clear(l);
    append(l, l);
    pa_decref(bo);
    assert_object_refused_everywhere(bo, l, "not a live object");

    /* The list still works. */
    append(l, l);
    assert_int_equal(pa_list_size(l), 2);
    pa_decref(l);
    pa_runtime_free(rt);
}

/* --------------------------------------------------------------- runtimes */

static void calls_on_a_freed_or_made_up_runtime_are_refused(void **state)
{
    (void)state;
    pa_runtime *rt = new_runtime();
    pa_type *t = node_type(rt);
    pa_runtime_free(rt);

    pa_runtime *fake = malloc(4096);
    memset(fake, 0x5a, 4096);
    pa_runtime *bad[] = {rt, fake, (pa_runtime *)unmapped_address()};
    for (size_t i = 0; i < countof(bad); i++) {
        pa_runtime *r = bad[i];
        pa_clear_error();
        assert_int_equal(pa_gc_collect(r, 2), -1);
        ASSERT_REFUSED_WITH("not a live runtime");
        assert_null(pa_list_new(r));
        ASSERT_REFUSED_WITH("not a live runtime");
        pa_type_spec spec = {.name = "x", .basicsize = sizeof(pa_object)};
        assert_null(pa_type_new(r, &spec));
        ASSERT_REFUSED_WITH("not a live runtime");
        assert_int_equal(pa_gc_isenabled(r), -1);
        ASSERT_REFUSED_WITH("not a live runtime");
        pa_gc_enable(r);
        ASSERT_REFUSED_WITH("not a live runtime");
        pa_gc_freeze(r);
        ASSERT_REFUSED_WITH("not a live runtime");
        assert_true(pa_gc_get_objects(r, -1, NULL, 0) == PA_SIZE_ERROR);
        ASSERT_REFUSED_WITH("not a live runtime");
        assert_true(pa_count_objects_by_type(r, NULL, 0) == PA_SIZE_ERROR);
        ASSERT_REFUSED_WITH("not a live runtime");
        assert_true(pa_runtime_pool_map(r, NULL, 0) == PA_SIZE_ERROR);
        ASSERT_REFUSED_WITH("not a live runtime");
        pa_runtime_free(r);    /* a second free of rt, a free of a fake */
        ASSERT_REFUSED_WITH("not a live runtime");
    }
    free(fake);
    /* The type died with its runtime. */
    assert_null(pa_object_new(t));
    ASSERT_REFUSED_WITH("not a live type");
    assert_null(pa_type_name(t));
    ASSERT_REFUSED_WITH("not a live type");
    assert_null(pa_object_new((pa_type *)unmapped_address()));
    ASSERT_REFUSED_WITH("not a live type");
}

static pa_runtime *g_free_me;
static int g_free_calls;

static void finalize_frees_runtime(pa_object *o)
{
    (void)o;
    g_free_calls++;
    pa_runtime_free(g_free_me);
}

static void callback_frees_runtime(pa_runtime *rt, int phase, const pa_gc_info *info, void *user)
{
    (void)info;
    (void)user;
    if (phase == PA_GC_START) {
        g_free_calls++;
        pa_runtime_free(rt);
    }
}

static void freeing_a_runtime_from_inside_it_is_refused(void **state)
{
    (void)state;
    pa_runtime *rt = new_runtime();
    g_free_me = rt;
    g_free_calls = 0;
    pa_type *t = node_type_with(rt, "freer", finalize_frees_runtime, NULL);
    pa_object *n = new_node(t, 1);
    pa_clear_error();
    pa_decref(n);                      /* the finaliser runs inside the dealloc */
    assert_int_equal(g_free_calls, 1);
    ASSERT_REFUSED_WITH("finaliser");
    n = new_node(t, 2);
    set_a(n, n);
    pa_decref(n);
    assert_int_equal(pa_gc_collect(rt, 2), 1);   /* ... and inside a collection */
    assert_int_equal(g_free_calls, 2);
    ASSERT_REFUSED_WITH("refused");

    assert_int_equal(pa_gc_add_callback(rt, callback_frees_runtime, NULL), 0);
    assert_int_equal(pa_gc_collect(rt, 0), 0);
    assert_int_equal(g_free_calls, 3);
    ASSERT_REFUSED_WITH("refused");
    assert_int_equal(pa_gc_remove_callback(rt, callback_frees_runtime, NULL), 0);
    /* Still a working runtime. */
    pa_object *l = new_list(rt);
    append(l, l);
    pa_decref(l);
    assert_int_equal(pa_gc_collect(rt, 2), 1);
    pa_runtime_free(rt);
}

/* ------------------------------------------------------- inline helpers' calls */

static void refcnt_error_and_dealloc_of_a_live_object_are_refused(void **state)
{
    (void)state;
    pa__refcnt_error(NULL);
    ASSERT_REFUSED_WITH("is NULL");
    pa__dealloc(NULL);
    ASSERT_REFUSED_WITH("is NULL");
    pa_runtime *rt = new_runtime();
    pa_type *t = node_type(rt);
    ev_reset();
    pa_object *n = new_node(t, 7);
    pa__dealloc(n);                    /* count 1: alive */
    ASSERT_REFUSED_WITH("alive");
    assert_string_equal(ev_string(), "");
    assert_int_equal(pa_refcnt(n), 1);
    assert_ptr_equal(pa_object_runtime(n), rt);
    pa_decref(n);
    assert_string_equal(ev_string(), "D7");
    pa_runtime_free(rt);
}

static void ref_offsets_that_wrap_are_refused(void **state)
{
    (void)state;
    pa_runtime *rt = new_runtime();
    static const size_t wrap[] = {SIZE_MAX - 7, 0};
    static const size_t wrap2[] = {SIZE_MAX - 15, 0};
    pa_type_spec spec = {.name = "wrap", .basicsize = sizeof(node), .flags = PA_TPFLAGS_HAVE_GC,
                         .ref_offsets = wrap};
    assert_null(pa_type_new(rt, &spec));
    ASSERT_REFUSED_WITH("ref_offsets[0]");
    spec.ref_offsets = wrap2;
    assert_null(pa_type_new(rt, &spec));
    ASSERT_REFUSED_WITH("ref_offsets[0]");
    /* Collections still work. */
    pa_object *l = new_list(rt);
    append(l, l);
    pa_decref(l);
    assert_int_equal(pa_gc_collect(rt, 2), 1);
    pa_runtime_free(rt);
}

/* ------------------------------------------------- finalisers and weakrefs */

static int g_final_runs;

static void finalize_drops_self(pa_object *o)
{
    g_final_runs++;
    ev_add('F', NODE(o)->id);
    pa_decref(o);                      /* the reference it was lent: count 0 again */
}

static void a_finaliser_dropping_its_reference_runs_once(void **state)
{
    (void)state;
    pa_runtime *rt = new_runtime();
    pa_type *t = node_type_with(rt, "dropper", finalize_drops_self, NULL);
    ev_reset();
    g_final_runs = 0;
    pa_object *n = new_node(t, 3);
    pa_decref(n);
    assert_int_equal(g_final_runs, 1);
    assert_string_equal(ev_string(), "F3 D3");
    assert_int_equal(pa_gc_collect(rt, 2), 0);
    pa_runtime_free(rt);
}

static pa_object *g_weak_made;
static intptr_t g_weak_count;

static void weak_cb_makes_weakref(pa_object *wr, void *user)
{
    (void)wr;
    pa_object *dying = user;
    g_weak_count = pa_refcnt(dying);
    g_weak_made = pa_weakref_new(dying, NULL, NULL);
}

static void weakref_to_a_dying_object_is_refused(void **state)
{
    (void)state;
    pa_runtime *rt = new_runtime();
    pa_type *t = node_type(rt);
    pa_object *n = new_node(t, 1);
    pa_object *wr = pa_weakref_new(n, weak_cb_makes_weakref, n);
    assert_non_null(wr);
    g_weak_made = (pa_object *)1;
    pa_clear_error();
    pa_decref(n);
    assert_int_equal(g_weak_count, 0);
    assert_null(g_weak_made);
    ASSERT_REFUSED_WITH("dying");
    assert_null(pa_weakref_get(wr));
    pa_decref(wr);
    pa_runtime_free(rt);
}

/* ------------------------------------------------------------------ output */

static void output_calls_report_a_failed_write(void **state)
{
    (void)state;
    FILE *full = fopen("/dev/full", "w");
    assert_non_null(full);
    pa_clear_error();
    assert_int_equal(pa_print_malloc_stats(full), -1);
    ASSERT_REFUSED_WITH("No space left on device (errno 28)");
    fclose(full);
    FILE *ok = fopen("/dev/null", "w");
    assert_non_null(ok);
    assert_int_equal(pa_print_malloc_stats(ok), 0);
    fclose(ok);
}

/* -------------------------------------------------------------------- fork */

#define FORKS 300
#define CHILD_LIMIT_MS 10000

static atomic_int g_stop;

static void *hammer_malloc(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    void *keep[64] = {0};
    while (!atomic_load(&g_stop)) {
        seed = seed * 1103515245u + 12345u;
        int i = (int)(seed >> 16) % 64;
        pa_free(keep[i]);
        size_t n = (seed >> 8) % 8 == 0 ? 600 + (seed >> 4) % 20000 : 1 + (seed >> 4) % 512;
        keep[i] = pa_malloc(n);
    }
    for (int i = 0; i < 64; i++)
        pa_free(keep[i]);
    return NULL;
}

static void *hammer_runtime(void *arg)
{
    (void)arg;
    pa_runtime *rt = pa_runtime_new();
    while (!atomic_load(&g_stop)) {
        pa_object *l = pa_list_new(rt);
        for (int i = 0; i < 50; i++) {
            pa_object *m = pa_list_new(rt);
            pa_list_append(l, m);
            pa_list_append(m, l);
            pa_decref(m);
        }
        pa_decref(l);
        pa_gc_collect(rt, 0);
    }
    pa_runtime_free(rt);
    return NULL;
}

static void returning_fatal_handler(const char *message, void *user)
{
    (void)message;
    (void)user;
}

/* What a child does: all of it must work (exit 0). */
static int child_work(void)
{
    pa_set_fatal_error_handler(returning_fatal_handler, NULL);   /* the debug hooks report the bad free */
    for (int i = 0; i < 1000; i++) {
        void *p = pa_malloc((size_t)(i % 700) + 1);
        if (p == NULL)
            return 2;
        pa_free(p);
    }
    void *big = pa_malloc(100000);
    if (big == NULL)
        return 3;
    pa_free(big);
    pa_runtime *rt = pa_runtime_new();
    if (rt == NULL)
        return 4;
    for (int i = 0; i < 100; i++) {
        pa_object *l = pa_list_new(rt);
        if (l == NULL || pa_list_append(l, l) != 0)
            return 5;
        pa_decref(l);
    }
    if (pa_gc_collect(rt, 2) != 100)
        return 6;
    pa_runtime_free(rt);
    pa_free(&rt);                      /* an error: its message is built in the child too */
    if (strstr(pa_last_error(), "pa_free") == NULL)
        return 7;
    pa_malloc_stats st;
    if (pa_get_malloc_stats(&st) != 0)
        return 8;
    if (pa_tracemalloc_start(1) != 0)
        return 9;
    void *traced = pa_malloc(100);
    size_t current = 0;
    pa_tracemalloc_get_traced_memory(&current, NULL);
    pa_free(traced);
    pa_tracemalloc_stop();
    if (current < 100)
        return 10;
    return 0;
}

/* Waits for pid at most limit_ms; kills it when it overstays.  Its exit code,
   or -1 when it hung, -2 - signal when a signal ended it. */
static int wait_bounded(pid_t pid, int limit_ms)
{
    for (int waited = 0;; waited++) {
        int status;
        pid_t got = waitpid(pid, &status, WNOHANG);
        if (got == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : -2 - WTERMSIG(status);
        if (waited >= limit_ms) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
}

static void fork_while_other_threads_allocate(void **state)
{
    (void)state;
    pthread_t th[3];
    /* The library's first call starts its .NET runtime: made here, before the
       threads, as the header asks of a program that forks (section 4). */
    pa_free(pa_malloc(1));
    atomic_store(&g_stop, 0);
    assert_int_equal(pthread_create(&th[0], NULL, hammer_malloc, (void *)1), 0);
    assert_int_equal(pthread_create(&th[1], NULL, hammer_malloc, (void *)2), 0);
    assert_int_equal(pthread_create(&th[2], NULL, hammer_runtime, NULL), 0);
    int hung = 0, failed = 0, last_bad = 0;
    for (int i = 0; i < FORKS; i++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
            _exit(child_work());
        int rc = wait_bounded(pid, CHILD_LIMIT_MS);
        if (rc == -1)
            hung++;
        else if (rc != 0) {
            failed++;
            last_bad = rc;
        }
    }
    atomic_store(&g_stop, 1);
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    print_message("%d forks: %d children hung, %d failed (last code %d)\n", FORKS, hung, failed, last_bad);
    assert_int_equal(hung, 0);
    assert_int_equal(failed, 0);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(another_runtimes_object_is_refused),
        cmocka_unit_test(pointers_that_are_no_live_object_are_refused),
        cmocka_unit_test(calls_on_a_freed_or_made_up_runtime_are_refused),
        cmocka_unit_test(freeing_a_runtime_from_inside_it_is_refused),
        cmocka_unit_test(refcnt_error_and_dealloc_of_a_live_object_are_refused),
        cmocka_unit_test(ref_offsets_that_wrap_are_refused),
        cmocka_unit_test(a_finaliser_dropping_its_reference_runs_once),
        cmocka_unit_test(weakref_to_a_dying_object_is_refused),
        cmocka_unit_test(output_calls_report_a_failed_write),
        cmocka_unit_test(fork_while_other_threads_allocate),
    };
    return PA_RUN_TESTS(tests, argc, argv);
}
