/* asan_ok.c -- built with -fsanitize=address: a correct host must exit 0
   (no report, no leak from the library or its runtime), with the pools
   poisoned behind it. */
#include <pyalloc.h>

#include <stdio.h>
#include <string.h>

int main(void)
{
    static char *blocks[2000];
    for (int i = 0; i < 2000; i++) {
        size_t n = (size_t)(i % 600) + 1;
        blocks[i] = pa_malloc(n);
        memset(blocks[i], 7, n);
    }
    for (int i = 0; i < 2000; i++)
        pa_free(blocks[i]);
    pa_runtime *rt = pa_runtime_new();
    pa_object *list = pa_list_new(rt);
    pa_decref(list);
    pa_gc_collect(rt, 2);
    pa_runtime_free(rt);
    puts("asan_ok: done");
    return 0;
}
