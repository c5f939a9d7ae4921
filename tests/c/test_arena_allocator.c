/* test_arena_allocator.c -- pa_object_get_arena_allocator and
   pa_object_set_arena_allocator (CPython's PyObject_Get/SetArenaAllocator,
   section 2 of pyalloc.h).

   A counting allocator over mmap records every region it hands out (what it
   returned, the size asked, the mapping behind it) and checks every free
   against those records: the same pointer and the same size, once.  Modes:
   Otherwise its regions are 1 MiB-aligned.
     misalign  never return 1 MiB-aligned memory (4096 past it), so the
               library must free the 1 MiB, ask for 2 MiB and use the aligned
               part;
     dirty     fill what it returns with 0xA5, as memory that is not fresh
               from the OS would be;
     fail      return NULL: out of memory.
   The cases check that new arenas come from the installed allocator, that
   each goes back to the allocator that made it (also after another was
   installed, and when threads allocate while the allocator changes), that
   pa_trim gives back wholly free arenas and madvises none of its memory,
   that a NULL from alloc fails the request that needed the arena, that the
   default is restored, and that bad arguments are refused. */
#define _GNU_SOURCE
#include "test_util.h"

#include <errno.h>
#include <pthread.h>
#include <sys/mman.h>

enum { MAX_REGIONS = 512, BLOCK = 256, PER_MIB = (1 << 20) / BLOCK };

typedef struct region {
    char *ptr;        /* what alloc returned */
    size_t size;      /* what it was asked for */
    char *map;        /* the mapping behind it */
    size_t map_size;
    int live;
} region;

typedef struct counting {
    pthread_mutex_t lock;
    int misalign, dirty, fail;
    int allocs, frees, failed_allocs;
    int bad_frees;            /* a pointer not handed out, freed twice, or with another size */
    int nregions;
    region regions[MAX_REGIONS];
} counting;

static void *counting_alloc(void *ctx, size_t size)
{
    counting *c = ctx;
    pthread_mutex_lock(&c->lock);
    void *result = NULL;
    if (c->fail || c->nregions == MAX_REGIONS) {
        c->failed_allocs++;
        goto out;
    }
    /* Room to place the region on a 1 MiB boundary, or 4 KiB past one. */
    size_t map_size = size + PA_ARENA_SIZE + 4096;
    char *map = mmap(NULL, map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED)
        goto out;
    char *p = (char *)(((uintptr_t)map + PA_ARENA_SIZE - 1) & ~(uintptr_t)(PA_ARENA_SIZE - 1));
    if (c->misalign)
        p += 4096;
    if (c->dirty)
        memset(p, 0xA5, size);
    c->regions[c->nregions++] = (region){ p, size, map, map_size, 1 };
    c->allocs++;
    result = p;
out:
    pthread_mutex_unlock(&c->lock);
    return result;
}

static void counting_free(void *ctx, void *ptr, size_t size)
{
    counting *c = ctx;
    pthread_mutex_lock(&c->lock);
    region *r = NULL;
    for (int i = 0; i < c->nregions; i++)
        if (c->regions[i].live && c->regions[i].ptr == ptr)
            r = &c->regions[i];
    if (r == NULL || r->size != size) {
        c->bad_frees++;
    } else {
        r->live = 0;
        c->frees++;
        munmap(r->map, r->map_size);
    }
    pthread_mutex_unlock(&c->lock);
}

static void counting_init(counting *c)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->lock, NULL);
}

static pa_mem_arena_allocator counting_allocator(counting *c)
{
    return (pa_mem_arena_allocator){ c, counting_alloc, counting_free };
}

static int live_regions(counting *c)
{
    pthread_mutex_lock(&c->lock);
    int n = 0;
    for (int i = 0; i < c->nregions; i++)
        n += c->regions[i].live;
    pthread_mutex_unlock(&c->lock);
    return n;
}

/* p lies in a live region of c that holds a whole aligned arena around it. */
static int in_live_region(counting *c, const void *p)
{
    const char *arena = (const char *)((uintptr_t)p & ~(PA_ARENA_SIZE - 1));
    for (int i = 0; i < c->nregions; i++) {
        region *r = &c->regions[i];
        if (r->live && arena >= r->ptr && arena + PA_ARENA_SIZE <= r->ptr + r->size)
            return 1;
    }
    return 0;
}

static void set_ok(const pa_mem_arena_allocator *a)
{
    assert_int_equal(pa_object_set_arena_allocator(a), 0);
}

/* Installs c, counting from zero, in the given modes. */
static void install_counting(counting *c, int misalign, int dirty, int fail)
{
    counting_init(c);
    c->misalign = misalign;
    c->dirty = dirty;
    c->fail = fail;
    pa_mem_arena_allocator a = counting_allocator(c);
    set_ok(&a);
}

static pa_mem_arena_allocator get_now(void)
{
    pa_mem_arena_allocator a;
    memset(&a, 0xAB, sizeof a);
    assert_int_equal(pa_object_get_arena_allocator(&a), 0);
    return a;
}

static void *blocks[64 * PER_MIB];

/* n blocks of BLOCK bytes (raw, as the pools see them), each filled with its pattern. */
static void allocate_blocks(int n)
{
    for (int i = 0; i < n; i++) {
        blocks[i] = pa_malloc(BLOCK - pa_test_raw_size(0));
        assert_non_null(blocks[i]);
        pa_pattern_fill(blocks[i], BLOCK - pa_test_raw_size(0), (uint64_t)i);
    }
}

static void free_blocks(int n)
{
    for (int i = 0; i < n; i++) {
        assert_true(pa_pattern_check(blocks[i], BLOCK - pa_test_raw_size(0), (uint64_t)i) == (size_t)-1);
        pa_free(blocks[i]);
    }
}

/* The library's start (its first arena, from the default) before a case installs anything. */
static void start_library(void)
{
    pa_free(pa_malloc(1));
}

static void new_arenas_come_from_the_installed_allocator_and_go_back_to_it(void **state)
{
    (void)state;
    start_library();
    static counting c;
    install_counting(&c, 0, 0, 0);
    pa_malloc_stats before = pa_stats_now();

    allocate_blocks(4 * PER_MIB);
    pa_malloc_stats after = pa_stats_now();
    int made = (int)(after.arenas_allocated - before.arenas_allocated);
    assert_true(made >= 3);
    assert_int_equal(c.allocs, made);                 /* one 1 MiB request per arena, aligned */
    assert_int_equal(live_regions(&c), made);
    for (int i = 0; i < c.nregions; i++)
        assert_int_equal(c.regions[i].size, PA_ARENA_SIZE);
    int inside = 0;
    for (int i = 0; i < 4 * PER_MIB; i++)
        inside += in_live_region(&c, blocks[i]);
    assert_true(inside >= (made - 1) * PER_MIB * 9 / 10); /* the blocks are in its memory */

    free_blocks(4 * PER_MIB);
    assert_true(pa_trim() >= (size_t)made * PA_ARENA_SIZE);
    assert_int_equal(c.frees, c.allocs);
    assert_int_equal(c.bad_frees, 0);
    assert_int_equal(live_regions(&c), 0);
}

static void unaligned_memory_is_used_from_its_aligned_part(void **state)
{
    (void)state;
    start_library();
    static counting c;
    install_counting(&c, 1, 1, 0);
    pa_malloc_stats before = pa_stats_now();

    allocate_blocks(3 * PER_MIB);
    pa_malloc_stats after = pa_stats_now();
    int made = (int)(after.arenas_allocated - before.arenas_allocated);
    assert_true(made >= 2);
    /* Each arena: 1 MiB asked, unaligned, given back at once with its size; then 2 MiB kept. */
    assert_int_equal(c.allocs, 2 * made);
    assert_int_equal(c.frees, made);
    assert_int_equal(c.bad_frees, 0);
    assert_int_equal(live_regions(&c), made);
    for (int i = 0; i < c.nregions; i++)
        assert_int_equal(c.regions[i].size, c.regions[i].live ? 2 * PA_ARENA_SIZE : PA_ARENA_SIZE);

    /* Dirty memory: calloc still zeroes, realloc still keeps contents. */
    unsigned char *z = pa_calloc(1, 200);
    assert_non_null(z);
    for (int i = 0; i < 200; i++)
        assert_int_equal(z[i], 0);
    pa_free(z);

    free_blocks(3 * PER_MIB);
    pa_trim();
    assert_int_equal(c.frees, c.allocs);
    assert_int_equal(c.bad_frees, 0);
}

static void pa_trim_releases_no_page_of_the_callers_memory(void **state)
{
    (void)state;
    start_library();
    static counting c;
    install_counting(&c, 0, 1, 0);              /* every page resident, 0xA5 */
    allocate_blocks(2 * PER_MIB);
    /* Keep one block per pool: no arena is wholly free, most pages hold no live block. */
    int per_pool = (int)(PA_POOL_SIZE / BLOCK);
    for (int i = 0; i < 2 * PER_MIB; i++)
        if (i % per_pool != 0)
            pa_free(blocks[i]);
    int live = live_regions(&c);
    assert_true(live >= 1);
    pa_trim();
    assert_int_equal(live_regions(&c), live);   /* kept: each has a live block */
    /* A released page would read back as zeros: every region's pages still hold data. */
    for (int i = 0; i < c.nregions; i++) {
        region *r = &c.regions[i];
        if (!r->live)
            continue;
        unsigned char vec[PA_ARENA_SIZE / 4096];
        assert_int_equal(mincore(r->ptr, r->size, vec), 0);
        for (size_t k = 0; k < r->size / 4096; k++)
            assert_true(vec[k] & 1);
    }
    for (int i = 0; i < 2 * PER_MIB; i += per_pool)
        pa_free(blocks[i]);
    pa_trim();
    assert_int_equal(live_regions(&c), 0);
    assert_int_equal(c.bad_frees, 0);
}

static void null_from_alloc_fails_the_request_that_needs_an_arena(void **state)
{
    (void)state;
    start_library();
    static counting c;
    install_counting(&c, 0, 0, 1);

    int n = 0;
    void *p = NULL;
    errno = 0;
    while (n < 64 * PER_MIB) {
        p = pa_malloc(BLOCK - pa_test_raw_size(0));
        if (p == NULL)
            break;
        blocks[n++] = p;
    }
    assert_null(p);                                  /* the arenas there were are full */
    assert_int_equal(errno, ENOMEM);
    assert_true(strstr(pa_last_error(), "out of memory") != NULL);
    assert_true(c.failed_allocs >= 1);
    assert_int_equal(c.allocs, 0);

    c.fail = 0;                                      /* memory again: the same call succeeds */
    void *q = pa_malloc(BLOCK - pa_test_raw_size(0));
    assert_non_null(q);
    assert_int_equal(c.allocs, 1);
    pa_free(q);
    for (int i = 0; i < n; i++)
        pa_free(blocks[i]);
    pa_trim();
    assert_int_equal(c.frees, 1);
    assert_int_equal(c.bad_frees, 0);
}

/* A wrapper over the default's own functions (ctx: the default allocator). */
static int wrapped_allocs, wrapped_frees;

static void *wrapping_alloc(void *ctx, size_t size)
{
    pa_mem_arena_allocator *d = ctx;
    wrapped_allocs++;
    return d->alloc(d->ctx, size);
}

static void wrapping_free(void *ctx, void *ptr, size_t size)
{
    pa_mem_arena_allocator *d = ctx;
    wrapped_frees++;
    d->free(d->ctx, ptr, size);
}

static void the_default_is_restored_and_old_arenas_go_back_to_their_maker(void **state)
{
    (void)state;
    pa_mem_arena_allocator d0 = get_now();
    assert_non_null(d0.alloc);
    assert_non_null(d0.free);
    start_library();

    static counting c;
    install_counting(&c, 0, 0, 0);
    pa_mem_arena_allocator got = get_now();
    assert_ptr_equal(got.ctx, &c);
    assert_true(got.alloc == counting_alloc && got.free == counting_free);
    allocate_blocks(2 * PER_MIB);
    int made = c.allocs;
    assert_true(made >= 1);

    /* A wrapper calling the default's functions: arenas come through it. */
    static pa_mem_arena_allocator d0_copy;
    d0_copy = d0;
    pa_mem_arena_allocator w = { &d0_copy, wrapping_alloc, wrapping_free };
    set_ok(&w);
    for (int i = 2 * PER_MIB; i < 4 * PER_MIB; i++)
        assert_non_null(blocks[i] = pa_malloc(BLOCK - pa_test_raw_size(0)));
    assert_true(wrapped_allocs >= 1);
    assert_int_equal(c.allocs, made);

    /* The default again: neither counts. */
    set_ok(&d0);
    got = get_now();
    assert_true(got.ctx == d0.ctx && got.alloc == d0.alloc && got.free == d0.free);
    int wrapped = wrapped_allocs;
    for (int i = 4 * PER_MIB; i < 6 * PER_MIB; i++)
        assert_non_null(blocks[i] = pa_malloc(BLOCK - pa_test_raw_size(0)));
    assert_int_equal(c.allocs, made);
    assert_int_equal(wrapped_allocs, wrapped);

    /* Every arena goes back to its maker, though the default is in force. */
    for (int i = 0; i < 6 * PER_MIB; i++)
        pa_free(blocks[i]);
    pa_trim();
    assert_int_equal(c.frees, made);
    assert_int_equal(c.bad_frees, 0);
    assert_int_equal(wrapped_frees, wrapped_allocs);
}

static void bad_arguments_are_refused(void **state)
{
    (void)state;
    pa_mem_arena_allocator d0 = get_now();
    static counting c;
    counting_init(&c);

    pa_clear_error();
    assert_int_equal(pa_object_get_arena_allocator(NULL), -1);
    assert_true(strstr(pa_last_error(), "pa_object_get_arena_allocator: out is NULL") != NULL);
    assert_int_equal(pa_object_set_arena_allocator(NULL), -1);
    assert_true(strstr(pa_last_error(), "allocator is NULL") != NULL);
    pa_mem_arena_allocator no_alloc = { &c, NULL, counting_free };
    assert_int_equal(pa_object_set_arena_allocator(&no_alloc), -1);
    assert_true(strstr(pa_last_error(), "alloc is NULL") != NULL);
    pa_mem_arena_allocator no_free = { &c, counting_alloc, NULL };
    assert_int_equal(pa_object_set_arena_allocator(&no_free), -1);
    assert_true(strstr(pa_last_error(), "free is NULL") != NULL);

    pa_mem_arena_allocator got = get_now();                 /* nothing changed */
    assert_true(got.ctx == d0.ctx && got.alloc == d0.alloc && got.free == d0.free);
    allocate_blocks(2 * PER_MIB);
    assert_int_equal(c.allocs, 0);
    free_blocks(2 * PER_MIB);
}

static void a_runtimes_object_heap_takes_its_arenas_from_the_allocator_too(void **state)
{
    (void)state;
    static counting c;
    install_counting(&c, 0, 0, 0);
    pa_runtime *rt = pa_runtime_new();
    assert_non_null(rt);
    for (int i = 0; i < 200000 && c.allocs < 2; i++)
        assert_non_null(pa_list_new(rt));           /* kept until the runtime goes */
    assert_true(c.allocs >= 2);
    pa_runtime_free(rt);
    pa_trim();
    assert_int_equal(c.frees, c.allocs);
    assert_int_equal(c.bad_frees, 0);
}

/* Threads allocate and free while the main thread switches between two allocators. */
static volatile int stop_workers;

static void *churn(void *arg)
{
    (void)arg;
    enum { N = 3 * PER_MIB };
    void **mine = malloc(N * sizeof(void *));
    while (!stop_workers) {
        for (int i = 0; i < N; i++)
            if ((mine[i] = pa_malloc(BLOCK - pa_test_raw_size(0))) != NULL)
                memset(mine[i], i, 8);
        for (int i = 0; i < N; i++)
            pa_free(mine[i]);
        pa_trim();                       /* its arenas go back: the next round needs new ones */
    }
    free(mine);
    return NULL;
}

static void installing_while_threads_allocate_keeps_each_arena_with_its_maker(void **state)
{
    (void)state;
    start_library();
    static counting c1, c2;
    counting_init(&c1);
    counting_init(&c2);
    c2.misalign = 1;
    pa_mem_arena_allocator a1 = counting_allocator(&c1), a2 = counting_allocator(&c2);
    pa_mem_arena_allocator d0 = get_now();
    pthread_t t[2];
    stop_workers = 0;
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, churn, NULL), 0);
    for (int round = 0; round < 60; round++) {
        set_ok(round % 3 == 0 ? &a1 : round % 3 == 1 ? &a2 : &d0);
        usleep(5000);
    }
    stop_workers = 1;
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    set_ok(&d0);
    pa_trim();
    assert_true(c1.allocs + c2.allocs >= 1);
    assert_int_equal(c1.bad_frees, 0);      /* a free of the other's memory would be bad here */
    assert_int_equal(c2.bad_frees, 0);
    assert_int_equal(c1.frees, c1.allocs);
    assert_int_equal(c2.frees, c2.allocs);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(new_arenas_come_from_the_installed_allocator_and_go_back_to_it),
        cmocka_unit_test(unaligned_memory_is_used_from_its_aligned_part),
        cmocka_unit_test(pa_trim_releases_no_page_of_the_callers_memory),
        cmocka_unit_test(null_from_alloc_fails_the_request_that_needs_an_arena),
        cmocka_unit_test(the_default_is_restored_and_old_arenas_go_back_to_their_maker),
        cmocka_unit_test(bad_arguments_are_refused),
        cmocka_unit_test(a_runtimes_object_heap_takes_its_arenas_from_the_allocator_too),
        cmocka_unit_test(installing_while_threads_allocate_keeps_each_arena_with_its_maker),
    };
    return PA_RUN_TESTS(tests, argc, argv);
}
