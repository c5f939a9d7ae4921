// header_alone.cpp -- pyalloc.h must be usable from C++17 on its own
// (-Wall -Wextra -Wpedantic -Werror): the extern "C" block, the macros and
// the struct types, with every declaration of sections 1-3 used once.
#include <pyalloc.h>

namespace {

static_assert(sizeof(pa_malloc_stats) > PA_NUM_SIZE_CLASSES * sizeof(pa_size_class_stats),
              "pa_malloc_stats holds the per-class figures");
static_assert(PA_ARENA_SIZE % PA_POOL_SIZE == 0, "arenas hold whole pools");

int check(FILE *out)
{
    pa_malloc_stats st{};
    void *p = pa_malloc(PA_SMALL_REQUEST_THRESHOLD);
    void *q = pa_calloc(2, PA_ALIGNMENT);
    p = pa_realloc(p, pa_usable_size(p) + 1);
    pa_free(p);
    pa_free(q);
    size_t released = pa_trim();
    if (pa_get_malloc_stats(&st) != 0 || pa_print_malloc_stats(out) != 0)
        return PA_VERSION_MAJOR + PA_VERSION_MINOR + PA_VERSION_PATCH;
    if (pa_set_allocator_mode("pymalloc") != 0)
        return -1;
    pa_clear_error();
    const char *texts[] = { pa_last_error(), pa_version(), pa_get_allocator_mode() };
    return static_cast<int>(released + st.classes[0].blocks_in_use) + texts[0][0] + texts[1][0] + texts[2][0];
}

} // namespace

int (*pa_header_alone_check)(FILE *) = check;
