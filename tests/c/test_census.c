/* test_census.c -- pa_count_objects_by_type (section 12 of pyalloc.h) and
   the article's find_leaks recipe (Part 6):

   - live objects per type, counted and measured (GC head included: two
     words before every object), largest total first, more objects first
     among equal totals; types without objects left out; per runtime;
   - cap and errors as the other "fill up to cap, return the total" calls;
   - find_leaks: a leaky operation (cycles kept alive by a global list)
     shows as the same growth on every call, in gc.get_objects' count, in
     the census of its type, and in tracemalloc's compare_to at the lines
     that allocate what leaks. */
#include "test_tracing.h"

static pa_runtime *g_rt;

static int setup(void **state)
{
    (void)state;
    ev_reset();
    pa_clear_error();
    g_rt = new_runtime();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    pa_tracemalloc_stop();
    pa_runtime_free(g_rt);
    g_rt = NULL;
    return 0;
}

#define HEAD (2 * sizeof(void *))   /* the collector's two words before each object */

static pa_type *plain_type(pa_runtime *rt, const char *name, size_t basicsize, size_t itemsize)
{
    pa_type_spec spec = {0};
    spec.name = name;
    spec.basicsize = basicsize;
    spec.itemsize = itemsize;
    pa_type *t = pa_type_new(rt, &spec);
    if (t == NULL)
        fail_msg("pa_type_new(%s): %s", name, pa_last_error());
    return t;
}

static pa_object *new_obj(pa_type *t)
{
    pa_object *o = pa_object_new(t);
    if (o == NULL)
        fail_msg("pa_object_new(%s): %s", pa_type_name(t), pa_last_error());
    return o;
}

/* The whole census of rt (free() it). */
static size_t census(pa_runtime *rt, pa_type_count **out)
{
    size_t n = pa_count_objects_by_type(rt, NULL, 0);
    if (n == PA_SIZE_ERROR)
        fail_msg("pa_count_objects_by_type: %s", pa_last_error());
    pa_type_count *v = calloc(n + 1, sizeof *v);
    assert_non_null(v);
    assert_int_equal(pa_count_objects_by_type(rt, v, n), n);
    *out = v;
    return n;
}

/* The row of type t, or NULL. */
static const pa_type_count *row_of(const pa_type_count *v, size_t n, const pa_type *t)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].type == t)
            return &v[i];
    return NULL;
}

static size_t count_of(pa_runtime *rt, const pa_type *t)
{
    pa_type_count *v;
    size_t n = census(rt, &v);
    const pa_type_count *r = row_of(v, n, t);
    size_t c = r != NULL ? r->count : 0;
    free(v);
    return c;
}

/* ------------------------------------------------------------------ census */

static void census_counts_and_measures_each_type(void **state)
{
    (void)state;
    pa_type *small = plain_type(g_rt, "small", 32, 0);
    pa_type *big = plain_type(g_rt, "big", 256, 0);
    pa_type *nodes = node_type(g_rt);
    pa_object *objs[32];
    int k = 0;
    for (int i = 0; i < 10; i++) objs[k++] = new_obj(small);
    for (int i = 0; i < 2; i++) objs[k++] = new_obj(big);
    for (int i = 0; i < 3; i++) objs[k++] = new_node(nodes, i);
    objs[k++] = new_list(g_rt);

    pa_type_count *v;
    size_t n = census(g_rt, &v);
    assert_int_equal(n, 4);
    const pa_type_count *list_row = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].name, "list") == 0)
            list_row = &v[i];
    assert_non_null(list_row);
    assert_int_equal(list_row->count, 1);
    const size_t list_bytes = list_row->bytes;     /* the list's size is the library's own */
    assert_true(list_bytes >= HEAD + sizeof(pa_var_object));
    assert_ptr_equal(list_row->type, pa_object_type(objs[k - 1]));
    free(v);

    for (int i = 0; i < 3; i++) objs[k++] = new_list(g_rt);
    n = census(g_rt, &v);
    assert_int_equal(n, 4);
    struct { pa_type *type; const char *name; size_t count, bytes; } want[] = {
        {big, "big", 2, 2 * (HEAD + 256)},
        {small, "small", 10, 10 * (HEAD + 32)},
        {nodes, "node", 3, 3 * (HEAD + sizeof(node))},
        {pa_object_type(objs[k - 1]), "list", 4, 4 * list_bytes},
    };
    for (size_t i = 0; i < countof(want); i++) {   /* expected order: bytes, then count, descending */
        for (size_t j = i + 1; j < countof(want); j++) {
            if (want[j].bytes > want[i].bytes || (want[j].bytes == want[i].bytes && want[j].count > want[i].count)) {
                __typeof__(want[0]) t = want[i];
                want[i] = want[j];
                want[j] = t;
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (v[i].type != want[i].type || strcmp(v[i].name, want[i].name) != 0 || v[i].count != want[i].count
            || v[i].bytes != want[i].bytes)
            fail_msg("row %zu: %s count %zu bytes %zu; expected %s count %zu bytes %zu", i, v[i].name, v[i].count,
                     v[i].bytes, want[i].name, want[i].count, want[i].bytes);
        assert_string_equal(v[i].name, pa_type_name(v[i].type));
    }
    free(v);
    for (int i = 0; i < k; i++)
        pa_decref(objs[i]);
    assert_int_equal(pa_count_objects_by_type(g_rt, NULL, 0), 0);
}

/* Equal totals: the type with more objects first. */
static void census_breaks_byte_ties_by_count(void **state)
{
    (void)state;
    /* 192 bytes each: 3 x (16 + 48), 2 x (16 + 80), 1 x (16 + 176) */
    pa_type *c = plain_type(g_rt, "c", 192 - HEAD, 0);
    pa_type *a = plain_type(g_rt, "a", 64 - HEAD, 0);
    pa_type *b = plain_type(g_rt, "b", 96 - HEAD, 0);
    pa_object *objs[6];
    int k = 0;
    objs[k++] = new_obj(c);
    for (int i = 0; i < 2; i++) objs[k++] = new_obj(b);
    for (int i = 0; i < 3; i++) objs[k++] = new_obj(a);
    pa_type_count *v;
    size_t n = census(g_rt, &v);
    assert_int_equal(n, 3);
    const char *order[] = {"a", "b", "c"};
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(v[i].name, order[i]);
        assert_int_equal(v[i].bytes, 192);
        assert_int_equal(v[i].count, 3 - i);
    }
    free(v);
    for (int i = 0; i < k; i++)
        pa_decref(objs[i]);
}

/* Variable-sized objects count their items. */
static void census_counts_the_items_of_variable_sized_objects(void **state)
{
    (void)state;
    pa_type *t = plain_type(g_rt, "vec", sizeof(pa_var_object), 8);
    pa_object *v0 = pa_object_new_var(t, 0);
    pa_object *v1 = pa_object_new_var(t, 1);
    pa_object *v10 = pa_object_new_var(t, 10);
    assert_true(v0 && v1 && v10);
    pa_type_count *v;
    size_t n = census(g_rt, &v);
    assert_int_equal(n, 1);
    assert_int_equal(v[0].count, 3);
    assert_int_equal(v[0].bytes, 3 * (HEAD + sizeof(pa_var_object)) + 11 * 8);
    free(v);
    pa_decref(v10);
    n = census(g_rt, &v);
    assert_int_equal(v[0].bytes, 2 * (HEAD + sizeof(pa_var_object)) + 1 * 8);
    free(v);
    pa_decref(v0);
    pa_decref(v1);
}

/* The census follows births and deaths (by count and by collection); types
   without live objects are left out; immortal objects stay counted. */
static void census_follows_births_and_deaths(void **state)
{
    (void)state;
    pa_type *nodes = node_type(g_rt);
    pa_type *other = plain_type(g_rt, "other", 24, 0);
    assert_int_equal(pa_count_objects_by_type(g_rt, NULL, 0), 0);   /* types, but no objects */
    pa_object *x = new_node(nodes, 1), *y = new_node(nodes, 2);
    set_a(x, y);
    set_a(y, x);
    pa_object *o = new_obj(other);
    assert_int_equal(count_of(g_rt, nodes), 2);
    assert_int_equal(pa_count_objects_by_type(g_rt, NULL, 0), 2);
    pa_decref(o);
    assert_int_equal(pa_count_objects_by_type(g_rt, NULL, 0), 1);   /* "other" is gone */
    assert_int_equal(count_of(g_rt, other), 0);
    pa_decref(x);
    pa_decref(y);
    assert_int_equal(count_of(g_rt, nodes), 2);   /* a cycle lives until collected */
    assert_int_equal(collect(g_rt, 2), 2);
    assert_int_equal(count_of(g_rt, nodes), 0);
    assert_int_equal(pa_count_objects_by_type(g_rt, NULL, 0), 0);
    pa_object *forever = new_obj(other);
    pa_object_make_immortal(forever);
    pa_decref(forever);
    collect(g_rt, 2);
    assert_int_equal(count_of(g_rt, other), 1);
}

static void census_is_per_runtime(void **state)
{
    (void)state;
    pa_runtime *rt2 = new_runtime();
    pa_type *t2 = node_type(rt2);
    pa_object *o2 = new_node(t2, 1);
    assert_int_equal(pa_count_objects_by_type(g_rt, NULL, 0), 0);
    assert_int_equal(pa_count_objects_by_type(rt2, NULL, 0), 1);
    pa_object *l = new_list(g_rt);
    pa_type_count *v;
    size_t n = census(rt2, &v);
    assert_int_equal(n, 1);
    assert_ptr_equal(v[0].type, t2);
    free(v);
    pa_decref(l);
    pa_decref(o2);
    pa_runtime_free(rt2);
}

static void census_fills_up_to_cap_and_refuses_bad_arguments(void **state)
{
    (void)state;
    pa_type *ts[5];
    pa_object *objs[15];
    int k = 0;
    char names[5][8];
    for (int i = 0; i < 5; i++) {
        snprintf(names[i], sizeof names[i], "t%d", i);
        ts[i] = plain_type(g_rt, names[i], 16 * (size_t)(i + 1), 0);
        for (int j = 0; j <= i % 3; j++)
            objs[k++] = new_obj(ts[i]);
    }
    pa_type_count *all;
    size_t n = census(g_rt, &all);
    assert_int_equal(n, 5);
    pa_type_count part[4];
    memset(part, 0x5A, sizeof part);
    assert_int_equal(pa_count_objects_by_type(g_rt, part, 2), 5);   /* the total */
    for (int i = 0; i < 2; i++) {
        assert_ptr_equal(part[i].type, all[i].type);
        assert_int_equal(part[i].bytes, all[i].bytes);
    }
    unsigned char canary[sizeof part[2]];
    memset(canary, 0x5A, sizeof canary);
    assert_memory_equal(&part[2], canary, sizeof canary);
    free(all);

    pa_clear_error();
    assert_int_equal(pa_count_objects_by_type(NULL, part, 4), PA_SIZE_ERROR);
    PA_ASSERT_ERROR_MENTIONS("pa_count_objects_by_type");
    pa_clear_error();
    assert_int_equal(pa_count_objects_by_type(g_rt, NULL, 4), PA_SIZE_ERROR);
    PA_ASSERT_ERROR_SET();
    for (int i = 0; i < k; i++)
        pa_decref(objs[i]);
}

/* --------------------------------------------------------------- find_leaks */

static pa_object *g_cache;      /* a global list: what it holds never dies */
static pa_type *g_leaky;        /* node: what leaks */
static pa_type *g_temp;         /* node: temporary cycles, collected */
static int line_leak_x, line_leak_y;

/* Every call leaves a two-node cycle reachable from g_cache, and makes (and
   drops) a cycle of temporaries and a list. */
static void leaky_operation(void)
{
    pa_object *x, *y;
    line_leak_x = __LINE__; x = PA_OBJECT_NEW(g_leaky);
    line_leak_y = __LINE__; y = PA_OBJECT_NEW(g_leaky);
    set_a(x, y);
    set_a(y, x);
    append(g_cache, x);
    pa_decref(x);
    pa_decref(y);

    pa_object *t1 = PA_OBJECT_NEW(g_temp), *t2 = PA_OBJECT_NEW(g_temp);
    set_a(t1, t2);
    set_b(t2, t1);
    pa_decref(t1);
    pa_decref(t2);
    pa_object *scratch = PA_LIST_NEW(g_rt);
    append(scratch, g_cache);
    pa_decref(scratch);
}

static void leak_setup(void)
{
    g_leaky = node_type_with(g_rt, "leaky", NULL, NULL);
    g_temp = node_type_with(g_rt, "temp", NULL, NULL);
    g_cache = new_list(g_rt);
}

/* The article's find_leaks: collect, count the objects, run the operation,
   collect, count again. */
static intptr_t find_leaks(void)
{
    collect(g_rt, 2);
    size_t before = gen_size(g_rt, -1);
    leaky_operation();
    collect(g_rt, 2);
    size_t after = gen_size(g_rt, -1);
    print_message("Objects before: %zu\nObjects after: %zu\nDifference: %td\n", before, after,
                  (ptrdiff_t)(after - before));
    return (intptr_t)(after - before);
}

/* "If the difference keeps growing across repeated calls, you likely have a leak." */
static void find_leaks_article_recipe_sees_the_same_growth_every_call(void **state)
{
    (void)state;
    leak_setup();
    size_t start = gen_size(g_rt, -1);
    for (int call = 1; call <= 5; call++) {
        assert_int_equal(find_leaks(), 2);
        assert_int_equal(gen_size(g_rt, -1), start + 2 * (size_t)call);
    }
    pa_decref(g_cache);
    collect(g_rt, 2);
    assert_int_equal(gen_size(g_rt, -1), start - 1);   /* the leak was the cache: all gone */
}

/* By type: one type grows by the same count and bytes on every call, the
   temporaries never show, and after many calls the leaking type tops the
   census. */
static void find_leaks_by_type_names_the_leaking_type(void **state)
{
    (void)state;
    leak_setup();
    pa_type *list_type = pa_object_type(g_cache);
    const size_t per_leak = 2 * (HEAD + sizeof(node));
    size_t prev_count = 0, prev_bytes = 0;
    for (int call = 1; call <= 4; call++) {
        leaky_operation();
        collect(g_rt, 2);
        pa_type_count *v;
        size_t n = census(g_rt, &v);
        const pa_type_count *leak = row_of(v, n, g_leaky);
        assert_non_null(leak);
        assert_int_equal(leak->count - prev_count, 2);
        assert_int_equal(leak->bytes - prev_bytes, per_leak);
        prev_count = leak->count;
        prev_bytes = leak->bytes;
        assert_null(row_of(v, n, g_temp));
        const pa_type_count *lists = row_of(v, n, list_type);
        assert_non_null(lists);
        assert_int_equal(lists->count, 1);          /* only the cache */
        free(v);
    }
    for (int call = 0; call < 100; call++)
        leaky_operation();
    collect(g_rt, 2);
    pa_type_count *v;
    size_t n = census(g_rt, &v);
    assert_int_equal(n, 2);
    assert_ptr_equal(v[0].type, g_leaky);
    assert_string_equal(v[0].name, "leaky");
    assert_int_equal(v[0].count, 2 * 104);
    assert_int_equal(v[0].bytes, 104 * per_leak);
    free(v);
}

/* tracemalloc's view of the same leak: between two snapshots, only the two
   lines that allocate the leaking nodes grew, by one block per call each. */
static void find_leaks_with_tracemalloc_points_at_the_leaking_lines(void **state)
{
    (void)state;
    leak_setup();
    start_tracing(1);
    leaky_operation();
    collect(g_rt, 2);
    pa_snapshot *s1 = take();
    for (int call = 0; call < 10; call++)
        leaky_operation();
    collect(g_rt, 2);
    pa_snapshot *s2 = take();

    pa_statistic_diff *d;
    size_t n = all_diffs(s2, s1, PA_STAT_LINENO, &d);
    for (size_t i = 0; i < n && i < 3; i++)
        print_message("%s\n", fmt_diff(&d[i]));
    assert_int_equal(n, 2);                        /* the temporaries are in neither snapshot */
    const size_t each = HEAD + sizeof(node);
    int ix = find_diff(d, n, __FILE__, line_leak_x), iy = find_diff(d, n, __FILE__, line_leak_y);
    assert_true(ix >= 0 && iy >= 0);
    for (int k = 0; k < 2; k++) {
        const pa_statistic_diff *e = &d[k == 0 ? ix : iy];
        assert_int_equal(e->count, 11);
        assert_int_equal(e->count_diff, 10);
        assert_int_equal(e->size, 11 * each);
        assert_int_equal(e->size_diff, (ptrdiff_t)(10 * each));
    }
    /* equal on every key but the line: the later line first */
    assert_int_equal(d[0].lineno, line_leak_y);
    char expected[1024];
    snprintf(expected, sizeof expected, "%s:%d: size=%zu B (+%zu B), count=11 (+10), average=%zu B", __FILE__,
             line_leak_y, 11 * each, 10 * each, each);
    assert_string_equal(fmt_diff(&d[0]), expected);
    free(d);
    pa_snapshot_free(s1);
    pa_snapshot_free(s2);
}

/* ------------------------------------------------------------ the heap map */

/* The heap map of rt (free() it); checks the shape of every row. */
static size_t pool_map(pa_runtime *rt, pa_pool_info **out, size_t *in_use)
{
    size_t n = pa_runtime_pool_map(rt, NULL, 0);
    assert_int_not_equal(n, PA_SIZE_ERROR);
    *out = calloc(n + 1, sizeof **out);
    assert_non_null(*out);
    assert_int_equal(pa_runtime_pool_map(rt, *out, n + 1), n);
    assert_int_equal(n % 64, 0);
    *in_use = 0;
    for (size_t i = 0; i < n; i++) {
        const pa_pool_info *p = &(*out)[i];
        assert_int_equal(p->arena, i / 64);
        assert_int_equal(p->pool, i % 64);
        if (p->size_class < 0) {
            assert_int_equal(p->size_class, -1);
            assert_int_equal(p->blocks_in_use, 0);
            assert_int_equal(p->blocks_total, 0);
            assert_int_equal(p->block_size, 0);
        } else {
            assert_true(p->size_class < 32);
            assert_int_equal(p->block_size, 16 * (size_t)(p->size_class + 1));
            assert_int_equal(p->blocks_total, (16384 - 48) / p->block_size);
            assert_true(p->blocks_in_use >= 1 && p->blocks_in_use <= p->blocks_total);
        }
        *in_use += p->blocks_in_use;
    }
    return n;
}

static void pool_map_counts_the_blocks_the_test_allocated(void **state)
{
    (void)state;
    pa_type *t = plain_type(g_rt, "cell", 48, 0);     /* 16 + 48 = 64 bytes a block, class 3 */
    pa_pool_info *map;
    size_t before, after, back;
    pool_map(g_rt, &map, &before);
    free(map);

    enum { N = 1000 };
    static pa_object *objs[N];
    for (int i = 0; i < N; i++)
        objs[i] = new_obj(t);
    size_t n = pool_map(g_rt, &map, &after);
    assert_true(n >= 64);
    assert_int_equal(after, before + N);
    if (strcmp(getenv("PYALLOC_TEST_MALLOC") ? getenv("PYALLOC_TEST_MALLOC") : "", "debug") != 0) {
        /* without the debug hooks' padding every cell is a 64-byte block of class 3 */
        size_t class3 = 0, pools3 = 0;
        for (size_t i = 0; i < n; i++)
            if (map[i].size_class == 3) {
                class3 += map[i].blocks_in_use;
                pools3++;
            }
        assert_int_equal(class3, N);
        assert_int_equal(pools3, (N + 254) / 255);    /* 255 blocks of 64 bytes a pool */
    }
    /* cap: fills only cap rows, still returns the total */
    pa_pool_info one[2];
    memset(one, 0xAB, sizeof one);
    assert_int_equal(pa_runtime_pool_map(g_rt, one, 1), n);
    assert_int_equal(one[0].arena, 0);
    assert_int_equal(one[1].arena, (size_t)0xABABABABABABABABull);
    free(map);

    for (int i = 0; i < N; i++)
        pa_decref(objs[i]);
    pool_map(g_rt, &map, &back);
    free(map);
    assert_int_equal(back, before);

    /* errors */
    assert_int_equal(pa_runtime_pool_map(NULL, one, 1), PA_SIZE_ERROR);
    assert_non_null(strstr(pa_last_error(), "rt is NULL"));
    assert_int_equal(pa_runtime_pool_map(g_rt, NULL, 1), PA_SIZE_ERROR);
    assert_non_null(strstr(pa_last_error(), "out is NULL"));
    assert_int_not_equal(pa_pool_map(NULL, 0), PA_SIZE_ERROR);
    assert_int_equal(pa_pool_map(NULL, 1), PA_SIZE_ERROR);
}

/* The live blocks of a stats table: pool blocks plus large blocks. */
static size_t live_blocks(const pa_malloc_stats *st)
{
    size_t n = st->large_blocks;
    for (int i = 0; i < PA_NUM_SIZE_CLASSES; i++)
        n += st->classes[i].blocks_in_use;
    return n;
}

/* A runtime's own stats table counts its objects, small and large, and nothing of the
   process allocator's; the process table does not count them. */
static void runtime_stats_count_its_objects_only(void **state)
{
    (void)state;
    pa_type *cell = plain_type(g_rt, "cell", 48, 0);
    pa_type *big = plain_type(g_rt, "big", 2000, 0);     /* above 512 bytes: a large block */
    pa_malloc_stats before, after, process_before, process_after;
    assert_int_equal(pa_runtime_get_malloc_stats(g_rt, &before), 0);
    assert_int_equal(pa_get_malloc_stats(&process_before), 0);

    enum { N = 300 };
    static pa_object *objs[N];
    for (int i = 0; i < N; i++)
        objs[i] = new_obj(cell);
    pa_object *b = new_obj(big);
    void *mine = pa_malloc(64);                          /* the process allocator's, not the runtime's */

    assert_int_equal(pa_runtime_get_malloc_stats(g_rt, &after), 0);
    assert_int_equal(live_blocks(&after), live_blocks(&before) + N + 1);
    assert_int_equal(after.large_blocks, before.large_blocks + 1);
    assert_true(after.large_bytes >= before.large_bytes + 2000);
    assert_true(after.arenas_current >= 1);
    assert_int_equal(after.arenas_in_runtimes, 0);
    assert_int_equal(pa_get_malloc_stats(&process_after), 0);
    assert_int_equal(live_blocks(&process_after), live_blocks(&process_before) + 1);   /* mine only */

    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    assert_int_equal(pa_runtime_print_malloc_stats(g_rt, f), 0);
    fclose(f);
    assert_non_null(strstr(text, "blocks in use"));
    assert_non_null(strstr(text, "# large blocks (system allocator)"));
    free(text);

    pa_free(mine);
    pa_decref(b);
    for (int i = 0; i < N; i++)
        pa_decref(objs[i]);
    assert_int_equal(pa_runtime_get_malloc_stats(g_rt, &after), 0);
    assert_int_equal(live_blocks(&after), live_blocks(&before));

    /* errors */
    assert_int_equal(pa_runtime_get_malloc_stats(NULL, &after), -1);
    PA_ASSERT_ERROR_MENTIONS("rt is NULL");
    assert_int_equal(pa_runtime_get_malloc_stats(g_rt, NULL), -1);
    PA_ASSERT_ERROR_MENTIONS("out is NULL");
    assert_int_equal(pa_runtime_print_malloc_stats(g_rt, NULL), -1);
    PA_ASSERT_ERROR_MENTIONS("out is NULL");
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(census_counts_and_measures_each_type, setup, teardown),
        cmocka_unit_test_setup_teardown(census_breaks_byte_ties_by_count, setup, teardown),
        cmocka_unit_test_setup_teardown(census_counts_the_items_of_variable_sized_objects, setup, teardown),
        cmocka_unit_test_setup_teardown(census_follows_births_and_deaths, setup, teardown),
        cmocka_unit_test_setup_teardown(census_is_per_runtime, setup, teardown),
        cmocka_unit_test_setup_teardown(census_fills_up_to_cap_and_refuses_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(find_leaks_article_recipe_sees_the_same_growth_every_call, setup, teardown),
        cmocka_unit_test_setup_teardown(find_leaks_by_type_names_the_leaking_type, setup, teardown),
        cmocka_unit_test_setup_teardown(find_leaks_with_tracemalloc_points_at_the_leaking_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(pool_map_counts_the_blocks_the_test_allocated, setup, teardown),
        cmocka_unit_test_setup_teardown(runtime_stats_count_its_objects_only, setup, teardown),
    };
    return PA_RUN_TESTS(tests, argc, argv);
}
