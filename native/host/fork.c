/* fork() from a multi-threaded host.

   fork() copies only the calling thread; a lock another thread of the
   library held at that moment would stay held for ever in the child (the
   child of a pre-fork server would hang in its first pa_malloc).  As glibc's
   malloc and mimalloc do, the library registers pthread_atfork handlers (when
   it is loaded): prepare takes every lock of the library (src/PyAlloc.Core/
   Api/ForkSafety.cs names them and their order), parent and child
   release them.

   The library's .NET runtime starts lazily, on the first call (start.c).  A
   fork while another thread is inside that start would leave the start's own
   lock held in the child, whose first call would then wait for ever.  So the
   start runs under start_lock (pa__fork_start_begin / _end), and prepare
   takes start_lock first: a fork waits for a start in progress, and never
   happens during one.  Before the first start, prepare calls nothing managed
   (there is no lock of the core to take, and a fork must not start the
   runtime just to take none). */
#define _GNU_SOURCE
#include <pthread.h>

#include "entry/private.h"    /* pa__fork_lock, pa__fork_unlock: ForkSafety's, exports of the core */
void pa__fork_start_begin(void) __attribute__((visibility("hidden")));
void pa__fork_start_end(int started) __attribute__((visibility("hidden")));

static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;
static int runtime_started;   /* written under start_lock */

/* start.c, around the runtime's start. */
void pa__fork_start_begin(void)
{
    pthread_mutex_lock(&start_lock);
}

void pa__fork_start_end(int started)
{
    if (started)
        runtime_started = 1;
    pthread_mutex_unlock(&start_lock);
}

static void before_fork(void)
{
    pthread_mutex_lock(&start_lock);
    if (runtime_started)
        pa__fork_lock();
}

static void after_fork(void)
{
    if (runtime_started)
        pa__fork_unlock();
    pthread_mutex_unlock(&start_lock);   /* in the child too: the forking thread owns it */
}

__attribute__((constructor)) static void register_fork_handlers(void)
{
    pthread_atfork(before_fork, after_fork, after_fork);
}
