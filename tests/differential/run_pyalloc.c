/* run_pyalloc.c -- the PyAlloc runner of the differential test.

     run_pyalloc SCENARIOS [TRACES]

   Reads the scenarios of the file SCENARIOS (format: README.md beside this
   file), runs each in a fresh pa_runtime and writes one canonical trace per
   scenario to TRACES (default: standard output), flushed after each scenario.
   Its twin is run_python.py, which runs the same scenarios in CPython; run.py
   drives both and compares the traces.

   The nodes mirror run_python.py's classes object for object:
     list nodes  a C type with a growable array of references, traversed
                 last item first (list_traverse), cleared and deallocated
                 releasing the last item first (_list_clear, list_dealloc);
     pair nodes  two reference fields a and b described by ref_offsets, so
                 the library itself traverses, clears and releases them, a
                 before b (CPython's subtype_traverse / clear_slots order for
                 __slots__ = ('id', 'a', 'b', ...), sorted to a, b, id);
   each in six kinds: plain, fin (PEP 442 finaliser logging "fin ID"), res
   (logs "fin ID" and resurrects itself into the list `resurrected`), legacy
   (legacy finaliser logging "del ID"), both (fin and legacy) and clr (logs
   "fin ID" and breaks its own edges) and legres (a legacy finaliser that
   logs "del ID" and resurrects its object, except in the teardown), fwr and
   lwr (a PEP 442 / legacy finaliser that logs and makes a new weakref with
   callback to its object, kept by the runner; its callback logs "wrcb fID").

   Everything the runner itself keeps (the held references, the weakref
   variables) lives in C arrays: references from outside the collector's
   view, like run_python.py's frozen containers.  The `resurrected` list is a
   PyAlloc list frozen at the start, like run_python.py's frozen list. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pyalloc.h>

#define MAX_IDS   65536
#define MAX_WREFS 65536

enum { K_PLAIN, K_FIN, K_RES, K_LEGACY, K_BOTH, K_CLR, K_LEGRES, K_FWR, K_LWR, NKINDS };
enum { F_LIST, F_PAIR, NFAMILIES };
static const char *const kind_names[NKINDS] = { "plain", "fin", "res", "legacy", "both", "clr", "legres", "fwr", "lwr" };

/* What a weakref's callback does besides logging "wrcb W". */
enum { WR_NOCB, WR_CB, WR_CBFREE /* drops its own variable */, WR_CBDROP /* drops node `drop` */ };
typedef struct wrinfo { int mode; int drop; } wrinfo;

/* Both families start with the id, so the finalisers can read it alike. */
typedef struct nodehdr {
    PA_OBJECT_HEAD
    int id;
} nodehdr;

typedef struct listnode {
    PA_OBJECT_HEAD
    int id;
    pa_object **items;
    size_t n, cap;
} listnode;

/* The argument tuple of run_python.py's weakref.ref(node, callback) call:
   see finalizer_weakref. */
typedef struct argtuple {
    PA_OBJECT_HEAD
    pa_object *arg;
} argtuple;

typedef struct pairnode {
    PA_OBJECT_HEAD
    int id;
    pa_object *a;
    pa_object *b;
} pairnode;

/* ------------------------------------------------------------ the state */

static pa_runtime *rt;
static pa_type *types[NFAMILIES][NKINDS];
static pa_type *argtuple_type;

/* run_python.py keeps CPython's tuple free lists stocked with FREE_TUPLES
   tuples, which every full collection frees at its end (each lowering
   generation 0's count, never below 0) and the runner then makes again
   (each raising it), and likewise 4 lists for the inspection ops: see
   "counting helpers" there.  The same count traffic
   here: FREE_TUPLES untracked GC objects, released after each full
   collection and made again. */
#define FREE_TUPLES (19 * 16 + 4)   /* and the 4 stocked lists (FREE_LISTS) */
static pa_type *token_type;
static pa_object *tokens[FREE_TUPLES];
static pa_object *resurrected;           /* a PyAlloc list, frozen */
static int quiet;                        /* teardown: log nothing */

static pa_object *held[MAX_IDS];         /* the scenario's references */
static pa_object *objs[MAX_IDS];         /* every node ever made (borrowed; valid while alive) */
static unsigned char alive[MAX_IDS];
static int family_of[MAX_IDS];
static int max_id;                       /* ids in [0, max_id) were used */

static pa_object *wrefs[MAX_WREFS];      /* weakref variables, by number: "w12" is wrefs[12] */
static wrinfo wrinfos[MAX_WREFS];
static pa_object **finwrefs;             /* weakrefs made by fwr / lwr finalisers */
static int *finwref_ids;                 /* the id of each one's node: its name "f<id>" */
static size_t n_finwrefs, cap_finwrefs;
static int max_w;

/* The trace of the current scenario. */
static char *trace;
static size_t trace_len, trace_cap;

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("run_pyalloc: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

static void tracef(const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(trace + trace_len, trace_cap - trace_len, fmt, ap);
        va_end(ap);
        if (n < 0)
            die("vsnprintf failed");
        if ((size_t)n + 2 <= trace_cap - trace_len) {
            trace_len += (size_t)n;
            trace[trace_len++] = '\n';
            trace[trace_len] = '\0';
            return;
        }
        trace_cap = trace_cap * 2 + (size_t)n + 64;
        trace = realloc(trace, trace_cap);
        if (trace == NULL)
            die("out of memory");
    }
}

/* ------------------------------------------------------------ list nodes */

static int list_traverse(pa_object *self, pa_visitproc visit, void *arg)
{
    listnode *l = (listnode *)self;
    for (size_t i = l->n; i-- > 0;) {
        if (l->items[i] != NULL) {
            int r = visit(l->items[i], arg);
            if (r != 0)
                return r;
        }
    }
    return 0;
}

/* _list_clear: empty first, then release last first. */
static int list_clear(pa_object *self)
{
    listnode *l = (listnode *)self;
    pa_object **items = l->items;
    size_t i = l->n;
    if (items == NULL)
        return 0;
    l->items = NULL;
    l->n = l->cap = 0;
    while (i-- > 0)
        pa_xdecref(items[i]);
    free(items);
    return 0;
}

/* list_dealloc: release last first. */
static void list_dealloc(pa_object *self)
{
    listnode *l = (listnode *)self;
    alive[l->id] = 0;
    for (size_t i = l->n; i-- > 0;)
        pa_xdecref(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = l->cap = 0;
}

static void list_append(pa_object *self, pa_object *item)
{
    listnode *l = (listnode *)self;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        pa_object **items = realloc(l->items, cap * sizeof *items);
        if (items == NULL)
            die("out of memory");
        l->items = items;
        l->cap = cap;
    }
    pa_incref(item);
    l->items[l->n++] = item;
}

/* list.pop(): the item leaves the list, then its reference is dropped. */
static void list_pop(pa_object *self)
{
    listnode *l = (listnode *)self;
    if (l->n == 0)
        die("pop from an empty node %d", l->id);
    pa_object *item = l->items[--l->n];
    pa_xdecref(item);
}

/* ------------------------------------------------------------ pair nodes */

static void pair_dealloc(pa_object *self)
{
    alive[((pairnode *)self)->id] = 0; /* the library releases a, then b */
}

/* ------------------------------------------------------------ finalisers */

static void fin_log(pa_object *self)
{
    if (!quiet)
        tracef("fin %d", ((nodehdr *)self)->id);
}

static void fin_res(pa_object *self)
{
    fin_log(self);
    if (pa_list_append(resurrected, self) != 0)
        die("pa_list_append: %s", pa_last_error());
}

static void del_log(pa_object *self)
{
    if (!quiet)
        tracef("del %d", ((nodehdr *)self)->id);
}

/* As list.clear() / self.a = None; self.b = None in a finaliser. */
static void fin_clr(pa_object *self)
{
    fin_log(self);
    if (pa_object_type(self) == types[F_LIST][K_CLR]) {
        list_clear(self);
    } else {
        pa_clear(&((pairnode *)self)->a);
        pa_clear(&((pairnode *)self)->b);
    }
}

static void del_res(pa_object *self)
{
    if (quiet)
        return;
    del_log(self);
    if (pa_list_append(resurrected, self) != 0)
        die("pa_list_append: %s", pa_last_error());
}

static void fw_callback(pa_object *weakref, void *user)
{
    (void)weakref;
    if (!quiet)
        tracef("wrcb f%d", (int)(intptr_t)user);
}

/* run_python.py makes this weakref with weakref.ref(node, callback): a call
   through type_call, whose argument tuple (node, callback) holds the node
   until the call returns.  The tuple's death goes through the trashcan, so
   when the finaliser runs 50 deaths deep the tuple is deposited, its
   reference keeps the node alive past the finaliser (which CPython then
   takes for a resurrection), and the node dies again only when the deposited
   tuple is destroyed.  To run the same scenario, the C runner makes the same
   temporary: a small non-GC object holding the node (tuples come from a free
   list, so it must not change gc.get_count() either), released after the
   weakref is made. */
static void finalizer_weakref(pa_object *self)
{
    pa_object *args = pa_object_new(argtuple_type);
    if (args == NULL)
        die("pa_object_new: %s", pa_last_error());
    pa_incref(self);
    ((argtuple *)args)->arg = self;
    pa_object *r = pa_weakref_new(self, fw_callback, (void *)(intptr_t)((nodehdr *)self)->id);
    if (r == NULL)
        die("pa_weakref_new: %s", pa_last_error());
    pa_decref(args);
    if (n_finwrefs == cap_finwrefs) {
        cap_finwrefs = cap_finwrefs ? 2 * cap_finwrefs : 16;
        finwrefs = realloc(finwrefs, cap_finwrefs * sizeof *finwrefs);
        finwref_ids = realloc(finwref_ids, cap_finwrefs * sizeof *finwref_ids);
        if (finwrefs == NULL || finwref_ids == NULL)
            die("out of memory");
    }
    finwref_ids[n_finwrefs] = ((nodehdr *)self)->id;
    finwrefs[n_finwrefs++] = r;
}

static void fin_fwr(pa_object *self)
{
    if (quiet)
        return;
    fin_log(self);
    finalizer_weakref(self);
}

static void del_lwr(pa_object *self)
{
    if (quiet)
        return;
    del_log(self);
    finalizer_weakref(self);
}

static void wr_callback(pa_object *weakref, void *user)
{
    int w = (int)(intptr_t)user;
    (void)weakref;
    if (!quiet)
        tracef("wrcb w%d", w);
    if (wrinfos[w].mode == WR_CBFREE)
        pa_clear(&wrefs[w]);
    else if (wrinfos[w].mode == WR_CBDROP)
        pa_clear(&held[wrinfos[w].drop]);
}

/* ------------------------------------------------------------ a runtime */

static int token_traverse(pa_object *self, pa_visitproc visit, void *arg)
{
    (void)self;
    (void)visit;
    (void)arg;
    return 0;
}

static void make_tokens(void)
{
    for (int i = 0; i < FREE_TUPLES; i++) {
        tokens[i] = pa_object_new(token_type);
        if (tokens[i] == NULL)
            die("pa_object_new: %s", pa_last_error());
        pa_gc_untrack(tokens[i]);
    }
}

static void free_tokens(void)
{
    for (int i = 0; i < FREE_TUPLES; i++)
        pa_clear(&tokens[i]);
}

static void make_types(void)
{
    static const size_t pair_offsets[] = { offsetof(pairnode, a), offsetof(pairnode, b), 0 };
    static const size_t argtuple_offsets[] = { offsetof(argtuple, arg), 0 };
    pa_type_spec aspec;
    memset(&aspec, 0, sizeof aspec);
    aspec.name = "argtuple";
    aspec.basicsize = sizeof(argtuple);
    aspec.ref_offsets = argtuple_offsets; /* not GC: released by the library */
    argtuple_type = pa_type_new(rt, &aspec);
    if (argtuple_type == NULL)
        die("pa_type_new: %s", pa_last_error());
    pa_type_spec tspec;
    memset(&tspec, 0, sizeof tspec);
    tspec.name = "free-tuple";
    tspec.basicsize = sizeof(pa_object);
    tspec.flags = PA_TPFLAGS_HAVE_GC;
    tspec.traverse = token_traverse;
    token_type = pa_type_new(rt, &tspec);
    if (token_type == NULL)
        die("pa_type_new: %s", pa_last_error());
    for (int f = 0; f < NFAMILIES; f++) {
        for (int k = 0; k < NKINDS; k++) {
            char name[32];
            snprintf(name, sizeof name, "%s-%s", f == F_LIST ? "node" : "pair", kind_names[k]);
            pa_type_spec spec;
            memset(&spec, 0, sizeof spec);
            spec.name = name;
            spec.flags = PA_TPFLAGS_HAVE_GC;
            if (f == F_LIST) {
                spec.basicsize = sizeof(listnode);
                spec.traverse = list_traverse;
                spec.clear = list_clear;
                spec.dealloc = list_dealloc;
            } else {
                spec.basicsize = sizeof(pairnode);
                spec.ref_offsets = pair_offsets;
                spec.dealloc = pair_dealloc;
            }
            if (k == K_FIN || k == K_BOTH)
                spec.finalize = fin_log;
            if (k == K_RES)
                spec.finalize = fin_res;
            if (k == K_CLR)
                spec.finalize = fin_clr;
            if (k == K_LEGACY || k == K_BOTH)
                spec.legacy_del = del_log;
            if (k == K_LEGRES)
                spec.legacy_del = del_res;
            if (k == K_FWR)
                spec.finalize = fin_fwr;
            if (k == K_LWR)
                spec.legacy_del = del_lwr;
            types[f][k] = pa_type_new(rt, &spec);
            if (types[f][k] == NULL)
                die("pa_type_new: %s", pa_last_error());
        }
    }
}

static void scenario_begin(void)
{
    rt = pa_runtime_new();
    if (rt == NULL)
        die("pa_runtime_new: %s", pa_last_error());
    pa_gc_disable(rt);
    make_types();
    resurrected = pa_list_new(rt);
    if (resurrected == NULL)
        die("pa_list_new: %s", pa_last_error());
    make_tokens();
    pa_gc_freeze(rt); /* as run_python.py freezes its own containers; count[0] = 0 */
    memset(held, 0, sizeof held);
    memset(objs, 0, sizeof objs);
    memset(alive, 0, sizeof alive);
    memset(wrefs, 0, sizeof wrefs);
    memset(wrinfos, 0, sizeof wrinfos);
    max_id = 0;
    max_w = 0;
    trace_len = 0;
    if (trace != NULL)
        trace[0] = '\0';
}

static int any_alive(void)
{
    for (int i = 0; i < max_id; i++)
        if (alive[i])
            return 1;
    return 0;
}

/* As run_python.py's teardown: free every node without logging. */
static void scenario_teardown(void)
{
    quiet = 1;
    for (int round = 0; round < 50 && any_alive(); round++) {
        for (int i = 0; i < max_id; i++) {
            if (!alive[i])
                continue;
            pa_object *o = objs[i];
            pa_incref(o);
            if (family_of[i] == F_LIST) {
                list_clear(o);
            } else {
                pa_clear(&((pairnode *)o)->a);
                pa_clear(&((pairnode *)o)->b);
            }
            pa_decref(o);
        }
        for (int i = 0; i < max_id; i++)
            pa_clear(&held[i]);
        for (int w = 0; w < max_w; w++)
            pa_clear(&wrefs[w]);
        while (n_finwrefs > 0)
            pa_decref(finwrefs[--n_finwrefs]);
        pa_list_clear(resurrected);
        pa_gc_clear_garbage(rt);
        pa_gc_collect(rt, 2);
    }
    if (any_alive())
        die("teardown could not free every node");
    for (int w = 0; w < max_w; w++)
        pa_clear(&wrefs[w]);
    while (n_finwrefs > 0)
        pa_decref(finwrefs[--n_finwrefs]);
    quiet = 0;
    pa_decref(resurrected);
    resurrected = NULL;
    free_tokens();
    pa_runtime_free(rt);
    rt = NULL;
}

/* ------------------------------------------------------------ the ops */

static int parse_kind(const char *s)
{
    for (int k = 0; k < NKINDS; k++)
        if (strcmp(s, kind_names[k]) == 0)
            return k;
    die("unknown kind '%s'", s);
    return -1;
}

static int parse_int(const char *s, int lo, int hi, const char *what)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || *s == '\0' || *end != '\0' || v < lo || v >= hi)
        die("bad %s '%s'", what, s);
    return (int)v;
}

static int node_arg(const char *s)
{
    int id = parse_int(s, 0, MAX_IDS, "node id");
    if (held[id] == NULL)
        die("node %d is not held", id);
    return id;
}

static int wref_arg(const char *s, int must_exist)
{
    if (s[0] != 'w')
        die("bad weakref name '%s' (expected w<number>)", s);
    int w = parse_int(s + 1, 0, MAX_WREFS, "weakref number");
    if (must_exist && wrefs[w] == NULL)
        die("weakref %s is not defined", s);
    return w;
}

static void count_text(char *buf, size_t cap)
{
    intptr_t c[3];
    pa_gc_get_count(rt, c);
    snprintf(buf, cap, "%ld %ld %ld", (long)c[0], (long)c[1], (long)c[2]);
}

static int is_node(const pa_object *o)
{
    const pa_type *t = pa_object_type(o);
    for (int f = 0; f < NFAMILIES; f++)
        for (int k = 0; k < NKINDS; k++)
            if (t == types[f][k])
                return 1;
    return 0;
}

/* run_python.py's weakref_name: the variables holding wr ("w1=w4"), else
   the finaliser's "f<id>", else "?". */
static size_t weakref_name(const pa_object *wr, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int w = 0; w < max_w; w++)
        if (wrefs[w] == wr && len < cap - 16)
            len += (size_t)snprintf(buf + len, cap - len, "%sw%d", len ? "=" : "", w);
    if (len > 0)
        return len;
    for (size_t i = 0; i < n_finwrefs; i++)
        if (finwrefs[i] == wr)
            return (size_t)snprintf(buf, cap, "f%d", finwref_ids[i]);
    return (size_t)snprintf(buf, cap, "?");
}

/* referrers / referents / getweakrefs of the held nodes argv[1..argc): the
   same line as run_python.py's inspect_op. */
static void op_inspect(int argc, char **argv)
{
    pa_object *args[3];
    int n = argc - 1;
    if (n < 1 || n > 3 || (argv[0][0] == 'g' && n != 1))
        die("'%s' takes 1 to 3 nodes (getweakrefs: 1)", argv[0]);
    for (int i = 0; i < n; i++)
        args[i] = held[node_arg(argv[i + 1])];
    size_t total;
    if (argv[0][0] == 'g')
        total = pa_weakref_getweakrefs(args[0], NULL, 0);
    else if (strcmp(argv[0], "referrers") == 0)
        total = pa_gc_get_referrers_n(rt, args, (size_t)n, NULL, 0);
    else
        total = pa_gc_get_referents_n(args, (size_t)n, NULL, 0);
    if (total == PA_SIZE_ERROR)
        die("%s: %s", argv[0], pa_last_error());
    pa_object **r = calloc(total + 1, sizeof *r);
    if (r == NULL)
        die("out of memory");
    if (argv[0][0] == 'g')
        pa_weakref_getweakrefs(args[0], r, total);
    else if (strcmp(argv[0], "referrers") == 0)
        pa_gc_get_referrers_n(rt, args, (size_t)n, r, total);
    else
        pa_gc_get_referents_n(args, (size_t)n, r, total);
    char line[1 << 16];
    size_t len = (size_t)snprintf(line, sizeof line, "->");
    for (size_t i = 0; i < total; i++) {
        if (len < sizeof line - 64) {
            if (argv[0][0] == 'g') {
                line[len++] = ' ';
                len += weakref_name(r[i], line + len, sizeof line - len);
            } else if (is_node(r[i])) {
                len += (size_t)snprintf(line + len, sizeof line - len, " %d", ((nodehdr *)r[i])->id);
            }
        }
    }
    for (size_t i = 0; i < total; i++)
        pa_decref(r[i]);
    free(r);
    tracef("%s", line);
}

static void op_end(void)
{
    char line[1 << 16];
    size_t len;

    len = (size_t)snprintf(line, sizeof line, "alive");
    for (int i = 0; i < max_id; i++)
        if (alive[i] && len < sizeof line - 16)
            len += (size_t)snprintf(line + len, sizeof line - len, " %d", i);
    tracef("%s", line);

    len = (size_t)snprintf(line, sizeof line, "garbage");
    size_t n = pa_gc_get_garbage(rt, NULL, 0);
    pa_object **g = calloc(n + 1, sizeof *g);
    if (g == NULL)
        die("out of memory");
    pa_gc_get_garbage(rt, g, n);
    for (size_t i = 0; i < n; i++) {
        if (len < sizeof line - 16) {
            if (is_node(g[i]))
                len += (size_t)snprintf(line + len, sizeof line - len, " %d", ((nodehdr *)g[i])->id);
            else
                len += (size_t)snprintf(line + len, sizeof line - len, " ?");
        }
        pa_decref(g[i]);
    }
    free(g);
    tracef("%s", line);

    pa_gc_generation_stats st[3];
    if (pa_gc_get_stats(rt, st) != 0)
        die("pa_gc_get_stats: %s", pa_last_error());
    tracef("stats %ld/%ld/%ld %ld/%ld/%ld %ld/%ld/%ld",
           (long)st[0].collections, (long)st[0].collected, (long)st[0].uncollectable,
           (long)st[1].collections, (long)st[1].collected, (long)st[1].uncollectable,
           (long)st[2].collections, (long)st[2].collected, (long)st[2].uncollectable);
}

/* Executes one op line (already echoed).  Returns 1 for `end`. */
static int run_op(int argc, char **argv)
{
    const char *op = argv[0];
#define NEED(n) do { if (argc != (n)) die("'%s' takes %d arguments", op, (n) - 1); } while (0)
    if (strcmp(op, "new") == 0 || strcmp(op, "pair") == 0) {
        NEED(3);
        int id = parse_int(argv[1], 0, MAX_IDS, "node id");
        if (id < max_id && objs[id] != NULL)
            die("node %d made twice", id);
        int f = op[0] == 'n' ? F_LIST : F_PAIR;
        pa_object *o = pa_object_new(types[f][parse_kind(argv[2])]);
        if (o == NULL)
            die("pa_object_new: %s", pa_last_error());
        ((nodehdr *)o)->id = id;
        held[id] = o;
        objs[id] = o;
        alive[id] = 1;
        family_of[id] = f;
        if (id >= max_id)
            max_id = id + 1;
    } else if (strcmp(op, "edge") == 0) {
        NEED(3);
        int a = node_arg(argv[1]), b = node_arg(argv[2]);
        if (family_of[a] != F_LIST)
            die("edge from pair node %d", a);
        list_append(held[a], held[b]);
    } else if (strcmp(op, "wedge") == 0) {
        NEED(3);
        int a = node_arg(argv[1]);
        if (family_of[a] != F_LIST)
            die("wedge from pair node %d", a);
        list_append(held[a], wrefs[wref_arg(argv[2], 1)]);
    } else if (strcmp(op, "pop") == 0) {
        NEED(2);
        int a = node_arg(argv[1]);
        if (family_of[a] != F_LIST)
            die("pop on pair node %d", a);
        list_pop(held[a]);
    } else if (strcmp(op, "set") == 0 || strcmp(op, "unset") == 0) {
        int set = op[0] == 's';
        NEED(set ? 4 : 3);
        int a = node_arg(argv[1]);
        if (family_of[a] != F_PAIR)
            die("%s on list node %d", op, a);
        pairnode *p = (pairnode *)held[a];
        pa_object **slot;
        if (strcmp(argv[2], "a") == 0)
            slot = &p->a;
        else if (strcmp(argv[2], "b") == 0)
            slot = &p->b;
        else
            die("bad slot '%s'", argv[2]);
        if (set) {
            pa_object *v = held[node_arg(argv[3])];
            pa_incref(v);
            pa_setref(slot, v);
        } else {
            pa_clear(slot); /* run_python.py sets None: the same to counts */
        }
    } else if (strcmp(op, "drop") == 0) {
        NEED(2);
        pa_clear(&held[node_arg(argv[1])]);
    } else if (strcmp(op, "weak") == 0) {
        int w = wref_arg(argv[1], 0);
        pa_object *target = held[node_arg(argv[2])];
        int mode;
        if (strcmp(argv[3], "nocb") == 0)
            mode = WR_NOCB;
        else if (strcmp(argv[3], "cb") == 0)
            mode = WR_CB;
        else if (strcmp(argv[3], "cbfree") == 0)
            mode = WR_CBFREE;
        else if (strcmp(argv[3], "cbdrop") == 0)
            mode = WR_CBDROP;
        else
            die("weak: expected nocb, cb, cbfree or cbdrop, not '%s'", argv[3]);
        NEED(mode == WR_CBDROP ? 5 : 4);
        wrinfos[w].mode = mode;
        wrinfos[w].drop = mode == WR_CBDROP ? node_arg(argv[4]) : -1;
        pa_object *r = pa_weakref_new(target, mode == WR_NOCB ? NULL : wr_callback, (void *)(intptr_t)w);
        if (r == NULL)
            die("pa_weakref_new: %s", pa_last_error());
        pa_setref(&wrefs[w], r);
        if (w >= max_w)
            max_w = w + 1;
    } else if (strcmp(op, "dropweak") == 0) {
        NEED(2);
        pa_clear(&wrefs[wref_arg(argv[1], 1)]);
    } else if (strcmp(op, "weakget") == 0) {
        NEED(2);
        pa_object *t = pa_weakref_get(wrefs[wref_arg(argv[1], 1)]);
        if (t == NULL) {
            tracef("-> dead");
        } else {
            tracef("-> %d", ((nodehdr *)t)->id);
            pa_decref(t);
        }
    } else if (strcmp(op, "referrers") == 0 || strcmp(op, "referents") == 0 || strcmp(op, "getweakrefs") == 0) {
        op_inspect(argc, argv);
    } else if (strcmp(op, "collect") == 0) {
        NEED(2);
        int g = parse_int(argv[1], 0, 3, "generation");
        intptr_t n = pa_gc_collect(rt, g);
        if (n < 0)
            die("pa_gc_collect: %s", pa_last_error());
        if (g == 2) {
            free_tokens();   /* CPython's clear_freelists, at the end of the collection */
            make_tokens();   /* run_python.py stocks the free lists again */
        }
        char c[96];
        count_text(c, sizeof c);
        tracef("-> %ld [%s]", (long)n, c);
    } else if (strcmp(op, "count") == 0) {
        NEED(1);
        char c[96];
        count_text(c, sizeof c);
        tracef("-> %s", c);
    } else if (strcmp(op, "clearres") == 0) {
        NEED(1);
        pa_list_clear(resurrected);
    } else if (strcmp(op, "cleargarbage") == 0) {
        NEED(1);
        pa_gc_clear_garbage(rt);
    } else if (strcmp(op, "end") == 0) {
        NEED(1);
        op_end();
        return 1;
    } else {
        die("unknown op '%s'", op);
    }
    return 0;
#undef NEED
}

/* ------------------------------------------------------------ main */

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: run_pyalloc SCENARIOS [TRACES]\n");
        return 2;
    }
    FILE *in = fopen(argv[1], "r");
    if (in == NULL)
        die("%s: %s", argv[1], strerror(errno));
    FILE *out = argc == 3 ? fopen(argv[2], "w") : stdout;
    if (out == NULL)
        die("%s: %s", argv[2], strerror(errno));
    fprintf(out, "pyalloc %s\n", pa_version());
    fflush(out);

    trace_cap = 1 << 16;
    trace = malloc(trace_cap);
    if (trace == NULL)
        die("out of memory");

    char line[4096];
    char name[256] = "";
    int in_scenario = 0, lineno = 0;
    while (fgets(line, sizeof line, in) != NULL) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash != NULL)
            *hash = '\0';
        char *words[8];
        int nw = 0;
        for (char *tok = strtok(line, " \t\r\n"); tok != NULL && nw < 8; tok = strtok(NULL, " \t\r\n"))
            words[nw++] = tok;
        if (nw == 0)
            continue;
        if (strcmp(words[0], "scenario") == 0) {
            if (in_scenario)
                die("line %d: scenario %s has no end", lineno, name);
            if (nw != 2)
                die("line %d: scenario takes a name", lineno);
            snprintf(name, sizeof name, "%s", words[1]);
            in_scenario = 1;
            scenario_begin();
            continue;
        }
        if (!in_scenario)
            die("line %d: op outside a scenario", lineno);
        /* Echo the op as run_python.py does: "> " and the words joined by one space. */
        char echo[4096];
        size_t len = (size_t)snprintf(echo, sizeof echo, ">");
        for (int i = 0; i < nw; i++)
            len += (size_t)snprintf(echo + len, sizeof echo - len, " %s", words[i]);
        tracef("%s", echo);
        if (run_op(nw, words)) {
            scenario_teardown();
            fprintf(out, "scenario %s\n%sdone\n", name, trace);
            fflush(out);
            in_scenario = 0;
        }
    }
    if (in_scenario)
        die("scenario %s has no end", name);
    free(trace);
    if (out != stdout)
        fclose(out);
    return 0;
}
