"""Allocation-heavy Python programs, timed under each allocator by
bench_cpython_alloc.py through native/python-host (pyalloc-python).

usage: python3 alloc_workloads.py WORKLOAD [--scale S]
prints: "WORKLOAD SECONDS" (the workload alone: interpreter start-up and
imports are outside the timed part, so the allocators differ only where
Python allocates).

Workloads (each about half a second at scale 1 on the development machine):
  trees    binary trees of small class instances, built and dropped
           (pyperformance's bm_binary_trees shape): small objects, LIFO frees
  churn    dicts and lists grown, shrunk and replaced at random: mixed sizes,
           random-order frees, resizes through realloc
  strings  strings built by concatenation, join, format and split
  json     json.dumps and json.loads of a nested document
  interp   a small stack-machine interpreter running a loop: frames, tuples,
           ints and bound methods made and dropped at a high rate
  cycles   groups of objects in reference cycles, left to the collector
"""
import gc
import json
import random
import sys
import time


class Tree:
    __slots__ = ("left", "right")

    def __init__(self, left, right):
        self.left = left
        self.right = right


def make_tree(depth):
    if depth == 0:
        return Tree(None, None)
    depth -= 1
    return Tree(make_tree(depth), make_tree(depth))


def check_tree(t):
    if t.left is None:
        return 1
    return 1 + check_tree(t.left) + check_tree(t.right)


def trees(scale):
    total = 0
    long_lived = make_tree(14)
    for depth in range(4, 15, 2):
        for _ in range(int(scale * 2 ** (16 - depth))):
            total += check_tree(make_tree(depth))
    return total + check_tree(long_lived)


def churn(scale):
    rng = random.Random(7)
    slots = [None] * 2000
    total = 0
    for i in range(int(scale * 120_000)):
        k = rng.randrange(len(slots))
        r = rng.random()
        if r < 0.4:
            slots[k] = {j: str(j) for j in range(rng.randrange(1, 24))}
        elif r < 0.7:
            slots[k] = [i] * rng.randrange(1, 64)
        elif r < 0.9:
            s = slots[k]
            if isinstance(s, list):
                s.extend(range(8))
                del s[: len(s) // 2]
            elif isinstance(s, dict):
                s[i] = (i, i + 1)
                s.pop(next(iter(s)))
        else:
            slots[k] = None
        total += k
    return total


def strings(scale):
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
    total = 0
    for i in range(int(scale * 40_000)):
        s = ""
        for w in words:
            s += w + str(i)
        parts = s.split("a")
        joined = "-".join(parts)
        line = f"{i:08d}|{joined[:20]}|{len(parts)}|{s.upper()[:10]}"
        total += len(line) + len(joined.replace("-", ""))
    return total


def json_roundtrip(scale):
    rng = random.Random(3)
    doc = [
        {
            "id": i,
            "name": f"item-{i}",
            "tags": [f"t{rng.randrange(100)}" for _ in range(5)],
            "price": rng.random() * 100,
            "stock": {"a": rng.randrange(10), "b": rng.randrange(10), "where": "shelf %d" % i},
        }
        for i in range(2000)
    ]
    total = 0
    for _ in range(int(scale * 12)):
        text = json.dumps(doc)
        back = json.loads(text)
        total += len(text) + len(back)
    return total


def interp(scale):
    # A tiny stack machine: (op, arg) tuples, a value stack, a call per op.
    program = [
        ("push", 0), ("store", "i"),
        ("load", "i"), ("push", int(scale * 60_000)), ("lt", None), ("jfalse", 17),
        ("load", "acc"), ("load", "i"), ("push", 3), ("mod", None), ("add", None), ("store", "acc"),
        ("load", "i"), ("push", 1), ("add", None), ("store", "i"),
        ("jump", 2),
        ("load", "acc"), ("halt", None),
    ]

    class Machine:
        def __init__(self):
            self.stack = []
            self.env = {"acc": 0}

        def push(self, arg):
            self.stack.append(arg)

        def load(self, arg):
            self.stack.append(self.env[arg])

        def store(self, arg):
            self.env[arg] = self.stack.pop()

        def binary(self, fn):
            b = self.stack.pop()
            a = self.stack.pop()
            self.stack.append(fn(a, b))

        def run(self, code):
            ops = {
                "add": lambda m, a: m.binary(lambda x, y: x + y),
                "mod": lambda m, a: m.binary(lambda x, y: x % y),
                "lt": lambda m, a: m.binary(lambda x, y: x < y),
                "push": Machine.push, "load": Machine.load, "store": Machine.store,
            }
            pc = 0
            while True:
                op, arg = code[pc]
                pc += 1
                if op == "halt":
                    return self.stack.pop()
                if op == "jump":
                    pc = arg
                elif op == "jfalse":
                    if not self.stack.pop():
                        pc = arg
                else:
                    ops[op](self, arg)

    return Machine().run(program)


def cycles(scale):
    class Node:
        def __init__(self, payload):
            self.payload = payload
            self.peer = None

    total = 0
    for i in range(int(scale * 150_000)):
        a = Node([i])
        b = Node({"i": i})
        a.peer = b
        b.peer = a
        total += len(a.payload)
    return total + gc.collect()


WORKLOADS = {
    "trees": trees,
    "churn": churn,
    "strings": strings,
    "json": json_roundtrip,
    "interp": interp,
    "cycles": cycles,
}


def main():
    name = sys.argv[1]
    scale = float(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[2] == "--scale" else 1.0
    fn = WORKLOADS[name]
    t0 = time.perf_counter()
    result = fn(scale)
    elapsed = time.perf_counter() - t0
    assert result, name
    print(f"{name} {elapsed:.6f}")


if __name__ == "__main__":
    main()
