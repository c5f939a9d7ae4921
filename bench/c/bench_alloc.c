/* bench_alloc: PyAlloc's allocator against its peers, side by side in one run.

   Workloads (sizes uniform in 8..512 bytes, drawn in advance so the random
   number generator is not measured):
     pair     malloc, touch one byte, free, repeated: the fast path;
     batch    1,000,000 mallocs, then free them all in random order: pool and
              arena management;
     churn    a live set of 100,000 blocks; each step frees a random one and
              allocates its replacement;
     churn1, churn2
              the churn workload on 1 thread and on 2 threads at once (each
              thread its own live set); ns per operation of wall time over all
              threads' operations, and scale2/1 = the 2-thread rate over the
              1-thread rate (higher is better: 2.0 is perfect scaling);
     xthread  a producer thread allocates and a consumer thread frees every
              block (a lock-free single-producer single-consumer ring of
              pointers): cross-thread frees, ns per block;
     memory   in a child process per allocator and run (so RSS figures do not
              mix): 1,000,000 blocks allocated; peak = RSS then, over the
              child's RSS before; then 90% freed in random order, the
              allocator trimmed (pa_trim, malloc_trim(0), mi_collect(true),
              jemalloc's arena.<all>.purge, tcmalloc's
              MallocExtension_ReleaseFreeMemory) and after = RSS then over
              the RSS before; in MiB.

   Allocators: PyAlloc (pa_malloc/pa_free) and glibc (malloc/free) always; the
   peers mimalloc, jemalloc and tcmalloc when their shared libraries are
   installed (./build.sh bench installs Debian's libmimalloc2.0, libjemalloc2
   and libtcmalloc-minimal4), loaded with dlopen(RTLD_LOCAL) so that none of
   them replaces malloc for the others.  Each peer is checked after loading by
   its own statistics (a block it gave must show in them), and a peer that
   does not load or fails the check is reported on stderr and in the table's
   header.  Runs are interleaved (every allocator's run k before any run k+1)
   so that the machine's noise falls on all of them alike; each figure is
   min / median / max over the runs, and the ratio column divides PyAlloc's
   median by the allocator's median (below 1.0: PyAlloc is faster or
   smaller, except scale2/1 where above 1.0 PyAlloc scales better).

   usage: bench_alloc [--runs N] [--workload NAME|all] [--allocator NAME] [--csv FILE]
                      [--max-size N]
          NAME: pair batch churn threads (churn1, churn2, xthread) memory
          --max-size N draws sizes uniform in 8..N instead (9..65535): above 512
          a few of PyAlloc's blocks take its large-block path, as CPython's do
*/
#define _GNU_SOURCE
#include <pyalloc.h>
#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct allocator {
    const char *name;
    void *(*malloc_fn)(size_t);
    void (*free_fn)(void *);
    void (*trim_fn)(void);
} allocator;

/* ------------------------------------------------------------ allocators */

static void trim_pyalloc(void) { pa_trim(); }
static void trim_glibc(void) { malloc_trim(0); }

static void (*mi_collect_fn)(bool);
static bool (*mi_is_in_heap_region_fn)(const void *);
static void trim_mimalloc(void) { mi_collect_fn(true); }

static int (*je_mallctl)(const char *, void *, size_t *, void *, size_t);
static void trim_jemalloc(void)
{
    /* 4096 = MALLCTL_ARENAS_ALL: every arena */
    je_mallctl("arena.4096.purge", NULL, NULL, NULL, 0);
}

static int (*tc_numeric)(const char *, size_t *);
static void (*tc_release)(void);
static void trim_tcmalloc(void) { tc_release(); }

static char peer_problems[1024];

static void peer_problem(const char *name, const char *why)
{
    fprintf(stderr, "bench_alloc: %s: %s\n", name, why);
    size_t n = strlen(peer_problems);
    snprintf(peer_problems + n, sizeof peer_problems - n, "%s%s: %s", n ? "; " : "", name, why);
}

/* dlopen the first of libs that loads; NULL (and reported) when none does */
static void *open_peer(const char *name, const char *const *libs)
{
    char why[512] = "";
    for (; *libs; libs++) {
        void *h = dlopen(*libs, RTLD_NOW | RTLD_LOCAL);
        if (h)
            return h;
        const char *e = dlerror();
        snprintf(why + strlen(why), sizeof why - strlen(why), "%s%s", *why ? "; " : "", e ? e : *libs);
    }
    peer_problem(name, why);
    return NULL;
}

static void *sym(void *h, const char *s)
{
    void *p = dlsym(h, s);
    return p;
}

/* Each peer: load, look up, then check that a block it returns shows in its
   own statistics, so that the peer really is what is measured. */
static int load_mimalloc(allocator *a)
{
    static const char *const libs[] = {"libmimalloc.so.2", "libmimalloc.so", NULL};
    void *h = open_peer("mimalloc", libs);
    if (!h) return 0;
    *(void **)&a->malloc_fn = sym(h, "mi_malloc");
    *(void **)&a->free_fn = sym(h, "mi_free");
    *(void **)&mi_collect_fn = sym(h, "mi_collect");
    *(void **)&mi_is_in_heap_region_fn = sym(h, "mi_is_in_heap_region");
    if (!a->malloc_fn || !a->free_fn || !mi_collect_fn || !mi_is_in_heap_region_fn) {
        peer_problem("mimalloc", "a symbol is missing (mi_malloc, mi_free, mi_collect, mi_is_in_heap_region)");
        return 0;
    }
    void *p = a->malloc_fn(100);
    bool ok = p && mi_is_in_heap_region_fn(p);
    a->free_fn(p);
    if (!ok) { peer_problem("mimalloc", "mi_malloc's block is not in mimalloc's heap"); return 0; }
    a->name = "mimalloc";
    a->trim_fn = trim_mimalloc;
    return 1;
}

static int load_jemalloc(allocator *a)
{
    static const char *const libs[] = {"libjemalloc.so.2", "libjemalloc.so", NULL};
    void *h = open_peer("jemalloc", libs);
    if (!h) return 0;
    /* Debian's jemalloc has unprefixed names; dlsym on its own handle finds
       its malloc, not the process's (checked below). */
    *(void **)&a->malloc_fn = sym(h, "malloc");
    *(void **)&a->free_fn = sym(h, "free");
    *(void **)&je_mallctl = sym(h, "mallctl");
    if (!a->malloc_fn || !a->free_fn || !je_mallctl) {
        peer_problem("jemalloc", "a symbol is missing (malloc, free, mallctl)");
        return 0;
    }
    uint64_t before = 0, after = 0;
    size_t len = sizeof before;
    int rc = je_mallctl("thread.allocated", &before, &len, NULL, 0);
    void *p = a->malloc_fn(100);
    len = sizeof after;
    rc |= je_mallctl("thread.allocated", &after, &len, NULL, 0);
    a->free_fn(p);
    if (rc || after < before + 100) {
        peer_problem("jemalloc", "its malloc's block does not show in its thread.allocated");
        return 0;
    }
    a->name = "jemalloc";
    a->trim_fn = trim_jemalloc;
    return 1;
}

static int load_tcmalloc(allocator *a)
{
    static const char *const libs[] = {"libtcmalloc_minimal.so.4", "libtcmalloc.so.4", NULL};
    void *h = open_peer("tcmalloc", libs);
    if (!h) return 0;
    *(void **)&a->malloc_fn = sym(h, "tc_malloc");
    *(void **)&a->free_fn = sym(h, "tc_free");
    *(void **)&tc_numeric = sym(h, "MallocExtension_GetNumericProperty");
    *(void **)&tc_release = sym(h, "MallocExtension_ReleaseFreeMemory");
    if (!a->malloc_fn || !a->free_fn || !tc_numeric || !tc_release) {
        peer_problem("tcmalloc", "a symbol is missing (tc_malloc, tc_free, MallocExtension_*)");
        return 0;
    }
    size_t before = 0, after = 0;
    int ok = tc_numeric("generic.current_allocated_bytes", &before);
    void *p = a->malloc_fn(100000);
    ok &= tc_numeric("generic.current_allocated_bytes", &after);
    a->free_fn(p);
    if (!ok || after < before + 100000) {
        peer_problem("tcmalloc", "tc_malloc's block does not show in its generic.current_allocated_bytes");
        return 0;
    }
    a->name = "tcmalloc";
    a->trim_fn = trim_tcmalloc;
    return 1;
}

/* 0 pyalloc, 1 glibc, 2 mimalloc, 3 jemalloc, 4 tcmalloc */
enum { NALLOC = 5 };

/* Load allocator i (numbered as above). */
static int load_one(int i, allocator *a)
{
    memset(a, 0, sizeof *a);
    switch (i) {
    case 0: *a = (allocator){"pyalloc", pa_malloc, pa_free, trim_pyalloc}; return 1;
    case 1: *a = (allocator){"glibc", malloc, free, trim_glibc}; return 1;
    case 2: return load_mimalloc(a);
    case 3: return load_jemalloc(a);
    case 4: return load_tcmalloc(a);
    }
    return 0;
}

/* All that load; which[] gets each one's index in allocator_names. */
static int load_allocators(allocator *out, int *which)
{
    int n = 0;
    for (int i = 0; i < NALLOC; i++)
        if (load_one(i, &out[n]))
            which[n++] = i;
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

enum {
    SIZES = 1 << 20, BATCH = 1000000, LIVE = 100000, PAIR_OPS = 20000000, CHURN_OPS = 10000000,
    THREAD_OPS = 5000000,   /* churn operations per thread in churn1/churn2 */
    XTHREAD_OPS = 4000000,  /* blocks passed from producer to consumer */
    RING = 4096,
};
static uint16_t sizes[SIZES];       /* 8..max_size */
static unsigned max_size = 512;     /* --max-size */
static uint32_t order[BATCH];       /* a random permutation for batch frees */
static uint32_t victims[SIZES];     /* random live-set slots for churn */
static void *slots[BATCH];

static void make_inputs(void)
{
    for (size_t i = 0; i < SIZES; i++) {
        sizes[i] = (uint16_t)(8 + next_random() % (max_size - 7));
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

static void run_pair(const allocator *a, double *out)
{
    double t0 = now_ns();
    for (size_t i = 0; i < PAIR_OPS; i++) {
        unsigned char *p = a->malloc_fn(sizes[i & (SIZES - 1)]);
        p[0] = (unsigned char)i;
        a->free_fn(p);
    }
    out[0] = (now_ns() - t0) / PAIR_OPS;
}

static void run_batch(const allocator *a, double *out)
{
    double t0 = now_ns();
    for (size_t i = 0; i < BATCH; i++) {
        unsigned char *p = a->malloc_fn(sizes[i]);
        p[0] = (unsigned char)i;
        slots[i] = p;
    }
    for (size_t i = 0; i < BATCH; i++)
        a->free_fn(slots[order[i]]);
    out[0] = (now_ns() - t0) / BATCH;
}

/* ns per operation of ops churn steps on the live set live[0..LIVE),
   drawing sizes and victims from offset on */
static void churn(const allocator *a, void **live, size_t ops, size_t offset)
{
    for (size_t i = 0; i < ops; i++) {
        size_t k = i + offset;
        uint32_t v = victims[k & (SIZES - 1)];
        a->free_fn(live[v]);
        unsigned char *p = a->malloc_fn(sizes[(k + LIVE) & (SIZES - 1)]);
        p[0] = (unsigned char)i;
        live[v] = p;
    }
}

static void run_churn(const allocator *a, double *out)
{
    for (size_t i = 0; i < LIVE; i++)
        slots[i] = a->malloc_fn(sizes[i]);
    double t0 = now_ns();
    churn(a, slots, CHURN_OPS, 0);
    out[0] = (now_ns() - t0) / CHURN_OPS;
    for (size_t i = 0; i < LIVE; i++)
        a->free_fn(slots[i]);
}

/* --- threads: churn on 1 and 2 threads; producer/consumer */

typedef struct churn_job {
    const allocator *a;
    void **live;
    size_t offset;
    pthread_barrier_t *start;
} churn_job;

static void *churn_thread(void *arg)
{
    churn_job *j = arg;
    for (size_t i = 0; i < LIVE; i++)
        j->live[i] = j->a->malloc_fn(sizes[(i + j->offset) & (SIZES - 1)]);
    pthread_barrier_wait(j->start);   /* filled: the clock starts */
    churn(j->a, j->live, THREAD_OPS, j->offset);
    pthread_barrier_wait(j->start);   /* all done: the clock stops */
    for (size_t i = 0; i < LIVE; i++)
        j->a->free_fn(j->live[i]);
    return NULL;
}

/* wall-clock ns per operation over all threads' operations */
static double churn_threads(const allocator *a, int nthreads)
{
    pthread_t th[2];
    churn_job jobs[2];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)nthreads + 1);
    for (int t = 0; t < nthreads; t++) {
        jobs[t] = (churn_job){a, slots + (size_t)t * LIVE, (size_t)t * 524287u, &start};
        pthread_create(&th[t], NULL, churn_thread, &jobs[t]);
    }
    pthread_barrier_wait(&start);
    double t0 = now_ns();
    pthread_barrier_wait(&start);
    double per_op = (now_ns() - t0) / ((double)THREAD_OPS * nthreads);
    for (int t = 0; t < nthreads; t++)
        pthread_join(th[t], NULL);
    pthread_barrier_destroy(&start);
    return per_op;
}

/* single-producer single-consumer ring of pointers, lock-free */
typedef struct ring {
    _Alignas(64) _Atomic size_t head;   /* next slot the producer fills */
    _Alignas(64) _Atomic size_t tail;   /* next slot the consumer empties */
    _Alignas(64) void *slot[RING];
    const allocator *a;
} ring;
static ring xring;

static void *consumer_thread(void *arg)
{
    ring *r = arg;
    size_t tail = 0;
    while (tail < XTHREAD_OPS) {
        size_t head = atomic_load_explicit(&r->head, memory_order_acquire);
        if (head == tail) { sched_yield(); continue; }
        for (; tail < head; tail++) {
            unsigned char *p = r->slot[tail & (RING - 1)];
            p[0]++;
            r->a->free_fn(p);
        }
        atomic_store_explicit(&r->tail, tail, memory_order_release);
    }
    return NULL;
}

static double run_xthread_once(const allocator *a)
{
    ring *r = &xring;
    atomic_store(&r->head, 0);
    atomic_store(&r->tail, 0);
    r->a = a;
    pthread_t consumer;
    double t0 = now_ns();
    pthread_create(&consumer, NULL, consumer_thread, r);
    size_t head = 0;
    while (head < XTHREAD_OPS) {
        size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
        if (head - tail == RING) { sched_yield(); continue; }
        size_t room = RING - (head - tail);
        for (; room && head < XTHREAD_OPS; room--, head++) {
            unsigned char *p = a->malloc_fn(sizes[head & (SIZES - 1)]);
            p[0] = (unsigned char)head;
            r->slot[head & (RING - 1)] = p;
        }
        atomic_store_explicit(&r->head, head, memory_order_release);
    }
    pthread_join(consumer, NULL);
    return (now_ns() - t0) / XTHREAD_OPS;
}

static void run_threads(const allocator *a, double *out)
{
    out[0] = churn_threads(a, 1);
    out[1] = churn_threads(a, 2);
    out[2] = out[0] / out[1];          /* the 2-thread rate over the 1-thread rate */
    out[3] = run_xthread_once(a);
}

/* --- memory: in a child process per allocator */

static double rss_mib(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f || fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    if (f) fclose(f);
    return resident * (double)sysconf(_SC_PAGESIZE) / (1024.0 * 1024.0);
}

/* In a fresh child: load allocator i alone, then measure.  out: peak and
   after-trim RSS over the child's RSS before; NaN when i does not load. */
static void memory_child(int i, double *out)
{
    int fd[2];
    out[0] = out[1] = 0.0 / 0.0;
    if (pipe(fd)) return;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        double r[2] = {0.0 / 0.0, 0.0 / 0.0};
        allocator a;
        if (load_one(i, &a)) {
            double base = rss_mib();
            for (size_t k = 0; k < BATCH; k++) {
                unsigned char *p = a.malloc_fn(sizes[k]);
                memset(p, 1, sizes[k]);
                slots[k] = p;
            }
            r[0] = rss_mib() - base;
            for (size_t k = 0; k < BATCH * 9 / 10; k++)
                a.free_fn(slots[order[k]]);
            a.trim_fn();
            r[1] = rss_mib() - base;
        }
        if (write(fd[1], r, sizeof r) != sizeof r) _exit(1);
        _exit(0);
    }
    close(fd[1]);
    if (pid > 0) {
        double r[2];
        if (read(fd[0], r, sizeof r) == sizeof r) { out[0] = r[0]; out[1] = r[1]; }
        waitpid(pid, NULL, 0);
    }
    close(fd[0]);
}

typedef struct workload {
    const char *name;
    void (*run)(const allocator *, double *);
    int nmetrics;
    const char *metric[4];
    const char *unit[4];
} workload;

static const workload workloads[] = {
    {"pair", run_pair, 1, {"pair"}, {"ns/op"}},
    {"batch", run_batch, 1, {"batch"}, {"ns/op"}},
    {"churn", run_churn, 1, {"churn"}, {"ns/op"}},
    {"threads", run_threads, 4, {"churn1", "churn2", "scale2/1", "xthread"},
     {"ns/op", "ns/op", "x", "ns/op"}},
    {"memory", NULL, 2, {"rss-peak", "rss-trim"}, {"MiB", "MiB"}},
};

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* ----------------------------------------------------------------- main */

enum { MAXRUNS = 101 };
static double results[NALLOC][4][MAXRUNS];

int main(int argc, char **argv)
{
    int runs = 7;
    const char *only = "all", *csv_path = NULL, *just = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--workload") && i + 1 < argc) only = argv[++i];
        else if (!strcmp(argv[i], "--csv") && i + 1 < argc) csv_path = argv[++i];
        else if (!strcmp(argv[i], "--allocator") && i + 1 < argc) just = argv[++i];
        else if (!strcmp(argv[i], "--max-size") && i + 1 < argc) max_size = (unsigned)atoi(argv[++i]);
        else { fprintf(stderr, "usage: %s [--runs N] [--workload pair|batch|churn|threads|memory|all] [--allocator NAME] [--csv FILE] [--max-size N]\n", argv[0]); return 2; }
    }
    if (max_size < 9 || max_size > 65535) { fprintf(stderr, "--max-size: 9..65535\n"); return 2; }
    if (runs < 1 || runs > MAXRUNS) { fprintf(stderr, "--runs: 1..%d\n", MAXRUNS); return 2; }

    /* jemalloc uses initial-exec TLS, and dlopen can place it only in the
       static TLS surplus, which libpyalloc.so (linked at start) leaves too
       small: run again with a larger surplus (a glibc tunable, read only at
       start), once. */
    if (!getenv("PYALLOC_BENCH_TLS")) {
        setenv("PYALLOC_BENCH_TLS", "1", 1);
        const char *old = getenv("GLIBC_TUNABLES");
        char tun[512];
        snprintf(tun, sizeof tun, "%s%sglibc.rtld.optional_static_tls=65536", old ? old : "", old ? ":" : "");
        setenv("GLIBC_TUNABLES", tun, 1);
        execv("/proc/self/exe", argv);
        /* exec failed: go on; jemalloc will be reported as not loaded */
    }

    /* Inputs first (the memory children inherit them); then the memory
       workload, before this process allocates anything or loads a peer, so
       that a child inherits no heap: each child loads its own allocator
       after the fork.  Then the peers, and the other workloads. */
    make_inputs();
    static double memory[NALLOC][2][MAXRUNS];
    if (!strcmp(only, "all") || !strcmp(only, "memory"))
        for (int r = 0; r < runs; r++)
            for (int i = 0; i < NALLOC; i++) {
                double out[2];
                memory_child(i, out);
                memory[i][0][r] = out[0];
                memory[i][1][r] = out[1];
            }
    allocator allocs[NALLOC];
    int which[NALLOC];
    int nalloc = load_allocators(allocs, which);
    if (just) {   /* one allocator only (./build.sh profile): ratios are then 1 */
        int k = 0;
        for (int a = 0; a < nalloc; a++)
            if (!strcmp(allocs[a].name, just)) { allocs[k] = allocs[a]; which[k++] = which[a]; }
        if (!k) { fprintf(stderr, "bench_alloc: no allocator %s\n", just); return 2; }
        nalloc = k;
    }
    FILE *csv = csv_path ? fopen(csv_path, "w") : NULL;
    if (csv) fprintf(csv, "workload,allocator,unit,min,median,max,ratio_pyalloc_over_allocator\n");

    printf("min / median / max over %d interleaved runs; ratio = PyAlloc median / allocator median\n", runs);
    printf("allocators:");
    for (int a = 0; a < nalloc; a++) printf(" %s", allocs[a].name);
    printf("\n");
    if (*peer_problems) printf("NOT MEASURED: %s\n", peer_problems);
    printf("\n%-9s %-10s %9s %9s %9s %7s  %s\n", "work", "allocator", "min", "median", "max", "ratio", "unit");
    for (size_t w = 0; w < sizeof workloads / sizeof *workloads; w++) {
        const workload *wl = &workloads[w];
        if (strcmp(only, "all") && strcmp(only, wl->name))
            continue;
        for (int r = 0; r < runs; r++)
            for (int a = 0; a < nalloc; a++) {
                double out[4];
                if (wl->run) wl->run(&allocs[a], out);
                else out[0] = memory[which[a]][0][r], out[1] = memory[which[a]][1][r];
                for (int m = 0; m < wl->nmetrics; m++)
                    results[a][m][r] = out[m];
            }
        for (int m = 0; m < wl->nmetrics; m++) {
            double med[NALLOC];
            for (int a = 0; a < nalloc; a++) {
                qsort(results[a][m], (size_t)runs, sizeof(double), compare_double);
                med[a] = results[a][m][runs / 2];
            }
            for (int a = 0; a < nalloc; a++) {
                const double *t = results[a][m];
                printf("%-9s %-10s %9.2f %9.2f %9.2f %7.2f  %s\n", wl->metric[m], allocs[a].name,
                       t[0], med[a], t[runs - 1], med[0] / med[a], wl->unit[m]);
                if (csv) fprintf(csv, "%s,%s,%s,%.3f,%.3f,%.3f,%.3f\n", wl->metric[m], allocs[a].name,
                                 wl->unit[m], t[0], med[a], t[runs - 1], med[0] / med[a]);
            }
        }
        fflush(stdout);
    }
    if (csv) fclose(csv);
    return 0;
}
