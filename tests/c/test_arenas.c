/* test_arenas.c -- arenas go back to the OS.

   - ~200 MiB of small blocks map >= 200 arenas and raise the resident set
     (/proc/self/statm); freeing them in random order returns every arena but
     at most one to the OS as it empties (before any pa_trim), pa_trim returns
     the last one, and the resident set falls back.
   - A single wholly free arena is kept (against thrashing) until pa_trim.
   - The usable arenas are kept sorted by free pools, fewest first: after
     arenas are left nearly empty, new pools come from the fuller arenas, no
     new arena is mapped, and the nearly empty ones drain and are released.

   The cases read process-wide figures and expect to start in a fresh process
   with nothing allocated (CTest runs each case alone).

   Under the debug hooks (debug.test_arenas.*) the requests are 32 bytes
   smaller, so that the raw blocks the pools serve have the sizes above. */
#include "test_util.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#define MIB ((size_t)1 << 20)
#define POOLS_PER_ARENA (PA_ARENA_SIZE / PA_POOL_SIZE)

static uint64_t rng_state = 0xA5E7A5E7DEADBEEFULL;

static uint64_t rnd(void) { return pa_test_splitmix64(&rng_state); }

static uintptr_t arena_of(const void *p)
{
    return (uintptr_t)p & ~(uintptr_t)(PA_ARENA_SIZE - 1);
}

static size_t pool_index_of(const void *p)
{
    return ((uintptr_t)p & (PA_ARENA_SIZE - 1)) / PA_POOL_SIZE;
}

/* No block in use and, after a trim, no arena: what a fresh process has. */
static void require_fresh_allocator(void)
{
    pa_malloc_stats st = pa_stats_now();
    if (pa_stats_blocks_in_use(&st) != 0 || st.large_blocks != 0)
        fail_msg("test set-up: expected a fresh allocator, found %zu pool and %zu large blocks",
                 pa_stats_blocks_in_use(&st), st.large_blocks);
    pa_trim();
    st = pa_stats_now();
    if (st.arenas_current != 0)
        fail_msg("test set-up: %zu arenas left after pa_trim with no block in use", st.arenas_current);
}

static void arenas_of_200_mib_return_to_the_os_when_freed(void **state)
{
    (void)state;
    require_fresh_allocator();
    pa_malloc_stats st0 = pa_stats_now(); /* arenas of earlier cases are counted in */
    const size_t target = 200 * MIB;
    const size_t max_blocks = target / 128 + 1;
    void **blocks = malloc(max_blocks * sizeof *blocks);
    assert_non_null(blocks);
    memset(blocks, 0, max_blocks * sizeof *blocks); /* resident before the baseline */

    size_t rss0 = pa_test_rss_bytes();
    size_t n = 0, bytes = 0;
    const size_t extra = pa_test_raw_size(0);
    while (bytes < target) {
        size_t size = 128 + (size_t)(rnd() % 385) - extra; /* raw 128..512: classes 7..31 */
        void *p = pa_malloc(size);
        if (p == NULL)
            fail_msg("pa_malloc(%zu) failed after %zu MiB: %s", size, bytes / MIB, pa_last_error());
        memset(p, 0x5A, size); /* make the pages resident */
        blocks[n++] = p;
        size_t block = (size_t)(pa_test_class_of(size) + 1) * PA_ALIGNMENT;
        if (!pa_test_debug_hooks())
            assert_int_equal(pa_usable_size(p), block);
        bytes += block;
    }
    pa_malloc_stats full = pa_stats_now();
    pa_assert_stats_consistent(&full);
    size_t rss1 = pa_test_rss_bytes();
    printf("test_arenas: %zu blocks, %zu MiB in blocks, %zu arenas, RSS %zu -> %zu MiB\n",
           n, full.bytes_in_used_blocks / MIB, full.arenas_current, rss0 / MIB, rss1 / MIB);
    assert_int_equal(full.bytes_in_used_blocks, bytes);
    assert_true(full.arenas_current >= 190);
    assert_true(full.arenas_current <= 230); /* the pools are well used */
    assert_int_equal(full.arenas_allocated - st0.arenas_allocated, full.arenas_current);
    assert_int_equal(full.arenas_highwater,
                     full.arenas_current > st0.arenas_highwater ? full.arenas_current : st0.arenas_highwater);
    if (rss1 < rss0 + 180 * MIB)
        fail_msg("RSS grew by %zu MiB only for %zu arenas", (rss1 - rss0) / MIB, full.arenas_current);

    /* Free in random order. */
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)(rnd() % (i + 1));
        void *t = blocks[i];
        blocks[i] = blocks[j];
        blocks[j] = t;
    }
    size_t checkpoint = n / 2;
    for (size_t i = 0; i < n; i++) {
        pa_free(blocks[i]);
        if (i == checkpoint) {
            /* Half freed at random: every arena still has live blocks. */
            pa_malloc_stats half = pa_stats_now();
            pa_assert_stats_consistent(&half);
            assert_int_equal(pa_stats_blocks_in_use(&half), n - checkpoint - 1);
        }
    }

    pa_malloc_stats freed = pa_stats_now();
    pa_assert_stats_consistent(&freed);
    assert_int_equal(pa_stats_blocks_in_use(&freed), 0);
    if (freed.arenas_current > 1)
        fail_msg("%zu wholly free arenas still mapped before pa_trim (pymalloc keeps at most one)",
                 freed.arenas_current);
    assert_int_equal(freed.arenas_reclaimed - st0.arenas_reclaimed, full.arenas_current - freed.arenas_current);

    size_t released = pa_trim();
    assert_int_equal(released, freed.arenas_current * PA_ARENA_SIZE);
    pa_malloc_stats trimmed = pa_stats_now();
    pa_assert_stats_consistent(&trimmed);
    assert_int_equal(trimmed.arenas_current, 0);
    assert_int_equal(trimmed.arena_bytes, 0);
    assert_int_equal(trimmed.arenas_reclaimed - st0.arenas_reclaimed, full.arenas_current);
    assert_int_equal(trimmed.arenas_highwater, full.arenas_highwater);

    size_t rss2 = pa_test_rss_bytes();
    printf("test_arenas: after freeing and pa_trim: RSS %zu MiB, released %zu bytes\n", rss2 / MIB, released);
    if (rss2 + 150 * MIB > rss1)
        fail_msg("RSS fell by %zu MiB only (from %zu MiB)", rss1 > rss2 ? (rss1 - rss2) / MIB : 0, rss1 / MIB);
    free(blocks);
}

static void one_wholly_free_arena_is_kept_until_trim(void **state)
{
    (void)state;
    require_fresh_allocator();
    pa_trim();
    pa_malloc_stats st0 = pa_stats_now();
    assert_int_equal(st0.arenas_current, 0);
    assert_int_equal(pa_trim(), 0); /* nothing to release */

    void *p = pa_malloc(100);
    assert_non_null(p);
    pa_malloc_stats st = pa_stats_now();
    assert_int_equal(st.arenas_current, 1);
    assert_int_equal(st.arenas_allocated, st0.arenas_allocated + 1);

    /* Allocating and freeing one block in a loop must not map and unmap. */
    pa_free(p);
    for (int i = 0; i < 1000; i++) {
        void *q = pa_malloc(100);
        assert_non_null(q);
        pa_free(q);
    }
    st = pa_stats_now();
    assert_int_equal(st.arenas_current, 1);
    assert_int_equal(st.arenas_allocated, st0.arenas_allocated + 1);
    assert_int_equal(st.arenas_reclaimed, st0.arenas_reclaimed);
    assert_int_equal(st.pools_in_use, 0);
    assert_int_equal(st.pools_free, POOLS_PER_ARENA);

    assert_int_equal(pa_trim(), PA_ARENA_SIZE);
    st = pa_stats_now();
    assert_int_equal(st.arenas_current, 0);
    assert_int_equal(st.arenas_reclaimed, st0.arenas_reclaimed + 1);
    assert_int_equal(pa_trim(), 0);

    /* A new allocation maps a new arena. */
    p = pa_malloc(100);
    assert_non_null(p);
    st = pa_stats_now();
    assert_int_equal(st.arenas_current, 1);
    assert_int_equal(st.arenas_allocated, st0.arenas_allocated + 2);
    /* An arena with a live block is not trimmed. */
    assert_int_equal(pa_trim(), 0);
    st = pa_stats_now();
    assert_int_equal(st.arenas_current, 1);
    pa_free(p);
}

enum { MAX_ARENAS = 64 };

typedef struct arena_info {
    uintptr_t base;
    size_t blocks;   /* of ours in it */
    char role;       /* 'D' nearly emptied, 'K' kept 20 % full, 0 not wholly ours */
} arena_info;

static arena_info *find_arena(arena_info *arenas, size_t *count, uintptr_t base, bool add)
{
    for (size_t i = 0; i < *count; i++)
        if (arenas[i].base == base)
            return &arenas[i];
    if (!add)
        return NULL;
    assert_true(*count < MAX_ARENAS);
    arenas[*count].base = base;
    arenas[*count].blocks = 0;
    arenas[*count].role = 0;
    return &arenas[(*count)++];
}

static void new_pools_come_from_the_fullest_arenas_so_nearly_empty_ones_drain(void **state)
{
    (void)state;
    require_fresh_allocator();
    /* 20 arenas of 512-byte blocks (31 per pool). */
    const size_t per_pool = 31;
    const size_t per_arena = per_pool * POOLS_PER_ARENA;
    const size_t n = 20 * per_arena;
    void **blocks = malloc(n * sizeof *blocks);
    assert_non_null(blocks);
    arena_info arenas[MAX_ARENAS];
    size_t narenas = 0;
    const size_t extra = pa_test_raw_size(0);
    for (size_t i = 0; i < n; i++) {
        blocks[i] = pa_malloc(512 - extra);
        assert_non_null(blocks[i]);
        find_arena(arenas, &narenas, arena_of(blocks[i]), true)->blocks++;
    }
    /* Alternate the roles over the arenas filled wholly with our blocks. */
    size_t nd = 0, nk = 0;
    for (size_t i = 0; i < narenas; i++) {
        if (arenas[i].blocks != per_arena)
            continue;
        if ((nd + nk) % 2 == 0) {
            arenas[i].role = 'D';
            nd++;
        } else {
            arenas[i].role = 'K';
            nk++;
        }
    }
    if (nd < 8 || nk < 8)
        fail_msg("test set-up: only %zu + %zu arenas hold nothing but our blocks", nd, nk);

    /* Free about 90 %: D arenas keep one block (in pool 0), K arenas keep
       their last 13 pools full; blocks elsewhere are all freed. */
    const size_t kept_pools = 13;
    void **survivors = malloc(n * sizeof *survivors);
    assert_non_null(survivors);
    size_t nsurv = 0, freed = 0;
    bool d_kept[MAX_ARENAS] = {false};
    for (size_t i = 0; i < n; i++) {
        arena_info *a = find_arena(arenas, &narenas, arena_of(blocks[i]), false);
        bool keep = false;
        if (a->role == 'D' && !d_kept[a - arenas] && pool_index_of(blocks[i]) == 0) {
            keep = true;
            d_kept[a - arenas] = true;
        } else if (a->role == 'K' && pool_index_of(blocks[i]) >= POOLS_PER_ARENA - kept_pools) {
            keep = true;
        }
        if (keep) {
            survivors[nsurv++] = blocks[i];
        } else {
            pa_free(blocks[i]);
            freed++;
        }
    }
    assert_true(freed * 10 >= n * 8); /* ~90 % freed */
    pa_malloc_stats mid = pa_stats_now();
    pa_assert_stats_consistent(&mid);
    assert_int_equal(pa_stats_blocks_in_use(&mid), nsurv);

    /* New pools, of a class no one used yet: they must come from the K arenas
       (fewest free pools first), not from the nearly empty D arenas. */
    const size_t new_pools = nk * (POOLS_PER_ARENA - kept_pools) * 3 / 4;
    const size_t per_pool_400 = (PA_POOL_SIZE - 48) / 400;
    const size_t m = new_pools * per_pool_400;
    void **fresh = malloc(m * sizeof *fresh);
    assert_non_null(fresh);
    size_t in_d = 0, in_k = 0;
    for (size_t i = 0; i < m; i++) {
        fresh[i] = pa_malloc(400 - extra);
        assert_non_null(fresh[i]);
        arena_info *a = find_arena(arenas, &narenas, arena_of(fresh[i]), false);
        in_d += a != NULL && a->role == 'D';
        in_k += a != NULL && a->role == 'K';
    }
    pa_malloc_stats after = pa_stats_now();
    pa_assert_stats_consistent(&after);
    printf("test_arenas: %zu new blocks: %zu in fuller arenas, %zu in nearly empty ones; "
           "arenas allocated %zu -> %zu\n", m, in_k, in_d, mid.arenas_allocated, after.arenas_allocated);
    if (in_d != 0)
        fail_msg("%zu of %zu new blocks went to nearly empty arenas", in_d, m);
    assert_int_equal(in_k, m);
    assert_int_equal(after.arenas_allocated, mid.arenas_allocated);
    assert_int_equal(after.arenas_current, mid.arenas_current);

    /* The nearly empty arenas drain: freeing their last blocks releases them
       (all but possibly the one kept against thrashing). */
    for (size_t i = 0; i < nsurv; i++) {
        arena_info *a = find_arena(arenas, &narenas, arena_of(survivors[i]), false);
        if (a->role == 'D')
            pa_free(survivors[i]);
    }
    pa_malloc_stats drained = pa_stats_now();
    pa_assert_stats_consistent(&drained);
    assert_true(drained.arenas_current + nd - 1 <= after.arenas_current);

    for (size_t i = 0; i < nsurv; i++) {
        arena_info *a = find_arena(arenas, &narenas, arena_of(survivors[i]), false);
        if (a->role != 'D')
            pa_free(survivors[i]);
    }
    for (size_t i = 0; i < m; i++)
        pa_free(fresh[i]);
    pa_trim();
    pa_malloc_stats end = pa_stats_now();
    assert_int_equal(pa_stats_blocks_in_use(&end), 0);
    assert_int_equal(end.arenas_current, 0);
    free(fresh);
    free(survivors);
    free(blocks);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(arenas_of_200_mib_return_to_the_os_when_freed),
        cmocka_unit_test(one_wholly_free_arena_is_kept_until_trim),
        cmocka_unit_test(new_pools_come_from_the_fullest_arenas_so_nearly_empty_ones_drain),
    };
    return PA_RUN_TESTS(tests, argc, argv);
}
