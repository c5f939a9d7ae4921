#!/usr/bin/env python3
"""check_timeline.py TIMELINE SAMPLE WORKDIR -- tools/pause_timeline.py on a
recorded file and on bad ones.

SAMPLE is `perf script` of the tour's gc probes (recorded with the README's
workflow: 56 collections, 28 of generation 0, 3 of 1, 25 of 2).  The script
must draw one bar per collection coloured by generation and count them in its
summary; a malformed probe line, a file without collections and a missing
file must each give exit status 1 and a one-line message, never a traceback."""
import os
import re
import subprocess
import sys


def run(args):
    return subprocess.run([sys.executable] + args, capture_output=True, text=True)


def main():
    timeline, sample, work = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    failures = []
    svg = os.path.join(work, "tour.svg")
    out = run([timeline, "--script", sample, "-o", svg])
    if out.returncode != 0:
        failures.append(f"the sample: exit {out.returncode}: {out.stderr.strip()}")
    else:
        text = open(svg).read()
        gens = re.findall(r'class="pause" data-generation="(\d)"[^>]*fill="(#[0-9a-f]+)"', text)
        counts = {g: sum(1 for x, _ in gens if x == g) for g in "012"}
        if counts != {"0": 28, "1": 3, "2": 25}:
            failures.append(f"bars by generation {counts}, expected 28, 3, 25")
        colours = {g: {c for x, c in gens if x == g} for g in "012"}
        if any(len(c) != 1 for c in colours.values()) or len(set.union(*colours.values())) != 3:
            failures.append(f"one colour per generation expected: {colours}")
        if not out.stdout.startswith("56 collections"):
            failures.append(f"summary: {out.stdout.splitlines()[:1]}")
        if not re.search(r"generation 1: 3, pause p50 [\d.]+ ms, p99 [\d.]+ ms, max [\d.]+ ms", out.stdout):
            failures.append("summary lacks generation 1's pauses")
    bad = os.path.join(work, "bad.txt")
    with open(bad, "w") as f:
        f.write("tour 1 [000] notatime: sdt_pyalloc:gc__start: (7f) arg1=2\n")
    empty = os.path.join(work, "empty.txt")
    open(empty, "w").close()
    for name, path in (("malformed", bad), ("empty", empty), ("missing", os.path.join(work, "none"))):
        out = run([timeline, "--script", path, "-o", os.path.join(work, name + ".svg")])
        if out.returncode != 1 or "Traceback" in out.stderr or not out.stderr.startswith("pause_timeline: "):
            failures.append(f"{name} file: exit {out.returncode}, stderr {out.stderr.strip()[:200]!r}")
    for f in failures:
        print("FAIL", f)
    print("pause_timeline:", "ok" if not failures else f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
