"""The workloads of bench/c/bench_gc.c in CPython: ns per object, min median max.

usage: python3 bench_gc.py [--objects N] [--runs R]
"""
import argparse
import gc
import random
import sys
import time


class Node:
    __slots__ = ("a", "b")


def run_full(n):
    rng = random.Random(1)
    nodes = [Node() for _ in range(n)]
    for x in nodes:
        x.a = nodes[rng.randrange(n)]
        x.b = nodes[rng.randrange(n)]
    gc.collect()
    t0 = time.perf_counter_ns()
    found = gc.collect()
    per = (time.perf_counter_ns() - t0) / n
    assert found == 0, found
    return per


def run_cycles(n):
    for _ in range(n // 4):
        c = [Node() for _ in range(4)]
        for k in range(4):
            c[k].a = c[(k + 1) % 4]
            c[k].b = None
        del c
    t0 = time.perf_counter_ns()
    found = gc.collect()
    per = (time.perf_counter_ns() - t0) / n
    assert found >= n // 4 * 4, found
    return per


def run_chain(n):
    head = cur = Node()
    for _ in range(n - 1):
        nxt = Node()
        cur.a = nxt
        cur = nxt
    cur = nxt = None
    t0 = time.perf_counter_ns()
    del head
    return (time.perf_counter_ns() - t0) / n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--objects", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    gc.disable()
    for name, fn in (("full", run_full), ("cycles", run_cycles), ("chain", run_chain)):
        t = sorted(fn(args.objects) for _ in range(args.runs))
        print(f"{name} {t[0]:.2f} {t[len(t) // 2]:.2f} {t[-1]:.2f}")
    print(f"# {sys.version.split()[0]}", file=sys.stderr)


if __name__ == "__main__":
    main()
