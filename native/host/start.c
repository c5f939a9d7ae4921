/* The runtime's first start, seen from the host.

   NativeAOT starts its runtime lazily, on the first call into any C# entry
   point (the bootstrapper registers InitializeRuntime with
   RhSetRuntimeInitializationCallback from a static constructor, and the
   first reverse P/Invoke calls it).  The library is linked with
   --wrap=RhSetRuntimeInitializationCallback, so the start runs inside
   start_runtime below, whichever function the host calls first.

   What it adds: when the host is built with AddressSanitizer, the runtime's
   own start-up allocations (System.Private.CoreLib's wait subsystem keeps a
   monitor from malloc that only the GC heap points to, where LeakSanitizer
   does not look) are made with LeakSanitizer disabled on this thread, so an
   ASan host that uses PyAlloc correctly exits 0 with no suppression file. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>

typedef int (*runtime_start_fn)(void);

void __real_RhSetRuntimeInitializationCallback(runtime_start_fn start);
void __wrap_RhSetRuntimeInitializationCallback(runtime_start_fn start);

static runtime_start_fn runtime_start;

static int start_runtime(void)
{
    void (*lsan_disable)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "__lsan_disable");
    void (*lsan_enable)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "__lsan_enable");
    if (lsan_disable != NULL && lsan_enable != NULL)
        lsan_disable();
    int result = runtime_start();
    if (lsan_disable != NULL && lsan_enable != NULL)
        lsan_enable();
    return result;
}

void __wrap_RhSetRuntimeInitializationCallback(runtime_start_fn start)
{
    runtime_start = start;
    __real_RhSetRuntimeInitializationCallback(start != NULL ? start_runtime : NULL);
}
