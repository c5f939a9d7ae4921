/* The collector's visit procedures for C traverse callbacks.

   Why they are C
     A type that cannot describe its references with ref_offsets gives a C
     traverse: traverse(self, visit, arg) calls visit(ref, arg) for each
     reference.  The collector's own walks over ref_offsets fields and list
     items are C# (src/PyAlloc.Core/Objects/Traverse.cs), but a visit function
     handed to C code would have to be an [UnmanagedCallersOnly] C# method:
     one entry into the managed runtime per reference, about 90 ns per
     object on a 2-reference graph.  These visit procedures are the same
     code as the C# visitors (src/PyAlloc.Core/Gc/Collector.cs, GcModule.cs),
     written on the GC head directly, so the core calls a type's traverse
     through a SuppressGCTransition function pointer (about 3 ns) and the
     whole traversal stays in C.  The rule this puts on a traverse is in
     pyalloc.h (pa_traverseproc): it may call visit and plain C code, never
     a function of the library that is not one of the header's inline ones.

   Data structures (mirrors of the core's, in gc_visit.h, checked by the
   .NET agreement test GcVisitLayoutTests)
     pa__gc_head   the two words in front of every object (GcHead):
                   next (low bit NEXT_MASK_UNREACHABLE inside
                   move_unreachable) and prev (a pointer, or gc_refs << 3
                   during a collection; the low 3 bits are flags).
     the arg       each procedure's arg is the C# visitor struct the core
                   passes (Unsafe.AsPointer(ref visitor)); its layout is
                   declared here beside the procedure.

   Each procedure is called with a non-NULL reference by well-behaved
   traverses; NULL is ignored, as the C# trampolines ignore it. */
#include "gc_visit.h"

#define PA_LOCAL __attribute__((visibility("hidden")))

static inline pa__gc_head *head_of(pa_object *o) { return (pa__gc_head *)o - 1; }
static inline int is_collecting(const pa__gc_head *g) { return (g->prev & PA__PREV_MASK_COLLECTING) != 0; }
static inline intptr_t get_refs(const pa__gc_head *g) { return (intptr_t)(g->prev >> PA__PREV_SHIFT); }
static inline void set_refs(pa__gc_head *g, intptr_t refs)
{
    g->prev = (g->prev & PA__PREV_MASK_FLAGS) | ((uintptr_t)refs << PA__PREV_SHIFT);
}
static inline void set_prev(pa__gc_head *g, pa__gc_head *prev)
{
    g->prev = (g->prev & PA__PREV_MASK_FLAGS) | (uintptr_t)prev;
}

/* gc_list_append: node, on no list, goes at the end of list. */
static inline void list_append(pa__gc_head *node, pa__gc_head *list)
{
    pa__gc_head *last = (pa__gc_head *)list->prev;
    set_prev(node, last);
    last->next = (uintptr_t)node;
    node->next = (uintptr_t)list;
    list->prev = (uintptr_t)node;
}

/* ------------------------------------------------------- subtract_refs */

/* visit_decref: a young object refers to op: one external reference fewer. */
PA_LOCAL int pa__gc_visit_decref(pa_object *op, void *arg)
{
    if (op == NULL)
        return 0;
    pa__gc_head *g = head_of(op);
    if (is_collecting(g)) {
        if (get_refs(g) <= 0) {
            ((pa__decref_arg *)arg)->bad = op;
            return 1;
        }
        g->prev -= (uintptr_t)1 << PA__PREV_SHIFT;
    }
    return 0;
}

/* One deferred decrement: as pa__gc_visit_decref, the failure recorded in ring. */
static inline int ring_apply(pa__decref_ring *ring, pa_object *op, pa_object *from)
{
    pa__gc_head *g = head_of(op);
    if (is_collecting(g)) {
        if (get_refs(g) <= 0) {
            ring->bad = op;
            ring->bad_parent = from;
            return 1;
        }
        g->prev -= (uintptr_t)1 << PA__PREV_SHIFT;
    }
    return 0;
}

/* visit_decref, deferred (pa__decref_ring): prefetch op's head, queue it, and
   make the decrement queued PA__DECREF_RING visits ago. */
PA_LOCAL int pa__gc_visit_decref_ring(pa_object *op, void *arg)
{
    if (op == NULL)
        return 0;
    pa__decref_ring *ring = arg;
    __builtin_prefetch(head_of(op), 1);
    if (ring->count == PA__DECREF_RING) {
        size_t h = ring->head;
        ring->head = (h + 1) % PA__DECREF_RING;
        ring->count--;
        if (ring_apply(ring, ring->target[h], ring->from[h]))
            return 1;
    }
    size_t tail = (ring->head + ring->count) % PA__DECREF_RING;
    ring->target[tail] = op;
    ring->from[tail] = ring->parent;
    ring->count++;
    return 0;
}

/* The decrements still queued: 0, or 1 with bad set. */
PA_LOCAL int pa__gc_decref_ring_flush(pa__decref_ring *ring)
{
    while (ring->count > 0) {
        /* Invariants: the entries before head are applied. */
        size_t h = ring->head;
        ring->head = (h + 1) % PA__DECREF_RING;
        ring->count--;
        if (ring_apply(ring, ring->target[h], ring->from[h]))
            return 1;
    }
    return 0;
}

/* ---------------------------------------------------- move_unreachable */

/* visit_reachable: op is referred to by a reachable object, so it is reachable. */
PA_LOCAL int pa__gc_visit_reachable(pa_object *op, void *arg)
{
    if (op == NULL)
        return 0;
    pa__gc_head *g = head_of(op);
    /* Objects of other generations, and those already scanned, are not Collecting. */
    if (!is_collecting(g))
        return 0;
    if (g->next & PA__NEXT_MASK_UNREACHABLE) {
        /* Had gc_refs 0 when move_unreachable saw it: back to young, by hand
           (the unreachable list's next pointers carry the mask). */
        pa__gc_head *prev = (pa__gc_head *)(g->prev & ~(uintptr_t)PA__PREV_MASK_FLAGS);
        pa__gc_head *next = (pa__gc_head *)(g->next & ~(uintptr_t)PA__NEXT_MASK_UNREACHABLE);
        prev->next = g->next;   /* keeps the mask */
        set_prev(next, prev);
        list_append(g, ((pa__reachable_arg *)arg)->young);
        set_refs(g, 1);
    } else if (get_refs(g) == 0) {
        /* In young, not scanned yet: tell move_unreachable it is reachable. */
        set_refs(g, 1);
    }
    return 0;
}

/* ------------------------------------------ move_legacy_finalizer_reachable */

/* visit_move: an object of unreachable reached from finalizers joins them. */
PA_LOCAL int pa__gc_visit_move(pa_object *op, void *arg)
{
    if (op == NULL)
        return 0;
    pa__gc_head *g = head_of(op);
    if (is_collecting(g)) {
        pa__gc_head *from_prev = (pa__gc_head *)(g->prev & ~(uintptr_t)PA__PREV_MASK_FLAGS);
        pa__gc_head *from_next = (pa__gc_head *)g->next;
        from_prev->next = (uintptr_t)from_next;
        set_prev(from_next, from_prev);
        list_append(g, ((pa__move_arg *)arg)->to);
        g->prev &= ~(uintptr_t)PA__PREV_MASK_COLLECTING;
    }
    return 0;
}

/* ------------------------------------------ get_referrers, get_referents */

/* GcModule.ReferrerVisitor: stop at the first reference to target. */
PA_LOCAL int pa__gc_visit_referrer(pa_object *op, void *arg)
{
    return op != NULL && op == ((pa__referrer_arg *)arg)->target;
}

PA_LOCAL int pa__gc_visit_referent(pa_object *op, void *arg)
{
    if (op == NULL)
        return 0;
    pa__referent_arg *s = arg;
    if (s->total < s->cap) {
        pa_incref(op);
        s->out[s->total] = op;
    }
    s->total++;
    return 0;
}

/* ------------------------------------------------------------ the table */

/* The core asks once for the procedures' addresses (GcNative.Initialize):
   out[0..5] = decref, reachable, move, referrer, referent, decref_ring.  Returns the
   count written, so that a core and a C side of different versions notice. */
PA_LOCAL int pa__gc_visitors(void **out, int cap)
{
    void *all[] = {(void *)pa__gc_visit_decref, (void *)pa__gc_visit_reachable, (void *)pa__gc_visit_move,
                   (void *)pa__gc_visit_referrer, (void *)pa__gc_visit_referent,
                   (void *)pa__gc_visit_decref_ring};
    int n = (int)(sizeof all / sizeof *all);
    if (out == NULL || cap < n)
        return -1;
    for (int i = 0; i < n; i++)
        out[i] = all[i];
    return n;
}
