/* ----------------------------------------------------------------------------
  pyalloc.h -- the public C API of PyAlloc.

  PyAlloc is CPython's two-layer memory management as a library: the pymalloc
  small-object allocator, reference-counted objects with a generational cycle
  collector, weak references and tracemalloc.  The library is written in C#
  and compiled ahead of time (NativeAOT) into libpyalloc.so; this header is
  all a C or C++ program needs.

  Sections
    1. Conventions and errors        pa_last_error, pa_version
    2. The allocator                 pa_malloc, pa_free, pa_trim, statistics,
                                     pa_object_set_arena_allocator
    3. Allocator mode                pa_set_allocator_mode, PYALLOC_MALLOC
    4. Runtimes                      pa_runtime_new, pa_runtime_free
    5. Objects, types, refcounts     pa_type_new, pa_object_new, pa_object_gc_resize ...
    6. The built-in list             pa_list_new, pa_list_append ...
    7. The cycle collector           pa_gc_collect and the rest of `gc`
    8. Weak references               pa_weakref_new, proxies, pa_finalize_register
    9. tracemalloc                   pa_tracemalloc_start, snapshots, statistics
   10. Call sites                    pa_malloc_at, PA_MALLOC(n) ...
   11. Debug hooks                   PYALLOC_MALLOC=debug, pa_debug_check_block
   12. Introspection                 pa_count_objects_by_type, pa_runtime_pool_map

  Reference counts: each call that takes or returns a pa_object says what it
  does to counts, in Lua's manner: "new reference" (the caller owns one count
  and must pa_decref it), "borrowed" (no count; valid while the owner lives),
  "takes its own reference" (the callee increfs what it keeps).

  Conventions (the same for every call)
    - Pointer-returning calls return NULL on failure; int-returning calls
      return -1.  The reason is kept per thread and read by pa_last_error().
    - Sizes are in bytes, as size_t; counts as size_t.
    - No call ever lets a C# exception out; bad input (NULL, overflow, a
      pointer PyAlloc did not allocate) gets an error, never a crash.
    - Every call that takes a pa_object *, pa_runtime * or pa_type * checks
      it first, without reading memory the library has not vouched for: a
      pointer that is not a live object (freed, made up, a pa_malloc block,
      an interior pointer, an object of a freed runtime), not a live runtime
      (freed, a second pa_runtime_free, made up) or not a live type (of a
      freed runtime) is refused with an error ("... is not a live object
      ..."); so is an object of another runtime where the call needs one
      runtime (pa_list_append, pa_list_set, pa_gc_get_referrers).  What
      cannot be checked: the inline pa_incref, pa_decref, pa_refcnt,
      pa_object_type, pa_setref and pa_clear (no call is made), and a block
      that was freed and then reused for a new object of the same runtime
      (it is a live object again).  Pointers to the caller's own memory
      (out-parameters, strings, a FILE *, a pa_statistic filled by a
      snapshot call) are read and written as each call says, as memcpy
      would: they are the caller's to get right.
    - Failures of the OS are reported as sentences with the path and the
      OS's own words, e.g. "pa_snapshot_load: '/x.snap': cannot open the
      file: No such file or directory (errno 2)"; calls that write (to a
      FILE * or a file) report a failed write, a full disk included.

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

   Thread exit: the library's .NET runtime lets a thread go in a TLS
   destructor of its own, before PyAlloc's.  A TLS destructor that runs after
   PyAlloc's (a pthread key made later) may still pa_free: the block is freed
   later, on another thread's call.  pa_malloc, pa_calloc and pa_realloc there
   return NULL with errno ENOMEM when they would need the core (they cannot
   set pa_last_error()); any other call there stops the process.
============================================================================ */

/* Wholly free arenas.  CPython returns an arena to the OS as soon as its last
   block is freed (keeping one, to avoid thrashing).  PyAlloc keeps a wholly
   free arena mapped, and its touched pages resident, for
   PYALLOC_ARENA_DECAY_MS milliseconds (read at the first allocation; 1000
   unless set to a whole number from 0 to 86400000), for the next allocations
   to reuse without mapping and faulting in fresh memory; once it has been free
   that long it is unmapped the next time an arena of the same heap empties or
   a thread refills its cache there.  pa_get_malloc_stats counts it in
   arenas_current, with all its pools free.  A program that goes idle keeps
   them until its next such call: pa_trim() unmaps them at once.
   PYALLOC_ARENA_DECAY_MS=0 is CPython's policy exactly. */

/* The heap checker.  PYALLOC_CHECK=1 (read at the first allocation) checks
   the structure of every process heap (arena lists and counts, pools, free
   lists against the live bits) at each pa_trim() and pa_get_malloc_stats(),
   under each heap's lock, and reports the first broken rule as a fatal error
   ("Fatal PyAlloc error: pa_trim: PYALLOC_CHECK: process heap N: ..."); a
   program that wrote into freed or foreign pool memory is caught there.  A
   check reads every pool: for tests and for hunting a corruption. */

/* Out of memory, for tests: PYALLOC_FAIL_MAP_AT=N (read at the first
   mapping) makes the library's N-th mapping of memory from the OS, and every
   later one, fail as mmap does when memory is exhausted.  Every call then
   fails as documented (NULL or -1 with a message; pa_malloc's thread cache
   may still serve blocks it holds), nothing crashes, nothing leaks. */

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

/* Give free memory back to the OS now, and trim the system allocator:
   - every wholly free arena is unmapped (see "Wholly free arenas" below:
     those kept for reuse, and the one CPython's pymalloc keeps too);
   - in the arenas kept, the 4 KiB pages that hold no live block are
     released (madvise MADV_DONTNEED): those of empty pools, and those of
     pools in use that no live block overlaps.  A pool's first page, which
     holds its header, stays.  The free blocks on a released page stay free
     blocks (pa_get_malloc_stats counts them; freeing one again is still
     refused) and are used again, on fresh zero-filled pages, once their
     pool has no other free block.
   The calling thread's cache of freed blocks (see pa_get_malloc_stats) goes
   back to the pools first.  Returns the bytes released: PA_ARENA_SIZE per arena unmapped, plus the
   released pages that were resident (so a second call right after the
   first returns 0).  Live blocks are not moved or changed.  With a page
   size other than 4 or 8 KiB (sysconf), only whole arenas are released.
   Takes each process heap's lock for a time proportional to the blocks in the
   arenas kept (about 15 ms per 100 MiB of arenas on a 2-core machine). */
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
    size_t arenas_in_runtimes;   /* arenas mapped now by runtimes' object heaps (not in the figures above) */
    pa_size_class_stats classes[PA_NUM_SIZE_CLASSES];
} pa_malloc_stats;

/* Fill *out with the process allocator's current figures: the pools and
   arenas behind pa_malloc & co., and its large blocks.  Objects are not
   counted: each runtime has a heap of its own.  0, or -1 when out is NULL.
   The figures are a consistent picture of the pools at one moment.
   Thread caches: pa_free keeps a few KiB of freed blocks per size class and
   thread for that thread's next pa_malloc.  The calling thread's cache is
   emptied first; blocks waiting in other threads' caches count as free
   blocks (so a pool in use may show no block in use), and come back to
   their pools when those threads end.  A cache also keeps up to eight freed
   blocks of 513 bytes to 16 KiB for its thread's next pa_malloc they fit (at
   most twice over); other threads' kept blocks count in large_blocks and
   large_bytes until those threads end. */
PA_API int pa_get_malloc_stats(pa_malloc_stats *out);

/* sys.getallocatedblocks(): the blocks pa_malloc & co. have handed out and
   not had back, whatever their size (the live pool blocks plus the large
   blocks, as CPython counts its pool blocks plus its raw allocations); the
   same figures and the same caveats as pa_get_malloc_stats (other threads'
   cached blocks count as free, their kept large blocks as live).  Objects
   are not counted: each runtime has a heap of its own.  PA_SIZE_ERROR only
   if the figures cannot be taken. */
PA_API size_t pa_get_allocated_blocks(void);

/* Print the figures as a table in the spirit of sys._debugmallocstats():
   one row per size class, then arena and byte totals.  0, or -1 when out is
   NULL or the write failed. */
PA_API int pa_print_malloc_stats(FILE *out);

/* The arena allocator: CPython's PyObjectArenaAllocator,
   PyObject_GetArenaAllocator and PyObject_SetArenaAllocator.  Every arena
   (PA_ARENA_SIZE bytes) of every heap -- the process heaps behind pa_malloc
   and the runtimes' object heaps -- is taken with alloc(ctx, size) and given
   back with free(ctx, ptr, size), for arenas from huge pages or locked
   memory, or to account them.  The default (what the first
   pa_object_get_arena_allocator returns) maps anonymous memory from the OS.
   - Alignment.  PyAlloc needs arenas aligned to PA_ARENA_SIZE; alloc may
     return any address.  It is asked for PA_ARENA_SIZE bytes; if they are
     not aligned they are freed at once and 2 * PA_ARENA_SIZE bytes are asked
     for, of which the aligned PA_ARENA_SIZE are used.  free always receives
     the pointer and size alloc returned and was asked for.
   - Memory from alloc need not be zeroed, and is never given to madvise:
     pa_trim gives such an arena back (to free) only when it is wholly free,
     and releases no page of it.  Only the default's arenas have pages
     released.
   - Out of memory: alloc returns NULL.  The request that needed the arena
     fails as when the OS refuses memory (pa_malloc: NULL, errno ENOMEM).
   - An arena goes back to the allocator that made it, whatever was
     installed since; each arena is made by one allocator, even when another
     is installed meanwhile by another thread (installing is thread-safe).
   - alloc and free are called with a heap's lock held: they must not call
     PyAlloc (as CPython's run with the GIL held), and must return (no
     longjmp, no exception).  The library keeps 32 bytes per distinct
     (ctx, alloc, free) ever installed, so that old arenas find their free.
   - The default's functions may be called directly (a wrapper that counts,
     then calls them); installing them again (with any ctx) restores the
     default, with its page release. */
typedef void *(*pa_arena_alloc_func)(void *ctx, size_t size);
typedef void (*pa_arena_free_func)(void *ctx, void *ptr, size_t size);

typedef struct pa_mem_arena_allocator {
    void *ctx;                 /* passed to alloc and free as is */
    pa_arena_alloc_func alloc; /* size bytes, or NULL when out of memory */
    pa_arena_free_func free;   /* gives back ptr, size bytes, from alloc */
} pa_mem_arena_allocator;

/* Fill *out with the arena allocator in force.  0, or -1 when out is NULL. */
PA_API int pa_object_get_arena_allocator(pa_mem_arena_allocator *out);

/* Install a copy of *allocator for the arenas taken from now on.  0, or -1
   when allocator, its alloc or its free is NULL (nothing changes). */
PA_API int pa_object_set_arena_allocator(const pa_mem_arena_allocator *allocator);

/* PYALLOC_MALLOCSTATS (CPython's PYTHONMALLOCSTATS): when set to a non-empty
   string (read as the library loads, and at the first allocation), the
   table of pa_print_malloc_stats goes to stderr each time an arena is
   mapped (by the process allocator or a runtime's heap: printed by the
   allocation that mapped it, once it has let go of the heap's locks) and at
   exit (atexit).  Only in the pool modes ("pymalloc", "debug"): as CPython
   ignores it over malloc. */

/* ============================================================================
   3. Allocator mode

   Chosen once, before the first allocation: by the environment variable
   PYALLOC_MALLOC when the library loads, or by pa_set_allocator_mode().
   Every name of CPython 3.12's PYTHONMALLOC, with its meaning:
     "pymalloc", "default"     pools and arenas (the default; "default" is
                               pymalloc as in a release build of CPython)
     "malloc"                  every request to the system allocator (for
                               valgrind, ASan and other tools that watch malloc)
     "debug", "pymalloc_debug" CPython's debug hooks over pymalloc
     "malloc_debug"            CPython's debug hooks over malloc
     "mimalloc", "mimalloc_debug"  (CPython 3.13) refused: PyAlloc is
                               pymalloc and has no mimalloc; the error says to
                               preload mimalloc and choose "malloc" instead.
   An unknown PYALLOC_MALLOC is reported on stderr (why, as above) and
   pymalloc is used; pa_set_allocator_mode refuses it with that error.
============================================================================ */

/* Choose the allocator mode.  0, or -1 when mode is NULL or unknown, or when
   a block has already been allocated in another mode (pa_last_error()). */
PA_API int pa_set_allocator_mode(const char *mode);

/* The mode in force: "pymalloc", "malloc", "debug" or "malloc_debug" (the
   canonical names: "default" reads back "pymalloc", "pymalloc_debug" reads
   back "debug"). */
PA_API const char *pa_get_allocator_mode(void);

/* ---------------------------------------------------------------------------
   Allocator hooks (CPython's PyMem_GetAllocator, PyMem_SetAllocator,
   PyMem_SetupDebugHooks)

   How CPython's domains map onto PyAlloc:
     PA_MEM_DOMAIN_MEM   pa_malloc, pa_calloc, pa_realloc, pa_free and their
                         _at forms (PYMEM_DOMAIN_MEM: PyMem_Malloc & co.).
                         The one domain that can be hooked.
     PA_MEM_DOMAIN_RAW   refused with an error: PyAlloc has no separate raw
                         family (every call is thread-safe, there is no GIL
                         to do without); hook PA_MEM_DOMAIN_MEM.
     PA_MEM_DOMAIN_OBJ   refused with an error: objects live in their
                         runtime's heap, which must find each object from its
                         address alone (the checks of section 1).

   Semantics, as CPython's:
     - pa_mem_get_allocator fills *out with the allocator in force: while
       none is installed, the default one (ctx NULL; functions that are
       pa_malloc & co. without the hook, so a hook may forward to them).
     - pa_mem_set_allocator installs a copy of *allocator: from then on every
       pa_malloc, pa_calloc, pa_realloc and pa_free (not pa_free(NULL))
       calls its function with its ctx, on every thread (the thread caches
       are off while a hook is installed).  Setting the default allocator again (the one
       pa_mem_get_allocator gave before any hook) uninstalls the hook and
       brings the thread caches back; getting the allocator in force and
       setting it again changes nothing.
     - A hook installed after allocations began: every later pa_free and
       pa_realloc goes to the hook, whichever allocator made the block (as
       in CPython, the caller's responsibility).  A hook that forwards to
       the allocator it replaced (the usual wrapper: accounting, limits)
       frees the earlier blocks where they came from.  A block of the
       hook's own that reaches the default allocator (after the hook is
       removed) is refused with an error, never followed.
     - A hook that returns NULL: the caller sees NULL, errno ENOMEM, and
       pa_last_error() naming the hook ("pa_malloc: the allocator installed
       by pa_mem_set_allocator returned NULL for N bytes"), unless a default
       function it forwarded to failed, whose own error stays.
     - tracemalloc (section 9) traces what the default allocator serves,
       named at the program's call of pa_malloc & co. (not the hook's call);
       blocks a hook serves itself are not traced.  pa_usable_size knows
       the default allocator's blocks only; the debug checks, the default
       allocator's and those of pa_mem_setup_debug_hooks over a hook.
     - Install or remove a hook while no other thread is in a pa_malloc
       family call (CPython asks the same).  A thread racing with the change
       uses the old or the new allocator whole, never a mix.
     - Objects (pa_object_new & co.) are not affected.
   With no hook installed, the fast path of pa_malloc and pa_free is as
   without hooks (the README's pair benchmark); with one installed, the
   thread caches are off and each call goes through the hook.
--------------------------------------------------------------------------- */

typedef enum pa_mem_domain {
    PA_MEM_DOMAIN_RAW = 0,       /* PYMEM_DOMAIN_RAW: refused (see above) */
    PA_MEM_DOMAIN_MEM = 1,       /* PYMEM_DOMAIN_MEM: pa_malloc & co. */
    PA_MEM_DOMAIN_OBJ = 2        /* PYMEM_DOMAIN_OBJ: refused (see above) */
} pa_mem_domain;

/* The four functions of an allocator, each given its ctx first. */
typedef void *(*pa_malloc_func)(void *ctx, size_t size);
typedef void *(*pa_calloc_func)(void *ctx, size_t nelem, size_t elsize);
typedef void *(*pa_realloc_func)(void *ctx, void *ptr, size_t new_size);
typedef void (*pa_free_func)(void *ctx, void *ptr);

/* PyMemAllocatorEx: ctx is passed to every function as its first argument. */
typedef struct pa_mem_allocator {
    void *ctx;
    pa_malloc_func malloc;
    pa_calloc_func calloc;
    pa_realloc_func realloc;
    pa_free_func free;
} pa_mem_allocator;

/* PyMem_GetAllocator.  0, or -1 with an error for a domain other than
   PA_MEM_DOMAIN_MEM, or a NULL out. */
PA_API int pa_mem_get_allocator(int domain, pa_mem_allocator *out);

/* PyMem_SetAllocator.  0, or -1 with an error for a domain other than
   PA_MEM_DOMAIN_MEM, a NULL allocator or a NULL function in it (CPython
   would crash later; PyAlloc refuses now). */
PA_API int pa_mem_set_allocator(int domain, const pa_mem_allocator *allocator);

/* PyMem_SetupDebugHooks: CPython's debug hooks (section 11) over the
   allocator in force.  0, or -1 with an error.
     - No hook installed: the debug variant of the mode, "pymalloc" becomes
       "debug", "malloc" becomes "malloc_debug" (objects get the hooks too);
       in a debug mode already, nothing changes.  The hooks lay out every
       block with a header, so this must happen before the first
       allocation: -1 with an error once blocks exist in a mode without them.
     - A hook installed (pa_mem_set_allocator): as CPython, the hooks go over
       it.  The allocator in force becomes one whose functions are the
       hooks' and whose ctx holds a copy of the hook: each pa_malloc asks the
       hook for n + 32 bytes (calloc through its calloc, realloc through its
       realloc), lays the block out as section 11 says and checks it at
       pa_free, pa_realloc and pa_debug_check_block; the hook frees the raw
       block 16 bytes before the data.  A block the hook made before this
       call has no header: pa_free reports it as "not a live block" (it is
       never read) and leaves it.  Over the hooks already in force, nothing
       changes.  pa_usable_size does not know these blocks (the hook's). */
PA_API int pa_mem_setup_debug_hooks(void);


/* Value returned by size_t calls that fail (pa_last_error() says why). */
#define PA_SIZE_ERROR ((size_t)-1)

/* ============================================================================
   4. Runtimes

   A runtime is an object space with its own heap and its own cycle
   collector, like one CPython interpreter.  Calls on one runtime (and on its
   objects) must not overlap in time: the caller serialises them, as
   CPython's GIL does.  Different runtimes may be used from different threads
   at once; they share nothing but the arena map.

   fork(): the library registers pthread_atfork handlers that take every
   lock of the allocator, the tracer, the debug hooks and the runtimes'
   heaps before the fork and release them after, in parent and child (as
   glibc's malloc does).  In the child of a process with other threads busy
   in the library, everything works (measured: 300 forks under three busy
   threads per test run, no child hangs): pa_malloc & co., error messages,
   statistics, new runtimes, their objects and collections, pa_runtime_free,
   tracemalloc.  Not usable in the child: a runtime that another thread of
   the parent was using at the moment of fork (calls on one runtime are not
   locked, so it may be half-changed; the child may only leave it alone).
   The library's first call starts its .NET runtime; make one call (any:
   pa_version() will do) before other threads may fork, since a fork at the
   very moment another thread makes the library's first call can leave the
   child unable to call the library.  A .NET host is another matter: .NET
   does not support returning to managed code in a forked child, so a .NET
   program's child must exec (or not use the binding).
============================================================================ */

typedef struct pa_runtime pa_runtime;

/* A new runtime: GC enabled, thresholds (700, 10, 10), no objects.
   NULL when out of memory. */
PA_API pa_runtime *pa_runtime_new(void);

/* Run the pending atexit finalizers (pa_finalize_register, section 8), a
   final full collection (finalisers, weakref callbacks and gc callbacks run
   as in any collection), report uncollectable garbage on stderr as CPython
   does at shutdown (section 7), then release every object still
   alive WITHOUT calling its finaliser or dealloc, free the runtime's types
   and return all its memory.  Every pointer into the runtime dies.  NULL is
   a no-op.  Refused (nothing freed, pa_last_error() says why): a pointer
   that is not a live runtime (a second free, a made-up pointer), and a call
   from inside the runtime's own collection, dealloc, finaliser or
   pa_runtime_free (a finaliser, weakref, finalize or gc callback of the
   runtime itself). */
PA_API void pa_runtime_free(pa_runtime *rt);

/* ============================================================================
   5. Objects, types and reference counts

   Every object starts with a pa_object header: its reference count and its
   type.  In front of the header (out of sight) the library keeps two words
   for the collector, as CPython's PyGC_Head.  An object is freed the moment
   its count reaches zero: its finaliser runs (once), weak references to it
   are cleared and their callbacks called, its dealloc runs, its memory goes
   back to the runtime's heap.
============================================================================ */

typedef struct pa_type pa_type;

typedef struct pa_object {
    intptr_t ob_refcnt;          /* low 32 bits count; all ones = immortal */
    struct pa_type *ob_type;
} pa_object;

/* Put first in a struct to make it an object: struct node { PA_OBJECT_HEAD ... }. */
#define PA_OBJECT_HEAD pa_object ob_base;

/* Variable-sized objects start with this; pa_object_new_var sets ob_size. */
typedef struct pa_var_object {
    pa_object ob_base;
    intptr_t ob_size;            /* number of items */
} pa_var_object;
#define PA_OBJECT_VAR_HEAD pa_var_object ob_base;

/* Visit one reference; return non-zero to stop the traversal. */
typedef int  (*pa_visitproc)(pa_object *obj, void *arg);
/* Call visit(ref, arg) for every reference self owns (skip NULLs); return
   the first non-zero result of visit, or 0.
   What a traverse may call: visit, and plain code that reads self (the
   header's inline pa_refcnt, pa_is_immortal, pa_incref are fine).  Nothing
   else of the library: no pa_ function of this header that is not inline,
   no pa_decref or pa_clear (they may deallocate), no allocation, no
   collection.  The collector calls a traverse with no GC transition (about
   3 ns; visit is C too), in a state where the library's C# core must not be
   entered, so the library cannot check this rule: breaking it is undefined
   behaviour.  CPython's traverse functions (Py_VISIT only) keep it. */
typedef int  (*pa_traverseproc)(pa_object *self, pa_visitproc visit, void *arg);
/* Drop the references that may form cycles (with pa_clear); 0. */
typedef int  (*pa_inquiry)(pa_object *self);
typedef void (*pa_destructor)(pa_object *self);

/* The type takes part in cycle collection: its objects are tracked. */
#define PA_TPFLAGS_HAVE_GC        (1u << 14)
/* With ref_offsets and itemsize == sizeof(pa_object *): the items of a
   variable-sized object are references too. */
#define PA_TPFLAGS_ITEMS_ARE_REFS (1u << 20)

typedef struct pa_type_spec {
    const char     *name;        /* copied */
    size_t          basicsize;   /* bytes, including the pa_object header */
    size_t          itemsize;    /* 0 unless variable-sized; items start at basicsize */
    unsigned        flags;       /* PA_TPFLAGS_HAVE_GC, PA_TPFLAGS_ITEMS_ARE_REFS */
    pa_traverseproc traverse;    /* with HAVE_GC, unless ref_offsets says it all: visit every
                                    owned reference (alongside ref_offsets: only the others) */
    pa_inquiry      clear;       /* breaks cycles; must leave the object safe to deallocate */
    pa_destructor   finalize;    /* PEP 442 finaliser: called at most once, may resurrect; one that
                                    drops the reference it was lent (pa_decref(self)) does not
                                    resurrect and its object dies once, after it returns */
    pa_destructor   legacy_del;  /* pre-3.4 style finaliser: such objects in cycles are
                                    uncollectable (they go to gc garbage) */
    pa_destructor   dealloc;     /* release owned references and resources; memory is freed
                                    by the library */
    const size_t   *ref_offsets; /* optional, ended by 0: byte offsets of the pa_object * fields;
                                    the library traverses, clears (after calling clear) and
                                    releases (after calling dealloc) them itself, so traverse,
                                    clear and dealloc may be NULL; each offset lies after the
                                    header and ends by basicsize (checked without overflow:
                                    an offset near SIZE_MAX is refused) */
} pa_type_spec;

/* A type that lives as long as the runtime.  The spec is copied (and its
   name and ref_offsets with it).  NULL with an error for a NULL or
   inconsistent spec (basicsize smaller than the header, HAVE_GC without
   traverse or ref_offsets, a ref offset out of the object, ...). */
PA_API pa_type *pa_type_new(pa_runtime *rt, const pa_type_spec *spec);

/* The type's name (owned by the type). */
PA_API const char *pa_type_name(const pa_type *t);

/* A new object of type t: zeroed, count 1 (new reference), tracked by the
   collector when the type has GC.  Allocating a GC object counts towards
   generation 0 and may run an automatic collection first. */
PA_API pa_object *pa_object_new(pa_type *t);

/* A new variable-sized object with nitems items (zeroed), ob_size = nitems. */
PA_API pa_object *pa_object_new_var(pa_type *t, size_t nitems);

/* CPython's PyObject_GC_Resize: resize the variable-sized object o to hold
   nitems items (basicsize + nitems * itemsize bytes, and the collector's two
   words), set ob_size = nitems, and return its address, which may be new:
   use the result, never o again, unless the result is NULL.  Items
   0 .. min(old, new) - 1 and the rest of the object keep their contents;
   new items are zeroed.  A pool block whose size class still fits, and that
   a shrink would not make a quarter emptier, is kept in place (pymalloc's
   realloc rule); otherwise the object moves.  No
   automatic collection runs and generation 0's count does not change.
   While tracemalloc traces, the trace follows it as CPython's does: the old
   address is forgotten and the new one traced with the new size, at this
   call's site (also when o was not traced before).  Any type with an
   itemsize may be resized, GC or not (every PyAlloc object has the GC
   words; CPython's non-GC var objects use PyObject_Realloc).
   NULL with an error, o unchanged (count, trace and contents), for:
     - o NULL, freed, of a freed runtime, or not an object;
     - a type with itemsize 0 ("... is not variable-sized");
     - nitems whose size overflows (over 2 GiB, as pa_object_new_var; CPython's
       MemoryError), or out of memory;
     - o tracked by the collector: CPython asserts it is not; PyAlloc refuses
       and says to pa_gc_untrack first (then pa_gc_track the result);
     - a count other than 1, or immortal: o may move, and every other
       reference would dangle (the one reference must be the caller's; one
       held in a field or list the library cannot tell from it);
     - o with weak references (or a pa_finalize_register finalizer): the
       weakref table holds its address;
     - o whose finaliser is running;
     - a shrink of a PA_TPFLAGS_ITEMS_ARE_REFS object over items that are not
       NULL: clear them first (their references would be lost);
     - under the debug hooks, a damaged block (reported as pa_free reports
       it).  Under the hooks the object always moves, to a fresh debug block
       of the new size; the old one is checked and filled with dead bytes. */
PA_API pa_object *pa_object_gc_resize(pa_object *o, size_t nitems);

/* The runtime the object belongs to. */
PA_API pa_runtime *pa_object_runtime(const pa_object *o);

/* The object's type (borrowed). */
static inline pa_type *pa_object_type(const pa_object *o) { return o->ob_type; }

/* Make o immortal, as CPython 3.12 does for None and small ints: its count
   is fixed at 0xFFFFFFFF, pa_incref/pa_decref no longer change it, and it
   is never freed (pa_runtime_free releases its memory). */
PA_API void pa_object_make_immortal(pa_object *o);

/* Called by pa_decref when a count reaches zero; not for direct use.
   Refuses (error, nothing done) a pointer that is not a live object and an
   object whose count is not 0. */
PA_API void pa__dealloc(pa_object *o);
/* Called by pa_decref in PA_DEBUG builds when a count would go below zero:
   the fatal error handler runs.  A pointer that is not a live object (NULL
   included) is refused with an error instead. */
PA_API void pa__refcnt_error(pa_object *o);

/* The reference count, as sys.getrefcount() without its own +1. */
static inline intptr_t pa_refcnt(const pa_object *o) { return o->ob_refcnt; }

/* Immortal objects: the low 32 bits are all ones, so they are negative as int32. */
static inline int pa_is_immortal(const pa_object *o) { return (int32_t)(uint32_t)o->ob_refcnt < 0; }

/* One more reference.  Immortal objects stay as they are (a saturating add
   on the low 32 bits, as CPython 3.12). */
static inline void pa_incref(pa_object *o)
{
    if ((uint32_t)((uint32_t)o->ob_refcnt + 1u) == 0)
        return;
    o->ob_refcnt++;
}

/* One reference fewer; at zero the object is deallocated now. */
static inline void pa_decref(pa_object *o)
{
    if (pa_is_immortal(o))
        return;
#ifdef PA_DEBUG
    if (o->ob_refcnt <= 0) {
        pa__refcnt_error(o);
        return;
    }
#endif
    if (--o->ob_refcnt == 0)
        pa__dealloc(o);
}

/* As pa_incref / pa_decref, and a no-op for NULL. */
static inline void pa_xincref(pa_object *o) { if (o != NULL) pa_incref(o); }
static inline void pa_xdecref(pa_object *o) { if (o != NULL) pa_decref(o); }

/* *slot = v (v's reference is stolen), then release the old value: the slot
   is never seen holding a dead object (CPython's Py_XSETREF). */
static inline void pa_setref(pa_object **slot, pa_object *v)
{
    pa_object *old = *slot;
    *slot = v;
    pa_xdecref(old);
}

/* *slot = NULL, then release the old value (CPython's Py_CLEAR). */
static inline void pa_clear(pa_object **slot)
{
    pa_object *old = *slot;
    if (old != NULL) {
        *slot = NULL;
        pa_decref(old);
    }
}

/* ============================================================================
   6. The built-in list

   Enough of Python's list to replay the article's examples from C: a GC
   object holding references, traversed and cleared by the library.
============================================================================ */

/* A new empty list (new reference).  It is a GC allocation. */
PA_API pa_object *pa_list_new(pa_runtime *rt);
/* Append item; the list takes its own reference.  0, or -1 (NULL list or
   item, not a list, out of memory). */
PA_API int pa_list_append(pa_object *list, pa_object *item);
/* The item at i (borrowed), or NULL with an error when i is out of range. */
PA_API pa_object *pa_list_get(pa_object *list, size_t i);
/* Replace the item at i; the list takes its own reference to item and drops
   the old one.  0, or -1 (out of range, NULL, not a list). */
PA_API int pa_list_set(pa_object *list, size_t i, pa_object *item);
/* Number of items, or PA_SIZE_ERROR for a NULL list or a non-list. */
PA_API size_t pa_list_size(pa_object *list);
/* Remove every item (dropping the list's references).  0 or -1. */
PA_API int pa_list_clear(pa_object *list);
/* True (1) when o is a list, 0 otherwise. */
PA_API int pa_list_check(const pa_object *o);

/* ============================================================================
   7. The cycle collector

   CPython 3.12's gc module, per runtime: three generations with thresholds
   (700, 10, 10); allocating a GC object raises generation 0's count and
   freeing one lowers it; when the count passes the threshold, the
   allocation runs a collection first (as CPython 3.11; never while a
   collection runs; threshold 0 disables it).  A full automatic collection
   waits until the objects that survived a generation-1 collection since the
   last full one are more than a quarter of the long-lived total; explicit
   collections do not wait.  PEP 442 finalisers run once; objects they
   resurrect survive; objects with legacy finalisers, and all they reach,
   go to garbage; weak references to unreachable objects are cleared first
   (callbacks run only for weakrefs that are not garbage themselves); then
   clear breaks the remaining cycles.
============================================================================ */

#define PA_GC_DEBUG_STATS          1
#define PA_GC_DEBUG_COLLECTABLE    2
#define PA_GC_DEBUG_UNCOLLECTABLE  4
#define PA_GC_DEBUG_SAVEALL        32
#define PA_GC_DEBUG_LEAK           (PA_GC_DEBUG_COLLECTABLE | PA_GC_DEBUG_UNCOLLECTABLE | PA_GC_DEBUG_SAVEALL)

/* gc.get_stats() for one generation. */
typedef struct pa_gc_generation_stats {
    intptr_t collections;
    intptr_t collected;
    intptr_t uncollectable;
} pa_gc_generation_stats;

/* What a gc callback is told (gc.callbacks' info dict). */
typedef struct pa_gc_info {
    int generation;
    intptr_t collected;          /* 0 at PA_GC_START */
    intptr_t uncollectable;      /* 0 at PA_GC_START */
} pa_gc_info;

enum { PA_GC_START = 0, PA_GC_STOP = 1 };
typedef void (*pa_gc_callback)(pa_runtime *rt, int phase, const pa_gc_info *info, void *user);

/* gc.collect(generation): collect generations 0..generation (0, 1 or 2),
   whatever the thresholds and even when disabled.  Returns collected +
   uncollectable as CPython (resurrected objects count in neither); 0 when a
   collection is already running; -1 with an error for a bad argument. */
PA_API intptr_t pa_gc_collect(pa_runtime *rt, int generation);

PA_API void pa_gc_enable(pa_runtime *rt);
PA_API void pa_gc_disable(pa_runtime *rt);
/* 1 when automatic collection is enabled, 0 when not, -1 for NULL. */
PA_API int  pa_gc_isenabled(pa_runtime *rt);

/* gc.get_count(): the three generations' counts into out[0..2]. */
PA_API void pa_gc_get_count(pa_runtime *rt, intptr_t out[3]);
/* gc.get_threshold() / gc.set_threshold(). */
PA_API void pa_gc_get_threshold(pa_runtime *rt, int out[3]);
PA_API void pa_gc_set_threshold(pa_runtime *rt, int t0, int t1, int t2);
/* gc.get_stats(): 0, or -1 for NULL arguments. */
PA_API int  pa_gc_get_stats(pa_runtime *rt, pa_gc_generation_stats out[3]);

/* gc.get_objects(generation): generation 0, 1, 2, or -1 for all three
   (frozen objects are in none).  Stores up to cap objects in out as NEW
   references and returns how many there are in all (call with cap 0 to
   size the array).  PA_SIZE_ERROR for a bad generation. */
PA_API size_t pa_gc_get_objects(pa_runtime *rt, int generation, pa_object **out, size_t cap);
/* gc.get_referrers(target): the tracked objects (frozen ones excepted) that
   refer to target; new references; returns the total as above. */
PA_API size_t pa_gc_get_referrers(pa_runtime *rt, pa_object *target, pa_object **out, size_t cap);
/* gc.get_referents(o): the objects o refers to, in traversal order; new
   references; returns the total.  0 for an object that is not GC. */
PA_API size_t pa_gc_get_referents(pa_object *o, pa_object **out, size_t cap);
/* gc.get_referrers(*objs) / gc.get_referents(*objs), over objs[0..n) (objs
   may be NULL when n is 0; the result is then empty, as CPython's call with
   no argument).  referrers: every tracked object (frozen ones excepted) that
   refers to any of them, once however many it refers to, generation 0
   first, in the order of pa_gc_get_objects; an object of objs that refers to
   itself or to another of objs is among them.  referents: the referents of
   objs[0], then of objs[1], ..., duplicates kept (an object given twice
   gives its referents twice).  New references; returns the total as above;
   PA_SIZE_ERROR when an objs[i] is not a live object (for referrers: of
   rt), naming i.  The one-object calls above are these with n = 1. */
PA_API size_t pa_gc_get_referrers_n(pa_runtime *rt, pa_object *const *objs, size_t n,
                                    pa_object **out, size_t cap);
PA_API size_t pa_gc_get_referents_n(pa_object *const *objs, size_t n, pa_object **out, size_t cap);

/* Track / untrack a GC object (no-op when already so, or for a non-GC type). */
PA_API void pa_gc_track(pa_object *o);
PA_API void pa_gc_untrack(pa_object *o);
/* 1 or 0, as gc.is_tracked / gc.is_finalized; -1 for NULL. */
PA_API int  pa_gc_is_tracked(pa_object *o);
PA_API int  pa_gc_is_finalized(pa_object *o);

/* gc.freeze(): move every tracked object to the permanent generation, which
   collections ignore; gc.unfreeze() moves them back into generation 2. */
PA_API void   pa_gc_freeze(pa_runtime *rt);
PA_API void   pa_gc_unfreeze(pa_runtime *rt);
PA_API size_t pa_gc_get_freeze_count(pa_runtime *rt);

/* gc.set_debug / gc.get_debug: PA_GC_DEBUG_* flags; reports go to stderr
   in CPython's words ("gc: collecting generation 2...").  get: -1 for NULL. */
PA_API void pa_gc_set_debug(pa_runtime *rt, int flags);
PA_API int  pa_gc_get_debug(pa_runtime *rt);

/* gc.garbage: uncollectable objects (and with DEBUG_SAVEALL, everything the
   collector found), as new references; returns the total.
   pa_gc_clear_garbage drops the runtime's references to them. */
PA_API size_t pa_gc_get_garbage(pa_runtime *rt, pa_object **out, size_t cap);
PA_API void   pa_gc_clear_garbage(pa_runtime *rt);
/* del gc.garbage[index] / gc.garbage.remove(o): one item leaves gc.garbage
   and the runtime's reference to it goes (the object dies now if that was
   its last; one still in an uncollectable cycle comes back to gc.garbage at
   the next collection, as in CPython).  A negative index counts from the
   end.  0, or -1 with CPython's words: "list assignment index out of range",
   "list.remove(x): x not in list" (o that is not in gc.garbage). */
PA_API int pa_gc_garbage_remove_at(pa_runtime *rt, intptr_t index);
PA_API int pa_gc_garbage_remove(pa_runtime *rt, pa_object *o);
/* At shutdown (pa_runtime_free, after its final collection) a gc.garbage
   that is not empty is reported on stderr as CPython 3.12's
   _PyGC_DumpShutdownStats does, unless DEBUG_SAVEALL is set:
     gc:0: ResourceWarning: gc: N uncollectable objects at shutdown; use gc.set_debug(gc.DEBUG_UNCOLLECTABLE) to list them
   and with DEBUG_UNCOLLECTABLE, without the "; use ..." part, followed by
   the list (CPython prints the list's repr):
           [<legacy object at 0x...>, <node object at 0x...>]
   CPython's default warning filters hide this ResourceWarning (python -W
   default or -X dev show it); a library has no warning filters, so PyAlloc
   always prints it: uncollectable garbage is a leak worth a line. */

/* gc.callbacks: cb(rt, PA_GC_START / PA_GC_STOP, info, user) around every
   collection, in the order added.  A callback may not collect.  add: 0 or -1;
   remove: 0, or -1 when (cb, user) was not registered. */
PA_API int pa_gc_add_callback(pa_runtime *rt, pa_gc_callback cb, void *user);
PA_API int pa_gc_remove_callback(pa_runtime *rt, pa_gc_callback cb, void *user);

/* ============================================================================
   8. Weak references

   weakref.ref, weakref.proxy, weakref.getweakrefcount / getweakrefs and
   weakref.finalize.  The weakrefs to one object form a list in CPython's
   order: the shared callback-less weakref, then the shared callback-less
   proxy, then those with callbacks, newest first; callbacks run in list
   order.
============================================================================ */

typedef void (*pa_weakref_callback)(pa_object *weakref, void *user);

/* A new weak reference to target (new reference; itself a GC object).
   cb(weakref, user), when not NULL, runs when target dies, by count or by
   collection, unless the weakref itself is garbage by then.  As CPython's
   weakref.ref, weakrefs without a callback are shared: asking again returns
   the same object.  NULL with an error for a target that is not a live
   object, or is dying (count 0: inside its own weakref callbacks or
   dealloc), since such a weakref would outlive it. */
PA_API pa_object *pa_weakref_new(pa_object *target, pa_weakref_callback cb, void *user);

/* The target as a NEW reference, or NULL once it has died (no error then). */
PA_API pa_object *pa_weakref_get(pa_object *wr);

/* weakref.getweakrefcount(target): live weakref objects to target. */
PA_API size_t pa_weakref_count(pa_object *target);

/* True (1) when o is a weak reference or a proxy (CPython's PyWeakref_Check). */
PA_API int pa_weakref_check(const pa_object *o);

/* weakref.getweakrefs(target): the weakrefs and proxies to target in the
   list's order (above), as new references into out[0..cap); returns how many
   there are in all (call with cap 0 to size out).  PA_SIZE_ERROR for a
   target that is not a live object, or out NULL with cap not 0. */
PA_API size_t pa_weakref_getweakrefs(pa_object *target, pa_object **out, size_t cap);

/* weakref.proxy(target, cb): what a proxy is in C.  A Python proxy forwards
   every operation to its referent and raises ReferenceError once the
   referent is dead; a C library has no operations to forward but handing
   out the referent, so a PyAlloc proxy is a weakref ("weakproxy" type) whose
   dereference, pa_weakref_proxy_get, is an error once the referent died,
   where pa_weakref_get returns NULL without one.  Otherwise as
   pa_weakref_new: cb runs when target dies; callback-less proxies are shared
   (one per target, distinct from the shared weakref); pa_weakref_check,
   pa_weakref_get and pa_weakref_count count proxies as weakrefs, as CPython. */
PA_API pa_object *pa_weakref_proxy_new(pa_object *target, pa_weakref_callback cb, void *user);
/* The referent (new reference), or NULL with the error "pa_weakref_proxy_get:
   weakly-referenced object no longer exists" (CPython's ReferenceError) once
   it died; NULL with an error too for an object that is not a proxy. */
PA_API pa_object *pa_weakref_proxy_get(pa_object *proxy);
/* True (1) when o is a proxy (isinstance(o, weakref.ProxyType)). */
PA_API int pa_weakref_proxy_check(const pa_object *o);

/* weakref.finalize(target, cb): cb(user) is called once when target dies (by
   count or by collection, also in a cycle), unless called or detached first;
   the caller keeps nothing alive for it.  The runtime holds the registration
   (a weakref with a callback: it is counted by pa_weakref_count and listed by
   pa_weakref_getweakrefs, as CPython's).  The handle is a number above 0,
   unique in its runtime and never reused, so a handle that was called or
   detached is merely "not alive" (never a dangling pointer); calls with a
   handle take the target's runtime.  At pa_runtime_free, before the final
   collection, the pending finalizers whose atexit is 1 (the default) run,
   newest first, with automatic collection off, including those registered
   meanwhile (CPython's atexit hook, finalize._exitfunc); after that no
   finalizer runs any more (a target dying in the final collection drops its
   registration silently, and atexit-0 finalizers never run), as CPython.
   register: 0 with an error for a target that is not a live object or is
   dying, or a NULL cb. */
typedef void (*pa_finalize_callback)(void *user);
PA_API uint64_t pa_finalize_register(pa_object *target, pa_finalize_callback cb, void *user);
/* finalize.alive: 1 while pending, 0 once called or detached (or for a
   handle the runtime never gave), -1 for a runtime that is not live. */
PA_API int pa_finalize_alive(pa_runtime *rt, uint64_t handle);
/* finalize(): while pending, unregister and call cb(user) now: 1; 0 when not
   alive (nothing is called: at most one call ever); -1 for a bad runtime. */
PA_API int pa_finalize_call(pa_runtime *rt, uint64_t handle);
/* finalize.peek() / finalize.detach(): while pending and target alive, 1 and
   *target (a NEW reference), *cb and *user (each out-pointer may be NULL);
   detach also unregisters, so cb is never called.  0 when not alive or when
   target already died (CPython's None; nothing changes); -1 for a bad
   runtime. */
PA_API int pa_finalize_peek(pa_runtime *rt, uint64_t handle, pa_object **target,
                            pa_finalize_callback *cb, void **user);
PA_API int pa_finalize_detach(pa_runtime *rt, uint64_t handle, pa_object **target,
                              pa_finalize_callback *cb, void **user);
/* finalize.atexit: get: 1 or 0 (0 when not alive); set: 1 when set, 0 when
   not alive (nothing to set, as CPython); -1 for a bad runtime. */
PA_API int pa_finalize_get_atexit(pa_runtime *rt, uint64_t handle);
PA_API int pa_finalize_set_atexit(pa_runtime *rt, uint64_t handle, int atexit);

/* ============================================================================
   9. tracemalloc

   CPython's tracemalloc, process-wide: while tracing, every block served by
   pa_malloc & co. and every object allocation is recorded with its size and
   the traceback of its allocation (up to nframe frames, the allocation site
   first).  A frame is the call site: file and line for the _at calls and the
   PA_ macros (section 10), otherwise the caller's code address, symbolised
   when a snapshot is taken ("function+0x1c (module)", or "file.c" and its
   line where the program has debug information and addr2line is present).
   PYALLOC_TRACEMALLOC=N in the environment starts tracing with N frames when
   the library is first used, before the program's first allocation (a
   pa_tracemalloc_start before that first allocation still has the last word).
============================================================================ */

typedef struct pa_frame {
    const char *filename;        /* owned by the snapshot (or the library) */
    int lineno;                  /* 0 when unknown */
} pa_frame;

typedef enum pa_stat_key {
    PA_STAT_FILENAME = 0,        /* group by the allocation site's file */
    PA_STAT_LINENO = 1,          /* ... by its file and line */
    PA_STAT_TRACEBACK = 2        /* ... by the whole traceback */
} pa_stat_key;

typedef struct pa_statistic {
    const char *filename; int lineno;   /* first frame of the group (lineno 0 for PA_STAT_FILENAME) */
    const pa_frame *frames; int nframes;/* whole traceback for PA_STAT_TRACEBACK, else the one frame */
    size_t size; size_t count;
} pa_statistic;

typedef struct pa_statistic_diff {
    const char *filename; int lineno; const pa_frame *frames; int nframes;
    size_t size; ptrdiff_t size_diff; size_t count; ptrdiff_t count_diff;
} pa_statistic_diff;

typedef struct pa_snapshot pa_snapshot;

/* tracemalloc.start(nframe): 1 <= nframe <= 100.  0, or -1 for a bad nframe.
   Starting while tracing only changes nframe for new traces. */
PA_API int  pa_tracemalloc_start(int nframe);
/* tracemalloc.stop(): stop tracing and forget every trace. */
PA_API void pa_tracemalloc_stop(void);
PA_API int  pa_tracemalloc_is_tracing(void);
/* tracemalloc.get_traceback_limit(): the nframe of the last start, or 1. */
PA_API int  pa_tracemalloc_get_traceback_limit(void);
/* Bytes of the traced blocks now, and the most since tracing started or
   since pa_tracemalloc_reset_peak().  Either pointer may be NULL. */
PA_API void pa_tracemalloc_get_traced_memory(size_t *current, size_t *peak);
PA_API void pa_tracemalloc_reset_peak(void);
/* The tracer's own memory: its tables of traces, tracebacks and names. */
PA_API size_t pa_tracemalloc_get_memory(void);
/* Forget every trace (tracing goes on). */
PA_API void pa_tracemalloc_clear_traces(void);

/* A copy of the traces now (NULL with an error when not tracing).  Freed by
   pa_snapshot_free; independent of the tracer afterwards. */
PA_API pa_snapshot *pa_tracemalloc_take_snapshot(void);
PA_API void pa_snapshot_free(pa_snapshot *s);
/* Traces in the snapshot, and the traceback limit it was taken with. */
PA_API size_t pa_snapshot_trace_count(const pa_snapshot *s);
PA_API int pa_snapshot_traceback_limit(const pa_snapshot *s);

/* Snapshot.statistics(key): grouped, sorted as CPython (size, then count,
   then traceback, largest first).  Fills up to cap, returns how many groups
   there are (PA_SIZE_ERROR on error).  Strings and frames belong to s. */
PA_API size_t pa_snapshot_statistics(const pa_snapshot *s, pa_stat_key key, pa_statistic *out, size_t cap);
/* Snapshot.compare_to(old, key): CPython's StatisticDiff values and order
   (|size_diff|, size, |count_diff|, count, traceback; largest first).
   Strings belong to now and old: keep both alive while using out. */
PA_API size_t pa_snapshot_compare_to(const pa_snapshot *now, const pa_snapshot *old, pa_stat_key key,
                                     pa_statistic_diff *out, size_t cap);
/* A new snapshot with the traces that match (inclusive) or do not match
   (inclusive == 0) fnmatch pattern filename_pattern and, when lineno > 0,
   that line, judged on each trace's first frame (CPython's Filter). */
PA_API pa_snapshot *pa_snapshot_filter(const pa_snapshot *s, int inclusive, const char *filename_pattern, int lineno);
/* Snapshot.statistics(key, cumulative=True) and compare_to(old, key,
   cumulative=True): every frame of a trace's traceback counts the trace, not
   only the most recent one, so a caller's line gets the memory of everything
   below it.  Key PA_STAT_FILENAME or PA_STAT_LINENO only (CPython raises
   ValueError for 'traceback'; here PA_SIZE_ERROR with an error).  As in
   CPython, a trace with two frames in one file counts twice for that file. */
PA_API size_t pa_snapshot_statistics_cumulative(const pa_snapshot *s, pa_stat_key key, pa_statistic *out, size_t cap);
PA_API size_t pa_snapshot_compare_to_cumulative(const pa_snapshot *now, const pa_snapshot *old, pa_stat_key key,
                                                pa_statistic_diff *out, size_t cap);

/* Snapshot.traces[index] (Trace: domain, size, traceback). */
typedef struct pa_trace {
    unsigned int domain;         /* 0: PyAlloc's own blocks; else pa_tracemalloc_track's domain */
    size_t size;
    const pa_frame *frames;      /* most recent first; owned by the snapshot */
    int nframes;
} pa_trace;

/* Fills *out with trace index (0 <= index < pa_snapshot_trace_count(s)):
   0, or -1 with an error for a bad snapshot, index or out. */
PA_API int pa_snapshot_get_trace(const pa_snapshot *s, size_t index, pa_trace *out);

/* tracemalloc.Filter and tracemalloc.DomainFilter.  A zeroed pa_filter with
   a pattern is Filter(False, pattern): lineno None, all_frames False, domain
   None. */
typedef enum pa_filter_kind {
    PA_FILTER = 0,               /* Filter(inclusive, filename_pattern, lineno, all_frames, domain) */
    PA_DOMAIN_FILTER = 1         /* DomainFilter(inclusive, domain) */
} pa_filter_kind;

typedef struct pa_filter {
    pa_filter_kind kind;
    int inclusive;               /* 1: keep what matches; 0: drop it */
    const char *filename_pattern;/* PA_FILTER: an fnmatch pattern ("*" "?" "[seq]" "[!seq]") */
    int lineno;                  /* PA_FILTER: the line, or 0 for any line (CPython's None; a
                                    filter for line 0 exactly cannot be written) */
    int all_frames;              /* PA_FILTER: match any frame of the traceback, not only the
                                    most recent */
    int has_domain;              /* PA_FILTER: 1 to match only traces of domain */
    unsigned int domain;         /* PA_DOMAIN_FILTER, or PA_FILTER with has_domain */
} pa_filter;

/* Snapshot.filter_traces(filters): a new snapshot with the traces that pass,
   by CPython's rules: when there are inclusive filters, a trace must match at
   least one of them; and it must pass every exclusive filter (an exclusive
   filter passes what it does not match; with all_frames, what none of its
   frames match; with a domain, also every trace of another domain).  No
   filter: a copy.  NULL with an error for a bad snapshot, filters NULL with
   nfilters > 0, a filter of unknown kind or without a pattern, or more than
   4096 filters. */
PA_API pa_snapshot *pa_snapshot_filter_traces(const pa_snapshot *s, const pa_filter *filters, size_t nfilters);

/* Traceback.format(limit, most_recent_first) of frames[0..nframes) (most
   recent first, as PyAlloc gives them): for each frame '  File "x.c", line
   5', then the source line, stripped and indented by four, when that file
   can be read and has the line (CPython's linecache; PyAlloc reads the file
   as named, relative to the current directory); each line ends with '\n'.
   limit is CPython's: PA_TRACEBACK_NO_LIMIT (None) for every frame, n > 0 for
   the n most recent, 0 for none, n < 0 for all but the |n| most recent
   (CPython's self[:limit]).  Frames are printed oldest first unless
   most_recent_first.  Writes at most cap bytes with the NUL; returns the
   length the whole text needs, or -1 with an error. */
#define PA_TRACEBACK_NO_LIMIT (-2147483647 - 1)
PA_API int pa_traceback_format(const pa_frame *frames, int nframes, int limit, int most_recent_first,
                               char *buf, size_t cap);

/* PyTraceMalloc_Track / PyTraceMalloc_Untrack: memory of another allocator
   (a GPU buffer, an mmap'd file, a C library's heap) traced beside PyAlloc's,
   in a domain of the caller's choosing; domain 0 is PyAlloc's own (CPython's
   default domain), so tracking a PyAlloc block there replaces its trace.  The
   traceback is the call's site.  Tracking (domain, ptr) again replaces its
   size and traceback (CPython updates the trace).  Traces of every domain
   count in pa_tracemalloc_get_traced_memory and appear in snapshots with
   their domain; pa_tracemalloc_get_traceback answers for domain 0 only.
   Returns 0; -2 when not tracing (nothing is done, no error is set, as
   CPython); -1 with an error when the tracer's tables cannot grow.
   Untracking a block that is not traced returns 0, as CPython. */
PA_API int pa_tracemalloc_track(unsigned int domain, uintptr_t ptr, size_t size);
PA_API int pa_tracemalloc_track_at(unsigned int domain, uintptr_t ptr, size_t size, const char *file, int line);
PA_API int pa_tracemalloc_untrack(unsigned int domain, uintptr_t ptr);

/* Write the snapshot to path / read one back.  The format (README,
   "Snapshot files") is versioned and checksummed: a truncated, damaged or
   foreign file is refused with an error, never half-read.  pa_snapshot_load
   checks a file completely before using it, in memory bounded by the file's
   size (at most 1 GiB): the magic first (so /dev/zero or any foreign file is
   refused at once), then the checksum, then every count against the bytes
   left and every field's range (traceback limit 1 to 100, each traceback 1
   frame to the limit, line 0 or more, names valid UTF-8, sizes totalling at
   most PTRDIFF_MAX); the error names the field. */
PA_API int pa_snapshot_dump(const pa_snapshot *s, const char *path);
PA_API pa_snapshot *pa_snapshot_load(const char *path);

/* str(Statistic), exactly: "tour.c:5: size=7812 KiB, count=1000, average=8000 B".
   Writes at most cap bytes including the NUL; returns the length the whole
   text needs (as snprintf), or -1 for NULL arguments. */
PA_API int pa_statistic_format(const pa_statistic *st, char *buf, size_t cap);
/* str(StatisticDiff): "tour.c:5: size=7812 KiB (+7812 KiB), count=1000 (+1000), average=8000 B". */
PA_API int pa_statistic_diff_format(const pa_statistic_diff *st, char *buf, size_t cap);

/* tracemalloc.get_object_traceback(): the traceback of the live traced
   block (or object) at block, most recent frame first, into out[0..cap);
   returns the traceback's length (which may exceed cap: cap 0 asks for it),
   0 when the block is not traced.  The strings stay valid until tracing
   stops. */
PA_API int pa_tracemalloc_get_traceback(const void *block, pa_frame *out, int cap);

/* ============================================================================
   10. Call sites

   Every allocation call has an _at form that names its call site; the
   macros pass __FILE__ and __LINE__.  file must stay valid while tracing
   (a string literal does).
============================================================================ */

PA_API void *pa_malloc_at(size_t n, const char *file, int line);
PA_API void *pa_calloc_at(size_t nelem, size_t elsize, const char *file, int line);
PA_API void *pa_realloc_at(void *p, size_t n, const char *file, int line);
PA_API pa_object *pa_object_new_at(pa_type *t, const char *file, int line);
PA_API pa_object *pa_object_new_var_at(pa_type *t, size_t nitems, const char *file, int line);
PA_API pa_object *pa_object_gc_resize_at(pa_object *o, size_t nitems, const char *file, int line);
PA_API pa_object *pa_list_new_at(pa_runtime *rt, const char *file, int line);

#define PA_MALLOC(n)            pa_malloc_at((n), __FILE__, __LINE__)
#define PA_CALLOC(a, b)         pa_calloc_at((a), (b), __FILE__, __LINE__)
#define PA_REALLOC(p, n)        pa_realloc_at((p), (n), __FILE__, __LINE__)
#define PA_OBJECT_NEW(t)        pa_object_new_at((t), __FILE__, __LINE__)
#define PA_OBJECT_NEW_VAR(t, n) pa_object_new_var_at((t), (n), __FILE__, __LINE__)
#define PA_OBJECT_GC_RESIZE(o, n) pa_object_gc_resize_at((o), (n), __FILE__, __LINE__)
#define PA_LIST_NEW(rt)         pa_list_new_at((rt), __FILE__, __LINE__)

/* ============================================================================
   11. Debug hooks

   PYALLOC_MALLOC=debug (or malloc_debug) puts CPython's PYTHONMALLOC=debug
   hooks over the allocator: each block carries its requested size, an API
   id, 8 guard bytes 0xFD before and after, and a serial number; new memory
   is filled with 0xCD and freed memory with 0xDD.  Underflow, overflow,
   double free, a free through the wrong API family and foreign pointers are
   reported in CPython's manner, then the fatal error handler runs (by
   default: print and abort).

   The block around p (n bytes, as CPython lays it out with S = 8):
     p[-16..-9] n, big-endian        p[-8]   the API id: 'm' for pa_malloc &
     p[-7..-1]  0xFD                         co., 'o' for a runtime's objects
     p[0..n-1]  the data             p[n..n+7]   0xFD
     p[n+8..n+15] the serial number, big-endian: the block was made by the
                  N-th debug malloc or realloc
   Blocks stay 16-byte aligned.  An object is a block of API 'o' whose data
   starts with its 16-byte GC head, so overflowing an object is caught too.
   With the hooks on, pa_usable_size(p) is n, the size requested (so 0 for a
   0-byte block; pa_last_error() tells it from a failure).

   What is checked, on pa_free, pa_realloc, pa_debug_check_block and when an
   object's memory is released: first that p is a live block at all, from
   the allocator's own records and without reading memory around p (so a
   foreign or interior pointer is reported, never dereferenced); then, in
   CPython's order, the API id, the leading pad, the size (a size that no
   longer fits the block is reported, not followed), the trailing pad.  A
   pointer to a block freed lately is reported as a double free.  pa_free
   of an object is reported as "bad ID: Allocated using API 'o', verified
   using API 'm'".

   The report, e.g. for one byte written past a 24-byte block:
     Debug memory block at address p=0x7f...40: API 'm'
         24 bytes originally requested
         The 7 pad bytes at p-7 are FORBIDDENBYTE, as expected.
         The 8 pad bytes at tail=0x7f...58 are not all FORBIDDENBYTE (0xfd):
             at tail+0: 0x00 *** OUCH
             at tail+1: 0xfd
             ...
         The block was made by call #5 to debug malloc/realloc.
         Data at p: cd cd cd cd cd cd cd cd ... cd cd cd cd cd cd cd cd

     Enable tracemalloc to get the memory block allocation traceback

     Fatal PyAlloc error: pa_free: bad trailing pad byte
   While tracemalloc traces the block, its allocation traceback ("Memory
   block allocated at (most recent call first):", then '  File "x.c", line
   5' lines) stands in place of the hint.
============================================================================ */

typedef void (*pa_fatal_error_handler)(const char *message, void *user);

/* Replace the handler (NULL restores the default).  The message is the
   whole report; its last line is "Fatal PyAlloc error: <function>:
   <reason>".  A handler that returns lets the call that detected the error
   return as if nothing had been freed (or NULL): the block is left as it
   was, and pa_last_error() names the function and the reason. */
PA_API void pa_set_fatal_error_handler(pa_fatal_error_handler handler, void *user);

/* Check one block of the debug allocator now: 0 when intact, -1 (and the
   report through the handler) when damaged; -1 with an error when the debug
   hooks are not on.  p is a block of pa_malloc & co., or an object; a
   freed or foreign pointer is reported as pa_free would report it.  NULL:
   -1 with an error, no report. */
PA_API int pa_debug_check_block(const void *p);

/* ============================================================================
   12. Introspection
============================================================================ */

typedef struct pa_type_count {
    pa_type *type;               /* borrowed */
    const char *name;            /* the type's name */
    size_t count;                /* live objects of the type */
    size_t bytes;                /* their memory, GC heads included */
} pa_type_count;

/* Live objects per type of rt, largest total bytes first (count breaks
   ties): the find_leaks recipe's census.  Fills up to cap, returns the
   number of types (PA_SIZE_ERROR for NULL rt). */
PA_API size_t pa_count_objects_by_type(pa_runtime *rt, pa_type_count *out, size_t cap);

/* The heap map: one row per pool of a heap's arenas.  Arenas are numbered
   0, 1, ... in the order of the call (not stable across calls); each has 64
   pools, 0..63.  A pool in use has its size class (0..31), block size, live
   blocks and blocks per pool; an empty or never-used pool has size_class -1
   and zeros. */
typedef struct pa_pool_info {
    size_t arena;                /* 0-based, in the order of this call */
    size_t pool;                 /* 0..63 within the arena */
    int size_class;              /* 0..31, or -1 for an empty or uncarved pool */
    size_t block_size;           /* bytes per block; 0 when size_class is -1 */
    size_t blocks_in_use;        /* live blocks */
    size_t blocks_total;         /* blocks the pool holds; 0 when size_class is -1 */
} pa_pool_info;

/* Every pool of rt's heap (the heap its objects up to 512 bytes come from),
   under the heap's lock.  Fills up to cap rows, returns the number of pools
   (64 per arena; 0 when the heap has no arena), PA_SIZE_ERROR for NULL rt or
   for NULL out with cap > 0.  Call with cap 0 to size the buffer. */
PA_API size_t pa_runtime_pool_map(pa_runtime *rt, pa_pool_info *out, size_t cap);

/* CPython has one stats table (sys._debugmallocstats); PyAlloc has one per
   heap.  These fill *out (print the table of pa_print_malloc_stats, flushed)
   with rt's own memory: its heap's arenas and pools, which hold its objects
   and list item arrays up to 512 bytes, and its large blocks (above 512
   bytes, from the system allocator).  arenas_in_runtimes is 0.  In the
   debug modes every block carries the hooks' 32 bytes; in the malloc modes
   every block is a large block.  0, or -1 with an error for an invalid rt or
   a NULL out (or a failed write). */
PA_API int pa_runtime_get_malloc_stats(pa_runtime *rt, pa_malloc_stats *out);
PA_API int pa_runtime_print_malloc_stats(pa_runtime *rt, FILE *out);

/* The same for the process heap that serves pa_malloc (section 2); 0 in the
   malloc modes, which have no pools.  The calling thread's cache of freed
   blocks goes back first; blocks waiting in other threads' caches show as in use. */
PA_API size_t pa_pool_map(pa_pool_info *out, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* PYALLOC_H */
