/* header_alone.c -- pyalloc.h must be self-contained and warning-free under
   -std=c99 / -std=c11 -Wall -Wextra -Wpedantic -Werror: it is the only
   include here, and every declaration of sections 1-3 is used once so that a
   broken prototype, type or macro shows up as a compile error. */
#include <pyalloc.h>

int pa_header_alone_check(FILE *out);

int pa_header_alone_check(FILE *out)
{
    pa_malloc_stats st;
    pa_size_class_stats *cls = &st.classes[PA_NUM_SIZE_CLASSES - 1];
    void *p = pa_malloc(PA_SMALL_REQUEST_THRESHOLD);
    void *q = pa_calloc(2, PA_ALIGNMENT);
    size_t n = pa_usable_size(p) + PA_POOL_SIZE + PA_ARENA_SIZE;
    intptr_t major = PA_VERSION_MAJOR + PA_VERSION_MINOR + PA_VERSION_PATCH;
    p = pa_realloc(p, n);
    pa_free(p);
    pa_free(q);
    (void)pa_trim();
    if (pa_get_malloc_stats(&st) != 0 || pa_print_malloc_stats(out) != 0)
        return (int)major;
    if (pa_set_allocator_mode("pymalloc") != 0)
        return -1;
    pa_clear_error();
    return (int)(cls->blocks_in_use + cls->block_size + cls->pools + cls->free_blocks)
         + (pa_last_error()[0] + pa_version()[0] + pa_get_allocator_mode()[0]);
}
