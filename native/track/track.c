/* Memory tracking for memcheck and ASan: see track.h. */
#define _GNU_SOURCE
#include "track.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <valgrind/memcheck.h>

#define PA_TRACK __attribute__((visibility("hidden")))

/* ASan's run-time, when the host was built with -fsanitize=address: its
   public calls, found at run time (the library itself is not instrumented). */
static void (*asan_poison)(const volatile void *p, size_t n);
static void (*asan_unpoison)(const volatile void *p, size_t n);
static void (*lsan_register_root)(const void *p, size_t n);
static void (*lsan_unregister_root)(const void *p, size_t n);
static int mode = -1;

PA_TRACK int pa__track_mode(void)
{
    if (mode >= 0)
        return mode;
    const char *env = getenv("PYALLOC_TRACK");
    if (env != NULL && strcmp(env, "off") == 0)
        return mode = PA__TRACK_NONE;
    if (RUNNING_ON_VALGRIND)
        return mode = PA__TRACK_MEMCHECK;
    asan_poison = (void (*)(const volatile void *, size_t))dlsym(RTLD_DEFAULT, "__asan_poison_memory_region");
    asan_unpoison = (void (*)(const volatile void *, size_t))dlsym(RTLD_DEFAULT, "__asan_unpoison_memory_region");
    lsan_register_root = (void (*)(const void *, size_t))dlsym(RTLD_DEFAULT, "__lsan_register_root_region");
    lsan_unregister_root = (void (*)(const void *, size_t))dlsym(RTLD_DEFAULT, "__lsan_unregister_root_region");
    if (asan_poison != NULL && asan_unpoison != NULL)
        return mode = PA__TRACK_ASAN;
    return mode = PA__TRACK_NONE;
}

PA_TRACK void pa__track_heap(void *heap, int alive)
{
    if (mode != PA__TRACK_MEMCHECK)
        return;
    if (alive)
        VALGRIND_CREATE_MEMPOOL(heap, 0, 0);
    else
        VALGRIND_DESTROY_MEMPOOL(heap);
}

PA_TRACK void pa__track_alloc(void *heap, void *p, size_t n)
{
    if (mode == PA__TRACK_MEMCHECK)
        VALGRIND_MEMPOOL_ALLOC(heap, p, n);
    else if (mode == PA__TRACK_ASAN)
        asan_unpoison(p, n);
}

PA_TRACK void pa__track_free(void *heap, void *p, size_t n)
{
    if (mode == PA__TRACK_MEMCHECK)
        VALGRIND_MEMPOOL_FREE(heap, p);
    else if (mode == PA__TRACK_ASAN)
        asan_poison(p, n);
}

PA_TRACK void pa__track_noaccess(void *p, size_t n)
{
    if (mode == PA__TRACK_MEMCHECK)
        VALGRIND_MAKE_MEM_NOACCESS(p, n);
    else if (mode == PA__TRACK_ASAN)
        asan_poison(p, n);
}

PA_TRACK void pa__track_defined(void *p, size_t n)
{
    if (mode == PA__TRACK_MEMCHECK)
        VALGRIND_MAKE_MEM_DEFINED(p, n);
    else if (mode == PA__TRACK_ASAN)
        asan_unpoison(p, n);
}

PA_TRACK void pa__track_unmapping(void *p, size_t n)
{
    if (mode == PA__TRACK_ASAN)
        asan_unpoison(p, n);
}

/* The core is about to read or write the free-list link (first word) of a
   free block (open), or is done with it (close).  memcheck only: the
   library's own accesses are not instrumented for ASan. */
PA_TRACK void pa__track_link(void *block, int open)
{
    if (mode != PA__TRACK_MEMCHECK)
        return;
    if (open)
        VALGRIND_MAKE_MEM_DEFINED(block, sizeof(void *));
    else
        VALGRIND_MAKE_MEM_NOACCESS(block, sizeof(void *));
}

/* Memory the core mapped itself (arenas, descriptor chunks), which holds
   pointers to blocks of the C library's malloc: LeakSanitizer scans only
   what it knows (globals, stacks, its own heap), so it is told. */
PA_TRACK void pa__track_root(void *p, size_t n, int add)
{
    if (mode != PA__TRACK_ASAN)
        return;
    if (add && lsan_register_root != NULL)
        lsan_register_root(p, n);
    else if (!add && lsan_unregister_root != NULL)
        lsan_unregister_root(p, n);
}
