/* test_weakref.c -- weak references (section 8 of pyalloc.h), checked
   against CPython 3.12's weakref.ref:

   - pa_weakref_new / get / count / check and their errors; get returns a new
     reference, NULL once the target died; a weakref does not keep its
     target alive and is itself a tracked GC object;
   - callbacks: on death by count (called with the weakref, target already
     cleared), on death by collection; callback-less weakrefs are shared
     (the same object twice, count stays 1); several callbacks run newest
     first, by count and by collection; a weakref that dies before its
     target never calls back; a weakref that is itself garbage in the same
     cycle does not call back, one that is reachable does; a weakref freed
     by its own callback during a collection counts as collected;
   - weakrefs made during a PEP 442 finaliser still get their callback
     (CPython clears weakrefs after tp_finalize); those made during a legacy
     finaliser are cleared without callback;
   - a weakref never hands out an object whose count already reached zero
     and whose death the trashcan deferred (CPython 3.12, gh-60806);
   - weakref.getweakrefs in CPython's list order (basic ref, basic proxy,
     then callback refs and proxies newest first), sized with cap 0, cut by
     cap, new references, empty for an object without weakrefs;
   - weakref.proxy: shared without callback (distinct from the shared ref),
     dereference is an error ("weakly-referenced object no longer exists")
     once the referent died, where pa_weakref_get gives NULL quietly;
     callbacks; a proxy is a weakref for check/get/count;
   - weakref.finalize: called once on death by count and by collection (in a
     cycle), not called after detach, called early by pa_finalize_call and
     then never again; alive/peek/detach/atexit; peek and detach of a dead
     target answer "not alive"; the registration is a weakref (counted, and
     listed by getweakrefs) the caller does not keep; at pa_runtime_free the
     atexit ones run newest first, atexit 0 never, a finalizer registered
     by one at exit runs too, and none runs in the final collection; one
     that frees the runtime at exit is refused, one detached at exit does
     not run;
   - the article's Part 7 "Use weakref for back-references": a child's weak
     reference to its parent lets the parent go by reference counting, and
     the child's get_parent() then returns None. */
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

/* A callback that logs "W<user id>" and whether the weakref passed was the
   expected one and already cleared: "W<id> c<1 if cleared>". */
typedef struct cb_data {
    intptr_t id;
    pa_object *expected_wr;
    int calls;
} cb_data;

static void log_cb(pa_object *wr, void *user)
{
    cb_data *d = user;
    d->calls++;
    ev_add('W', d->id);
    if (d->expected_wr != NULL && wr != d->expected_wr)
        ev_add('!', 0); /* wrong weakref passed */
    pa_object *target = pa_weakref_get(wr);
    ev_add('c', target == NULL);
    pa_xdecref(target);
}

/* ------------------------------------------------------------------- basics */

/* o = A(); w = weakref.ref(o); w() is o; getweakrefcount(o) == 1; del o; w() is None */
static void get_returns_a_new_reference_then_null_after_death(void **state)
{
    (void)state;
    pa_object *o = new_node(g_node, 1);
    assert_int_equal(pa_weakref_count(o), 0);
    pa_object *wr = pa_weakref_new(o, NULL, NULL);
    assert_non_null(wr);
    assert_int_equal(pa_weakref_check(wr), 1);
    assert_int_equal(pa_weakref_check(o), 0);
    assert_int_equal(pa_weakref_check(NULL), 0);
    assert_int_equal(pa_refcnt(o), 1); /* weak: no count */
    assert_int_equal(pa_weakref_count(o), 1);
    assert_int_equal(pa_gc_is_tracked(wr), 1);
    pa_object *got = pa_weakref_get(wr);
    assert_ptr_equal(got, o);
    assert_int_equal(pa_refcnt(o), 2);
    pa_decref(got);
    pa_decref(o);
    assert_string_equal(ev_string(), "D1");
    pa_clear_error();
    assert_null(pa_weakref_get(wr));
    assert_string_equal(pa_last_error(), ""); /* a dead target is not an error */
    assert_null(pa_weakref_get(wr));
    pa_decref(wr);
}

static void weakrefs_to_non_gc_objects_and_lists(void **state)
{
    (void)state;
    pa_type_spec spec = {.name = "plain", .basicsize = sizeof(node), .dealloc = node_dealloc};
    pa_type *t = pa_type_new(g_rt, &spec);
    assert_non_null(t);
    pa_object *p = new_node(t, 1);
    pa_object *l = new_list(g_rt);
    cb_data dp = {.id = 10}, dl = {.id = 20};
    pa_object *wp = pa_weakref_new(p, log_cb, &dp);
    pa_object *wl = pa_weakref_new(l, log_cb, &dl);
    assert_non_null(wp);
    assert_non_null(wl);
    dp.expected_wr = wp;
    dl.expected_wr = wl;
    pa_decref(l);
    pa_decref(p);
    assert_string_equal(ev_string(), "W20 c1 W10 c1 D1");
    pa_decref(wp);
    pa_decref(wl);
}

static void errors(void **state)
{
    (void)state;
    pa_clear_error();
    assert_null(pa_weakref_new(NULL, NULL, NULL));
    PA_ASSERT_ERROR_MENTIONS("pa_weakref_new");
    pa_clear_error();
    assert_null(pa_weakref_get(NULL));
    PA_ASSERT_ERROR_MENTIONS("pa_weakref_get");
    pa_object *o = new_node(g_node, 1);
    pa_clear_error();
    assert_null(pa_weakref_get(o)); /* not a weakref */
    PA_ASSERT_ERROR_MENTIONS("weakref");
    assert_int_equal(pa_refcnt(o), 1);
    pa_clear_error();
    assert_int_equal(pa_weakref_count(NULL), PA_SIZE_ERROR);
    PA_ASSERT_ERROR_MENTIONS("pa_weakref_count");
    pa_decref(o);
}

/* w1 = weakref.ref(o); w2 = weakref.ref(o); w1 is w2; getweakrefcount(o) == 1 */
static void callback_less_weakrefs_are_shared(void **state)
{
    (void)state;
    pa_object *o = new_node(g_node, 1);
    pa_object *w1 = pa_weakref_new(o, NULL, NULL);
    pa_object *w2 = pa_weakref_new(o, NULL, NULL);
    assert_ptr_equal(w1, w2);
    assert_int_equal(pa_refcnt(w1), 2);
    assert_int_equal(pa_weakref_count(o), 1);
    /* A weakref with a callback is a new object: count 2. */
    cb_data d = {.id = 1};
    pa_object *w3 = pa_weakref_new(o, log_cb, &d);
    assert_ptr_not_equal(w3, w1);
    assert_int_equal(pa_weakref_count(o), 2);
    /* Still shared after the callback one was inserted. */
    pa_object *w4 = pa_weakref_new(o, NULL, NULL);
    assert_ptr_equal(w4, w1);
    assert_int_equal(pa_weakref_count(o), 2);
    /* Two weakrefs with callbacks are never shared, even with the same callback. */
    pa_object *w5 = pa_weakref_new(o, log_cb, &d);
    assert_ptr_not_equal(w5, w3);
    assert_int_equal(pa_weakref_count(o), 3);
    pa_decref(w1);
    pa_decref(w2);
    pa_decref(w4);
    /* The shared weakref died: count 2, and the next one is new. */
    assert_int_equal(pa_weakref_count(o), 2);
    pa_object *w6 = pa_weakref_new(o, NULL, NULL);
    assert_int_equal(pa_refcnt(w6), 1);
    assert_int_equal(pa_weakref_count(o), 3);
    pa_decref(w6);
    pa_decref(w3);
    pa_decref(w5);
    assert_int_equal(pa_weakref_count(o), 0);
    pa_decref(o);
    assert_string_equal(ev_string(), "D1"); /* no callback: the weakrefs died first */
    assert_int_equal(d.calls, 0);
}

/* ---------------------------------------------------------------- callbacks */

/* del o  ->  cb(w) with w() is None */
static void callback_on_death_by_count_gets_the_cleared_weakref(void **state)
{
    (void)state;
    pa_object *o = new_node(g_node, 1);
    cb_data d = {.id = 5};
    pa_object *wr = pa_weakref_new(o, log_cb, &d);
    d.expected_wr = wr;
    pa_decref(o);
    /* Callbacks run before dealloc (subtype_dealloc: PyObject_ClearWeakRefs first). */
    assert_string_equal(ev_string(), "W5 c1 D1");
    assert_int_equal(pa_weakref_count(wr), 0);
    pa_decref(wr);
    assert_int_equal(d.calls, 1);
}

/* Mirrors (CPython 3.12):
     t = T(); w1 = ref(t, cb1); w2 = ref(t, cb2); w3 = ref(t, cb3)
     s1 = ref(t); s2 = ref(t); s1 is s2; getweakrefcount(t) == 4
     del t   ->  callbacks 3, 2, 1 */
static void several_callbacks_run_newest_first_on_death_by_count(void **state)
{
    (void)state;
    pa_object *t = new_node(g_node, 1);
    cb_data d1 = {.id = 1}, d2 = {.id = 2}, d3 = {.id = 3};
    pa_object *w1 = pa_weakref_new(t, log_cb, &d1);
    pa_object *w2 = pa_weakref_new(t, log_cb, &d2);
    pa_object *w3 = pa_weakref_new(t, log_cb, &d3);
    pa_object *s1 = pa_weakref_new(t, NULL, NULL);
    pa_object *s2 = pa_weakref_new(t, NULL, NULL);
    d1.expected_wr = w1;
    d2.expected_wr = w2;
    d3.expected_wr = w3;
    assert_ptr_equal(s1, s2);
    assert_int_equal(pa_weakref_count(t), 4);
    pa_decref(t);
    assert_string_equal(ev_string(), "W3 c1 W2 c1 W1 c1 D1");
    assert_null(pa_weakref_get(s1));
    pa_decref(w1);
    pa_decref(w2);
    pa_decref(w3);
    pa_decref(s1);
    pa_decref(s2);
}

/* a = A(); a.self = a; w = ref(a, cb); del a; gc.collect() == 1, cb called
   (w is reachable: held by us). */
static void callback_on_death_by_collection(void **state)
{
    (void)state;
    pa_object *a = new_node(g_node, 1);
    set_a(a, a);
    cb_data d = {.id = 9};
    pa_object *wr = pa_weakref_new(a, log_cb, &d);
    d.expected_wr = wr;
    pa_decref(a);
    assert_string_equal(ev_string(), "");
    assert_int_equal(collect(g_rt, 2), 1);
    assert_string_equal(ev_string(), "W9 c1 D1");
    assert_null(pa_weakref_get(wr));
    /* The weakref survives the collection (it was reachable). */
    assert_int_equal(pa_refcnt(wr), 1);
    assert_int_equal(pa_gc_is_tracked(wr), 1);
    pa_decref(wr);
}

/* a = A(); a.s = a; w1 = ref(a, cb1); w2 = ref(a, cb2); del a; gc.collect()
   -> 1, callbacks [2, 1] */
static void several_callbacks_run_newest_first_on_death_by_collection(void **state)
{
    (void)state;
    pa_object *a = new_node(g_node, 1);
    set_a(a, a);
    cb_data d1 = {.id = 1}, d2 = {.id = 2};
    pa_object *w1 = pa_weakref_new(a, log_cb, &d1);
    pa_object *w2 = pa_weakref_new(a, log_cb, &d2);
    pa_decref(a);
    assert_int_equal(collect(g_rt, 2), 1);
    assert_string_equal(ev_string(), "W2 c1 W1 c1 D1");
    pa_decref(w1);
    pa_decref(w2);
}

/* Mirrors: a = A(); a.self = a; a.w = weakref.ref(a, cb); del a;
   gc.collect()  ->  cb not called (the weakref is trash too).  Both the node
   and the weakref are collected: 2. */
static void a_weakref_that_is_garbage_in_the_same_cycle_does_not_call_back(void **state)
{
    (void)state;
    pa_object *a = new_node(g_node, 1);
    set_a(a, a);
    cb_data d = {.id = 3};
    pa_object *wr = pa_weakref_new(a, log_cb, &d);
    NODE(a)->b = wr; /* steals: the weakref lives only inside the cycle */
    pa_decref(a);
    assert_int_equal(collect(g_rt, 2), 2);
    assert_string_equal(ev_string(), "D1");
    assert_int_equal(d.calls, 0);
    assert_int_equal(gen_size(g_rt, -1), 0);
}

/* A weakref the user untracked (pa_gc_untrack) whose target dies in a
   collection: it is reachable (we hold it), so its callback runs, once,
   and the collector survives it.  (CPython's weakrefs cannot be untracked
   from Python; the contract only asks that nothing breaks.) */
static void an_untracked_weakref_with_a_callback_survives_a_collection(void **state)
{
    (void)state;
    pa_object *a = new_node(g_node, 1);
    set_a(a, a);
    cb_data d = {.id = 6};
    pa_object *wr = pa_weakref_new(a, log_cb, &d);
    d.expected_wr = wr;
    pa_gc_untrack(wr);
    assert_int_equal(pa_gc_is_tracked(wr), 0);
    pa_decref(a);
    assert_int_equal(collect(g_rt, 2), 1);
    assert_string_equal(ev_string(), "W6 c1 D1");
    assert_null(pa_weakref_get(wr));
    assert_int_equal(pa_refcnt(wr), 1);
    assert_int_equal(collect(g_rt, 2), 0);
    assert_int_equal(d.calls, 1);
    pa_decref(wr);
    assert_int_equal(gen_size(g_rt, -1), 0);
}

/* The same with the weakref in a different garbage cycle than its target:
   still garbage in the same collection, still no callback. */
static void a_weakref_in_another_garbage_cycle_does_not_call_back(void **state)
{
    (void)state;
    pa_object *a = new_node(g_node, 1), *b = new_node(g_node, 2);
    set_a(a, a);
    set_a(b, b);
    cb_data d = {.id = 3};
    NODE(b)->b = pa_weakref_new(a, log_cb, &d);
    pa_decref(a);
    pa_decref(b);
    assert_int_equal(collect(g_rt, 2), 3);
    assert_int_equal(d.calls, 0);
    assert_int_equal(ev_count('D'), 2);
}

/* A weakref dies before its target: no callback ever. */
static void a_dead_weakref_never_calls_back(void **state)
{
    (void)state;
    pa_object *o = new_node(g_node, 1);
    cb_data d = {.id = 1};
    pa_object *wr = pa_weakref_new(o, log_cb, &d);
    assert_int_equal(pa_weakref_count(o), 1);
    pa_decref(wr);
    assert_int_equal(pa_weakref_count(o), 0);
    pa_decref(o);
    assert_string_equal(ev_string(), "D1");
    assert_int_equal(d.calls, 0);
}

/* Mirrors (CPython 3.12 gives 2):
     a = A(); a.self = a; holder = []
     def cb(w): holder.clear()
     w = weakref.ref(a, cb); holder.append(w); del w; del a
     gc.collect() == 2   # a, and the weakref its callback freed */
static pa_object *g_only_ref_to_wr;
static void drop_wr_cb(pa_object *wr, void *user)
{
    (void)user;
    ev_add('W', wr == g_only_ref_to_wr);
    pa_clear(&g_only_ref_to_wr);
}

static void a_weakref_freed_by_its_callback_counts_as_collected(void **state)
{
    (void)state;
    pa_object *a = new_node(g_node, 1);
    set_a(a, a);
    g_only_ref_to_wr = pa_weakref_new(a, drop_wr_cb, NULL);
    pa_decref(a);
    assert_int_equal(collect(g_rt, 2), 2);
    assert_string_equal(ev_string(), "W1 D1");
    assert_null(g_only_ref_to_wr);
    assert_int_equal(gen_size(g_rt, -1), 0);
    pa_gc_generation_stats st[3];
    assert_int_equal(pa_gc_get_stats(g_rt, st), 0);
    assert_int_equal(st[2].collected, 2);
}

/* The callback may drop the last reference to its weakref on death by count too. */
static void a_weakref_freed_by_its_callback_on_death_by_count(void **state)
{
    (void)state;
    pa_object *a = new_node(g_node, 1);
    g_only_ref_to_wr = pa_weakref_new(a, drop_wr_cb, NULL);
    pa_decref(a);
    assert_string_equal(ev_string(), "W1 D1");
    assert_null(g_only_ref_to_wr);
    assert_int_equal(gen_size(g_rt, -1), 0);
}

/* A callback that drops the last reference to another weakref whose
   callback is still to come: that callback still runs (CPython holds the
   pending weakrefs in a tuple; the collector increfs each).  Mirrors:
     t = T(); holder = {}
     def cb2(w): out.append(2); holder.pop('w1')
     holder['w1'] = weakref.ref(t, lambda w: out.append(1))
     w2 = weakref.ref(t, cb2); del t   ->  out == [2, 1]
   and in a collection (CPython 3.12 returns 2: a, and w1, which dies right
   after its own callback; w2 dies later, inside cb1):
     a = T(); a.s = a; g = {}
     def cb2(w): out.append(2); g.pop('w1')
     def cb1(w): out.append(1); g.pop('w2')
     g['w1'] = weakref.ref(a, cb1); g['w2'] = weakref.ref(a, cb2); del a
     gc.collect() == 2; out == [2, 1] */
static pa_object *g_w1, *g_w2;
static void cb2_drops_w1(pa_object *wr, void *user)
{
    (void)wr;
    (void)user;
    ev_add('W', 2);
    pa_clear(&g_w1);
}
static void cb1_drops_w2(pa_object *wr, void *user)
{
    (void)wr;
    (void)user;
    ev_add('W', 1);
    pa_clear(&g_w2);
}

static void a_callback_may_release_a_weakref_whose_callback_is_pending(void **state)
{
    (void)state;
    pa_object *t = new_node(g_node, 1);
    g_w1 = pa_weakref_new(t, cb1_drops_w2, NULL); /* g_w2 stays NULL: cb1 drops nothing */
    pa_object *w2 = pa_weakref_new(t, cb2_drops_w1, NULL);
    g_w2 = NULL;
    pa_decref(t);
    assert_string_equal(ev_string(), "W2 W1 D1");
    assert_null(g_w1);
    pa_decref(w2);

    ev_reset();
    pa_object *a = new_node(g_node, 2);
    set_a(a, a);
    g_w1 = pa_weakref_new(a, cb1_drops_w2, NULL);
    g_w2 = pa_weakref_new(a, cb2_drops_w1, NULL);
    pa_decref(a);
    assert_int_equal(collect(g_rt, 2), 2);
    assert_string_equal(ev_string(), "W2 W1 D2");
    assert_null(g_w1);
    assert_null(g_w2);
    assert_int_equal(gen_size(g_rt, -1), 0);
}

/* ------------------------------------------------------ weakrefs and finalisers */

/* In a finaliser at death by count, the object is alive: its weakrefs still
   answer.  Mirrors: class A: def __del__(self): print(w() is self)  -> True */
static pa_object *g_wr_seen_by_finalizer;
static void finalize_peeks_weakref(pa_object *o)
{
    pa_object *t = pa_weakref_get(g_wr_seen_by_finalizer);
    ev_add('F', NODE(o)->id);
    ev_add('p', t == o);
    pa_xdecref(t);
}

static void finalizer_at_death_by_count_still_sees_its_weakrefs(void **state)
{
    (void)state;
    pa_type *t = node_type_with(g_rt, "fin", finalize_peeks_weakref, NULL);
    pa_object *o = new_node(t, 1);
    cb_data d = {.id = 4};
    g_wr_seen_by_finalizer = pa_weakref_new(o, log_cb, &d);
    pa_decref(o);
    assert_string_equal(ev_string(), "F1 p1 W4 c1 D1");
    pa_decref(g_wr_seen_by_finalizer);
}

/* In a collection, weakrefs are cleared before finalisers run (CPython's
   handle_weakrefs precedes finalize_garbage).  Mirrors:
     class A: def __del__(self): print(w())
     a = A(); a.s = a; w = weakref.ref(a); del a; gc.collect()  ->  None, 1 */
static void finalizer_in_a_collection_sees_its_weakrefs_cleared(void **state)
{
    (void)state;
    pa_type *t = node_type_with(g_rt, "fin", finalize_peeks_weakref, NULL);
    pa_object *o = new_node(t, 1);
    set_a(o, o);
    g_wr_seen_by_finalizer = pa_weakref_new(o, NULL, NULL);
    pa_decref(o);
    assert_int_equal(collect(g_rt, 2), 1);
    assert_string_equal(ev_string(), "F1 p0 D1");
    pa_decref(g_wr_seen_by_finalizer);
}

/* Weakrefs created by a PEP 442 finaliser during death by count are cleared
   with their callbacks (CPython 3.12's subtype_dealloc calls tp_finalize,
   then PyObject_ClearWeakRefs).  Mirrors:
     class B: def __del__(self): made.append(weakref.ref(self, cb))
     b = B(); del b   ->  cb called, made[0]() is None */
static pa_object *g_made_in_finalizer;
static cb_data g_made_cb = {.id = 77};
static void finalize_makes_weakref(pa_object *o)
{
    ev_add('F', NODE(o)->id);
    g_made_in_finalizer = pa_weakref_new(o, log_cb, &g_made_cb);
}
static void legacy_makes_weakref(pa_object *o)
{
    ev_add('L', NODE(o)->id);
    g_made_in_finalizer = pa_weakref_new(o, log_cb, &g_made_cb);
}

static void weakrefs_made_in_a_finalizer_still_call_back(void **state)
{
    (void)state;
    pa_type *t = node_type_with(g_rt, "maker", finalize_makes_weakref, NULL);
    pa_object *o = new_node(t, 1);
    g_made_cb.calls = 0;
    pa_decref(o);
    assert_non_null(g_made_in_finalizer);
    assert_null(pa_weakref_get(g_made_in_finalizer));
    assert_string_equal(ev_string(), "F1 W77 c1 D1");
    pa_clear(&g_made_in_finalizer);
}

/* ... but those created by a legacy finaliser (tp_del) are cleared without
   callbacks.  Mirrors, with _testcapi.with_tp_del:
     class L: def __tp_del__(self): made.append(weakref.ref(self, cb))
     l = L(); del l   ->  made[0]() is None, cb never called */
static void weakrefs_made_in_a_legacy_finalizer_are_cleared_without_callback(void **state)
{
    (void)state;
    pa_type *t = node_type_with(g_rt, "legacy_maker", NULL, legacy_makes_weakref);
    pa_object *o = new_node(t, 1);
    g_made_cb.calls = 0;
    pa_decref(o);
    assert_non_null(g_made_in_finalizer);
    assert_null(pa_weakref_get(g_made_in_finalizer));
    assert_string_equal(ev_string(), "L1 D1");
    assert_int_equal(g_made_cb.calls, 0);
    pa_clear(&g_made_in_finalizer);
}

/* ------------------------------------------------ weakrefs and the trashcan */

/* Releasing a long chain defers deaths (the trashcan): an object whose count
   reached zero deep in the chain waits, count 0, its weakrefs not yet
   cleared, until the outer deaths finish.  CPython 3.12 never hands such an
   object out: PyWeakref_GET_OBJECT returns None when the target's count is
   0 (gh-60806).  Mirrors (CPython 3.12.1: no zombie seen):
     class N: __slots__ = ('nxt', 'probe', 'i', '__weakref__')
     class P: def __del__(self): for each dying node j: assert wrs[j]() is None
     200 nodes, node i: nxt = node i+1 then probe = P(); del head
   Here each chain node holds a = next node, then b = a probe whose dealloc
   asks every node's weakref: an object handed out with count 1 after the
   get had count 0 before it (a dying object). */
enum { TRASH_CHAIN = 200 };
static pa_object *g_trash_wrs[TRASH_CHAIN];
static int g_zombies, g_live_seen;

static void probe_dealloc(pa_object *o)
{
    (void)o;
    for (int j = 0; j < TRASH_CHAIN; j++) {
        pa_object *t = pa_weakref_get(g_trash_wrs[j]);
        if (t == NULL)
            continue;
        if (pa_refcnt(t) == 1)
            g_zombies++; /* not released: its count was 0 (releasing would kill it twice) */
        else {
            g_live_seen++;
            pa_decref(t);
        }
    }
}

static void a_weakref_never_returns_an_object_awaiting_the_trashcan(void **state)
{
    (void)state;
    pa_type_spec spec = {.name = "probe", .basicsize = sizeof(node), .dealloc = probe_dealloc};
    pa_type *tp = pa_type_new(g_rt, &spec);
    assert_non_null(tp);
    pa_object *nodes[TRASH_CHAIN];
    for (int i = 0; i < TRASH_CHAIN; i++) {
        nodes[i] = new_node(g_node, i);
        g_trash_wrs[i] = pa_weakref_new(nodes[i], NULL, NULL);
        assert_non_null(g_trash_wrs[i]);
    }
    for (int i = 0; i < TRASH_CHAIN; i++) {
        if (i + 1 < TRASH_CHAIN)
            set_a(nodes[i], nodes[i + 1]);
        NODE(nodes[i])->b = pa_object_new(tp); /* after a: released after the chain below */
        assert_non_null(NODE(nodes[i])->b);
    }
    for (int i = 1; i < TRASH_CHAIN; i++)
        pa_decref(nodes[i]);
    g_zombies = g_live_seen = 0;
    pa_decref(nodes[0]);
    assert_int_equal(ev_count('D'), TRASH_CHAIN); /* the whole chain went */
    if (g_zombies != 0)
        fail_msg("pa_weakref_get returned a dying object (count 0, awaiting the trashcan) %d times",
                 g_zombies);
    for (int i = 0; i < TRASH_CHAIN; i++) {
        assert_null(pa_weakref_get(g_trash_wrs[i]));
        pa_decref(g_trash_wrs[i]);
    }
}

/* --------------------------------------------------- the article's Part 7 */

/* class Parent:
       def __init__(self): self.children = []
       def add_child(self, child):
           child.parent = weakref.ref(self)
           self.children.append(child)
   class Child:
       def get_parent(self): return self.parent() if self.parent is not None else None
   p = Parent(); c = Child(); p.add_child(c)
   c.get_parent() is p            # True
   del p                          # freed by reference counting: no cycle
   c.get_parent() is None; gc.collect() == 0

   Parent: a = children list.  Child: a = weak reference to the parent. */
static pa_object *add_child(pa_object *parent, pa_object *child)
{
    pa_object *wr = pa_weakref_new(parent, NULL, NULL);
    assert_non_null(wr);
    pa_setref(&NODE(child)->a, wr);
    append(NODE(parent)->a, child);
    return child;
}

static pa_object *get_parent(pa_object *child)
{
    return NODE(child)->a != NULL ? pa_weakref_get(NODE(child)->a) : NULL;
}

static void article_weak_back_references_let_the_parent_go(void **state)
{
    (void)state;
    pa_object *p = new_node(g_node, 1);
    NODE(p)->a = new_list(g_rt); /* children */
    pa_object *c = new_node(g_node, 2);
    assert_null(get_parent(c));
    add_child(p, c);
    pa_object *got = get_parent(c);
    assert_ptr_equal(got, p);
    pa_decref(got);
    assert_int_equal(pa_refcnt(p), 1);
    pa_decref(p);
    assert_string_equal(ev_string(), "D1"); /* freed at once */
    assert_null(get_parent(c));
    assert_int_equal(pa_refcnt(c), 1); /* the children list released it */
    assert_int_equal(collect(g_rt, 2), 0);
    pa_decref(c);
    assert_string_equal(ev_string(), "D1 D2");
}

/* The same with a strong back-reference (the article's Part 2 Node): the
   parent survives `del p` until a collection finds the cycle. */
static void article_strong_back_references_need_the_collector(void **state)
{
    (void)state;
    pa_object *p = new_node(g_node, 1);
    NODE(p)->a = new_list(g_rt);
    pa_object *c = new_node(g_node, 2);
    set_a(c, p);
    append(NODE(p)->a, c);
    pa_decref(c);
    pa_decref(p);
    assert_string_equal(ev_string(), "");
    assert_int_equal(collect(g_rt, 2), 3); /* parent, its list, child */
    assert_int_equal(ev_count('D'), 2);
}

/* ------------------------------------------------------- getweakrefs, proxy */

static intptr_t which(pa_object *const *named, size_t n, pa_object *o)
{
    for (size_t i = 0; i < n; i++)
        if (named[i] == o)
            return (intptr_t)i;
    return -1;
}

/* CPython 3.12:
     r1 = ref(a, cb); p = proxy(a); r0 = ref(a); p2 = proxy(a, cb); r2 = ref(a, cb)
     getweakrefs(a) == [r0, p, r2, p2, r1] */
static void getweakrefs_lists_cpythons_order(void **state)
{
    (void)state;
    cb_data d = {.id = 1};
    pa_object *a = new_node(g_node, 1);
    pa_object *out0[1];
    assert_int_equal(pa_weakref_getweakrefs(a, out0, 0), 0);
    pa_object *named[5];
    named[0] = pa_weakref_new(a, log_cb, &d);       /* r1 */
    named[1] = pa_weakref_proxy_new(a, NULL, NULL);  /* p */
    named[2] = pa_weakref_new(a, NULL, NULL);        /* r0 */
    named[3] = pa_weakref_proxy_new(a, log_cb, &d);  /* p2 */
    named[4] = pa_weakref_new(a, log_cb, &d);        /* r2 */
    for (int i = 0; i < 5; i++)
        assert_non_null(named[i]);
    assert_int_equal(pa_weakref_getweakrefs(a, NULL, 0), 5);
    assert_int_equal(pa_weakref_count(a), 5);
    pa_object *out[5];
    assert_int_equal(pa_weakref_getweakrefs(a, out, 5), 5);
    const char *names[] = {"r1", "p", "r0", "p2", "r2"};
    char got[64] = "";
    for (int i = 0; i < 5; i++) {
        intptr_t k = which(named, 5, out[i]);
        assert_true(k >= 0);
        strcat(got, names[k]);
        strcat(got, i < 4 ? " " : "");
        assert_int_equal(pa_refcnt(out[i]), 2); /* a new reference */
        pa_decref(out[i]);
    }
    assert_string_equal(got, "r0 p r2 p2 r1");
    /* cap 2: the first two, the total all the same */
    assert_int_equal(pa_weakref_getweakrefs(a, out, 2), 5);
    assert_ptr_equal(out[0], named[2]);
    assert_ptr_equal(out[1], named[1]);
    pa_decref(out[0]);
    pa_decref(out[1]);
    /* the callbacks run in the same order */
    pa_decref(a);
    assert_string_equal(ev_string(), "W1 c1 W1 c1 W1 c1 D1");
    assert_int_equal(d.calls, 3);
    for (int i = 0; i < 5; i++)
        pa_decref(named[i]);
}

/* A dropped weakref leaves the list; errors. */
static void getweakrefs_follows_deaths_and_refuses_bad_input(void **state)
{
    (void)state;
    pa_object *a = new_node(g_node, 1);
    pa_object *w1 = pa_weakref_new(a, log_cb, &(cb_data){.id = 1});
    pa_object *w2 = pa_weakref_new(a, NULL, NULL);
    pa_decref(w1);
    pa_object *out[2];
    assert_int_equal(pa_weakref_getweakrefs(a, out, 2), 1);
    assert_ptr_equal(out[0], w2);
    pa_decref(out[0]);
    pa_clear_error();
    assert_int_equal(pa_weakref_getweakrefs(NULL, out, 2), PA_SIZE_ERROR);
    PA_ASSERT_ERROR_MENTIONS("pa_weakref_getweakrefs");
    pa_clear_error();
    assert_int_equal(pa_weakref_getweakrefs(a, NULL, 2), PA_SIZE_ERROR);
    PA_ASSERT_ERROR_MENTIONS("out is NULL");
    pa_decref(w2);
    pa_decref(a);
}

/* p = proxy(o); proxy(o) is p; ref(o) is not p; p.attr works; del o; p.attr raises
   ReferenceError("weakly-referenced object no longer exists") */
static void a_proxy_forwards_until_its_referent_dies(void **state)
{
    (void)state;
    pa_object *o = new_node(g_node, 7);
    pa_object *p = pa_weakref_proxy_new(o, NULL, NULL);
    assert_non_null(p);
    assert_ptr_equal(pa_weakref_proxy_new(o, NULL, NULL), p);
    pa_decref(p);
    pa_object *r = pa_weakref_new(o, NULL, NULL);
    assert_ptr_not_equal(r, p);
    assert_int_equal(pa_weakref_proxy_check(p), 1);
    assert_int_equal(pa_weakref_proxy_check(r), 0);
    assert_int_equal(pa_weakref_proxy_check(o), 0);
    assert_int_equal(pa_weakref_check(p), 1);
    assert_string_equal(pa_type_name(pa_object_type(p)), "weakproxy");
    assert_int_equal(pa_weakref_count(o), 2);
    pa_object *got = pa_weakref_proxy_get(p);
    assert_ptr_equal(got, o);
    assert_int_equal(NODE(got)->id, 7);
    pa_decref(got);
    got = pa_weakref_get(p); /* PyWeakref_GetObject takes proxies too */
    assert_ptr_equal(got, o);
    pa_decref(got);
    pa_clear_error();
    assert_null(pa_weakref_proxy_get(r)); /* a weakref is not a proxy */
    PA_ASSERT_ERROR_MENTIONS("expected a weakproxy");
    pa_decref(o);
    pa_clear_error();
    assert_null(pa_weakref_proxy_get(p));
    assert_string_equal(pa_last_error(), "pa_weakref_proxy_get: weakly-referenced object no longer exists");
    pa_clear_error();
    assert_null(pa_weakref_get(p));
    assert_string_equal(pa_last_error(), "");
    pa_clear_error();
    assert_null(pa_weakref_proxy_new(NULL, NULL, NULL));
    PA_ASSERT_ERROR_MENTIONS("pa_weakref_proxy_new");
    pa_decref(p);
    pa_decref(r);
}

/* A proxy with a callback is its own (not shared) and calls back on death by
   collection; a shared proxy made after a ref with callback goes before it. */
static void a_proxy_with_a_callback_calls_back_in_a_collection(void **state)
{
    (void)state;
    cb_data d = {.id = 3};
    pa_object *a = new_node(g_node, 1);
    set_a(a, a); /* a cycle */
    pa_object *p1 = pa_weakref_proxy_new(a, log_cb, &d);
    pa_object *p2 = pa_weakref_proxy_new(a, log_cb, &d);
    assert_ptr_not_equal(p1, p2);
    d.expected_wr = NULL;
    pa_decref(a);
    collect(g_rt, 2);
    assert_string_equal(ev_string(), "W3 c1 W3 c1 D1");
    pa_clear_error();
    assert_null(pa_weakref_proxy_get(p1));
    PA_ASSERT_ERROR_MENTIONS("no longer exists");
    pa_decref(p1);
    pa_decref(p2);
}

/* --------------------------------------------------------------- finalize */

static void fin_cb(void *user) { ev_add('Z', (intptr_t)user); }

/* f = finalize(o, cb, 1); f.alive; f.atexit; del o -> cb ran once; not f.alive; f() is None */
static void finalize_runs_once_when_the_target_dies_by_count(void **state)
{
    (void)state;
    pa_object *o = new_node(g_node, 1);
    uint64_t h = pa_finalize_register(o, fin_cb, (void *)1);
    assert_true(h > 0);
    assert_int_equal(pa_finalize_alive(g_rt, h), 1);
    assert_int_equal(pa_finalize_get_atexit(g_rt, h), 1);
    assert_int_equal(pa_refcnt(o), 1);      /* weak */
    assert_int_equal(pa_weakref_count(o), 1); /* the registration is a weakref */
    pa_object *wrs[1];
    assert_int_equal(pa_weakref_getweakrefs(o, wrs, 1), 1);
    assert_int_equal(pa_weakref_check(wrs[0]), 1);
    pa_decref(wrs[0]);
    pa_decref(o);
    assert_string_equal(ev_string(), "Z1 D1"); /* weakref callbacks run before the dealloc */
    assert_int_equal(pa_finalize_alive(g_rt, h), 0);
    assert_int_equal(pa_finalize_call(g_rt, h), 0);
    assert_int_equal(pa_finalize_get_atexit(g_rt, h), 0);
    assert_int_equal(pa_finalize_set_atexit(g_rt, h, 1), 0);
    assert_string_equal(ev_string(), "Z1 D1");
    /* handles are never reused */
    pa_object *o2 = new_node(g_node, 2);
    uint64_t h2 = pa_finalize_register(o2, fin_cb, (void *)2);
    assert_true(h2 > h);
    pa_decref(o2);
    assert_string_equal(ev_string(), "Z1 D1 Z2 D2");
}

/* The registry keeps the registration reachable: a target in a cycle still calls back. */
static void finalize_runs_when_the_target_dies_in_a_cycle(void **state)
{
    (void)state;
    pa_object *a = new_node(g_node, 1), *b = new_node(g_node, 2);
    set_a(a, b);
    set_a(b, a);
    uint64_t h = pa_finalize_register(a, fin_cb, (void *)9);
    assert_true(h > 0);
    pa_decref(a);
    pa_decref(b);
    /* CPython 3.12 counts 3 too: the registration's weakref, freed once its callback ran */
    assert_int_equal(collect(g_rt, 2), 3);
    assert_int_equal(ev_count('Z'), 1);
    assert_int_equal(ev_count('D'), 2);
    assert_true(strncmp(ev_string(), "Z9 ", 3) == 0); /* before the cycle is cleared */
    assert_int_equal(pa_finalize_alive(g_rt, h), 0);
}

/* f(); f() -> cb ran once, early; del o -> not again; f.detach() is None */
static void finalize_called_early_runs_once(void **state)
{
    (void)state;
    pa_object *o = new_node(g_node, 1);
    uint64_t h = pa_finalize_register(o, fin_cb, (void *)5);
    assert_int_equal(pa_finalize_call(g_rt, h), 1);
    assert_string_equal(ev_string(), "Z5");
    assert_int_equal(pa_finalize_call(g_rt, h), 0);
    assert_int_equal(pa_finalize_alive(g_rt, h), 0);
    assert_int_equal(pa_weakref_count(o), 0); /* the registration's weakref is gone */
    pa_object *t = (pa_object *)1;
    assert_int_equal(pa_finalize_detach(g_rt, h, &t, NULL, NULL), 0);
    assert_ptr_equal(t, (pa_object *)1);
    pa_decref(o);
    assert_string_equal(ev_string(), "Z5 D1");
}

/* f.peek() == (o, cb, args); f.detach() == (o, cb, args); then not alive, never called */
static void finalize_peek_and_detach(void **state)
{
    (void)state;
    pa_object *o = new_node(g_node, 1);
    uint64_t h = pa_finalize_register(o, fin_cb, (void *)6);
    pa_object *t = NULL;
    pa_finalize_callback cb = NULL;
    void *user = NULL;
    assert_int_equal(pa_finalize_peek(g_rt, h, &t, &cb, &user), 1);
    assert_ptr_equal(t, o);
    assert_ptr_equal(cb, fin_cb);
    assert_ptr_equal(user, (void *)6);
    assert_int_equal(pa_refcnt(o), 2); /* a new reference */
    pa_decref(t);
    assert_int_equal(pa_finalize_peek(g_rt, h, NULL, NULL, NULL), 1);
    assert_int_equal(pa_refcnt(o), 1);
    assert_int_equal(pa_finalize_alive(g_rt, h), 1);
    t = NULL;
    assert_int_equal(pa_finalize_detach(g_rt, h, &t, &cb, &user), 1);
    assert_ptr_equal(t, o);
    pa_decref(t);
    assert_int_equal(pa_finalize_alive(g_rt, h), 0);
    assert_int_equal(pa_finalize_peek(g_rt, h, &t, NULL, NULL), 0);
    assert_int_equal(pa_weakref_count(o), 0);
    pa_decref(o);
    assert_string_equal(ev_string(), "D1");
}

/* Inside the weakref callbacks of a dying target (its weakrefs are cleared), another
   finalizer of it is still pending, but peek and detach say None: the target is gone. */
static uint64_t g_other;
static void peek_other(void *user)
{
    (void)user;
    pa_object *t = (pa_object *)1;
    ev_add('P', pa_finalize_peek(g_rt, g_other, &t, NULL, NULL));
    ev_add('A', pa_finalize_alive(g_rt, g_other));
    ev_add('X', pa_finalize_detach(g_rt, g_other, &t, NULL, NULL));
    ev_add('T', t == (pa_object *)1);
}

static void finalize_peek_of_a_dying_target_is_none(void **state)
{
    (void)state;
    pa_object *o = new_node(g_node, 1);
    g_other = pa_finalize_register(o, fin_cb, (void *)2); /* runs second: newest first */
    pa_finalize_register(o, peek_other, NULL);
    pa_decref(o);
    assert_string_equal(ev_string(), "P0 A1 X0 T1 Z2 D1");
}

static void finalize_errors(void **state)
{
    (void)state;
    pa_object *o = new_node(g_node, 1);
    pa_clear_error();
    assert_int_equal(pa_finalize_register(NULL, fin_cb, NULL), 0);
    PA_ASSERT_ERROR_MENTIONS("pa_finalize_register");
    pa_clear_error();
    assert_int_equal(pa_finalize_register(o, NULL, NULL), 0);
    PA_ASSERT_ERROR_MENTIONS("cb is NULL");
    pa_clear_error();
    assert_int_equal(pa_finalize_alive(NULL, 1), -1);
    PA_ASSERT_ERROR_MENTIONS("pa_finalize_alive");
    assert_int_equal(pa_finalize_call(NULL, 1), -1);
    assert_int_equal(pa_finalize_peek(NULL, 1, NULL, NULL, NULL), -1);
    assert_int_equal(pa_finalize_detach(NULL, 1, NULL, NULL, NULL), -1);
    assert_int_equal(pa_finalize_get_atexit(NULL, 1), -1);
    assert_int_equal(pa_finalize_set_atexit(NULL, 1, 0), -1);
    /* handles never given, and another runtime's */
    assert_int_equal(pa_finalize_alive(g_rt, 0), 0);
    assert_int_equal(pa_finalize_alive(g_rt, 12345), 0);
    uint64_t h = pa_finalize_register(o, fin_cb, NULL);
    pa_runtime *other = new_runtime();
    assert_int_equal(pa_finalize_alive(other, h), 0);
    assert_int_equal(pa_finalize_call(other, h), 0);
    pa_runtime_free(other);
    assert_int_equal(pa_finalize_alive(g_rt, h), 1);
    pa_decref(o);
}

/* At pa_runtime_free: a finalizer that frees the runtime is refused (and the free goes
   on), one that detaches another pending one keeps it from running, one that calls
   itself again gets 0; a finalizer registered in the final collection never runs. */
static pa_runtime *g_exit_rt;
static uint64_t g_exit_other, g_exit_self;
static pa_object *g_exit_keep;

static void exit_frees_the_runtime(void *user)
{
    (void)user;
    pa_clear_error();
    pa_runtime_free(g_exit_rt);
    ev_add('R', strstr(pa_last_error(), "pa_runtime_free") != NULL);
    ev_add('S', pa_finalize_call(g_exit_rt, g_exit_self)); /* already unregistered: 0 */
    ev_add('X', pa_finalize_detach(g_exit_rt, g_exit_other, NULL, NULL, NULL));
}

static void late_finalize(pa_object *self)
{
    ev_add('F', NODE(self)->id);
    pa_finalize_register(g_exit_keep, fin_cb, (void *)77); /* after the atexit pass: never runs */
}

/* finalize() whose callback frees the runtime: refused, the runtime lives on. */
static void free_in_cb(void *user)
{
    pa_clear_error();
    pa_runtime_free((pa_runtime *)user);
    ev_add('R', strstr(pa_last_error(), "refused") != NULL);
}

static void a_finalizer_called_early_cannot_free_its_runtime(void **state)
{
    (void)state;
    pa_object *o = new_node(g_node, 1);
    uint64_t h = pa_finalize_register(o, free_in_cb, g_rt);
    assert_int_equal(pa_finalize_call(g_rt, h), 1);
    assert_string_equal(ev_string(), "R1");
    assert_int_equal(pa_finalize_alive(g_rt, h), 0); /* the runtime is still live */
    pa_decref(o);
}

static void finalizers_at_runtime_free_edge_cases(void **state)
{
    (void)state;
    g_exit_rt = new_runtime();
    pa_type *t = node_type(g_exit_rt);
    pa_type *tf = node_type_with(g_exit_rt, "fin", late_finalize, NULL);
    g_exit_keep = new_node(t, 1);
    pa_object *c = new_node(tf, 2);
    set_a(c, c);
    pa_decref(c); /* a cycle the final collection finalises */
    g_exit_other = pa_finalize_register(g_exit_keep, fin_cb, (void *)5);
    g_exit_self = pa_finalize_register(g_exit_keep, exit_frees_the_runtime, NULL);
    pa_runtime_free(g_exit_rt); /* newest first: exit_frees_the_runtime, then nothing */
    assert_string_equal(ev_string(), "R1 S0 X1 F2 D2"); /* no Z5, no Z77 */
    /* the runtime is gone now */
    pa_clear_error();
    assert_int_equal(pa_finalize_alive(g_exit_rt, g_exit_other), -1);
    PA_ASSERT_ERROR_MENTIONS("not a live runtime");
}

/* The children: `test_weakref --child atexit`, output on stdout. */
static void exit_cb(void *user) { printf("exit %ld\n", (long)(intptr_t)user); }

static pa_object *g_late_target;
static void exit_cb_registering(void *user)
{
    printf("exit %ld registers 9\n", (long)(intptr_t)user);
    pa_finalize_register(g_late_target, exit_cb, (void *)9);
}

static int child_main(const char *what)
{
    if (strcmp(what, "atexit") != 0)
        return 2;
    pa_runtime *rt = pa_runtime_new();
    pa_type *t = node_type(rt);
    pa_object *a = new_node(t, 1), *b = new_node(t, 2), *c = new_node(t, 3);
    set_a(c, c); /* c dies in the final collection */
    g_late_target = b;
    uint64_t h1 = pa_finalize_register(a, exit_cb, (void *)1);
    uint64_t h2 = pa_finalize_register(b, exit_cb_registering, (void *)2);
    uint64_t h3 = pa_finalize_register(a, exit_cb, (void *)3);
    uint64_t h4 = pa_finalize_register(c, exit_cb, (void *)4);
    uint64_t h5 = pa_finalize_register(b, exit_cb, (void *)5);
    pa_finalize_set_atexit(rt, h4, 0);
    pa_finalize_set_atexit(rt, h5, 0);
    pa_decref(c);
    (void)h1, (void)h2, (void)h3;
    printf("free\n");
    fflush(stdout);
    pa_runtime_free(rt);
    printf("freed\n");
    return 0;
}

/* CPython: finalizers with atexit run at exit, newest first (_exitfunc pops the sorted
   list), one registered meanwhile too; atexit=False ones never, not even when their
   target dies afterwards (finalize._shutdown). */
static void atexit_finalizers_run_at_runtime_free_newest_first(void **state)
{
    (void)state;
    child_result r = run_child("/proc/self/exe", "--child", "atexit", NULL);
    if (!WIFEXITED(r.status) || WEXITSTATUS(r.status) != 0)
        fail_msg("child failed (status %d); stdout:\n%s\nstderr:\n%s", r.status, r.out, r.err);
    assert_string_equal(r.out, "free\nexit 3\nexit 2 registers 9\nexit 9\nexit 1\nfreed\n");
    child_result_free(&r);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--child") == 0)
        return child_main(argv[2]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(get_returns_a_new_reference_then_null_after_death, setup, teardown),
        cmocka_unit_test_setup_teardown(weakrefs_to_non_gc_objects_and_lists, setup, teardown),
        cmocka_unit_test_setup_teardown(errors, setup, teardown),
        cmocka_unit_test_setup_teardown(callback_less_weakrefs_are_shared, setup, teardown),
        cmocka_unit_test_setup_teardown(callback_on_death_by_count_gets_the_cleared_weakref, setup, teardown),
        cmocka_unit_test_setup_teardown(several_callbacks_run_newest_first_on_death_by_count, setup, teardown),
        cmocka_unit_test_setup_teardown(callback_on_death_by_collection, setup, teardown),
        cmocka_unit_test_setup_teardown(several_callbacks_run_newest_first_on_death_by_collection, setup, teardown),
        cmocka_unit_test_setup_teardown(a_weakref_that_is_garbage_in_the_same_cycle_does_not_call_back, setup, teardown),
        cmocka_unit_test_setup_teardown(an_untracked_weakref_with_a_callback_survives_a_collection, setup, teardown),
        cmocka_unit_test_setup_teardown(a_weakref_in_another_garbage_cycle_does_not_call_back, setup, teardown),
        cmocka_unit_test_setup_teardown(a_dead_weakref_never_calls_back, setup, teardown),
        cmocka_unit_test_setup_teardown(a_weakref_freed_by_its_callback_counts_as_collected, setup, teardown),
        cmocka_unit_test_setup_teardown(a_weakref_freed_by_its_callback_on_death_by_count, setup, teardown),
        cmocka_unit_test_setup_teardown(a_callback_may_release_a_weakref_whose_callback_is_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(finalizer_at_death_by_count_still_sees_its_weakrefs, setup, teardown),
        cmocka_unit_test_setup_teardown(finalizer_in_a_collection_sees_its_weakrefs_cleared, setup, teardown),
        cmocka_unit_test_setup_teardown(weakrefs_made_in_a_finalizer_still_call_back, setup, teardown),
        cmocka_unit_test_setup_teardown(weakrefs_made_in_a_legacy_finalizer_are_cleared_without_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(a_weakref_never_returns_an_object_awaiting_the_trashcan, setup, teardown),
        cmocka_unit_test_setup_teardown(article_weak_back_references_let_the_parent_go, setup, teardown),
        cmocka_unit_test_setup_teardown(article_strong_back_references_need_the_collector, setup, teardown),
        cmocka_unit_test_setup_teardown(getweakrefs_lists_cpythons_order, setup, teardown),
        cmocka_unit_test_setup_teardown(getweakrefs_follows_deaths_and_refuses_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(a_proxy_forwards_until_its_referent_dies, setup, teardown),
        cmocka_unit_test_setup_teardown(a_proxy_with_a_callback_calls_back_in_a_collection, setup, teardown),
        cmocka_unit_test_setup_teardown(finalize_runs_once_when_the_target_dies_by_count, setup, teardown),
        cmocka_unit_test_setup_teardown(finalize_runs_when_the_target_dies_in_a_cycle, setup, teardown),
        cmocka_unit_test_setup_teardown(finalize_called_early_runs_once, setup, teardown),
        cmocka_unit_test_setup_teardown(finalize_peek_and_detach, setup, teardown),
        cmocka_unit_test_setup_teardown(finalize_peek_of_a_dying_target_is_none, setup, teardown),
        cmocka_unit_test_setup_teardown(finalize_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(atexit_finalizers_run_at_runtime_free_newest_first, setup, teardown),
        cmocka_unit_test_setup_teardown(finalizers_at_runtime_free_edge_cases, setup, teardown),
        cmocka_unit_test_setup_teardown(a_finalizer_called_early_cannot_free_its_runtime, setup, teardown),
    };
    return PA_RUN_TESTS(tests, argc, argv);
}
