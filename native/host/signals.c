/* What the runtime's start does to the host's signals, and what is undone.

   The NativeAOT runtime starts on the first call into the library, from
   whichever function that is, and then (PalInit, in its PalUnix.cpp and
   HardwareExceptions.cpp) ignores SIGPIPE and installs handlers for SIGSEGV,
   SIGFPE and SIGRTMIN.  The library is linked with --wrap=signal and
   --wrap=sigaction, so every such call of the runtime (and of any .NET code
   linked in) comes here first:

     SIGPIPE and every other signal
       refused: the call succeeds and changes nothing.  The host's
       disposition stays (a writer to a closed pipe still dies of SIGPIPE
       when the host says so).  PyAlloc itself writes only to the files and
       FILE* it is given and to stderr, as the host's own code would.

     SIGSEGV, SIGFPE (the runtime's hardware exception handlers)
       installed, but behind a front handler of ours (host_signal_front),
       which keeps the host's disposition as it was just before the runtime
       started and routes each signal:
         - a signal that was sent (raise, kill, sigqueue: si_code <= 0) or a
           fault outside the library's code gets the host's disposition
           exactly: its handler is called, or the default action runs (a
           fault re-executes and ends the process, a sent signal is raised
           again), or an ignored sent signal is dropped;
         - a fault inside the library's code goes to the runtime's handler,
           which turns a fault in C# code into a .NET exception (the core's
           exports catch it at the C boundary) and gives any other to the
           host's disposition as it found it.
       SIGBUS is not touched at all.

     SIGRTMIN (signal 34 with glibc)
       installed as the runtime asks: the GC sends it to a thread that runs
       C# code to stop it at a safe point.  It calls the host's handler, if
       the host had one, after its own work; a host that installs its own
       SIGRTMIN handler after the library started must call the previous
       one, or a collection can wait for that thread for ever.

   The host may change any disposition after the first call as it likes:
   its own sigaction() is not wrapped. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

int __real_sigaction(int sig, const struct sigaction *act, struct sigaction *oldact);
int __wrap_sigaction(int sig, const struct sigaction *act, struct sigaction *oldact);
__sighandler_t __wrap_signal(int sig, __sighandler_t handler);

/* Per hardware-exception signal: the host's disposition before the runtime
   started, and the runtime's.  Written once, under the runtime's start
   (which runs once, under its own lock), before the front handler exists. */
static struct sigaction host_action[NSIG];
static struct sigaction runtime_action[NSIG];
static volatile sig_atomic_t fronted[NSIG];

/* The library's executable segment: a fault whose instruction is in it is
   the library's (C# code or the C entry layer). */
static uintptr_t code_start, code_end;

static int find_code_segment(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    uintptr_t self = (uintptr_t)data;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || (ph->p_flags & PF_X) == 0)
            continue;
        uintptr_t start = info->dlpi_addr + ph->p_vaddr;
        if (self >= start && self < start + ph->p_memsz) {
            code_start = start;
            code_end = start + ph->p_memsz;
            return 1;
        }
    }
    return 0;
}

static int is_library_fault(const siginfo_t *info, const void *context)
{
    if (info->si_code <= 0)
        return 0;                     /* sent, not caused */
    uintptr_t ip = (uintptr_t)((const ucontext_t *)context)->uc_mcontext.gregs[REG_RIP];
    return ip >= code_start && ip < code_end;
}

/* The host's disposition for a signal that is not the library's, applied as
   the kernel would have without the library. */
static void apply_host_disposition(int sig, siginfo_t *info, void *context)
{
    struct sigaction host = host_action[sig];
    if (host.sa_handler == SIG_IGN && info->si_code <= 0)
        return;                       /* an ignored signal that was sent: dropped */
    if (host.sa_handler == SIG_DFL || host.sa_handler == SIG_IGN) {
        /* The default action: a fault re-executes its instruction when we
           return and ends the process as it would have; a sent signal is
           raised again and delivered when this handler returns (it is
           blocked until then).  A fault the host ignores ends the process
           too: the kernel does the same. */
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        sigemptyset(&dfl.sa_mask);
        __real_sigaction(sig, &dfl, NULL);
        if (info->si_code <= 0)
            raise(sig);
        return;
    }
    /* The host's handler, with its mask, once when it asked for SA_RESETHAND. */
    if (host.sa_flags & SA_RESETHAND) {
        host_action[sig].sa_handler = SIG_DFL;
        host_action[sig].sa_flags &= ~SA_SIGINFO;
    }
    sigset_t saved;
    pthread_sigmask(SIG_BLOCK, &host.sa_mask, &saved);
    if (host.sa_flags & SA_SIGINFO)
        host.sa_sigaction(sig, info, context);
    else
        host.sa_handler(sig);
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
}

static void host_signal_front(int sig, siginfo_t *info, void *context)
{
    if (is_library_fault(info, context))
        runtime_action[sig].sa_sigaction(sig, info, context);
    else
        apply_host_disposition(sig, info, context);
}

/* The runtime installs its handler for a hardware exception signal: keep it
   behind the front handler, and tell the runtime the host's disposition as
   its previous one (which it gives faults in library code that are not C#'s). */
static int install_front(int sig, const struct sigaction *act, struct sigaction *oldact)
{
    if (code_end == 0)
        dl_iterate_phdr(find_code_segment, (void *)(uintptr_t)&find_code_segment);
    struct sigaction host;
    if (__real_sigaction(sig, NULL, &host) != 0)
        return -1;
    host_action[sig] = host;
    runtime_action[sig] = *act;
    struct sigaction front;
    memset(&front, 0, sizeof front);
    front.sa_sigaction = host_signal_front;
    front.sa_flags = SA_SIGINFO | SA_RESTART | (act->sa_flags & SA_ONSTACK);
    front.sa_mask = act->sa_mask;
    if (__real_sigaction(sig, &front, NULL) != 0)
        return -1;
    fronted[sig] = 1;
    if (oldact != NULL)
        *oldact = host;
    return 0;
}

int __wrap_sigaction(int sig, const struct sigaction *act, struct sigaction *oldact)
{
    if (act == NULL || sig <= 0 || sig >= NSIG)
        return __real_sigaction(sig, act, oldact);      /* a query, or the kernel's error */
    if (sig == SIGSEGV || sig == SIGFPE) {
        if (!fronted[sig])
            return install_front(sig, act, oldact);
        return __real_sigaction(sig, act, oldact);      /* the runtime restoring the host's, in a fault */
    }
    if (sig == SIGRTMIN)
        return __real_sigaction(sig, act, oldact);      /* the GC's thread suspension */
    return __real_sigaction(sig, NULL, oldact);          /* anything else: the host's stays */
}

__sighandler_t __wrap_signal(int sig, __sighandler_t handler)
{
    struct sigaction act, old;
    memset(&act, 0, sizeof act);
    act.sa_handler = handler;
    sigemptyset(&act.sa_mask);
    act.sa_flags = SA_RESTART;
    if (__wrap_sigaction(sig, &act, &old) != 0)
        return SIG_ERR;
    return old.sa_handler;
}
