/* bench_trace: the cost of tracemalloc per allocation, traced against untraced in
   one run.  Each round allocates 1,000,000 blocks of 16..271 bytes and frees them
   all, first untraced, then with pa_tracemalloc_start(1); it prints ns per
   malloc+free for both, their ratio, and the tracer's memory per live trace.
   bench/run.sh runs it, beside bench/python/bench_trace.py (the same loop in CPython). */
#include <pyalloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { N = 1000000 };
static void *blocks[N];

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

static double run(void)
{
    double t0 = now_ns();
    for (int i = 0; i < N; i++)
        blocks[i] = pa_malloc(16 + (size_t)(i & 255));
    for (int i = 0; i < N; i++)
        pa_free(blocks[i]);
    return (now_ns() - t0) / N;
}

int main(int argc, char **argv)
{
    int runs = argc > 2 && !strcmp(argv[1], "--runs") ? atoi(argv[2]) : 5;
    printf("%-8s %12s %12s %8s %14s\n", "round", "untraced", "traced", "ratio", "bytes/trace");
    for (int r = 0; r < runs; r++) {
        double untraced = run();
        pa_tracemalloc_start(1);
        for (int i = 0; i < N; i++)
            blocks[i] = pa_malloc(16 + (size_t)(i & 255));
        double per_trace = (double)pa_tracemalloc_get_memory() / N;
        for (int i = 0; i < N; i++)
            pa_free(blocks[i]);
        double traced = run();
        pa_tracemalloc_stop();
        printf("%-8d %12.1f %12.1f %8.2f %14.1f\n", r + 1, untraced, traced, traced / untraced, per_trace);
    }
    return 0;
}
