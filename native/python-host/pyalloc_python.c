/* pyalloc-python: CPython 3.12 running on PyAlloc.

   A `python3` that embeds libpython and, before the interpreter starts,
   installs PyAlloc as the allocator of CPython's MEM and OBJ domains
   (PyMem_SetAllocator), so that every Python object and every PyMem_Malloc
   block lives in PyAlloc's pools.  The RAW domain (PyMem_RawMalloc: memory
   used without the GIL, before and after the interpreter) stays the C
   library's, as it is under CPython's own pymalloc.

   PyAlloc takes pymalloc's place, so PYTHONMALLOC keeps its meaning with
   "pymalloc" read as "PyAlloc":

     PYTHONMALLOC     MEM and OBJ domains
     (unset)          PyAlloc
     pymalloc         PyAlloc
     debug            PyAlloc under CPython's debug hooks (PyMem_SetupDebugHooks)
     pymalloc_debug   the same
     malloc           the C library's malloc (CPython's own choice; PyAlloc unused)
     malloc_debug     the C library's malloc under the debug hooks
     default          as unset

   -X dev and PYTHONDEVMODE=1 add the debug hooks, as in CPython.

   For comparisons the host can run other allocators through the same hook,
   chosen by PYALLOC_PYTHON_ALLOCATOR (the benchmark sets it):
     pyalloc   (default) as above
     cpython   CPython's own pymalloc, nothing installed: the baseline
     mimalloc  mimalloc 2 (libmimalloc.so.2, loaded with dlopen) in MEM and OBJ

   Everything else is CPython's own `python3` main: the arguments, the
   environment and sys.executable (this program, so subprocesses that tests
   start run on PyAlloc too).

   How it starts:
     1. pre-initialise from the command line (CPython reads PYTHONMALLOC, -E,
        -I, -X dev here and sets its allocators as it would for itself; the
        host reads back what it chose);
     2. unless CPython was asked for malloc, replace the MEM and OBJ
        allocators by PyAlloc's (few or no blocks exist in them yet; a block
        that does is refused by pa_free, never freed by the wrong allocator);
     3. if the debug hooks were asked for, install them again over PyAlloc;
     4. run CPython's own main (Py_BytesMain), which finds the runtime
        pre-initialised and keeps the allocators. */
#define PY_SSIZE_T_CLEAN
/* The pre-configuration CPython wrote (_PyRuntime.preconfig) is internal. */
#define Py_BUILD_CORE 1
#include <Python.h>
#include "internal/pycore_runtime.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pyalloc.h"

/* ------------------------------------------------------------- allocators */

/* CPython's PyMemAllocatorEx over PyAlloc.  CPython's contract:
   malloc(0) and calloc(0, n) return a unique non-NULL pointer (pa_malloc(0)
   does), realloc(p, 0) keeps a valid block (pa_realloc(p, 0) returns a
   minimal one), free(NULL) is a no-op. */
static void *pyalloc_malloc(void *ctx, size_t n)
{
    (void)ctx;
    return pa_malloc(n);
}

static void *pyalloc_calloc(void *ctx, size_t nelem, size_t elsize)
{
    (void)ctx;
    return pa_calloc(nelem, elsize);
}

static void *pyalloc_realloc(void *ctx, void *p, size_t n)
{
    (void)ctx;
    return pa_realloc(p, n);
}

static void pyalloc_free(void *ctx, void *p)
{
    (void)ctx;
    pa_free(p);
}

/* mimalloc, for the benchmark's comparison: loaded at run time so that the
   host neither links nor needs it otherwise. */
static void *(*mi_malloc_fn)(size_t);
static void *(*mi_calloc_fn)(size_t, size_t);
static void *(*mi_realloc_fn)(void *, size_t);
static void (*mi_free_fn)(void *);

static void *mimalloc_malloc(void *ctx, size_t n)
{
    (void)ctx;
    return mi_malloc_fn(n ? n : 1);
}

static void *mimalloc_calloc(void *ctx, size_t nelem, size_t elsize)
{
    (void)ctx;
    return nelem && elsize ? mi_calloc_fn(nelem, elsize) : mi_calloc_fn(1, 1);
}

static void *mimalloc_realloc(void *ctx, void *p, size_t n)
{
    (void)ctx;
    return mi_realloc_fn(p, n ? n : 1);
}

static void mimalloc_free(void *ctx, void *p)
{
    (void)ctx;
    mi_free_fn(p);
}

static int load_mimalloc(void)
{
    void *lib = dlopen("libmimalloc.so.2", RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        fprintf(stderr, "pyalloc-python: PYALLOC_PYTHON_ALLOCATOR=mimalloc: %s\n", dlerror());
        return -1;
    }
    *(void **)&mi_malloc_fn = dlsym(lib, "mi_malloc");
    *(void **)&mi_calloc_fn = dlsym(lib, "mi_calloc");
    *(void **)&mi_realloc_fn = dlsym(lib, "mi_realloc");
    *(void **)&mi_free_fn = dlsym(lib, "mi_free");
    if (!mi_malloc_fn || !mi_calloc_fn || !mi_realloc_fn || !mi_free_fn) {
        fprintf(stderr, "pyalloc-python: libmimalloc.so.2 lacks mi_malloc & co.\n");
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------- the plan */

typedef enum { USE_PYALLOC, USE_CPYTHON, USE_MIMALLOC } allocator_choice;

static allocator_choice read_choice(void)
{
    const char *s = getenv("PYALLOC_PYTHON_ALLOCATOR");
    if (s == NULL || s[0] == '\0' || strcmp(s, "pyalloc") == 0)
        return USE_PYALLOC;
    if (strcmp(s, "cpython") == 0)
        return USE_CPYTHON;
    if (strcmp(s, "mimalloc") == 0)
        return USE_MIMALLOC;
    fprintf(stderr, "pyalloc-python: PYALLOC_PYTHON_ALLOCATOR=%s: expected pyalloc, cpython or mimalloc\n", s);
    exit(2);
}

static void install(PyMemAllocatorEx *alloc, int debug_hooks)
{
    PyMem_SetAllocator(PYMEM_DOMAIN_MEM, alloc);
    PyMem_SetAllocator(PYMEM_DOMAIN_OBJ, alloc);
    if (debug_hooks)
        PyMem_SetupDebugHooks();
}

static int exit_with(PyStatus status)
{
    if (PyStatus_IsExit(status))
        return status.exitcode;
    Py_ExitStatusException(status);   /* does not return */
}

int main(int argc, char **argv)
{
    allocator_choice choice = read_choice();

    PyPreConfig preconfig;
    PyPreConfig_InitPythonConfig(&preconfig);
    PyStatus status = Py_PreInitializeFromBytesArgs(&preconfig, argc, argv);
    if (PyStatus_Exception(status))
        return exit_with(status);

    /* What CPython chose from PYTHONMALLOC, -X dev, -E and -I, exactly as it
       reads them: the pre-configuration it has just written. */
    PyMemAllocatorName asked = (PyMemAllocatorName)_PyRuntime.preconfig.allocator;
    int c_malloc = asked == PYMEM_ALLOCATOR_MALLOC || asked == PYMEM_ALLOCATOR_MALLOC_DEBUG;
    int debug_hooks = asked == PYMEM_ALLOCATOR_DEBUG || asked == PYMEM_ALLOCATOR_PYMALLOC_DEBUG;

    if (!c_malloc && choice != USE_CPYTHON) {
        PyMemAllocatorEx alloc = { NULL, pyalloc_malloc, pyalloc_calloc, pyalloc_realloc, pyalloc_free };
        if (choice == USE_MIMALLOC) {
            if (load_mimalloc() < 0)
                return 2;
            alloc = (PyMemAllocatorEx){ NULL, mimalloc_malloc, mimalloc_calloc, mimalloc_realloc, mimalloc_free };
        }
        install(&alloc, debug_hooks);
    }

    /* CPython's own `python` main: pre-initialisation is done, so it keeps
       the allocators installed above. */
    return Py_BytesMain(argc, argv);
}
