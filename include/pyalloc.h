/* ----------------------------------------------------------------------------
  pyalloc.h -- the public C API of PyAlloc.

  PyAlloc is CPython's two-layer memory management as a library: the pymalloc
  small-object allocator, reference-counted objects with a generational cycle
  collector, weak references and tracemalloc.  The library is written in C#
  and compiled ahead of time (NativeAOT) into libpyalloc.so; this header is
  all a C or C++ program needs.

  Sections
    1. Conventions and errors        pa_last_error, pa_version
    2. The allocator                 pa_malloc, pa_free, pa_trim, statistics
    3. Allocator mode                pa_set_allocator_mode, PYALLOC_MALLOC

  Conventions (the same for every call)
    - Pointer-returning calls return NULL on failure; int-returning calls
      return -1.  The reason is kept per thread and read by pa_last_error().
    - Sizes are in bytes, as size_t; counts as size_t.
    - No call ever lets a C# exception out; bad input (NULL, overflow, a
      pointer PyAlloc did not allocate) gets an error, never a crash.

  This header is C99 and C++ clean (-Wall -Wextra -Wpedantic).  Internal types
  are not here: see src/PyAlloc.Core for the data structures.
---------------------------------------------------------------------------- */
#ifndef PYALLOC_H
#define PYALLOC_H

#include <stddef.h>   /* size_t */
#include <stdint.h>   /* intptr_t */
#include <stdio.h>    /* FILE */

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#  define PA_API __declspec(dllimport)
#else
#  define PA_API
#endif

#define PA_VERSION_MAJOR 0
#define PA_VERSION_MINOR 1
#define PA_VERSION_PATCH 0

/* ============================================================================
   1. Conventions and errors
============================================================================ */

/* The calling thread's last failure as a readable, NUL-terminated message,
   e.g. "pa_calloc: 4611686018427387904 * 8 overflows size_t".  A successful
   call does not clear it (as errno).  Returns "" when this thread has had no
   failure since it started or since pa_clear_error().  The string belongs to
   the library and stays valid until this thread's next failing call. */
PA_API const char *pa_last_error(void);

/* Forget the calling thread's last failure: pa_last_error() returns "". */
PA_API void pa_clear_error(void);

/* The library's version, "MAJOR.MINOR.PATCH".  Static string. */
PA_API const char *pa_version(void);

/* ============================================================================
   2. The allocator

   pymalloc as in CPython 3.12 on 64-bit: requests of at most 512 bytes are
   served from 16 KiB pools, one size class per pool, 32 classes 16 bytes
   apart; pools are carved from 1 MiB arenas mapped from the OS.  Larger
   requests go to the system allocator (malloc).  Every block is 16-byte
   aligned.  There is no per-block header: a block's owner is found from its
   address alone, never by reading memory outside the block.

   Every call is thread-safe, and a block may be freed (or reallocated) by a
   thread other than the one that allocated it.
============================================================================ */

/* The largest request served from pools; larger ones go to malloc. */
#define PA_SMALL_REQUEST_THRESHOLD 512
/* Block sizes step by this much: classes are 16, 32, ..., 512 bytes. */
#define PA_ALIGNMENT 16
#define PA_NUM_SIZE_CLASSES 32
#define PA_POOL_SIZE  ((size_t)16 * 1024)
#define PA_ARENA_SIZE ((size_t)1024 * 1024)

/* A block of at least n bytes, 16-byte aligned, uninitialised.
   n == 0 returns a unique pointer that pa_free accepts (a 16-byte block).
   NULL when memory is exhausted or n is absurd (pa_last_error says which,
   errno = ENOMEM). */
PA_API void *pa_malloc(size_t n);

/* A zeroed block of nelem * elsize bytes.  When the product overflows
   size_t: NULL, errno = ENOMEM, pa_last_error() names both factors. */
PA_API void *pa_calloc(size_t nelem, size_t elsize);

/* Resize the block p to n bytes, keeping min(old, n) bytes of its contents.
   p == NULL: as pa_malloc(n).  n == 0: p is freed and a unique minimal block
   is returned (as pa_malloc(0)).  A pool block stays in place while n fits
   its size class and shrinking would not save a quarter of it (CPython's
   rule); otherwise the block moves, between pools and the system allocator
   as the new size requires.  On failure NULL is returned and p is left
   untouched and still owned by the caller. */
PA_API void *pa_realloc(void *p, size_t n);

/* Release a block from pa_malloc, pa_calloc or pa_realloc, whichever thread
   allocated it.  NULL is a no-op.  A pointer PyAlloc did not hand out (or an
   interior pointer of a pool block) is refused: nothing is freed and
   pa_last_error() says why. */
PA_API void pa_free(void *p);

/* Usable bytes of the live block p: its size class for a pool block, the
   system allocator's usable size for a large one.  0 for NULL or for a
   pointer PyAlloc did not hand out (pa_last_error() then says so). */
PA_API size_t pa_usable_size(const void *p);

/* Return every wholly free arena to the OS now (pymalloc keeps one wholly
   free arena to avoid thrashing; this lets it go too), and trim the system
   allocator.  Returns the arena bytes released. */
PA_API size_t pa_trim(void);

/* Figures for one size class. */
typedef struct pa_size_class_stats {
    size_t block_size;      /* bytes per block: 16 * (index + 1) */
    size_t pools;           /* pools currently carved for this class */
    size_t blocks_in_use;   /* live blocks */
    size_t free_blocks;     /* free blocks in those pools (freed or never used) */
} pa_size_class_stats;

/* The allocator's figures, as sys._debugmallocstats() reports them. */
typedef struct pa_malloc_stats {
    size_t arenas_allocated;     /* arenas mapped since the process started */
    size_t arenas_reclaimed;     /* arenas returned to the OS since then */
    size_t arenas_highwater;     /* most arenas mapped at one time */
    size_t arenas_current;       /* arenas mapped now */
    size_t arena_bytes;          /* arenas_current * PA_ARENA_SIZE */
    size_t pools_in_use;         /* pools carved for a size class now */
    size_t pools_free;           /* pools in current arenas not carved for any class */
    size_t bytes_in_used_blocks; /* sum over live pool blocks of their class size */
    size_t bytes_in_free_blocks; /* free blocks inside carved pools */
    size_t bytes_in_free_pools;  /* pools_free * PA_POOL_SIZE */
    size_t bytes_pool_headers;   /* pools_in_use * the pool header */
    size_t bytes_quantization;   /* pool tails too small for one more block */
    size_t large_blocks;         /* live blocks from the system allocator */
    size_t large_bytes;          /* their usable bytes */
    pa_size_class_stats classes[PA_NUM_SIZE_CLASSES];
} pa_malloc_stats;

/* Fill *out with the allocator's current figures.  0, or -1 when out is
   NULL.  The figures are a consistent picture of the pools at one moment. */
PA_API int pa_get_malloc_stats(pa_malloc_stats *out);

/* Print the figures as a table in the spirit of sys._debugmallocstats():
   one row per size class, then arena and byte totals.  0, or -1 when out is
   NULL or the write failed. */
PA_API int pa_print_malloc_stats(FILE *out);

/* ============================================================================
   3. Allocator mode

   Chosen once, before the first allocation: by the environment variable
   PYALLOC_MALLOC when the library loads, or by pa_set_allocator_mode().
     "pymalloc"      pools and arenas (the default)
     "malloc"        every request to the system allocator (for valgrind,
                     ASan and other tools that watch malloc)
     "debug", "malloc_debug"   CPython's debug hooks over either of the above
============================================================================ */

/* Choose the allocator mode.  0, or -1 when mode is NULL or unknown, or when
   a block has already been allocated in another mode (pa_last_error()). */
PA_API int pa_set_allocator_mode(const char *mode);

/* The mode in force: "pymalloc", "malloc", "debug" or "malloc_debug". */
PA_API const char *pa_get_allocator_mode(void);

#ifdef __cplusplus
}
#endif

#endif /* PYALLOC_H */
