/* rlimit.c -- under RLIMIT_AS = 512 MiB (set before the library's first
   call), at least 400 MiB of pa_malloc succeed as 1 MiB blocks (the system
   allocator), and at least 380 MiB as 256-byte pool blocks.  Each case runs
   in a child with the limit and prints how much it got. */
#define _GNU_SOURCE
#include <pyalloc.h>

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define MIB ((size_t)1 << 20)

static size_t fill(size_t block, size_t want)
{
    size_t got = 0;
    while (got < want) {
        char *p = pa_malloc(block);
        if (p == NULL)
            break;
        memset(p, 1, block);
        got += block;
    }
    return got;
}

static int run(size_t block, size_t need)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit lim = { 512 * MIB, 512 * MIB };
        if (setrlimit(RLIMIT_AS, &lim) != 0)
            _exit(3);
        size_t got = fill(block, 480 * MIB);
        printf("RLIMIT_AS 512 MiB: %zu MiB of pa_malloc(%zu) succeeded\n", got / MIB, block);
        fflush(stdout);
        _exit(got >= need ? 0 : 4);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(void)
{
    int large = run(MIB, 400 * MIB);
    /* Pool blocks cost their pools' headers and their arenas' bitmaps too
       (about 2%): 256-byte blocks reach 390 MiB. */
    int small = run(256, 380 * MIB);
    return large != 0 ? large : small;
}
