/* probes.c -- USDT probes of libpyalloc.so: what the memory manager did, for
   perf, SystemTap, bpftrace and VTune (see probes.h for the list and the
   README's "Profiling" for the workflow).

   Why here
     A USDT probe is a C macro (<sys/sdt.h>): a one-byte nop at the probe's
     site plus an ELF note (.note.stapsdt) that names the provider, the probe,
     the site's address and where each argument lives.  A tool that attaches
     turns the nop into a breakpoint; until then it costs the nop.  The core is
     C#, so it calls these functions at each event (Probes.cs): one direct call
     without a GC transition, made only where the event is already rare (a
     collection, an arena mapped or unmapped, a trim, tracemalloc's start and
     stop, a fatal error), never on the malloc/free fast path.

   Why no semaphores
     sdt.h can give a probe a counter the tool raises while attached, so that
     the caller may skip preparing the arguments.  Every argument here is
     already at hand, and the call is what costs; a semaphore would need the
     same call to read it. */
#include <stdint.h>
#include <sys/sdt.h>

#include "probes.h"

PA_PROBE_API void pa__probe_gc_start(int generation)
{
    DTRACE_PROBE1(pyalloc, gc__start, generation);
}

PA_PROBE_API void pa__probe_gc_done(intptr_t collected, intptr_t uncollectable)
{
    DTRACE_PROBE2(pyalloc, gc__done, collected, uncollectable);
}

PA_PROBE_API void pa__probe_arena_new(void *address, size_t size)
{
    DTRACE_PROBE2(pyalloc, arena__new, address, size);
}

PA_PROBE_API void pa__probe_arena_free(void *address)
{
    DTRACE_PROBE1(pyalloc, arena__free, address);
}

PA_PROBE_API void pa__probe_trim(size_t bytes_released)
{
    DTRACE_PROBE1(pyalloc, trim, bytes_released);
}

PA_PROBE_API void pa__probe_tracemalloc_start(int nframe)
{
    DTRACE_PROBE1(pyalloc, tracemalloc__start, nframe);
}

PA_PROBE_API void pa__probe_tracemalloc_stop(void)
{
    DTRACE_PROBE(pyalloc, tracemalloc__stop);
}

PA_PROBE_API void pa__probe_fatal(const char *message)
{
    DTRACE_PROBE1(pyalloc, fatal, message);
}
