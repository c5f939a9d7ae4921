/* The C entry points of libpyalloc.so: see README.md beside this file.

   Each public allocation call is a thin C function so that, while tracemalloc
   traces, it can name its caller (a code address, or the _at form's file and
   line) without the C# core having to look at the native stack.  While
   tracemalloc is off (the flag is 0) the cost is one load and one predicted
   branch before the call into the core.

   pa_malloc, pa_calloc and pa_free (and the _at forms) first try the thread
   cache (thread_cache.h): while it serves, they never call the core. */
#define _GNU_SOURCE
#include "pyalloc.h"
#include "thread_cache.h"

#include <errno.h>
#include <execinfo.h>
#include <stddef.h>
#include <string.h>

#define PA_EXPORT __attribute__((visibility("default")))
/* The slow halves are hidden globals rather than statics: the NativeAOT link
   drops the local symbols of its input objects, and a hidden global keeps its
   name in libpyalloc.so.dbg, so perf names them instead of printing addresses. */
#define PA_LOCAL __attribute__((visibility("hidden")))
#define PA_MAX_FRAMES 100

/* A call site as the core reads it (AllocationSite in src/PyAlloc.Core/Tracing/Tracemalloc.cs). */
typedef struct pa__site {
    const char *file;
    int line;
    void **frames;
    int nframes;
} pa__site;
PA__CORE_LAYOUT_ASSERTS(pa__site);

/* The core's entry points (C# [UnmanagedCallersOnly] methods), declared hidden:
   the calls bind inside the library, and the build keeps these names out of
   the dynamic symbol table (PyAlloc.Native.csproj, KeepHeaderExportsOnly). */
#pragma GCC visibility push(hidden)
extern int *pa__tracemalloc_flag(void);
extern void *pa__malloc(size_t n, const pa__site *site);
extern int pa__tracemalloc_track(unsigned int domain, uintptr_t ptr, size_t size, const pa__site *site);
extern void *pa__calloc(size_t nelem, size_t elsize, const pa__site *site);
extern void *pa__realloc(void *p, size_t n, const pa__site *site);
extern void pa__free(void *p);
extern size_t pa__trim(void);
extern int pa__get_malloc_stats(pa_malloc_stats *out);
extern int pa__print_malloc_stats(FILE *out);
extern size_t pa__pool_map(pa_pool_info *out, size_t cap);
extern pa_object *pa__object_new(pa_type *t, size_t nitems, int var, const pa__site *site);
extern pa_object *pa__object_gc_resize(pa_object *o, size_t nitems, const pa__site *site);
extern pa_object *pa__list_new(pa_runtime *rt, const pa__site *site);
extern size_t pa__usable_size(const void *p);
extern const char *pa__last_error(void);
extern void pa__clear_error(void);
#pragma GCC visibility pop

/* The tracer's frame count: 0 while not tracing.  The pointer never changes
   once the core has made it, so caching it without a lock is safe. */
static int *volatile tracing_flag;

static inline int tracing_nframe(void)
{
    int *flag = tracing_flag;
    if (__builtin_expect(flag == NULL, 0))
        tracing_flag = flag = pa__tracemalloc_flag();
    return __atomic_load_n(flag, __ATOMIC_RELAXED);
}

/* Fill site with the call site: a named one (file, line) or the caller's
   address, then, for nframe > 1, the native frames above the caller.  The
   frames come from backtrace(); the caller's own return address is found in
   them so that this function's frames are skipped whatever the inlining. */
PA_LOCAL __attribute__((noinline)) void pa__entry_capture(pa__site *site, void **frames, int nframe,
                                              void *caller, const char *file, int line)
{
    site->file = file;
    site->line = line;
    site->frames = frames;
    site->nframes = 0;
    int wanted = file != NULL ? nframe - 1 : nframe;   /* a named site is a frame too */
    if (wanted <= 0)
        return;
    if (nframe == 1) {
        frames[0] = caller;
        site->nframes = 1;
        return;
    }
    void *stack[PA_MAX_FRAMES + 8];
    int depth = backtrace(stack, PA_MAX_FRAMES + 8);
    int start = 0;
    while (start < depth && stack[start] != caller)
        start++;
    if (start == depth) {                              /* not found: at least the caller */
        frames[0] = caller;
        site->nframes = 1;
        return;
    }
    if (file != NULL)
        start++;                                       /* the named frame stands for the caller */
    for (int i = start; i < depth && site->nframes < wanted; i++)
        frames[site->nframes++] = stack[i];
}

#define SITE_OF(caller, file, line)                                           \
    int nframe_ = tracing_nframe();                                          \
    void *frames_[PA_MAX_FRAMES];                                            \
    pa__site site_;                                                          \
    const pa__site *sitep_ = NULL;                                           \
    if (__builtin_expect(nframe_ != 0, 0)) {                                 \
        pa__entry_capture(&site_, frames_, nframe_, (caller), (file), (line)); \
        sitep_ = &site_;                                                     \
    }
#define SITE(file, line) SITE_OF(__builtin_return_address(0), file, line)

/* ------------------------------------------------------------------ malloc */

/* A thread whose cache went to the orphans is ending after NativeAOT let it
   go: a call into the core would stop the process.  Allocation fails instead,
   as out of memory (errno ENOMEM; pa_last_error() cannot be set without the
   core).  Frees are put off (pa__tcache_defer_free). */
static inline int ending_thread(void)
{
    if (PA__UNLIKELY(pa__tcache_exited())) {
        errno = ENOMEM;
        return 1;
    }
    return 0;
}

/* The slow half of pa_malloc: the thread cache's refill (or its first use),
   else the core (large requests, caches off, tracing).  One function, reached
   by a tail call, so that pa_malloc itself keeps no frame and saves no
   register: its fast path is a TLS load, a list pop and a return. */
PA_LOCAL __attribute__((noinline)) void *pa__entry_malloc_slow(size_t n, void *caller, const char *file, int line)
{
    if (PA__LIKELY(pa__fp.enabled)) {
        pa__tcache *tc = pa__tc;
        void *p = n > PA__SMALL_MAX ? (tc != NULL && tc->nlarge != 0 ? pa__tcache_large_pop(tc, n) : NULL)
                                    : pa__tcache_malloc_slow(n);
        if (p != NULL)
            return p;
    }
    if (ending_thread())
        return NULL;
    if (PA__UNLIKELY(!pa__fp.attached))
        pa__tcache_attach();
    SITE_OF(caller, file, line)
    return pa__malloc(n, sitep_);
}

/* calloc: a small request from the cache (popped, or refilled), zeroed here;
   anything else to the core, which checks the product for overflow. */
PA_LOCAL __attribute__((noinline)) void *pa__entry_calloc(size_t nelem, size_t elsize, void *caller,
                                                          const char *file, int line)
{
    size_t n;
    if (PA__LIKELY(pa__fp.enabled) && !__builtin_mul_overflow(nelem, elsize, &n)) {
        pa__tcache *tc = pa__tc;
        void *p;
        if (n <= PA__SMALL_MAX) {
            p = pa__tcache_pop(n);
            if (p == NULL)
                p = pa__tcache_malloc_slow(n);
        } else {
            p = tc != NULL && tc->nlarge != 0 ? pa__tcache_large_pop(tc, n) : NULL;
        }
        if (p != NULL)
            return memset(p, 0, n);
    }
    if (ending_thread())
        return NULL;
    if (PA__UNLIKELY(!pa__fp.attached))
        pa__tcache_attach();
    SITE_OF(caller, file, line)
    return pa__calloc(nelem, elsize, sitep_);
}

/* A block from the calling thread's cache, or NULL. */
static inline __attribute__((always_inline)) void *cached_pop(size_t n)
{
    return PA__LIKELY(pa__fp.enabled) ? pa__tcache_pop(n) : NULL;
}

PA_EXPORT void *pa_malloc(size_t n)
{
    void *p = cached_pop(n);
    return PA__LIKELY(p != NULL) ? p : pa__entry_malloc_slow(n, __builtin_return_address(0), NULL, 0);
}

PA_EXPORT void *pa_malloc_at(size_t n, const char *file, int line)
{
    void *p = cached_pop(n);
    return PA__LIKELY(p != NULL) ? p : pa__entry_malloc_slow(n, __builtin_return_address(0), file, line);
}

PA_EXPORT void *pa_calloc(size_t nelem, size_t elsize)
{
    return pa__entry_calloc(nelem, elsize, __builtin_return_address(0), NULL, 0);
}

PA_EXPORT void *pa_calloc_at(size_t nelem, size_t elsize, const char *file, int line)
{
    return pa__entry_calloc(nelem, elsize, __builtin_return_address(0), file, line);
}

/* -------------------------------------------------------------------- free */

/* What the thread cache's fast path did not finish: a full ring of pending
   frees to settle (taken == 2); else this thread's first free (it gets a
   cache), an arena slot to fill, then one more try; a pointer in no process
   heap's arena goes to the core through the cache's large-block slots (kept
   there when it is a large block the cache may keep); else to the core (bad,
   tracing, other modes), or, on a thread that is ending, to the deferred
   frees. */
PA_LOCAL __attribute__((noinline)) void pa__entry_free_slow(void *p, int taken)
{
    if (taken == 2) {
        pa__tcache_settle(pa__tc);
        return;
    }
    if (taken == 3) {
        pa__tcache_overflow(pa__tc, pa__tc->last_index);
        return;
    }
    if (pa__fp.enabled && ((uintptr_t)p & PA__ALIGNMENT_MASK) == 0) {
        pa__tcache *tc = pa__tc;
        if (tc == NULL)
            tc = pa__tcache_create();
        if (tc != NULL) {
            if (pa__tcache_arena_slot(tc, (uintptr_t)p) < 0) {
                pa__tcache_large_push(tc, p);   /* not a process heap's: large, or the core's to refuse */
                return;
            }
            if ((taken = pa__tcache_push(p)) != 0) {
                if (taken != 1)
                    pa__entry_free_slow(p, taken);
                return;
            }
        }
    }
    if (PA__UNLIKELY(pa__tcache_defer_free(p)))
        return;                       /* the thread is ending: the core takes it later */
    pa__free(p);
}

PA_EXPORT void pa_free(void *p)
{
    if (PA__UNLIKELY(p == NULL))
        return;                       /* free(NULL): nothing to do, no call into the core */
    int taken = PA__LIKELY(pa__fp.enabled) ? pa__tcache_push(p) : 0;
    if (PA__LIKELY(taken == 1))
        return;
    pa__entry_free_slow(p, taken);
}

/* ------------------------------------------- the rest: straight to the core */

/* pa_realloc from the thread cache: realloc(NULL, n) is a malloc the cache can
   serve (C code and CPython's lists start from NULL), and a block of this
   thread's pools is resized there (pa__tcache_realloc).  1 with *q set, or 0:
   the core decides.  Pre: pa__fp.enabled. */
static inline int cached_realloc(void *p, size_t n, void **q)
{
    if (p == NULL)
        return (*q = pa__tcache_pop(n)) != NULL;
    return pa__tcache_realloc(p, n, q);
}

PA_EXPORT void *pa_realloc(void *p, size_t n)
{
    void *q;
    if (PA__LIKELY(pa__fp.enabled) && cached_realloc(p, n, &q))
        return q;                     /* without the core: see cached_realloc */
    if (ending_thread())
        return NULL;
    pa__tcache_settle_current();      /* a pending free of p makes this a use after free */
    SITE(NULL, 0)
    return pa__realloc(p, n, sitep_);
}

PA_EXPORT void *pa_realloc_at(void *p, size_t n, const char *file, int line)
{
    void *q;
    if (PA__LIKELY(pa__fp.enabled) && cached_realloc(p, n, &q))
        return q;
    if (ending_thread())
        return NULL;
    pa__tcache_settle_current();
    SITE(file, line)
    return pa__realloc(p, n, sitep_);
}

PA_EXPORT pa_object *pa_object_new(pa_type *t)
{
    SITE(NULL, 0)
    return pa__object_new(t, 0, 0, sitep_);
}

PA_EXPORT pa_object *pa_object_new_var(pa_type *t, size_t nitems)
{
    SITE(NULL, 0)
    return pa__object_new(t, nitems, 1, sitep_);
}

PA_EXPORT pa_object *pa_object_gc_resize(pa_object *o, size_t nitems)
{
    SITE(NULL, 0)
    return pa__object_gc_resize(o, nitems, sitep_);
}

PA_EXPORT pa_object *pa_list_new(pa_runtime *rt)
{
    SITE(NULL, 0)
    return pa__list_new(rt, sitep_);
}

PA_EXPORT pa_object *pa_object_new_at(pa_type *t, const char *file, int line)
{
    SITE(file, line)
    return pa__object_new(t, 0, 0, sitep_);
}

PA_EXPORT pa_object *pa_object_new_var_at(pa_type *t, size_t nitems, const char *file, int line)
{
    SITE(file, line)
    return pa__object_new(t, nitems, 1, sitep_);
}

PA_EXPORT pa_object *pa_object_gc_resize_at(pa_object *o, size_t nitems, const char *file, int line)
{
    SITE(file, line)
    return pa__object_gc_resize(o, nitems, sitep_);
}

PA_EXPORT pa_object *pa_list_new_at(pa_runtime *rt, const char *file, int line)
{
    SITE(file, line)
    return pa__list_new(rt, sitep_);
}

/* tracemalloc.is_tracing(): in C, as a load of the tracer's flag, because
   callers test it before each allocation (the .NET binding's PyMemory.Alloc
   names its caller only while tracing): a call into the core would cost more
   than the allocation.  The first call makes the flag (PYALLOC_TRACEMALLOC
   applies then), as the core's first contact does. */
PA_EXPORT int pa_tracemalloc_is_tracing(void)
{
    return tracing_nframe() != 0;
}

/* PyTraceMalloc_Track: the trace's traceback is this call's site, as for an
   allocation.  Not tracing: -2 at once, without a call into the core. */
PA_EXPORT int pa_tracemalloc_track(unsigned int domain, uintptr_t ptr, size_t size)
{
    if (tracing_nframe() == 0)
        return -2;
    SITE(NULL, 0)
    return pa__tracemalloc_track(domain, ptr, size, sitep_);
}

PA_EXPORT int pa_tracemalloc_track_at(unsigned int domain, uintptr_t ptr, size_t size, const char *file, int line)
{
    if (tracing_nframe() == 0)
        return -2;
    SITE(file, line)
    return pa__tracemalloc_track(domain, ptr, size, sitep_);
}

/* ------------- calls that must see this thread's pending frees: they settle first */

PA_EXPORT size_t pa_usable_size(const void *p)
{
    pa__tcache_settle_current();      /* a block this thread freed is refused, as before */
    return pa__usable_size(p);
}

PA_EXPORT const char *pa_last_error(void)
{
    pa__tcache_settle_current();      /* a double free waiting in the ring is reported now */
    return pa__last_error();
}

PA_EXPORT void pa_clear_error(void)
{
    pa__tcache_settle_current();      /* what this thread did before is forgotten with it */
    pa__clear_error();
}

/* ------------------------- reports on the process heap: the cache goes first */

PA_EXPORT size_t pa_trim(void)
{
    pa__tcache_flush_current();
    return pa__trim();
}

PA_EXPORT int pa_get_malloc_stats(pa_malloc_stats *out)
{
    pa__tcache_flush_current();
    return pa__get_malloc_stats(out);
}

/* The sum of pa_get_malloc_stats's live blocks: C over the one consistent picture. */
PA_EXPORT size_t pa_get_allocated_blocks(void)
{
    pa_malloc_stats st;
    pa__tcache_flush_current();       /* as pa_get_malloc_stats, without a call through the PLT */
    if (pa__get_malloc_stats(&st) != 0)
        return PA_SIZE_ERROR;
    size_t n = st.large_blocks;
    for (int i = 0; i < PA_NUM_SIZE_CLASSES; i++)
        n += st.classes[i].blocks_in_use;
    return n;
}

PA_EXPORT int pa_print_malloc_stats(FILE *out)
{
    pa__tcache_flush_current();
    return pa__print_malloc_stats(out);
}

PA_EXPORT size_t pa_pool_map(pa_pool_info *out, size_t cap)
{
    pa__tcache_flush_current();
    return pa__pool_map(out, cap);
}
