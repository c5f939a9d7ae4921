/* bench_gc: PyAlloc's object runtime and collector, per object.

   Workloads (N objects, default 1,000,000; each node has two reference fields,
   described by ref_offsets so the collector reads them itself):
     full     a random graph, every node referencing 2 random others, all kept
              reachable by one list: time of one full collection, per object;
     cycles   the same number of objects in unreachable 4-cycles: time of the
              collection that frees them, per object;
     chain    a linked chain released by one decref: time per object.
   bench/python/bench_gc.py runs the same graphs in CPython; bench/run.sh puts
   the two side by side.

   usage: bench_gc [--objects N] [--runs R] [--workload full|cycles|chain]   (prints "workload ns_per_object" lines)
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

static pa_type *node_type(pa_runtime *rt)
{
    pa_type_spec spec = {0};
    spec.name = "Node";
    spec.basicsize = sizeof(node);
    spec.flags = PA_TPFLAGS_HAVE_GC;
    spec.ref_offsets = node_refs;
    return pa_type_new(rt, &spec);
}

static double run_full(size_t n)
{
    pa_runtime *rt = pa_runtime_new();
    pa_gc_disable(rt);
    pa_type *t = node_type(rt);
    pa_object *all = pa_list_new(rt);
    node **nodes = malloc(n * sizeof *nodes);
    for (size_t i = 0; i < n; i++) {
        nodes[i] = (node *)pa_object_new(t);
        pa_list_append(all, (pa_object *)nodes[i]);
        pa_decref((pa_object *)nodes[i]);
    }
    for (size_t i = 0; i < n; i++) {
        nodes[i]->a = (pa_object *)nodes[next_random() % n]; pa_incref(nodes[i]->a);
        nodes[i]->b = (pa_object *)nodes[next_random() % n]; pa_incref(nodes[i]->b);
    }
    pa_gc_collect(rt, 2);                 /* settle: everything in generation 2 */
    double t0 = now_ns();
    intptr_t found = pa_gc_collect(rt, 2);
    double per = (now_ns() - t0) / (double)n;
    if (found != 0) fprintf(stderr, "full: expected 0 unreachable, got %ld\n", (long)found);
    free(nodes);
    pa_decref(all);
    pa_runtime_free(rt);
    return per;
}

static double run_cycles(size_t n)
{
    pa_runtime *rt = pa_runtime_new();
    pa_gc_disable(rt);
    pa_type *t = node_type(rt);
    for (size_t i = 0; i + 4 <= n; i += 4) {
        node *c[4];
        for (int k = 0; k < 4; k++) c[k] = (node *)pa_object_new(t);
        for (int k = 0; k < 4; k++) { c[k]->a = (pa_object *)c[(k + 1) % 4]; pa_incref(c[k]->a); }
        for (int k = 0; k < 4; k++) pa_decref((pa_object *)c[k]);
    }
    double t0 = now_ns();
    intptr_t found = pa_gc_collect(rt, 2);
    double per = (now_ns() - t0) / (double)n;
    if ((size_t)found != n / 4 * 4) fprintf(stderr, "cycles: expected %zu, got %ld\n", n / 4 * 4, (long)found);
    pa_runtime_free(rt);
    return per;
}

static double run_chain(size_t n)
{
    pa_runtime *rt = pa_runtime_new();
    pa_gc_disable(rt);
    pa_type *t = node_type(rt);
    node *head = (node *)pa_object_new(t), *cur = head;
    for (size_t i = 1; i < n; i++) {
        node *next = (node *)pa_object_new(t);
        cur->a = (pa_object *)next;       /* steals the new reference */
        cur = next;
    }
    double t0 = now_ns();
    pa_decref((pa_object *)head);
    double per = (now_ns() - t0) / (double)n;
    pa_runtime_free(rt);
    return per;
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
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
        else { fprintf(stderr, "usage: %s [--objects N] [--runs R] [--workload full|cycles|chain]\n", argv[0]); return 2; }
    }
    if (runs < 1 || runs > 101 || n < 4) { fprintf(stderr, "bad arguments\n"); return 2; }
    struct { const char *name; double (*run)(size_t); } w[] = {
        {"full", run_full}, {"cycles", run_cycles}, {"chain", run_chain}};
    for (size_t k = 0; k < sizeof w / sizeof *w; k++) {
        if (only && strcmp(only, w[k].name))
            continue;
        double t[101];
        for (int r = 0; r < runs; r++) t[r] = w[k].run(n);
        qsort(t, (size_t)runs, sizeof(double), compare_double);
        printf("%s %.2f %.2f %.2f\n", w[k].name, t[0], t[runs / 2], t[runs - 1]);
    }
    return 0;
}
