/* consumer.c -- an outside program over an installed PyAlloc (built once
   through find_package(PyAlloc), once through pkg-config).  It allocates and
   frees blocks of every kind, checks them and the stats, prints the stats
   table, and checks that the libpyalloc.so it runs with is the installed one:
   argv[1] is the install's lib directory.  Prints "consumer: OK" and exits 0
   when every check holds. */
#define _GNU_SOURCE
#include <pyalloc.h>

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "consumer: check failed at line %d: %s\n", __LINE__, #cond); \
            failures++;                                                        \
        }                                                                      \
    } while (0)

/* The path libpyalloc.so was loaded from, per /proc/self/maps. */
static int loaded_from(const char *dir)
{
    char want[PATH_MAX], line[4096 + PATH_MAX];
    if (realpath(dir, want) == NULL)
        return 0;
    FILE *maps = fopen("/proc/self/maps", "r");
    if (maps == NULL)
        return 0;
    int found = 0;
    while (fgets(line, sizeof line, maps)) {
        char *path = strchr(line, '/');
        if (path == NULL || strstr(path, "libpyalloc.so") == NULL)
            continue;
        path[strcspn(path, "\n")] = '\0';
        char *slash = strrchr(path, '/');
        *slash = '\0';
        char real[PATH_MAX];
        if (realpath(path, real) == NULL)
            continue;
        printf("consumer: libpyalloc.so loaded from %s\n", real);
        found = strcmp(real, want) == 0;
        break;
    }
    fclose(maps);
    return found;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: consumer <install lib dir>\n");
        return 2;
    }
    char version[32];
    snprintf(version, sizeof version, "%d.%d.%d", PA_VERSION_MAJOR, PA_VERSION_MINOR, PA_VERSION_PATCH);
    printf("consumer: PyAlloc %s, mode %s\n", pa_version(), pa_get_allocator_mode());
    CHECK(strcmp(pa_version(), version) == 0);
    CHECK(strcmp(pa_get_allocator_mode(), "pymalloc") == 0);
    CHECK(loaded_from(argv[1]));

    enum { N = 3000 };
    static unsigned char *blocks[N];
    for (int i = 0; i < N; i++) {
        size_t n = (size_t)(i % 700);
        blocks[i] = pa_malloc(n);
        CHECK(blocks[i] != NULL);
        if (blocks[i] == NULL)
            return 1;
        CHECK(((uintptr_t)blocks[i] & 15) == 0);
        memset(blocks[i], i & 0xFF, n);
    }
    pa_malloc_stats st;
    CHECK(pa_get_malloc_stats(&st) == 0);
    size_t small = 0, large = 0;
    for (int i = 0; i < N; i++)
        if (i % 700 <= PA_SMALL_REQUEST_THRESHOLD)
            small++;
        else
            large++;
    size_t in_use = 0;
    for (int c = 0; c < PA_NUM_SIZE_CLASSES; c++)
        in_use += st.classes[c].blocks_in_use;
    CHECK(in_use == small);
    CHECK(st.large_blocks == large);
    CHECK(st.arenas_current >= 1);
    CHECK(st.arena_bytes == st.arenas_current * PA_ARENA_SIZE);
    CHECK(pa_print_malloc_stats(stdout) == 0);

    for (int i = 0; i < N; i++) {
        size_t n = (size_t)(i % 700);
        for (size_t k = 0; k < n; k++)
            if (blocks[i][k] != (i & 0xFF)) {
                CHECK(!"block contents intact");
                break;
            }
        pa_free(blocks[i]);
    }
    CHECK(pa_calloc(SIZE_MAX, 2) == NULL);
    CHECK(pa_last_error()[0] != '\0');
    pa_trim();
    CHECK(pa_get_malloc_stats(&st) == 0);
    CHECK(st.arenas_current == 0);
    CHECK(st.large_blocks == 0);
    if (failures) {
        fprintf(stderr, "consumer: %d checks failed\n", failures);
        return 1;
    }
    printf("consumer: OK\n");
    return 0;
}
