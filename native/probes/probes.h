/* probes.h -- the USDT probes of libpyalloc.so (provider "pyalloc").

   Named in CPython's manner (python:gc__start, python:gc__done) and glibc's
   (libc:memory_arena_new).  Each is fired by one function below, which the
   C# core calls at the event (src/PyAlloc.Core/Support/Probes.cs); perf
   names them sdt_pyalloc:NAME.

     probe                  arguments                       fired
     gc__start              int generation                  a collection begins (after the
                                                            gc callbacks' "start"), CPython's
                                                            gc__start
     gc__done               long collected,                 it ends (before the callbacks'
                            long uncollectable              "stop"); CPython's gc__done has
                                                            the first only
     arena__new             void *address, size_t size      an arena (1 MiB) is mapped
     arena__free            void *address                   an arena is about to be unmapped
     trim                   size_t bytes_released           pa_trim returns
     tracemalloc__start     int nframe                      tracing starts
     tracemalloc__stop      -                               tracing stops
     fatal                  const char *message             a fatal error is reported (the
                                                            report's text, before the
                                                            handler or abort)

   tests/probes/ checks the notes (names and argument sizes) against this
   table. */
#ifndef PA_PROBES_H
#define PA_PROBES_H

#include <stddef.h>
#include <stdint.h>

#define PA_PROBE_API __attribute__((visibility("hidden")))

PA_PROBE_API void pa__probe_gc_start(int generation);
PA_PROBE_API void pa__probe_gc_done(intptr_t collected, intptr_t uncollectable);
PA_PROBE_API void pa__probe_arena_new(void *address, size_t size);
PA_PROBE_API void pa__probe_arena_free(void *address);
PA_PROBE_API void pa__probe_trim(size_t bytes_released);
PA_PROBE_API void pa__probe_tracemalloc_start(int nframe);
PA_PROBE_API void pa__probe_tracemalloc_stop(void);
PA_PROBE_API void pa__probe_fatal(const char *message);

#endif /* PA_PROBES_H */
