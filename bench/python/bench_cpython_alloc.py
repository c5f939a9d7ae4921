"""CPython on PyAlloc: allocation-heavy Python programs timed under each
allocator of CPython's MEM and OBJ domains, in one run.

usage: python3 bench_cpython_alloc.py HOST [--runs R] [--scale S] [--csv FILE]
                                            [--workloads a,b,...]

HOST is native/python-host's pyalloc-python.  Each program of
alloc_workloads.py runs in a fresh process under:
  pymalloc  CPython's own allocator (PYALLOC_PYTHON_ALLOCATOR=cpython): the baseline
  pyalloc   PyAlloc (the host's default)
  mimalloc  mimalloc 2 through the same hook (when libmimalloc.so.2 loads)
  malloc    the C library's malloc (PYTHONMALLOC=malloc)
The runs are interleaved (run 1 of every allocator, then run 2, ...) with the
order rotated each round, so that a slow spell of the machine falls on all of
them.  Printed: the median seconds of each, and each allocator's median over
pymalloc's (below 1: faster than CPython's own).
"""
import argparse
import csv
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOADS = ["trees", "churn", "strings", "json", "interp", "cycles"]
ALLOCATORS = {
    "pymalloc": {"PYALLOC_PYTHON_ALLOCATOR": "cpython"},
    "pyalloc": {"PYALLOC_PYTHON_ALLOCATOR": "pyalloc"},
    "mimalloc": {"PYALLOC_PYTHON_ALLOCATOR": "mimalloc"},
    "malloc": {"PYALLOC_PYTHON_ALLOCATOR": "cpython", "PYTHONMALLOC": "malloc"},
}


def run_once(host, allocator, workload, scale):
    env = dict(os.environ)
    for k in ("PYTHONMALLOC", "PYTHONDEVMODE", "PYALLOC_MALLOC", "PYALLOC_TRACEMALLOC"):
        env.pop(k, None)
    env.update(ALLOCATORS[allocator])
    out = subprocess.run(
        [host, os.path.join(HERE, "alloc_workloads.py"), workload, "--scale", str(scale)],
        env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{allocator} {workload}: exit {out.returncode}: {out.stderr.strip()[-400:]}")
    name, seconds = out.stdout.split()
    assert name == workload, out.stdout
    return float(seconds)


def usable(host, allocator):
    try:
        run_once(host, allocator, "interp", 0.01)
        return True
    except RuntimeError as e:
        print(f"({allocator} left out: {e})", file=sys.stderr)
        return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--csv")
    ap.add_argument("--workloads", default=",".join(WORKLOADS))
    args = ap.parse_args()
    workloads = args.workloads.split(",")
    allocators = [a for a in ALLOCATORS if usable(args.host, a)]
    times = {(w, a): [] for w in workloads for a in allocators}
    for r in range(args.runs):
        for i, w in enumerate(workloads):
            k = (r + i) % len(allocators)
            for a in allocators[k:] + allocators[:k]:
                times[(w, a)].append(run_once(args.host, a, w, args.scale))

    med = {key: statistics.median(v) for key, v in times.items()}
    head = f"{'workload':<9}" + "".join(f"{a:>11}" for a in allocators) + "".join(
        f"{a + '/pym':>14}" for a in allocators if a != "pymalloc")
    print(f"seconds, median of {args.runs} (min-max in the CSV); ratio = allocator / CPython's pymalloc")
    print(head)
    rows = []
    for w in workloads:
        base = med[(w, "pymalloc")]
        line = f"{w:<9}" + "".join(f"{med[(w, a)]:>11.4f}" for a in allocators)
        line += "".join(f"{med[(w, a)] / base:>14.2f}" for a in allocators if a != "pymalloc")
        print(line)
        for a in allocators:
            v = times[(w, a)]
            rows.append([w, a, f"{med[(w, a)]:.6f}", f"{min(v):.6f}", f"{max(v):.6f}", f"{med[(w, a)] / base:.3f}"])
    geo = {}
    for a in allocators:
        prod = 1.0
        for w in workloads:
            prod *= med[(w, a)] / med[(w, "pymalloc")]
        geo[a] = prod ** (1 / len(workloads))
    print(f"{'geomean':<9}" + " " * 11 * len(allocators)
          + "".join(f"{geo[a]:>14.2f}" for a in allocators if a != "pymalloc"))
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            wr = csv.writer(f)
            wr.writerow(["workload", "allocator", "median_s", "min_s", "max_s", "ratio_to_pymalloc"])
            wr.writerows(rows)


if __name__ == "__main__":
    main()
