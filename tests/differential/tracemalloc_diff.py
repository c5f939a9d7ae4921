#!/usr/bin/env python3
"""The tracemalloc differential test: PyAlloc's snapshots against CPython 3.12's.

    tracemalloc_diff.py --lib build/cmake/native/libpyalloc.so [--count N] [--seed S]

Each case is a random snapshot: traces in random domains (0 and a few others),
sizes, and tracebacks of 1 to 4 frames over a handful of file names and lines.
The same traces go to CPython as tracemalloc.Snapshot(traces, limit) and to
PyAlloc as a snapshot file (version 2, README "Snapshot files") loaded with
pa_snapshot_load, through ctypes.  Then, on both sides:
  - Snapshot.traces: every trace's domain, size and traceback;
  - statistics(key) for the three keys and statistics(key, cumulative=True)
    for 'filename' and 'lineno': every group's str(Statistic), in order;
  - compare_to(other, key, cumulative) against a second random snapshot;
  - filter_traces(filters) for random lists of Filter (pattern, lineno,
    all_frames, domain) and DomainFilter, inclusive and exclusive mixed:
    the traces kept, in order;
  - Traceback.format(limit, most_recent_first) of each trace, for limits
    None, 0, 1, 2, -1, -3.
The last line is "N cases identical, M differ; oracle: Python 3.12.x".
This script re-runs itself under the oracle (run.py's find_oracle).
"""
import argparse
import ctypes
import os
import random
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
FILES = ["a.c", "b.c", "lib/c.c", "lib/d.h", "x.py", "main.c"]
PATTERNS = ["*", "*.c", "*.h", "a.c", "lib/*", "?.c", "[ab].c", "[!a]*", "*.py", "*.pyc", "main.c", "nothing"]
DOMAINS = [0, 0, 0, 1, 5, 12345]
NO_LIMIT = -2147483648


# ----------------------------------------------------------------- the cases

def random_traces(rng):
    traces = []
    for _ in range(rng.randint(0, 25)):
        n = rng.randint(1, 4)
        tb = tuple((rng.choice(FILES), rng.randint(0, 6)) for _ in range(n))   # most recent first
        traces.append((rng.choice(DOMAINS), rng.choice([0, 1, 16, 100, 4096, 12345, 1 << 20]), tb))
    return traces


def random_filters(rng):
    filters = []
    for _ in range(rng.randint(0, 4)):
        if rng.random() < 0.25:
            filters.append(("domain", rng.random() < 0.5, rng.choice(DOMAINS)))
        else:
            filters.append(("filter", rng.random() < 0.5, rng.choice(PATTERNS),
                            rng.choice([None, None, 1, 3, 5]), rng.random() < 0.4,
                            rng.choice([None, None, 0, 5])))
    return filters


# ------------------------------------------------------------------ CPython

def cpython_snapshot(traces):
    import tracemalloc
    return tracemalloc.Snapshot([(d, s, tb, len(tb)) for d, s, tb in traces], 4)


def cpython_filters(filters):
    import tracemalloc
    out = []
    for f in filters:
        if f[0] == "domain":
            out.append(tracemalloc.DomainFilter(f[1], f[2]))
        else:
            _, inclusive, pattern, lineno, all_frames, domain = f
            out.append(tracemalloc.Filter(inclusive, pattern, lineno, all_frames, domain))
    return out


def cpython_results(traces, other, filters):
    snap, old = cpython_snapshot(traces), cpython_snapshot(other)
    r = {"traces": [(t.domain, t.size, tuple((f.filename, f.lineno) for f in reversed(t.traceback)))
                    for t in snap.traces]}
    for key in ("filename", "lineno", "traceback"):
        r["stats " + key] = [str(s) for s in snap.statistics(key)]
        r["diff " + key] = [str(s) for s in snap.compare_to(old, key)]
    for key in ("filename", "lineno"):
        r["cumulative " + key] = [str(s) for s in snap.statistics(key, cumulative=True)]
        r["cumulative diff " + key] = [str(s) for s in snap.compare_to(old, key, cumulative=True)]
    for i, fl in enumerate(filters):
        kept = snap.filter_traces(cpython_filters(fl))
        r["filter %d %r" % (i, fl)] = [(t.domain, t.size, tuple((f.filename, f.lineno) for f in reversed(t.traceback)))
                                      for t in kept.traces]
    for i, t in enumerate(snap.traces):
        for limit in (None, 0, 1, 2, -1, -3):
            for recent in (False, True):
                r["format %d %r %r" % (i, limit, recent)] = t.traceback.format(limit, recent)
    return r


# ------------------------------------------------------------------ PyAlloc

class Frame(ctypes.Structure):
    _fields_ = [("filename", ctypes.c_char_p), ("lineno", ctypes.c_int)]


class Statistic(ctypes.Structure):
    _fields_ = [("filename", ctypes.c_char_p), ("lineno", ctypes.c_int), ("frames", ctypes.POINTER(Frame)),
                ("nframes", ctypes.c_int), ("size", ctypes.c_size_t), ("count", ctypes.c_size_t)]


class StatisticDiff(ctypes.Structure):
    _fields_ = [("filename", ctypes.c_char_p), ("lineno", ctypes.c_int), ("frames", ctypes.POINTER(Frame)),
                ("nframes", ctypes.c_int), ("size", ctypes.c_size_t), ("size_diff", ctypes.c_ssize_t),
                ("count", ctypes.c_size_t), ("count_diff", ctypes.c_ssize_t)]


class Trace(ctypes.Structure):
    _fields_ = [("domain", ctypes.c_uint), ("size", ctypes.c_size_t), ("frames", ctypes.POINTER(Frame)),
                ("nframes", ctypes.c_int)]


class Filter(ctypes.Structure):
    _fields_ = [("kind", ctypes.c_int), ("inclusive", ctypes.c_int), ("filename_pattern", ctypes.c_char_p),
                ("lineno", ctypes.c_int), ("all_frames", ctypes.c_int), ("has_domain", ctypes.c_int),
                ("domain", ctypes.c_uint)]


class PyAlloc:
    def __init__(self, path):
        lib = ctypes.CDLL(path)
        vp = ctypes.c_void_p
        sig = {
            "pa_snapshot_load": (vp, [ctypes.c_char_p]),
            "pa_snapshot_free": (None, [vp]),
            "pa_snapshot_trace_count": (ctypes.c_size_t, [vp]),
            "pa_snapshot_get_trace": (ctypes.c_int, [vp, ctypes.c_size_t, ctypes.POINTER(Trace)]),
            "pa_snapshot_statistics": (ctypes.c_size_t, [vp, ctypes.c_int, ctypes.POINTER(Statistic), ctypes.c_size_t]),
            "pa_snapshot_statistics_cumulative": (ctypes.c_size_t, [vp, ctypes.c_int, ctypes.POINTER(Statistic), ctypes.c_size_t]),
            "pa_snapshot_compare_to": (ctypes.c_size_t, [vp, vp, ctypes.c_int, ctypes.POINTER(StatisticDiff), ctypes.c_size_t]),
            "pa_snapshot_compare_to_cumulative": (ctypes.c_size_t, [vp, vp, ctypes.c_int, ctypes.POINTER(StatisticDiff), ctypes.c_size_t]),
            "pa_snapshot_filter_traces": (vp, [vp, ctypes.POINTER(Filter), ctypes.c_size_t]),
            "pa_statistic_format": (ctypes.c_int, [ctypes.POINTER(Statistic), ctypes.c_char_p, ctypes.c_size_t]),
            "pa_statistic_diff_format": (ctypes.c_int, [ctypes.POINTER(StatisticDiff), ctypes.c_char_p, ctypes.c_size_t]),
            "pa_traceback_format": (ctypes.c_int, [ctypes.POINTER(Frame), ctypes.c_int, ctypes.c_int, ctypes.c_int,
                                                   ctypes.c_char_p, ctypes.c_size_t]),
            "pa_last_error": (ctypes.c_char_p, []),
        }
        for name, (res, args) in sig.items():
            fn = getattr(lib, name)
            fn.restype, fn.argtypes = res, args
            setattr(self, name, fn)
        self.lib = lib

    def load(self, traces, path):
        strings, tracebacks = [], []
        blob = bytearray(b"SNABSNAP") + struct.pack("<II", 2, 4)
        blob += struct.pack("<I", sum(len(tb) for _, _, tb in traces))
        for _, _, tb in traces:
            for f, _ in tb:
                e = f.encode()
                blob += struct.pack("<I", len(e)) + e
        blob += struct.pack("<I", len(traces))
        s = 0
        for _, _, tb in traces:
            blob += struct.pack("<I", len(tb))
            for _, line in tb:
                blob += struct.pack("<Ii", s, line)
                s += 1
        blob += struct.pack("<Q", len(traces))
        for i, (d, size, _) in enumerate(traces):
            blob += struct.pack("<QII", size, i, d)
        h = 0xCBF29CE484222325
        for b in blob:
            h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
        blob += struct.pack("<Q", h)
        with open(path, "wb") as f:
            f.write(blob)
        snap = self.pa_snapshot_load(path.encode())
        if not snap:
            raise RuntimeError("pa_snapshot_load: %s" % self.pa_last_error().decode())
        return snap

    @staticmethod
    def _frames(p, n):
        return tuple((p[i].filename.decode(), p[i].lineno) for i in range(n))

    def traces(self, snap):
        out = []
        for i in range(self.pa_snapshot_trace_count(snap)):
            t = Trace()
            assert self.pa_snapshot_get_trace(snap, i, ctypes.byref(t)) == 0
            out.append((t.domain, t.size, self._frames(t.frames, t.nframes)))
        return out

    def _text(self, fmt, item):
        buf = ctypes.create_string_buffer(1024)
        n = fmt(ctypes.byref(item), buf, 1024)
        assert 0 <= n < 1024
        return buf.value.decode()

    def stats(self, snap, key, cumulative):
        fn = self.pa_snapshot_statistics_cumulative if cumulative else self.pa_snapshot_statistics
        n = fn(snap, key, None, 0)
        arr = (Statistic * max(n, 1))()
        assert fn(snap, key, arr, n) == n
        return [self._text(self.pa_statistic_format, arr[i]) for i in range(n)]

    def diff(self, snap, old, key, cumulative):
        fn = self.pa_snapshot_compare_to_cumulative if cumulative else self.pa_snapshot_compare_to
        n = fn(snap, old, key, None, 0)
        arr = (StatisticDiff * max(n, 1))()
        assert fn(snap, old, key, arr, n) == n
        return [self._text(self.pa_statistic_diff_format, arr[i]) for i in range(n)]

    def filtered(self, snap, filters):
        arr = (Filter * max(len(filters), 1))()
        keep = []
        for i, f in enumerate(filters):
            if f[0] == "domain":
                arr[i] = Filter(1, int(f[1]), None, 0, 0, 0, f[2])
            else:
                _, inclusive, pattern, lineno, all_frames, domain = f
                p = pattern.encode()
                keep.append(p)
                arr[i] = Filter(0, int(inclusive), p, lineno or 0, int(all_frames),
                                int(domain is not None), domain or 0)
        r = self.pa_snapshot_filter_traces(snap, arr, len(filters))
        if not r:
            raise RuntimeError("pa_snapshot_filter_traces: %s" % self.pa_last_error().decode())
        try:
            return self.traces(r)
        finally:
            self.pa_snapshot_free(r)

    def format(self, frames, limit, recent):
        arr = (Frame * max(len(frames), 1))(*[Frame(f.encode(), l) for f, l in frames])
        n = self.pa_traceback_format(arr, len(frames), NO_LIMIT if limit is None else limit, int(recent), None, 0)
        buf = ctypes.create_string_buffer(n + 1)
        self.pa_traceback_format(arr, len(frames), NO_LIMIT if limit is None else limit, int(recent), buf, n + 1)
        text = buf.value.decode()
        return text.split("\n")[:-1] if text else []

    def results(self, traces, other, filters, tmp):
        snap, old = self.load(traces, tmp + ".a"), self.load(other, tmp + ".b")
        try:
            r = {"traces": self.traces(snap)}
            for k, key in enumerate(("filename", "lineno", "traceback")):
                r["stats " + key] = self.stats(snap, k, False)
                r["diff " + key] = self.diff(snap, old, k, False)
            for k, key in enumerate(("filename", "lineno")):
                r["cumulative " + key] = self.stats(snap, k, True)
                r["cumulative diff " + key] = self.diff(snap, old, k, True)
            for i, fl in enumerate(filters):
                r["filter %d %r" % (i, fl)] = self.filtered(snap, fl)
            for i, (_, _, tb) in enumerate(r["traces"]):
                for limit in (None, 0, 1, 2, -1, -3):
                    for recent in (False, True):
                        r["format %d %r %r" % (i, limit, recent)] = self.format(tb, limit, recent)
            return r
        finally:
            self.pa_snapshot_free(snap)
            self.pa_snapshot_free(old)


# --------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", required=True)
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--in-oracle", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if not args.in_oracle:
        sys.path.insert(0, HERE)
        import run
        cmd, env, version = run.find_oracle()
        env = dict(env, PYALLOC_MALLOC="")
        sys.exit(subprocess.call(cmd + [os.path.abspath(__file__), "--in-oracle", "--lib", args.lib,
                                        "--count", str(args.count), "--seed", str(args.seed)], env=env))
    pa = PyAlloc(os.path.abspath(args.lib))
    rng = random.Random(args.seed)
    same = differ = 0
    with tempfile.TemporaryDirectory() as d:
        for case in range(args.count):
            traces, other = random_traces(rng), random_traces(rng)
            filters = [random_filters(rng) for _ in range(6)]
            expected = cpython_results(traces, other, filters)
            got = pa.results(traces, other, filters, os.path.join(d, "snap"))
            bad = [k for k in expected if expected[k] != got.get(k)]
            if bad:
                differ += 1
                if differ <= 3:
                    k = bad[0]
                    print("case %d differs (%d of %d results), first: %s\n  traces: %r\n  CPython: %r\n  PyAlloc: %r"
                          % (case, len(bad), len(expected), k, traces, expected[k], got.get(k)))
            else:
                same += 1
    print("%d cases identical, %d differ; oracle: Python %d.%d.%d" % ((same, differ) + sys.version_info[:3]))
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
