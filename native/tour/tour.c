/* tour: "How Python's Garbage Collector Works Under the Hood", replayed.

   The main job of ./build.sh.  It walks through the article part by part and
   replays each example through PyAlloc -- real runtimes, objects, counts,
   collections, finalisers, weak references and tracemalloc -- printing the
   article's own output lines.  Where python3 is on the machine (CPython
   3.12.1 from pyenv is preferred: the article is tested on 3.12), each
   section also runs the article's Python snippet and prints CPython's output
   below PyAlloc's, marked "CPython |".  Where a line legitimately differs
   (a count that depends on the interpreter's own objects), a "(why)" note
   says so.

   Part 4 also draws the heap: an SVG heap map (arenas as rows, pools as
   cells coloured by size class and fill) before and after a collection.

   Environment: PYALLOC_TOUR_PYTHON=0 skips CPython; PYALLOC_TOUR_PYTHON=path
   uses that interpreter; PYALLOC_TOUR_SVG_DIR chooses where the heap maps go
   (default build/tour, relative to the current directory). */
#include <pyalloc.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------ presentation */

static void part(const char *title)
{
    printf("\n=== %s ===\n", title);
}

static void step(const char *what)
{
    printf("\n-- %s\n", what);
}

static void why(const char *text)
{
    printf("   (why) %s\n", text);
}

static void die(const char *what)
{
    fprintf(stderr, "tour: %s failed: %s\n", what, pa_last_error());
    exit(1);
}

static pa_object *check(pa_object *o, const char *what)
{
    if (o == NULL)
        die(what);
    return o;
}

/* --------------------------------------------------------- CPython beside */

static char python_path[1024];
static char python_version[64];

static int file_exists(const char *p) { return access(p, X_OK) == 0; }

static void find_python(void)
{
    const char *env = getenv("PYALLOC_TOUR_PYTHON");
    if (env != NULL && strcmp(env, "0") == 0)
        return;
    if (env != NULL && *env != '\0') {
        snprintf(python_path, sizeof python_path, "%s", env);
    } else {
        const char *root = getenv("PYENV_ROOT");
        const char *home = getenv("HOME");
        char cand[1024];
        if (root != NULL)
            snprintf(cand, sizeof cand, "%s/versions/3.12.1/bin/python3", root);
        else
            snprintf(cand, sizeof cand, "%s/.pyenv/versions/3.12.1/bin/python3", home ? home : "");
        if (file_exists(cand)) {
            snprintf(python_path, sizeof python_path, "%s", cand);
        } else {
            FILE *p = popen("command -v python3 2>/dev/null", "r");
            if (p != NULL) {
                if (fgets(python_path, sizeof python_path, p) == NULL)
                    python_path[0] = '\0';
                pclose(p);
                python_path[strcspn(python_path, "\n")] = '\0';
            }
        }
    }
    if (python_path[0] == '\0')
        return;
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "'%s' -c 'import sys; print(sys.version.split()[0])' 2>/dev/null", python_path);
    FILE *p = popen(cmd, "r");
    if (p == NULL || fgets(python_version, sizeof python_version, p) == NULL)
        python_path[0] = '\0';
    if (p != NULL)
        pclose(p);
    python_version[strcspn(python_version, "\n")] = '\0';
}

/* Run the article's snippet with `python3 -c` and print its output, each line
   marked "CPython |".  The snippets use no single quote. */
static void cpython(const char *snippet)
{
    if (python_path[0] == '\0')
        return;
    size_t n = strlen(snippet) + strlen(python_path) + 64;
    char *cmd = malloc(n);
    if (cmd == NULL)
        return;
    snprintf(cmd, n, "'%s' -c '%s' 2>&1", python_path, snippet);
    fflush(stdout);
    FILE *p = popen(cmd, "r");
    free(cmd);
    if (p == NULL)
        return;
    char line[512];
    printf("   CPython %s says:\n", python_version);
    while (fgets(line, sizeof line, p) != NULL)
        printf("   CPython | %s", line);
    pclose(p);
}

/* ------------------------------------------------------------------ types */

/* int: a plain object (no references, not tracked), enough to fill lists. */
typedef struct { PA_OBJECT_HEAD intptr_t value; } int_object;

/* Node: the article's class Node -- a value, a parent, children, and a free
   `ref` attribute for Part 3's cycle.  The library traverses, clears and
   releases the three reference fields itself (ref_offsets). */
typedef struct {
    PA_OBJECT_HEAD
    intptr_t value;
    pa_object *parent;
    pa_object *children;
    pa_object *ref;
} node_object;

/* Resource: class Resource with __del__ printing "Freed: <name>". */
typedef struct {
    PA_OBJECT_HEAD
    pa_object *other;           /* for cycles */
    int resurrect;              /* the finaliser stores self in a global */
    char name[48];
} resource_object;

/* Parent / Child with a weak back-reference (Part 7). */
typedef struct { PA_OBJECT_HEAD pa_object *children; } parent_object;
typedef struct { PA_OBJECT_HEAD pa_object *parent; /* a weakref, or NULL */ } child_object;

static pa_object *lazarus;      /* where a resurrecting finaliser puts itself */

static void resource_del(pa_object *self)
{
    resource_object *r = (resource_object *)self;
    printf("Freed: %s\n", r->name);
    if (r->resurrect) {
        pa_incref(self);
        lazarus = self;
        printf("   ... and %s's finaliser stored it in a global: resurrected\n", r->name);
    }
}

static void legacy_del(pa_object *self)
{
    printf("Freed: %s (legacy finaliser)\n", ((resource_object *)self)->name);
}

/* class MyClass: pass -- a GC object that refers to nothing. */
static int traverse_nothing(pa_object *self, pa_visitproc visit, void *arg)
{
    (void)self; (void)visit; (void)arg;
    return 0;
}

typedef struct tour_types {
    pa_type *int_t, *node, *resource, *legacy, *parent, *child, *myclass;
} tour_types;

static tour_types make_types(pa_runtime *rt)
{
    static const size_t node_refs[] = {
        offsetof(node_object, parent), offsetof(node_object, children), offsetof(node_object, ref), 0 };
    static const size_t resource_refs[] = { offsetof(resource_object, other), 0 };
    static const size_t parent_refs[] = { offsetof(parent_object, children), 0 };
    static const size_t child_refs[] = { offsetof(child_object, parent), 0 };
    tour_types t;
    pa_type_spec s;

    memset(&s, 0, sizeof s);
    s.name = "int"; s.basicsize = sizeof(int_object);
    t.int_t = pa_type_new(rt, &s);

    memset(&s, 0, sizeof s);
    s.name = "Node"; s.basicsize = sizeof(node_object); s.flags = PA_TPFLAGS_HAVE_GC; s.ref_offsets = node_refs;
    t.node = pa_type_new(rt, &s);

    memset(&s, 0, sizeof s);
    s.name = "Resource"; s.basicsize = sizeof(resource_object); s.flags = PA_TPFLAGS_HAVE_GC;
    s.ref_offsets = resource_refs; s.finalize = resource_del;
    t.resource = pa_type_new(rt, &s);

    memset(&s, 0, sizeof s);
    s.name = "LegacyResource"; s.basicsize = sizeof(resource_object); s.flags = PA_TPFLAGS_HAVE_GC;
    s.ref_offsets = resource_refs; s.legacy_del = legacy_del;
    t.legacy = pa_type_new(rt, &s);

    memset(&s, 0, sizeof s);
    s.name = "Parent"; s.basicsize = sizeof(parent_object); s.flags = PA_TPFLAGS_HAVE_GC; s.ref_offsets = parent_refs;
    t.parent = pa_type_new(rt, &s);

    memset(&s, 0, sizeof s);
    s.name = "Child"; s.basicsize = sizeof(child_object); s.flags = PA_TPFLAGS_HAVE_GC; s.ref_offsets = child_refs;
    t.child = pa_type_new(rt, &s);

    memset(&s, 0, sizeof s);
    s.name = "MyClass"; s.basicsize = sizeof(pa_object); s.flags = PA_TPFLAGS_HAVE_GC; s.traverse = traverse_nothing;
    t.myclass = pa_type_new(rt, &s);

    if (!t.int_t || !t.node || !t.resource || !t.legacy || !t.parent || !t.child || !t.myclass)
        die("pa_type_new");
    return t;
}

static pa_object *new_int(tour_types *t, intptr_t v)
{
    int_object *o = (int_object *)check(pa_object_new(t->int_t), "pa_object_new(int)");
    o->value = v;
    return &o->ob_base;
}

/* [1, 2, 3] */
static pa_object *list_123(pa_runtime *rt, tour_types *t)
{
    pa_object *l = check(pa_list_new(rt), "pa_list_new");
    for (intptr_t i = 1; i <= 3; i++) {
        pa_object *v = new_int(t, i);
        pa_list_append(l, v);
        pa_decref(v);
    }
    return l;
}

static pa_object *new_node(pa_runtime *rt, tour_types *t, intptr_t value)
{
    node_object *n = (node_object *)check(pa_object_new(t->node), "pa_object_new(Node)");
    n->value = value;
    n->children = check(pa_list_new(rt), "pa_list_new");
    return &n->ob_base;
}

/* Node.add_child: child.parent = self; self.children.append(child) */
static void node_add_child(pa_object *self, pa_object *child)
{
    pa_incref(self);
    pa_setref(&((node_object *)child)->parent, self);
    pa_list_append(((node_object *)self)->children, child);
}

static pa_object *new_resource(tour_types *t, pa_type *type, const char *name)
{
    resource_object *r = (resource_object *)check(pa_object_new(type), "pa_object_new(Resource)");
    snprintf(r->name, sizeof r->name, "%s", name);
    (void)t;
    printf("Created: %s\n", r->name);
    return &r->ob_base;
}

static size_t tracked(pa_runtime *rt, int generation)
{
    return pa_gc_get_objects(rt, generation, NULL, 0);
}

static pa_runtime *new_runtime(tour_types *t)
{
    pa_runtime *rt = pa_runtime_new();
    if (rt == NULL)
        die("pa_runtime_new");
    *t = make_types(rt);
    return rt;
}

/* ------------------------------------------------------------------ Part 1 */

static void part1(void)
{
    tour_types t;
    pa_runtime *rt = new_runtime(&t);
    part("Part 1: Reference Counting");

    step("x = [1, 2, 3]; print(sys.getrefcount(x))");
    pa_object *x = list_123(rt, &t);
    printf("%ld\n", (long)pa_refcnt(x) + 1);
    why("pa_refcnt(x) is 1, the variable's reference; sys.getrefcount adds its argument's, so the tour adds 1 too");
    pa_decref(x);
    cpython("import sys\nx = [1, 2, 3]\nprint(sys.getrefcount(x))");

    step("Watching Reference Count Change");
    pa_object *a = list_123(rt, &t);                       /* a = [1, 2, 3] */
    printf("After creation: %ld\n", (long)pa_refcnt(a));
    pa_object *b = a; pa_incref(b);                       /* b = a */
    printf("After b = a: %ld\n", (long)pa_refcnt(a));
    pa_object *c = a; pa_incref(c);                       /* c = a */
    printf("After c = a: %ld\n", (long)pa_refcnt(a));
    pa_decref(b);                                          /* del b */
    printf("After del b: %ld\n", (long)pa_refcnt(a));
    pa_decref(c);                                          /* del c */
    printf("After del c: %ld\n", (long)pa_refcnt(a));
    pa_object *wr = check(pa_weakref_new(a, NULL, NULL), "pa_weakref_new");
    pa_decref(a);                                          /* del a: count 0, freed now */
    pa_object *still = pa_weakref_get(wr);
    printf("After del a: freed at once, no collection (a weak reference to it now gives %s)\n",
           still ? "the list" : "None");
    pa_xdecref(still);
    pa_decref(wr);
    cpython("import sys\n"
            "a = [1, 2, 3]\n"
            "print(f\"After creation: {sys.getrefcount(a) - 1}\")\n"
            "b = a\nprint(f\"After b = a: {sys.getrefcount(a) - 1}\")\n"
            "c = a\nprint(f\"After c = a: {sys.getrefcount(a) - 1}\")\n"
            "del b\nprint(f\"After del b: {sys.getrefcount(a) - 1}\")\n"
            "del c\nprint(f\"After del c: {sys.getrefcount(a) - 1}\")");
    pa_runtime_free(rt);
}

/* ------------------------------------------------------------------ Part 2 */

static void part2(void)
{
    tour_types t;
    pa_runtime *rt = new_runtime(&t);
    part("Part 2: The Problem with Cycles");

    step("A Simple Cycle: a = []; b = []; a.append(b); b.append(a)");
    pa_object *a = check(pa_list_new(rt), "pa_list_new");
    pa_object *b = check(pa_list_new(rt), "pa_list_new");
    pa_list_append(a, b);
    pa_list_append(b, a);
    printf("ref count of a: %ld\n", (long)pa_refcnt(a));
    printf("ref count of b: %ld\n", (long)pa_refcnt(b));
    cpython("import sys\na = []\nb = []\na.append(b)\nb.append(a)\n"
            "print(f\"ref count of a: {sys.getrefcount(a) - 1}\")\n"
            "print(f\"ref count of b: {sys.getrefcount(b) - 1}\")");

    step("del a; del b");
    pa_object *wa = pa_weakref_new(a, NULL, NULL);
    pa_decref(a);
    pa_decref(b);
    pa_object *alive = pa_weakref_get(wa);
    printf("Both still exist: a weak reference to a still finds it (%s); each count is now %ld, not 0\n",
           alive ? "yes" : "no", alive ? (long)pa_refcnt(alive) - 1 : 0L);
    pa_xdecref(alive);
    printf("Collected %ld unreachable objects\n", (long)pa_gc_collect(rt, 2));
    alive = pa_weakref_get(wa);
    printf("After gc.collect(): the weak reference gives %s\n", alive ? "the list" : "None");
    pa_xdecref(alive);
    pa_decref(wa);
    cpython("import gc, weakref\na = []\nb = []\na.append(b)\nb.append(a)\n"
            "del a, b\nprint(f\"Collected {gc.collect()} unreachable objects\")");

    step("Real-World Cycles: Node parent/child back-references");
    pa_object *root = new_node(rt, &t, 1);
    pa_object *leaf = new_node(rt, &t, 2);
    node_add_child(root, leaf);
    printf("root: ref count %ld (the variable, leaf.parent)\n", (long)pa_refcnt(root));
    printf("leaf: ref count %ld (the variable, root.children)\n", (long)pa_refcnt(leaf));
    pa_decref(root);
    pa_decref(leaf);
    printf("del root, leaf -> Collected %ld unreachable objects (two Nodes and their two children lists)\n",
           (long)pa_gc_collect(rt, 2));
    why("CPython 3.12 counts the same objects: two Nodes and their two children lists "
        "(their attributes live inline, without a __dict__ object)");
    cpython("import gc, sys\n"
            "class Node:\n"
            "    def __init__(self, value):\n"
            "        self.value = value\n        self.parent = None\n        self.children = []\n"
            "    def add_child(self, child):\n"
            "        child.parent = self\n        self.children.append(child)\n"
            "gc.collect()\n"
            "root = Node(1)\nleaf = Node(2)\nroot.add_child(leaf)\n"
            "print(f\"root: ref count {sys.getrefcount(root) - 1} (the variable, leaf.parent)\")\n"
            "print(f\"leaf: ref count {sys.getrefcount(leaf) - 1} (the variable, root.children)\")\n"
            "del root, leaf\n"
            "print(f\"del root, leaf -> Collected {gc.collect()} unreachable objects\")");

    step("A self-referencing object: class Config: self.owner = self");
    pa_object *config = new_node(rt, &t, 0);
    pa_clear(&((node_object *)config)->children);   /* Config has no children list */
    pa_incref(config);
    ((node_object *)config)->ref = config;
    printf("ref count of config: %ld\n", (long)pa_refcnt(config));
    pa_decref(config);
    printf("del config -> Collected %ld unreachable objects\n", (long)pa_gc_collect(rt, 2));
    cpython("import gc, sys\nclass Config:\n    def __init__(self):\n        self.owner = self\n"
            "gc.collect()\nconfig = Config()\n"
            "print(f\"ref count of config: {sys.getrefcount(config) - 1}\")\n"
            "del config\nprint(f\"del config -> Collected {gc.collect()} unreachable objects\")");
    pa_runtime_free(rt);
}

/* ---------------------------------------------------------------- Part 3/4 */

static void print_counts(pa_runtime *rt, const char *label)
{
    intptr_t c[3];
    pa_gc_get_count(rt, c);
    printf("%s(%ld, %ld, %ld)\n", label, (long)c[0], (long)c[1], (long)c[2]);
}

static void part3(void)
{
    tour_types t;
    pa_runtime *rt = new_runtime(&t);
    part("Part 3: The Cyclic Garbage Collector");

    step("The gc Module: isenabled, collect, get_count");
    printf("%s\n", pa_gc_isenabled(rt) ? "True" : "False");
    printf("Collected %ld objects\n", (long)pa_gc_collect(rt, 2));
    print_counts(rt, "");
    why("get_count is the objects allocated since the last collection: in a fresh PyAlloc runtime just after "
        "collect() that is (0, 0, 0); CPython's interpreter allocates objects of its own between the lines "
        "(below, one since the collection; the article's \"(700, 10, 1)\" is one such moment, not a rule)");
    pa_object *keep[5];
    for (int i = 0; i < 5; i++)
        keep[i] = check(pa_list_new(rt), "pa_list_new");
    print_counts(rt, "after five new lists: ");
    for (int i = 0; i < 5; i++)
        pa_decref(keep[i]);
    print_counts(rt, "after freeing them again: ");
    cpython("import gc\nprint(gc.isenabled())\ncollected = gc.collect()\n"
            "print(f\"Collected {collected} objects\")\nprint(gc.get_count())");

    step("Detecting Reference Cycles: a.ref = b; b.ref = a; del a, b");
    pa_object *a = new_node(rt, &t, 0);
    pa_object *b = new_node(rt, &t, 0);
    pa_clear(&((node_object *)a)->children);   /* class Node: pass -- no children list */
    pa_clear(&((node_object *)b)->children);
    pa_incref(b); ((node_object *)a)->ref = b;
    pa_incref(a); ((node_object *)b)->ref = a;
    pa_decref(a);
    pa_decref(b);
    printf("Collected %ld unreachable objects\n", (long)pa_gc_collect(rt, 2));
    cpython("import gc\nclass Node:\n    pass\n"
            "a = Node()\nb = Node()\na.ref = b\nb.ref = a\n"
            "a_id = id(a)\nb_id = id(b)\ndel a, b\n"
            "collected = gc.collect()\nprint(f\"Collected {collected} unreachable objects\")");
    pa_runtime_free(rt);
}

static void print_generations(pa_runtime *rt, const char *when)
{
    printf("%-22s total %zu: generation 0: %zu, generation 1: %zu, generation 2: %zu\n", when,
           tracked(rt, -1), tracked(rt, 0), tracked(rt, 1), tracked(rt, 2));
}

static void heap_map_step(pa_runtime *rt, tour_types *t);

static void part4(void)
{
    tour_types t;
    pa_runtime *rt = new_runtime(&t);
    part("Part 4: Generational Collection");

    step("gc.get_threshold()");
    int th[3];
    pa_gc_get_threshold(rt, th);
    printf("(%d, %d, %d)\n", th[0], th[1], th[2]);
    cpython("import gc\nprint(gc.get_threshold())");

    step("Inspecting the Generations: 100 lists, then collect(0), collect(1), collect(2)");
    pa_object *objs[100];
    for (int i = 0; i < 100; i++)
        objs[i] = check(pa_list_new(rt), "pa_list_new");
    print_generations(rt, "after creating them:");
    pa_gc_collect(rt, 0);
    print_generations(rt, "after collect(0):");
    pa_gc_collect(rt, 1);
    print_generations(rt, "after collect(1):");
    pa_gc_collect(rt, 2);
    print_generations(rt, "after collect(2):");
    why("survivors move one generation older with each collection of theirs; CPython shows the same moves "
        "on top of the thousands of objects its interpreter tracks (modules, functions, classes)");
    for (int i = 0; i < 100; i++)
        pa_decref(objs[i]);
    cpython("import gc\n"
            "def gens(when):\n"
            "    print(f\"{when:22} total {len(gc.get_objects())}: generation 0: {len(gc.get_objects(generation=0))}, \"\n"
            "          f\"generation 1: {len(gc.get_objects(generation=1))}, generation 2: {len(gc.get_objects(generation=2))}\")\n"
            "gc.collect()\n"
            "objs = [[] for i in range(100)]\n"
            "gens(\"after creating them:\")\n"
            "gc.collect(0)\ngens(\"after collect(0):\")\n"
            "gc.collect(1)\ngens(\"after collect(1):\")\n"
            "gc.collect(2)\ngens(\"after collect(2):\")");
    heap_map_step(rt, &t);
    pa_runtime_free(rt);
}


/* -------------------------------------------------------------- heap map */

/* mkdir -p */
static int make_dirs(const char *path)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; ; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return -1;
            if (c == '\0')
                return 0;
            *p = c;
        }
    }
}

/* A hue per size class: the golden angle keeps neighbouring classes apart. */
static int class_hue(int size_class) { return (size_class * 137 + 200) % 360; }

enum { CELL = 14, GAP = 2, LEFT = 78, TOP = 62 };

/* Writes rt's heap map to path as SVG 1.1: one row per arena, 64 pool cells
   a row, hue = size class, darker = fuller, grey = empty or never carved. */
static void write_heap_map(pa_runtime *rt, const char *path, const char *title)
{
    size_t n = pa_runtime_pool_map(rt, NULL, 0);
    if (n == PA_SIZE_ERROR)
        die("pa_runtime_pool_map");
    pa_pool_info *map = calloc(n + 1, sizeof *map);
    if (map == NULL)
        die("calloc");
    n = pa_runtime_pool_map(rt, map, n);
    size_t arenas = n / 64, used = 0, blocks = 0;
    int present[32] = {0};
    for (size_t i = 0; i < n; i++)
        if (map[i].size_class >= 0) {
            present[map[i].size_class] = 1;
            used++;
            blocks += map[i].blocks_in_use;
        }
    int nclasses = 0;
    for (int c = 0; c < 32; c++)
        nclasses += present[c];
    int rows_px = (int)arenas * (CELL + GAP);
    int legend_y = TOP + rows_px + 24;
    int legend_rows = (nclasses + 1 + 7) / 8;   /* 8 entries a line, the "empty" entry included */
    int width = LEFT + 64 * (CELL + GAP) + 20;
    int height = legend_y + legend_rows * 22 + 60;

    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "tour: cannot write %s: %s\n", path, strerror(errno));
        exit(1);
    }
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" height=\"%d\" "
               "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">\n", width, height, width, height);
    fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"white\"/>\n", width, height);
    fprintf(f, "<text x=\"10\" y=\"24\" font-size=\"18\" font-weight=\"bold\">%s</text>\n", title);
    fprintf(f, "<text x=\"10\" y=\"44\" font-size=\"12\" fill=\"#444\">%zu arena%s of 64 pools (16 KiB each); "
               "%zu pools in use, %zu live blocks. Hue: size class; darker: fuller pool.</text>\n",
            arenas, arenas == 1 ? "" : "s", used, blocks);
    for (size_t a = 0; a < arenas; a++) {
        int y = TOP + (int)a * (CELL + GAP);
        fprintf(f, "<text x=\"10\" y=\"%d\" font-size=\"11\">arena %zu</text>\n", y + CELL - 3, a);
        for (size_t p = 0; p < 64; p++) {
            const pa_pool_info *pi = &map[a * 64 + p];
            int x = LEFT + (int)p * (CELL + GAP);
            if (pi->size_class < 0) {
                fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#d9d9d9\"/>\n", x, y, CELL, CELL);
                continue;
            }
            double fill = pi->blocks_total ? (double)pi->blocks_in_use / (double)pi->blocks_total : 0;
            int light = 88 - (int)(fill * 53);   /* 88% (nearly empty) .. 35% (full) */
            fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"hsl(%d, 75%%, %d%%)\" "
                       "stroke=\"hsl(%d, 75%%, 30%%)\" stroke-width=\"1\"><title>arena %zu pool %zu: %zu-byte blocks, "
                       "%zu of %zu in use</title></rect>\n",
                    x, y, CELL, CELL, class_hue(pi->size_class), light, class_hue(pi->size_class), a, p,
                    pi->block_size, pi->blocks_in_use, pi->blocks_total);
        }
    }
    /* legend: one swatch per size class present, then empty, then the fill scale */
    fprintf(f, "<text x=\"10\" y=\"%d\" font-size=\"12\" font-weight=\"bold\">Size classes</text>\n", legend_y - 6);
    int k = 0;
    for (int c = 0; c <= 32; c++) {
        if (c < 32 && !present[c])
            continue;
        int x = 10 + (k % 8) * 128, y = legend_y + (k / 8) * 22;
        if (c < 32)
            fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"hsl(%d, 75%%, 50%%)\"/>"
                       "<text x=\"%d\" y=\"%d\" font-size=\"12\">class %d: %d B</text>\n",
                    x, y, CELL, CELL, class_hue(c), x + CELL + 6, y + CELL - 2, c, 16 * (c + 1));
        else
            fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#d9d9d9\"/>"
                       "<text x=\"%d\" y=\"%d\" font-size=\"12\">empty pool</text>\n",
                    x, y, CELL, CELL, x + CELL + 6, y + CELL - 2);
        k++;
    }
    int sy = legend_y + legend_rows * 22 + 8;
    fprintf(f, "<text x=\"10\" y=\"%d\" font-size=\"12\">fill:</text>\n", sy + CELL - 2);
    for (int i = 0; i <= 4; i++) {
        int x = 50 + i * 70;
        fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"hsl(%d, 75%%, %d%%)\"/>"
                   "<text x=\"%d\" y=\"%d\" font-size=\"12\">%d%%</text>\n",
                x, sy, CELL, CELL, class_hue(3), 88 - i * 53 / 4, x + CELL + 6, sy + CELL - 2, i * 25);
    }
    fprintf(f, "</svg>\n");
    if (fclose(f) != 0) {
        fprintf(stderr, "tour: cannot write %s: %s\n", path, strerror(errno));
        exit(1);
    }
    free(map);
}

/* Part 4's picture: many cycles (and some survivors), the heap before and
   after the collection that frees the cycles. */
static void heap_map_step(pa_runtime *rt, tour_types *t)
{
    step("A picture of the heap: 6000 Node cycles and 3000 survivors, before and after gc.collect()");
    const char *dir = getenv("PYALLOC_TOUR_SVG_DIR");
    if (dir == NULL || dir[0] == '\0')
        dir = "build/tour";
    if (make_dirs(dir) != 0) {
        fprintf(stderr, "tour: cannot create %s: %s\n", dir, strerror(errno));
        exit(1);
    }
    char before[1100], after[1100];
    snprintf(before, sizeof before, "%s/heap-before.svg", dir);
    snprintf(after, sizeof after, "%s/heap-after.svg", dir);

    pa_object *keep = check(pa_list_new(rt), "pa_list_new");
    pa_gc_disable(rt);                   /* keep the cycles for the one collection below */
    for (int i = 0; i < 6000; i++) {
        pa_object *a = new_node(rt, t, i), *b = new_node(rt, t, -i);
        pa_incref(b);
        ((node_object *)a)->ref = b;     /* a.ref = b */
        pa_incref(a);
        ((node_object *)b)->ref = a;     /* b.ref = a */
        if (i % 2 == 0) {                /* every other step, an int that lives on */
            pa_object *v = new_int(t, i);
            pa_list_append(keep, v);
            pa_decref(v);
        }
        if (i % 20 == 0)                 /* and one cycle in 20 stays reachable */
            pa_list_append(keep, a);
        pa_decref(a);
        pa_decref(b);
    }
    pa_gc_enable(rt);
    write_heap_map(rt, before, "PyAlloc heap map: before gc.collect()");
    intptr_t collected = pa_gc_collect(rt, 2);
    write_heap_map(rt, after, "PyAlloc heap map: after gc.collect()");
    printf("gc.collect() -> %ld unreachable objects\n", (long)collected);
    printf("Heap map written to %s and %s\n", before, after);
    why("each row is a 1 MiB arena, each cell a 16 KiB pool; freed Node cycles leave their pools empty (grey) "
        "or thinly used, and wholly empty arenas go back to the OS");
    pa_decref(keep);
}

/* ------------------------------------------------------------------ Part 5 */

static void part5(void)
{
    tour_types t;
    pa_runtime *rt = new_runtime(&t);
    part("Part 5: __del__ and Finalizers");

    step("r = Resource(\"database_connection\"); del r");
    pa_object *r = new_resource(&t, t.resource, "database_connection");
    pa_decref(r);
    cpython("class Resource:\n"
            "    def __init__(self, name):\n        self.name = name\n        print(f\"Created: {self.name}\")\n"
            "    def __del__(self):\n        print(f\"Freed: {self.name}\")\n"
            "r = Resource(\"database_connection\")\ndel r");

    step("Pitfall: the order of finalisation (three Resources in a cycle, collected together)");
    pa_object *x = new_resource(&t, t.resource, "first");
    pa_object *y = new_resource(&t, t.resource, "second");
    pa_object *z = new_resource(&t, t.resource, "third");
    pa_incref(y); ((resource_object *)x)->other = y;
    pa_incref(z); ((resource_object *)y)->other = z;
    pa_incref(x); ((resource_object *)z)->other = x;
    pa_decref(x); pa_decref(y); pa_decref(z);
    printf("Collected %ld unreachable objects\n", (long)pa_gc_collect(rt, 2));
    why("the collector runs the finalisers in the order it finds the objects; neither CPython nor PyAlloc "
        "promises one, so a finaliser must not rely on another object still being intact");
    cpython("import gc\nclass Resource:\n"
            "    def __init__(self, name):\n        self.name = name\n        print(f\"Created: {self.name}\")\n"
            "    def __del__(self):\n        print(f\"Freed: {self.name}\")\n"
            "x, y, z = Resource(\"first\"), Resource(\"second\"), Resource(\"third\")\n"
            "x.other, y.other, z.other = y, z, x\ndel x, y, z\n"
            "print(f\"Collected {gc.collect()} unreachable objects\")");

    step("Pitfall: finalisers inside cycles -- PEP 442 (3.4+) collects them; a legacy tp_del does not");
    pa_object *l1 = new_resource(&t, t.legacy, "legacy_one");
    pa_object *l2 = new_resource(&t, t.legacy, "legacy_two");
    pa_incref(l2); ((resource_object *)l1)->other = l2;
    pa_incref(l1); ((resource_object *)l2)->other = l1;
    pa_decref(l1); pa_decref(l2);
    printf("Collected %ld unreachable objects (uncollectable ones included)\n", (long)pa_gc_collect(rt, 2));
    printf("len(gc.garbage) = %zu: their finalisers never ran, the cycle stays in gc.garbage\n",
           pa_gc_get_garbage(rt, NULL, 0));
    pa_gc_clear_garbage(rt);
    why("Python code cannot make such objects since 3.4 (a class's __del__ is a PEP 442 finaliser); only C "
        "types with a legacy tp_del can, which PyAlloc's legacy_del replays");

    step("Pitfall: resurrection -- the finaliser stores self in a global");
    pa_object *ph = new_resource(&t, t.resource, "phoenix");
    ((resource_object *)ph)->resurrect = 1;
    pa_decref(ph);
    printf("still alive after del: ref count %ld, finalized: %s\n", (long)pa_refcnt(lazarus),
           pa_gc_is_finalized(lazarus) == 1 ? "True" : "False");
    printf("del the global again: ");
    fflush(stdout);
    pa_clear(&lazarus);
    printf("freed silently -- a finaliser runs at most once (PEP 442)\n");
    cpython("import gc\nsaved = None\nclass Resource:\n"
            "    def __init__(self, name):\n        self.name = name\n        print(f\"Created: {self.name}\")\n"
            "    def __del__(self):\n        global saved\n        print(f\"Freed: {self.name}\")\n        saved = self\n"
            "r = Resource(\"phoenix\")\ndel r\n"
            "print(f\"still alive after del: finalized: {gc.is_finalized(saved)}\")\n"
            "saved = None\nprint(\"del the global again: freed silently\")");

    step("The alternative: a with statement (in C, your own scope: acquire, use, release)");
    printf("Acquiring resource\nUsing resource\nReleasing resource\n");
    pa_runtime_free(rt);
}

/* ------------------------------------------------------------------ Part 6 */

static void part6(void)
{
    tour_types t;
    pa_runtime *rt = new_runtime(&t);
    part("Part 6: Memory Diagnostics");

    step("tracemalloc: the top three lines");
    pa_tracemalloc_start(1);
    void **data = PA_MALLOC(1000 * sizeof(void *)); for (int i = 0; i < 1000; i++) data[i] = PA_MALLOC(8000);
    char *text = PA_MALLOC(100000);
    void *small[200]; for (int i = 0; i < 200; i++) small[i] = PA_MALLOC(64);
    pa_snapshot *snap = pa_tracemalloc_take_snapshot();
    if (snap == NULL)
        die("pa_tracemalloc_take_snapshot");
    pa_statistic top[3];
    size_t n = pa_snapshot_statistics(snap, PA_STAT_LINENO, top, 3);
    for (size_t i = 0; i < n && i < 3; i++) {
        char line[256];
        pa_statistic_format(&top[i], line, sizeof line);
        printf("%s\n", line);
    }
    pa_snapshot_free(snap);
    pa_tracemalloc_stop();
    for (int i = 0; i < 1000; i++)
        pa_free(data[i]);
    pa_free(data);
    pa_free(text);
    for (int i = 0; i < 200; i++)
        pa_free(small[i]);
    why("the C line makes 1000 blocks of 8000 bytes and the 8000-byte array holding them: the article's "
        "size=7813 KiB, count=1001 (a list of 1000 lists of 1000 items).  CPython 3.12 itself also counts the "
        "744000 int objects above 256 that the line creates, hence its 30 MiB");
    cpython("import tracemalloc\ntracemalloc.start()\n"
            "data = [list(range(1000)) for _ in range(1000)]\n"
            "snapshot = tracemalloc.take_snapshot()\ntop_stats = snapshot.statistics(\"lineno\")\n"
            "for stat in top_stats[:3]:\n    print(stat)");

    step("Finding Memory Leaks with gc: find_leaks() around a leaky_operation() that caches Nodes in a list");
    pa_object *cache = check(pa_list_new(rt), "pa_list_new");
    for (int round = 1; round <= 3; round++) {
        pa_gc_collect(rt, 2);
        size_t before = tracked(rt, -1);
        for (int i = 0; i < 10; i++) {           /* leaky_operation() */
            pa_object *nd = new_node(rt, &t, i);
            pa_list_append(cache, nd);
            pa_decref(nd);
        }
        pa_gc_collect(rt, 2);
        size_t after = tracked(rt, -1);
        printf("call %d: Objects before: %zu, Objects after: %zu, Difference: %ld\n",
               round, before, after, (long)after - (long)before);
    }
    printf("The difference keeps growing: a leak (each call keeps 10 Nodes and their 10 children lists)\n");
    why("before/after are PyAlloc's tracked objects only; CPython's include the interpreter's, so they "
        "are larger there, but the difference per call is the same 20");
    cpython("import gc\ncache = []\n"
            "class Node:\n    def __init__(self, v):\n        self.value = v\n        self.children = []\n"
            "def leaky_operation():\n    cache.extend(Node(i) for i in range(10))\n"
            "for call in range(1, 4):\n    gc.collect()\n    before = len(gc.get_objects())\n"
            "    leaky_operation()\n    gc.collect()\n    after = len(gc.get_objects())\n"
            "    print(f\"call {call}: Difference: {after - before}\")");

    step("Inspecting What's in Memory: pa_count_objects_by_type (the census)");
    pa_object *obj1 = check(pa_object_new(t.myclass), "pa_object_new(MyClass)");
    pa_object *obj2 = check(pa_object_new(t.myclass), "pa_object_new(MyClass)");
    pa_type_count counts[16];
    size_t ntypes = pa_count_objects_by_type(rt, counts, 16);
    for (size_t i = 0; i < ntypes && i < 16; i++) {
        if (strcmp(counts[i].name, "list") == 0)
            printf("Number of lists in memory: %zu\n", counts[i].count);
        if (strcmp(counts[i].name, "MyClass") == 0)
            printf("MyClass instances: %zu\n", counts[i].count);
    }
    why("PyAlloc has lists but no dicts, so the census counts lists where the article counts dicts");
    cpython("import gc\nclass MyClass:\n    pass\nobj1 = MyClass()\nobj2 = MyClass()\n"
            "instances = [obj for obj in gc.get_objects() if isinstance(obj, MyClass)]\n"
            "print(f\"MyClass instances: {len(instances)}\")");
    pa_decref(obj1);
    pa_decref(obj2);
    pa_decref(cache);
    pa_runtime_free(rt);
}

/* ------------------------------------------------------------------ Part 7 */

static intptr_t collections(pa_runtime *rt)
{
    pa_gc_generation_stats st[3];
    pa_gc_get_stats(rt, st);
    return st[0].collections + st[1].collections + st[2].collections;
}

/* process_large_dataset(): 20000 short-lived lists of three ints kept in a
   list, no cycles among them. */
static void process_large_dataset(pa_runtime *rt, tour_types *t)
{
    pa_object *rows = check(pa_list_new(rt), "pa_list_new");
    for (int i = 0; i < 20000; i++) {
        pa_object *row = list_123(rt, t);
        pa_list_append(rows, row);
        pa_decref(row);
    }
    pa_decref(rows);
}

static void part7(void)
{
    tour_types t;
    pa_runtime *rt = new_runtime(&t);
    part("Part 7: Practical Implications");

    step("When to Disable the GC: a cycle-free phase of 20000 new lists");
    intptr_t c0 = collections(rt);
    process_large_dataset(rt, &t);
    intptr_t enabled_runs = collections(rt) - c0;
    pa_gc_disable(rt);
    c0 = collections(rt);
    process_large_dataset(rt, &t);
    intptr_t disabled_runs = collections(rt) - c0;
    pa_gc_enable(rt);
    intptr_t found = pa_gc_collect(rt, 2);
    printf("with the collector enabled: %ld automatic collections during the phase\n", (long)enabled_runs);
    printf("gc.disable() ... gc.enable(): %ld collections during the phase\n", (long)disabled_runs);
    printf("gc.collect() afterwards: Collected %ld (no cycles formed)\n", (long)found);

    step("Avoiding Cycles: weakref back-references (Parent, Child, get_parent)");
    parent_object *parent = (parent_object *)check(pa_object_new(t.parent), "pa_object_new(Parent)");
    parent->children = check(pa_list_new(rt), "pa_list_new");
    child_object *child = (child_object *)check(pa_object_new(t.child), "pa_object_new(Child)");
    /* parent.add_child(child): child.parent = weakref.ref(self); self.children.append(child) */
    child->parent = check(pa_weakref_new(&parent->ob_base, NULL, NULL), "pa_weakref_new");
    pa_list_append(parent->children, &child->ob_base);
    printf("ref count of parent: %ld (the weak reference adds nothing)\n", (long)pa_refcnt(&parent->ob_base));
    pa_object *got = pa_weakref_get(child->parent);
    printf("child.get_parent() is parent: %s\n", got == &parent->ob_base ? "True" : "False");
    pa_xdecref(got);
    intptr_t before = collections(rt);
    pa_decref(&parent->ob_base);                        /* del parent */
    got = pa_weakref_get(child->parent);
    printf("del parent -> child.get_parent(): %s (freed by its count alone, %ld collections)\n",
           got ? "still there" : "None", (long)(collections(rt) - before));
    pa_xdecref(got);
    pa_decref(&child->ob_base);
    cpython("import weakref\nclass Parent:\n"
            "    def __init__(self):\n        self.children = []\n"
            "    def add_child(self, child):\n        child.parent = weakref.ref(self)\n        self.children.append(child)\n"
            "class Child:\n    def __init__(self):\n        self.parent = None\n"
            "    def get_parent(self):\n        if self.parent is not None:\n            return self.parent()\n        return None\n"
            "parent = Parent()\nchild = Child()\nparent.add_child(child)\n"
            "print(f\"child.get_parent() is parent: {child.get_parent() is parent}\")\n"
            "del parent\nprint(f\"del parent -> child.get_parent(): {child.get_parent()}\")");

    step("gc.freeze(), as Instagram used it before fork");
    pa_object *config[1000];
    for (int i = 0; i < 1000; i++)
        config[i] = list_123(rt, &t);                   /* the server's long-lived state */
    pa_gc_collect(rt, 2);
    printf("tracked before freeze: %zu\n", tracked(rt, -1));
    pa_gc_freeze(rt);
    printf("gc.freeze() -> gc.get_freeze_count(): %zu, tracked in generations 0-2: %zu\n",
           pa_gc_get_freeze_count(rt), tracked(rt, -1));
    printf("gc.collect() now visits none of them: Collected %ld\n", (long)pa_gc_collect(rt, 2));
    printf("What it is for: a pre-fork server (Instagram's uWSGI) loads its code and data once, then forks\n"
           "workers that share those pages copy-on-write.  A collection in a worker writes into the GC\n"
           "head of every object it examines, so each page it touches is copied: the shared memory melts\n"
           "away.  Instagram first ran with gc.disable(); since CPython 3.7 the parent calls gc.freeze()\n"
           "just before fork, which moves every object into a permanent generation that collections skip,\n"
           "so workers keep the collector for their own new objects and leave the parent's pages shared.\n");
    pa_gc_unfreeze(rt);
    printf("gc.unfreeze(): freeze count %zu, generation 2 holds %zu again\n",
           pa_gc_get_freeze_count(rt), tracked(rt, 2));
    for (int i = 0; i < 1000; i++)
        pa_decref(config[i]);
    cpython("import gc\nconfig = [[1, 2, 3] for i in range(1000)]\ngc.collect()\n"
            "gc.freeze()\nprint(f\"gc.freeze() -> gc.get_freeze_count(): {gc.get_freeze_count()}\")\n"
            "gc.unfreeze()\nprint(f\"gc.unfreeze(): freeze count {gc.get_freeze_count()}\")");
    pa_runtime_free(rt);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    find_python();
    printf("PyAlloc %s: CPython's memory management as a library.\n"
           "The tour: \"How Python's Garbage Collector Works Under the Hood\", every example replayed\n"
           "through PyAlloc's C API (objects, counts, the cycle collector, weakrefs, tracemalloc).\n", pa_version());
    if (python_path[0] != '\0')
        printf("CPython %s (%s) runs the article's snippets beside it: its lines are marked \"CPython |\".\n",
               python_version, python_path);
    else
        printf("(python3 not found: the tour shows PyAlloc's lines only)\n");
    part1();
    part2();
    part3();
    part4();
    part5();
    part6();
    part7();
    printf("\nEnd of the tour.\n");
    return 0;
}
