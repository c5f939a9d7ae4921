/* bench_gc: PyAlloc's object runtime and collector, per object.

   Three kinds of object, as users write them:
     node   a C type with two reference fields described by ref_offsets, so the
            collector reads them itself;
     tnode  the same layout, but the type has a C traverse callback (and a
            clear) instead of ref_offsets: the collector calls the callback;
     list   the built-in list, two items each.
   CPython's twin of node and tnode is a class with __slots__ = ("a", "b").

   Workloads (N objects, default 1,000,000), each printed as
   "name min median max" over R runs, in ns per object unless said:
     full, full-trav, full-list
              a random graph, every object referencing 2 random others, all
              kept reachable by one list: one full collection;
     cycles, cycles-list
              the objects in unreachable 4-cycles: the collection that frees them;
     chain, chain-list
              a linked chain released by one decref;
     pyramid  a pyramid of nested lists (branching 5, depth 8: 488,281 lists,
              488,280 references), fully reachable, collected 10 times: per
              list and collection (after pyperformance's gc_traversal);
     rings    100 rings of 21 nodes created, then collect(2), 50 times: the
              collections only, per object (after pyperformance's gc_collect);
     pause-p50, pause-p99, pause-max, pause-total
              automatic collections on (thresholds 700, 10, 10): 1,000,000
              nodes kept alive (a random graph held by a list) while N
              4-cycles of garbage nodes are made and dropped; every
              collection's pause timed by a gc callback: its median, 99th
              percentile and maximum in ns per pause, and the total in ns
              per garbage object.
   bench/python/bench_gc.py runs the same workloads in CPython; bench/run.sh
   puts the two side by side.

   usage: bench_gc [--objects N] [--runs R] [--workload NAME]   (NAME: a row, or
          "pause" for the four pause rows)
*/
#include <pyalloc.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct node { PA_OBJECT_HEAD pa_object *a; pa_object *b; } node;
static const size_t node_refs[] = {offsetof(node, a), offsetof(node, b), 0};

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static uint64_t rng = 0x243F6A8885A308D3ull;
static uint64_t next_random(void)
{
    uint64_t z = (rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* ------------------------------------------------------------ the kinds */

/* tnode's traverse and clear: what CPython's C types write (Py_VISIT, Py_CLEAR). */
static int tnode_traverse(pa_object *self, pa_visitproc visit, void *arg)
{
    node *n = (node *)self;
    int r;
    if (n->a != NULL && (r = visit(n->a, arg)) != 0) return r;
    if (n->b != NULL && (r = visit(n->b, arg)) != 0) return r;
    return 0;
}

static int tnode_clear(pa_object *self)
{
    node *n = (node *)self;
    pa_clear(&n->a);
    pa_clear(&n->b);
    return 0;
}

static void tnode_dealloc(pa_object *self)
{
    node *n = (node *)self;
    pa_xdecref(n->a);
    pa_xdecref(n->b);
}

enum kind { NODE, TNODE, LIST };

/* The type of a kind (NULL for lists: pa_list_new makes them). */
static pa_type *kind_type(pa_runtime *rt, enum kind k)
{
    if (k == LIST)
        return NULL;
    pa_type_spec spec = {0};
    spec.name = k == NODE ? "Node" : "TNode";
    spec.basicsize = sizeof(node);
    spec.flags = PA_TPFLAGS_HAVE_GC;
    if (k == NODE) {
        spec.ref_offsets = node_refs;
    } else {
        spec.traverse = tnode_traverse;
        spec.clear = tnode_clear;
        spec.dealloc = tnode_dealloc;
    }
    return pa_type_new(rt, &spec);
}

/* A new object of the kind with both references NULL (a list: two None-like
   placeholders are not needed, an empty list grows on the first link). */
static pa_object *kind_new(pa_runtime *rt, pa_type *t, enum kind k)
{
    return k == LIST ? pa_list_new(rt) : pa_object_new(t);
}

/* o's reference number i (0 or 1) becomes target; the object takes its own
   reference.  Pre: for a list, links are made in order 0 then 1. */
static void kind_link(pa_object *o, int i, pa_object *target, enum kind k)
{
    if (k == LIST) {
        pa_list_append(o, target);
        return;
    }
    pa_incref(target);
    if (i == 0) ((node *)o)->a = target; else ((node *)o)->b = target;
}

/* ------------------------------------------------------------ workloads */

/* n objects of the kind, each referencing 2 random ones, all held by the list
   returned (a new reference). */
static pa_object *random_graph(pa_runtime *rt, pa_type *t, enum kind k, size_t n)
{
    pa_object *all = pa_list_new(rt);
    pa_object **objs = malloc(n * sizeof *objs);
    for (size_t i = 0; i < n; i++) {
        objs[i] = kind_new(rt, t, k);
        pa_list_append(all, objs[i]);
        pa_decref(objs[i]);
    }
    for (size_t i = 0; i < n; i++) {
        kind_link(objs[i], 0, objs[next_random() % n], k);
        kind_link(objs[i], 1, objs[next_random() % n], k);
    }
    free(objs);
    return all;
}

static double full(size_t n, enum kind k)
{
    pa_runtime *rt = pa_runtime_new();
    pa_gc_disable(rt);
    pa_object *all = random_graph(rt, kind_type(rt, k), k, n);
    pa_gc_collect(rt, 2);                 /* settle: everything in generation 2 */
    double t0 = now_ns();
    intptr_t found = pa_gc_collect(rt, 2);
    double per = (now_ns() - t0) / (double)n;
    if (found != 0) fprintf(stderr, "full: expected 0 unreachable, got %ld\n", (long)found);
    pa_decref(all);
    pa_runtime_free(rt);
    return per;
}

static double cycles(size_t n, enum kind k)
{
    pa_runtime *rt = pa_runtime_new();
    pa_gc_disable(rt);
    pa_type *t = kind_type(rt, k);
    for (size_t i = 0; i + 4 <= n; i += 4) {
        pa_object *c[4];
        for (int j = 0; j < 4; j++) c[j] = kind_new(rt, t, k);
        for (int j = 0; j < 4; j++) kind_link(c[j], 0, c[(j + 1) % 4], k);
        for (int j = 0; j < 4; j++) pa_decref(c[j]);
    }
    double t0 = now_ns();
    intptr_t found = pa_gc_collect(rt, 2);
    double per = (now_ns() - t0) / (double)n;
    if ((size_t)found != n / 4 * 4) fprintf(stderr, "cycles: expected %zu, got %ld\n", n / 4 * 4, (long)found);
    pa_runtime_free(rt);
    return per;
}

static double chain(size_t n, enum kind k)
{
    pa_runtime *rt = pa_runtime_new();
    pa_gc_disable(rt);
    pa_type *t = kind_type(rt, k);
    pa_object *head = kind_new(rt, t, k), *cur = head;
    for (size_t i = 1; i < n; i++) {
        pa_object *next = kind_new(rt, t, k);
        kind_link(cur, 0, next, k);
        pa_decref(next);                  /* cur holds it now */
        cur = next;
    }
    double t0 = now_ns();
    pa_decref(head);
    double per = (now_ns() - t0) / (double)n;
    pa_runtime_free(rt);
    return per;
}

static double run_full(size_t n) { return full(n, NODE); }
static double run_full_trav(size_t n) { return full(n, TNODE); }
static double run_full_list(size_t n) { return full(n, LIST); }
static double run_cycles(size_t n) { return cycles(n, NODE); }
static double run_cycles_list(size_t n) { return cycles(n, LIST); }
static double run_chain(size_t n) { return chain(n, NODE); }
static double run_chain_list(size_t n) { return chain(n, LIST); }

/* A list of `branching` lists, each of them the same, `depth` levels down;
   the lowest ones are empty.  Adds the lists made to *count. */
static pa_object *pyramid_level(pa_runtime *rt, int branching, int depth, size_t *count)
{
    pa_object *l = pa_list_new(rt);
    (*count)++;
    for (int i = 0; depth > 0 && i < branching; i++) {
        pa_object *child = pyramid_level(rt, branching, depth - 1, count);
        pa_list_append(l, child);
        pa_decref(child);
    }
    return l;
}

enum { PYRAMID_BRANCHING = 5, PYRAMID_DEPTH = 8, PYRAMID_COLLECTIONS = 10 };

static double run_pyramid(size_t n)
{
    (void)n;
    pa_runtime *rt = pa_runtime_new();
    pa_gc_disable(rt);
    size_t count = 0;
    pa_object *top = pyramid_level(rt, PYRAMID_BRANCHING, PYRAMID_DEPTH, &count);
    pa_gc_collect(rt, 2);
    double t0 = now_ns();
    for (int i = 0; i < PYRAMID_COLLECTIONS; i++) {
        intptr_t found = pa_gc_collect(rt, 2);
        if (found != 0) fprintf(stderr, "pyramid: expected 0 unreachable, got %ld\n", (long)found);
    }
    double per = (now_ns() - t0) / (double)(count * PYRAMID_COLLECTIONS);
    pa_decref(top);
    pa_runtime_free(rt);
    return per;
}

enum { RING_SIZE = 21, RINGS = 100, RING_ROUNDS = 50 };

static double run_rings(size_t n)
{
    (void)n;
    pa_runtime *rt = pa_runtime_new();
    pa_gc_disable(rt);
    pa_type *t = kind_type(rt, NODE);
    double total = 0;
    for (int round = 0; round < RING_ROUNDS; round++) {
        for (int r = 0; r < RINGS; r++) {
            pa_object *first = pa_object_new(t), *cur = first;
            for (int i = 1; i < RING_SIZE; i++) {
                pa_object *next = pa_object_new(t);
                ((node *)cur)->a = next;  /* steals the new reference */
                cur = next;
            }
            ((node *)cur)->a = first;     /* closes the ring with first's reference */
        }
        double t0 = now_ns();
        intptr_t found = pa_gc_collect(rt, 2);
        total += now_ns() - t0;
        if (found != RINGS * RING_SIZE) fprintf(stderr, "rings: expected %d, got %ld\n", RINGS * RING_SIZE, (long)found);
    }
    pa_runtime_free(rt);
    return total / (double)(RING_ROUNDS * RINGS * RING_SIZE);
}

/* ---------------------------------------------------------------- pauses */

enum { PAUSE_LIVE = 1000000, PAUSE_MAX_COLLECTIONS = 1 << 20 };

struct pauses { double start; double *ns; size_t count; };

static void pause_callback(pa_runtime *rt, int phase, const pa_gc_info *info, void *user)
{
    (void)rt; (void)info;
    struct pauses *p = user;
    double t = now_ns();
    if (phase == PA_GC_START)
        p->start = t;
    else if (p->count < PAUSE_MAX_COLLECTIONS)
        p->ns[p->count++] = t - p->start;
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One run of the pause workload: out[0..3] = p50, p99, max (ns per pause),
   total (ns per garbage object). */
static void pause_run(size_t n, double out[4])
{
    pa_runtime *rt = pa_runtime_new();
    pa_type *t = kind_type(rt, NODE);
    pa_object *all = random_graph(rt, t, NODE, PAUSE_LIVE);
    struct pauses p = {0, malloc(PAUSE_MAX_COLLECTIONS * sizeof(double)), 0};
    pa_gc_add_callback(rt, pause_callback, &p);
    for (size_t i = 0; i + 4 <= n; i += 4) {
        pa_object *c[4];
        for (int j = 0; j < 4; j++) c[j] = pa_object_new(t);
        for (int j = 0; j < 4; j++) kind_link(c[j], 0, c[(j + 1) % 4], NODE);
        for (int j = 0; j < 4; j++) pa_decref(c[j]);
    }
    pa_gc_remove_callback(rt, pause_callback, &p);
    double total = 0;
    for (size_t i = 0; i < p.count; i++) total += p.ns[i];
    qsort(p.ns, p.count, sizeof(double), compare_double);
    out[0] = p.count ? p.ns[p.count / 2] : 0;
    out[1] = p.count ? p.ns[(size_t)((p.count - 1) * 0.99)] : 0;
    out[2] = p.count ? p.ns[p.count - 1] : 0;
    out[3] = total / (double)n;
    free(p.ns);
    pa_decref(all);
    pa_runtime_free(rt);
}

/* ------------------------------------------------------------------ main */

static void print_row(const char *name, double *t, int runs)
{
    qsort(t, (size_t)runs, sizeof(double), compare_double);
    printf("%s %.2f %.2f %.2f\n", name, t[0], t[runs / 2], t[runs - 1]);
}

int main(int argc, char **argv)
{
    size_t n = 1000000;
    int runs = 5;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--objects") && i + 1 < argc) n = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--workload") && i + 1 < argc) only = argv[++i];
        else { fprintf(stderr, "usage: %s [--objects N] [--runs R] [--workload NAME]\n", argv[0]); return 2; }
    }
    if (runs < 1 || runs > 101 || n < 4) { fprintf(stderr, "bad arguments\n"); return 2; }
    struct { const char *name; double (*run)(size_t); } w[] = {
        {"full", run_full}, {"full-trav", run_full_trav}, {"full-list", run_full_list},
        {"cycles", run_cycles}, {"cycles-list", run_cycles_list},
        {"chain", run_chain}, {"chain-list", run_chain_list},
        {"pyramid", run_pyramid}, {"rings", run_rings}};
    for (size_t k = 0; k < sizeof w / sizeof *w; k++) {
        if (only && strcmp(only, w[k].name))
            continue;
        double t[101];
        for (int r = 0; r < runs; r++) t[r] = w[k].run(n);
        print_row(w[k].name, t, runs);
    }
    if (!only || !strcmp(only, "pause")) {
        static const char *names[4] = {"pause-p50", "pause-p99", "pause-max", "pause-total"};
        double t[4][101];
        for (int r = 0; r < runs; r++) {
            double out[4];
            pause_run(n, out);
            for (int m = 0; m < 4; m++) t[m][r] = out[m];
        }
        for (int m = 0; m < 4; m++) print_row(names[m], t[m], runs);
    }
    return 0;
}
