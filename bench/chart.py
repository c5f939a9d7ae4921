#!/usr/bin/env python3
"""SVG bar chart of the benchmark's ratios PyAlloc/peer (standard library only).

    python3 bench/chart.py [build/bench]      writes build/bench/ratios.svg, and
                                              build/bench/gc.svg (the collector's
                                              rows alone) when gc.csv is there

Reads alloc.csv (bench_alloc: workload,allocator,unit,min,median,max,ratio)
and, when present, gc.csv (workload,pyalloc_ns,cpython_ns,cpython_version,
ratio).  One row of bars per workload, one bar per peer; the scale is
logarithmic and centred on 1.0: a bar to the left means PyAlloc is faster
(or smaller), to the right slower, except for scale2/1 (the 2-thread rate over
the 1-thread rate), where higher is better and the ratio is peer/PyAlloc so
that left still means PyAlloc is better.
"""
import csv
import math
import os
import sys
from xml.sax.saxutils import escape

COLOURS = {"glibc": "#4e79a7", "mimalloc": "#f28e2b", "jemalloc": "#59a14f",
           "tcmalloc": "#b07aa1", "cpython": "#e15759"}


def read_rows(out_dir):
    rows = []   # (workload, peer, ratio pyalloc/peer oriented so <1 is better)
    path = os.path.join(out_dir, "alloc.csv")
    if not os.path.exists(path):
        path = os.devnull   # the collector's rows alone
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            if r["allocator"] == "pyalloc":
                continue
            ratio = float(r["ratio_pyalloc_over_allocator"])
            if r["unit"] == "x" and ratio > 0:
                ratio = 1.0 / ratio
            rows.append((r["workload"], r["allocator"], ratio))
    gc_path = os.path.join(out_dir, "gc.csv")
    if os.path.exists(gc_path):
        with open(gc_path, newline="") as f:
            for r in csv.DictReader(f):
                rows.append(("gc " + r["workload"], "cpython", float(r["ratio"])))
    return rows


def chart(rows):
    rows = [r for r in rows if r[2] > 0 and math.isfinite(r[2])]
    workloads = []
    for w, _, _ in rows:
        if w not in workloads:
            workloads.append(w)
    lo, hi = 1 / 16, 16
    bar_h, gap, left, width, top = 12, 10, 120, 560, 40
    peers_per = {w: [r for r in rows if r[0] == w] for w in workloads}
    height = top + sum(len(v) * bar_h + gap for v in peers_per.values()) + 40

    def x(v):
        v = min(max(v, lo), hi)
        return left + (math.log2(v) - math.log2(lo)) / (math.log2(hi) - math.log2(lo)) * width

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 120}" '
           f'height="{height}" font-family="sans-serif" font-size="11">',
           f'<text x="{left}" y="16" font-size="13">PyAlloc / peer, median '
           '(left of 1.0: PyAlloc better; log scale)</text>']
    for t in (1 / 16, 1 / 4, 1 / 2, 1, 2, 4, 16):
        xt = x(t)
        out.append(f'<line x1="{xt:.1f}" y1="{top - 8}" x2="{xt:.1f}" y2="{height - 30}" '
                   f'stroke="{"#000" if t == 1 else "#ddd"}"/>')
        label = f"{t:g}" if t >= 1 else f"1/{1 / t:g}"
        out.append(f'<text x="{xt:.1f}" y="{height - 16}" text-anchor="middle">{label}</text>')
    y = top
    for w in workloads:
        out.append(f'<text x="{left - 8}" y="{y + bar_h * len(peers_per[w]) / 2 + 4:.1f}" '
                   f'text-anchor="end">{escape(w)}</text>')
        for _, peer, ratio in peers_per[w]:
            x0, x1 = sorted((x(1), x(ratio)))
            out.append(f'<rect x="{x0:.1f}" y="{y}" width="{max(x1 - x0, 1):.1f}" '
                       f'height="{bar_h - 2}" fill="{COLOURS.get(peer, "#999")}"/>')
            out.append(f'<text x="{x1 + 4:.1f}" y="{y + bar_h - 3}">{escape(peer)} {ratio:.2f}</text>')
            y += bar_h
        y += gap
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "build", "bench")
    rows = read_rows(out_dir)
    charts = [("ratios.svg", rows)]
    gc_rows = [r for r in rows if r[0].startswith("gc ")]
    if gc_rows:
        charts.append(("gc.svg", gc_rows))
    for name, chosen in charts:
        path = os.path.join(out_dir, name)
        with open(path, "w") as f:
            f.write(chart(chosen))
        print(f"chart: {path}")


if __name__ == "__main__":
    main()
