/* check.h -- the C entry's own checks, in three levels (as mimalloc's
   MI_DEBUG): PA_DEBUG, set by the build (src/PyAlloc.Native/PyAlloc.Native.csproj):
     0  Release: none, the fast paths are as written.
     1  pa__assert: pre- and post-conditions of the slow halves (refill,
        settle, drain, the hooks, the thread's first cache).
     2  pa__assert_fast too: the fast paths' own invariants (a pushed or
        popped block, the ring's count).  A Debug build (-c Debug) is level 2;
        the test command runs C suites against it (tests/c/CMakeLists.txt,
        "cdebug.*"), beside the core's Debug.Asserts, which it turns on too.
   A failed check prints what failed, where, and the message, then aborts:
   the entry's structures are the allocator's, and going on would hand out
   a block twice.  It calls no pa_ function (nothing exported, no core). */
#ifndef PA_ENTRY_CHECK_H
#define PA_ENTRY_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#ifndef PA_DEBUG
#define PA_DEBUG 0
#endif

__attribute__((noreturn, cold, noinline, unused)) static void pa__assert_fail(const char *cond, const char *message,
                                                                      const char *file, int line, const char *fn)
{
    fprintf(stderr, "PyAlloc: C entry check failed: %s\n    %s\n    at %s:%d in %s()\n", message, cond, file, line, fn);
    fflush(stderr);
    abort();
}

#if PA_DEBUG >= 1
#define pa__assert(cond, message) \
    ((cond) ? (void)0 : pa__assert_fail(#cond, (message), __FILE__, __LINE__, __func__))
#else
#define pa__assert(cond, message) ((void)0)
#endif

#if PA_DEBUG >= 2
#define pa__assert_fast(cond, message) pa__assert(cond, message)
#else
#define pa__assert_fast(cond, message) ((void)0)
#endif

#endif
