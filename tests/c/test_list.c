/* test_list.c -- the built-in list (section 6 of pyalloc.h):

   - pa_list_new / append / get / set / size / clear / check, and their
     errors (NULL list or item, an object that is not a list, an index out
     of range), each with a pa_last_error() message;
   - the list's own references: append increfs, get borrows, set takes a
     reference and drops the old one (also when the item is set to itself),
     clear releases every item;
   - items are released last first, as CPython's list_dealloc and
     _list_clear (a type whose dealloc logs ids shows the order);
   - growth keeps the items; a list is a tracked GC object whose items are
     its referents (last first, as list_traverse), and a list containing
     itself is a cycle the collector frees. */
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

/* ------------------------------------------------------------------ basics */

static void new_list_is_empty_tracked_and_a_list(void **state)
{
    (void)state;
    pa_object *l = pa_list_new(g_rt);
    assert_non_null(l);
    assert_int_equal(pa_refcnt(l), 1);
    assert_int_equal(pa_list_size(l), 0);
    assert_int_equal(pa_list_check(l), 1);
    assert_int_equal(pa_gc_is_tracked(l), 1);
    assert_string_equal(pa_type_name(pa_object_type(l)), "list");
    ASSERT_COUNT(g_rt, 1, 0, 0); /* a GC allocation */
    pa_object *n = new_node(g_node, 1);
    assert_int_equal(pa_list_check(n), 0);
    assert_int_equal(pa_list_check(NULL), 0);
    pa_object *wr = pa_weakref_new(l, NULL, NULL);
    assert_int_equal(pa_list_check(wr), 0);
    pa_decref(wr);
    pa_decref(n);
    pa_decref(l);
    ASSERT_COUNT(g_rt, 0, 0, 0);

    pa_clear_error();
    assert_null(pa_list_new(NULL));
    PA_ASSERT_ERROR_MENTIONS("pa_list_new");
}

static void append_get_size_in_order(void **state)
{
    (void)state;
    enum { N = 1000 };
    pa_object *items[N];
    pa_object *l = new_list(g_rt);
    for (int i = 0; i < N; i++) {
        items[i] = new_node(g_node, i);
        assert_int_equal(pa_list_append(l, items[i]), 0);
        assert_int_equal(pa_list_size(l), (size_t)i + 1);
        /* growth keeps what was there */
        assert_ptr_equal(pa_list_get(l, 0), items[0]);
        assert_ptr_equal(pa_list_get(l, (size_t)i), items[i]);
    }
    for (int i = 0; i < N; i++) {
        pa_object *got = pa_list_get(l, (size_t)i);
        assert_ptr_equal(got, items[i]);
        assert_int_equal(pa_refcnt(got), 2); /* ours and the list's: get borrows */
    }
    for (int i = 0; i < N; i++)
        pa_decref(items[i]);
    assert_string_equal(ev_string(), "");
    pa_decref(l);
    assert_int_equal(ev_count('D'), N);
}

static void the_same_item_can_be_appended_many_times(void **state)
{
    (void)state;
    pa_object *l = new_list(g_rt);
    pa_object *x = new_node(g_node, 1);
    for (int i = 0; i < 10; i++)
        append(l, x);
    assert_int_equal(pa_refcnt(x), 11);
    assert_int_equal(pa_list_size(l), 10);
    pa_decref(x);
    pa_decref(l);
    assert_string_equal(ev_string(), "D1");
}

/* --------------------------------------------------------------- references */

static void append_takes_its_own_reference(void **state)
{
    (void)state;
    pa_object *l = new_list(g_rt);
    pa_object *x = new_node(g_node, 1);
    assert_int_equal(pa_refcnt(x), 1);
    append(l, x);
    assert_int_equal(pa_refcnt(x), 2);
    pa_decref(x); /* the list keeps it alive */
    assert_int_equal(pa_refcnt(x), 1);
    assert_string_equal(ev_string(), "");
    assert_ptr_equal(pa_list_get(l, 0), x);
    pa_decref(l);
    assert_string_equal(ev_string(), "D1");
}

static void set_takes_the_new_item_and_drops_the_old_one(void **state)
{
    (void)state;
    pa_object *l = new_list(g_rt);
    pa_object *a = new_node(g_node, 1), *b = new_node(g_node, 2), *c = new_node(g_node, 3);
    append(l, a);
    append(l, b);
    pa_decref(a); /* the list holds the only reference to a */
    assert_int_equal(pa_list_set(l, 0, c), 0);
    assert_string_equal(ev_string(), "D1"); /* the old item released now */
    assert_ptr_equal(pa_list_get(l, 0), c);
    assert_int_equal(pa_refcnt(c), 2);
    assert_int_equal(pa_list_size(l), 2);
    /* Setting an item to itself keeps it alive (incref before decref). */
    assert_int_equal(pa_list_set(l, 1, b), 0);
    assert_int_equal(pa_refcnt(b), 2);
    pa_decref(b);
    assert_int_equal(pa_list_set(l, 1, pa_list_get(l, 1)), 0);
    assert_int_equal(pa_refcnt(b), 1);
    assert_string_equal(ev_string(), "D1");
    /* Replacing an item kept elsewhere only drops the list's reference. */
    pa_incref(c);
    assert_int_equal(pa_list_set(l, 0, b), 0);
    assert_int_equal(pa_refcnt(c), 2);
    assert_int_equal(pa_refcnt(b), 2);
    pa_decref(c);
    pa_decref(c);
    assert_string_equal(ev_string(), "D1 D3");
    pa_decref(l);
    assert_string_equal(ev_string(), "D1 D3 D2");
}

static void clear_releases_every_item_last_first(void **state)
{
    (void)state;
    pa_object *l = new_list(g_rt);
    for (int i = 1; i <= 5; i++) {
        pa_object *x = new_node(g_node, i);
        append(l, x);
        pa_decref(x);
    }
    pa_object *kept = pa_list_get(l, 2);
    pa_incref(kept);
    assert_int_equal(pa_list_clear(l), 0);
    assert_int_equal(pa_list_size(l), 0);
    assert_string_equal(ev_string(), "D5 D4 D2 D1");
    assert_int_equal(pa_refcnt(kept), 1);
    /* An emptied list is usable, and clearing an empty list is fine. */
    assert_int_equal(pa_list_clear(l), 0);
    append(l, kept);
    assert_int_equal(pa_list_size(l), 1);
    pa_decref(kept);
    pa_decref(l);
    assert_string_equal(ev_string(), "D5 D4 D2 D1 D3");
}

/* CPython's list_dealloc: `i = Py_SIZE(op); while (--i >= 0) Py_XDECREF(op->ob_item[i]);`
   Mirrors: l = [A(0), A(1), A(2), A(3)]; del l  ->  __del__ order 3, 2, 1, 0. */
static void items_are_released_last_first_when_the_list_dies(void **state)
{
    (void)state;
    pa_object *l = new_list(g_rt);
    for (int i = 0; i < 4; i++) {
        pa_object *x = new_node(g_node, i);
        append(l, x);
        pa_decref(x);
    }
    pa_decref(l);
    assert_string_equal(ev_string(), "D3 D2 D1 D0");
}

/* A chain of nested lists, each [next list, node i], released by one decref:
   each list releases node i, then the next list, whose death (followed
   without nesting calls, Lifecycle's DestroyFollowing) comes before the list's
   own memory goes back, so the nodes die in CPython's nested order; a chain
   of 200,000 needs no deep stack. */
static pa_object *list_chain(int n, int first_id)
{
    pa_object *head = NULL;
    for (int i = n - 1; i >= 0; i--) {
        pa_object *l = new_list(g_rt), *x = new_node(g_node, first_id + i);
        if (head != NULL) {
            append(l, head);
            pa_decref(head);
        }
        append(l, x);
        pa_decref(x);
        head = l;
    }
    return head;
}

static void a_chain_of_nested_lists_dies_in_nested_order(void **state)
{
    (void)state;
    pa_gc_disable(g_rt);
    pa_decref(list_chain(5, 0));
    assert_string_equal(ev_string(), "D0 D1 D2 D3 D4");
    ev_reset();
    intptr_t before[3];
    pa_gc_get_count(g_rt, before);
    pa_object *big = list_chain(200000, 0);
    pa_decref(big);
    assert_int_equal(ev_total, 200000);
    assert_memory_equal(ev_string(), "D0 D1 D2 D3 D4 D5 D6 D7 D8 D9 D10 ", 34);
    intptr_t after[3];
    pa_gc_get_count(g_rt, after);
    assert_int_equal(after[0], before[0]);   /* every list and node freed */
}

/* While the list releases its items, it is already empty: a dying item that
   looks at the list (here through a global) sees size 0 (CPython's _list_clear
   empties the list before releasing anything). */
static pa_object *g_watched_list;
static void peek_dealloc(pa_object *o)
{
    ev_add('D', NODE(o)->id);
    ev_add('s', (intptr_t)pa_list_size(g_watched_list));
}

static void clear_empties_the_list_before_releasing_items(void **state)
{
    (void)state;
    pa_type_spec spec = {.name = "peek", .basicsize = sizeof(node), .dealloc = peek_dealloc};
    pa_type *t = pa_type_new(g_rt, &spec);
    assert_non_null(t);
    pa_object *l = new_list(g_rt);
    g_watched_list = l;
    for (int i = 1; i <= 3; i++) {
        pa_object *x = new_node(t, i);
        append(l, x);
        pa_decref(x);
    }
    assert_int_equal(pa_list_clear(l), 0);
    assert_string_equal(ev_string(), "D3 s0 D2 s0 D1 s0");
    pa_decref(l);
}

/* ------------------------------------------------------------------- errors */

static void errors_null_list_or_item(void **state)
{
    (void)state;
    pa_object *l = new_list(g_rt);
    pa_object *x = new_node(g_node, 1);
    append(l, x);

    pa_clear_error();
    assert_int_equal(pa_list_append(NULL, x), -1);
    PA_ASSERT_ERROR_MENTIONS("pa_list_append");
    pa_clear_error();
    assert_int_equal(pa_list_append(l, NULL), -1);
    PA_ASSERT_ERROR_MENTIONS("item");
    pa_clear_error();
    assert_null(pa_list_get(NULL, 0));
    PA_ASSERT_ERROR_MENTIONS("pa_list_get");
    pa_clear_error();
    assert_int_equal(pa_list_set(NULL, 0, x), -1);
    PA_ASSERT_ERROR_MENTIONS("pa_list_set");
    pa_clear_error();
    assert_int_equal(pa_list_set(l, 0, NULL), -1);
    PA_ASSERT_ERROR_MENTIONS("item");
    pa_clear_error();
    assert_int_equal(pa_list_size(NULL), PA_SIZE_ERROR);
    PA_ASSERT_ERROR_MENTIONS("pa_list_size");
    pa_clear_error();
    assert_int_equal(pa_list_clear(NULL), -1);
    PA_ASSERT_ERROR_MENTIONS("pa_list_clear");

    /* Nothing changed. */
    assert_int_equal(pa_list_size(l), 1);
    assert_ptr_equal(pa_list_get(l, 0), x);
    assert_int_equal(pa_refcnt(x), 2);
    pa_decref(x);
    pa_decref(l);
    assert_string_equal(ev_string(), "D1");
}

static void errors_not_a_list(void **state)
{
    (void)state;
    pa_object *n = new_node(g_node, 1);
    pa_object *x = new_node(g_node, 2);
    pa_clear_error();
    assert_int_equal(pa_list_append(n, x), -1);
    PA_ASSERT_ERROR_MENTIONS("node"); /* names the type it got */
    pa_clear_error();
    assert_null(pa_list_get(n, 0));
    PA_ASSERT_ERROR_SET();
    pa_clear_error();
    assert_int_equal(pa_list_set(n, 0, x), -1);
    PA_ASSERT_ERROR_SET();
    pa_clear_error();
    assert_int_equal(pa_list_size(n), PA_SIZE_ERROR);
    PA_ASSERT_ERROR_SET();
    pa_clear_error();
    assert_int_equal(pa_list_clear(n), -1);
    PA_ASSERT_ERROR_SET();
    /* The node's fields are untouched and x's count unchanged. */
    assert_null(NODE(n)->a);
    assert_null(NODE(n)->b);
    assert_int_equal(pa_refcnt(x), 1);
    pa_decref(x);
    pa_decref(n);
    assert_string_equal(ev_string(), "D2 D1");
}

static void errors_index_out_of_range(void **state)
{
    (void)state;
    pa_object *l = new_list(g_rt);
    pa_object *x = new_node(g_node, 1);
    pa_clear_error();
    assert_null(pa_list_get(l, 0)); /* empty */
    PA_ASSERT_ERROR_MENTIONS("range");
    append(l, x);
    append(l, x);
    pa_clear_error();
    assert_null(pa_list_get(l, 2));
    PA_ASSERT_ERROR_MENTIONS("range");
    pa_clear_error();
    assert_null(pa_list_get(l, SIZE_MAX)); /* not -1 as a Python index */
    PA_ASSERT_ERROR_MENTIONS("range");
    pa_object *y = new_node(g_node, 2);
    pa_clear_error();
    assert_int_equal(pa_list_set(l, 2, y), -1);
    PA_ASSERT_ERROR_MENTIONS("range");
    pa_clear_error();
    assert_int_equal(pa_list_set(l, SIZE_MAX, y), -1);
    PA_ASSERT_ERROR_MENTIONS("range");
    assert_int_equal(pa_refcnt(y), 1); /* a failed set takes no reference */
    assert_int_equal(pa_refcnt(x), 3);
    assert_int_equal(pa_list_size(l), 2);
    pa_decref(y);
    pa_decref(x);
    pa_decref(l);
    assert_string_equal(ev_string(), "D2 D1");
}

/* ----------------------------------------------------------- the collector */

/* gc.get_referents([a, b, c]) == [c, b, a] in CPython 3.12 (list_traverse
   walks from the end). */
static void referents_are_the_items_last_first(void **state)
{
    (void)state;
    pa_object *l = new_list(g_rt);
    pa_object *x[3];
    for (int i = 0; i < 3; i++) {
        x[i] = new_node(g_node, i);
        append(l, x[i]);
    }
    pa_object *refs[3] = {NULL};
    assert_int_equal(pa_gc_get_referents(l, refs, 3), 3);
    assert_ptr_equal(refs[0], x[2]);
    assert_ptr_equal(refs[1], x[1]);
    assert_ptr_equal(refs[2], x[0]);
    for (int i = 0; i < 3; i++)
        assert_int_equal(pa_refcnt(x[i]), 3); /* ours, the list's, the new reference */
    for (int i = 0; i < 3; i++) {
        pa_decref(refs[i]);
        pa_decref(x[i]);
    }
    pa_decref(l);
    assert_string_equal(ev_string(), "D2 D1 D0");
}

/* l = []; l.append(l); del l; gc.collect() == 1 */
static void a_list_containing_itself_is_collected(void **state)
{
    (void)state;
    pa_object *l = new_list(g_rt);
    pa_object *x = new_node(g_node, 7);
    append(l, x);
    pa_decref(x);
    append(l, l);
    assert_int_equal(pa_refcnt(l), 2);
    pa_decref(l);
    assert_string_equal(ev_string(), "");
    assert_int_equal(collect(g_rt, 2), 2);
    assert_string_equal(ev_string(), "D7");
    assert_int_equal(gen_size(g_rt, -1), 0);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(new_list_is_empty_tracked_and_a_list, setup, teardown),
        cmocka_unit_test_setup_teardown(append_get_size_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(the_same_item_can_be_appended_many_times, setup, teardown),
        cmocka_unit_test_setup_teardown(append_takes_its_own_reference, setup, teardown),
        cmocka_unit_test_setup_teardown(set_takes_the_new_item_and_drops_the_old_one, setup, teardown),
        cmocka_unit_test_setup_teardown(clear_releases_every_item_last_first, setup, teardown),
        cmocka_unit_test_setup_teardown(items_are_released_last_first_when_the_list_dies, setup, teardown),
        cmocka_unit_test_setup_teardown(clear_empties_the_list_before_releasing_items, setup, teardown),
        cmocka_unit_test_setup_teardown(errors_null_list_or_item, setup, teardown),
        cmocka_unit_test_setup_teardown(errors_not_a_list, setup, teardown),
        cmocka_unit_test_setup_teardown(errors_index_out_of_range, setup, teardown),
        cmocka_unit_test_setup_teardown(referents_are_the_items_last_first, setup, teardown),
        cmocka_unit_test_setup_teardown(a_list_containing_itself_is_collected, setup, teardown),
        cmocka_unit_test_setup_teardown(a_chain_of_nested_lists_dies_in_nested_order, setup, teardown),
    };
    return PA_RUN_TESTS(tests, argc, argv);
}
