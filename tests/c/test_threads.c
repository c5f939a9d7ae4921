/* test_threads.c -- the allocator under several threads.

   - Four threads each run 250,000 operations on random sizes 1..1024,
     pattern-filling every block, and hand about half of the blocks they
     retire to another thread through a mutex-protected inbox; the receiver
     checks the pattern, sometimes reallocates the block, and frees it
     (cross-thread free and realloc).  At the end every class has 0 blocks in
     use and pa_trim leaves no arena mapped.
   - Blocks outlive the thread that allocated them.
   - pa_get_malloc_stats, called while other threads allocate, gives a
     consistent picture of the pools.
   - pa_last_error is per thread: four threads failing at once each read
     their own message. */
#include "test_util.h"

#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

enum {
    NTHREADS = 4,
    OPS_PER_THREAD = 250000,
    LOCAL_SLOTS = 4096,
    MAX_SIZE = 1024,
};

typedef struct item {
    unsigned char *p;
    size_t size;
} item;

typedef struct inbox {
    pthread_mutex_t lock;
    item *items;
    size_t count, capacity;
} inbox;

typedef struct worker {
    int id;
    uint64_t rng;
    unsigned long ops, allocated, sent, received, freed_local, realloced_remote;
    char failure[256]; /* first failure, "" when none */
} worker;

static inbox inboxes[NTHREADS];
static worker workers[NTHREADS];
static atomic_int done_sending;
static pthread_barrier_t start_line;

static uint64_t rnd(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

#define WORKER_FAIL(w, ...)                                                     \
    do {                                                                        \
        if ((w)->failure[0] == '\0')                                            \
            snprintf((w)->failure, sizeof (w)->failure, __VA_ARGS__);          \
        return false;                                                           \
    } while (0)

static bool check_block(worker *w, const item *it, const char *when)
{
    size_t bad = pa_pattern_check(it->p, it->size, pa_pattern_seed(it->p, it->size));
    if (bad != (size_t)-1)
        WORKER_FAIL(w, "thread %d, %s: block %p (%zu bytes) broken at byte %zu",
                    w->id, when, (void *)it->p, it->size, bad);
    return true;
}

static bool new_block(worker *w, item *it)
{
    size_t n = 1 + (size_t)(rnd(&w->rng) % MAX_SIZE);
    unsigned char *p = rnd(&w->rng) % 4 == 0 ? pa_calloc(1, n) : pa_malloc(n);
    if (p == NULL)
        WORKER_FAIL(w, "thread %d: allocating %zu bytes failed: %s", w->id, n, pa_last_error());
    if (((uintptr_t)p & (PA_ALIGNMENT - 1)) != 0)
        WORKER_FAIL(w, "thread %d: %p is not 16-byte aligned", w->id, (void *)p);
    it->p = p;
    it->size = n;
    pa_pattern_fill(p, n, pa_pattern_seed(p, n));
    w->allocated++;
    return true;
}

static void send_block(worker *w, item it)
{
    int to = (w->id + 1 + (int)(rnd(&w->rng) % (NTHREADS - 1))) % NTHREADS;
    inbox *box = &inboxes[to];
    pthread_mutex_lock(&box->lock);
    if (box->count == box->capacity) {
        box->capacity = box->capacity ? box->capacity * 2 : 1024;
        box->items = realloc(box->items, box->capacity * sizeof *box->items);
        if (box->items == NULL)
            abort();
    }
    box->items[box->count++] = it;
    pthread_mutex_unlock(&box->lock);
    w->sent++;
}

/* Takes every block from this thread's inbox: check, maybe realloc, free. */
static bool drain_inbox(worker *w)
{
    inbox *box = &inboxes[w->id];
    pthread_mutex_lock(&box->lock);
    item *items = box->items;
    size_t count = box->count;
    box->items = NULL;
    box->count = box->capacity = 0;
    pthread_mutex_unlock(&box->lock);

    bool ok = true;
    for (size_t i = 0; i < count && ok; i++) {
        item it = items[i];
        ok = check_block(w, &it, "received from another thread");
        if (ok && rnd(&w->rng) % 4 == 0) {
            size_t n = 1 + (size_t)(rnd(&w->rng) % MAX_SIZE);
            uint64_t old_seed = pa_pattern_seed(it.p, it.size);
            size_t keep = n < it.size ? n : it.size;
            unsigned char *q = pa_realloc(it.p, n);
            if (q == NULL) {
                snprintf(w->failure, sizeof w->failure, "thread %d: cross-thread pa_realloc failed: %s",
                         w->id, pa_last_error());
                ok = false;
                break;
            }
            if (pa_pattern_check(q, keep, old_seed) != (size_t)-1) {
                snprintf(w->failure, sizeof w->failure,
                         "thread %d: cross-thread pa_realloc(%p, %zu) = %p lost contents",
                         w->id, (void *)it.p, n, (void *)q);
                ok = false;
                break;
            }
            it.p = q;
            it.size = n;
            pa_pattern_fill(q, n, pa_pattern_seed(q, n));
            w->realloced_remote++;
        }
        pa_free(it.p);
        w->received++;
    }
    free(items);
    return ok;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    item *slots = calloc(LOCAL_SLOTS, sizeof *slots);
    if (slots == NULL)
        abort();
    pthread_barrier_wait(&start_line);

    bool ok = true;
    for (unsigned long op = 0; op < OPS_PER_THREAD && ok; op++) {
        item *s = &slots[rnd(&w->rng) % LOCAL_SLOTS];
        if (s->p == NULL) {
            ok = new_block(w, s);
        } else {
            ok = check_block(w, s, "retiring its own block");
            if (!ok)
                break;
            if (rnd(&w->rng) % 2 == 0) {
                send_block(w, *s);
            } else {
                pa_free(s->p);
                w->freed_local++;
            }
            s->p = NULL;
        }
        if (ok && op % 64 == 0)
            ok = drain_inbox(w);
        w->ops++;
    }
    for (size_t i = 0; i < LOCAL_SLOTS; i++) {
        if (slots[i].p == NULL)
            continue;
        if (ok)
            ok = check_block(w, &slots[i], "the final free");
        pa_free(slots[i].p);
        w->freed_local++;
    }
    free(slots);

    /* No more sends from this thread; keep receiving until no one sends. */
    atomic_fetch_add(&done_sending, 1);
    while (ok) {
        bool last = atomic_load(&done_sending) == NTHREADS;
        ok = drain_inbox(w);
        if (last)
            break;
        sched_yield();
    }
    return NULL;
}

static void four_threads_free_and_realloc_each_others_blocks(void **state)
{
    (void)state;
    pa_malloc_stats before = pa_stats_now();
    atomic_store(&done_sending, 0);
    assert_int_equal(pthread_barrier_init(&start_line, NULL, NTHREADS), 0);
    pthread_t threads[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        assert_int_equal(pthread_mutex_init(&inboxes[i].lock, NULL), 0);
        memset(&workers[i], 0, sizeof workers[i]);
        workers[i].id = i;
        workers[i].rng = 0x7EA5C0DE0000ULL + (uint64_t)i;
    }
    for (int i = 0; i < NTHREADS; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, worker_main, &workers[i]), 0);
    for (int i = 0; i < NTHREADS; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    pthread_barrier_destroy(&start_line);

    unsigned long sent = 0, received = 0, allocated = 0, freed_local = 0;
    for (int i = 0; i < NTHREADS; i++) {
        worker *w = &workers[i];
        printf("thread %d: %lu ops, %lu allocated, %lu freed locally, %lu sent, %lu received "
               "(%lu reallocated)\n", i, w->ops, w->allocated, w->freed_local, w->sent, w->received,
               w->realloced_remote);
        if (w->failure[0] != '\0')
            fail_msg("%s", w->failure);
        assert_int_equal(w->ops, OPS_PER_THREAD);
        assert_int_equal(inboxes[i].count, 0);
        sent += w->sent;
        received += w->received;
        allocated += w->allocated;
        freed_local += w->freed_local;
        /* About half of the retired blocks went to another thread. */
        assert_true(w->sent * 10 >= (w->sent + w->freed_local) * 4);
        assert_true(w->received > 0);
        pthread_mutex_destroy(&inboxes[i].lock);
    }
    assert_int_equal(sent, received);
    assert_int_equal(allocated, sent + freed_local);

    pa_malloc_stats st = pa_stats_now();
    pa_assert_stats_consistent(&st);
    for (int c = 0; c < PA_NUM_SIZE_CLASSES; c++)
        if (st.classes[c].blocks_in_use != before.classes[c].blocks_in_use)
            fail_msg("class %d: %zu blocks in use after every block was freed (%zu before)",
                     c, st.classes[c].blocks_in_use, before.classes[c].blocks_in_use);
    assert_int_equal(st.large_blocks, before.large_blocks);
    assert_true(st.arenas_highwater >= 1);
    pa_trim();
    pa_malloc_stats trimmed = pa_stats_now();
    pa_assert_stats_consistent(&trimmed);
    assert_int_equal(trimmed.arenas_current, 0);
}

/* ---------------------------------------------------------------------- */

typedef struct batch {
    void *blocks[20000];
    size_t sizes[20000];
} batch;

static void *allocate_batch(void *arg)
{
    batch *b = arg;
    uint64_t s = 42;
    for (int i = 0; i < 20000; i++) {
        b->sizes[i] = (size_t)(rnd(&s) % 2000);
        b->blocks[i] = pa_malloc(b->sizes[i]);
        if (b->blocks[i])
            pa_pattern_fill(b->blocks[i], b->sizes[i], pa_pattern_seed(b->blocks[i], b->sizes[i]));
    }
    return NULL;
}

static void blocks_outlive_the_thread_that_allocated_them(void **state)
{
    (void)state;
    static batch b;
    pa_malloc_stats before = pa_stats_now();
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, allocate_batch, &b), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    /* The allocating thread is gone; its blocks are intact and freeable here. */
    pa_clear_error();
    for (int i = 0; i < 20000; i++) {
        assert_non_null(b.blocks[i]);
        assert_int_equal(pa_pattern_check(b.blocks[i], b.sizes[i], pa_pattern_seed(b.blocks[i], b.sizes[i])),
                         (size_t)-1);
        pa_free(b.blocks[i]);
    }
    assert_string_equal(pa_last_error(), "");
    pa_malloc_stats after = pa_stats_now();
    assert_int_equal(pa_stats_blocks_in_use(&after), pa_stats_blocks_in_use(&before));
    assert_int_equal(after.large_blocks, before.large_blocks);
}

/* ---------------------------------------------------------------------- */

static atomic_int churn_stop;
static atomic_long churn_batches;

static void *churn(void *arg)
{
    uint64_t s = (uint64_t)(uintptr_t)arg;
    void *slots[1024] = {0};
    while (!atomic_load(&churn_stop)) {
        for (int k = 0; k < 1000; k++) {
            size_t i = (size_t)(rnd(&s) % 1024);
            if (slots[i]) {
                pa_free(slots[i]);
                slots[i] = NULL;
            } else {
                slots[i] = pa_malloc(1 + (size_t)(rnd(&s) % 512));
            }
        }
        atomic_fetch_add(&churn_batches, 1);
    }
    for (int i = 0; i < 1024; i++)
        pa_free(slots[i]);
    return NULL;
}

static void stats_are_consistent_while_other_threads_allocate(void **state)
{
    (void)state;
    enum { CHURNERS = 3, READS = 2000 };
    atomic_store(&churn_stop, 0);
    atomic_store(&churn_batches, 0);
    pthread_t t[CHURNERS];
    for (int i = 0; i < CHURNERS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, churn, (void *)(uintptr_t)(i + 1)), 0);
    while (atomic_load(&churn_batches) < CHURNERS)
        sched_yield(); /* read while the churn is under way */
    size_t max_in_use = 0;
    long batches_at_start = atomic_load(&churn_batches);
    for (int r = 0; r < READS || atomic_load(&churn_batches) < batches_at_start + 100; r++) {
        pa_malloc_stats st = pa_stats_now();
        /* The pool figures are one picture: per-class sums agree with the totals. */
        size_t pools = 0, used = 0, in_use = 0;
        for (int c = 0; c < PA_NUM_SIZE_CLASSES; c++) {
            const pa_size_class_stats *cl = &st.classes[c];
            pools += cl->pools;
            used += cl->blocks_in_use * cl->block_size;
            in_use += cl->blocks_in_use;
            if (cl->pools > 0)
                assert_int_equal((cl->blocks_in_use + cl->free_blocks) % cl->pools, 0);
            assert_true(cl->blocks_in_use <= cl->pools * (PA_POOL_SIZE / cl->block_size));
        }
        assert_int_equal(pools, st.pools_in_use);
        assert_int_equal(used, st.bytes_in_used_blocks);
        assert_true(in_use <= CHURNERS * 1024);
        if (in_use > max_in_use)
            max_in_use = in_use;
    }
    atomic_store(&churn_stop, 1);
    for (int i = 0; i < CHURNERS; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    assert_true(max_in_use > 0); /* the reader really saw the churn */
    pa_malloc_stats end = pa_stats_now();
    pa_assert_stats_consistent(&end);
    assert_int_equal(pa_stats_blocks_in_use(&end), 0);
}

/* ---------------------------------------------------------------------- */

typedef struct error_worker {
    int id;
    char failure[256];
} error_worker;

static void *error_loop(void *arg)
{
    error_worker *w = arg;
    size_t nelem = ((size_t)1 << 62) + (size_t)w->id * 1000003u;
    char mine[32];
    snprintf(mine, sizeof mine, "%zu", nelem);
    pthread_barrier_wait(&start_line);
    if (pa_last_error()[0] != '\0') {
        snprintf(w->failure, sizeof w->failure, "thread %d starts with error \"%s\"", w->id, pa_last_error());
        return NULL;
    }
    for (int i = 0; i < 20000; i++) {
        if (pa_calloc(nelem, 8) != NULL) {
            snprintf(w->failure, sizeof w->failure, "thread %d: pa_calloc(%s, 8) succeeded", w->id, mine);
            return NULL;
        }
        void *p = pa_malloc(16); /* success on this thread does not clear the error */
        pa_free(p);
        sched_yield();
        if (strstr(pa_last_error(), mine) == NULL) {
            snprintf(w->failure, sizeof w->failure, "thread %d expected its error about %s, read \"%s\"",
                     w->id, mine, pa_last_error());
            return NULL;
        }
        if (i % 100 == 0) {
            pa_clear_error();
            sched_yield();
            if (pa_last_error()[0] != '\0') {
                snprintf(w->failure, sizeof w->failure, "thread %d: after pa_clear_error read \"%s\"",
                         w->id, pa_last_error());
                return NULL;
            }
        }
    }
    return NULL;
}

static void last_error_is_per_thread_when_threads_fail_at_once(void **state)
{
    (void)state;
    error_worker w[NTHREADS];
    pthread_t t[NTHREADS];
    assert_int_equal(pthread_barrier_init(&start_line, NULL, NTHREADS), 0);
    for (int i = 0; i < NTHREADS; i++) {
        w[i].id = i;
        w[i].failure[0] = '\0';
        assert_int_equal(pthread_create(&t[i], NULL, error_loop, &w[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    pthread_barrier_destroy(&start_line);
    for (int i = 0; i < NTHREADS; i++)
        if (w[i].failure[0] != '\0')
            fail_msg("%s", w[i].failure);
    /* The main thread failed nothing. */
    assert_string_equal(pa_last_error(), "");
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(four_threads_free_and_realloc_each_others_blocks),
        cmocka_unit_test(blocks_outlive_the_thread_that_allocated_them),
        cmocka_unit_test(stats_are_consistent_while_other_threads_allocate),
        cmocka_unit_test(last_error_is_per_thread_when_threads_fail_at_once),
    };
    return PA_RUN_TESTS(tests, argc, argv);
}
