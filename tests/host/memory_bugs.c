/* memory_bugs.c -- deliberate bugs in pool blocks that memcheck or ASan must
   report: argv[1] is one of
     use_after_free   a read of a freed 100-byte block
     overflow         a write one byte past a 112-byte block, into the next
                      block of its pool (not handed out)
     uninit           a branch on a byte never written
     leak             a block that is never freed and no longer pointed to */
#include <pyalloc.h>

#include <stdio.h>
#include <string.h>

static volatile char sink;

static __attribute__((noinline)) char *make_block(size_t n)
{
    return pa_malloc(n);
}

int main(int argc, char **argv)
{
    const char *c = argc > 1 ? argv[1] : "";
    if (strcmp(c, "use_after_free") == 0) {
        char *p = make_block(100);
        memset(p, 1, 100);
        pa_free(p);
        sink = p[10];
    } else if (strcmp(c, "overflow") == 0) {
        char *p = make_block(112);
        memset(p, 1, 112);
        p[112] = 2;
        pa_free(p);
    } else if (strcmp(c, "uninit") == 0) {
        char *p = make_block(64);
        if (p[5] == 42)
            puts("forty-two");
        pa_free(p);
    } else if (strcmp(c, "leak") == 0) {
        char *p = make_block(200);
        memset(p, 1, 200);
        p = NULL;
    } else {
        fprintf(stderr, "memory_bugs: unknown case '%s'\n", c);
        return 2;
    }
    puts("memory_bugs: done");
    return 0;
}
