/* bench_alloc: PyAlloc's allocator against its peers, side by side in one run.

   Workloads (sizes uniform in 8..512 bytes, drawn in advance so the random
   number generator is not measured):
     pair   malloc, touch one byte, free, repeated: the fast path;
     batch  1,000,000 mallocs, then free them all in random order: pool and
            arena management;
     churn  a live set of 100,000 blocks; each step frees a random one and
            allocates its replacement.

   Allocators: PyAlloc (pa_malloc/pa_free) and glibc (malloc/free) always; the
   peers mimalloc, jemalloc and tcmalloc when their shared libraries are
   installed, loaded with dlopen(RTLD_LOCAL) so that none of them replaces
   malloc for the others.  Runs are interleaved (every allocator's run k
   before any run k+1) so that the machine's noise falls on all of them
   alike; each figure is ns per operation (one malloc+free), min / median /
   max over the runs, and the ratio column divides PyAlloc's median by the
   allocator's median (below 1.0: PyAlloc is faster).

   usage: bench_alloc [--runs N] [--workload pair|batch|churn|all] [--csv FILE]
*/
#define _GNU_SOURCE
#include <pyalloc.h>
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct allocator {
    const char *name;
    void *(*malloc_fn)(size_t);
    void (*free_fn)(void *);
} allocator;

/* ------------------------------------------------------------ allocators */

static int load_peer(allocator *a, const char *name, const char *const *libs,
                     const char *malloc_sym, const char *free_sym)
{
    for (; *libs; libs++) {
        void *h = dlopen(*libs, RTLD_NOW | RTLD_LOCAL);
        if (!h)
            continue;
        a->name = name;
        *(void **)&a->malloc_fn = dlsym(h, malloc_sym);
        *(void **)&a->free_fn = dlsym(h, free_sym);
        if (a->malloc_fn && a->free_fn)
            return 1;
        dlclose(h);
    }
    return 0;
}

static int load_allocators(allocator *out)
{
    int n = 0;
    out[n++] = (allocator){"pyalloc", pa_malloc, pa_free};
    out[n++] = (allocator){"glibc", malloc, free};
    static const char *const mi[] = {"libmimalloc.so.2", "libmimalloc.so", NULL};
    static const char *const je[] = {"libjemalloc.so.2", "libjemalloc.so", NULL};
    static const char *const tc[] = {"libtcmalloc_minimal.so.4", "libtcmalloc.so.4", NULL};
    if (load_peer(&out[n], "mimalloc", mi, "mi_malloc", "mi_free")) n++;
    /* Debian's jemalloc has unprefixed names; dlsym on its own handle finds
       its malloc, not the process's. */
    if (load_peer(&out[n], "jemalloc", je, "malloc", "free")) n++;
    if (load_peer(&out[n], "tcmalloc", tc, "tc_malloc", "tc_free")) n++;
    return n;
}

/* --------------------------------------------------------------- inputs */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t next_random(void)
{
    /* splitmix64: fast, good enough to draw sizes and indices */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

enum { SIZES = 1 << 20, BATCH = 1000000, LIVE = 100000, PAIR_OPS = 20000000, CHURN_OPS = 10000000 };
static uint16_t sizes[SIZES];       /* 8..512 */
static uint32_t order[BATCH];       /* a random permutation for batch frees */
static uint32_t victims[SIZES];     /* random live-set slots for churn */
static void *slots[BATCH];

static void make_inputs(void)
{
    for (size_t i = 0; i < SIZES; i++) {
        sizes[i] = (uint16_t)(8 + next_random() % 505);
        victims[i] = (uint32_t)(next_random() % LIVE);
    }
    for (uint32_t i = 0; i < BATCH; i++)
        order[i] = i;
    for (uint32_t i = BATCH - 1; i > 0; i--) {
        uint32_t j = (uint32_t)(next_random() % (i + 1));
        uint32_t t = order[i]; order[i] = order[j]; order[j] = t;
    }
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* ------------------------------------------------------------ workloads */

static double run_pair(const allocator *a)
{
    double t0 = now_ns();
    for (size_t i = 0; i < PAIR_OPS; i++) {
        unsigned char *p = a->malloc_fn(sizes[i & (SIZES - 1)]);
        p[0] = (unsigned char)i;
        a->free_fn(p);
    }
    return (now_ns() - t0) / PAIR_OPS;
}

static double run_batch(const allocator *a)
{
    double t0 = now_ns();
    for (size_t i = 0; i < BATCH; i++) {
        unsigned char *p = a->malloc_fn(sizes[i]);
        p[0] = (unsigned char)i;
        slots[i] = p;
    }
    for (size_t i = 0; i < BATCH; i++)
        a->free_fn(slots[order[i]]);
    return (now_ns() - t0) / BATCH;
}

static double run_churn(const allocator *a)
{
    for (size_t i = 0; i < LIVE; i++)
        slots[i] = a->malloc_fn(sizes[i]);
    double t0 = now_ns();
    for (size_t i = 0; i < CHURN_OPS; i++) {
        uint32_t v = victims[i & (SIZES - 1)];
        a->free_fn(slots[v]);
        unsigned char *p = a->malloc_fn(sizes[(i + LIVE) & (SIZES - 1)]);
        p[0] = (unsigned char)i;
        slots[v] = p;
    }
    double per_op = (now_ns() - t0) / CHURN_OPS;
    for (size_t i = 0; i < LIVE; i++)
        a->free_fn(slots[i]);
    return per_op;
}

typedef struct workload {
    const char *name;
    double (*run)(const allocator *);
} workload;

static const workload workloads[] = {
    {"pair", run_pair}, {"batch", run_batch}, {"churn", run_churn},
};

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* ----------------------------------------------------------------- main */

int main(int argc, char **argv)
{
    int runs = 7;
    const char *only = "all", *csv_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--workload") && i + 1 < argc) only = argv[++i];
        else if (!strcmp(argv[i], "--csv") && i + 1 < argc) csv_path = argv[++i];
        else { fprintf(stderr, "usage: %s [--runs N] [--workload pair|batch|churn|all] [--csv FILE]\n", argv[0]); return 2; }
    }
    if (runs < 1 || runs > 101) { fprintf(stderr, "--runs: 1..101\n"); return 2; }

    allocator allocs[8];
    int nalloc = load_allocators(allocs);
    make_inputs();
    FILE *csv = csv_path ? fopen(csv_path, "w") : NULL;
    if (csv) fprintf(csv, "workload,allocator,min_ns,median_ns,max_ns,ratio_pyalloc_over_allocator\n");

    printf("ns per malloc+free, min / median / max over %d interleaved runs; "
           "ratio = PyAlloc median / allocator median\n\n", runs);
    printf("%-7s %-10s %8s %8s %8s %8s\n", "work", "allocator", "min", "median", "max", "ratio");
    for (size_t w = 0; w < sizeof workloads / sizeof *workloads; w++) {
        if (strcmp(only, "all") && strcmp(only, workloads[w].name))
            continue;
        double t[8][101];
        for (int r = 0; r < runs; r++)
            for (int a = 0; a < nalloc; a++)
                t[a][r] = workloads[w].run(&allocs[a]);
        double med[8];
        for (int a = 0; a < nalloc; a++) {
            qsort(t[a], (size_t)runs, sizeof(double), compare_double);
            med[a] = t[a][runs / 2];
        }
        for (int a = 0; a < nalloc; a++) {
            printf("%-7s %-10s %8.2f %8.2f %8.2f %8.2f\n", workloads[w].name, allocs[a].name,
                   t[a][0], med[a], t[a][runs - 1], med[0] / med[a]);
            if (csv) fprintf(csv, "%s,%s,%.3f,%.3f,%.3f,%.3f\n", workloads[w].name, allocs[a].name,
                             t[a][0], med[a], t[a][runs - 1], med[0] / med[a]);
        }
    }
    if (csv) fclose(csv);
    return 0;
}
