/* private.h -- the core's private entry points, as the C entry calls them

   The C functions of libpyalloc.so (entry.c, thread_cache.c, host/fork.c) reach the C#
   core through these pa__* functions: [UnmanagedCallersOnly] methods of
   src/PyAlloc.Native/Exports whose EntryPoint is the name below.  Declared
   hidden, the calls bind inside the library, and the build keeps the names
   out of the dynamic symbol table (PyAlloc.Native.csproj,
   KeepHeaderExportsOnly).

   This file is the one C declaration of each.  The agreement tests read it
   through libclang and check every prototype against its C# export, by the
   binding generator's C -> C# type rules (ExportSignatureTests): a change on
   either side that the other does not follow fails the test command.  The
   header's own functions (include/pyalloc.h) are checked the same way. */
#ifndef PA_PRIVATE_H
#define PA_PRIVATE_H

#include <stdint.h>
#include <stdio.h>

#include "pyalloc.h"
#include "thread_cache.h"

/* A call site as the core reads it (AllocationSite in
   src/PyAlloc.Core/Tracing/Tracemalloc.cs; core_layout.g.h checks the
   offsets where entry.c defines it). */
typedef struct pa__site pa__site;

#pragma GCC visibility push(hidden)

/* Allocation (AllocatorExports.cs): the slow halves of pa_malloc & co. */
extern void *pa__malloc(size_t n, const pa__site *site);
extern void *pa__calloc(size_t nelem, size_t elsize, const pa__site *site);
extern void *pa__realloc(void *p, size_t n, const pa__site *site);
extern void pa__free(void *p);
extern size_t pa__usable_size(const void *p);
extern size_t pa__trim(void);
extern int pa__get_malloc_stats(pa_malloc_stats *out);
extern int pa__print_malloc_stats(FILE *out);
extern size_t pa__pool_map(pa_pool_info *out, size_t cap);
extern void pa__mallocstats_at_exit(void);

/* Objects (ObjectExports.cs, ListExports.cs). */
extern pa_object *pa__object_new(pa_type *t, size_t nitems, int var, const pa__site *site);
extern pa_object *pa__object_gc_resize(pa_object *o, size_t nitems, const pa__site *site);
extern pa_object *pa__list_new(pa_runtime *rt, const pa__site *site);

/* Errors (ErrorExports.cs). */
extern const char *pa__last_error(void);
extern void pa__clear_error(void);
extern void pa__set_error(const char *message);

/* tracemalloc (TracingExports.cs). */
extern int *pa__tracemalloc_flag(void);
extern int pa__tracemalloc_track(unsigned int domain, uintptr_t ptr, size_t size, const pa__site *site);

/* Allocator hooks and the debug hooks over one (DebugExports.cs). */
extern void pa__mem_hooked(int on);
extern int pa__setup_debug_mode(void);
extern void *pa__debug_hook_malloc(void *ctx, size_t n);
extern void *pa__debug_hook_calloc(void *ctx, size_t nelem, size_t elsize);
extern void *pa__debug_hook_realloc(void *ctx, void *p, size_t n);
extern void pa__debug_hook_free(void *ctx, void *p);

/* The thread caches (ThreadCacheExports.cs). */
extern void pa__fastpath_attach(pa__fastpath *fp);
extern uint32_t pa__cache_refill(pa__tcache *tc, uint32_t index, uint32_t want);
extern void pa__cache_drain(pa__tcache *tc, uint32_t index, uint32_t keep);
extern void pa__cache_flush(pa__tcache *tc);
extern void pa__cache_register(pa__tcache *tc);
extern size_t pa__free_keep_large(void *p, void *evict);

/* fork() (ForkExports.cs): every lock of the core, in ForkSafety's order (native/host/fork.c). */
extern void pa__fork_lock(void);
extern void pa__fork_unlock(void);

#pragma GCC visibility pop

#endif /* PA_PRIVATE_H */
