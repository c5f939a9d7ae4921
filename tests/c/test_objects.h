/* test_objects.h -- shared helpers of the object-runtime C tests
   (test_refcount.c, test_list.c, test_weakref.c, test_gc.c, test_runtime.c).

   - An event log: callbacks (dealloc, finalisers, weakref and gc callbacks)
     append "<kind><id>" events; a test compares the whole log as a string,
     e.g. "F1 F2 D1 D2", so the order of the library's calls is checked too.
   - "node": a GC type with two reference fields described by ref_offsets
     (the library traverses, clears and releases them) and an id; variants
     with a PEP 442 finaliser or a legacy finaliser.
   - Generation helpers over pa_gc_get_objects.
   - run_child(): runs an executable with stdout and stderr captured in
     files, for output the library writes to stderr (gc debug reports) and
     for aborts by design (PA_DEBUG).  A child is a fresh exec (posix_spawn),
     never a bare fork of a process whose .NET runtime has threads.

   Single-threaded tests only: the log is a plain global. */
#ifndef PA_TEST_OBJECTS_H
#define PA_TEST_OBJECTS_H

#include "test_util.h"

#include <fcntl.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define countof(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------- event log */

enum { EV_MAX = 8192 };
static char ev_text[EV_MAX * 8];
static size_t ev_len;
static size_t ev_total;

static inline void ev_reset(void)
{
    ev_len = 0;
    ev_total = 0;
    ev_text[0] = '\0';
}

/* Appends "<kind><id>" (space-separated). */
static inline void ev_add(char kind, intptr_t id)
{
    ev_total++;
    if (ev_len + 32 >= sizeof ev_text)
        return; /* ev_total still counts: tests of many objects compare counts */
    ev_len += (size_t)snprintf(ev_text + ev_len, sizeof ev_text - ev_len, "%s%c%ld",
                               ev_len ? " " : "", kind, (long)id);
}

static inline const char *ev_string(void) { return ev_text; }

/* How many events of this kind were logged (counting only what fit in the text). */
static inline size_t ev_count(char kind)
{
    size_t n = 0;
    for (size_t i = 0; i < ev_len; i++)
        if (ev_text[i] == kind && (i == 0 || ev_text[i - 1] == ' '))
            n++;
    return n;
}

/* ---------------------------------------------------------------- runtimes */

static inline pa_runtime *new_runtime(void)
{
    pa_runtime *rt = pa_runtime_new();
    if (rt == NULL)
        fail_msg("pa_runtime_new() = NULL: %s", pa_last_error());
    return rt;
}

/* --------------------------------------------------------------------- node */

typedef struct node {
    PA_OBJECT_HEAD
    pa_object *a;
    pa_object *b;
    intptr_t id;
} node;

#define NODE(o) ((node *)(o))

static const size_t node_offsets[] = {offsetof(node, a), offsetof(node, b), 0};

static inline void node_dealloc(pa_object *o) { ev_add('D', NODE(o)->id); }
static inline void node_finalize(pa_object *o) { ev_add('F', NODE(o)->id); }
static inline void node_legacy_del(pa_object *o) { ev_add('L', NODE(o)->id); }

static inline pa_type *node_type_with(pa_runtime *rt, const char *name, pa_destructor finalize,
                                      pa_destructor legacy_del)
{
    pa_type_spec spec = {0};
    spec.name = name;
    spec.basicsize = sizeof(node);
    spec.flags = PA_TPFLAGS_HAVE_GC;
    spec.finalize = finalize;
    spec.legacy_del = legacy_del;
    spec.dealloc = node_dealloc;
    spec.ref_offsets = node_offsets;
    pa_type *t = pa_type_new(rt, &spec);
    if (t == NULL)
        fail_msg("pa_type_new(%s) = NULL: %s", name, pa_last_error());
    return t;
}

/* A GC node type: ref_offsets {a, b}, dealloc logs "D<id>". */
static inline pa_type *node_type(pa_runtime *rt)
{
    return node_type_with(rt, "node", NULL, NULL);
}

/* A new node (new reference) with the given id. */
static inline pa_object *new_node(pa_type *t, intptr_t id)
{
    pa_object *o = pa_object_new(t);
    if (o == NULL)
        fail_msg("pa_object_new(%s) = NULL: %s", pa_type_name(t), pa_last_error());
    NODE(o)->id = id;
    return o;
}

/* node->a = v, taking a new reference to v (releasing the old value). */
static inline void set_a(pa_object *n, pa_object *v)
{
    pa_xincref(v);
    pa_setref(&NODE(n)->a, v);
}

static inline void set_b(pa_object *n, pa_object *v)
{
    pa_xincref(v);
    pa_setref(&NODE(n)->b, v);
}

/* A new list (new reference), failing the test on NULL. */
static inline pa_object *new_list(pa_runtime *rt)
{
    pa_object *l = pa_list_new(rt);
    if (l == NULL)
        fail_msg("pa_list_new = NULL: %s", pa_last_error());
    return l;
}

static inline void append(pa_object *list, pa_object *item)
{
    if (pa_list_append(list, item) != 0)
        fail_msg("pa_list_append failed: %s", pa_last_error());
}

/* ------------------------------------------------------------- generations */

/* Number of objects in generation g (-1: all), via a cap-0 call. */
static inline size_t gen_size(pa_runtime *rt, int g)
{
    size_t n = pa_gc_get_objects(rt, g, NULL, 0);
    if (n == PA_SIZE_ERROR)
        fail_msg("pa_gc_get_objects(%d) failed: %s", g, pa_last_error());
    return n;
}

/* True when o is in generation g (-1: any), by pa_gc_get_objects. */
static inline bool in_gen(pa_runtime *rt, int g, pa_object *o)
{
    size_t n = gen_size(rt, g);
    pa_object **objs = calloc(n + 1, sizeof *objs);
    assert_non_null(objs);
    size_t m = pa_gc_get_objects(rt, g, objs, n);
    assert_int_equal(m, n);
    bool found = false;
    for (size_t i = 0; i < n; i++) {
        if (objs[i] == o)
            found = true;
        pa_decref(objs[i]);
    }
    free(objs);
    return found;
}

/* The generation holding o (0..2), or -1 when it is in none. */
static inline int gen_of(pa_runtime *rt, pa_object *o)
{
    for (int g = 0; g < 3; g++)
        if (in_gen(rt, g, o))
            return g;
    return -1;
}

static inline void get_count(pa_runtime *rt, intptr_t out[3])
{
    out[0] = out[1] = out[2] = -999;
    pa_gc_get_count(rt, out);
}

#define ASSERT_COUNT(rt, c0, c1, c2)                                                           \
    do {                                                                                       \
        intptr_t c_[3];                                                                        \
        get_count((rt), c_);                                                                   \
        if (c_[0] != (c0) || c_[1] != (c1) || c_[2] != (c2))                                   \
            fail_msg("gc count (%ld, %ld, %ld), expected (%ld, %ld, %ld)", (long)c_[0],        \
                     (long)c_[1], (long)c_[2], (long)(c0), (long)(c1), (long)(c2));            \
    } while (0)

/* pa_gc_collect that must not fail. */
static inline intptr_t collect(pa_runtime *rt, int g)
{
    intptr_t n = pa_gc_collect(rt, g);
    if (n < 0)
        fail_msg("pa_gc_collect(%d) = %ld: %s", g, (long)n, pa_last_error());
    return n;
}

/* ------------------------------------------------------------ child process */

/* Reads a whole file into a malloc'd, NUL-terminated string. */
static inline char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    size_t got;
    while ((got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (cap - len - 1 == 0) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
    }
    buf[len] = '\0';
    fclose(f);
    return buf;
}

typedef struct child_result {
    int status;      /* as waitpid */
    char *out;       /* stdout, malloc'd */
    char *err;       /* stderr, malloc'd */
} child_result;

/* Runs `exe arg1 arg2` with stdout and stderr captured; extra_env (may be
   NULL) is added to the environment as "NAME=value". */
static inline child_result run_child(const char *exe, const char *arg1, const char *arg2,
                                     const char *extra_env)
{
    char out_path[] = "/tmp/pa_child_out_XXXXXX";
    char err_path[] = "/tmp/pa_child_err_XXXXXX";
    int out_fd = mkstemp(out_path);
    int err_fd = mkstemp(err_path);
    assert_true(out_fd >= 0 && err_fd >= 0);

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
    posix_spawn_file_actions_adddup2(&fa, err_fd, 2);

    size_t n_env = 0;
    while (environ[n_env] != NULL)
        n_env++;
    char **env = calloc(n_env + 2, sizeof *env);
    assert_non_null(env);
    for (size_t i = 0; i < n_env; i++)
        env[i] = environ[i];
    if (extra_env != NULL)
        env[n_env++] = (char *)extra_env;

    char *argv[] = {(char *)exe, (char *)arg1, (char *)arg2, NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, exe, &fa, NULL, argv, env);
    if (rc != 0)
        fail_msg("posix_spawn(%s) failed: %s", exe, strerror(rc));
    posix_spawn_file_actions_destroy(&fa);
    free(env);

    child_result r;
    if (waitpid(pid, &r.status, 0) != pid)
        fail_msg("waitpid failed");
    close(out_fd);
    close(err_fd);
    r.out = slurp(out_path);
    r.err = slurp(err_path);
    unlink(out_path);
    unlink(err_path);
    return r;
}

static inline void child_result_free(child_result *r)
{
    free(r->out);
    free(r->err);
}

#define ASSERT_CONTAINS(haystack, needle)                                                     \
    do {                                                                                      \
        if (strstr((haystack), (needle)) == NULL)                                             \
            fail_msg("expected to find \"%s\" in:\n%s", (needle), (haystack));               \
    } while (0)

#define ASSERT_NOT_CONTAINS(haystack, needle)                                                 \
    do {                                                                                      \
        if (strstr((haystack), (needle)) != NULL)                                             \
            fail_msg("did not expect \"%s\" in:\n%s", (needle), (haystack));                 \
    } while (0)

#endif /* PA_TEST_OBJECTS_H */
