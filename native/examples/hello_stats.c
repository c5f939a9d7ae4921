/* hello_stats: the smallest tour of the allocator.
   Allocates blocks of every small size class and a few large ones, prints the
   allocator's table (as sys._debugmallocstats() does), frees everything and
   gives the arenas back to the OS. */
#include <pyalloc.h>
#include <stdio.h>
#include <string.h>

#define N 20000

int main(void)
{
    static void *blocks[N];
    printf("PyAlloc %s, allocator mode: %s\n\n", pa_version(), pa_get_allocator_mode());

    for (int i = 0; i < N; i++) {
        size_t n = (size_t)(i % 40) * 16 + 8;   /* 8..632 bytes: pools and malloc */
        blocks[i] = pa_malloc(n);
        if (blocks[i] == NULL) {
            fprintf(stderr, "pa_malloc(%zu): %s\n", n, pa_last_error());
            return 1;
        }
        memset(blocks[i], 0x5a, n);
    }
    printf("After %d allocations of 8..632 bytes:\n\n", N);
    pa_print_malloc_stats(stdout);

    for (int i = 0; i < N; i++)
        pa_free(blocks[i]);
    size_t released = pa_trim();
    pa_malloc_stats st;
    pa_get_malloc_stats(&st);
    printf("\nAfter freeing them all: %zu arena bytes returned by pa_trim, "
           "%zu arenas mapped, %zu reclaimed in all.\n",
           released, st.arenas_current, st.arenas_reclaimed);
    return 0;
}
