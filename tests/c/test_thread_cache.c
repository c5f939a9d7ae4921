/* test_thread_cache.c -- the per-thread cache of pa_malloc and pa_free
   (native/entry/thread_cache.h), in pymalloc mode, the only mode that has it.

   - A block freed into the cache is free to the user: freeing it again, asking
     its usable size or reallocating it is refused, and it is handed out once.
   - calloc from the cache zeroes the block.
   - A freed block over 512 bytes (at most 16 KiB) is kept for the thread's
     next malloc it fits, eight at most, free to the user meanwhile, and
     given back at a flush or when the thread ends.
   - Statistics count cached blocks as free, also those of a thread that is
     still running; blocks of threads that ended come back to the heap, even
     from a thread that only freed (the cross-thread case), and pa_trim can
     then return every arena.
   - Blocks of arenas that share one of the cache's arena slots are checked
     and taken back as well as any.
   - Frees from a TLS destructor that runs after the cache's own are put off,
     not sent into the core (the runtime has let the thread go), and done later.
   - Turning tracemalloc on turns the caches off: new blocks are traced.
   - A free of any block but the one allocated last waits in the thread's
     ring of pending frees (thread_cache.h, "Why pa_free only stores"): a
     double free is still refused and reported by the thread's next
     pa_last_error(), whether the first free still waits or was settled, and
     a block freed twice is handed out once. */
#include "test_util.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void double_free_of_a_cached_block_is_refused(void **state)
{
    (void)state;
    void *p = pa_malloc(40);
    assert_non_null(p);
    pa_malloc_stats before = pa_stats_now();
    pa_free(p);                       /* into the cache */
    pa_clear_error();
    pa_free(p);                       /* again: a double free */
    PA_ASSERT_ERROR_MENTIONS("double free");
    /* Handed out once: two allocations of the class get two blocks. */
    void *a = pa_malloc(40), *b = pa_malloc(40);
    assert_non_null(a);
    assert_non_null(b);
    assert_true(a != b);
    pa_malloc_stats after = pa_stats_now();
    assert_int_equal(after.classes[pa_class_of(40)].blocks_in_use,
                     before.classes[pa_class_of(40)].blocks_in_use + 1);
    pa_free(a);
    pa_free(b);
}

/* Two blocks of one class: freeing the older one sends it to the ring, not
   straight to the list (it is not the block allocated last). */
static void a_double_free_waiting_in_the_ring_is_refused(void **state)
{
    (void)state;
    void *p = pa_malloc(40), *q = pa_malloc(40);
    assert_non_null(p);
    assert_non_null(q);
    pa_free(p);                       /* p waits in the ring */
    pa_clear_error();
    pa_free(p);                       /* again, before the ring is settled */
    PA_ASSERT_ERROR_MENTIONS("double free");
    /* p comes back once: of three blocks of the class, all differ. */
    void *a = pa_malloc(40), *b = pa_malloc(40), *c = pa_malloc(40);
    assert_true(a != b && b != c && a != c);
    assert_true(a != q && b != q && c != q);
    pa_free(a);
    pa_free(b);
    pa_free(c);
    pa_free(q);
}

static void a_double_free_after_the_ring_was_settled_is_refused(void **state)
{
    (void)state;
    enum { N = 100 };
    void *blocks[N];
    for (int i = 0; i < N; i++)
        blocks[i] = pa_malloc(24);
    for (int i = 0; i < N; i++)
        pa_free(blocks[i]);           /* several rings' worth: settled on the way */
    for (int i = 0; i < N; i += 7) {
        pa_clear_error();
        pa_free(blocks[i]);
        PA_ASSERT_ERROR_MENTIONS("double free");
    }
    /* And a pointer that was never a block, in a live block's arena. */
    pa_clear_error();
    void *live = pa_malloc(24);
    pa_free((char *)live + 8);        /* not 16-aligned: refused at once */
    PA_ASSERT_ERROR_MENTIONS("not");
    pa_clear_error();
    pa_free(live);
    assert_string_equal(pa_last_error(), "");
}

static void a_block_waiting_in_the_ring_is_not_live_to_its_thread(void **state)
{
    (void)state;
    void *p = pa_malloc(200), *q = pa_malloc(200);
    pa_free(p);                       /* in the ring */
    pa_clear_error();
    assert_int_equal(pa_usable_size(p), 0);
    PA_ASSERT_ERROR_MENTIONS("double free");
    pa_clear_error();
    assert_null(pa_realloc(p, 300));
    PA_ASSERT_ERROR_MENTIONS("not a live block");
    pa_free(q);
}

static void usable_size_and_realloc_of_a_cached_block_are_refused(void **state)
{
    (void)state;
    void *p = pa_malloc(100);
    assert_non_null(p);
    assert_int_equal(pa_usable_size(p), 112);
    pa_free(p);
    pa_clear_error();
    assert_int_equal(pa_usable_size(p), 0);
    PA_ASSERT_ERROR_MENTIONS("double free");
    pa_clear_error();
    assert_null(pa_realloc(p, 200));
    PA_ASSERT_ERROR_MENTIONS("not a live block");
}

static void calloc_from_the_cache_is_zeroed(void **state)
{
    (void)state;
    enum { N = 64 };
    unsigned char *blocks[N];
    for (int i = 0; i < N; i++) {
        blocks[i] = pa_malloc(64);
        assert_non_null(blocks[i]);
        memset(blocks[i], 0xAB, 64);
    }
    for (int i = 0; i < N; i++)
        pa_free(blocks[i]);           /* the cache now holds dirty 64-byte blocks */
    for (int i = 0; i < N; i++) {
        blocks[i] = pa_calloc(4, 16);
        assert_non_null(blocks[i]);
        for (int k = 0; k < 64; k++)
            if (blocks[i][k] != 0)
                fail_msg("calloc block %d byte %d is 0x%02x", i, k, blocks[i][k]);
    }
    for (int i = 0; i < N; i++)
        pa_free(blocks[i]);
}

static void a_freed_block_is_the_next_one_handed_out(void **state)
{
    (void)state;
    /* The cache is last-in first-out, per class: the freed block is still hot. */
    void *p = pa_malloc(200);
    pa_free(p);
    void *q = pa_malloc(200);
    assert_ptr_equal(p, q);
    pa_free(q);
}

/* ------------------------------------------------------- large blocks */

/* A freed block over 512 bytes (at most 16 KiB) is kept by the thread's cache
   for its next malloc that it fits, no more than twice over. */
static void a_freed_large_block_is_handed_out_again_for_a_size_it_fits(void **state)
{
    (void)state;
    void *p = pa_malloc(4000);
    assert_non_null(p);
    pa_free(p);
    void *small = pa_malloc(1000);            /* 4000 is more than twice 1000: not this one */
    assert_non_null(small);
    assert_ptr_not_equal(small, p);
    void *q = pa_malloc(3000);                /* fits: the kept block */
    assert_ptr_equal(q, p);
    assert_true(pa_usable_size(q) >= 4000);
    memset(q, 0x5a, 3000);
    pa_free(q);
    unsigned char *z = pa_calloc(100, 30);    /* from the cache, and zeroed */
    assert_ptr_equal(z, p);
    for (int i = 0; i < 3000; i++)
        assert_int_equal(z[i], 0);
    pa_free(z);
    pa_free(small);
}

static void a_kept_large_block_is_free_to_the_user(void **state)
{
    (void)state;
    void *p = pa_malloc(2048);
    assert_non_null(p);
    pa_malloc_stats before = pa_stats_now();  /* flushes: nothing kept yet but p's neighbours */
    pa_free(p);                               /* kept */
    pa_clear_error();
    pa_free(p);
    PA_ASSERT_ERROR_MENTIONS("double free");
    pa_clear_error();
    assert_int_equal(pa_usable_size(p), 0);
    PA_ASSERT_ERROR_MENTIONS("double free");
    pa_clear_error();
    assert_null(pa_realloc(p, 4096));
    PA_ASSERT_ERROR_MENTIONS("not a live block");
    pa_malloc_stats after = pa_stats_now();   /* the flush frees the kept block */
    assert_int_equal(after.large_blocks, before.large_blocks - 1);
    void *q = pa_malloc(2048);                /* and the cache keeps no stale pointer */
    assert_non_null(q);
    pa_free(q);
}

static void a_cache_keeps_eight_large_blocks_and_gives_the_rest_back(void **state)
{
    (void)state;
    enum { N = 12 };
    void *blocks[N];
    pa_malloc_stats before = pa_stats_now();
    for (int i = 0; i < N; i++)
        blocks[i] = pa_malloc(1000 + 100 * (size_t)i);
    for (int i = 0; i < N; i++)
        pa_free(blocks[i]);
    /* What is kept is handed out again: at most eight of the twelve. */
    void *again[N];
    int reused = 0;
    for (int i = 0; i < N; i++) {
        again[i] = pa_malloc(1000 + 100 * (size_t)i);
        assert_non_null(again[i]);
        for (int j = 0; j < N; j++)
            reused += again[i] == blocks[j];
    }
    assert_true(reused >= 1 && reused <= 8);
    for (int i = 0; i < N; i++)
        pa_free(again[i]);
    pa_malloc_stats after = pa_stats_now();
    assert_int_equal(after.large_blocks, before.large_blocks);
}

/* ------------------------------------------------------- other threads */

static pthread_barrier_t cached, checked;   /* a thread has done its part / the main thread has looked */

static void *keep_large_and_wait(void *arg)
{
    (void)arg;
    void *kept5k = pa_malloc(5000), *big = pa_malloc(40000);
    pa_free(kept5k);                          /* kept by this thread's cache */
    pa_free(big);                             /* over 16 KiB: freed at once */
    pthread_barrier_wait(&cached);
    pthread_barrier_wait(&checked);
    return NULL;                              /* the kept block goes back when the thread ends */
}

static void large_blocks_kept_by_a_thread_come_back_when_it_ends(void **state)
{
    (void)state;
    pa_malloc_stats before = pa_stats_now();
    pthread_barrier_init(&cached, NULL, 2);
    pthread_barrier_init(&checked, NULL, 2);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, keep_large_and_wait, NULL), 0);
    pthread_barrier_wait(&cached);
    pa_malloc_stats during = pa_stats_now();
    assert_int_equal(during.large_blocks, before.large_blocks + 1);  /* the 5000, not the 40000 */
    pthread_barrier_wait(&checked);
    assert_int_equal(pthread_join(t, NULL), 0);
    pa_malloc_stats after = pa_stats_now();
    assert_int_equal(after.large_blocks, before.large_blocks);
    pthread_barrier_destroy(&cached);
    pthread_barrier_destroy(&checked);
}

static void *cache_and_wait(void *arg)
{
    (void)arg;
    void *blocks[100];
    for (int i = 0; i < 100; i++)
        blocks[i] = pa_malloc(48);
    for (int i = 0; i < 100; i++)
        pa_free(blocks[i]);           /* cached by this thread, which keeps running */
    pthread_barrier_wait(&cached);
    pthread_barrier_wait(&checked);
    return NULL;
}

static void blocks_cached_by_a_running_thread_count_as_free(void **state)
{
    (void)state;
    pa_malloc_stats before = pa_stats_now();
    pthread_barrier_init(&cached, NULL, 2);
    pthread_barrier_init(&checked, NULL, 2);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, cache_and_wait, NULL), 0);
    pthread_barrier_wait(&cached);
    pa_malloc_stats during = pa_stats_now();
    /* Not pa_assert_stats_consistent: a pool whose only blocks wait in the other
       thread's cache is in use with no block in use (pyalloc.h says so). */
    const pa_size_class_stats *c48 = &during.classes[pa_class_of(48)];
    assert_int_equal((c48->blocks_in_use + c48->free_blocks) % c48->pools, 0);
    assert_int_equal(pa_stats_blocks_in_use(&during), pa_stats_blocks_in_use(&before));
    assert_true(during.classes[pa_class_of(48)].free_blocks >= 100);
    pthread_barrier_wait(&checked);
    assert_int_equal(pthread_join(t, NULL), 0);
    pa_malloc_stats after = pa_stats_now();
    assert_int_equal(pa_stats_blocks_in_use(&after), pa_stats_blocks_in_use(&before));
    pthread_barrier_destroy(&cached);
    pthread_barrier_destroy(&checked);
}

enum { HANDED = 20000 };
static void *handed[HANDED];

static void *free_everything_handed(void *arg)
{
    (void)arg;
    for (int i = 0; i < HANDED; i++)
        pa_free(handed[i]);
    return (void *)(uintptr_t)(pa_last_error()[0] != '\0');
}

static void a_thread_that_only_frees_gives_the_blocks_back_when_it_ends(void **state)
{
    (void)state;
    pa_trim();
    pa_malloc_stats before = pa_stats_now();
    uint64_t s = 7;
    for (int i = 0; i < HANDED; i++) {
        handed[i] = pa_malloc(1 + (size_t)(pa_pattern_next(&s) % 512));
        assert_non_null(handed[i]);
    }
    pthread_t t;
    void *failed;
    assert_int_equal(pthread_create(&t, NULL, free_everything_handed, NULL), 0);
    assert_int_equal(pthread_join(t, &failed), 0);
    assert_null(failed);
    pa_malloc_stats after = pa_stats_now();
    pa_assert_stats_consistent(&after);
    assert_int_equal(pa_stats_blocks_in_use(&after), pa_stats_blocks_in_use(&before));
    pa_trim();
    after = pa_stats_now();
    assert_int_equal(after.arenas_current, before.arenas_current);
}

static void *churn_and_exit(void *arg)
{
    uint64_t s = (uint64_t)(uintptr_t)arg;
    void *slots[256] = {0};
    for (int k = 0; k < 20000; k++) {
        size_t i = (size_t)(pa_pattern_next(&s) % 256);
        if (slots[i]) {
            pa_free(slots[i]);
            slots[i] = NULL;
        } else {
            slots[i] = pa_malloc(1 + (size_t)(pa_pattern_next(&s) % 512));
        }
    }
    for (int i = 0; i < 256; i++)
        pa_free(slots[i]);
    return NULL;
}

static void caches_of_many_short_threads_all_come_back(void **state)
{
    (void)state;
    pa_malloc_stats before = pa_stats_now();
    for (int round = 0; round < 8; round++) {
        pthread_t t[4];
        for (int i = 0; i < 4; i++)
            assert_int_equal(pthread_create(&t[i], NULL, churn_and_exit, (void *)(uintptr_t)(round * 4 + i + 1)), 0);
        for (int i = 0; i < 4; i++)
            assert_int_equal(pthread_join(t[i], NULL), 0);
    }
    pa_malloc_stats after = pa_stats_now();
    pa_assert_stats_consistent(&after);
    assert_int_equal(pa_stats_blocks_in_use(&after), pa_stats_blocks_in_use(&before));
}

/* ------------------------------------------------------------- tracing */

/* The cache remembers the live bitmaps of the arenas it freed into lately in
   256 slots, by the arena's address bits 20..27.  Two blocks of arenas 256 MiB
   apart share a slot: each free of one evicts the other, and a free that
   misses its slot walks the arena map.  A double free is refused all the same,
   and every block comes back. */
static void blocks_of_arenas_that_share_a_slot_are_still_checked(void **state)
{
    (void)state;
    enum { MAX_BLOCKS = 700000, SLOTS = 256 };   /* 512-byte blocks: 700k > 300 arenas */
    void **blocks = malloc(MAX_BLOCKS * sizeof *blocks);
    uintptr_t first_arena[SLOTS] = {0};
    size_t first_block[SLOTS] = {0};
    assert_non_null(blocks);
    pa_malloc_stats before = pa_stats_now();
    size_t n = 0, a = SIZE_MAX, b = SIZE_MAX;
    while (n < MAX_BLOCKS && a == SIZE_MAX) {
        void *p = pa_malloc(512);
        assert_non_null(p);
        uintptr_t arena = (uintptr_t)p >> 20;
        unsigned slot = (unsigned)(arena & (SLOTS - 1));
        if (first_arena[slot] == 0) {
            first_arena[slot] = arena;
            first_block[slot] = n;
        } else if (first_arena[slot] != arena) {
            a = first_block[slot];
            b = n;
        }
        blocks[n++] = p;
    }
    assert_true(a != SIZE_MAX);               /* two arenas 256 MiB apart were found */
    for (int round = 0; round < 3; round++) {
        pa_free(blocks[a]);                   /* fills the slot with a's arena */
        pa_free(blocks[b]);                   /* evicts it */
        pa_clear_error();
        pa_free(blocks[a]);                   /* misses the slot, walks the map: still a double free */
        PA_ASSERT_ERROR_MENTIONS("double free");
        pa_clear_error();
        pa_free(blocks[b]);
        PA_ASSERT_ERROR_MENTIONS("double free");
        blocks[a] = pa_malloc(512);           /* both handed out again, once each */
        blocks[b] = pa_malloc(512);
        assert_non_null(blocks[a]);
        assert_non_null(blocks[b]);
        assert_true(blocks[a] != blocks[b]);
    }
    for (size_t i = 0; i < n; i++)
        pa_free(blocks[i]);
    free(blocks);
    pa_malloc_stats after = pa_stats_now();
    assert_int_equal(after.classes[pa_class_of(512)].blocks_in_use,
                     before.classes[pa_class_of(512)].blocks_in_use);
    pa_trim();
}

/* A TLS destructor that runs after the cache's own (its key made later) frees
   the thread's blocks: NativeAOT has let the thread go by then, so the frees
   wait for the core instead of calling it, and come back on the next call; a
   malloc that would need the core fails with ENOMEM. */
enum { LATE = 300 };
static pthread_key_t late_key;
static void *late_malloc = (void *)1;
static int late_errno;

static void free_late(void *value)
{
    void **blocks = value;
    for (int i = 0; i < LATE; i++)
        pa_free(blocks[i]);             /* small blocks, one large, and one freed twice */
    pa_free(blocks[0]);
    late_malloc = pa_malloc(5000);      /* needs the core: refused, not a stopped process */
    late_errno = errno;
}

static void *allocate_then_end(void *arg)
{
    void **blocks = arg;
    for (int i = 0; i < LATE; i++)
        blocks[i] = pa_malloc(i == LATE - 1 ? 5000 : 48);
    pa_free(pa_malloc(48));             /* the cache exists, so its key does */
    pthread_setspecific(late_key, blocks);
    return NULL;
}

static void frees_in_a_late_tls_destructor_come_back_and_mallocs_fail_cleanly(void **state)
{
    (void)state;
    static void *blocks[LATE];
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, allocate_then_end, blocks), 0);
    assert_int_equal(pthread_join(t, NULL), 0);   /* the cache's key exists now */
    assert_int_equal(pthread_key_create(&late_key, free_late), 0);
    pa_malloc_stats before = pa_stats_now();
    assert_int_equal(pthread_create(&t, NULL, allocate_then_end, blocks), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    pa_clear_error();
    pa_malloc_stats after = pa_stats_now();         /* flushes: the deferred frees are done */
    assert_int_equal(after.classes[pa_class_of(48)].blocks_in_use,
                     before.classes[pa_class_of(48)].blocks_in_use);
    assert_string_equal(pa_last_error(), "");       /* the double free is not this thread's error */
    assert_null(late_malloc);
    assert_int_equal(late_errno, ENOMEM);
    pthread_key_delete(late_key);
}

static void tracing_turns_the_cache_off_so_new_blocks_are_traced(void **state)
{
    (void)state;
    void *warm = pa_malloc(32);
    pa_free(warm);                    /* the 32-byte list has blocks */
    assert_int_equal(pa_tracemalloc_start(1), 0);
    size_t before, peak, now;
    pa_tracemalloc_get_traced_memory(&before, &peak);
    void *p = pa_malloc(32);
    assert_non_null(p);
    pa_tracemalloc_get_traced_memory(&now, &peak);
    assert_int_equal(now, before + 32);
    pa_frame frame;
    assert_int_equal(pa_tracemalloc_get_traceback(p, &frame, 1), 1);
    pa_free(p);
    pa_tracemalloc_get_traced_memory(&now, &peak);
    assert_int_equal(now, before);
    pa_tracemalloc_stop();
    /* Off again: the cache serves, and nothing is traced. */
    p = pa_malloc(32);
    assert_non_null(p);
    pa_clear_error();
    assert_int_equal(pa_tracemalloc_get_traceback(p, &frame, 1), 0);
    pa_free(p);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(double_free_of_a_cached_block_is_refused),
        cmocka_unit_test(usable_size_and_realloc_of_a_cached_block_are_refused),
        cmocka_unit_test(calloc_from_the_cache_is_zeroed),
        cmocka_unit_test(a_freed_block_is_the_next_one_handed_out),
        cmocka_unit_test(a_freed_large_block_is_handed_out_again_for_a_size_it_fits),
        cmocka_unit_test(a_kept_large_block_is_free_to_the_user),
        cmocka_unit_test(a_cache_keeps_eight_large_blocks_and_gives_the_rest_back),
        cmocka_unit_test(large_blocks_kept_by_a_thread_come_back_when_it_ends),
        cmocka_unit_test(blocks_cached_by_a_running_thread_count_as_free),
        cmocka_unit_test(a_double_free_waiting_in_the_ring_is_refused),
        cmocka_unit_test(a_double_free_after_the_ring_was_settled_is_refused),
        cmocka_unit_test(a_block_waiting_in_the_ring_is_not_live_to_its_thread),
        cmocka_unit_test(a_thread_that_only_frees_gives_the_blocks_back_when_it_ends),
        cmocka_unit_test(caches_of_many_short_threads_all_come_back),
        cmocka_unit_test(blocks_of_arenas_that_share_a_slot_are_still_checked),
        cmocka_unit_test(frees_in_a_late_tls_destructor_come_back_and_mallocs_fail_cleanly),
        cmocka_unit_test(tracing_turns_the_cache_off_so_new_blocks_are_traced),
    };
    return PA_RUN_TESTS(tests, argc, argv);
}
