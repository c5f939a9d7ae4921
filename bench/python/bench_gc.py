"""The workloads of bench/c/bench_gc.c in CPython: min median max of each row.

The twin of bench_gc's node and tnode (a C type with ref_offsets, a C type with
a traverse callback) is a class with __slots__ = ("a", "b"): the full-trav row
is the full row's figure again.  Lists are lists.  The interpreter's own
objects are frozen first (gc.freeze()), so that collections see only the
workload's objects, as in PyAlloc's fresh runtime.  For the same reason each
run of each workload is a fresh interpreter (a child process): a second run
in the same interpreter finds the memory the first one freed scattered over
its free lists and its full collection is up to 3x slower, while each
PyAlloc run gets a fresh runtime.

usage: python3 bench_gc.py [--objects N] [--runs R] [--workload NAME]
"""
import argparse
import gc
import random
import subprocess
import sys
import time


class Node:
    __slots__ = ("a", "b")


def new_node():
    return Node()


def new_list():
    return []


def link_node(o, i, target):
    if i == 0:
        o.a = target
    else:
        o.b = target


def link_list(o, i, target):
    o.append(target)


def full(n, new, link):
    rng = random.Random(1)
    objs = [new() for _ in range(n)]
    for x in objs:
        link(x, 0, objs[rng.randrange(n)])
        link(x, 1, objs[rng.randrange(n)])
    gc.collect()
    t0 = time.perf_counter_ns()
    found = gc.collect()
    per = (time.perf_counter_ns() - t0) / n
    assert found == 0, found
    return per


def cycles(n, new, link):
    for _ in range(n // 4):
        c = [new() for _ in range(4)]
        for k in range(4):
            link(c[k], 0, c[(k + 1) % 4])
        del c
    t0 = time.perf_counter_ns()
    found = gc.collect()
    per = (time.perf_counter_ns() - t0) / n
    assert found >= n // 4 * 4, found
    return per


def chain(n, new, link):
    head = cur = new()
    for _ in range(n - 1):
        nxt = new()
        link(cur, 0, nxt)
        cur = nxt
    cur = nxt = None
    t0 = time.perf_counter_ns()
    del head
    return (time.perf_counter_ns() - t0) / n


def pyramid_level(branching, depth):
    return [pyramid_level(branching, depth - 1) for _ in range(branching)] if depth > 0 else []


def run_pyramid(_n, branching=5, depth=8, collections=10):
    top = pyramid_level(branching, depth)
    count = sum(branching ** k for k in range(depth + 1))
    gc.collect()
    t0 = time.perf_counter_ns()
    for _ in range(collections):
        found = gc.collect()
        assert found == 0, found
    per = (time.perf_counter_ns() - t0) / (count * collections)
    del top
    return per


def run_rings(_n, size=21, rings=100, rounds=50):
    total = 0
    for _ in range(rounds):
        for _ in range(rings):
            first = cur = Node()
            for _ in range(size - 1):
                nxt = Node()
                cur.a = nxt
                cur = nxt
            cur.a = first
        first = cur = nxt = None
        t0 = time.perf_counter_ns()
        found = gc.collect()
        total += time.perf_counter_ns() - t0
        assert found == rings * size, found
    return total / (rounds * rings * size)


def pause_run(n, live=1_000_000):
    """Automatic collections: p50, p99, max (ns per pause), total (ns per garbage object)."""
    rng = random.Random(1)
    gc.enable()
    objs = [Node() for _ in range(live)]
    for x in objs:
        x.a = objs[rng.randrange(live)]
        x.b = objs[rng.randrange(live)]
    pauses = []
    start = [0]

    def callback(phase, info):
        t = time.perf_counter_ns()
        if phase == "start":
            start[0] = t
        else:
            pauses.append(t - start[0])

    gc.callbacks.append(callback)
    for _ in range(n // 4):
        c = [Node(), Node(), Node(), Node()]
        c[0].a = c[1]
        c[1].a = c[2]
        c[2].a = c[3]
        c[3].a = c[0]
    c = None
    gc.callbacks.remove(callback)
    gc.disable()
    total = sum(pauses)
    pauses.sort()
    k = len(pauses)
    out = (pauses[k // 2], pauses[int((k - 1) * 0.99)], pauses[-1], total / n) if k else (0, 0, 0, 0)
    del objs
    gc.collect()
    return out


def row(name, t):
    t = sorted(t)
    print(f"{name} {t[0]:.2f} {t[len(t) // 2]:.2f} {t[-1]:.2f}", flush=True)


WORKLOADS = {
    "full": lambda n: full(n, new_node, link_node),
    "full-list": lambda n: full(n, new_list, link_list),
    "cycles": lambda n: cycles(n, new_node, link_node),
    "cycles-list": lambda n: cycles(n, new_list, link_list),
    "chain": lambda n: chain(n, new_node, link_node),
    "chain-list": lambda n: chain(n, new_list, link_list),
    "pyramid": run_pyramid,
    "rings": run_rings,
}
PAUSE_ROWS = ("pause-p50", "pause-p99", "pause-max", "pause-total")


def one_run(name, n):
    """The figures of one run of workload name in a fresh interpreter."""
    out = subprocess.run([sys.executable, __file__, "--objects", str(n), "--child", name],
                         check=True, capture_output=True, text=True).stdout
    return [float(v) for v in out.split()]


def child(name, n):
    gc.collect()
    gc.freeze()
    gc.disable()
    figures = pause_run(n) if name == "pause" else (WORKLOADS[name](n),)
    print(" ".join(f"{v:.2f}" for v in figures))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--objects", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--workload")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    n = args.objects
    if args.child:
        child(args.child, n)
        return
    for name in WORKLOADS:
        wanted = args.workload in (None, name) or (name == "full" and args.workload == "full-trav")
        if not wanted:
            continue
        t = [one_run(name, n)[0] for _ in range(args.runs)]
        if args.workload in (None, name):
            row(name, t)
        if name == "full" and args.workload in (None, "full-trav"):
            row("full-trav", t)   # the twin of both node kinds is the same class
    if args.workload in (None, "pause"):
        runs = [one_run("pause", n) for _ in range(args.runs)]
        for m, name in enumerate(PAUSE_ROWS):
            row(name, [r[m] for r in runs])
    print(f"# {sys.version.split()[0]}", file=sys.stderr)


if __name__ == "__main__":
    main()
