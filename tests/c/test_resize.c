/* test_resize.c -- pa_object_gc_resize (section 5 of pyalloc.h), CPython's
   PyObject_GC_Resize.

   - Growing and shrinking: ob_size follows, items up to the smaller size
     keep their values, new items are zero (also where a shrink left old
     values behind in the same block), the census' bytes follow.
   - Moving: an object that outgrows its pool block moves and the old
     address is no longer an object; one whose size class still fits stays
     in place in pymalloc mode, and always moves under the debug hooks.
   - A GC type: refused while tracked (CPython's assertion), resized after
     pa_gc_untrack, tracked again, collected and released as usual.
   - Every refusal leaves the object unchanged and says why in
     pa_last_error: NULL, freed, not variable-sized, immortal, another
     reference, a weak reference, a finalize registration, a running
     finaliser, a shrink over reference items, overflow.
   - tracemalloc: the trace follows the object to its new address with the
     new size at the resize's site (PA_OBJECT_GC_RESIZE), an untraced object
     becomes traced, a refused resize keeps the trace.
   CTest runs every case again under the debug hooks (debug.test_resize.*);
   test_debug_hooks.c checks the debug block of a resized object. */
#include "test_tracing.h"

#include <stdint.h>
#include <sys/resource.h>

/* "vec": not GC, items are int64_t after the var header. */
#define VEC_ITEMS(o) ((int64_t *)((char *)(o) + sizeof(pa_var_object)))
#define SIZE_OF(o) (((pa_var_object *)(o))->ob_size)
/* Bytes of an object of n 8-byte items, GC head included (what the census and tracemalloc count). */
#define OBJECT_BYTES(n) (16 + sizeof(pa_var_object) + (size_t)(n) * 8)

static pa_type *var_type(pa_runtime *rt, const char *name, unsigned flags, pa_destructor finalize)
{
    pa_type_spec spec = {0};
    spec.name = name;
    spec.basicsize = sizeof(pa_var_object);
    spec.itemsize = 8;
    spec.flags = flags;
    spec.finalize = finalize;
    pa_type *t = pa_type_new(rt, &spec);
    if (t == NULL)
        fail_msg("pa_type_new(%s) = NULL: %s", name, pa_last_error());
    return t;
}

static pa_type *vec_type(pa_runtime *rt) { return var_type(rt, "vec", 0, NULL); }

/* A GC "tuple": items are references. */
static pa_type *tuple_type(pa_runtime *rt)
{
    return var_type(rt, "tuple", PA_TPFLAGS_HAVE_GC | PA_TPFLAGS_ITEMS_ARE_REFS, NULL);
}

/* A vec of n items 1, 2, ..., n. */
static pa_object *new_vec(pa_type *t, size_t n)
{
    pa_object *o = pa_object_new_var(t, n);
    if (o == NULL)
        fail_msg("pa_object_new_var(%zu) = NULL: %s", n, pa_last_error());
    for (size_t i = 0; i < n; i++)
        VEC_ITEMS(o)[i] = (int64_t)i + 1;
    return o;
}

static pa_object *resize_ok(pa_object *o, size_t n)
{
    pa_object *r = pa_object_gc_resize(o, n);
    if (r == NULL)
        fail_msg("pa_object_gc_resize(%zu) = NULL: %s", n, pa_last_error());
    assert_int_equal(SIZE_OF(r), (intptr_t)n);
    assert_int_equal(pa_refcnt(r), 1);
    return r;
}

/* Items 0 .. kept-1 are 1 .. kept, items kept .. n-1 are 0. */
static void assert_items(pa_object *o, size_t kept, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (VEC_ITEMS(o)[i] != (i < kept ? (int64_t)i + 1 : 0))
            fail_msg("item %zu = %lld, expected %lld", i, (long long)VEC_ITEMS(o)[i],
                     (long long)(i < kept ? (int64_t)i + 1 : 0));
}

/* The census' bytes for the type named name. */
static size_t census_bytes(pa_runtime *rt, const char *name)
{
    pa_type_count counts[16];
    size_t n = pa_count_objects_by_type(rt, counts, countof(counts));
    assert_true(n != PA_SIZE_ERROR && n <= countof(counts));
    for (size_t i = 0; i < n; i++)
        if (strcmp(counts[i].name, name) == 0)
            return counts[i].bytes;
    return 0;
}

/* pa_object_gc_resize(o, n) is refused with an error mentioning text. */
static void assert_refused(pa_object *o, size_t n, const char *text)
{
    pa_clear_error();
    assert_null(pa_object_gc_resize(o, n));
    PA_ASSERT_ERROR_MENTIONS("pa_object_gc_resize");
    PA_ASSERT_ERROR_MENTIONS(text);
}

/* ---------------------------------------------------------- grow, shrink */

static void grow_keeps_the_items_zeroes_the_new_ones_and_sets_ob_size(void **state)
{
    (void)state;
    pa_runtime *rt = new_runtime();
    pa_type *t = vec_type(rt);
    pa_object *o = new_vec(t, 3);
    assert_int_equal(census_bytes(rt, "vec"), OBJECT_BYTES(3));
    o = resize_ok(o, 100);
    assert_items(o, 3, 100);
    assert_ptr_equal(pa_object_type(o), t);
    assert_ptr_equal(pa_object_runtime(o), rt);
    assert_int_equal(census_bytes(rt, "vec"), OBJECT_BYTES(100));
    pa_decref(o);
    assert_int_equal(census_bytes(rt, "vec"), 0);
    pa_runtime_free(rt);
}

static void shrink_keeps_the_prefix_and_a_regrow_reads_zeros(void **state)
{
    (void)state;
    pa_runtime *rt = new_runtime();
    pa_type *t = vec_type(rt);
    /* 50 items (440 bytes, a pool block), and 1000 (a large block). */
    static const size_t sizes[] = {50, 1000};
    for (size_t k = 0; k < countof(sizes); k++) {
        pa_object *o = new_vec(t, sizes[k]);
        o = resize_ok(o, 40);
        assert_items(o, 40, 40);
        assert_int_equal(census_bytes(rt, "vec"), OBJECT_BYTES(40));
        o = resize_ok(o, 0);
        assert_int_equal(census_bytes(rt, "vec"), OBJECT_BYTES(0));
        /* Whether or not the block stayed, the items that come back are new: zero. */
        o = resize_ok(o, sizes[k]);
        assert_items(o, 0, sizes[k]);
        pa_decref(o);
    }
    pa_runtime_free(rt);
}

static void an_object_that_outgrows_its_block_moves_and_the_old_address_is_dead(void **state)
{
    (void)state;
    pa_runtime *rt = new_runtime();
    pa_type *t = vec_type(rt);
    pa_object *o = new_vec(t, 1);
    pa_object *r = resize_ok(o, 1000);    /* 48 bytes -> 8040: a pool block cannot hold it */
    assert_ptr_not_equal(r, o);
    assert_items(r, 1, 1000);
    pa_clear_error();
    assert_null(pa_object_runtime(o));
    PA_ASSERT_ERROR_MENTIONS("is not a live object");
    /* And back down into a pool. */
    pa_object *s = resize_ok(r, 2);
    assert_ptr_not_equal(s, r);
    assert_items(s, 1, 2);
    pa_decref(s);
    pa_runtime_free(rt);
}

static void a_pool_block_whose_class_still_fits_is_kept_except_under_the_debug_hooks(void **state)
{
    (void)state;
    pa_runtime *rt = new_runtime();
    pa_type *t = vec_type(rt);
    pa_object *o = new_vec(t, 1);         /* 48 bytes: class 48 */
    pa_object *r = resize_ok(o, 0);       /* 40 bytes: fits, and saves less than a quarter */
    if (pa_test_debug_hooks())
        assert_ptr_not_equal(r, o);       /* always a fresh debug block */
    else if (pa_test_pools())
        assert_ptr_equal(r, o);
    r = resize_ok(r, 1);
    assert_items(r, 0, 1);
    pa_object *small = resize_ok(new_vec(t, 20), 2);  /* 200 bytes -> 56: a quarter saved, it moves */
    assert_items(small, 2, 2);
    pa_decref(small);
    pa_decref(r);
    pa_runtime_free(rt);
}

/* ------------------------------------------------------------- GC types */

static void a_tracked_object_is_refused_then_resized_once_untracked(void **state)
{
    (void)state;
    pa_runtime *rt = new_runtime();
    pa_type *tt = tuple_type(rt);
    pa_type *nt = node_type(rt);
    ev_reset();
    pa_object *tup = pa_object_new_var(tt, 2);
    assert_non_null(tup);
    pa_object **items = (pa_object **)VEC_ITEMS(tup);
    items[0] = new_node(nt, 1);
    items[1] = new_node(nt, 2);
    assert_int_equal(pa_gc_is_tracked(tup), 1);

    assert_refused(tup, 10, "is tracked by the collector");
    PA_ASSERT_ERROR_MENTIONS("pa_gc_untrack");
    assert_int_equal(SIZE_OF(tup), 2);
    assert_int_equal(pa_gc_is_tracked(tup), 1);

    pa_gc_untrack(tup);
    pa_object *r = resize_ok(tup, 10);
    assert_int_equal(pa_gc_is_tracked(r), 0);
    items = (pa_object **)VEC_ITEMS(r);
    assert_int_equal(NODE(items[0])->id, 1);
    assert_int_equal(NODE(items[1])->id, 2);
    for (int i = 2; i < 10; i++)
        assert_null(items[i]);
    pa_gc_track(r);
    assert_true(in_gen(rt, 0, r));
    /* A cycle through the resized tuple is found and freed by the collector. */
    items[5] = new_node(nt, 3);
    set_a(items[5], r);
    pa_decref(r);
    assert_int_equal(pa_gc_collect(rt, 2), 4);
    assert_int_equal(ev_count('D'), 3);
    pa_runtime_free(rt);
}

static void a_shrink_over_reference_items_is_refused_until_they_are_cleared(void **state)
{
    (void)state;
    pa_runtime *rt = new_runtime();
    pa_type *tt = tuple_type(rt);
    pa_type *nt = node_type(rt);
    ev_reset();
    pa_object *tup = pa_object_new_var(tt, 5);
    assert_non_null(tup);
    pa_gc_untrack(tup);
    pa_object **items = (pa_object **)VEC_ITEMS(tup);
    items[3] = new_node(nt, 4);
    assert_refused(tup, 2, "still holds a reference in item 3");
    assert_int_equal(SIZE_OF(tup), 5);
    assert_string_equal(ev_string(), "");
    pa_object *r = resize_ok(tup, 4);     /* item 3 is kept: nothing lost */
    items = (pa_object **)VEC_ITEMS(r);
    pa_clear(&items[3]);
    assert_string_equal(ev_string(), "D4");
    r = resize_ok(r, 0);
    pa_decref(r);
    pa_runtime_free(rt);
}

/* ------------------------------------------------------------- refusals */

static void null_freed_and_foreign_pointers_are_refused(void **state)
{
    (void)state;
    assert_refused(NULL, 1, "o is NULL");
    pa_runtime *rt = new_runtime();
    pa_type *t = vec_type(rt);
    pa_object *o = new_vec(t, 3);
    pa_object *keep = new_vec(t, 3);      /* the runtime stays non-empty */
    pa_decref(o);
    assert_refused(o, 1, "is not a live object");
    void *block = pa_malloc(64);
    assert_refused(block, 1, "is not a live object");
    pa_free(block);
    pa_decref(keep);
    pa_object *dead = new_vec(t, 3);
    pa_runtime_free(rt);
    assert_refused(dead, 1, "is not a live object");
}

static void a_fixed_size_object_is_refused(void **state)
{
    (void)state;
    pa_runtime *rt = new_runtime();
    pa_object *n = new_node(node_type(rt), 1);
    pa_gc_untrack(n);
    assert_refused(n, 0, "is not variable-sized");
    pa_object *list = new_list(rt);
    assert_refused(list, 4, "is not variable-sized");
    pa_decref(list);
    pa_decref(n);
    pa_runtime_free(rt);
}

static void immortal_and_shared_objects_are_refused_unchanged(void **state)
{
    (void)state;
    pa_runtime *rt = new_runtime();
    pa_type *t = vec_type(rt);
    pa_object *o = new_vec(t, 3);
    pa_incref(o);
    assert_refused(o, 100, "has 2 references");
    assert_int_equal(pa_refcnt(o), 2);
    assert_int_equal(SIZE_OF(o), 3);
    assert_items(o, 3, 3);
    pa_decref(o);
    o = resize_ok(o, 4);

    pa_object *imm = new_vec(t, 3);
    pa_object_make_immortal(imm);
    assert_refused(imm, 100, "is immortal");
    assert_int_equal(SIZE_OF(imm), 3);
    pa_decref(o);
    pa_runtime_free(rt);
}

static void an_object_with_weak_references_is_refused_until_they_die(void **state)
{
    (void)state;
    pa_runtime *rt = new_runtime();
    pa_type *t = vec_type(rt);
    pa_object *o = new_vec(t, 3);
    pa_object *wr = pa_weakref_new(o, NULL, NULL);
    assert_non_null(wr);
    assert_refused(o, 100, "has weak references");
    assert_int_equal(SIZE_OF(o), 3);
    pa_object *target = pa_weakref_get(wr);   /* a new reference */
    assert_ptr_equal(target, o);
    pa_decref(target);
    pa_decref(wr);
    o = resize_ok(o, 100);
    assert_items(o, 3, 100);
    pa_decref(o);
    pa_runtime_free(rt);
}

static void on_death(void *user) { ev_add('X', (intptr_t)user); }

static void an_object_with_a_finalize_registration_is_refused(void **state)
{
    (void)state;
    pa_runtime *rt = new_runtime();
    pa_type *t = vec_type(rt);
    ev_reset();
    pa_object *o = new_vec(t, 3);
    uint64_t h = pa_finalize_register(o, on_death, (void *)7);
    assert_true(h != 0);
    assert_refused(o, 100, "pa_finalize_register");
    pa_decref(o);
    assert_string_equal(ev_string(), "X7");
    pa_runtime_free(rt);
}

static pa_object *finalizer_result;
static char finalizer_error[512];

static void resizing_finalize(pa_object *self)
{
    pa_clear_error();
    finalizer_result = pa_object_gc_resize(self, 64);
    snprintf(finalizer_error, sizeof finalizer_error, "%s", pa_last_error());
    ev_add('F', SIZE_OF(self));
}

static void an_object_whose_finaliser_runs_is_refused(void **state)
{
    (void)state;
    pa_runtime *rt = new_runtime();
    pa_type *t = var_type(rt, "finalized", 0, resizing_finalize);
    ev_reset();
    finalizer_result = (pa_object *)1;
    pa_object *o = new_vec(t, 3);
    pa_decref(o);
    assert_null(finalizer_result);
    if (strstr(finalizer_error, "is being finalised") == NULL)
        fail_msg("error in the finaliser: \"%s\"", finalizer_error);
    assert_string_equal(ev_string(), "F3");
    assert_int_equal(census_bytes(rt, "finalized"), 0);
    pa_runtime_free(rt);
}

static void sizes_that_overflow_are_refused(void **state)
{
    (void)state;
    pa_runtime *rt = new_runtime();
    pa_type *t = vec_type(rt);
    pa_object *o = new_vec(t, 3);
    assert_refused(o, SIZE_MAX, "overflow the object size");
    assert_refused(o, SIZE_MAX / 8 + 1, "overflow the object size");
    assert_refused(o, (size_t)INT32_MAX / 8, "overflow the object size");  /* over 2 GiB, as pa_object_new_var */
    assert_int_equal(SIZE_OF(o), 3);
    assert_items(o, 3, 3);
    pa_decref(o);
    pa_runtime_free(rt);
}

/* The process' address space now (VmSize), in bytes. */
static size_t address_space(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    assert_non_null(f);
    char line[256];
    size_t kb = 0;
    while (fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "VmSize: %zu kB", &kb) == 1)
            break;
    fclose(f);
    assert_true(kb > 0);
    return kb * 1024;
}

static void out_of_memory_is_an_error_and_the_object_is_kept(void **state)
{
    (void)state;
    pa_runtime *rt = new_runtime();
    pa_type *t = vec_type(rt);
    pa_object *o = new_vec(t, 3);
    start_tracing(1);                     /* the trace must survive the failure too */
    o = resize_ok(o, 5);
    size_t traced, after;
    pa_tracemalloc_get_traced_memory(&traced, NULL);
    /* 1.6 GB where the address space may grow by 256 MiB only: malloc fails. */
    struct rlimit old;
    assert_int_equal(getrlimit(RLIMIT_AS, &old), 0);
    struct rlimit low = old;
    low.rlim_cur = address_space() + ((rlim_t)256 << 20);
    assert_int_equal(setrlimit(RLIMIT_AS, &low), 0);
    pa_clear_error();
    pa_object *r = pa_object_gc_resize(o, 200000000);
    assert_int_equal(setrlimit(RLIMIT_AS, &old), 0);
    assert_null(r);
    PA_ASSERT_ERROR_MENTIONS("pa_object_gc_resize: out of memory resizing an object of 80 bytes to 1600000040 bytes");
    assert_int_equal(SIZE_OF(o), 5);
    assert_items(o, 3, 5);
    pa_tracemalloc_get_traced_memory(&after, NULL);
    assert_int_equal(after, traced);
    pa_frame f;
    assert_int_equal(pa_tracemalloc_get_traceback(o, &f, 1), 1);
    pa_tracemalloc_stop();
    o = resize_ok(o, 6);                  /* and it is still an object that resizes */
    pa_decref(o);
    pa_runtime_free(rt);
}

/* ------------------------------------------------------------ tracemalloc */

static void the_trace_follows_the_object_with_its_new_size_and_site(void **state)
{
    (void)state;
    pa_runtime *rt = new_runtime();
    pa_type *t = vec_type(rt);
    start_tracing(1);
    pa_object *o = PA_OBJECT_NEW_VAR(t, 1);
    assert_non_null(o);
    size_t before, after, peak;
    pa_tracemalloc_get_traced_memory(&before, &peak);
    int line = __LINE__ + 1;
    pa_object *r = PA_OBJECT_GC_RESIZE(o, 1000);
    assert_non_null(r);
    assert_ptr_not_equal(r, o);
    pa_tracemalloc_get_traced_memory(&after, &peak);
    assert_int_equal(after - before, OBJECT_BYTES(1000) - OBJECT_BYTES(1));
    pa_frame f;
    assert_int_equal(pa_tracemalloc_get_traceback(r, &f, 1), 1);
    assert_int_equal(f.lineno, line);
    assert_true(ends_with(f.filename, "test_resize.c"));
    assert_int_equal(pa_tracemalloc_get_traceback(o, &f, 1), 0);

    /* A refused resize keeps the trace as it was. */
    pa_incref(r);
    assert_refused(r, 5, "has 2 references");
    pa_decref(r);
    assert_int_equal(pa_tracemalloc_get_traceback(r, &f, 1), 1);
    assert_int_equal(f.lineno, line);
    pa_tracemalloc_get_traced_memory(&after, &peak);
    assert_int_equal(after - before, OBJECT_BYTES(1000) - OBJECT_BYTES(1));

    /* Shrinking: the traced size goes down. */
    r = PA_OBJECT_GC_RESIZE(r, 2);
    assert_non_null(r);
    pa_tracemalloc_get_traced_memory(&after, &peak);
    assert_int_equal(after - before, OBJECT_BYTES(2) - OBJECT_BYTES(1));
    pa_decref(r);
    pa_tracemalloc_get_traced_memory(&after, &peak);
    assert_int_equal(before - after, OBJECT_BYTES(1));
    pa_tracemalloc_stop();
    pa_runtime_free(rt);
}

static void an_untraced_object_is_traced_once_resized(void **state)
{
    (void)state;
    pa_runtime *rt = new_runtime();
    pa_type *t = vec_type(rt);
    pa_object *o = new_vec(t, 4);
    start_tracing(1);
    pa_frame f;
    assert_int_equal(pa_tracemalloc_get_traceback(o, &f, 1), 0);
    size_t before, after;
    pa_tracemalloc_get_traced_memory(&before, NULL);
    int line = __LINE__ + 1;
    o = PA_OBJECT_GC_RESIZE(o, 60);
    assert_non_null(o);
    assert_items(o, 4, 60);
    pa_tracemalloc_get_traced_memory(&after, NULL);
    assert_int_equal(after - before, OBJECT_BYTES(60));
    assert_int_equal(pa_tracemalloc_get_traceback(o, &f, 1), 1);
    assert_int_equal(f.lineno, line);
    pa_decref(o);
    pa_tracemalloc_stop();
    pa_runtime_free(rt);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(grow_keeps_the_items_zeroes_the_new_ones_and_sets_ob_size),
        cmocka_unit_test(shrink_keeps_the_prefix_and_a_regrow_reads_zeros),
        cmocka_unit_test(an_object_that_outgrows_its_block_moves_and_the_old_address_is_dead),
        cmocka_unit_test(a_pool_block_whose_class_still_fits_is_kept_except_under_the_debug_hooks),
        cmocka_unit_test(a_tracked_object_is_refused_then_resized_once_untracked),
        cmocka_unit_test(a_shrink_over_reference_items_is_refused_until_they_are_cleared),
        cmocka_unit_test(null_freed_and_foreign_pointers_are_refused),
        cmocka_unit_test(a_fixed_size_object_is_refused),
        cmocka_unit_test(immortal_and_shared_objects_are_refused_unchanged),
        cmocka_unit_test(an_object_with_weak_references_is_refused_until_they_die),
        cmocka_unit_test(an_object_with_a_finalize_registration_is_refused),
        cmocka_unit_test(an_object_whose_finaliser_runs_is_refused),
        cmocka_unit_test(sizes_that_overflow_are_refused),
        cmocka_unit_test(out_of_memory_is_an_error_and_the_object_is_kept),
        cmocka_unit_test(the_trace_follows_the_object_with_its_new_size_and_site),
        cmocka_unit_test(an_untraced_object_is_traced_once_resized),
    };
    return PA_RUN_TESTS(tests, argc, argv);
}
