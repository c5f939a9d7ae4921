/* memcheck_ok.c -- a correct program that uses every kind of block (small,
   calloc'd, realloc'd across the 512-byte line, large, objects of a runtime
   collected in a cycle, trim): memcheck must report 0 errors and no leak,
   in every allocator mode (PYALLOC_MALLOC). */
#include <pyalloc.h>

#include <stddef.h>
#include <stdio.h>
#include <string.h>

typedef struct node { PA_OBJECT_HEAD pa_object *other; } node;
static const size_t node_refs[] = { offsetof(node, other), 0 };

int main(void)
{
    static char *blocks[3000];
    for (int i = 0; i < 3000; i++) {
        size_t n = (size_t)(i % 700) + 1;
        blocks[i] = i % 3 ? pa_malloc(n) : pa_calloc(1, n);
        if (blocks[i] == NULL)
            return 3;
        memset(blocks[i], i & 0xff, n);
    }
    long sum = 0;
    for (int i = 0; i < 3000; i++) {
        sum += blocks[i][0];
        blocks[i] = pa_realloc(blocks[i], (size_t)(i % 1000) + 1);
    }
    for (int i = 0; i < 3000; i++)
        pa_free(blocks[i]);
    pa_trim();

    pa_runtime *rt = pa_runtime_new();
    pa_type_spec spec = { .name = "Node", .basicsize = sizeof(node),
                          .flags = PA_TPFLAGS_HAVE_GC, .ref_offsets = node_refs };
    pa_type *Node = pa_type_new(rt, &spec);
    pa_gc_disable(rt);                         /* every cycle waits for the collection below */
    for (int i = 0; i < 1000; i++) {
        node *a = (node *)pa_object_new(Node), *b = (node *)pa_object_new(Node);
        a->other = (pa_object *)b;
        b->other = (pa_object *)a;
        pa_incref((pa_object *)a);             /* b->other's own reference */
        pa_decref((pa_object *)a);             /* ours: a cycle of two remains */
    }
    long collected = (long)pa_gc_collect(rt, 2);
    pa_runtime_free(rt);
    printf("memcheck_ok: sum %ld, collected %ld\n", sum, collected);
    return collected == 2000 ? 0 : 4;
}
