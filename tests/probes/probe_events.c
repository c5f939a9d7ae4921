/* probe_events.c -- fires every USDT probe of libpyalloc.so with arguments
   known in advance, for tests/probes/check_perf.py (which records it with
   perf and compares).  Prints what each probe must have carried, one line per
   event, in the form "expect PROBE ARG...", in the order they happen.

     gc__start / gc__done  a collection of each generation; the first frees
                           three 2-list cycles (6 objects), the others none
     arena__new            the first allocation maps an arena (1 MiB); the
                           address is not known in advance ("*")
     trim                  pa_trim's return value
     tracemalloc__start/stop
     fatal                 a damaged block found by the debug hooks, with a
                           handler that returns (the run goes on)
     arena__free           pa_runtime_free collects a last time (generation
                           2, nothing left) and unmaps the runtime's arena(s) */
#include <pyalloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fatal_reports;

static void on_fatal(const char *message, void *user)
{
    (void)message; (void)user;
    fatal_reports++;
}

static pa_object *must(pa_object *o, const char *what)
{
    if (!o) {
        fprintf(stderr, "probe_events: %s failed: %s\n", what, pa_last_error());
        exit(1);
    }
    return o;
}

int main(void)
{
    /* The debug hooks, so that a damaged block can be reported (fatal). */
    if (pa_set_allocator_mode("debug") != 0) {
        fprintf(stderr, "probe_events: pa_set_allocator_mode: %s\n", pa_last_error());
        return 1;
    }
    pa_set_fatal_error_handler(on_fatal, NULL);

    pa_runtime *rt = pa_runtime_new();
    if (!rt) { fprintf(stderr, "probe_events: pa_runtime_new: %s\n", pa_last_error()); return 1; }
    pa_gc_disable(rt);
    for (int i = 0; i < 3; i++) {   /* three cycles a <-> b, unreachable */
        pa_object *a = must(pa_list_new(rt), "pa_list_new");
        pa_object *b = must(pa_list_new(rt), "pa_list_new");
        if (pa_list_append(a, b) != 0 || pa_list_append(b, a) != 0) return 1;
        pa_decref(a);
        pa_decref(b);
    }
    /* The young objects are in generation 0: a collection of 0 finds them. */
    printf("expect gc__start 0\n");
    printf("expect gc__done %ld 0\n", (long)pa_gc_collect(rt, 0));
    printf("expect gc__start 1\n");
    printf("expect gc__done %ld 0\n", (long)pa_gc_collect(rt, 1));
    printf("expect gc__start 2\n");
    printf("expect gc__done %ld 0\n", (long)pa_gc_collect(rt, 2));

    if (pa_tracemalloc_start(7) != 0) return 1;
    printf("expect tracemalloc__start 7\n");
    void *kept = pa_malloc(100);
    pa_tracemalloc_stop();
    printf("expect tracemalloc__stop\n");

    /* One byte past the block: the debug hooks' free reports it (fatal), the
       handler returns, and the block is left as it was. */
    unsigned char *damaged = pa_malloc(24);
    damaged[24] = 0;
    pa_free(damaged);
    if (fatal_reports != 1) { fprintf(stderr, "probe_events: %d fatal reports\n", fatal_reports); return 1; }
    printf("expect fatal\n");

    pa_free(kept);
    printf("expect trim %zu\n", pa_trim());
    pa_runtime_free(rt);   /* a last collection, then its heap's arenas go */
    printf("expect gc__start 2\n");
    printf("expect gc__done 0 0\n");
    printf("expect arena__free *\n");
    return 0;
}
