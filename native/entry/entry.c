/* The C entry points of libpyalloc.so: see README.md beside this file.

   Each public allocation call is a thin C function so that, while tracemalloc
   traces, it can name its caller (a code address, or the _at form's file and
   line) without the C# core having to look at the native stack.  While
   tracemalloc is off (the flag is 0) the cost is one load and one predicted
   branch before the call into the core. */
#define _GNU_SOURCE
#include "pyalloc.h"

#include <execinfo.h>
#include <stddef.h>

#define PA_EXPORT __attribute__((visibility("default")))
#define PA_MAX_FRAMES 100

/* A call site as the core reads it (CallSite in src/PyAlloc.Core/Tracing). */
typedef struct pa__site {
    const char *file;
    int line;
    void **frames;
    int nframes;
} pa__site;

/* The core's entry points (C# [UnmanagedCallersOnly] exports). */
extern int *pa__tracemalloc_flag(void);
extern void *pa__malloc(size_t n, const pa__site *site);
extern void *pa__calloc(size_t nelem, size_t elsize, const pa__site *site);
extern void *pa__realloc(void *p, size_t n, const pa__site *site);
extern pa_object *pa__object_new(pa_type *t, size_t nitems, int var, const pa__site *site);
extern pa_object *pa__list_new(pa_runtime *rt, const pa__site *site);

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
static __attribute__((noinline)) void capture(pa__site *site, void **frames, int nframe,
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

#define SITE(file, line)                                                     \
    int nframe_ = tracing_nframe();                                          \
    void *frames_[PA_MAX_FRAMES];                                            \
    pa__site site_;                                                          \
    const pa__site *sitep_ = NULL;                                           \
    if (__builtin_expect(nframe_ != 0, 0)) {                                 \
        capture(&site_, frames_, nframe_, __builtin_return_address(0), (file), (line)); \
        sitep_ = &site_;                                                     \
    }

PA_EXPORT void *pa_malloc(size_t n)
{
    SITE(NULL, 0)
    return pa__malloc(n, sitep_);
}

PA_EXPORT void *pa_calloc(size_t nelem, size_t elsize)
{
    SITE(NULL, 0)
    return pa__calloc(nelem, elsize, sitep_);
}

PA_EXPORT void *pa_realloc(void *p, size_t n)
{
    SITE(NULL, 0)
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

PA_EXPORT pa_object *pa_list_new(pa_runtime *rt)
{
    SITE(NULL, 0)
    return pa__list_new(rt, sitep_);
}

PA_EXPORT void *pa_malloc_at(size_t n, const char *file, int line)
{
    SITE(file, line)
    return pa__malloc(n, sitep_);
}

PA_EXPORT void *pa_calloc_at(size_t nelem, size_t elsize, const char *file, int line)
{
    SITE(file, line)
    return pa__calloc(nelem, elsize, sitep_);
}

PA_EXPORT void *pa_realloc_at(void *p, size_t n, const char *file, int line)
{
    SITE(file, line)
    return pa__realloc(p, n, sitep_);
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

PA_EXPORT pa_object *pa_list_new_at(pa_runtime *rt, const char *file, int line)
{
    SITE(file, line)
    return pa__list_new(rt, sitep_);
}
