/* Memory tracking: telling valgrind's memcheck and AddressSanitizer what the
   pools hold, as mimalloc's track.h does.

   Why it exists
     memcheck and ASan know glibc's malloc; to them a PyAlloc pool is one big
     mmap'd arena where every byte may be touched.  A use-after-free, an
     overflow into the next block or an uninitialised read inside a pool would
     go unseen.  So while the process runs under one of them, the core
     describes every block's life to it:

       event (core)              memcheck (client requests)      ASan
       heap made / destroyed     CREATE_MEMPOOL / DESTROY_MEMPOOL  -
       arena mapped              MAKE_MEM_NOACCESS (whole arena)  poison
       pool carved               MAKE_MEM_DEFINED (its header)    unpoison header
       block handed out          MEMPOOL_ALLOC (undefined)        unpoison
       block freed               MEMPOOL_FREE (no access)         poison
       free-list link read or    MAKE_MEM_DEFINED, then           - (the library
         written                 MAKE_MEM_NOACCESS again            is not
                                                                    instrumented)
       arena unmapped            -                                unpoison (the
                                                                  range may be
                                                                  reused by others)
       arena or descriptor       -                                LeakSanitizer root
         chunk mapped / unmapped                                    region (register /
                                                                    unregister): the
                                                                    host's blocks that
                                                                    only pool blocks
                                                                    point to, and the
                                                                    core's own, are
                                                                    not leaks

     memcheck then reports a pool block as it reports a malloc block: "Address
     0x... is 8 bytes inside a block of size 112 free'd", with the stacks of
     the allocation and of the free, uninitialised reads, and leaks (a block
     per heap pool, so pa_runtime_free forgets a runtime's objects at once).
     ASan reports an access to a freed or never handed-out pool block as
     "use-after-poison".  A block's tracked size is its size class (what
     pa_usable_size promises), so an overflow is seen once it leaves the
     block, into the next one.

   When
     Decided once, at the core's first allocation (pa__track_mode): memcheck
     when RUNNING_ON_VALGRIND, ASan when the process has ASan's run-time
     (__asan_poison_memory_region is found), else nothing; PYALLOC_TRACK=off
     in the environment turns it off (for valgrind's other tools, callgrind
     say, which should see the fast path).  While tracking, the thread caches
     stay off, so every call goes to the core, which makes the client
     requests; the C fast path is the same instructions as without tracking
     (it already tests pa__fp.enabled).  Without tracking the core pays one
     predicted branch per block on its own paths.

   Every function here is called by the core (C#) through a direct P/Invoke
   that ILC binds at link time ("pyalloc_native"). */
#ifndef PA_TRACK_H
#define PA_TRACK_H

#include <stddef.h>

#define PA__TRACK_NONE 0
#define PA__TRACK_MEMCHECK 1
#define PA__TRACK_ASAN 2

int pa__track_mode(void);
void pa__track_heap(void *heap, int alive);
void pa__track_alloc(void *heap, void *p, size_t n);
void pa__track_free(void *heap, void *p, size_t n);
void pa__track_noaccess(void *p, size_t n);
void pa__track_defined(void *p, size_t n);
void pa__track_unmapping(void *p, size_t n);
void pa__track_link(void *block, int open);
void pa__track_root(void *p, size_t n, int add);

#endif
