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
#include "private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <execinfo.h>
#include <stddef.h>
#include <string.h>

#define PA_EXPORT __attribute__((visibility("default")))
/* The slow halves are hidden globals rather than statics: the NativeAOT link
   drops the local symbols of its input objects, and a hidden global keeps its
   name in libpyalloc.so.dbg, so perf names them instead of printing addresses. */
#define PA_LOCAL __attribute__((visibility("hidden")))
#define PA_MAX_FRAMES 100

/* A call site as the core reads it (AllocationSite in src/PyAlloc.Core/Tracing/Tracemalloc.cs;
   private.h declares the type and the core's entry points that take it). */
struct pa__site {
    const char *file;
    int line;
    void **frames;
    int nframes;
};
PA__CORE_LAYOUT_ASSERTS(pa__site);

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

/* ------------------------------------------------- allocator hooks (state)

   pa_mem_set_allocator(PA_MEM_DOMAIN_MEM, a) makes pa_malloc & co. call a's
   functions (CPython's PyMem_SetAllocator).  The installed allocator is an
   immutable copy reached through one pointer, NULL while none is installed:
   a thread that loads it sees whole functions and context, never half of an
   old one and half of a new one.  Copies are never freed (a few words per
   pa_mem_set_allocator call), so one still in use by another thread's call
   stays valid.  While one is installed the core keeps the thread caches off
   (pa__mem_hooked): pa_malloc's and pa_free's fast paths find fp.enabled 0
   and reach their slow halves, where the hook is called; without one the
   fast paths are the same instructions as before, and the slow halves pay
   one load and branch.

   The call site of a hooked call (for tracemalloc) waits in hook_site for
   the default allocator, which the hook usually forwards to: the trace
   names the program's call, not the hook's. */
static pa_mem_allocator *volatile mem_hook;

typedef struct hook_site_t {
    void *caller;               /* NULL: no hooked call is under way on this thread */
    const char *file;
    int line;
    unsigned default_failures;  /* raised when a default function fails (it set the error) */
} hook_site_t;
static __thread hook_site_t hook_site __attribute__((tls_model("initial-exec")));

static inline pa_mem_allocator *installed_hook(void)
{
    return __atomic_load_n(&mem_hook, __ATOMIC_ACQUIRE);
}

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

/* The unhooked slow half of pa_malloc: the thread cache's refill (or its
   first use), else the core (large requests, caches off, tracing). */
PA_LOCAL __attribute__((noinline)) void *pa__entry_malloc_unhooked(size_t n, void *caller, const char *file, int line)
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
PA_LOCAL __attribute__((noinline)) void *pa__entry_calloc_unhooked(size_t nelem, size_t elsize, void *caller,
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

/* What the thread cache's fast path did not finish: a full ring of pending
   frees to settle (PA__PUSH_RING_FULL), a class list over its limit to give
   half back (PA__PUSH_LIST_FULL); else this thread's first free (it gets a
   cache), an arena slot to fill, then one more try; a pointer in no process
   heap's arena goes to the core through the cache's large-block slots (kept
   there when it is a large block the cache may keep); else to the core (bad,
   tracing, other modes), or, on a thread that is ending, to the deferred
   frees. */
PA_LOCAL __attribute__((noinline)) void pa__entry_free_unhooked(void *p, pa__push taken)
{
    pa__assert(taken != PA__PUSH_TAKEN, "a block the cache took needs no slow path");
    if (taken == PA__PUSH_RING_FULL) {
        pa__tcache_settle(pa__tc);
        return;
    }
    if (taken == PA__PUSH_LIST_FULL) {
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
            if ((taken = pa__tcache_push(p)) != PA__PUSH_DECLINED) {
                if (taken != PA__PUSH_TAKEN)
                    pa__entry_free_unhooked(p, taken);
                return;
            }
        }
    }
    if (PA__UNLIKELY(pa__tcache_defer_free(p)))
        return;                       /* the thread is ending: the core takes it later */
    pa__free(p);
}

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

PA_LOCAL __attribute__((noinline)) void *pa__entry_realloc_unhooked(void *p, size_t n, void *caller,
                                                                    const char *file, int line)
{
    if (ending_thread())
        return NULL;
    pa__tcache_settle_current();      /* a pending free of p makes this a use after free */
    SITE_OF(caller, file, line)
    return pa__realloc(p, n, sitep_);
}

/* ------------------------------------ allocator hooks: the default allocator

   What pa_mem_get_allocator(PA_MEM_DOMAIN_MEM) returns while no hook is
   installed: pa_malloc & co. without the hook check, so a hook that forwards
   to them reaches the thread caches (when on) and the core.  Each names the
   program's call site when a hooked call is under way on its thread
   (hook_site), else its own caller. */

/* The call site for a default function: the hooked call's (taken once), or
   the default function's caller. */
static inline void take_site(void **caller, const char **file, int *line, void *own_caller)
{
    if (hook_site.caller != NULL) {
        *caller = hook_site.caller;
        *file = hook_site.file;
        *line = hook_site.line;
        hook_site.caller = NULL;
    } else {
        *caller = own_caller;
        *file = NULL;
        *line = 0;
    }
}

static inline void *count_default_failure(void *p)
{
    if (p == NULL)
        hook_site.default_failures++;  /* the core set pa_last_error: the hooked call keeps it */
    return p;
}

static __attribute__((noinline)) void *default_malloc(void *ctx, size_t n)
{
    (void)ctx;
    void *caller; const char *file; int line;
    take_site(&caller, &file, &line, __builtin_return_address(0));
    void *p = cached_pop(n);
    return p != NULL ? p : count_default_failure(pa__entry_malloc_unhooked(n, caller, file, line));
}

static __attribute__((noinline)) void *default_calloc(void *ctx, size_t nelem, size_t elsize)
{
    (void)ctx;
    void *caller; const char *file; int line;
    take_site(&caller, &file, &line, __builtin_return_address(0));
    return count_default_failure(pa__entry_calloc_unhooked(nelem, elsize, caller, file, line));
}

static __attribute__((noinline)) void *default_realloc(void *ctx, void *p, size_t n)
{
    (void)ctx;
    void *caller; const char *file; int line;
    take_site(&caller, &file, &line, __builtin_return_address(0));
    void *q;
    if (PA__LIKELY(pa__fp.enabled) && cached_realloc(p, n, &q))
        return q;
    return count_default_failure(pa__entry_realloc_unhooked(p, n, caller, file, line));
}

static void default_free(void *ctx, void *p)
{
    (void)ctx;
    if (p == NULL)
        return;
    pa__push taken = PA__LIKELY(pa__fp.enabled) ? pa__tcache_push(p) : PA__PUSH_DECLINED;
    if (taken != PA__PUSH_TAKEN)
        pa__entry_free_unhooked(p, taken);
}

/* ------------------------------------- allocator hooks: the hooked calls

   Each saves hook_site (a hook may allocate through pa_malloc itself), puts
   the program's call site there, calls the hook and restores it.  A hook
   that returns NULL without a default function failing under it (a budget
   refused, say) gets an error of its own: callers see NULL, errno ENOMEM and
   pa_last_error() naming the hook. */

static void hook_enter(hook_site_t *saved, void *caller, const char *file, int line)
{
    *saved = hook_site;
    hook_site.caller = caller;
    hook_site.file = file;
    hook_site.line = line;
}

static void *hook_leave(const hook_site_t *saved, void *p, const char *fn, size_t n)
{
    unsigned failures = hook_site.default_failures;
    hook_site = *saved;
    hook_site.default_failures = failures;
    if (p == NULL && failures == saved->default_failures) {
        char message[160];
        snprintf(message, sizeof message,
                 "%s: the allocator installed by pa_mem_set_allocator returned NULL for %zu bytes", fn, n);
        pa__set_error(message);
        errno = ENOMEM;
    }
    return p;
}

PA_LOCAL __attribute__((noinline)) void *pa__entry_malloc_hooked(pa_mem_allocator *hook, size_t n, void *caller,
                                                                 const char *file, int line)
{
    hook_site_t saved;
    hook_enter(&saved, caller, file, line);
    return hook_leave(&saved, hook->malloc(hook->ctx, n), "pa_malloc", n);
}

PA_LOCAL __attribute__((noinline)) void *pa__entry_calloc_hooked(pa_mem_allocator *hook, size_t nelem, size_t elsize,
                                                                 void *caller, const char *file, int line)
{
    hook_site_t saved;
    hook_enter(&saved, caller, file, line);
    size_t n;
    if (__builtin_mul_overflow(nelem, elsize, &n))
        n = (size_t)-1;
    return hook_leave(&saved, hook->calloc(hook->ctx, nelem, elsize), "pa_calloc", n);
}

PA_LOCAL __attribute__((noinline)) void *pa__entry_realloc_hooked(pa_mem_allocator *hook, void *p, size_t n,
                                                                  void *caller, const char *file, int line)
{
    hook_site_t saved;
    hook_enter(&saved, caller, file, line);
    return hook_leave(&saved, hook->realloc(hook->ctx, p, n), "pa_realloc", n);
}

/* ---------------------------------------------- the public allocation calls */

/* The slow half of pa_malloc: the hook when one is installed, else the
   unhooked path.  Reached by a tail call, so that pa_malloc itself keeps no
   frame and saves no register: its fast path is a TLS load, a list pop and
   a return. */
PA_LOCAL __attribute__((noinline)) void *pa__entry_malloc_slow(size_t n, void *caller, const char *file, int line)
{
    pa_mem_allocator *hook = installed_hook();
    if (PA__UNLIKELY(hook != NULL))
        return pa__entry_malloc_hooked(hook, n, caller, file, line);
    return pa__entry_malloc_unhooked(n, caller, file, line);
}

PA_LOCAL __attribute__((noinline)) void *pa__entry_calloc(size_t nelem, size_t elsize, void *caller,
                                                          const char *file, int line)
{
    pa_mem_allocator *hook = installed_hook();
    if (PA__UNLIKELY(hook != NULL))
        return pa__entry_calloc_hooked(hook, nelem, elsize, caller, file, line);
    return pa__entry_calloc_unhooked(nelem, elsize, caller, file, line);
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

/* The slow half of pa_free: the hook's free when one is installed (the fast
   path then never takes a block: fp.enabled is 0), else the unhooked path. */
PA_LOCAL __attribute__((noinline)) void pa__entry_free_slow(void *p, pa__push taken)
{
    if (taken == PA__PUSH_DECLINED) {
        pa_mem_allocator *hook = installed_hook();
        if (PA__UNLIKELY(hook != NULL)) {
            hook->free(hook->ctx, p);
            return;
        }
    }
    pa__entry_free_unhooked(p, taken);
}

PA_EXPORT void pa_free(void *p)
{
    if (PA__UNLIKELY(p == NULL))
        return;                       /* free(NULL): nothing to do, no call into the core */
    pa__push taken = PA__LIKELY(pa__fp.enabled) ? pa__tcache_push(p) : PA__PUSH_DECLINED;
    if (PA__LIKELY(taken == PA__PUSH_TAKEN))
        return;
    pa__entry_free_slow(p, taken);
}

/* ------------------------------------------- the rest: straight to the core */

PA_EXPORT void *pa_realloc(void *p, size_t n)
{
    void *q;
    if (PA__LIKELY(pa__fp.enabled) && cached_realloc(p, n, &q))
        return q;                     /* without the core: see cached_realloc */
    pa_mem_allocator *hook = installed_hook();
    if (PA__UNLIKELY(hook != NULL))
        return pa__entry_realloc_hooked(hook, p, n, __builtin_return_address(0), NULL, 0);
    return pa__entry_realloc_unhooked(p, n, __builtin_return_address(0), NULL, 0);
}

PA_EXPORT void *pa_realloc_at(void *p, size_t n, const char *file, int line)
{
    void *q;
    if (PA__LIKELY(pa__fp.enabled) && cached_realloc(p, n, &q))
        return q;
    pa_mem_allocator *hook = installed_hook();
    if (PA__UNLIKELY(hook != NULL))
        return pa__entry_realloc_hooked(hook, p, n, __builtin_return_address(0), file, line);
    return pa__entry_realloc_unhooked(p, n, __builtin_return_address(0), file, line);
}

/* ------------------------------------- allocator hooks: get, set, debug

   Thin: validate, then read or publish mem_hook.  Only PA_MEM_DOMAIN_MEM has
   an allocator to hook (pyalloc.h, section 3, says why the others are
   refused). */

static int check_domain(const char *fn, int domain)
{
    char message[200];
    if (domain == PA_MEM_DOMAIN_MEM)
        return 0;
    if (domain == PA_MEM_DOMAIN_RAW || domain == PA_MEM_DOMAIN_OBJ)
        snprintf(message, sizeof message,
                 "%s: domain %s has no allocator of its own in PyAlloc (pyalloc.h, section 3): "
                 "hook PA_MEM_DOMAIN_MEM", fn, domain == PA_MEM_DOMAIN_RAW ? "PA_MEM_DOMAIN_RAW" : "PA_MEM_DOMAIN_OBJ");
    else
        snprintf(message, sizeof message, "%s: unknown domain %d (PA_MEM_DOMAIN_RAW, _MEM or _OBJ)", fn, domain);
    pa__set_error(message);
    return -1;
}

/* Publishes a copy of a as the allocator in force.  0, or -1 with an error
   naming fn when the copy cannot be made. */
static int install_hook(const pa_mem_allocator *a, const char *fn)
{
    pa_mem_allocator *copy = malloc(sizeof *copy);   /* never freed: see "allocator hooks (state)" */
    if (copy == NULL) {
        char message[120];
        snprintf(message, sizeof message, "%s: out of memory for the allocator's copy", fn);
        pa__set_error(message);
        return -1;
    }
    *copy = *a;
    pa__assert(copy->malloc != NULL && copy->calloc != NULL && copy->realloc != NULL && copy->free != NULL,
               "an installed allocator has its four functions (checked by the callers)");
    pa__mem_hooked(1);                         /* caches off first: no free may bypass the hook */
    __atomic_store_n(&mem_hook, copy, __ATOMIC_RELEASE);
    return 0;
}

static int is_default(const pa_mem_allocator *a)
{
    return a->malloc == default_malloc && a->calloc == default_calloc && a->realloc == default_realloc
           && a->free == default_free;
}

PA_EXPORT int pa_mem_get_allocator(int domain, pa_mem_allocator *out)
{
    if (check_domain("pa_mem_get_allocator", domain) != 0)
        return -1;
    if (out == NULL) {
        pa__set_error("pa_mem_get_allocator: out is NULL");
        return -1;
    }
    pa_mem_allocator *hook = installed_hook();
    if (hook != NULL) {
        *out = *hook;
    } else {
        out->ctx = NULL;
        out->malloc = default_malloc;
        out->calloc = default_calloc;
        out->realloc = default_realloc;
        out->free = default_free;
    }
    return 0;
}

PA_EXPORT int pa_mem_set_allocator(int domain, const pa_mem_allocator *allocator)
{
    if (check_domain("pa_mem_set_allocator", domain) != 0)
        return -1;
    if (allocator == NULL || allocator->malloc == NULL || allocator->calloc == NULL
        || allocator->realloc == NULL || allocator->free == NULL) {
        pa__set_error(allocator == NULL ? "pa_mem_set_allocator: allocator is NULL"
                                        : "pa_mem_set_allocator: a function of the allocator is NULL "
                                          "(malloc, calloc, realloc and free are all required)");
        return -1;
    }
    if (is_default(allocator)) {               /* the default again: unhook, the caches come back */
        __atomic_store_n(&mem_hook, NULL, __ATOMIC_RELEASE);
        pa__mem_hooked(0);
        return 0;
    }
    return install_hook(allocator, "pa_mem_set_allocator");
}

/* PyMem_SetupDebugHooks.  With no hook installed, the debug variant of the
   allocator mode (the core decides whether it is still possible).  With one,
   CPython's order: the debug hooks over it, an allocator whose functions are
   the core's pa__debug_hook_* and whose ctx is a copy of the hook.  Over
   themselves they change nothing (the allocator in force is theirs). */
PA_EXPORT int pa_mem_setup_debug_hooks(void)
{
    pa_mem_allocator *hook = installed_hook();
    if (hook == NULL)
        return pa__setup_debug_mode();
    if (hook->malloc == pa__debug_hook_malloc)
        return 0;
    pa_mem_allocator *under = malloc(sizeof *under);   /* never freed, as the hooks' copies */
    if (under == NULL) {
        pa__set_error("pa_mem_setup_debug_hooks: out of memory for the allocator's copy");
        return -1;
    }
    *under = *hook;
    pa_mem_allocator debug = { under, pa__debug_hook_malloc, pa__debug_hook_calloc, pa__debug_hook_realloc,
                               pa__debug_hook_free };
    return install_hook(&debug, "pa_mem_setup_debug_hooks");
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

/* PYALLOC_MALLOCSTATS (CPython's PYTHONMALLOCSTATS): when set to a non-empty
   string as the library loads, the stats table goes to stderr at exit, in
   the pool modes only (CPython ignores the variable under PYTHONMALLOC=malloc).
   The constructor only reads the environment: the core is first entered at
   exit, by the handler. */
static void print_malloc_stats_at_exit(void)
{
    pa__tcache_flush_current();
    pa__mallocstats_at_exit();
}

__attribute__((constructor)) static void read_mallocstats_variable(void)
{
    const char *v = getenv("PYALLOC_MALLOCSTATS");
    if (v != NULL && v[0] != '\0')
        atexit(print_malloc_stats_at_exit);
}

PA_EXPORT size_t pa_pool_map(pa_pool_info *out, size_t cap)
{
    pa__tcache_flush_current();
    return pa__pool_map(out, cap);
}
