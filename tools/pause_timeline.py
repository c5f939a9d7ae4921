#!/usr/bin/env python3
"""pause_timeline.py -- the collector's pauses from a perf recording of PyAlloc's
USDT probes, as an SVG timeline (one bar per collection, coloured by generation)
and a summary on stdout.

usage:
  perf record -e sdt_pyalloc:gc__start -e sdt_pyalloc:gc__done -o gc.data PROGRAM
  tools/pause_timeline.py gc.data -o pauses.svg          (runs `perf script -i gc.data`)
  tools/pause_timeline.py --script gc.txt -o pauses.svg  (the text of `perf script`)

Each gc__start(generation) is paired with the next gc__done(collected,
uncollectable) of the same thread; a pause is the time between them, which is
what the collector itself took (the gc callbacks run outside it).  In the SVG
the x axis is the time since the first collection and each bar's height the
pause, on a scale shared by all bars; generation 0 blue, 1 orange, 2 red.
Other events in the recording (cpu-clock samples, arena probes) are ignored.
"""
import argparse
import re
import statistics
import subprocess
import sys

# "tour 29054 [000] 26097.115103: sdt_pyalloc:gc__start: (7f0e35a0abb0) arg1=2"
EVENT = re.compile(
    r"^\s*(?P<comm>.+?)\s+(?P<tid>\d+)(?:/\d+)?\s+(?:\[\d+\]\s+)?(?P<time>\d+\.\d+):\s+"
    r"(?:\d+\s+)?(?P<event>sdt_pyalloc:gc__(?:start|done)):.*?(?P<args>(?:arg\d+=\S+\s*)*)$")
COLOURS = {0: "#3b7dd8", 1: "#e8912d", 2: "#d43d3d"}


class Pause:
    def __init__(self, tid, start, generation):
        self.tid, self.start, self.generation = tid, start, generation
        self.end = None
        self.collected = self.uncollectable = 0

    @property
    def ms(self):
        return (self.end - self.start) * 1000.0


def parse(lines):
    """Pauses from perf script lines; raises ValueError on a malformed probe line."""
    open_by_tid, pauses = {}, []
    for n, line in enumerate(lines, 1):
        if "sdt_pyalloc:gc__" not in line:
            continue
        m = EVENT.match(line)
        if not m:
            raise ValueError(f"line {n}: not a gc probe event of perf script: {line.strip()!r}")
        args = dict(a.split("=", 1) for a in m.group("args").split())
        tid, t = int(m.group("tid")), float(m.group("time"))
        if m.group("event").endswith("start"):
            if "arg1" not in args:
                raise ValueError(f"line {n}: gc__start without its generation (arg1)")
            open_by_tid[tid] = Pause(tid, t, int(args["arg1"], 0))
        else:
            p = open_by_tid.pop(tid, None)
            if p is None:
                continue  # the recording began inside a collection
            p.end = t
            p.collected = int(args.get("arg1", "0"), 0)
            p.uncollectable = int(args.get("arg2", "0"), 0)
            pauses.append(p)
    return pauses


def percentile(values, q):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def summary(pauses):
    out = [f"{len(pauses)} collections"]
    for g in sorted({p.generation for p in pauses}):
        ms = [p.ms for p in pauses if p.generation == g]
        out.append(f"generation {g}: {len(ms)}, pause p50 {statistics.median(ms):.3f} ms, "
                   f"p99 {percentile(ms, 0.99):.3f} ms, max {max(ms):.3f} ms")
    if pauses:
        out.append(f"total in the collector: {sum(p.ms for p in pauses):.3f} ms over "
                   f"{(pauses[-1].end - pauses[0].start) * 1000.0:.1f} ms")
    return "\n".join(out)


def svg(pauses, title):
    width, height, left, right, top, bottom = 900, 320, 70, 20, 40, 50
    plot_w, plot_h = width - left - right, height - top - bottom
    t0 = pauses[0].start
    span = max(pauses[-1].end - t0, 1e-9)
    top_ms = max(p.ms for p in pauses) or 1e-6
    bar_w = max(2.0, min(12.0, plot_w / (2.0 * len(pauses))))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{left}" y="22" font-size="14">{title}</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="black"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="black"/>',
        f'<text x="{left + plot_w / 2}" y="{height - 12}" text-anchor="middle">time since the first '
        f'collection, ms (total {span * 1000.0:.1f})</text>',
        f'<text x="14" y="{top + plot_h / 2}" transform="rotate(-90 14 {top + plot_h / 2})" '
        f'text-anchor="middle">pause, ms</text>',
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end">{top_ms:.3f}</text>',
        f'<text x="{left - 6}" y="{top + plot_h + 4}" text-anchor="end">0</text>',
    ]
    for i, p in enumerate(pauses):
        x = left + (p.start - t0) / span * (plot_w - bar_w)
        h = max(1.0, p.ms / top_ms * plot_h)
        colour = COLOURS.get(p.generation, "#777777")
        parts.append(
            f'<rect class="pause" data-generation="{p.generation}" x="{x:.2f}" y="{top + plot_h - h:.2f}" '
            f'width="{bar_w:.2f}" height="{h:.2f}" fill="{colour}"><title>collection {i + 1}: '
            f'generation {p.generation}, {p.ms:.3f} ms, collected {p.collected}, uncollectable '
            f'{p.uncollectable}</title></rect>')
    for k, g in enumerate(sorted(COLOURS)):
        x = left + plot_w - 260 + k * 90
        parts.append(f'<rect x="{x}" y="12" width="12" height="12" fill="{COLOURS[g]}"/>')
        parts.append(f'<text x="{x + 16}" y="22">generation {g}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data", nargs="?", help="perf.data recorded with the gc probes")
    ap.add_argument("--script", help="the text of `perf script` instead of a perf.data file")
    ap.add_argument("-o", "--output", default="pauses.svg")
    ap.add_argument("--title", default="PyAlloc's collections (perf, sdt_pyalloc:gc__start/gc__done)")
    args = ap.parse_args()
    if bool(args.data) == bool(args.script):
        ap.error("give a perf.data file or --script FILE (one of them)")
    try:
        if args.script:
            with open(args.script, encoding="utf-8", errors="replace") as f:
                lines = f.readlines()
        else:
            out = subprocess.run(["perf", "script", "-i", args.data], capture_output=True,
                                 text=True, errors="replace", check=False)
            if out.returncode != 0:
                print(f"pause_timeline: perf script -i {args.data} failed: {out.stderr.strip()}",
                      file=sys.stderr)
                return 1
            lines = out.stdout.splitlines()
        pauses = parse(lines)
    except (OSError, ValueError) as e:
        print(f"pause_timeline: {e}", file=sys.stderr)
        return 1
    if not pauses:
        print("pause_timeline: no collection in the recording (record -e sdt_pyalloc:gc__start "
              "-e sdt_pyalloc:gc__done)", file=sys.stderr)
        return 1
    with open(args.output, "w", encoding="utf-8") as f:
        f.write(svg(pauses, args.title))
    print(summary(pauses))
    print(f"SVG: {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
