/* The runtime's first start, seen from the host.

   NativeAOT starts its runtime lazily, on the first call into any C# entry
   point (the bootstrapper registers InitializeRuntime with
   RhSetRuntimeInitializationCallback from a static constructor, and the
   first reverse P/Invoke calls it).  The library is linked with
   --wrap=RhSetRuntimeInitializationCallback, so the start runs inside
   start_runtime below, whichever function the host calls first.

   What it adds, so that the start changes nothing the host can see:

   - No thread: the runtime's GC would start its finalizer thread (".NET
     Finalizer") here, and a host with a thread it never made is no longer
     the host it was: fork() in it warns (CPython: "This process is
     multi-threaded, use of fork() may lead to deadlocks in the child"), and
     a signal sent to the process may be delivered to that thread.  The
     library is linked with --wrap of PalStartFinalizerThread, and the wrapper
     starts nothing.  What that costs: .NET finalizers never run.  The core
     relies on none (it disposes what it opens, and its memory is its own);
     an object with a finalizer that is not disposed is kept, never
     finalized.  GC.WaitForPendingFinalizers would wait for ever: nothing in
     the library calls it.
   - Should a thread still be started during the start, it begins with every
     asynchronous signal blocked: it inherits the mask of the thread that
     makes it, and the start runs with all signals blocked but those a fault
     raises (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP) and the runtime's own
     (SIGRTMIN, with which its GC stops threads).
   - A standard descriptor (0, 1, 2) the host has closed stays closed: the
     start opens files, which would take the lowest free numbers; each closed
     one holds /dev/null during the start and is closed again after, so the
     runtime's files get numbers above 2 (a host that checks whether it has
     a stdin still sees none).
   - When the host is built with AddressSanitizer, the runtime's
   own start-up allocations (System.Private.CoreLib's wait subsystem keeps a
   monitor from malloc that only the GC heap points to, where LeakSanitizer
   does not look) are made with LeakSanitizer disabled on this thread, so an
   ASan host that uses PyAlloc correctly exits 0 with no suppression file. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <unistd.h>

typedef int (*runtime_start_fn)(void);

void pa__fork_start_begin(void) __attribute__((visibility("hidden")));
void pa__fork_start_end(int started) __attribute__((visibility("hidden")));

void __real_RhSetRuntimeInitializationCallback(runtime_start_fn start);
void __wrap_RhSetRuntimeInitializationCallback(runtime_start_fn start);

static runtime_start_fn runtime_start;

/* Open /dev/null on each closed standard descriptor; held[fd] is 1 for those. */
static void hold_closed_std_fds(int held[3])
{
    for (int fd = 0; fd < 3; fd++) {
        held[fd] = 0;
        if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
            continue;
        int got = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (got == fd)
            held[fd] = 1;
        else if (got >= 0)
            close(got);   /* cannot happen (the lowest free number is fd): leave things as they were */
    }
}

static void release_std_fds(const int held[3])
{
    for (int fd = 0; fd < 3; fd++)
        if (held[fd])
            close(fd);
}

/* Every signal but the synchronous ones and the runtime's own. */
static void block_async_signals(sigset_t *saved)
{
    sigset_t all;
    sigfillset(&all);
    static const int open_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP };
    for (size_t i = 0; i < sizeof open_signals / sizeof open_signals[0]; i++)
        sigdelset(&all, open_signals[i]);
    sigdelset(&all, SIGRTMIN);
    pthread_sigmask(SIG_BLOCK, &all, saved);
}

static int start_runtime(void)
{
    pa__fork_start_begin();       /* fork.c: no fork while the runtime starts (first thing) */
    int held[3];
    sigset_t saved_mask;
    hold_closed_std_fds(held);
    block_async_signals(&saved_mask);
    void (*lsan_disable)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "__lsan_disable");
    void (*lsan_enable)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "__lsan_enable");
    if (lsan_disable != NULL && lsan_enable != NULL)
        lsan_disable();
    int result = runtime_start();
    if (lsan_disable != NULL && lsan_enable != NULL)
        lsan_enable();
    pthread_sigmask(SIG_SETMASK, &saved_mask, NULL);
    release_std_fds(held);
    pa__fork_start_end(result == 0);
    return result;
}

void __wrap_RhSetRuntimeInitializationCallback(runtime_start_fn start)
{
    runtime_start = start;
    __real_RhSetRuntimeInitializationCallback(start != NULL ? start_runtime : NULL);
}

/* The runtime's finalizer thread, not started (see the top of this file).
   The runtime's C++ function is
     bool PalStartFinalizerThread(uint32_t (*callback)(void *), void *context)
   whose mangled name the link wraps; "true": the GC goes on as if it ran. */
typedef unsigned int (*finalizer_callback)(void *);
_Bool __wrap__Z23PalStartFinalizerThreadPFjPvES_(finalizer_callback callback, void *context);

_Bool __wrap__Z23PalStartFinalizerThreadPFjPvES_(finalizer_callback callback, void *context)
{
    (void)callback;
    (void)context;
    return 1;
}
