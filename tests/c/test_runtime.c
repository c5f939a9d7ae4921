/* test_runtime.c -- runtimes (section 4 of pyalloc.h):

   - pa_runtime_new / pa_runtime_free, pa_runtime_free(NULL) a no-op, many
     runtimes in a row;
   - freeing a runtime that holds cycles, finalisers, weakrefs with
     callbacks, legacy-finaliser garbage, large objects (> 512 bytes), a
     frozen generation, immortal objects and a long chain: the final
     collection runs (finalisers, weakref callbacks and gc callbacks as in
     any collection), then what is still alive goes WITHOUT its finaliser or
     dealloc; afterwards the process allocator shows no arena left by the
     runtime (arenas_current as before pa_runtime_new, after pa_trim), and
     the runtime's large blocks are back with the system allocator;
   - the process allocator's statistics stay self-consistent while runtimes
     hold objects;
   - runtimes are independent: objects, counts, thresholds, callbacks,
     freezing; a runtime used from one thread after another; two runtimes
     used from two threads at once, each building and collecting cycles,
     with exact results in both. */
#define _GNU_SOURCE
#include "test_objects.h"

#include <malloc.h>
#include <pthread.h>

/* Every arena mapped now: the process allocator's and the runtimes'. */
static size_t arenas_now(void)
{
    pa_malloc_stats st;
    assert_int_equal(pa_get_malloc_stats(&st), 0);
    return st.arenas_current + st.arenas_in_runtimes;
}

/* Bytes malloc has handed out on this thread's arena plus mmapped chunks. */
static size_t malloc_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

/* ------------------------------------------------------------------ basics */

static void new_and_free_and_free_null(void **state)
{
    (void)state;
    pa_runtime_free(NULL); /* no-op */
    pa_trim();
    size_t before = arenas_now();
    for (int i = 0; i < 200; i++) {
        pa_runtime *rt = new_runtime();
        pa_object *l = new_list(rt);
        append(l, l);
        pa_decref(l);
        pa_runtime_free(rt);
    }
    pa_trim();
    assert_int_equal(arenas_now(), before);
    /* A fresh runtime: GC enabled, (700, 10, 10), nothing tracked. */
    pa_runtime *rt = new_runtime();
    int t[3];
    pa_gc_get_threshold(rt, t);
    assert_int_equal(t[0], 700);
    assert_int_equal(t[1], 10);
    assert_int_equal(t[2], 10);
    assert_int_equal(pa_gc_isenabled(rt), 1);
    assert_int_equal(gen_size(rt, -1), 0);
    assert_int_equal(pa_gc_get_freeze_count(rt), 0);
    assert_int_equal(pa_gc_get_garbage(rt, NULL, 0), 0);
    ASSERT_COUNT(rt, 0, 0, 0);
    pa_runtime_free(rt);
}

/* ---------------------------------------------------- freeing a full runtime */

static void gc_cb(pa_runtime *rt, int phase, const pa_gc_info *info, void *user)
{
    (void)rt;
    (void)user;
    ev_add(phase == PA_GC_START ? 'S' : 'T', info->generation * 1000 + info->collected);
}

static void wr_cb(pa_object *wr, void *user)
{
    (void)wr;
    ev_add('W', (intptr_t)user);
}

/* A finaliser of garbage that allocates (new cycles) during the final
   collection: they are left for no collection, released with the runtime. */
static void busy_finalize(pa_object *o)
{
    ev_add('F', NODE(o)->id);
    pa_runtime *rt = pa_object_runtime(o);
    for (int i = 0; i < 50; i++) {
        pa_object *l = pa_list_new(rt);
        pa_list_append(l, l);
        pa_decref(l);
    }
}

typedef struct big_obj {
    PA_OBJECT_VAR_HEAD
    pa_object *items[];
} big_obj;

static void freeing_a_runtime_with_everything_in_it(void **state)
{
    (void)state;
    ev_reset();
    pa_trim();
    size_t arenas_before = arenas_now();
    size_t malloc_before = malloc_in_use();

    pa_runtime *rt = new_runtime();
    pa_type *tn = node_type(rt);
    pa_type *tf = node_type_with(rt, "fin", busy_finalize, NULL);
    pa_type *tl = node_type_with(rt, "legacy", NULL, node_legacy_del);
    pa_type_spec bigspec = {.name = "big", .basicsize = sizeof(pa_var_object),
                            .itemsize = sizeof(pa_object *),
                            .flags = PA_TPFLAGS_HAVE_GC | PA_TPFLAGS_ITEMS_ARE_REFS,
                            .dealloc = NULL};
    pa_type *tb = pa_type_new(rt, &bigspec);
    assert_non_null(tb);
    assert_int_equal(pa_gc_add_callback(rt, gc_cb, NULL), 0);
    pa_gc_disable(rt); /* nothing collected before pa_runtime_free unless asked */

    /* 1. A frozen cycle with a finaliser (ids 1, 2): ignored by the final
          collection, so never finalised. */
    pa_object *f1 = new_node(tf, 1), *f2 = new_node(tf, 2);
    set_a(f1, f2);
    set_a(f2, f1);
    pa_decref(f1);
    pa_decref(f2);
    pa_gc_freeze(rt);
    /* 2. Legacy garbage (id 3, with a plain node 4): collected into garbage now. */
    pa_object *g = new_node(tl, 3), *h = new_node(tn, 4);
    set_a(g, h);
    set_a(h, g);
    pa_decref(g);
    pa_decref(h);
    assert_int_equal(collect(rt, 2), 2);
    /* 3. Cyclic garbage with a finaliser (id 5) and a plain one (6), weakly
          referenced by a live weakref with a callback (user 50). */
    pa_object *c5 = new_node(tf, 5), *c6 = new_node(tn, 6);
    set_a(c5, c6);
    set_a(c6, c5);
    pa_object *holder = new_list(rt); /* alive at free: holds the weakrefs */
    pa_object *w50 = pa_weakref_new(c6, wr_cb, (void *)50);
    append(holder, w50);
    pa_decref(w50);
    pa_decref(c5);
    pa_decref(c6);
    /* 4. Alive objects: a node with a finaliser (7) and a plain one (8),
          weakly referenced with a callback (user 70): none of them runs. */
    pa_object *alive7 = new_node(tf, 7), *alive8 = new_node(tn, 8);
    set_a(alive7, alive8);
    append(holder, alive7);
    pa_object *w70 = pa_weakref_new(alive8, wr_cb, (void *)70);
    append(holder, w70);
    pa_decref(w70);
    pa_decref(alive8);
    /* 5. Large objects: 20 of 1 MiB items each, alive, holding nodes. */
    for (int i = 0; i < 20; i++) {
        pa_object *b = pa_object_new_var(tb, (1u << 20) / sizeof(pa_object *));
        assert_non_null(b);
        ((big_obj *)b)->items[0] = new_node(tn, 100 + i);
        append(holder, b);
        pa_decref(b);
    }
    /* 6. An immortal list, and a chain of 200,000 nodes (several arenas). */
    pa_object *imm = new_list(rt);
    pa_object_make_immortal(imm);
    append(imm, holder);
    pa_object *chain = NULL;
    for (int i = 0; i < 200000; i++) {
        pa_object *n = new_node(tn, 1000000 + i);
        NODE(n)->a = chain;
        chain = n;
    }
    append(holder, chain);
    pa_decref(chain);
    /* alive7 and holder stay referenced by us: still alive at free */
    assert_true(arenas_now() > arenas_before);
    assert_true(malloc_in_use() >= malloc_before + 20 * (1u << 20));
    pa_gc_enable(rt);
    ev_reset();

    pa_runtime_free(rt);

    /* The final collection, as gcmodule.c orders it: the gc callbacks'
       start (generation 2), the callback of the live weakref to 6
       (handle_weakrefs), the finaliser of 5 (finalize_garbage), the clear
       of 5 which frees 6 then 5, the callbacks' stop with 2 collected.
       Nothing else: the live objects (7, 8, the large ones, the chain), the
       frozen cycle (1, 2) and the legacy garbage (3, 4) go without
       finaliser, callback or dealloc. */
    assert_string_equal(ev_string(), "S2000 W50 F5 D6 D5 T2002");

    pa_trim();
    assert_int_equal(arenas_now(), arenas_before);
    size_t malloc_after = malloc_in_use();
    if (malloc_after > malloc_before + (1u << 20))
        fail_msg("malloc'd bytes in use: %zu before the runtime, %zu after freeing it",
                 malloc_before, malloc_after);
}

/* gc.freeze() then free: frozen objects are released without finaliser. */
static void freeing_a_runtime_with_only_frozen_objects(void **state)
{
    (void)state;
    ev_reset();
    pa_trim();
    size_t before = arenas_now();
    pa_runtime *rt = new_runtime();
    pa_type *tf = node_type_with(rt, "fin", node_finalize, NULL);
    pa_gc_disable(rt);
    for (int i = 0; i < 30000; i++) {
        pa_object *n = new_node(tf, i);
        set_a(n, n);
        pa_decref(n);
        if (i % 10000 == 9999)
            pa_gc_freeze(rt);
    }
    assert_int_equal(pa_gc_get_freeze_count(rt), 30000);
    pa_runtime_free(rt);
    assert_int_equal(ev_total, 0);
    pa_trim();
    assert_int_equal(arenas_now(), before);
}

/* ----------------------------------------------------------- statistics */

/* pa_get_malloc_stats describes every current arena: the byte figures add
   up to arena_bytes (tests/c/test_util.h) -- also while runtimes, whose
   heaps have arenas of their own, hold objects. */
static void malloc_stats_stay_consistent_while_a_runtime_holds_objects(void **state)
{
    (void)state;
    pa_malloc_stats st = pa_stats_now();
    pa_assert_stats_consistent(&st);
    pa_runtime *rt = new_runtime();
    pa_type *t = node_type(rt);
    pa_object *l = new_list(rt);
    for (int i = 0; i < 50000; i++) {
        pa_object *n = new_node(t, i);
        append(l, n);
        pa_decref(n);
    }
    void *p = pa_malloc(100);
    st = pa_stats_now();
    pa_assert_stats_consistent(&st);
    pa_free(p);
    pa_decref(l);
    pa_runtime_free(rt);
    st = pa_stats_now();
    pa_assert_stats_consistent(&st);
}

/* ---------------------------------------------------------- independence */

static void runtimes_are_independent(void **state)
{
    (void)state;
    ev_reset();
    pa_runtime *r1 = new_runtime(), *r2 = new_runtime();
    pa_type *t1 = node_type(r1), *t2 = node_type(r2);
    assert_ptr_not_equal(t1, t2);
    pa_gc_set_threshold(r1, 3, 10, 10);
    assert_int_equal(pa_gc_add_callback(r1, gc_cb, NULL), 0);
    pa_object *a = new_node(t1, 1), *b = new_node(t2, 2);
    set_a(a, a);
    set_a(b, b);
    pa_decref(a);
    pa_decref(b);
    ASSERT_COUNT(r1, 1, 0, 0);
    ASSERT_COUNT(r2, 1, 0, 0);
    assert_int_equal(gen_size(r1, -1), 1);
    assert_int_equal(gen_size(r2, -1), 1);
    /* Collecting r2 does not touch r1. */
    assert_int_equal(collect(r2, 2), 1);
    assert_string_equal(ev_string(), "D2");
    ASSERT_COUNT(r1, 1, 0, 0);
    assert_int_equal(gen_size(r1, -1), 1);
    /* r2's allocations do not count towards r1's threshold. */
    pa_object *ls[10];
    for (int i = 0; i < 10; i++)
        ls[i] = new_list(r2);
    assert_int_equal(ev_count('S'), 0);
    /* Freezing r2 leaves r1 alone. */
    pa_gc_freeze(r2);
    assert_int_equal(pa_gc_get_freeze_count(r1), 0);
    assert_int_equal(gen_size(r1, -1), 1);
    pa_gc_unfreeze(r2);
    for (int i = 0; i < 10; i++)
        pa_decref(ls[i]);
    /* Freeing r2 leaves r1 working. */
    pa_runtime_free(r2);
    assert_int_equal(collect(r1, 2), 1);
    assert_string_equal(ev_string(), "D2 S2000 D1 T2001");
    pa_runtime_free(r1);
}

/* One runtime used from one thread, then from another (calls never
   overlap): no thread affinity. */
typedef struct handoff {
    pa_runtime *rt;
    pa_object *keep;
    intptr_t collected;
} handoff;

static void *build_in_thread(void *arg)
{
    handoff *h = arg;
    pa_type *t = node_type(h->rt);
    h->keep = pa_list_new(h->rt);
    for (int i = 0; i < 1000; i++) {
        pa_object *x = pa_object_new(t), *y = pa_list_new(h->rt);
        NODE(x)->a = y;            /* steals y */
        pa_list_append(y, x);
        if (i % 2 == 0)
            pa_list_append(h->keep, x);
        pa_decref(x);
    }
    return NULL;
}

static void *collect_in_thread(void *arg)
{
    handoff *h = arg;
    h->collected = pa_gc_collect(h->rt, 2);
    return NULL;
}

static void a_runtime_can_move_between_threads(void **state)
{
    (void)state;
    ev_reset();
    handoff h = {.rt = new_runtime()};
    pa_gc_disable(h.rt);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, build_in_thread, &h), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(pthread_create(&th, NULL, collect_in_thread, &h), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(h.collected, 1000);
    assert_int_equal(ev_count('D'), 500);
    assert_int_equal(pa_list_size(h.keep), 500);
    pa_decref(h.keep);
    assert_int_equal(collect(h.rt, 2), 1000);
    pa_runtime_free(h.rt);
}

/* Two runtimes on two threads at once.  Each thread: rounds of rings of
   nodes and lists (some with finalisers, some weakly referenced with
   callbacks), kept or dropped, automatic collections with small
   thresholds, an explicit full collection whose result is checked, gc
   callbacks; pa_malloc traffic too.  Counters are per thread. */
static _Thread_local long t_deallocs, t_finalized, t_weak_cbs, t_gc_starts;

static void thread_dealloc(pa_object *o)
{
    (void)o;
    t_deallocs++;
}
static void thread_finalize(pa_object *o)
{
    (void)o;
    t_finalized++;
}
static void thread_wr_cb(pa_object *wr, void *user)
{
    (void)wr;
    (void)user;
    t_weak_cbs++;
}
static void thread_gc_cb(pa_runtime *rt, int phase, const pa_gc_info *info, void *user)
{
    (void)rt;
    (void)info;
    (void)user;
    if (phase == PA_GC_START)
        t_gc_starts++;
}

typedef struct worker {
    int seed;
    char error[256];
    long rounds_done;
    long deallocs, finalized, weak_cbs, gc_starts;
    long expected_nodes;
} worker;

#define WORKER_CHECK(w, cond, ...)                                                     \
    do {                                                                               \
        if (!(cond) && (w)->error[0] == '\0')                                          \
            snprintf((w)->error, sizeof (w)->error, __VA_ARGS__);                      \
    } while (0)

static void *worker_main(void *arg)
{
    worker *w = arg;
    pa_runtime *rt = pa_runtime_new();
    WORKER_CHECK(w, rt != NULL, "pa_runtime_new failed");
    if (rt == NULL)
        return NULL;
    pa_type_spec spec = {.name = "tnode", .basicsize = sizeof(node), .flags = PA_TPFLAGS_HAVE_GC,
                         .dealloc = thread_dealloc, .ref_offsets = node_offsets};
    pa_type *t = pa_type_new(rt, &spec);
    spec.name = "tfin";
    spec.finalize = thread_finalize;
    pa_type *tf = pa_type_new(rt, &spec);
    pa_gc_set_threshold(rt, 50 + w->seed, 5, 5);
    pa_gc_add_callback(rt, thread_gc_cb, NULL);
    pa_object *keep = pa_list_new(rt);
    long nodes = 0, fin_nodes = 0, kept_nodes = 0, weak = 0;
    enum { ROUNDS = 60, RINGS = 100 };
    for (int round = 0; round < ROUNDS; round++) {
        void *blocks[16];
        for (int i = 0; i < 16; i++)
            blocks[i] = pa_malloc((size_t)(16 * (i + 1) + round));
        pa_object *wrs = pa_list_new(rt);
        for (int r = 0; r < RINGS; r++) {
            int len = 1 + (r + round + w->seed) % 5;
            bool with_fin = r % 3 == 0;
            pa_object *first = pa_object_new(with_fin ? tf : t), *prev = first;
            nodes++;
            fin_nodes += with_fin;
            for (int k = 1; k < len; k++) {
                pa_object *x = pa_object_new(t);
                pa_object *l = pa_list_new(rt);
                pa_list_append(l, x);
                pa_xincref(l);
                pa_setref(&NODE(prev)->a, l);
                pa_decref(l);
                pa_decref(x);
                prev = x;
                nodes++;
            }
            pa_incref(first);
            pa_setref(&NODE(prev)->a, first);
            if (r % 4 == 0) {
                pa_object *wr = pa_weakref_new(first, thread_wr_cb, NULL);
                pa_list_append(wrs, wr);
                pa_decref(wr);
                weak++;
            }
            if (r % 10 == 0) {
                pa_list_append(keep, first);
                kept_nodes += len;
            }
            pa_decref(first);
        }
        intptr_t n = pa_gc_collect(rt, 2);
        WORKER_CHECK(w, n >= 0, "round %d: collect failed: %s", round, pa_last_error());
        /* Everything not kept is gone after a full collection. */
        long expected_dead = nodes - kept_nodes;
        WORKER_CHECK(w, t_deallocs == expected_dead,
                     "round %d: %ld deallocs, expected %ld", round, t_deallocs, expected_dead);
        for (int i = 0; i < 16; i++)
            pa_free(blocks[i]);
        pa_decref(wrs);
        w->rounds_done++;
    }
    (void)fin_nodes;
    w->expected_nodes = nodes;
    pa_list_clear(keep);
    intptr_t n = pa_gc_collect(rt, 2);
    WORKER_CHECK(w, n > 0, "final collect returned %ld", (long)n);
    WORKER_CHECK(w, t_deallocs == nodes, "%ld deallocs, expected %ld", t_deallocs, nodes);
    WORKER_CHECK(w, pa_gc_get_objects(rt, -1, NULL, 0) == 1, "objects left besides keep");
    pa_decref(keep);
    pa_runtime_free(rt);
    w->deallocs = t_deallocs;
    w->finalized = t_finalized;
    w->weak_cbs = t_weak_cbs;
    w->gc_starts = t_gc_starts;
    (void)weak;
    return NULL;
}

static void two_runtimes_on_two_threads_at_once(void **state)
{
    (void)state;
    pa_trim();
    size_t before = arenas_now();
    worker w[2] = {{.seed = 0}, {.seed = 7}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < 2; i++) {
        if (w[i].error[0] != '\0')
            fail_msg("worker %d: %s", i, w[i].error);
        assert_int_equal(w[i].rounds_done, 60);
        assert_int_equal(w[i].deallocs, w[i].expected_nodes);
        /* Finalisers: the first node of every third ring, once each. */
        assert_int_equal(w[i].finalized, 60 * 34);
        /* Weakref callbacks: every fourth ring's first node, except the
           kept ones (every twentieth ring), whose weakrefs die first. */
        assert_int_equal(w[i].weak_cbs, 60 * 20);
        assert_true(w[i].gc_starts > 60);
    }
    pa_trim();
    assert_int_equal(arenas_now(), before);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(new_and_free_and_free_null),
        cmocka_unit_test(freeing_a_runtime_with_everything_in_it),
        cmocka_unit_test(freeing_a_runtime_with_only_frozen_objects),
        cmocka_unit_test(malloc_stats_stay_consistent_while_a_runtime_holds_objects),
        cmocka_unit_test(runtimes_are_independent),
        cmocka_unit_test(a_runtime_can_move_between_threads),
        cmocka_unit_test(two_runtimes_on_two_threads_at_once),
    };
    return PA_RUN_TESTS(tests, argc, argv);
}
