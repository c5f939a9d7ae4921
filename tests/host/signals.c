/* signals.c -- what the library's first call does to the host's signals
   (README: "What loading PyAlloc does to your process").  Built against the
   installed prefix; each case forks a child that makes the library's first
   call, so the parent sees how the child ends.  Exit 0 when the case holds.

     sigpipe_default, sigpipe_ignored   the host's SIGPIPE disposition is
         unchanged, and a write to a closed pipe kills it (default) or fails
         with EPIPE (ignored)
     dispositions   after calls that print to stderr, spawn addr2line and
         start tracemalloc, every disposition but SIGSEGV, SIGFPE and
         SIGRTMIN is the host's, the host's own child is still its to wait
         for, and no thread was added
     pending        a signal the host blocks and sends to its own process
         stays pending for it (no thread of the library's takes it)
     closed_stdin   a standard descriptor the host closed stays closed
     chain          a host SIGSEGV/SIGFPE handler installed before the first
         call gets sent signals and real faults after it
     raise_segv, fault_segv, raise_fpe, fault_fpe, raise_bus
                    each ends the process with the signal, as without the
         library
     ignored_segv   a sent SIGSEGV the host ignores is dropped */
#define _GNU_SOURCE
#include <pyalloc.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void first_call(void)
{
    void *p = pa_malloc(10);
    pa_free(p);
}

static int thread_count(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    int n = -1;
    while (f != NULL && fgets(line, sizeof line, f))
        if (sscanf(line, "Threads: %d", &n) == 1)
            break;
    if (f != NULL)
        fclose(f);
    return n;
}

/* The disposition of every signal: SIG_DFL, SIG_IGN or a handler address. */
static void snapshot(void *out[NSIG])
{
    for (int s = 1; s < NSIG; s++) {
        struct sigaction sa;
        out[s] = sigaction(s, NULL, &sa) == 0 ? (void *)sa.sa_handler : (void *)-1;
    }
}

static int compare(void *before[NSIG], void *after[NSIG])
{
    int changed = 0;
    for (int s = 1; s < NSIG; s++) {
        if (s == SIGSEGV || s == SIGFPE || s == SIGRTMIN)
            continue;   /* documented: the runtime's handlers, chained to the host's */
        if (before[s] != after[s]) {
            fprintf(stderr, "signal %d (%s): disposition %p -> %p\n", s, strsignal(s), before[s], after[s]);
            changed++;
        }
    }
    return changed;
}

/* Runs case in a child; returns its wait status. */
static int in_child(void (*body)(void))
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        body();
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return status;
}

static int expect_signal(int status, int sig, const char *what)
{
    if (WIFSIGNALED(status) && WTERMSIG(status) == sig) {
        printf("%s: ended by signal %d (%s), shell status %d\n", what, sig, strsignal(sig), 128 + sig);
        return 0;
    }
    fprintf(stderr, "%s: expected death by %s, got %s %d\n", what, strsignal(sig),
            WIFSIGNALED(status) ? "signal" : "exit", WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    return 1;
}

static int expect_exit0(int status, const char *what)
{
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    fprintf(stderr, "%s: the child failed (status 0x%x)\n", what, status);
    return 1;
}

/* ---------------------------------------------------------------- SIGPIPE */

static int pipe_ignored;

static void write_to_closed_pipe(void)
{
    if (pipe_ignored)
        signal(SIGPIPE, SIG_IGN);
    void *before[NSIG], *after[NSIG];
    snapshot(before);
    first_call();
    snapshot(after);
    if (compare(before, after) != 0)
        _exit(3);
    int fds[2];
    if (pipe(fds) != 0)
        _exit(4);
    close(fds[0]);
    ssize_t n = write(fds[1], "x", 1);
    /* Reached only when SIGPIPE is ignored. */
    _exit(n == -1 && errno == EPIPE ? 0 : 5);
}

/* ----------------------------------------------------------- dispositions */

static void busy_library(void)
{
    void *before[NSIG], *after[NSIG];
    signal(SIGINT, SIG_IGN);                /* a mix of the host's own */
    signal(SIGTERM, SIG_IGN);
    snapshot(before);
    pid_t own = fork();                     /* the host's child, waited for later */
    if (own == 0) {
        usleep(300000);
        _exit(7);
    }
    int threads = thread_count();
    first_call();
    pa_tracemalloc_start(5);                /* native frames: symbolised by addr2line */
    void *blocks[10];
    for (int i = 0; i < 10; i++)
        blocks[i] = pa_malloc(100);
    pa_snapshot *s = pa_tracemalloc_take_snapshot();
    pa_statistic top[4];
    size_t n = pa_snapshot_statistics(s, PA_STAT_TRACEBACK, top, 4);
    if (n == 0)
        _exit(3);
    char line[512];
    pa_statistic_format(&top[0], line, sizeof line);
    pa_snapshot_free(s);
    for (int i = 0; i < 10; i++)
        pa_free(blocks[i]);
    pa_tracemalloc_stop();
    pa_runtime *rt = pa_runtime_new();
    pa_gc_set_debug(rt, PA_GC_DEBUG_STATS);   /* the collector prints to stderr */
    pa_gc_collect(rt, 2);
    pa_runtime_free(rt);
    snapshot(after);
    if (compare(before, after) != 0)
        _exit(4);
    int status;
    if (waitpid(own, &status, 0) != own || !WIFEXITED(status) || WEXITSTATUS(status) != 7) {
        fprintf(stderr, "the host's own child was not the host's to wait for\n");
        _exit(5);
    }
    int added = thread_count() - threads;
    printf("threads added by the library: %d\n", added);
    _exit(added == 0 ? 0 : 6);   /* no finalizer thread: native/host/start.c */
}

/* ------------------------------------------------------------------ chain */

static volatile sig_atomic_t handled[NSIG];
static volatile int last_code;
static sigjmp_buf back;

static void host_handler(int sig, siginfo_t *info, void *context)
{
    (void)context;
    handled[sig]++;
    last_code = info->si_code;
    if (info->si_code > 0)
        siglongjmp(back, 1);   /* a real fault: leave the faulting instruction */
}

static void chain(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = host_handler;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGFPE, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    first_call();
    raise(SIGSEGV);
    raise(SIGFPE);
    raise(SIGBUS);
    if (handled[SIGSEGV] != 1 || handled[SIGFPE] != 1 || handled[SIGBUS] != 1 || last_code > 0)
        _exit(3);
    if (sigsetjmp(back, 1) == 0)
        *(volatile int *)(uintptr_t)8 = 1;
    if (handled[SIGSEGV] != 2 || last_code != SEGV_MAPERR)
        _exit(4);
    volatile int zero = 0, dividend = 12345;
    if (sigsetjmp(back, 1) == 0)
        zero = dividend / zero;
    if (handled[SIGFPE] != 2 || last_code != FPE_INTDIV)
        _exit(5);
    printf("host handlers: SIGSEGV %d, SIGFPE %d, SIGBUS %d calls\n",
           (int)handled[SIGSEGV], (int)handled[SIGFPE], (int)handled[SIGBUS]);
    _exit(0);
}

/* ------------------------------------------------------------ deaths */

static void raise_segv(void) { first_call(); raise(SIGSEGV); _exit(3); }
static void fault_segv(void) { first_call(); *(volatile int *)(uintptr_t)8 = 1; _exit(3); }
static void raise_fpe(void) { first_call(); raise(SIGFPE); _exit(3); }
static void fault_fpe(void) { first_call(); volatile int zero = 0, dividend = 12345; zero = dividend / zero; _exit(3); }
static void raise_bus(void) { first_call(); raise(SIGBUS); _exit(3); }
static void ignored_segv(void)
{
    signal(SIGSEGV, SIG_IGN);
    first_call();
    raise(SIGSEGV);   /* sent and ignored: dropped */
    kill(getpid(), SIGSEGV);
    _exit(0);
}

/* ---------------------------------------------------- the host's own */

static void pending_for_host(void)
{
    sigset_t usr1, pending;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &usr1, NULL);
    first_call();
    kill(getpid(), SIGUSR1);          /* process-directed: any thread that does not block it could take it */
    sigpending(&pending);
    if (!sigismember(&pending, SIGUSR1)) {
        fprintf(stderr, "SIGUSR1 sent to the process is not pending for the host\n");
        _exit(3);
    }
    int sig = 0;
    _exit(sigwait(&usr1, &sig) == 0 && sig == SIGUSR1 ? 0 : 4);
}

static void stdin_stays_closed(void)
{
    close(0);
    first_call();
    _exit(fcntl(0, F_GETFD) == -1 && errno == EBADF ? 0 : 3);
}

int main(int argc, char **argv)
{
    const char *c = argc > 1 ? argv[1] : "";
    if (strcmp(c, "sigpipe_default") == 0)
        return expect_signal(in_child(write_to_closed_pipe), SIGPIPE, c);
    if (strcmp(c, "sigpipe_ignored") == 0) {
        pipe_ignored = 1;
        return expect_exit0(in_child(write_to_closed_pipe), c);
    }
    if (strcmp(c, "dispositions") == 0)
        return expect_exit0(in_child(busy_library), c);
    if (strcmp(c, "pending") == 0)
        return expect_exit0(in_child(pending_for_host), c);
    if (strcmp(c, "closed_stdin") == 0)
        return expect_exit0(in_child(stdin_stays_closed), c);
    if (strcmp(c, "chain") == 0)
        return expect_exit0(in_child(chain), c);
    if (strcmp(c, "raise_segv") == 0)
        return expect_signal(in_child(raise_segv), SIGSEGV, c);
    if (strcmp(c, "fault_segv") == 0)
        return expect_signal(in_child(fault_segv), SIGSEGV, c);
    if (strcmp(c, "raise_fpe") == 0)
        return expect_signal(in_child(raise_fpe), SIGFPE, c);
    if (strcmp(c, "fault_fpe") == 0)
        return expect_signal(in_child(fault_fpe), SIGFPE, c);
    if (strcmp(c, "raise_bus") == 0)
        return expect_signal(in_child(raise_bus), SIGBUS, c);
    if (strcmp(c, "ignored_segv") == 0)
        return expect_exit0(in_child(ignored_segv), c);
    fprintf(stderr, "signals: unknown case '%s'\n", c);
    return 2;
}
