#!/usr/bin/env python3
"""check_perf.py LIB PROGRAM TIMELINE WORKDIR -- the README's perf workflow,
run: every probe of LIB fires with the arguments PROGRAM (probe_events.c)
says it must, as perf records them through uprobes; then TIMELINE
(tools/pause_timeline.py) draws the recording's collections.

The steps are the README's: `perf buildid-cache --add LIB`, `perf list sdt`
shows them), `perf probe -x LIB sdt_pyalloc:NAME` for each probe,
`perf record -e 'sdt_pyalloc:*' PROGRAM`, `perf script`.  The probes are
deleted again at the end (`perf probe -d`), pass or fail."""
import os
import re
import subprocess
import sys

PROBES = ["gc__start", "gc__done", "arena__new", "arena__free", "trim",
          "tracemalloc__start", "tracemalloc__stop", "fatal"]
LINE = re.compile(r"sdt_pyalloc:(\w+):\s+\([0-9a-f]+\)((?:\s+arg\d+=\S+)*)")


def run(cmd, **kw):
    out = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {out.returncode}: {out.stderr.strip()[-600:]}")
    return out.stdout


def events(script):
    """(name, [args]) of each pyalloc probe event, in order."""
    out = []
    for line in script.splitlines():
        m = LINE.search(line)
        if m:
            out.append((m.group(1), [a.split("=", 1)[1] for a in m.group(2).split()]))
    return out


def compare(expect_lines, got):
    """Failures: the program's expectations against the recorded events."""
    failures = []
    want = [l.split()[1:] for l in expect_lines if l.startswith("expect ")]
    # The ordered events: all but arena__new (their number depends on the heap).
    seq = [(n, a) for n, a in got if n != "arena__new"]
    # arena__free fires also for the process heap's arenas at trim: keep the
    # expected ones in order, let extra arena__free events pass between them.
    i = 0
    for w in want:
        name, args = w[0], w[1:]
        while i < len(seq) and seq[i][0] == "arena__free" and name != "arena__free":
            i += 1
        if i >= len(seq):
            failures.append(f"expected {name} {args}, the recording ended")
            break
        gname, gargs = seq[i]
        if gname != name:
            failures.append(f"expected {name} {args}, recorded {gname} {gargs}")
        elif name == "fatal":
            if len(gargs) != 1 or int(gargs[0], 0) == 0:
                failures.append(f"fatal: message pointer {gargs}")
        elif args != ["*"] and [str(int(a, 0)) for a in gargs] != args:
            failures.append(f"{name}: recorded arguments {gargs}, expected {args}")
        i += 1
    new = [a for n, a in got if n == "arena__new"]
    if not new:
        failures.append("no arena__new recorded")
    elif any(len(a) != 2 or int(a[1], 0) != 1 << 20 or int(a[0], 0) % (1 << 20) for a in new):
        failures.append(f"arena__new arguments not (1 MiB-aligned address, 1048576): {new[:3]}")
    return failures


def main():
    lib, program, timeline, work = sys.argv[1:5]
    lib = os.path.realpath(lib)
    os.makedirs(work, exist_ok=True)
    data = os.path.join(work, "probes.data")
    failures = []
    subprocess.run(["perf", "probe", "-q", "-d", "sdt_pyalloc:*"], capture_output=True)
    try:
        run(["perf", "buildid-cache", "--add", lib])
        listed = run(["perf", "list", "sdt"])
        for p in PROBES:
            if f"sdt_pyalloc:{p}" not in listed:
                failures.append(f"perf list sdt_pyalloc does not show {p}")
            run(["perf", "probe", "-q", "-x", lib, f"sdt_pyalloc:{p}"])
        expect = run(["perf", "record", "-q", "-o", data, "-e", "sdt_pyalloc:*", program], cwd=work)
        got = events(run(["perf", "script", "-i", data]))
        failures += compare(expect.splitlines(), got)
        print(f"{len(got)} events recorded: " + ", ".join(
            f"{p} {sum(1 for n, _ in got if n == p)}" for p in PROBES))
        svg = os.path.join(work, "pauses.svg")
        summary = run([sys.executable, timeline, data, "-o", svg])
        print(summary, end="")
        bars = re.findall(r'class="pause" data-generation="(\d)"', open(svg).read())
        if bars != ["0", "1", "2", "2"]:
            failures.append(f"the timeline's bars are generations {bars}, expected 0, 1, 2, 2")
        if not summary.startswith("4 collections"):
            failures.append("the timeline's summary does not count 4 collections")
    except RuntimeError as e:
        failures.append(str(e))
    finally:
        subprocess.run(["perf", "probe", "-q", "-d", "sdt_pyalloc:*"], capture_output=True)
    for f in failures:
        print("FAIL", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
