/* test_gc.c -- the cycle collector (section 7 of pyalloc.h), against CPython
   3.12's gc module and Modules/gcmodule.c (with 3.11's trigger: an automatic
   collection runs at the allocation that passes generation 0's threshold):

   - the article's Parts 2-4: two lists in a cycle (counts 2, collected 2),
     the Node parent/child cycle, the "Detecting Reference Cycles" example;
   - isenabled/enable/disable, thresholds, get_count after allocations,
     frees and collections (collecting generation g zeroes counts 0..g and
     adds 1 to g+1), objects moving gen0 -> gen1 -> gen2, get_objects;
   - automatic collections: at the allocation passing threshold 0, older
     generations when their counts pass, not while disabled, not with
     threshold 0, never nested; the long-lived-pending rule for full
     collections, which explicit collections ignore;
   - PEP 442 finalisers: once, even when resurrected; resurrected objects
     survive and count neither as collected nor uncollectable; cycles with
     finalisers are collected, finalisers called in list order, before any
     clear; legacy finalisers: uncollectable, in garbage, released by
     clearing it; DEBUG_SAVEALL; debug reports on stderr (child process);
   - get_stats, get_referrers, get_referents, track/untrack/is_tracked/
     is_finalized, freeze/unfreeze/get_freeze_count, callbacks, invalid
     arguments;
   - a C type with a C traverse (the slow path) in cycles; reachable and
     cross-generation cycles; a larger random graph collected exactly.

   Snippets in comments are the Python 3.12 code each case mirrors; their
   results were checked with CPython 3.12.1. */
#include "test_objects.h"

static pa_runtime *g_rt;
static pa_type *g_node;

static int setup(void **state)
{
    (void)state;
    ev_reset();
    g_rt = new_runtime();
    g_node = node_type(g_rt);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    pa_runtime_free(g_rt);
    g_rt = NULL;
    return 0;
}

static pa_gc_generation_stats stats_of(int g)
{
    pa_gc_generation_stats st[3];
    memset(st, 0xAB, sizeof st);
    assert_int_equal(pa_gc_get_stats(g_rt, st), 0);
    return st[g];
}

/* Makes a <-> b lists and drops them: garbage of 2. */
static void make_list_cycle(pa_object **out_a, pa_object **out_b)
{
    pa_object *a = new_list(g_rt), *b = new_list(g_rt);
    append(a, b);
    append(b, a);
    if (out_a) *out_a = a;
    if (out_b) *out_b = b;
    pa_decref(a);
    pa_decref(b);
}

/* -------------------------------------------------------- gc callbacks log */

typedef struct gc_event {
    void *user;
    int phase, generation;
    intptr_t collected, uncollectable;
    intptr_t count[3];
    long alloc_index;
} gc_event;

static gc_event g_gcev[1024];
static size_t g_ngcev;
static long g_alloc_index; /* set by tests before each allocation */

static void record_cb(pa_runtime *rt, int phase, const pa_gc_info *info, void *user)
{
    if (g_ngcev == countof(g_gcev))
        return;
    gc_event *e = &g_gcev[g_ngcev++];
    e->user = user;
    e->phase = phase;
    e->generation = info->generation;
    e->collected = info->collected;
    e->uncollectable = info->uncollectable;
    pa_gc_get_count(rt, e->count);
    e->alloc_index = g_alloc_index;
}

static void gcev_reset(void) { g_ngcev = 0; }

/* ------------------------------------------------------------ the article */

/* Part 2, "A Simple Cycle":
     a = []; b = []; a.append(b); b.append(a)
     sys.getrefcount(a) - 1 == 2; sys.getrefcount(b) - 1 == 2
     del a; del b        # still alive, counts 1
     gc.collect() == 2 */
static void article_two_lists_in_a_cycle(void **state)
{
    (void)state;
    pa_object *a = new_list(g_rt), *b = new_list(g_rt);
    append(a, b);
    append(b, a);
    assert_int_equal(pa_refcnt(a), 2);
    assert_int_equal(pa_refcnt(b), 2);
    pa_object *wa = pa_weakref_new(a, NULL, NULL), *wb = pa_weakref_new(b, NULL, NULL);
    pa_decref(a);
    pa_decref(b);
    /* Unreachable but not freed: counts 1. */
    assert_int_equal(pa_refcnt(a), 1);
    assert_int_equal(pa_refcnt(b), 1);
    pa_object *still = pa_weakref_get(wa);
    assert_ptr_equal(still, a);
    pa_decref(still);
    assert_int_equal(pa_gc_collect(g_rt, 2), 2);
    assert_null(pa_weakref_get(wa));
    assert_null(pa_weakref_get(wb));
    assert_int_equal(collect(g_rt, 2), 0);
    pa_decref(wa);
    pa_decref(wb);
}

/* Part 2, "Real-World Cycles":
     class Node:
         def __init__(self, value): self.value = value; self.parent = None; self.children = []
         def add_child(self, child): child.parent = self; self.children.append(child)
     p = Node(1); c = Node(2); p.add_child(c); del p, c
     gc.collect() == 4     # two nodes and their two children lists
   node.a = parent, node.b = children list. */
static pa_object *new_article_node(intptr_t value)
{
    pa_object *n = new_node(g_node, value);
    NODE(n)->b = new_list(g_rt);
    return n;
}

static void article_node_add_child(pa_object *self, pa_object *child)
{
    set_a(child, self);
    append(NODE(self)->b, child);
}

static void article_node_parent_child_cycle(void **state)
{
    (void)state;
    pa_object *p = new_article_node(1), *c = new_article_node(2);
    article_node_add_child(p, c);
    pa_decref(p);
    pa_decref(c);
    assert_string_equal(ev_string(), "");
    assert_int_equal(collect(g_rt, 2), 4);
    assert_int_equal(ev_count('D'), 2);
    assert_int_equal(gen_size(g_rt, -1), 0);

    /* A tree: a root with 10 children each with 10 children: all collected. */
    ev_reset();
    pa_object *root = new_article_node(0);
    for (int i = 1; i <= 10; i++) {
        pa_object *ch = new_article_node(i);
        article_node_add_child(root, ch);
        for (int j = 1; j <= 10; j++) {
            pa_object *g = new_article_node(100 * i + j);
            article_node_add_child(ch, g);
            pa_decref(g);
        }
        pa_decref(ch);
    }
    pa_decref(root);
    assert_int_equal(collect(g_rt, 2), 2 * 111);
    assert_int_equal(ev_count('D'), 111);
}

/* Part 3, "Detecting Reference Cycles":
     a = Node(); b = Node(); a.ref = b; b.ref = a; del a, b
     gc.collect() == 2 */
static void article_detecting_reference_cycles(void **state)
{
    (void)state;
    pa_object *a = new_node(g_node, 1), *b = new_node(g_node, 2);
    set_a(a, b);
    set_a(b, a);
    pa_decref(a);
    pa_decref(b);
    assert_int_equal(collect(g_rt, 2), 2);
    assert_int_equal(ev_count('D'), 2);
}

/* ------------------------------------------------ enable, thresholds, counts */

/* gc.isenabled() is True; gc.disable(); gc.isenabled() is False ... */
static void isenabled_enable_disable(void **state)
{
    (void)state;
    assert_int_equal(pa_gc_isenabled(g_rt), 1);
    pa_gc_disable(g_rt);
    assert_int_equal(pa_gc_isenabled(g_rt), 0);
    pa_gc_disable(g_rt);
    assert_int_equal(pa_gc_isenabled(g_rt), 0);
    pa_gc_enable(g_rt);
    assert_int_equal(pa_gc_isenabled(g_rt), 1);
    /* A disabled collector still collects when asked. */
    pa_gc_disable(g_rt);
    make_list_cycle(NULL, NULL);
    assert_int_equal(collect(g_rt, 0), 2);
    /* Per runtime. */
    pa_runtime *other = new_runtime();
    assert_int_equal(pa_gc_isenabled(other), 1);
    pa_runtime_free(other);
}

/* gc.get_threshold() == (700, 10, 10); gc.set_threshold(5, 3, 2) ... */
static void thresholds_default_and_set(void **state)
{
    (void)state;
    int t[3] = {-1, -1, -1};
    pa_gc_get_threshold(g_rt, t);
    assert_int_equal(t[0], 700);
    assert_int_equal(t[1], 10);
    assert_int_equal(t[2], 10);
    pa_gc_set_threshold(g_rt, 5, 3, 2);
    pa_gc_get_threshold(g_rt, t);
    assert_int_equal(t[0], 5);
    assert_int_equal(t[1], 3);
    assert_int_equal(t[2], 2);
    pa_gc_set_threshold(g_rt, 0, 0, 0);
    pa_gc_get_threshold(g_rt, t);
    assert_int_equal(t[0] | t[1] | t[2], 0);
    /* Other runtimes keep their own. */
    pa_runtime *other = new_runtime();
    pa_gc_get_threshold(other, t);
    assert_int_equal(t[0], 700);
    pa_runtime_free(other);
}

/* Each GC allocation adds 1 to generation 0's count, each GC free takes 1
   off (never below 0, whatever generation the freed object was in:
   PyObject_GC_Del); non-GC objects do not count. */
static void get_count_follows_allocations_and_frees(void **state)
{
    (void)state;
    ASSERT_COUNT(g_rt, 0, 0, 0);
    pa_object *l1 = new_list(g_rt), *l2 = new_list(g_rt), *l3 = new_list(g_rt);
    ASSERT_COUNT(g_rt, 3, 0, 0);
    pa_type_spec plain = {.name = "plain", .basicsize = sizeof(node)};
    pa_type *tp = pa_type_new(g_rt, &plain);
    pa_object *p = pa_object_new(tp);
    ASSERT_COUNT(g_rt, 3, 0, 0);
    pa_object *w = pa_weakref_new(l1, NULL, NULL); /* a weakref is a GC object */
    ASSERT_COUNT(g_rt, 4, 0, 0);
    pa_object *w2 = pa_weakref_new(l1, NULL, NULL); /* shared: no allocation */
    ASSERT_COUNT(g_rt, 4, 0, 0);
    for (int i = 0; i < 50; i++)
        append(l1, p); /* growing a list's item array is not a GC allocation */
    ASSERT_COUNT(g_rt, 4, 0, 0);
    pa_decref(l3);
    ASSERT_COUNT(g_rt, 3, 0, 0);
    pa_decref(p);
    ASSERT_COUNT(g_rt, 3, 0, 0);
    assert_int_equal(collect(g_rt, 0), 0);
    ASSERT_COUNT(g_rt, 0, 1, 0);
    /* Freeing an object of generation 1 with generation 0's count at 0. */
    pa_decref(l2);
    ASSERT_COUNT(g_rt, 0, 1, 0);
    pa_object *l4 = new_list(g_rt);
    ASSERT_COUNT(g_rt, 1, 1, 0);
    pa_decref(w);
    pa_decref(w2); /* frees the weakref, from generation 1 */
    ASSERT_COUNT(g_rt, 0, 1, 0);
    pa_decref(l4);
    pa_decref(l1);
    ASSERT_COUNT(g_rt, 0, 1, 0);
}

/* gc.collect(0); gc.get_count() == (0, 1, 0)
   gc.collect(1); gc.get_count() == (0, 0, 1)
   gc.collect(2); gc.get_count() == (0, 0, 0) */
static void get_count_after_collections(void **state)
{
    (void)state;
    pa_object *keep = new_list(g_rt);
    ASSERT_COUNT(g_rt, 1, 0, 0);
    collect(g_rt, 0);
    ASSERT_COUNT(g_rt, 0, 1, 0);
    collect(g_rt, 0);
    ASSERT_COUNT(g_rt, 0, 2, 0);
    pa_object *x = new_list(g_rt), *y = new_list(g_rt);
    ASSERT_COUNT(g_rt, 2, 2, 0);
    collect(g_rt, 1);
    ASSERT_COUNT(g_rt, 0, 0, 1);
    collect(g_rt, 1);
    ASSERT_COUNT(g_rt, 0, 0, 2);
    collect(g_rt, 0);
    ASSERT_COUNT(g_rt, 0, 1, 2);
    pa_object *z = new_list(g_rt);
    collect(g_rt, 2);
    ASSERT_COUNT(g_rt, 0, 0, 0);
    collect(g_rt, 2);
    ASSERT_COUNT(g_rt, 0, 0, 0);
    pa_decref(x);
    pa_decref(y);
    pa_decref(z);
    pa_decref(keep);
}

/* Part 4, "Inspecting the Generations": a surviving object moves up one
   generation per collection of its generation, and stays in generation 2. */
static void objects_move_gen0_gen1_gen2(void **state)
{
    (void)state;
    pa_object *l = new_list(g_rt);
    assert_int_equal(gen_of(g_rt, l), 0);
    assert_int_equal(gen_size(g_rt, 0), 1);
    assert_int_equal(gen_size(g_rt, -1), 1);
    collect(g_rt, 0);
    assert_int_equal(gen_of(g_rt, l), 1);
    pa_object *m = new_list(g_rt);
    assert_int_equal(gen_of(g_rt, m), 0);
    collect(g_rt, 0); /* l stays in generation 1: only 0 was collected */
    assert_int_equal(gen_of(g_rt, l), 1);
    assert_int_equal(gen_of(g_rt, m), 1);
    pa_object *n = new_list(g_rt);
    collect(g_rt, 1); /* generations 0 and 1 go to 2 */
    assert_int_equal(gen_of(g_rt, l), 2);
    assert_int_equal(gen_of(g_rt, m), 2);
    assert_int_equal(gen_of(g_rt, n), 2);
    collect(g_rt, 2);
    assert_int_equal(gen_of(g_rt, l), 2);
    collect(g_rt, 0);
    collect(g_rt, 1);
    assert_int_equal(gen_of(g_rt, l), 2);
    assert_int_equal(gen_size(g_rt, 0), 0);
    assert_int_equal(gen_size(g_rt, 1), 0);
    assert_int_equal(gen_size(g_rt, 2), 3);
    assert_int_equal(gen_size(g_rt, -1), 3);
    pa_decref(l);
    pa_decref(m);
    pa_decref(n);
    assert_int_equal(gen_size(g_rt, -1), 0);
}

/* gc.get_objects(generation): cap 0 sizes; cap fills with new references. */
static void get_objects_returns_new_references_and_the_total(void **state)
{
    (void)state;
    pa_object *l[5];
    for (int i = 0; i < 5; i++)
        l[i] = new_list(g_rt);
    pa_object *out[8] = {NULL};
    assert_int_equal(pa_gc_get_objects(g_rt, 0, NULL, 0), 5);
    assert_int_equal(pa_gc_get_objects(g_rt, 0, out, 8), 5);
    for (int i = 0; i < 5; i++) {
        bool found = false;
        for (int k = 0; k < 5; k++)
            found |= out[k] == l[i];
        assert_true(found);
        assert_int_equal(pa_refcnt(l[i]), 2);
    }
    assert_null(out[5]);
    for (int k = 0; k < 5; k++)
        pa_decref(out[k]);
    /* A smaller cap: the total, and only cap references taken. */
    memset(out, 0, sizeof out);
    assert_int_equal(pa_gc_get_objects(g_rt, -1, out, 2), 5);
    assert_non_null(out[0]);
    assert_non_null(out[1]);
    assert_null(out[2]);
    size_t with_extra = 0;
    for (int i = 0; i < 5; i++)
        with_extra += pa_refcnt(l[i]) == 2;
    assert_int_equal(with_extra, 2);
    pa_decref(out[0]);
    pa_decref(out[1]);
    /* Non-GC objects are not listed. */
    pa_type_spec plain = {.name = "plain", .basicsize = sizeof(node)};
    pa_object *p = pa_object_new(pa_type_new(g_rt, &plain));
    assert_int_equal(gen_size(g_rt, -1), 5);
    pa_decref(p);
    for (int i = 0; i < 5; i++)
        pa_decref(l[i]);
    /* Errors. */
    pa_clear_error();
    assert_int_equal(pa_gc_get_objects(g_rt, 3, NULL, 0), PA_SIZE_ERROR);
    PA_ASSERT_ERROR_MENTIONS("generation");
    pa_clear_error();
    assert_int_equal(pa_gc_get_objects(g_rt, -2, NULL, 0), PA_SIZE_ERROR);
    PA_ASSERT_ERROR_MENTIONS("generation");
    pa_clear_error();
    assert_int_equal(pa_gc_get_objects(g_rt, 0, NULL, 3), PA_SIZE_ERROR);
    PA_ASSERT_ERROR_SET();
    pa_clear_error();
    assert_int_equal(pa_gc_get_objects(NULL, 0, NULL, 0), PA_SIZE_ERROR);
    PA_ASSERT_ERROR_SET();
}

/* ----------------------------------------------------- automatic collections */

/* With threshold 5, the 6th GC allocation (count 6 > 5) collects generation
   0 before the new object is tracked (CPython 3.11's _PyObject_GC_Link);
   the new object is not counted: afterwards the count is (0, 1, 0). */
static void automatic_collection_when_generation_0_passes_its_threshold(void **state)
{
    (void)state;
    pa_gc_set_threshold(g_rt, 5, 10, 10);
    assert_int_equal(pa_gc_add_callback(g_rt, record_cb, NULL), 0);
    gcev_reset();
    pa_object *l[6];
    pa_object *ca, *cb;
    make_list_cycle(&ca, &cb); /* allocations 1 and 2: garbage */
    for (int i = 2; i < 5; i++) {
        g_alloc_index = i + 1;
        l[i] = new_list(g_rt);
    }
    ASSERT_COUNT(g_rt, 5, 0, 0);
    assert_int_equal(g_ngcev, 0);
    g_alloc_index = 6;
    l[5] = new_list(g_rt);
    assert_int_equal(g_ngcev, 2);
    assert_int_equal(g_gcev[0].phase, PA_GC_START);
    assert_int_equal(g_gcev[0].generation, 0);
    assert_int_equal(g_gcev[0].count[0], 6);
    assert_int_equal(g_gcev[0].alloc_index, 6);
    assert_int_equal(g_gcev[1].phase, PA_GC_STOP);
    assert_int_equal(g_gcev[1].generation, 0);
    assert_int_equal(g_gcev[1].collected, 2);
    ASSERT_COUNT(g_rt, 0, 1, 0);
    assert_int_equal(gen_of(g_rt, l[5]), 0); /* tracked after the collection */
    for (int i = 2; i < 5; i++)
        assert_int_equal(gen_of(g_rt, l[i]), 1);
    assert_int_equal(stats_of(0).collections, 1);
    for (int i = 2; i < 6; i++)
        pa_decref(l[i]);
}

/* Thresholds (5, 1, 10): generation 0 is collected at allocations 6 and 12,
   and at allocation 18 generation 1's count (2 > 1) makes it collect 1. */
static void automatic_collection_of_an_older_generation(void **state)
{
    (void)state;
    pa_gc_set_threshold(g_rt, 5, 1, 10);
    assert_int_equal(pa_gc_add_callback(g_rt, record_cb, NULL), 0);
    gcev_reset();
    pa_object *l[18];
    for (int i = 0; i < 18; i++) {
        g_alloc_index = i + 1;
        l[i] = new_list(g_rt);
    }
    assert_int_equal(g_ngcev, 6);
    static const int gens[] = {0, 0, 1};
    static const long at[] = {6, 12, 18};
    for (int k = 0; k < 3; k++) {
        assert_int_equal(g_gcev[2 * k].phase, PA_GC_START);
        assert_int_equal(g_gcev[2 * k].generation, gens[k]);
        assert_int_equal(g_gcev[2 * k].alloc_index, at[k]);
        assert_int_equal(g_gcev[2 * k + 1].phase, PA_GC_STOP);
    }
    ASSERT_COUNT(g_rt, 0, 0, 1);
    assert_int_equal(gen_size(g_rt, 2), 17);
    assert_int_equal(gen_of(g_rt, l[17]), 0);
    for (int i = 0; i < 18; i++)
        pa_decref(l[i]);
}

/* gc.disable(): no automatic collection however far the count goes;
   gc.enable(): the next GC allocation collects. */
static void no_automatic_collection_while_disabled(void **state)
{
    (void)state;
    pa_gc_set_threshold(g_rt, 5, 10, 10);
    assert_int_equal(pa_gc_add_callback(g_rt, record_cb, NULL), 0);
    pa_gc_disable(g_rt);
    gcev_reset();
    for (int i = 0; i < 100; i++)
        make_list_cycle(NULL, NULL);
    assert_int_equal(g_ngcev, 0);
    ASSERT_COUNT(g_rt, 200, 0, 0);
    pa_gc_enable(g_rt);
    assert_int_equal(g_ngcev, 0); /* enabling alone does not collect */
    pa_object *l = new_list(g_rt);
    assert_int_equal(g_ngcev, 2);
    assert_int_equal(g_gcev[0].generation, 0);
    assert_int_equal(g_gcev[0].count[0], 201);
    assert_int_equal(g_gcev[1].collected, 200);
    pa_decref(l);
}

/* gc.set_threshold(0): automatic collection is disabled. */
static void threshold_zero_disables_automatic_collection(void **state)
{
    (void)state;
    pa_gc_set_threshold(g_rt, 0, 10, 10);
    assert_int_equal(pa_gc_add_callback(g_rt, record_cb, NULL), 0);
    gcev_reset();
    for (int i = 0; i < 1000; i++)
        make_list_cycle(NULL, NULL);
    assert_int_equal(g_ngcev, 0);
    ASSERT_COUNT(g_rt, 2000, 0, 0);
    assert_int_equal(collect(g_rt, 0), 2000);
}

/* Non-GC allocations never trigger a collection. */
static void non_gc_allocations_do_not_trigger_collections(void **state)
{
    (void)state;
    pa_gc_set_threshold(g_rt, 1, 1, 1);
    assert_int_equal(pa_gc_add_callback(g_rt, record_cb, NULL), 0);
    gcev_reset();
    pa_type_spec plain = {.name = "plain", .basicsize = sizeof(node)};
    pa_type *t = pa_type_new(g_rt, &plain);
    pa_object *objs[100];
    for (int i = 0; i < 100; i++)
        objs[i] = pa_object_new(t);
    assert_int_equal(g_ngcev, 0);
    ASSERT_COUNT(g_rt, 0, 0, 0);
    for (int i = 0; i < 100; i++)
        pa_decref(objs[i]);
}

/* Allocations inside a collection (here by finalisers) never start another
   one, whatever the threshold ("never while a collection is running"). */
static void allocating_finalize(pa_object *o)
{
    ev_add('F', NODE(o)->id);
    pa_runtime *rt = pa_object_runtime(o);
    for (int i = 0; i < 20; i++) {
        pa_object *l = pa_list_new(rt);
        pa_object *m = pa_list_new(rt);
        pa_list_append(l, m);
        pa_list_append(m, l); /* garbage for a later collection */
        pa_decref(l);
        pa_decref(m);
    }
}

static void no_automatic_collection_during_a_collection(void **state)
{
    (void)state;
    pa_type *t = node_type_with(g_rt, "allocating", allocating_finalize, NULL);
    pa_gc_set_threshold(g_rt, 1, 1, 1);
    pa_gc_disable(g_rt);
    for (int i = 0; i < 5; i++) {
        pa_object *n = new_node(t, i);
        set_a(n, n);
        pa_decref(n);
    }
    pa_gc_enable(g_rt);
    assert_int_equal(pa_gc_add_callback(g_rt, record_cb, NULL), 0);
    gcev_reset();
    assert_int_equal(collect(g_rt, 2), 5);
    assert_int_equal(ev_count('F'), 5);
    assert_int_equal(g_ngcev, 2); /* only the explicit collection */
    /* The lists the finalisers made are there for the next one. */
    assert_int_equal(gen_size(g_rt, -1), 200);
    assert_int_equal(collect(g_rt, 2), 200);
}

/* A collection from inside a gc callback (or a finaliser) returns 0: one is
   running already. */
static intptr_t g_nested_result = -7;
static void collecting_cb(pa_runtime *rt, int phase, const pa_gc_info *info, void *user)
{
    (void)info;
    (void)user;
    if (phase == PA_GC_START)
        g_nested_result = pa_gc_collect(rt, 2);
}

static void collect_during_a_collection_returns_0(void **state)
{
    (void)state;
    assert_int_equal(pa_gc_add_callback(g_rt, collecting_cb, NULL), 0);
    make_list_cycle(NULL, NULL);
    assert_int_equal(collect(g_rt, 2), 2);
    assert_int_equal(g_nested_result, 0);
    assert_int_equal(stats_of(2).collections, 1);
}

/* --------------------------------------------------- the long-lived rule */

/* gc_collect_generations: the oldest generation whose count passed its
   threshold is collected, except that generation 2 is skipped (and the
   next younger one considered) while long_lived_pending < long_lived_total
   / 4.  Nothing in generation 2 dies here, so pending is exactly the
   growth of generation 2 since the last full collection and total its size
   right after it.  A callback checks every automatic collection against
   the rule at its start (counts are those the decision saw). */
typedef struct rule_state {
    int t[3];
    size_t total;          /* long_lived_total as the test models it */
    int skipped, full, young;
    char violation[256];
} rule_state;

static void rule_cb(pa_runtime *rt, int phase, const pa_gc_info *info, void *user)
{
    rule_state *s = user;
    size_t gen2 = pa_gc_get_objects(rt, 2, NULL, 0);
    if (phase == PA_GC_STOP) {
        if (info->generation == 2)
            s->total = gen2;
        return;
    }
    intptr_t c[3];
    pa_gc_get_count(rt, c);
    size_t pending = gen2 - s->total;
    bool rule_blocks = pending < s->total / 4;
    int g = info->generation;
    if (s->violation[0] != '\0')
        return;
    if (c[g] <= s->t[g])
        snprintf(s->violation, sizeof s->violation,
                 "generation %d collected with count %ld <= threshold %d", g, (long)c[g], s->t[g]);
    for (int i = g + 1; i < 3; i++) {
        if (c[i] > s->t[i]) {
            if (i == 2 && rule_blocks)
                s->skipped++;
            else
                snprintf(s->violation, sizeof s->violation,
                         "generation %d collected while generation %d's count %ld > %d (pending %zu, total %zu)",
                         g, i, (long)c[i], s->t[i], pending, s->total);
        }
    }
    if (g == 2) {
        s->full++;
        if (rule_blocks)
            snprintf(s->violation, sizeof s->violation,
                     "full collection with pending %zu < total %zu / 4", pending, s->total);
    } else {
        s->young++;
    }
}

static void long_lived_pending_rule_delays_full_collections(void **state)
{
    (void)state;
    pa_object *holder = new_list(g_rt);
    for (int i = 0; i < 400; i++) {
        pa_object *x = new_list(g_rt);
        append(holder, x);
        pa_decref(x);
    }
    collect(g_rt, 2); /* long_lived_total = 401, pending = 0 */
    rule_state s = {.t = {2, 1, 1}};
    s.total = gen_size(g_rt, 2);
    assert_int_equal(s.total, 401);
    pa_gc_set_threshold(g_rt, 2, 1, 1);
    assert_int_equal(pa_gc_add_callback(g_rt, rule_cb, &s), 0);
    for (int i = 0; i < 600; i++) {
        pa_object *x = new_list(g_rt);
        append(holder, x);
        pa_decref(x);
    }
    if (s.violation[0] != '\0')
        fail_msg("%s", s.violation);
    /* The rule mattered: generation 2 passed its threshold and was skipped,
       and full collections still came once pending was large enough. */
    assert_true(s.skipped > 0);
    assert_true(s.full > 0);
    assert_true(s.young > s.full);
    assert_int_equal(stats_of(2).collections, 1 + s.full);
    /* s lives on this frame: the teardown's pa_runtime_free runs the gc
       callbacks of its final collection, which must not find rule_cb. */
    assert_int_equal(pa_gc_remove_callback(g_rt, rule_cb, &s), 0);
    pa_decref(holder);
}

/* Explicit gc.collect(2) runs whatever pending and total are. */
static void explicit_collection_ignores_the_long_lived_rule(void **state)
{
    (void)state;
    pa_object *holder = new_list(g_rt);
    for (int i = 0; i < 400; i++) {
        pa_object *x = new_list(g_rt);
        append(holder, x);
        pa_decref(x);
    }
    collect(g_rt, 2); /* total 401, pending 0 */
    collect(g_rt, 1); /* count[2] = 1 */
    collect(g_rt, 1); /* count[2] = 2, pending still 0 < 401 / 4 */
    ASSERT_COUNT(g_rt, 0, 0, 2);
    assert_int_equal(gen_size(g_rt, 2), 401);
    make_list_cycle(NULL, NULL);
    assert_int_equal(pa_gc_add_callback(g_rt, record_cb, NULL), 0);
    gcev_reset();
    assert_int_equal(collect(g_rt, 2), 2);
    assert_int_equal(g_ngcev, 2);
    assert_int_equal(g_gcev[0].generation, 2);
    assert_int_equal(stats_of(2).collections, 2);
    assert_int_equal(stats_of(2).collected, 2);
    pa_decref(holder);
}

/* ---------------------------------------------------------------- PEP 442 */

static pa_object *g_saved;
static int g_phoenix_calls;

/* A finaliser that resurrects its object the first time (saving it in g_saved). */
static void phoenix_finalize(pa_object *o)
{
    g_phoenix_calls++;
    ev_add('F', NODE(o)->id);
    if (g_saved == NULL) {
        pa_incref(o);
        g_saved = o;
    }
}

/* Mirrors:
     class R:
         def __del__(self): calls[0] += 1; saved.append(self)
     r = R(); r.me = r; del r
     gc.collect() == 0; calls == [1]; len(saved) == 1   # resurrected
     saved.clear(); gc.collect() == 1; calls == [1]     # not finalised again */
static void finalizer_runs_once_even_if_the_object_is_resurrected(void **state)
{
    (void)state;
    g_saved = NULL;
    g_phoenix_calls = 0;
    pa_type *t = node_type_with(g_rt, "phoenix", phoenix_finalize, NULL);
    pa_object *r = new_node(t, 1);
    set_a(r, r);
    assert_int_equal(pa_gc_is_finalized(r), 0);
    pa_decref(r);
    assert_int_equal(collect(g_rt, 2), 0);
    assert_int_equal(g_phoenix_calls, 1);
    assert_ptr_equal(g_saved, r);
    assert_int_equal(pa_refcnt(r), 2);
    assert_int_equal(pa_gc_is_finalized(r), 1);
    assert_ptr_equal(NODE(r)->a, r); /* not cleared */
    assert_int_equal(gen_of(g_rt, r), 2);
    assert_int_equal(stats_of(2).collected, 0);
    assert_int_equal(stats_of(2).uncollectable, 0);
    assert_string_equal(ev_string(), "F1");
    pa_clear(&g_saved);
    assert_int_equal(collect(g_rt, 2), 1);
    assert_int_equal(g_phoenix_calls, 1);
    assert_string_equal(ev_string(), "F1 D1");
}

/* At death by count: the finaliser resurrects; the next death deallocates
   without finalising again (PEP 442). */
static void finalizer_resurrects_at_death_by_count_and_runs_once(void **state)
{
    (void)state;
    g_saved = NULL;
    g_phoenix_calls = 0;
    pa_type *t = node_type_with(g_rt, "phoenix", phoenix_finalize, NULL);
    pa_object *r = new_node(t, 1);
    pa_decref(r);
    assert_ptr_equal(g_saved, r);
    assert_int_equal(pa_refcnt(r), 1);
    assert_int_equal(pa_gc_is_finalized(r), 1);
    assert_int_equal(pa_gc_is_tracked(r), 1); /* a resurrected GC object stays tracked */
    assert_string_equal(ev_string(), "F1");
    pa_clear(&g_saved);
    assert_string_equal(ev_string(), "F1 D1");
    assert_int_equal(g_phoenix_calls, 1);
}

/* Mirrors (CPython 3.12 returns 1, stats collected 1, uncollectable 0):
     a = R(); b = P(); c = P(); a.n = b; b.n = c; c.n = a   # R resurrects itself once
     d = P(); d.n = d
     del a, b, c, d; gc.collect() == 1 */
static void resurrected_objects_count_neither_collected_nor_uncollectable(void **state)
{
    (void)state;
    g_saved = NULL;
    g_phoenix_calls = 0;
    pa_type *t = node_type_with(g_rt, "phoenix", phoenix_finalize, NULL);
    pa_object *a = new_node(t, 1), *b = new_node(g_node, 2), *c = new_node(g_node, 3);
    pa_object *d = new_node(g_node, 4);
    set_a(a, b);
    set_a(b, c);
    set_a(c, a);
    set_a(d, d);
    pa_decref(a);
    pa_decref(b);
    pa_decref(c);
    pa_decref(d);
    assert_int_equal(collect(g_rt, 2), 1);
    assert_string_equal(ev_string(), "F1 D4");
    pa_gc_generation_stats st = stats_of(2);
    assert_int_equal(st.collected, 1);
    assert_int_equal(st.uncollectable, 0);
    /* b and c survive through a; nothing was cleared. */
    assert_ptr_equal(NODE(a)->a, b);
    assert_ptr_equal(NODE(b)->a, c);
    assert_ptr_equal(NODE(c)->a, a);
    assert_int_equal(gen_size(g_rt, 2), 3);
    pa_clear(&g_saved);
    assert_int_equal(collect(g_rt, 2), 3);
    assert_int_equal(g_phoenix_calls, 1);
}

/* Mirrors (CPython 3.12: 3, ['a', 'b', 'c']):
     class F: def __del__(s): order.append(s.n)
     a = F('a'); b = F('b'); c = F('c'); a.o = b; b.o = c; c.o = a; del a, b, c
     gc.collect() == 3; order == ['a', 'b', 'c']
   Finalisers run in the collector's list order (creation order here), all
   of them before any object is cleared, and each sees its fields intact. */
static void finalize_checks_fields(pa_object *o)
{
    ev_add('F', NODE(o)->id);
    ev_add('f', NODE(o)->a != NULL);
}

static void a_cycle_with_finalizers_is_collected_in_order(void **state)
{
    (void)state;
    pa_type *t = node_type_with(g_rt, "fin", finalize_checks_fields, NULL);
    pa_object *a = new_node(t, 1), *b = new_node(t, 2), *c = new_node(t, 3);
    set_a(a, b);
    set_a(b, c);
    set_a(c, a);
    pa_decref(a);
    pa_decref(b);
    pa_decref(c);
    assert_int_equal(collect(g_rt, 2), 3);
    const char *log = ev_string();
    if (strncmp(log, "F1 f1 F2 f1 F3 f1 D", 19) != 0)
        fail_msg("finalisers not first, in order, with fields intact: %s", log);
    assert_int_equal(ev_count('D'), 3);
    assert_int_equal(ev_count('F'), 3);
    assert_int_equal(stats_of(2).collected, 3);
    assert_int_equal(gen_size(g_rt, -1), 0);
}

/* ------------------------------------------------------- legacy finalisers */

/* Mirrors, with _testcapi.with_tp_del (CPython 3.12):
     @with_tp_del
     class L: def __tp_del__(self): print("tp_del")
     a = L(); b = P(); a.o = b; b.o = a; c = P(); b.c = c; del a, b, c
     gc.collect() == 3; gc.garbage == [a]   # only objects with tp_del
     gc.get_stats()[2]['uncollectable'] == 3
     del gc.garbage[0].o; gc.garbage.clear(); ...  -> tp_del runs at the death */
static void legacy_finalizers_in_a_cycle_are_uncollectable(void **state)
{
    (void)state;
    pa_type *tl = node_type_with(g_rt, "legacy", NULL, node_legacy_del);
    pa_object *a = new_node(tl, 1), *b = new_node(g_node, 2), *c = new_node(g_node, 3);
    set_a(a, b);
    set_a(b, a);
    set_b(b, c);
    pa_decref(a);
    pa_decref(b);
    pa_decref(c);
    assert_int_equal(collect(g_rt, 2), 3);
    assert_string_equal(ev_string(), ""); /* nothing finalised, cleared or freed */
    pa_gc_generation_stats st = stats_of(2);
    assert_int_equal(st.uncollectable, 3);
    assert_int_equal(st.collected, 0);
    pa_object *garbage[4] = {NULL};
    assert_int_equal(pa_gc_get_garbage(g_rt, NULL, 0), 1);
    assert_int_equal(pa_gc_get_garbage(g_rt, garbage, 4), 1);
    assert_ptr_equal(garbage[0], a);
    /* Everything a reaches is alive and intact, in generation 2. */
    assert_ptr_equal(NODE(a)->a, b);
    assert_ptr_equal(NODE(b)->a, a);
    assert_ptr_equal(NODE(b)->b, c);
    assert_int_equal(gen_of(g_rt, a), 2);
    assert_int_equal(gen_of(g_rt, b), 2);
    assert_int_equal(gen_of(g_rt, c), 2);
    /* gc.garbage keeps them reachable: the next collection finds nothing. */
    assert_int_equal(collect(g_rt, 2), 0);
    assert_int_equal(pa_gc_get_garbage(g_rt, NULL, 0), 1);
    /* Break the cycle by hand, then let garbage go: tp_del runs at a's death. */
    pa_clear(&NODE(a)->a);
    assert_string_equal(ev_string(), "D2 D3");
    pa_decref(garbage[0]);
    assert_string_equal(ev_string(), "D2 D3");
    pa_gc_clear_garbage(g_rt);
    assert_string_equal(ev_string(), "D2 D3 L1 D1");
    assert_int_equal(pa_gc_get_garbage(g_rt, NULL, 0), 0);
    assert_int_equal(gen_size(g_rt, -1), 0);
}

/* Two objects with legacy finalisers in a cycle, the caller's references
   dropped: uncollectable (gc.garbage material).  *a and *b are borrowed. */
static void make_legacy_cycle(pa_runtime *rt, pa_object **a, pa_object **b)
{
    pa_type *tl = node_type_with(rt, "legacy", NULL, node_legacy_del);
    *a = new_node(tl, 1);
    *b = new_node(tl, 2);
    set_a(*a, *b);
    set_a(*b, *a);
    pa_decref(*a);
    pa_decref(*b);
}

/* Two legacy objects in one cycle: both in garbage; clearing garbage alone
   does not free a cycle (as del gc.garbage[:]): the next collection puts
   them back. */
static void clearing_garbage_does_not_free_a_cycle(void **state)
{
    (void)state;
    pa_object *a, *b;
    make_legacy_cycle(g_rt, &a, &b);
    assert_int_equal(collect(g_rt, 2), 2);
    assert_int_equal(pa_gc_get_garbage(g_rt, NULL, 0), 2);
    pa_gc_clear_garbage(g_rt);
    assert_int_equal(pa_gc_get_garbage(g_rt, NULL, 0), 0);
    assert_string_equal(ev_string(), "");
    assert_int_equal(collect(g_rt, 2), 2);
    assert_int_equal(pa_gc_get_garbage(g_rt, NULL, 0), 2);
    assert_int_equal(stats_of(2).uncollectable, 4);
}

/* Mirrors: a tp_del object that resurrects itself on its first two deaths:
   tp_del runs on every death (3 calls), unlike tp_finalize. */
static int g_legacy_calls;
static void legacy_resurrect(pa_object *o)
{
    ev_add('L', NODE(o)->id);
    if (g_legacy_calls++ < 2) {
        pa_incref(o);
        g_saved = o;
    }
}

static void legacy_finalizer_runs_on_every_death(void **state)
{
    (void)state;
    g_saved = NULL;
    g_legacy_calls = 0;
    pa_type *tl = node_type_with(g_rt, "legacy", NULL, legacy_resurrect);
    pa_object *o = new_node(tl, 1);
    pa_decref(o);
    assert_ptr_equal(g_saved, o);
    pa_clear(&g_saved);
    assert_ptr_equal(g_saved, o);
    pa_clear(&g_saved);
    assert_null(g_saved);
    assert_string_equal(ev_string(), "L1 L1 L1 D1");
}

/* An object with both a PEP 442 finaliser and a legacy one is a legacy
   object: in a cycle it is uncollectable and its finaliser does not run
   (finalize_garbage only sees what move_legacy_finalizers left).  Mirrors:
     @with_tp_del
     class LF: __tp_del__ = ...; def __del__(self): out.append('F')
     a = LF(); b = LF(); a.o = b; b.o = a; del a, b
     gc.collect() == 2; out == []; len(gc.garbage) == 2 */
static void an_object_with_both_finalizers_in_a_cycle_is_not_finalized(void **state)
{
    (void)state;
    pa_type *t = node_type_with(g_rt, "both", node_finalize, node_legacy_del);
    pa_object *a = new_node(t, 1), *b = new_node(t, 2);
    set_a(a, b);
    set_a(b, a);
    pa_decref(a);
    pa_decref(b);
    assert_int_equal(collect(g_rt, 2), 2);
    assert_string_equal(ev_string(), "");
    assert_int_equal(pa_gc_is_finalized(a), 0);
    assert_int_equal(pa_gc_get_garbage(g_rt, NULL, 0), 2);
}

/* Weak references to what a legacy finaliser reaches are not cleared (the
   legacy set is moved out before handle_weakrefs).  Mirrors:
     a = L(); b = P(); a.o = b; b.o = a; w = weakref.ref(b, cb); del a, b
     gc.collect(); cb not called; w() is not None */
static void wr_cb_log(pa_object *wr, void *user)
{
    (void)wr;
    ev_add('W', (intptr_t)user);
}

static void weakrefs_to_uncollectable_objects_are_not_cleared(void **state)
{
    (void)state;
    pa_type *tl = node_type_with(g_rt, "legacy", NULL, node_legacy_del);
    pa_object *a = new_node(tl, 1), *b = new_node(g_node, 2);
    set_a(a, b);
    set_a(b, a);
    pa_object *wa = pa_weakref_new(a, wr_cb_log, (void *)10);
    pa_object *wb = pa_weakref_new(b, wr_cb_log, (void *)20);
    pa_decref(a);
    pa_decref(b);
    assert_int_equal(collect(g_rt, 2), 2);
    assert_string_equal(ev_string(), "");
    pa_object *got = pa_weakref_get(wb);
    assert_ptr_equal(got, b);
    pa_decref(got);
    got = pa_weakref_get(wa);
    assert_ptr_equal(got, a);
    pa_decref(got);
    pa_decref(wa);
    pa_decref(wb);
}

/* With DEBUG_SAVEALL, every object of the legacy set goes to garbage, not
   only those with a legacy finaliser.  Mirrors:
     gc.set_debug(gc.DEBUG_SAVEALL); a = L(); b = P(); a.o = b; b.o = a
     del a, b; gc.collect(); gc.garbage holds both a and b */
static void debug_saveall_puts_the_whole_legacy_set_in_garbage(void **state)
{
    (void)state;
    pa_gc_set_debug(g_rt, PA_GC_DEBUG_SAVEALL);
    pa_type *tl = node_type_with(g_rt, "legacy", NULL, node_legacy_del);
    pa_object *a = new_node(tl, 1), *b = new_node(g_node, 2);
    set_a(a, b);
    set_a(b, a);
    pa_decref(a);
    pa_decref(b);
    assert_int_equal(collect(g_rt, 2), 2);
    pa_object *out[3] = {NULL};
    assert_int_equal(pa_gc_get_garbage(g_rt, out, 3), 2);
    assert_true((out[0] == a && out[1] == b) || (out[0] == b && out[1] == a));
    pa_decref(out[0]);
    pa_decref(out[1]);
    assert_int_equal(stats_of(2).uncollectable, 2);
    pa_gc_set_debug(g_rt, 0);
}

/* gc.set_debug(gc.DEBUG_SAVEALL): a = []; b = []; a.append(b); b.append(a);
   del a, b; gc.collect() == 2; len(gc.garbage) == 2 (not cleared). */
static void debug_saveall_keeps_everything_in_garbage(void **state)
{
    (void)state;
    pa_gc_set_debug(g_rt, PA_GC_DEBUG_SAVEALL);
    assert_int_equal(pa_gc_get_debug(g_rt), PA_GC_DEBUG_SAVEALL);
    pa_object *a, *b;
    make_list_cycle(&a, &b);
    pa_object *n = new_node(g_node, 1);
    set_a(n, n);
    pa_decref(n);
    assert_int_equal(collect(g_rt, 2), 3);
    assert_string_equal(ev_string(), ""); /* nothing cleared, nothing freed */
    pa_object *garbage[4] = {NULL};
    assert_int_equal(pa_gc_get_garbage(g_rt, garbage, 4), 3);
    bool seen_a = false, seen_b = false, seen_n = false;
    for (int i = 0; i < 3; i++) {
        seen_a |= garbage[i] == a;
        seen_b |= garbage[i] == b;
        seen_n |= garbage[i] == n;
        pa_decref(garbage[i]);
    }
    assert_true(seen_a && seen_b && seen_n);
    assert_int_equal(pa_list_size(a), 1);
    assert_int_equal(pa_list_size(b), 1);
    assert_ptr_equal(NODE(n)->a, n);
    /* Without SAVEALL, once garbage lets go, the cycles are collected. */
    pa_gc_set_debug(g_rt, 0);
    pa_gc_clear_garbage(g_rt);
    assert_int_equal(collect(g_rt, 2), 3);
    assert_string_equal(ev_string(), "D1");
    assert_int_equal(pa_gc_get_garbage(g_rt, NULL, 0), 0);
}

static void debug_flags_values(void **state)
{
    (void)state;
    assert_int_equal(PA_GC_DEBUG_STATS, 1);
    assert_int_equal(PA_GC_DEBUG_COLLECTABLE, 2);
    assert_int_equal(PA_GC_DEBUG_UNCOLLECTABLE, 4);
    assert_int_equal(PA_GC_DEBUG_SAVEALL, 32);
    assert_int_equal(PA_GC_DEBUG_LEAK, 38);
    assert_int_equal(pa_gc_get_debug(g_rt), 0);
    pa_gc_set_debug(g_rt, PA_GC_DEBUG_LEAK);
    assert_int_equal(pa_gc_get_debug(g_rt), 38);
    pa_gc_set_debug(g_rt, 0);
    assert_int_equal(pa_gc_get_debug(g_rt), 0);
}

/* ------------------------------------------------------------- debug output */

/* A C traverse that visits its one reference twice: the child "overvisit". */
typedef struct twice { PA_OBJECT_HEAD pa_object *ref; } twice;

static int twice_traverse(pa_object *self, pa_visitproc visit, void *arg)
{
    pa_object *r = ((twice *)self)->ref;
    int v;
    if (r != NULL && (v = visit(r, arg)) != 0)
        return v;
    return r != NULL ? visit(r, arg) : 0;
}

/* The children (this executable run as `test_gc --child <what>`) print the
   addresses they expect on stdout; the collector writes to stderr. */
static int child_main(const char *what)
{
    pa_runtime *rt = pa_runtime_new();
    if (strcmp(what, "overvisit") == 0) {
        pa_type_spec spec = {.name = "twice", .basicsize = sizeof(twice), .flags = PA_TPFLAGS_HAVE_GC,
                             .traverse = twice_traverse};
        pa_type *t = pa_type_new(rt, &spec);
        pa_object *x = pa_object_new(t), *y = pa_object_new(t);
        ((twice *)x)->ref = y;   /* steals y's only reference, visited twice */
        printf("x=%p\ny=%p\n", (void *)x, (void *)y);
        fflush(stdout);
        pa_gc_collect(rt, 2);    /* a fatal error: does not return */
        printf("returned\n");
        return 0;
    }
    if (strcmp(what, "collectable") == 0) {
        /* gc.set_debug(gc.DEBUG_STATS | gc.DEBUG_COLLECTABLE)
           a = []; b = []; a.append(b); b.append(a); del a, b; gc.collect() */
        pa_gc_set_debug(rt, PA_GC_DEBUG_STATS | PA_GC_DEBUG_COLLECTABLE);
        pa_object *keep = pa_list_new(rt);
        pa_gc_collect(rt, 1); /* keep goes to generation 2: "1 0 0" -> later "2 0 1" */
        pa_object *a = pa_list_new(rt), *b = pa_list_new(rt);
        pa_list_append(a, b);
        pa_list_append(b, a);
        printf("a=<list %p>\nb=<list %p>\n", (void *)a, (void *)b);
        pa_decref(a);
        pa_decref(b);
        fflush(stdout);
        fprintf(stderr, "--- collect 2 ---\n");
        fflush(stderr);
        printf("n=%ld\n", (long)pa_gc_collect(rt, 2));
        fflush(stdout);
        fprintf(stderr, "--- quiet ---\n");
        fflush(stderr);
        pa_gc_set_debug(rt, 0);
        pa_object *c = pa_list_new(rt);
        pa_list_append(c, c);
        pa_decref(c);
        printf("n2=%ld\n", (long)pa_gc_collect(rt, 2));
        pa_decref(keep);
    } else if (strcmp(what, "uncollectable") == 0) {
        pa_gc_set_debug(rt, PA_GC_DEBUG_STATS | PA_GC_DEBUG_UNCOLLECTABLE);
        pa_type *tl = node_type_with(rt, "legacy", NULL, node_legacy_del);
        pa_type *tn = node_type(rt);
        pa_object *a = new_node(tl, 1), *b = new_node(tn, 2);
        set_a(a, b);
        set_a(b, a);
        printf("a=<legacy %p>\nb=<node %p>\n", (void *)a, (void *)b);
        pa_decref(a);
        pa_decref(b);
        printf("n=%ld\n", (long)pa_gc_collect(rt, 2));
    } else if (strncmp(what, "shutdown-", 9) == 0) {
        /* gc.garbage holds a legacy cycle (2 objects) at pa_runtime_free */
        const char *mode = what + 9;
        pa_gc_set_debug(rt, strcmp(mode, "list") == 0 ? PA_GC_DEBUG_UNCOLLECTABLE
                            : strcmp(mode, "saveall") == 0 ? PA_GC_DEBUG_SAVEALL : 0);
        pa_object *a, *b;
        make_legacy_cycle(rt, &a, &b);
        printf("a=<legacy object at %p>\nb=<legacy object at %p>\n", (void *)a, (void *)b);
        if (strcmp(mode, "empty") != 0)
            printf("n=%ld\n", (long)pa_gc_collect(rt, 2));
        else
            pa_gc_set_debug(rt, 0); /* the final collection finds them: still reported */
        fflush(stdout);
        fprintf(stderr, "--- free ---\n");
        fflush(stderr);
    } else {
        return 2;
    }
    fflush(stdout);
    pa_runtime_free(rt);
    return 0;
}

/* Extracts the line of out starting with prefix, up to (not including) '\n'. */
static void line_after(const char *out, const char *prefix, char *buf, size_t cap)
{
    const char *p = strstr(out, prefix);
    if (p == NULL)
        fail_msg("no \"%s\" in child output:\n%s", prefix, out);
    p += strlen(prefix);
    size_t n = strcspn(p, "\n");
    if (n >= cap)
        n = cap - 1;
    memcpy(buf, p, n);
    buf[n] = '\0';
}

/* CPython 3.12 with DEBUG_STATS | DEBUG_COLLECTABLE prints:
     gc: collecting generation 2...
     gc: objects in each generation: 2 0 6265
     gc: objects in permanent generation: 375
     gc: collectable <list 0x7f8137292240>
     gc: collectable <list 0x7f8137291b40>
     gc: done, 2 unreachable, 0 uncollectable, 0.0004s elapsed */
static void debug_stats_and_collectable_reports(void **state)
{
    (void)state;
    child_result r = run_child("/proc/self/exe", "--child", "collectable", NULL);
    if (!WIFEXITED(r.status) || WEXITSTATUS(r.status) != 0)
        fail_msg("child failed (status %d); stdout:\n%s\nstderr:\n%s", r.status, r.out, r.err);
    char a[64], b[64], line[128];
    line_after(r.out, "a=", a, sizeof a);
    line_after(r.out, "b=", b, sizeof b);
    ASSERT_CONTAINS(r.out, "n=2\n");
    ASSERT_CONTAINS(r.out, "n2=1\n");
    /* The explicit collect(1) before: reported too. */
    ASSERT_CONTAINS(r.err, "gc: collecting generation 1...\n");
    const char *mine = strstr(r.err, "--- collect 2 ---\n");
    assert_non_null(mine);
    const char *quiet = strstr(r.err, "--- quiet ---\n");
    assert_non_null(quiet);
    ASSERT_CONTAINS(mine, "gc: collecting generation 2...\n"
                          "gc: objects in each generation: 2 0 1\n"
                          "gc: objects in permanent generation: 0\n");
    snprintf(line, sizeof line, "gc: collectable %s\n", a);
    ASSERT_CONTAINS(mine, line);
    snprintf(line, sizeof line, "gc: collectable %s\n", b);
    ASSERT_CONTAINS(mine, line);
    ASSERT_CONTAINS(mine, "gc: done, 2 unreachable, 0 uncollectable, ");
    ASSERT_CONTAINS(mine, "s elapsed\n");
    /* With debug 0, not a word. */
    ASSERT_NOT_CONTAINS(quiet, "gc:");
    child_result_free(&r);
}

/* A C traverse that visits a reference more often than the object owns it:
   subtract_refs (the C visit procedure, native/entry/gc_visit.c) stops the
   traversal and the core reports CPython's "refcount is too small" as a
   fatal error naming the referrer and the object, and aborts. */
static void a_c_traverse_visiting_too_often_is_a_fatal_error(void **state)
{
    (void)state;
    child_result r = run_child("/proc/self/exe", "--child", "overvisit", NULL);
    if (!WIFSIGNALED(r.status) && !(WIFEXITED(r.status) && WEXITSTATUS(r.status) != 0))
        fail_msg("the child did not fail (status %d); stdout:\n%s\nstderr:\n%s", r.status, r.out, r.err);
    char x[64], y[64], line[512];
    line_after(r.out, "x=", x, sizeof x);
    line_after(r.out, "y=", y, sizeof y);
    ASSERT_NOT_CONTAINS(r.out, "returned");
    snprintf(line, sizeof line, "Fatal PyAlloc error: gc: refcount is too small (referenced by %s of type 'twice' "
             "more often than its count says): object %s of type 'twice', reference count 1\n", x, y);
    ASSERT_CONTAINS(r.err, line);
    child_result_free(&r);
}

/* DEBUG_UNCOLLECTABLE: every object of the finalizers set is reported. */
static void debug_uncollectable_reports(void **state)
{
    (void)state;
    child_result r = run_child("/proc/self/exe", "--child", "uncollectable", NULL);
    if (!WIFEXITED(r.status) || WEXITSTATUS(r.status) != 0)
        fail_msg("child failed (status %d); stdout:\n%s\nstderr:\n%s", r.status, r.out, r.err);
    char a[64], b[64], line[128];
    line_after(r.out, "a=", a, sizeof a);
    line_after(r.out, "b=", b, sizeof b);
    ASSERT_CONTAINS(r.out, "n=2\n");
    snprintf(line, sizeof line, "gc: uncollectable %s\n", a);
    ASSERT_CONTAINS(r.err, line);
    snprintf(line, sizeof line, "gc: uncollectable %s\n", b);
    ASSERT_CONTAINS(r.err, line);
    ASSERT_CONTAINS(r.err, "gc: done, 2 unreachable, 2 uncollectable, ");
    ASSERT_NOT_CONTAINS(r.err, "gc: collectable");
    /* and at pa_runtime_free, as _PyGC_DumpShutdownStats (only the legacy one is in gc.garbage) */
    ASSERT_CONTAINS(r.err, "gc:0: ResourceWarning: gc: 1 uncollectable objects at shutdown\n      [<legacy object at ");
    child_result_free(&r);
}

/* ------------------------------------------------------------------ stats */

static void get_stats_per_generation(void **state)
{
    (void)state;
    pa_gc_generation_stats st[3];
    assert_int_equal(pa_gc_get_stats(g_rt, st), 0);
    for (int g = 0; g < 3; g++) {
        assert_int_equal(st[g].collections, 0);
        assert_int_equal(st[g].collected, 0);
        assert_int_equal(st[g].uncollectable, 0);
    }
    make_list_cycle(NULL, NULL);
    collect(g_rt, 0);
    collect(g_rt, 0);
    make_list_cycle(NULL, NULL);
    make_list_cycle(NULL, NULL);
    collect(g_rt, 1);
    pa_type *tl = node_type_with(g_rt, "legacy", NULL, node_legacy_del);
    pa_object *x = new_node(tl, 1);
    set_a(x, x);
    pa_decref(x);
    make_list_cycle(NULL, NULL);
    collect(g_rt, 2);
    assert_int_equal(pa_gc_get_stats(g_rt, st), 0);
    assert_int_equal(st[0].collections, 2);
    assert_int_equal(st[0].collected, 2);
    assert_int_equal(st[0].uncollectable, 0);
    assert_int_equal(st[1].collections, 1);
    assert_int_equal(st[1].collected, 4);
    assert_int_equal(st[2].collections, 1);
    assert_int_equal(st[2].collected, 2);
    assert_int_equal(st[2].uncollectable, 1);
    /* Automatic collections count too. */
    pa_gc_set_threshold(g_rt, 3, 10, 10);
    for (int i = 0; i < 4; i++)
        make_list_cycle(NULL, NULL);
    assert_int_equal(pa_gc_get_stats(g_rt, st), 0);
    assert_true(st[0].collections >= 3);
    assert_true(st[0].collected >= 4);
}

/* ----------------------------------------------------- referrers, referents */

/* gc.get_referrers(x): tracked objects of generations 0-2 that refer to x;
   not an untracked list, not a frozen one, not x itself when it does not
   refer to itself. */
static void get_referrers_finds_tracked_containers(void **state)
{
    (void)state;
    pa_object *x = new_node(g_node, 1);
    pa_object *frozen = new_list(g_rt);
    append(frozen, x);
    pa_gc_freeze(g_rt);
    pa_object *l1 = new_list(g_rt), *l2 = new_list(g_rt), *n = new_node(g_node, 2);
    pa_object *other = new_list(g_rt);
    append(l1, x);
    append(l2, x);
    pa_gc_untrack(l2);
    set_b(n, x);
    append(other, n); /* refers to n, not x */
    collect(g_rt, 0); /* the referrers may be in any generation */
    pa_object *out[8] = {NULL};
    assert_int_equal(pa_gc_get_referrers(g_rt, x, NULL, 0), 2);
    assert_int_equal(pa_gc_get_referrers(g_rt, x, out, 8), 2);
    assert_true((out[0] == l1 && out[1] == n) || (out[0] == n && out[1] == l1));
    assert_int_equal(pa_refcnt(l1), 2); /* new references */
    pa_decref(out[0]);
    pa_decref(out[1]);
    /* cap 1: the total, one reference */
    memset(out, 0, sizeof out);
    assert_int_equal(pa_gc_get_referrers(g_rt, x, out, 1), 2);
    assert_non_null(out[0]);
    assert_null(out[1]);
    pa_decref(out[0]);
    /* errors */
    pa_clear_error();
    assert_int_equal(pa_gc_get_referrers(NULL, x, NULL, 0), PA_SIZE_ERROR);
    PA_ASSERT_ERROR_SET();
    pa_clear_error();
    assert_int_equal(pa_gc_get_referrers(g_rt, NULL, NULL, 0), PA_SIZE_ERROR);
    PA_ASSERT_ERROR_SET();
    pa_clear_error();
    assert_int_equal(pa_gc_get_referrers(g_rt, x, NULL, 2), PA_SIZE_ERROR);
    PA_ASSERT_ERROR_SET();
    pa_gc_unfreeze(g_rt);
    assert_int_equal(pa_gc_get_referrers(g_rt, x, NULL, 0), 3); /* frozen is back */
    pa_decref(l1);
    pa_decref(l2);
    pa_decref(n);
    pa_decref(other);
    pa_decref(frozen);
    pa_decref(x);
}

/* CPython 3.12: a = []; a.append(a); any(r is a for r in gc.get_referrers(a))
   is True (gc_referrers_for skips only its own argument tuple and result
   list, not the target). */
static void get_referrers_includes_a_self_referencing_target(void **state)
{
    (void)state;
    pa_object *a = new_list(g_rt);
    append(a, a);
    pa_object *n = new_node(g_node, 1);
    set_a(n, n);
    pa_object *out[2] = {NULL};
    assert_int_equal(pa_gc_get_referrers(g_rt, a, out, 2), 1);
    assert_ptr_equal(out[0], a);
    pa_decref(out[0]);
    assert_int_equal(pa_gc_get_referrers(g_rt, n, out, 2), 1);
    assert_ptr_equal(out[0], n);
    pa_decref(out[0]);
    pa_list_clear(a);
    pa_decref(a);
    pa_clear(&NODE(n)->a);
    pa_decref(n);
}

/* gc.get_referents: lists give their items last first; ref_offsets types
   their fields; weakrefs and non-GC objects nothing. */

static void get_referents_by_kind(void **state)
{
    (void)state;
    pa_object *x = new_node(g_node, 1), *y = new_list(g_rt);
    pa_object *l = new_list(g_rt);
    append(l, x);
    append(l, y);
    append(l, x);
    pa_object *out[4] = {NULL};
    assert_int_equal(pa_gc_get_referents(l, out, 4), 3);
    assert_ptr_equal(out[0], x);
    assert_ptr_equal(out[1], y);
    assert_ptr_equal(out[2], x);
    for (int i = 0; i < 3; i++)
        pa_decref(out[i]);
    /* an empty list, a node without fields */
    assert_int_equal(pa_gc_get_referents(y, out, 4), 0);
    assert_int_equal(pa_gc_get_referents(x, out, 4), 0);
    /* a weakref refers to nothing (its target is weak) */
    pa_object *w = pa_weakref_new(x, NULL, NULL);
    assert_int_equal(pa_gc_get_referents(w, out, 4), 0);
    /* a non-GC object, even with ref_offsets */
    pa_type_spec plain = {.name = "plain", .basicsize = sizeof(node), .ref_offsets = node_offsets};
    pa_object *p = pa_object_new(pa_type_new(g_rt, &plain));
    set_a(p, x);
    assert_int_equal(pa_gc_get_referents(p, out, 4), 0);
    /* cap smaller than the total */
    memset(out, 0, sizeof out);
    assert_int_equal(pa_gc_get_referents(l, out, 1), 3);
    assert_ptr_equal(out[0], x);
    assert_null(out[1]);
    pa_decref(out[0]);
    assert_int_equal(pa_refcnt(x), 4); /* ours, l's two, p's */
    pa_clear_error();
    assert_int_equal(pa_gc_get_referents(NULL, NULL, 0), PA_SIZE_ERROR);
    PA_ASSERT_ERROR_SET();
    pa_clear_error();
    assert_int_equal(pa_gc_get_referents(l, NULL, 1), PA_SIZE_ERROR);
    PA_ASSERT_ERROR_SET();
    pa_decref(p);
    pa_decref(w);
    pa_decref(l);
    pa_decref(y);
    pa_decref(x);
}

/* ------------------------------------------------------ track and finalized */

/* gc.is_tracked([]) is True; an untracked cycle is invisible to the collector. */
static void track_untrack_is_tracked(void **state)
{
    (void)state;
    pa_object *a = new_node(g_node, 1), *b = new_node(g_node, 2);
    set_a(a, b);
    set_a(b, a);
    assert_int_equal(pa_gc_is_tracked(a), 1);
    pa_gc_untrack(a);
    pa_gc_untrack(a); /* twice: no-op */
    pa_gc_untrack(b);
    assert_int_equal(pa_gc_is_tracked(a), 0);
    assert_int_equal(pa_gc_is_tracked(b), 0);
    assert_int_equal(gen_size(g_rt, -1), 0);
    ASSERT_COUNT(g_rt, 2, 0, 0); /* untracking does not change counts */
    pa_decref(a);
    pa_decref(b);
    assert_int_equal(collect(g_rt, 2), 0);
    assert_string_equal(ev_string(), "");
    pa_gc_track(a);
    pa_gc_track(a); /* twice: no-op */
    assert_int_equal(pa_gc_is_tracked(a), 1);
    assert_int_equal(gen_of(g_rt, a), 0);
    /* Only a is tracked: its count (b's reference) is not explained by any
       tracked object, so a looks referenced from outside: reachable. */
    assert_int_equal(collect(g_rt, 2), 0);
    pa_gc_track(b);
    assert_int_equal(collect(g_rt, 2), 2);
    assert_int_equal(ev_count('D'), 2);

    /* Non-GC objects: never tracked. */
    pa_type_spec plain = {.name = "plain", .basicsize = sizeof(node)};
    pa_object *p = pa_object_new(pa_type_new(g_rt, &plain));
    assert_int_equal(pa_gc_is_tracked(p), 0);
    pa_gc_track(p);
    assert_int_equal(pa_gc_is_tracked(p), 0);
    assert_int_equal(gen_size(g_rt, -1), 0);
    pa_decref(p);
    /* A list untracked then freed. */
    pa_object *l = new_list(g_rt);
    pa_gc_untrack(l);
    pa_decref(l);
    /* NULL */
    pa_clear_error();
    assert_int_equal(pa_gc_is_tracked(NULL), -1);
    PA_ASSERT_ERROR_SET();
    pa_clear_error();
    pa_gc_track(NULL);
    PA_ASSERT_ERROR_SET();
    pa_clear_error();
    pa_gc_untrack(NULL);
    PA_ASSERT_ERROR_SET();
}

static void is_finalized(void **state)
{
    (void)state;
    g_saved = NULL;
    pa_type *t = node_type_with(g_rt, "phoenix", phoenix_finalize, NULL);
    pa_object *f = new_node(t, 1);
    pa_object *n = new_node(g_node, 2);
    assert_int_equal(pa_gc_is_finalized(f), 0);
    assert_int_equal(pa_gc_is_finalized(n), 0);
    collect(g_rt, 2); /* surviving a collection does not finalise */
    assert_int_equal(pa_gc_is_finalized(f), 0);
    pa_decref(f); /* resurrected into g_saved */
    assert_ptr_equal(g_saved, f);
    assert_int_equal(pa_gc_is_finalized(f), 1);
    assert_int_equal(pa_gc_is_finalized(n), 0);
    pa_clear_error();
    assert_int_equal(pa_gc_is_finalized(NULL), -1);
    PA_ASSERT_ERROR_SET();
    pa_clear(&g_saved);
    pa_decref(n);
}

/* --------------------------------------------------------------- freezing */

/* Mirrors (CPython 3.12):
     a = []; b = []; a.append(b); b.append(a)
     gc.freeze(); gc.get_count()[0] == 0
     del a, b; gc.collect() == 0      # frozen: ignored
     gc.unfreeze(); gc.collect() == 2 */
static void freeze_unfreeze_get_freeze_count(void **state)
{
    (void)state;
    pa_object *a, *b;
    pa_object *keep = new_list(g_rt);
    a = new_list(g_rt);
    b = new_list(g_rt);
    append(a, b);
    append(b, a);
    collect(g_rt, 0); /* some in generation 1 */
    pa_object *c = new_list(g_rt);
    assert_int_equal(pa_gc_get_freeze_count(g_rt), 0);
    pa_gc_freeze(g_rt);
    assert_int_equal(pa_gc_get_freeze_count(g_rt), 4);
    assert_int_equal(gen_size(g_rt, -1), 0);
    intptr_t cnt[3];
    get_count(g_rt, cnt);
    assert_int_equal(cnt[0], 0);
    pa_decref(a);
    pa_decref(b);
    assert_int_equal(collect(g_rt, 2), 0);
    assert_int_equal(pa_gc_get_freeze_count(g_rt), 4);
    /* New objects are collected as usual meanwhile. */
    make_list_cycle(NULL, NULL);
    assert_int_equal(collect(g_rt, 2), 2);
    assert_int_equal(pa_gc_is_tracked(c), 1); /* frozen objects stay tracked */
    pa_gc_unfreeze(g_rt);
    assert_int_equal(pa_gc_get_freeze_count(g_rt), 0);
    assert_int_equal(gen_size(g_rt, 2), 4);
    assert_int_equal(gen_of(g_rt, c), 2);
    assert_int_equal(collect(g_rt, 2), 2);
    assert_int_equal(gen_size(g_rt, -1), 2);
    /* Freezing twice accumulates; freeze with nothing tracked is fine. */
    pa_gc_freeze(g_rt);
    pa_object *d = new_list(g_rt);
    pa_gc_freeze(g_rt);
    assert_int_equal(pa_gc_get_freeze_count(g_rt), 3);
    pa_gc_unfreeze(g_rt);
    pa_gc_unfreeze(g_rt);
    assert_int_equal(gen_size(g_rt, 2), 3);
    pa_decref(d);
    pa_decref(c);
    pa_decref(keep);
}

/* -------------------------------------------------------------- callbacks */

/* gc.callbacks: each called with ("start", info) and ("stop", info), in the
   order registered; info has generation, collected, uncollectable (0 at start). */
static void callbacks_start_stop_in_registration_order(void **state)
{
    (void)state;
    int ua, ub;
    assert_int_equal(pa_gc_add_callback(g_rt, record_cb, &ua), 0);
    assert_int_equal(pa_gc_add_callback(g_rt, record_cb, &ub), 0);
    gcev_reset();
    make_list_cycle(NULL, NULL);
    pa_type *tl = node_type_with(g_rt, "legacy", NULL, node_legacy_del);
    pa_object *x = new_node(tl, 1);
    set_a(x, x);
    pa_decref(x);
    assert_int_equal(collect(g_rt, 1), 3);
    assert_int_equal(g_ngcev, 4);
    void *users[4] = {&ua, &ub, &ua, &ub};
    for (int i = 0; i < 4; i++) {
        assert_ptr_equal(g_gcev[i].user, users[i]);
        assert_int_equal(g_gcev[i].generation, 1);
        assert_int_equal(g_gcev[i].phase, i < 2 ? PA_GC_START : PA_GC_STOP);
        assert_int_equal(g_gcev[i].collected, i < 2 ? 0 : 2);
        assert_int_equal(g_gcev[i].uncollectable, i < 2 ? 0 : 1);
    }
    /* At start the counts are not yet reset; at stop they are. */
    assert_int_equal(g_gcev[0].count[0], 3);
    assert_int_equal(g_gcev[2].count[0], 0);
    assert_int_equal(g_gcev[2].count[2], 1);
}

static void remove_callback(void **state)
{
    (void)state;
    int ua, ub;
    assert_int_equal(pa_gc_add_callback(g_rt, record_cb, &ua), 0);
    assert_int_equal(pa_gc_add_callback(g_rt, record_cb, &ub), 0);
    assert_int_equal(pa_gc_add_callback(g_rt, record_cb, &ua), 0); /* twice */
    assert_int_equal(pa_gc_remove_callback(g_rt, record_cb, &ua), 0); /* the first */
    gcev_reset();
    collect(g_rt, 0);
    assert_int_equal(g_ngcev, 4);
    assert_ptr_equal(g_gcev[0].user, &ub);
    assert_ptr_equal(g_gcev[1].user, &ua);
    assert_int_equal(pa_gc_remove_callback(g_rt, record_cb, &ua), 0);
    assert_int_equal(pa_gc_remove_callback(g_rt, record_cb, &ub), 0);
    /* Unknown now: fails with an error. */
    pa_clear_error();
    assert_int_equal(pa_gc_remove_callback(g_rt, record_cb, &ua), -1);
    PA_ASSERT_ERROR_MENTIONS("pa_gc_remove_callback");
    pa_clear_error();
    assert_int_equal(pa_gc_remove_callback(g_rt, collecting_cb, NULL), -1);
    PA_ASSERT_ERROR_SET();
    gcev_reset();
    collect(g_rt, 0);
    assert_int_equal(g_ngcev, 0);
    /* Bad adds. */
    pa_clear_error();
    assert_int_equal(pa_gc_add_callback(g_rt, NULL, NULL), -1);
    PA_ASSERT_ERROR_SET();
    pa_clear_error();
    assert_int_equal(pa_gc_add_callback(NULL, record_cb, NULL), -1);
    PA_ASSERT_ERROR_SET();
    pa_clear_error();
    assert_int_equal(pa_gc_remove_callback(NULL, record_cb, NULL), -1);
    PA_ASSERT_ERROR_SET();
    /* Many callbacks (the registry grows). */
    static int users[40];
    for (int i = 0; i < 40; i++)
        assert_int_equal(pa_gc_add_callback(g_rt, record_cb, &users[i]), 0);
    gcev_reset();
    collect(g_rt, 0);
    assert_int_equal(g_ngcev, 80);
    for (int i = 0; i < 40; i++)
        assert_ptr_equal(g_gcev[i].user, &users[i]);
}

/* ----------------------------------------------------- invalid arguments */

/* gc.collect(3) and gc.collect(-1) raise ValueError("invalid generation"). */
static void invalid_arguments(void **state)
{
    (void)state;
    static const int bad[] = {3, -1, -2, 100, -100};
    for (size_t i = 0; i < countof(bad); i++) {
        pa_clear_error();
        assert_int_equal(pa_gc_collect(g_rt, bad[i]), -1);
        PA_ASSERT_ERROR_MENTIONS("generation");
    }
    assert_int_equal(stats_of(0).collections + stats_of(1).collections + stats_of(2).collections, 0);
    pa_clear_error();
    assert_int_equal(pa_gc_collect(NULL, 0), -1);
    PA_ASSERT_ERROR_MENTIONS("pa_gc_collect");

    intptr_t cnt[3];
    int th[3];
    pa_gc_generation_stats st[3];
    pa_clear_error();
    pa_gc_get_count(NULL, cnt);
    PA_ASSERT_ERROR_SET();
    pa_clear_error();
    pa_gc_get_count(g_rt, NULL);
    PA_ASSERT_ERROR_SET();
    pa_clear_error();
    pa_gc_get_threshold(NULL, th);
    PA_ASSERT_ERROR_SET();
    pa_clear_error();
    pa_gc_get_threshold(g_rt, NULL);
    PA_ASSERT_ERROR_SET();
    pa_clear_error();
    pa_gc_set_threshold(NULL, 1, 2, 3);
    PA_ASSERT_ERROR_SET();
    pa_clear_error();
    assert_int_equal(pa_gc_get_stats(NULL, st), -1);
    PA_ASSERT_ERROR_SET();
    pa_clear_error();
    assert_int_equal(pa_gc_get_stats(g_rt, NULL), -1);
    PA_ASSERT_ERROR_SET();
    pa_clear_error();
    assert_int_equal(pa_gc_isenabled(NULL), -1);
    PA_ASSERT_ERROR_SET();
    pa_clear_error();
    pa_gc_enable(NULL);
    PA_ASSERT_ERROR_SET();
    pa_clear_error();
    pa_gc_disable(NULL);
    PA_ASSERT_ERROR_SET();
    pa_clear_error();
    assert_int_equal(pa_gc_get_debug(NULL), -1);
    PA_ASSERT_ERROR_SET();
    pa_clear_error();
    pa_gc_set_debug(NULL, 1);
    PA_ASSERT_ERROR_SET();
    pa_clear_error();
    pa_gc_freeze(NULL);
    PA_ASSERT_ERROR_SET();
    pa_clear_error();
    pa_gc_unfreeze(NULL);
    PA_ASSERT_ERROR_SET();
    pa_clear_error();
    assert_int_equal(pa_gc_get_freeze_count(NULL), PA_SIZE_ERROR);
    PA_ASSERT_ERROR_SET();
    pa_clear_error();
    assert_int_equal(pa_gc_get_garbage(NULL, NULL, 0), PA_SIZE_ERROR);
    PA_ASSERT_ERROR_SET();
    pa_clear_error();
    assert_int_equal(pa_gc_get_garbage(g_rt, NULL, 3), PA_SIZE_ERROR);
    PA_ASSERT_ERROR_SET();
    pa_clear_error();
    pa_gc_clear_garbage(NULL);
    PA_ASSERT_ERROR_SET();
    /* Unknown debug flags are reported (the known ones are kept). */
    pa_clear_error();
    pa_gc_set_debug(g_rt, PA_GC_DEBUG_SAVEALL | 64);
    PA_ASSERT_ERROR_SET();
    assert_int_equal(pa_gc_get_debug(g_rt), PA_GC_DEBUG_SAVEALL);
    pa_gc_set_debug(g_rt, 0);
    /* The runtime is unharmed. */
    int t[3];
    pa_gc_get_threshold(g_rt, t);
    assert_int_equal(t[0], 700);
    assert_int_equal(pa_gc_isenabled(g_rt), 1);
}

/* ------------------------------------------------- a C traverse: slow path */

typedef struct cnode {
    PA_OBJECT_HEAD
    intptr_t id;
    pa_object *refs[2]; /* not described by ref_offsets: only the C traverse knows */
} cnode;

static int cnode_traverse(pa_object *self, pa_visitproc visit, void *arg)
{
    cnode *c = (cnode *)self;
    for (int i = 0; i < 2; i++) {
        if (c->refs[i] != NULL) {
            int r = visit(c->refs[i], arg);
            if (r != 0)
                return r;
        }
    }
    return 0;
}

static int cnode_clear(pa_object *self)
{
    cnode *c = (cnode *)self;
    ev_add('C', c->id);
    pa_clear(&c->refs[0]);
    pa_clear(&c->refs[1]);
    return 0;
}

static void cnode_dealloc(pa_object *self)
{
    cnode *c = (cnode *)self;
    ev_add('D', c->id);
    pa_clear(&c->refs[0]);
    pa_clear(&c->refs[1]);
}

static pa_type *cnode_type(void)
{
    pa_type_spec spec = {.name = "cnode", .basicsize = sizeof(cnode), .flags = PA_TPFLAGS_HAVE_GC,
                         .traverse = cnode_traverse, .clear = cnode_clear, .dealloc = cnode_dealloc};
    pa_type *t = pa_type_new(g_rt, &spec);
    assert_non_null(t);
    return t;
}

static pa_object *new_cnode(pa_type *t, intptr_t id)
{
    pa_object *o = pa_object_new(t);
    assert_non_null(o);
    ((cnode *)o)->id = id;
    return o;
}

static void c_set(pa_object *o, int i, pa_object *v)
{
    pa_incref(v);
    pa_setref(&((cnode *)o)->refs[i], v);
}

static void a_c_traverse_type_in_cycles_is_collected(void **state)
{
    (void)state;
    pa_type *t = cnode_type();
    /* A ring of three, one of them also holding a list that holds a node
       that points back into the ring. */
    pa_object *a = new_cnode(t, 1), *b = new_cnode(t, 2), *c = new_cnode(t, 3);
    c_set(a, 0, b);
    c_set(b, 0, c);
    c_set(c, 0, a);
    pa_object *l = new_list(g_rt), *n = new_node(g_node, 4);
    append(l, n);
    set_a(n, b);
    c_set(a, 1, l);
    pa_object *refs[3] = {NULL};
    assert_int_equal(pa_gc_get_referents(a, refs, 3), 2);
    assert_ptr_equal(refs[0], b);
    assert_ptr_equal(refs[1], l);
    pa_decref(refs[0]);
    pa_decref(refs[1]);
    /* A referrer found through the C traverse. */
    assert_int_equal(pa_gc_get_referrers(g_rt, l, refs, 3), 1);
    assert_ptr_equal(refs[0], a);
    pa_decref(refs[0]);
    pa_decref(l);
    pa_decref(n);
    pa_decref(b);
    pa_decref(c);
    /* Reachable from a: nothing collected. */
    assert_int_equal(collect(g_rt, 0), 0);
    assert_int_equal(collect(g_rt, 2), 0);
    pa_decref(a);
    assert_int_equal(collect(g_rt, 2), 5);
    assert_int_equal(ev_count('D'), 4);
    assert_true(ev_count('C') >= 1);
    assert_int_equal(gen_size(g_rt, -1), 0);
    /* Many self-cycles of the C type (no automatic collection meanwhile). */
    ev_reset();
    pa_gc_disable(g_rt);
    for (int i = 0; i < 1000; i++) {
        pa_object *x = new_cnode(t, i);
        c_set(x, 0, x);
        c_set(x, 1, x);
        pa_decref(x);
    }
    assert_int_equal(collect(g_rt, 2), 1000);
    assert_int_equal(ev_count('D'), 1000);
}

/* ------------------------------------------- reachability across generations */

/* A cycle still referenced from outside is not garbage; nor is what a
   reachable object refers to when the collector met it first ("tentatively
   unreachable", moved back by move_unreachable).  Mirrors:
     b = []; a = [b]; b.append([]); del b; gc.collect(0) == 0 */
static void reachable_objects_are_not_collected(void **state)
{
    (void)state;
    pa_object *c = new_node(g_node, 3), *b = new_node(g_node, 2), *a = new_node(g_node, 1);
    set_a(b, c);
    set_a(c, b); /* b <-> c, created before a */
    set_a(a, b); /* a -> b, a held by us */
    pa_decref(b);
    pa_decref(c);
    assert_int_equal(collect(g_rt, 0), 0);
    assert_int_equal(collect(g_rt, 2), 0);
    assert_string_equal(ev_string(), "");
    /* A long chain, oldest first, held only at its newest end. */
    pa_object *prev = NULL;
    for (int i = 0; i < 1000; i++) {
        pa_object *x = new_node(g_node, 100 + i);
        if (prev != NULL) {
            NODE(x)->a = prev; /* steals */
        }
        prev = x;
    }
    assert_int_equal(collect(g_rt, 0), 0);
    assert_string_equal(ev_string(), "");
    pa_decref(prev);
    assert_int_equal(ev_count('D'), 1000);
    pa_decref(a);
    assert_int_equal(collect(g_rt, 2), 2);
}

/* A young cycle referenced from an older generation survives a young
   collection; a cycle spread over generations needs a collection of the
   oldest generation it touches. */
static void cycles_across_generations(void **state)
{
    (void)state;
    pa_object *holder = new_list(g_rt);
    collect(g_rt, 2); /* holder in generation 2 */
    pa_object *a = new_node(g_node, 1), *b = new_node(g_node, 2);
    set_a(a, b);
    set_a(b, a);
    append(holder, a);
    pa_decref(a);
    pa_decref(b);
    assert_int_equal(collect(g_rt, 0), 0);
    assert_int_equal(collect(g_rt, 1), 0);
    pa_list_clear(holder);
    assert_int_equal(collect(g_rt, 2), 2);
    pa_decref(holder);

    /* Split: old in generation 2, young in generation 0. */
    ev_reset();
    pa_object *old = new_node(g_node, 3);
    collect(g_rt, 2);
    assert_int_equal(gen_of(g_rt, old), 2);
    pa_object *young = new_node(g_node, 4);
    set_a(old, young);
    set_a(young, old);
    pa_decref(old);
    pa_decref(young);
    assert_int_equal(collect(g_rt, 0), 0);
    assert_int_equal(gen_of(g_rt, young), 1);
    assert_int_equal(collect(g_rt, 1), 0);
    assert_string_equal(ev_string(), "");
    assert_int_equal(collect(g_rt, 2), 2);
    assert_int_equal(ev_count('D'), 2);
}

/* A larger graph: 3000 rings of 1 to 7 nodes (some with lists inside),
   cross-linked pseudo-randomly; every fifth ring is held by a root list.
   Held rings only link to held rings; the rest may link anywhere.  A full
   collection frees exactly the rings not held. */
static uint64_t g_rng = 0x9E3779B97F4A7C15ULL;
#define rnd() pa_test_random(&g_rng)

static void a_random_graph_is_collected_exactly(void **state)
{
    (void)state;
    enum { RINGS = 3000 };
    static pa_object *heads[RINGS];
    static int held[RINGS];
    pa_gc_disable(g_rt); /* no automatic collection while building */
    pa_object *root = new_list(g_rt);
    size_t garbage_objects = 0, garbage_nodes = 0;
    intptr_t id = 0;
    for (int r = 0; r < RINGS; r++) {
        int len = 1 + (int)(rnd() % 7);
        held[r] = r % 5 == 0;
        pa_object *first = new_node(g_node, id++), *prev = first;
        size_t objects = 1;
        for (int k = 1; k < len; k++) {
            pa_object *x = new_node(g_node, id++);
            if (rnd() % 3 == 0) { /* a list between two links */
                pa_object *l = new_list(g_rt);
                append(l, x);
                set_a(prev, l);
                pa_decref(l);
                objects++;
            } else {
                set_a(prev, x);
            }
            pa_decref(x);
            prev = x;
            objects++;
        }
        set_a(prev, first); /* close the ring */
        /* a cross link from this ring's first node (b field) */
        if (r > 0) {
            int target = (int)(rnd() % (uint64_t)r);
            if (!held[r] || held[target])
                set_b(first, heads[target]);
        }
        heads[r] = first;
        if (held[r]) {
            append(root, first);
        } else {
            garbage_objects += objects;
            garbage_nodes += (size_t)len;
        }
        pa_decref(first);
    }
    pa_gc_enable(g_rt);
    assert_int_equal(collect(g_rt, 2), (intptr_t)garbage_objects);
    assert_int_equal(ev_total, garbage_nodes);
    size_t live_before = gen_size(g_rt, -1);
    assert_int_equal(collect(g_rt, 2), 0);
    pa_list_clear(root);
    assert_int_equal(collect(g_rt, 2), (intptr_t)(live_before - 1));
    assert_int_equal(ev_total, (size_t)id);
    pa_decref(root);
    assert_int_equal(gen_size(g_rt, -1), 0);
}

/* ------------------------------------------------ several objects at once */

/* A type with a C traverse (no ref_offsets): referrers of several objects go
   through the visitor's trampoline. */
typedef struct cref { PA_OBJECT_HEAD pa_object *ref; } cref;

static int cref_traverse(pa_object *self, pa_visitproc visit, void *arg)
{
    pa_object *r = ((cref *)self)->ref;
    return r != NULL ? visit(r, arg) : 0;
}

static void cref_dealloc(pa_object *self) { pa_clear(&((cref *)self)->ref); }

static bool holds(pa_object *const *out, size_t n, pa_object *o)
{
    for (size_t i = 0; i < n; i++)
        if (out[i] == o)
            return true;
    return false;
}

/* CPython 3.12: x, y = A(), A(); l1 = [x]; l2 = [y]; l3 = [x, y, x]; n.a = n
   gc.get_referrers(x, y) has l1, l2, l3 once each; gc.get_referrers(x, x) == gc.get_referrers(x);
   gc.get_referrers() == []; gc.get_referrers(n, x) has n itself */
/* The call returns PA_SIZE_ERROR with an error naming words. */
#define REFUSED(call, words)                                                                   \
    do {                                                                                       \
        pa_clear_error();                                                                      \
        assert_int_equal((call), PA_SIZE_ERROR);                                               \
        PA_ASSERT_ERROR_MENTIONS(words);                                                       \
    } while (0)

static void get_referrers_of_several_objects_is_the_union(void **state)
{
    (void)state;
    pa_type_spec spec = {.name = "cref", .basicsize = sizeof(cref), .flags = PA_TPFLAGS_HAVE_GC,
                         .traverse = cref_traverse, .dealloc = cref_dealloc};
    pa_type *tc = pa_type_new(g_rt, &spec);
    assert_non_null(tc);
    pa_object *x = new_node(g_node, 1), *y = new_node(g_node, 2), *z = new_node(g_node, 3);
    pa_object *l1 = new_list(g_rt), *l2 = new_list(g_rt), *l3 = new_list(g_rt);
    pa_object *c = pa_object_new(tc);
    append(l1, x);
    append(l2, y);
    append(l3, x);
    append(l3, y);
    append(l3, x);
    pa_incref(y);
    ((cref *)c)->ref = y;
    set_a(z, z);
    collect(g_rt, 0); /* referrers in two generations */
    pa_object *extra = new_list(g_rt);
    append(extra, x);
    pa_object *objs[3] = {x, y, z};
    pa_object *out[16] = {NULL};
    size_t n = pa_gc_get_referrers_n(g_rt, objs, 2, out, 16);
    assert_int_equal(n, 5); /* l1 l2 l3 c extra, each once */
    assert_true(holds(out, n, l1) && holds(out, n, l2) && holds(out, n, l3) && holds(out, n, c) &&
                holds(out, n, extra));
    /* generation 0 first, as gc.get_objects lists them */
    assert_ptr_equal(out[0], extra);
    for (size_t i = 0; i < n; i++)
        pa_decref(out[i]);
    /* the same object twice: as once */
    pa_object *xx[2] = {x, x};
    assert_int_equal(pa_gc_get_referrers_n(g_rt, xx, 2, NULL, 0), pa_gc_get_referrers(g_rt, x, NULL, 0));
    assert_int_equal(pa_gc_get_referrers(g_rt, x, NULL, 0), 3);
    /* none: nothing */
    assert_int_equal(pa_gc_get_referrers_n(g_rt, NULL, 0, NULL, 0), 0);
    /* a self-referencing object among them */
    n = pa_gc_get_referrers_n(g_rt, objs, 3, out, 16);
    assert_int_equal(n, 6);
    assert_true(holds(out, n, z));
    for (size_t i = 0; i < n; i++)
        pa_decref(out[i]);
    /* cap cuts, the total stays */
    memset(out, 0, sizeof out);
    assert_int_equal(pa_gc_get_referrers_n(g_rt, objs, 3, out, 2), 6);
    assert_null(out[2]);
    pa_decref(out[0]);
    pa_decref(out[1]);
    /* errors: name the bad one */
    pa_object *bad[2] = {x, NULL};
    REFUSED(pa_gc_get_referrers_n(g_rt, bad, 2, NULL, 0), "objs[1]");
    REFUSED(pa_gc_get_referrers_n(g_rt, NULL, 1, NULL, 0), "objs is NULL");
    pa_runtime *other = new_runtime();
    pa_object *foreign = new_list(other);
    pa_object *mixed[2] = {x, foreign};
    REFUSED(pa_gc_get_referrers_n(g_rt, mixed, 2, NULL, 0), "another runtime");
    REFUSED(pa_gc_get_referrers_n(NULL, objs, 1, NULL, 0), "pa_gc_get_referrers_n");
    REFUSED(pa_gc_get_referrers_n(g_rt, objs, 1, NULL, 3), "out is NULL");
    pa_decref(foreign);
    pa_runtime_free(other);
    pa_clear(&NODE(z)->a);
    pa_decref(extra);
    pa_decref(c);
    pa_decref(l1);
    pa_decref(l2);
    pa_decref(l3);
    pa_decref(x);
    pa_decref(y);
    pa_decref(z);
}

/* CPython 3.12: gc.get_referents(l, n) == referents(l) + referents(n); an object
   given twice gives its referents twice; non-GC objects add nothing; () gives []. */
static void get_referents_of_several_objects_in_order(void **state)
{
    (void)state;
    pa_object *x = new_node(g_node, 1), *y = new_node(g_node, 2);
    pa_object *l = new_list(g_rt);
    append(l, x);
    append(l, y);
    pa_object *n = new_node(g_node, 3);
    set_a(n, y);
    set_b(n, x);
    pa_type_spec spec = {.name = "plain", .basicsize = sizeof(node)};
    pa_type *tp = pa_type_new(g_rt, &spec);
    pa_object *p = pa_object_new(tp);
    pa_object *objs[4] = {l, p, n, l};
    pa_object *out[16] = {NULL};
    size_t total = pa_gc_get_referents_n(objs, 4, out, 16);
    assert_int_equal(total, 6);
    /* list items last first (list_traverse), node fields in order */
    pa_object *expected[6] = {y, x, y, x, y, x};
    for (size_t i = 0; i < total; i++) {
        assert_ptr_equal(out[i], expected[i]);
        pa_decref(out[i]);
    }
    assert_int_equal(pa_gc_get_referents_n(NULL, 0, NULL, 0), 0);
    assert_int_equal(pa_gc_get_referents_n(objs, 1, NULL, 0), pa_gc_get_referents(l, NULL, 0));
    pa_object *bad[2] = {l, (pa_object *)l + 1};
    REFUSED(pa_gc_get_referents_n(bad, 2, NULL, 0), "objs[1]");
    REFUSED(pa_gc_get_referents_n(objs, 2, NULL, 1), "out is NULL");
    pa_decref(p);
    pa_decref(n);
    pa_decref(l);
    pa_decref(x);
    pa_decref(y);
}

/* ---------------------------------------------- one item out of gc.garbage */

/* CPython: del gc.garbage[i] drops gc's reference; an object still in an
   uncollectable cycle comes back at the next collection; one whose last
   reference it was dies now. */
static void garbage_remove_at_and_remove(void **state)
{
    (void)state;
    pa_object *a, *b;
    make_legacy_cycle(g_rt, &a, &b);
    assert_int_equal(collect(g_rt, 2), 2);
    pa_object *g[4] = {NULL};
    assert_int_equal(pa_gc_get_garbage(g_rt, g, 4), 2);
    pa_object *first = g[0], *second = g[1];
    pa_decref(g[0]);
    pa_decref(g[1]);
    /* del gc.garbage[-1] */
    assert_int_equal(pa_gc_garbage_remove_at(g_rt, -1), 0);
    assert_int_equal(pa_gc_get_garbage(g_rt, g, 4), 1);
    assert_ptr_equal(g[0], first);
    pa_decref(g[0]);
    assert_string_equal(ev_string(), ""); /* still in the cycle */
    /* out of range, either side */
    pa_clear_error();
    assert_int_equal(pa_gc_garbage_remove_at(g_rt, 1), -1);
    PA_ASSERT_ERROR_MENTIONS("list assignment index out of range");
    pa_clear_error();
    assert_int_equal(pa_gc_garbage_remove_at(g_rt, -2), -1);
    PA_ASSERT_ERROR_MENTIONS("list assignment index out of range");
    /* gc.garbage.remove(x) for x not in it */
    pa_clear_error();
    assert_int_equal(pa_gc_garbage_remove(g_rt, second), -1);
    PA_ASSERT_ERROR_MENTIONS("x not in list");
    assert_int_equal(pa_gc_garbage_remove(g_rt, first), 0);
    assert_int_equal(pa_gc_get_garbage(g_rt, NULL, 0), 0);
    pa_clear_error();
    assert_int_equal(pa_gc_garbage_remove_at(g_rt, 0), -1); /* empty */
    PA_ASSERT_ERROR_MENTIONS("out of range");
    /* the cycle is still uncollectable: both come back */
    assert_int_equal(collect(g_rt, 2), 2);
    assert_int_equal(pa_gc_get_garbage(g_rt, NULL, 0), 2);
    /* break the cycle, then the garbage reference is the last: removing it frees */
    pa_clear(&NODE(first)->a);
    pa_clear(&NODE(second)->a);
    assert_string_equal(ev_string(), "");
    assert_int_equal(pa_gc_garbage_remove(g_rt, second), 0);
    assert_int_equal(pa_gc_get_garbage(g_rt, NULL, 0), 1);
    assert_int_equal(ev_count('D'), 1);
    assert_int_equal(pa_gc_garbage_remove_at(g_rt, 0), 0);
    assert_int_equal(ev_count('D'), 2);
    /* errors */
    pa_clear_error();
    assert_int_equal(pa_gc_garbage_remove_at(NULL, 0), -1);
    PA_ASSERT_ERROR_SET();
    pa_clear_error();
    assert_int_equal(pa_gc_garbage_remove(g_rt, NULL), -1);
    PA_ASSERT_ERROR_SET();
}

/* DEBUG_SAVEALL garbage: removing the one reference of a saved acyclic object frees it. */
static void garbage_remove_of_a_saved_object_frees_it(void **state)
{
    (void)state;
    pa_gc_set_debug(g_rt, PA_GC_DEBUG_SAVEALL);
    pa_object *a = new_node(g_node, 1);
    set_a(a, a);
    pa_decref(a);
    assert_int_equal(collect(g_rt, 2), 1);
    pa_gc_set_debug(g_rt, 0);
    assert_int_equal(pa_gc_get_garbage(g_rt, NULL, 0), 1);
    pa_clear(&NODE(a)->a);
    assert_string_equal(ev_string(), "");
    assert_int_equal(pa_gc_garbage_remove_at(g_rt, 0), 0);
    assert_string_equal(ev_string(), "D1");
}

/* _PyGC_DumpShutdownStats: CPython 3.12 under -W default prints
     gc:0: ResourceWarning: gc: 2 uncollectable objects at shutdown; use gc.set_debug(gc.DEBUG_UNCOLLECTABLE) to list them
   and with DEBUG_UNCOLLECTABLE the line without the hint, then "      [<repr>, <repr>]";
   nothing with DEBUG_SAVEALL. */
static child_result shutdown_child(const char *what)
{
    child_result r = run_child("/proc/self/exe", "--child", what, NULL);
    if (!WIFEXITED(r.status) || WEXITSTATUS(r.status) != 0)
        fail_msg("child %s failed (status %d); stdout:\n%s\nstderr:\n%s", what, r.status, r.out, r.err);
    return r;
}

static void uncollectable_garbage_is_reported_at_runtime_free(void **state)
{
    (void)state;
    const char *warning = "gc:0: ResourceWarning: gc: 2 uncollectable objects at shutdown; "
                          "use gc.set_debug(gc.DEBUG_UNCOLLECTABLE) to list them\n";
    child_result r = shutdown_child("shutdown-warn");
    const char *after = strstr(r.err, "--- free ---\n");
    assert_non_null(after);
    assert_string_equal(after + strlen("--- free ---\n"), warning);
    child_result_free(&r);
    /* garbage found by the final collection itself counts too */
    r = shutdown_child("shutdown-empty");
    after = strstr(r.err, "--- free ---\n");
    assert_non_null(after);
    assert_string_equal(after + strlen("--- free ---\n"), warning);
    child_result_free(&r);
    /* DEBUG_UNCOLLECTABLE: no hint, and the list */
    r = shutdown_child("shutdown-list");
    char a[64], b[64], expected[512];
    line_after(r.out, "a=", a, sizeof a);
    line_after(r.out, "b=", b, sizeof b);
    after = strstr(r.err, "--- free ---\n");
    assert_non_null(after);
    snprintf(expected, sizeof expected,
             "gc:0: ResourceWarning: gc: 2 uncollectable objects at shutdown\n      [%s, %s]\n", a, b);
    char expected_swapped[512];
    snprintf(expected_swapped, sizeof expected_swapped,
             "gc:0: ResourceWarning: gc: 2 uncollectable objects at shutdown\n      [%s, %s]\n", b, a);
    after += strlen("--- free ---\n");
    if (strcmp(after, expected) != 0 && strcmp(after, expected_swapped) != 0)
        fail_msg("stderr after the free:\n%s\nexpected:\n%s", after, expected);
    child_result_free(&r);
    /* DEBUG_SAVEALL: not a word */
    r = shutdown_child("shutdown-saveall");
    after = strstr(r.err, "--- free ---\n");
    assert_non_null(after);
    assert_string_equal(after + strlen("--- free ---\n"), "");
    child_result_free(&r);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--child") == 0)
        return child_main(argv[2]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(article_two_lists_in_a_cycle, setup, teardown),
        cmocka_unit_test_setup_teardown(article_node_parent_child_cycle, setup, teardown),
        cmocka_unit_test_setup_teardown(article_detecting_reference_cycles, setup, teardown),
        cmocka_unit_test_setup_teardown(isenabled_enable_disable, setup, teardown),
        cmocka_unit_test_setup_teardown(thresholds_default_and_set, setup, teardown),
        cmocka_unit_test_setup_teardown(get_count_follows_allocations_and_frees, setup, teardown),
        cmocka_unit_test_setup_teardown(get_count_after_collections, setup, teardown),
        cmocka_unit_test_setup_teardown(objects_move_gen0_gen1_gen2, setup, teardown),
        cmocka_unit_test_setup_teardown(get_objects_returns_new_references_and_the_total, setup, teardown),
        cmocka_unit_test_setup_teardown(automatic_collection_when_generation_0_passes_its_threshold, setup, teardown),
        cmocka_unit_test_setup_teardown(automatic_collection_of_an_older_generation, setup, teardown),
        cmocka_unit_test_setup_teardown(no_automatic_collection_while_disabled, setup, teardown),
        cmocka_unit_test_setup_teardown(threshold_zero_disables_automatic_collection, setup, teardown),
        cmocka_unit_test_setup_teardown(non_gc_allocations_do_not_trigger_collections, setup, teardown),
        cmocka_unit_test_setup_teardown(no_automatic_collection_during_a_collection, setup, teardown),
        cmocka_unit_test_setup_teardown(collect_during_a_collection_returns_0, setup, teardown),
        cmocka_unit_test_setup_teardown(long_lived_pending_rule_delays_full_collections, setup, teardown),
        cmocka_unit_test_setup_teardown(explicit_collection_ignores_the_long_lived_rule, setup, teardown),
        cmocka_unit_test_setup_teardown(finalizer_runs_once_even_if_the_object_is_resurrected, setup, teardown),
        cmocka_unit_test_setup_teardown(finalizer_resurrects_at_death_by_count_and_runs_once, setup, teardown),
        cmocka_unit_test_setup_teardown(resurrected_objects_count_neither_collected_nor_uncollectable, setup, teardown),
        cmocka_unit_test_setup_teardown(a_cycle_with_finalizers_is_collected_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(legacy_finalizers_in_a_cycle_are_uncollectable, setup, teardown),
        cmocka_unit_test_setup_teardown(clearing_garbage_does_not_free_a_cycle, setup, teardown),
        cmocka_unit_test_setup_teardown(legacy_finalizer_runs_on_every_death, setup, teardown),
        cmocka_unit_test_setup_teardown(an_object_with_both_finalizers_in_a_cycle_is_not_finalized, setup, teardown),
        cmocka_unit_test_setup_teardown(weakrefs_to_uncollectable_objects_are_not_cleared, setup, teardown),
        cmocka_unit_test_setup_teardown(debug_saveall_puts_the_whole_legacy_set_in_garbage, setup, teardown),
        cmocka_unit_test_setup_teardown(debug_saveall_keeps_everything_in_garbage, setup, teardown),
        cmocka_unit_test_setup_teardown(debug_flags_values, setup, teardown),
        cmocka_unit_test_setup_teardown(debug_stats_and_collectable_reports, setup, teardown),
        cmocka_unit_test_setup_teardown(debug_uncollectable_reports, setup, teardown),
        cmocka_unit_test_setup_teardown(a_c_traverse_visiting_too_often_is_a_fatal_error, setup, teardown),
        cmocka_unit_test_setup_teardown(get_stats_per_generation, setup, teardown),
        cmocka_unit_test_setup_teardown(get_referrers_finds_tracked_containers, setup, teardown),
        cmocka_unit_test_setup_teardown(get_referrers_includes_a_self_referencing_target, setup, teardown),
        cmocka_unit_test_setup_teardown(get_referents_by_kind, setup, teardown),
        cmocka_unit_test_setup_teardown(get_referrers_of_several_objects_is_the_union, setup, teardown),
        cmocka_unit_test_setup_teardown(get_referents_of_several_objects_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(garbage_remove_at_and_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(garbage_remove_of_a_saved_object_frees_it, setup, teardown),
        cmocka_unit_test_setup_teardown(uncollectable_garbage_is_reported_at_runtime_free, setup, teardown),
        cmocka_unit_test_setup_teardown(track_untrack_is_tracked, setup, teardown),
        cmocka_unit_test_setup_teardown(is_finalized, setup, teardown),
        cmocka_unit_test_setup_teardown(freeze_unfreeze_get_freeze_count, setup, teardown),
        cmocka_unit_test_setup_teardown(callbacks_start_stop_in_registration_order, setup, teardown),
        cmocka_unit_test_setup_teardown(remove_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(invalid_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(a_c_traverse_type_in_cycles_is_collected, setup, teardown),
        cmocka_unit_test_setup_teardown(reachable_objects_are_not_collected, setup, teardown),
        cmocka_unit_test_setup_teardown(cycles_across_generations, setup, teardown),
        cmocka_unit_test_setup_teardown(a_random_graph_is_collected_exactly, setup, teardown),
    };
    return PA_RUN_TESTS(tests, argc, argv);
}
