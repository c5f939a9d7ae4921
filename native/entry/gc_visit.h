/* The mirrors of the core's structures that native/entry/gc_visit.c reads and
   writes: see that file.  The .NET agreement test GcVisitLayoutTests compiles
   this header and checks every offset and constant against the C# structs. */
#ifndef PA_GC_VISIT_H
#define PA_GC_VISIT_H

#include "pyalloc.h"

#include <stddef.h>
#include <stdint.h>

/* GcHead (src/PyAlloc.Core/Objects/ObjectModel.cs). */
typedef struct pa__gc_head {
    uintptr_t next;
    uintptr_t prev;
} pa__gc_head;

enum {
    PA__NEXT_MASK_UNREACHABLE = 1,
    PA__PREV_MASK_COLLECTING = 2,
    PA__PREV_SHIFT = 3,
    PA__PREV_MASK_FLAGS = (1 << PA__PREV_SHIFT) - 1,
};

/* Collector.DecrefVisitor: parent is the object traversed; bad is set (and
   the traversal stopped) when a count would go below zero, which the core
   then reports as a fatal error. */
typedef struct pa__decref_arg {
    pa_object *parent;
    pa_object *bad;
} pa__decref_arg;

/* Collector.DecrefRing: subtract_refs over objects with only a C traverse,
   with its decrements deferred.  Each reference visited is prefetched and
   queued; the decrement of the one queued PA__DECREF_RING visits earlier is
   made then (subtract_refs' decrements commute: only the totals matter).
   parent is the object being traversed; bad and bad_parent are set (and the
   traversal stopped) when a count would go below zero. */
enum { PA__DECREF_RING = 16 };
typedef struct pa__decref_ring {
    pa_object *parent;
    pa_object *bad;
    pa_object *bad_parent;
    size_t head;                        /* the oldest entry */
    size_t count;                       /* entries queued */
    pa_object *target[PA__DECREF_RING];
    pa_object *from[PA__DECREF_RING];
} pa__decref_ring;

/* Collector.ReachableVisitor: the list being scanned. */
typedef struct pa__reachable_arg {
    pa__gc_head *young;
} pa__reachable_arg;

/* Collector.MoveVisitor: the list objects move to. */
typedef struct pa__move_arg {
    pa__gc_head *to;
} pa__move_arg;

/* GcModule.ReferrerVisitor: the object looked for. */
typedef struct pa__referrer_arg {
    pa_object *target;
} pa__referrer_arg;

/* GcModule.ReferentVisitor (its Sink): new references into out[0..cap), all counted. */
typedef struct pa__referent_arg {
    pa_object **out;
    size_t cap;
    size_t total;
} pa__referent_arg;

#endif
