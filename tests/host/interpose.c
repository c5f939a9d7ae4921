/* interpose.c -- a host that defines functions named like the library's
   private ones (pa__free, pa__malloc, ...) does not change the library: its
   calls between the C entry layer and the core bind inside it. */
#include <pyalloc.h>

#include <stdio.h>
#include <stdlib.h>

static int called;
void pa__free(void *p);
void *pa__malloc(size_t n, const void *site);
void pa__free(void *p) { (void)p; called++; }
void *pa__malloc(size_t n, const void *site) { (void)n; (void)site; called++; return NULL; }

int main(void)
{
    for (int i = 0; i < 1000; i++) {
        void *p = pa_malloc((size_t)(i % 3000) + 1);   /* small and large: the core's slow paths too */
        if (p == NULL)
            return 3;
        pa_free(p);
    }
    pa_free((void *)&called);   /* refused by the library's own core */
    if (called != 0) {
        fprintf(stderr, "the host's pa__* functions were called %d times\n", called);
        return 4;
    }
    printf("interpose: the library's private calls stay inside it\n");
    return 0;
}
