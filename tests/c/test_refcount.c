/* test_refcount.c -- reference counts and object lifetimes (sections 4-5 of
   pyalloc.h):

   - the article's Part 1 (counts 1, 2, 3, 2, 1 on a list through
     pa_incref / pa_decref), pa_xincref / pa_xdecref with NULL;
   - pa_setref / pa_clear: the slot holds the new value (or NULL) before the
     old value is released, as seen from the old value's finaliser and
     dealloc;
   - dealloc at zero is immediate; the order of a death (finaliser, weakref
     callbacks, legacy finaliser, dealloc, then the library's references);
   - immortal objects (CPython 3.12): count 0xFFFFFFFF kept through
     incref/decref, never freed; a collection moves a GC one to the
     permanent generation;
   - pa_object_runtime, pa_type_name; pa_type_new's validation, each error
     with a pa_last_error() message; the spec is copied;
   - pa_object_new zeroes; pa_object_new_var (ob_size, zeroed items,
     ITEMS_ARE_REFS items released at death, errors);
   - ref_offsets types: fields traversed (pa_gc_get_referents), released at
     death after dealloc, cleared by the collector before dealloc; a C
     traverse alongside ref_offsets visits the other references;
   - chains of 10,000,000 objects (list in list; ref_offsets nodes, with a
     dealloc and plain) released by one pa_decref (the library's trashcan);
   - plain deaths followed in a loop (no finaliser, no dealloc): the same
     trail as nested deaths (what finalisers deeper in a chain see of the
     live objects and generation 0's count, through the trashcan, with
     reference items and two dying fields), and not across runtimes;
   - PA_DEBUG: a release past zero aborts with "negative reference count"
     and the type's name (run in a child: the abort is by design).

   This file is also built with -DPA_DEBUG as test_refcount_debug (see
   CMakeLists.txt): every case must pass with the header's debug checks in
   pa_decref too.  The same executable, run as
   `test_refcount_debug --child negative`, performs the bad release. */
#include "test_objects.h"

#include <signal.h>

#ifndef PA_DEBUG_EXE
#error "PA_DEBUG_EXE (the path of test_refcount_debug) must be defined by the build"
#endif

/* ------------------------------------------------------------------ Part 1 */

/* The article's Part 1, "Watching Reference Count Change":
       a = [1, 2, 3]   # 1
       b = a           # 2
       c = a           # 3
       del b           # 2
       del c           # 1
   (sys.getrefcount(a) - 1 at each step), then del a frees the list. */
static void article_part1_counts_1_2_3_2_1(void **state)
{
    (void)state;
    ev_reset();
    pa_runtime *rt = new_runtime();
    pa_type *t = node_type(rt);
    pa_object *a = new_list(rt);
    for (int i = 1; i <= 3; i++) {
        pa_object *item = new_node(t, i);
        append(a, item);
        pa_decref(item);
    }
    assert_int_equal(pa_refcnt(a), 1);
    pa_object *b = a;
    pa_incref(b);
    assert_int_equal(pa_refcnt(a), 2);
    pa_object *c = a;
    pa_incref(c);
    assert_int_equal(pa_refcnt(a), 3);
    pa_decref(b);
    assert_int_equal(pa_refcnt(a), 2);
    pa_decref(c);
    assert_int_equal(pa_refcnt(a), 1);
    assert_string_equal(ev_string(), "");
    /* del a: freed now, its items with it (a list releases the last first). */
    pa_decref(a);
    assert_string_equal(ev_string(), "D3 D2 D1");
    assert_int_equal(gen_size(rt, -1), 0);
    pa_runtime_free(rt);
}

static void xincref_and_xdecref_accept_null(void **state)
{
    (void)state;
    pa_xincref(NULL);
    pa_xdecref(NULL);
    pa_runtime *rt = new_runtime();
    pa_object *l = new_list(rt);
    pa_xincref(l);
    assert_int_equal(pa_refcnt(l), 2);
    pa_xdecref(l);
    assert_int_equal(pa_refcnt(l), 1);
    pa_object *slot = NULL;
    pa_clear(&slot); /* NULL slot: nothing */
    assert_null(slot);
    pa_setref(&slot, NULL);
    assert_null(slot);
    pa_decref(l);
    pa_runtime_free(rt);
}

/* ------------------------------------------------------- pa_setref / pa_clear */

/* What the slot held when the old value's finaliser and dealloc ran. */
static pa_object **g_slot;
static pa_object *g_slot_in_finalize;
static pa_object *g_slot_in_dealloc;
static pa_object *const NOT_SEEN = (pa_object *)(uintptr_t)0x5EE;

static void watched_finalize(pa_object *o)
{
    g_slot_in_finalize = *g_slot;
    ev_add('F', NODE(o)->id);
}

static void watched_dealloc(pa_object *o)
{
    g_slot_in_dealloc = *g_slot;
    ev_add('D', NODE(o)->id);
}

static pa_type *watched_type(pa_runtime *rt)
{
    pa_type_spec spec = {.name = "watched", .basicsize = sizeof(node), .flags = PA_TPFLAGS_HAVE_GC,
                         .finalize = watched_finalize, .dealloc = watched_dealloc,
                         .ref_offsets = node_offsets};
    pa_type *t = pa_type_new(rt, &spec);
    assert_non_null(t);
    return t;
}

/* Py_XSETREF(holder->a, new): the old value dies seeing the new one in the slot. */
static void setref_stores_the_new_value_before_releasing_the_old(void **state)
{
    (void)state;
    ev_reset();
    pa_runtime *rt = new_runtime();
    pa_type *t = watched_type(rt);
    pa_object *holder = new_node(t, 100);
    g_slot = &NODE(holder)->a;
    NODE(holder)->a = new_node(t, 1); /* steals the new reference */
    pa_object *second = new_node(t, 2);

    g_slot_in_finalize = g_slot_in_dealloc = NOT_SEEN;
    pa_setref(g_slot, second); /* steals second */
    assert_string_equal(ev_string(), "F1 D1");
    assert_ptr_equal(g_slot_in_finalize, second);
    assert_ptr_equal(g_slot_in_dealloc, second);
    assert_ptr_equal(NODE(holder)->a, second);
    assert_int_equal(pa_refcnt(second), 1);

    /* Replacing by NULL: the slot is NULL when the old value dies. */
    g_slot_in_finalize = g_slot_in_dealloc = NOT_SEEN;
    pa_setref(g_slot, NULL);
    assert_string_equal(ev_string(), "F1 D1 F2 D2");
    assert_null(g_slot_in_finalize);
    assert_null(g_slot_in_dealloc);

    g_slot = &NODE(holder)->b; /* holder's own death reads a harmless slot */
    pa_decref(holder);
    pa_runtime_free(rt);
}

/* Py_CLEAR(holder->a): the slot is NULL when the old value dies. */
static void clear_nulls_the_slot_before_releasing_the_old_value(void **state)
{
    (void)state;
    ev_reset();
    pa_runtime *rt = new_runtime();
    pa_type *t = watched_type(rt);
    pa_object *holder = new_node(t, 100);
    g_slot = &NODE(holder)->a;
    NODE(holder)->a = new_node(t, 1);
    g_slot_in_finalize = g_slot_in_dealloc = NOT_SEEN;
    pa_clear(g_slot);
    assert_string_equal(ev_string(), "F1 D1");
    assert_null(g_slot_in_finalize);
    assert_null(g_slot_in_dealloc);
    assert_null(NODE(holder)->a);

    /* Clearing an object that stays alive only drops one count. */
    pa_object *kept = new_node(t, 2);
    pa_incref(kept);
    NODE(holder)->a = kept;
    pa_clear(g_slot);
    assert_null(NODE(holder)->a);
    assert_int_equal(pa_refcnt(kept), 1);
    assert_string_equal(ev_string(), "F1 D1");
    g_slot = &NODE(holder)->b;
    pa_decref(kept);
    pa_decref(holder);
    assert_string_equal(ev_string(), "F1 D1 F2 D2 F100 D100");
    pa_runtime_free(rt);
}

/* ------------------------------------------------------------------- deaths */

static void plain_dealloc(pa_object *o) { ev_add('D', NODE(o)->id); }

static void dealloc_runs_immediately_when_the_count_reaches_zero(void **state)
{
    (void)state;
    ev_reset();
    pa_runtime *rt = new_runtime();
    /* A non-GC type and a GC type. */
    pa_type_spec plain = {.name = "plain", .basicsize = sizeof(node), .dealloc = plain_dealloc};
    pa_type *tp = pa_type_new(rt, &plain);
    assert_non_null(tp);
    pa_type *tg = node_type(rt);

    pa_object *p = new_node(tp, 1);
    pa_incref(p);
    pa_decref(p);
    assert_string_equal(ev_string(), "");
    pa_decref(p);
    assert_string_equal(ev_string(), "D1");

    pa_object *g = new_node(tg, 2);
    ASSERT_COUNT(rt, 1, 0, 0);
    assert_int_equal(pa_gc_is_tracked(g), 1);
    pa_decref(g);
    assert_string_equal(ev_string(), "D1 D2");
    ASSERT_COUNT(rt, 0, 0, 0); /* a GC object's free lowers generation 0's count */
    assert_int_equal(gen_size(rt, -1), 0);
    pa_runtime_free(rt);
}

/* The order of one death (CPython's subtype_dealloc): the PEP 442 finaliser,
   weakref callbacks, the legacy finaliser, dealloc, and only then the
   library's own references (ref_offsets fields) are released.
   Mirrors: class A: def __del__(self): log('F')
            w = weakref.ref(a, lambda r: log('W')); del a   ->  F, W */
static pa_object *g_death_child;
static void order_finalize(pa_object *o) { ev_add('F', NODE(o)->id); }
static void order_legacy(pa_object *o) { ev_add('L', NODE(o)->id); }
static void order_dealloc(pa_object *o)
{
    /* No cmocka assert in a callback (it would longjmp through the library):
       log what is seen.  The library releases ref_offsets fields after
       dealloc, so the field still holds the child here. */
    ev_add('D', NODE(o)->id);
    ev_add('a', NODE(o)->a == g_death_child);
    ev_add('c', pa_refcnt(g_death_child));
}
static void order_weakref_cb(pa_object *wr, void *user)
{
    (void)user;
    ev_add('W', pa_weakref_get(wr) == NULL ? 0 : 1);
}

static void death_runs_finalizer_weakrefs_legacy_del_dealloc_in_order(void **state)
{
    (void)state;
    ev_reset();
    pa_runtime *rt = new_runtime();
    pa_type_spec spec = {.name = "ordered", .basicsize = sizeof(node), .flags = PA_TPFLAGS_HAVE_GC,
                         .finalize = order_finalize, .legacy_del = order_legacy,
                         .dealloc = order_dealloc, .ref_offsets = node_offsets};
    pa_type *t = pa_type_new(rt, &spec);
    assert_non_null(t);
    pa_type *tn = node_type(rt);
    pa_object *o = new_node(t, 1);
    g_death_child = new_node(tn, 9);
    set_a(o, g_death_child);
    pa_decref(g_death_child); /* o's field holds the only reference */
    pa_object *wr = pa_weakref_new(o, order_weakref_cb, NULL);
    assert_non_null(wr);
    pa_decref(o);
    /* F1, then the callback (target already gone: W0), L1, D1 seeing the child
       in its field, alive with count 1, then the child released: D9. */
    assert_string_equal(ev_string(), "F1 W0 L1 D1 a1 c1 D9");
    pa_decref(wr);
    pa_runtime_free(rt);
}

/* ----------------------------------------------------------------- immortal */

static void immortal_counts_never_change_and_it_is_never_freed(void **state)
{
    (void)state;
    ev_reset();
    pa_runtime *rt = new_runtime();
    pa_type_spec plain = {.name = "plain", .basicsize = sizeof(node), .dealloc = plain_dealloc};
    pa_type *t = pa_type_new(rt, &plain);
    assert_non_null(t);
    pa_object *o = new_node(t, 1);
    assert_false(pa_is_immortal(o));
    pa_object_make_immortal(o);
    assert_true(pa_is_immortal(o));
    assert_int_equal(pa_refcnt(o), 0xFFFFFFFF);
    for (int i = 0; i < 1000; i++)
        pa_incref(o);
    assert_int_equal(pa_refcnt(o), 0xFFFFFFFF);
    for (int i = 0; i < 5000; i++)
        pa_decref(o);
    assert_int_equal(pa_refcnt(o), 0xFFFFFFFF);
    pa_xincref(o);
    pa_xdecref(o);
    assert_int_equal(pa_refcnt(o), 0xFFFFFFFF);
    assert_string_equal(ev_string(), "");

    /* Held by a list that dies: still alive. */
    pa_object *l = new_list(rt);
    append(l, o);
    assert_int_equal(pa_refcnt(o), 0xFFFFFFFF);
    pa_decref(l);
    assert_int_equal(pa_refcnt(o), 0xFFFFFFFF);
    assert_string_equal(ev_string(), "");
    NODE(o)->id = 2; /* still writable memory */

    /* pa_runtime_free releases its memory without calling dealloc. */
    pa_runtime_free(rt);
    assert_string_equal(ev_string(), "");
}

/* CPython 3.12's update_refs: an immortal object found by a collection goes
   to the permanent generation (gc.get_freeze_count() grows, gc.get_objects()
   no longer lists it) and is never collected, even in a cycle. */
static void immortal_gc_object_moves_to_the_permanent_generation(void **state)
{
    (void)state;
    ev_reset();
    pa_runtime *rt = new_runtime();
    pa_type *t = node_type(rt);
    pa_object *o = new_node(t, 1);
    set_a(o, o); /* a self-cycle */
    pa_object_make_immortal(o);
    assert_true(in_gen(rt, 0, o));
    assert_int_equal(pa_gc_get_freeze_count(rt), 0);
    assert_int_equal(collect(rt, 0), 0);
    assert_int_equal(pa_gc_get_freeze_count(rt), 1);
    assert_false(in_gen(rt, -1, o));
    assert_int_equal(pa_gc_is_tracked(o), 1);
    assert_int_equal(collect(rt, 2), 0);
    assert_int_equal(pa_refcnt(o), 0xFFFFFFFF);
    assert_string_equal(ev_string(), "");
    pa_runtime_free(rt);
    assert_string_equal(ev_string(), "");
}

/* ---------------------------------------------------------- runtime, names */

static void object_runtime_and_type_name(void **state)
{
    (void)state;
    pa_runtime *rt = new_runtime();
    pa_runtime *rt2 = new_runtime();
    char name[] = "my.type";
    pa_type_spec spec = {.name = name, .basicsize = sizeof(node)};
    pa_type *t = pa_type_new(rt, &spec);
    assert_non_null(t);
    name[0] = 'X'; /* the name was copied */
    assert_string_equal(pa_type_name(t), "my.type");
    pa_object *o = new_node(t, 1);
    pa_object *l = new_list(rt);
    pa_object *l2 = new_list(rt2);
    pa_object *wr = pa_weakref_new(o, NULL, NULL);
    assert_non_null(wr);
    assert_ptr_equal(pa_object_runtime(o), rt);
    assert_ptr_equal(pa_object_runtime(l), rt);
    assert_ptr_equal(pa_object_runtime(wr), rt);
    assert_ptr_equal(pa_object_runtime(l2), rt2);
    assert_ptr_equal(pa_object_type(o), t);
    assert_string_equal(pa_type_name(pa_object_type(l)), "list");
    assert_string_equal(pa_type_name(pa_object_type(wr)), "weakref");
    assert_ptr_equal(pa_object_type(l), pa_object_type(new_list(rt) /* leaked to runtime_free */));
    assert_ptr_not_equal(pa_object_type(l), pa_object_type(l2)); /* types are per runtime */

    pa_clear_error();
    assert_null(pa_object_runtime(NULL));
    PA_ASSERT_ERROR_MENTIONS("pa_object_runtime");
    pa_clear_error();
    assert_null(pa_type_name(NULL));
    PA_ASSERT_ERROR_MENTIONS("pa_type_name");
    pa_clear_error();
    pa_object_make_immortal(NULL);
    PA_ASSERT_ERROR_MENTIONS("pa_object_make_immortal");

    pa_decref(wr);
    pa_decref(o);
    pa_decref(l);
    pa_decref(l2);
    pa_runtime_free(rt);
    pa_runtime_free(rt2);
}

/* ----------------------------------------------------------------- pa_type_new */

static int dummy_traverse(pa_object *self, pa_visitproc visit, void *arg)
{
    (void)self; (void)visit; (void)arg;
    return 0;
}

/* pa_type_new(rt, spec) must fail with NULL and an error mentioning what. */
static void expect_type_error(pa_runtime *rt, const pa_type_spec *spec, const char *mention)
{
    pa_clear_error();
    pa_type *t = pa_type_new(rt, spec);
    if (t != NULL)
        fail_msg("pa_type_new accepted a spec it should refuse (expected an error about \"%s\")", mention);
    PA_ASSERT_ERROR_MENTIONS("pa_type_new");
    PA_ASSERT_ERROR_MENTIONS(mention);
}

static void type_new_rejects_null_arguments(void **state)
{
    (void)state;
    pa_runtime *rt = new_runtime();
    pa_type_spec ok = {.name = "ok", .basicsize = sizeof(pa_object)};
    expect_type_error(NULL, &ok, "rt");
    expect_type_error(rt, NULL, "spec");
    pa_type_spec noname = {.name = NULL, .basicsize = sizeof(pa_object)};
    expect_type_error(rt, &noname, "name");
    /* The minimal spec is fine. */
    pa_type *t = pa_type_new(rt, &ok);
    assert_non_null(t);
    pa_object *o = pa_object_new(t);
    assert_non_null(o);
    assert_int_equal(pa_gc_is_tracked(o), 0);
    pa_decref(o);
    pa_runtime_free(rt);
}

static void type_new_rejects_basicsize_smaller_than_the_header(void **state)
{
    (void)state;
    pa_runtime *rt = new_runtime();
    pa_type_spec s0 = {.name = "tiny", .basicsize = 0};
    expect_type_error(rt, &s0, "basicsize");
    pa_type_spec s1 = {.name = "tiny", .basicsize = sizeof(pa_object) - 1};
    expect_type_error(rt, &s1, "basicsize");
    /* A variable-sized type needs room for pa_var_object. */
    pa_type_spec s2 = {.name = "tinyvar", .basicsize = sizeof(pa_object), .itemsize = 1};
    expect_type_error(rt, &s2, "basicsize");
    pa_type_spec s3 = {.name = "var", .basicsize = sizeof(pa_var_object), .itemsize = 1};
    assert_non_null(pa_type_new(rt, &s3));
    pa_runtime_free(rt);
}

static void type_new_rejects_gc_without_traverse_or_ref_offsets(void **state)
{
    (void)state;
    pa_runtime *rt = new_runtime();
    pa_type_spec s = {.name = "gc", .basicsize = sizeof(node), .flags = PA_TPFLAGS_HAVE_GC};
    expect_type_error(rt, &s, "traverse");
    /* An empty ref_offsets list says nothing either. */
    static const size_t none[] = {0};
    s.ref_offsets = none;
    expect_type_error(rt, &s, "traverse");
    s.ref_offsets = NULL;
    s.traverse = dummy_traverse;
    assert_non_null(pa_type_new(rt, &s));
    s.traverse = NULL;
    s.ref_offsets = node_offsets;
    assert_non_null(pa_type_new(rt, &s));
    pa_runtime_free(rt);
}

static void type_new_rejects_bad_ref_offsets(void **state)
{
    (void)state;
    pa_runtime *rt = new_runtime();
    pa_type_spec s = {.name = "refs", .basicsize = sizeof(node), .flags = PA_TPFLAGS_HAVE_GC};
    /* inside the header (ob_type) */
    static const size_t in_header[] = {offsetof(pa_object, ob_type), 0};
    s.ref_offsets = in_header;
    expect_type_error(rt, &s, "ref_offsets");
    /* past basicsize, and straddling its end */
    static const size_t past[] = {sizeof(node), 0};
    s.ref_offsets = past;
    expect_type_error(rt, &s, "ref_offsets");
    static const size_t straddle[] = {sizeof(node) - 4, 0};
    s.ref_offsets = straddle;
    expect_type_error(rt, &s, "ref_offsets");
    /* misaligned */
    static const size_t misaligned[] = {offsetof(node, a) + 4, 0};
    s.ref_offsets = misaligned;
    expect_type_error(rt, &s, "ref_offsets");
    /* a bad one after a good one */
    static const size_t second_bad[] = {offsetof(node, a), 1000, 0};
    s.ref_offsets = second_bad;
    expect_type_error(rt, &s, "ref_offsets");
    /* a var type's header is larger: ob_size is not a reference */
    static const size_t var_size[] = {offsetof(pa_var_object, ob_size), 0};
    pa_type_spec v = {.name = "var", .basicsize = sizeof(pa_var_object) + 8, .itemsize = 1,
                      .ref_offsets = var_size};
    expect_type_error(rt, &v, "ref_offsets");
    pa_runtime_free(rt);
}

/* The same field listed twice is an inconsistent spec: the library would
   release it twice at death (and subtract it twice in a collection, which
   the collector reports as a fatal "refcount is too small"). */
static void type_new_rejects_duplicate_ref_offsets(void **state)
{
    (void)state;
    pa_runtime *rt = new_runtime();
    static const size_t twice[] = {offsetof(node, a), offsetof(node, b), offsetof(node, a), 0};
    pa_type_spec s = {.name = "twice", .basicsize = sizeof(node), .flags = PA_TPFLAGS_HAVE_GC,
                      .ref_offsets = twice};
    expect_type_error(rt, &s, "ref_offsets");
    pa_runtime_free(rt);
}

static void type_new_rejects_items_are_refs_with_wrong_itemsize(void **state)
{
    (void)state;
    pa_runtime *rt = new_runtime();
    pa_type_spec s = {.name = "refs", .basicsize = sizeof(pa_var_object),
                      .flags = PA_TPFLAGS_HAVE_GC | PA_TPFLAGS_ITEMS_ARE_REFS};
    s.itemsize = 0;
    expect_type_error(rt, &s, "ITEMS_ARE_REFS");
    s.itemsize = 4;
    expect_type_error(rt, &s, "ITEMS_ARE_REFS");
    s.itemsize = 16;
    expect_type_error(rt, &s, "ITEMS_ARE_REFS");
    /* itemsize == sizeof(pa_object *): accepted, and needs no traverse. */
    s.itemsize = sizeof(pa_object *);
    assert_non_null(pa_type_new(rt, &s));
    /* Unknown flags are refused too. */
    pa_type_spec u = {.name = "flags", .basicsize = sizeof(node), .flags = 1u << 3};
    expect_type_error(rt, &u, "flags");
    pa_runtime_free(rt);
}

/* The spec is copied: changing it (name, offsets) afterwards changes nothing. */
static void type_new_copies_the_spec(void **state)
{
    (void)state;
    ev_reset();
    pa_runtime *rt = new_runtime();
    size_t offsets[] = {offsetof(node, a), 0};
    char name[16] = "copied";
    pa_type_spec spec = {.name = name, .basicsize = sizeof(node), .flags = PA_TPFLAGS_HAVE_GC,
                         .dealloc = node_dealloc, .ref_offsets = offsets};
    pa_type *t = pa_type_new(rt, &spec);
    assert_non_null(t);
    offsets[0] = offsetof(node, b);
    strcpy(name, "changed");
    spec.dealloc = NULL;
    pa_object *o = new_node(t, 1);
    pa_object *child = new_node(t, 2);
    NODE(o)->a = child;
    pa_object *refs[2] = {NULL, NULL};
    assert_int_equal(pa_gc_get_referents(o, refs, 2), 1);
    assert_ptr_equal(refs[0], child);
    pa_decref(refs[0]);
    assert_string_equal(pa_type_name(t), "copied");
    pa_decref(o);
    assert_string_equal(ev_string(), "D1 D2");
    pa_runtime_free(rt);
}

/* ------------------------------------------------------ pa_object_new(_var) */

static void object_new_zeroes_the_object(void **state)
{
    (void)state;
    pa_runtime *rt = new_runtime();
    typedef struct big { PA_OBJECT_HEAD unsigned char bytes[200]; } big;
    pa_type_spec spec = {.name = "big", .basicsize = sizeof(big)};
    pa_type *t = pa_type_new(rt, &spec);
    assert_non_null(t);
    /* Dirty blocks, free them, and allocate again: the memory is reused. */
    for (int round = 0; round < 3; round++) {
        pa_object *objs[64];
        for (int i = 0; i < 64; i++) {
            objs[i] = pa_object_new(t);
            assert_non_null(objs[i]);
            assert_int_equal(pa_refcnt(objs[i]), 1);
            assert_ptr_equal(pa_object_type(objs[i]), t);
            big *b = (big *)objs[i];
            for (size_t k = 0; k < sizeof b->bytes; k++)
                if (b->bytes[k] != 0)
                    fail_msg("round %d object %d: byte %zu is %d, not zero", round, i, k, b->bytes[k]);
            memset(b->bytes, 0xA5, sizeof b->bytes);
        }
        for (int i = 0; i < 64; i++)
            pa_decref(objs[i]);
    }
    pa_runtime_free(rt);
}

typedef struct bytes_obj {
    PA_OBJECT_VAR_HEAD
    unsigned char data[];
} bytes_obj;

static void object_new_var_sets_ob_size_and_zeroes_items(void **state)
{
    (void)state;
    pa_runtime *rt = new_runtime();
    pa_type_spec spec = {.name = "bytes", .basicsize = sizeof(pa_var_object), .itemsize = 3};
    pa_type *t = pa_type_new(rt, &spec);
    assert_non_null(t);
    static const size_t sizes[] = {0, 1, 5, 163, 164, 1000, 100000};
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < countof(sizes); i++) {
            pa_object *o = pa_object_new_var(t, sizes[i]);
            if (o == NULL)
                fail_msg("pa_object_new_var(%zu) = NULL: %s", sizes[i], pa_last_error());
            bytes_obj *b = (bytes_obj *)o;
            assert_int_equal(b->ob_base.ob_size, sizes[i]);
            assert_int_equal(pa_refcnt(o), 1);
            for (size_t k = 0; k < sizes[i] * 3; k++)
                if (b->data[k] != 0)
                    fail_msg("item byte %zu of %zu is not zero", k, sizes[i] * 3);
            memset(b->data, 0xEE, sizes[i] * 3); /* every item byte is writable */
            pa_decref(o);
        }
    }
    /* pa_object_new on a variable-sized type: no items. */
    pa_object *o = pa_object_new(t);
    assert_non_null(o);
    assert_int_equal(((pa_var_object *)o)->ob_size, 0);
    pa_decref(o);
    pa_runtime_free(rt);
}

typedef struct tuple_obj {
    PA_OBJECT_VAR_HEAD
    pa_object *items[];
} tuple_obj;

static void object_new_var_items_are_refs_released_at_death(void **state)
{
    (void)state;
    ev_reset();
    pa_runtime *rt = new_runtime();
    pa_type_spec spec = {.name = "tuple", .basicsize = sizeof(pa_var_object),
                         .itemsize = sizeof(pa_object *),
                         .flags = PA_TPFLAGS_HAVE_GC | PA_TPFLAGS_ITEMS_ARE_REFS};
    pa_type *tt = pa_type_new(rt, &spec);
    assert_non_null(tt);
    pa_type *tn = node_type(rt);
    enum { N = 100 }; /* 16 + 24 + 800 bytes: a large (system allocator) object */
    pa_object *tup = pa_object_new_var(tt, N);
    assert_non_null(tup);
    tuple_obj *tu = (tuple_obj *)tup;
    assert_int_equal(tu->ob_base.ob_size, N);
    for (int i = 0; i < N; i++) {
        assert_null(tu->items[i]);
        if (i % 10 != 3) /* leave some NULL: skipped */
            tu->items[i] = new_node(tn, i);
    }
    pa_object *kept = tu->items[0];
    pa_incref(kept);
    /* traversed by the library */
    assert_int_equal(pa_gc_get_referents(tup, NULL, 0), N - N / 10);
    pa_decref(tup);
    assert_int_equal(ev_count('D'), N - N / 10 - 1);
    assert_int_equal(pa_refcnt(kept), 1);
    pa_decref(kept);
    assert_int_equal(ev_count('D'), N - N / 10);
    pa_runtime_free(rt);
}

static void object_new_var_errors(void **state)
{
    (void)state;
    pa_runtime *rt = new_runtime();
    pa_type_spec fixed = {.name = "fixed", .basicsize = sizeof(node)};
    pa_type *tf = pa_type_new(rt, &fixed);
    assert_non_null(tf);
    pa_clear_error();
    assert_null(pa_object_new_var(tf, 3));
    PA_ASSERT_ERROR_MENTIONS("fixed");
    pa_clear_error();
    assert_null(pa_object_new_var(NULL, 3));
    PA_ASSERT_ERROR_SET();
    pa_clear_error();
    assert_null(pa_object_new(NULL));
    PA_ASSERT_ERROR_SET();
    pa_type_spec var = {.name = "var", .basicsize = sizeof(pa_var_object), .itemsize = 8};
    pa_type *tv = pa_type_new(rt, &var);
    assert_non_null(tv);
    pa_clear_error();
    assert_null(pa_object_new_var(tv, SIZE_MAX / 4));
    PA_ASSERT_ERROR_SET();
    pa_clear_error();
    assert_null(pa_object_new_var(tv, SIZE_MAX));
    PA_ASSERT_ERROR_SET();
    /* still usable */
    pa_object *o = pa_object_new_var(tv, 2);
    assert_non_null(o);
    pa_decref(o);
    pa_runtime_free(rt);
}

/* -------------------------------------------------------------- ref_offsets */

static void ref_offsets_fields_are_traversed_in_order(void **state)
{
    (void)state;
    pa_runtime *rt = new_runtime();
    pa_type *t = node_type(rt);
    pa_object *o = new_node(t, 1);
    pa_object *x = new_node(t, 2), *y = new_node(t, 3);
    set_a(o, x);
    set_b(o, y);
    pa_object *refs[4] = {NULL};
    assert_int_equal(pa_gc_get_referents(o, refs, 4), 2);
    assert_ptr_equal(refs[0], x);
    assert_ptr_equal(refs[1], y);
    assert_int_equal(pa_refcnt(x), 3); /* ours, o's, the new reference */
    pa_decref(refs[0]);
    pa_decref(refs[1]);
    /* NULL fields are skipped */
    pa_clear(&NODE(o)->a);
    assert_int_equal(pa_gc_get_referents(o, refs, 4), 1);
    assert_ptr_equal(refs[0], y);
    pa_decref(refs[0]);
    pa_decref(x);
    pa_decref(y);
    pa_decref(o);
    pa_runtime_free(rt);
}

/* At death by count: the type's dealloc first (the fields still set), then the
   library releases the fields: the children die after their parent's dealloc. */
static bool g_fields_set_in_dealloc;
static void check_fields_dealloc(pa_object *o)
{
    g_fields_set_in_dealloc = NODE(o)->a != NULL && NODE(o)->b != NULL;
    ev_add('D', NODE(o)->id);
}

static void ref_offsets_fields_are_released_at_death_after_dealloc(void **state)
{
    (void)state;
    ev_reset();
    pa_runtime *rt = new_runtime();
    pa_type_spec spec = {.name = "parent", .basicsize = sizeof(node), .flags = PA_TPFLAGS_HAVE_GC,
                         .dealloc = check_fields_dealloc, .ref_offsets = node_offsets};
    pa_type *tp = pa_type_new(rt, &spec);
    assert_non_null(tp);
    pa_type *tn = node_type(rt);
    pa_object *p = new_node(tp, 1);
    NODE(p)->a = new_node(tn, 2);
    NODE(p)->b = new_node(tn, 3);
    pa_object *grandchild = new_node(tn, 4);
    set_a(NODE(p)->a, grandchild);
    pa_decref(grandchild);
    g_fields_set_in_dealloc = false;
    pa_decref(p);
    assert_true(g_fields_set_in_dealloc);
    assert_string_equal(ev_string(), "D1 D2 D4 D3");
    assert_int_equal(gen_size(rt, -1), 0);
    pa_runtime_free(rt);
}

/* In a cycle: the collector clears the fields (its tp_clear), so the dealloc
   that follows sees them NULL; what the cleared fields held is released
   during the clear, before the cleared object's own dealloc.  x is a
   self-cycle (x.b = x) that also holds y (x.a = y); y is unreachable too,
   but it dies by count when x.a is cleared, with its own field intact. */
static void log_fields_dealloc(pa_object *o)
{
    ev_add('D', NODE(o)->id);
    ev_add('n', NODE(o)->a == NULL && NODE(o)->b == NULL);
}

static void ref_offsets_fields_are_cleared_by_the_collector(void **state)
{
    (void)state;
    ev_reset();
    pa_runtime *rt = new_runtime();
    pa_type_spec spec = {.name = "cyc", .basicsize = sizeof(node), .flags = PA_TPFLAGS_HAVE_GC,
                         .dealloc = log_fields_dealloc, .ref_offsets = node_offsets};
    pa_type *t = pa_type_new(rt, &spec);
    assert_non_null(t);
    pa_object *x = new_node(t, 1), *y = new_node(t, 2), *z = new_node(t, 3);
    set_a(x, y);
    set_b(x, x);
    set_b(y, z); /* y's own reference, released after y's dealloc */
    pa_decref(x);
    pa_decref(y);
    pa_decref(z);
    assert_string_equal(ev_string(), "");
    assert_int_equal(collect(rt, 2), 3);
    assert_string_equal(ev_string(), "D2 n0 D3 n1 D1 n1");
    assert_int_equal(gen_size(rt, -1), 0);
    pa_runtime_free(rt);
}

/* ref_offsets plus a C traverse: the traverse visits the references the
   offsets do not describe, and both kinds are seen by the collector. */
typedef struct mixed {
    PA_OBJECT_HEAD
    pa_object *field;     /* in ref_offsets */
    pa_object *hidden;    /* visited by the C traverse, released by dealloc */
    intptr_t id;
} mixed;
static const size_t mixed_offsets[] = {offsetof(mixed, field), 0};

static int mixed_traverse(pa_object *self, pa_visitproc visit, void *arg)
{
    mixed *m = (mixed *)self;
    if (m->hidden != NULL) {
        int r = visit(m->hidden, arg);
        if (r != 0)
            return r;
    }
    return 0;
}
static int mixed_clear(pa_object *self)
{
    pa_clear(&((mixed *)self)->hidden);
    return 0;
}
static void mixed_dealloc(pa_object *self)
{
    ev_add('M', ((mixed *)self)->id);
    pa_clear(&((mixed *)self)->hidden);
}

static void traverse_alongside_ref_offsets_visits_the_other_references(void **state)
{
    (void)state;
    ev_reset();
    pa_runtime *rt = new_runtime();
    pa_type_spec spec = {.name = "mixed", .basicsize = sizeof(mixed), .flags = PA_TPFLAGS_HAVE_GC,
                         .traverse = mixed_traverse, .clear = mixed_clear, .dealloc = mixed_dealloc,
                         .ref_offsets = mixed_offsets};
    pa_type *t = pa_type_new(rt, &spec);
    assert_non_null(t);
    pa_type *tn = node_type(rt);
    pa_object *m = pa_object_new(t);
    assert_non_null(m);
    ((mixed *)m)->id = 1;
    pa_object *f = new_node(tn, 2), *h = new_node(tn, 3);
    ((mixed *)m)->field = f;
    ((mixed *)m)->hidden = h;
    pa_object *refs[3] = {NULL};
    assert_int_equal(pa_gc_get_referents(m, refs, 3), 2);
    assert_true((refs[0] == f && refs[1] == h) || (refs[0] == h && refs[1] == f));
    pa_decref(refs[0]);
    pa_decref(refs[1]);
    /* Both references close cycles: m -> f -> m and m -> h -> m. */
    set_a(f, m);
    set_a(h, m);
    pa_decref(m);
    assert_int_equal(collect(rt, 2), 3);
    assert_int_equal(ev_count('M'), 1);
    assert_int_equal(ev_count('D'), 2);
    assert_int_equal(gen_size(rt, -1), 0);
    pa_runtime_free(rt);
}

/* ------------------------------------------------------------ deep chains */

enum { CHAIN = 10 * 1000 * 1000 };

/* l = []; for i in range(10_000_000): l = [l]; del l  -- no stack overflow. */
static void deep_list_chain_of_10_million_is_released_by_one_decref(void **state)
{
    (void)state;
    pa_runtime *rt = new_runtime();
    pa_object *top = new_list(rt);
    for (int i = 1; i < CHAIN; i++) {
        pa_object *l = pa_list_new(rt);
        if (l == NULL)
            fail_msg("pa_list_new failed at %d: %s", i, pa_last_error());
        append(l, top);
        pa_decref(top);
        top = l;
    }
    assert_int_equal(gen_size(rt, -1), CHAIN);
    pa_decref(top);
    assert_int_equal(gen_size(rt, -1), 0);
    /* The runtime still works. */
    pa_object *a = new_list(rt), *b = new_list(rt);
    append(a, b);
    append(b, a);
    pa_decref(a);
    pa_decref(b);
    assert_int_equal(collect(rt, 2), 2);
    pa_runtime_free(rt);
}

static size_t g_chain_deallocs;
static void count_dealloc(pa_object *o)
{
    (void)o;
    g_chain_deallocs++;
}

static void deep_node_chain_of_10_million_is_released_by_one_decref(void **state)
{
    (void)state;
    pa_runtime *rt = new_runtime();
    static const size_t one[] = {offsetof(node, a), 0};
    pa_type_spec spec = {.name = "link", .basicsize = sizeof(node), .flags = PA_TPFLAGS_HAVE_GC,
                         .dealloc = count_dealloc, .ref_offsets = one};
    pa_type *t = pa_type_new(rt, &spec);
    assert_non_null(t);
    pa_object *top = NULL;
    for (int i = 0; i < CHAIN; i++) {
        pa_object *n = pa_object_new(t);
        if (n == NULL)
            fail_msg("pa_object_new failed at %d: %s", i, pa_last_error());
        NODE(n)->a = top; /* steals */
        top = n;
    }
    g_chain_deallocs = 0;
    pa_decref(top);
    assert_int_equal(g_chain_deallocs, CHAIN);
    assert_int_equal(gen_size(rt, -1), 0);
    pa_runtime_free(rt);
}

/* ---------------------------------------------- followed deaths (plain types) */

/* A type with neither finaliser nor dealloc, whose references are all in ref_offsets
   or items, dies "plainly", and the library follows a chain of such deaths in a loop
   rather than nesting calls (Lifecycle.DestroyFollowing).  The cases below check that
   a plain chain of any length is released, and that everything observable happens
   exactly as with nested deaths: each is run twice, once with plain types and once
   with the same types given a dealloc that does nothing (which makes every death take
   the general, nested path), and the two trails must be identical. */

typedef struct vnode {
    PA_OBJECT_HEAD
    intptr_t ob_size;
    pa_object *items[];
} vnode;

static void noop_dealloc(pa_object *o) { (void)o; }

static pa_type *plain_node_type(pa_runtime *rt, const char *name, bool plain)
{
    pa_type_spec spec = {.name = name, .basicsize = sizeof(node), .flags = PA_TPFLAGS_HAVE_GC,
                         .dealloc = plain ? NULL : noop_dealloc, .ref_offsets = node_offsets};
    pa_type *t = pa_type_new(rt, &spec);
    assert_non_null(t);
    return t;
}

static pa_type *plain_items_type(pa_runtime *rt, bool plain)
{
    pa_type_spec spec = {.name = "vnode", .basicsize = sizeof(vnode), .itemsize = sizeof(pa_object *),
                         .flags = PA_TPFLAGS_HAVE_GC | PA_TPFLAGS_ITEMS_ARE_REFS,
                         .dealloc = plain ? NULL : noop_dealloc};
    pa_type *t = pa_type_new(rt, &spec);
    assert_non_null(t);
    return t;
}

/* Live objects of t in rt (pa_count_objects_by_type). */
static size_t live_of(pa_runtime *rt, pa_type *t)
{
    pa_type_count rows[16];
    size_t n = pa_count_objects_by_type(rt, rows, countof(rows));
    assert_true(n <= countof(rows));
    for (size_t i = 0; i < n; i++)
        if (rows[i].type == t)
            return rows[i].count;
    return 0;
}

/* The trail: what each watched finaliser saw. */
static char g_trail[1 << 16];
static size_t g_trail_len;
static pa_type *g_watched_types[2];

/* A watched node's PEP 442 finaliser: its id, the live objects of the two watched
   types and generation 0's count, as they are at that moment of the deaths. */
static void watch_finalize(pa_object *o)
{
    pa_runtime *rt = pa_object_runtime(o);
    intptr_t count[3];
    pa_gc_get_count(rt, count);
    size_t live0 = g_watched_types[0] ? live_of(rt, g_watched_types[0]) : 0;
    size_t live1 = g_watched_types[1] ? live_of(rt, g_watched_types[1]) : 0;
    g_trail_len += (size_t)snprintf(g_trail + g_trail_len, sizeof g_trail - g_trail_len, "F%ld:%zu:%zu:%ld ",
                                    (long)NODE(o)->id, live0, live1, (long)count[0]);
    assert_true(g_trail_len < sizeof g_trail - 64);
}

static pa_type *watch_type(pa_runtime *rt)
{
    pa_type_spec spec = {.name = "watch", .basicsize = sizeof(node), .flags = PA_TPFLAGS_HAVE_GC,
                         .finalize = watch_finalize, .ref_offsets = node_offsets};
    pa_type *t = pa_type_new(rt, &spec);
    assert_non_null(t);
    return t;
}

/* Scenario 1: a chain of 130 links (three trashcan depths), every 7th one watched,
   released by one decref. */
static void chain_with_watches(bool plain)
{
    pa_runtime *rt = new_runtime();
    pa_gc_disable(rt);
    pa_type *link = plain_node_type(rt, "link", plain), *watch = watch_type(rt);
    g_watched_types[0] = link;
    g_watched_types[1] = NULL;
    pa_object *top = NULL;
    for (int i = 130; i > 0; i--) {
        pa_object *n = new_node(i % 7 == 0 ? watch : link, i);
        NODE(n)->a = top; /* steals */
        top = n;
    }
    pa_decref(top);
    assert_int_equal(gen_size(rt, -1), 0);
    assert_int_equal(live_of(rt, link), 0);
    pa_runtime_free(rt);
}

/* Scenario 2: reference items.  Each vnode holds watched nodes (and NULLs) as items;
   the last non-NULL item's death may be followed, the others nest. */
static void items_with_watches(bool plain)
{
    static const int layouts[][3] = {{1, 0, 2}, {1, 2, 0}, {0, 0, 1}, {1, 2, 3}};
    pa_runtime *rt = new_runtime();
    pa_gc_disable(rt);
    pa_type *v = plain_items_type(rt, plain), *watch = watch_type(rt);
    g_watched_types[0] = v;
    g_watched_types[1] = watch;
    for (size_t k = 0; k < countof(layouts); k++) {
        pa_object *o = pa_object_new_var(v, 3);
        assert_non_null(o);
        for (int i = 0; i < 3; i++)
            ((vnode *)o)->items[i] = layouts[k][i] ? new_node(watch, (intptr_t)(10 * k) + layouts[k][i]) : NULL;
        pa_decref(o);
    }
    assert_int_equal(gen_size(rt, -1), 0);
    pa_runtime_free(rt);
}

/* Scenario 3: both fields of a node die; a links on, b ends; the plain parents'
   memory must outlive the whole of both deaths. */
static void two_fields_with_watches(bool plain)
{
    pa_runtime *rt = new_runtime();
    pa_gc_disable(rt);
    pa_type *link = plain_node_type(rt, "link", plain), *watch = watch_type(rt);
    g_watched_types[0] = link;
    g_watched_types[1] = watch;
    pa_object *top = NULL;
    for (int i = 20; i > 0; i--) {
        pa_object *n = new_node(link, i);
        NODE(n)->a = top;                              /* steals */
        NODE(n)->b = i % 3 ? new_node(watch, 100 + i) : NULL;
        top = n;
    }
    pa_decref(top);
    assert_int_equal(gen_size(rt, -1), 0);
    pa_runtime_free(rt);
}

static void expect_same_trail_plain_or_nested(void (*scenario)(bool), const char *what)
{
    g_trail_len = 0;
    g_trail[0] = '\0';
    scenario(false);
    char *nested = strdup(g_trail);
    assert_non_null(nested);
    assert_true(strlen(nested) > 0);
    g_trail_len = 0;
    g_trail[0] = '\0';
    scenario(true);
    if (strcmp(nested, g_trail) != 0)
        fail_msg("%s: followed deaths differ from nested ones\n nested: %s\n plain:  %s", what, nested, g_trail);
    free(nested);
}

static void followed_deaths_keep_the_nested_order_through_the_trashcan(void **state)
{
    (void)state;
    expect_same_trail_plain_or_nested(chain_with_watches, "a chain of 130 with watched links");
}

static void followed_deaths_of_reference_items_keep_the_nested_order(void **state)
{
    (void)state;
    expect_same_trail_plain_or_nested(items_with_watches, "reference items");
}

static void followed_deaths_of_two_fields_keep_the_nested_order(void **state)
{
    (void)state;
    expect_same_trail_plain_or_nested(two_fields_with_watches, "two dying fields per node");
}

/* The benchmark's chain: plain nodes, 10,000,000 of them, one decref. */
static void deep_plain_node_chain_of_10_million_is_released_by_one_decref(void **state)
{
    (void)state;
    pa_runtime *rt = new_runtime();
    pa_type *t = plain_node_type(rt, "link", true);
    pa_object *top = NULL;
    for (int i = 0; i < CHAIN; i++) {
        pa_object *n = pa_object_new(t);
        if (n == NULL)
            fail_msg("pa_object_new failed at %d: %s", i, pa_last_error());
        NODE(n)->a = top; /* steals */
        top = n;
    }
    assert_int_equal(live_of(rt, t), CHAIN);
    pa_decref(top);
    assert_int_equal(live_of(rt, t), 0);
    assert_int_equal(gen_size(rt, -1), 0);
    intptr_t count[3];
    pa_gc_get_count(rt, count);
    assert_int_equal(count[0], 0);
    /* The runtime still works, its trashcan too. */
    pa_object *a = new_node(t, 1), *b = new_node(t, 2);
    set_a(a, b);
    set_a(b, a);
    pa_decref(a);
    pa_decref(b);
    assert_int_equal(collect(rt, 2), 2);
    pa_runtime_free(rt);
}

/* A plain node of one runtime holding the only reference to a chain of another's:
   that chain dies in its own runtime, whose counts and trashcan stay right. */
static void a_death_in_another_runtime_is_not_followed_across(void **state)
{
    (void)state;
    pa_runtime *rt1 = new_runtime(), *rt2 = new_runtime();
    pa_type *t1 = plain_node_type(rt1, "link1", true), *t2 = plain_node_type(rt2, "link2", true);
    pa_object *top2 = NULL;
    for (int i = 0; i < 1000; i++) {
        pa_object *n = new_node(t2, i);
        NODE(n)->a = top2; /* steals */
        top2 = n;
    }
    pa_object *holder = new_node(t1, 0);
    NODE(holder)->a = top2; /* steals */
    pa_decref(holder);
    assert_int_equal(live_of(rt1, t1), 0);
    assert_int_equal(live_of(rt2, t2), 0);
    assert_int_equal(gen_size(rt1, -1), 0);
    assert_int_equal(gen_size(rt2, -1), 0);
    /* Both trashcans are back at rest: a deep chain in each is released again. */
    pa_runtime *rts[2] = {rt1, rt2};
    pa_type *ts[2] = {t1, t2};
    for (int r = 0; r < 2; r++) {
        pa_object *top = NULL;
        for (int i = 0; i < 100000; i++) {
            pa_object *n = new_node(ts[r], i);
            NODE(n)->a = top;
            top = n;
        }
        pa_decref(top);
        assert_int_equal(live_of(rts[r], ts[r]), 0);
    }
    pa_runtime_free(rt1);
    pa_runtime_free(rt2);
}

/* ---------------------------------------------------------------- PA_DEBUG */

/* In a PA_DEBUG build, pa_decref of an object whose count is already zero
   calls pa__refcnt_error, which reports and aborts.  The child (the
   PA_DEBUG build of this file) does the bad release; the parent checks that
   the child died abnormally after naming the problem and the type. */
static void debug_build_aborts_on_a_release_past_zero(void **state)
{
    (void)state;
    child_result r = run_child(PA_DEBUG_EXE, "--child", "negative", NULL);
    if (WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0)
        fail_msg("the PA_DEBUG child exited normally; stdout:\n%s\nstderr:\n%s", r.out, r.err);
    ASSERT_CONTAINS(r.out, "about to release past zero");
    ASSERT_NOT_CONTAINS(r.out, "survived");
    ASSERT_CONTAINS(r.err, "negative reference count");
    ASSERT_CONTAINS(r.err, "debug_probe");
    child_result_free(&r);

    /* The same child, releasing correctly, exits normally. */
    r = run_child(PA_DEBUG_EXE, "--child", "balanced", NULL);
    if (!WIFEXITED(r.status) || WEXITSTATUS(r.status) != 0)
        fail_msg("the balanced PA_DEBUG child failed; stdout:\n%s\nstderr:\n%s", r.out, r.err);
    ASSERT_CONTAINS(r.out, "balanced ok");
    child_result_free(&r);
}

static int child_main(const char *what)
{
    pa_runtime *rt = pa_runtime_new();
    pa_type_spec spec = {.name = "debug_probe", .basicsize = sizeof(node)};
    pa_type *t = pa_type_new(rt, &spec);
    pa_object *o = pa_object_new(t);
    if (strcmp(what, "balanced") == 0) {
        pa_incref(o);
        pa_decref(o);
        pa_decref(o);
        pa_runtime_free(rt);
        printf("balanced ok\n");
        return 0;
    }
#ifdef PA_DEBUG
    /* What an extra release somewhere else would leave: a live object with
       count 0 (set directly, so that the memory stays valid).  The next
       release goes past zero. */
    o->ob_refcnt = 0;
    printf("about to release past zero\n");
    fflush(stdout);
    pa_decref(o);
    printf("survived\n");
    return 0;
#else
    (void)o;
    printf("not a PA_DEBUG build\n");
    return 3;
#endif
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--child") == 0)
        return child_main(argv[2]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(article_part1_counts_1_2_3_2_1),
        cmocka_unit_test(xincref_and_xdecref_accept_null),
        cmocka_unit_test(setref_stores_the_new_value_before_releasing_the_old),
        cmocka_unit_test(clear_nulls_the_slot_before_releasing_the_old_value),
        cmocka_unit_test(dealloc_runs_immediately_when_the_count_reaches_zero),
        cmocka_unit_test(death_runs_finalizer_weakrefs_legacy_del_dealloc_in_order),
        cmocka_unit_test(immortal_counts_never_change_and_it_is_never_freed),
        cmocka_unit_test(immortal_gc_object_moves_to_the_permanent_generation),
        cmocka_unit_test(object_runtime_and_type_name),
        cmocka_unit_test(type_new_rejects_null_arguments),
        cmocka_unit_test(type_new_rejects_basicsize_smaller_than_the_header),
        cmocka_unit_test(type_new_rejects_gc_without_traverse_or_ref_offsets),
        cmocka_unit_test(type_new_rejects_bad_ref_offsets),
        cmocka_unit_test(type_new_rejects_duplicate_ref_offsets),
        cmocka_unit_test(type_new_rejects_items_are_refs_with_wrong_itemsize),
        cmocka_unit_test(type_new_copies_the_spec),
        cmocka_unit_test(object_new_zeroes_the_object),
        cmocka_unit_test(object_new_var_sets_ob_size_and_zeroes_items),
        cmocka_unit_test(object_new_var_items_are_refs_released_at_death),
        cmocka_unit_test(object_new_var_errors),
        cmocka_unit_test(ref_offsets_fields_are_traversed_in_order),
        cmocka_unit_test(ref_offsets_fields_are_released_at_death_after_dealloc),
        cmocka_unit_test(ref_offsets_fields_are_cleared_by_the_collector),
        cmocka_unit_test(traverse_alongside_ref_offsets_visits_the_other_references),
        cmocka_unit_test(deep_list_chain_of_10_million_is_released_by_one_decref),
        cmocka_unit_test(deep_node_chain_of_10_million_is_released_by_one_decref),
        cmocka_unit_test(followed_deaths_keep_the_nested_order_through_the_trashcan),
        cmocka_unit_test(followed_deaths_of_reference_items_keep_the_nested_order),
        cmocka_unit_test(followed_deaths_of_two_fields_keep_the_nested_order),
        cmocka_unit_test(deep_plain_node_chain_of_10_million_is_released_by_one_decref),
        cmocka_unit_test(a_death_in_another_runtime_is_not_followed_across),
        cmocka_unit_test(debug_build_aborts_on_a_release_past_zero),
    };
    return PA_RUN_TESTS(tests, argc, argv);
}
