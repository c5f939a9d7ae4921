"""Checks that pyalloc-python really runs CPython on PyAlloc, in each mode of
PYTHONMALLOC, by asking PyAlloc itself (pa_get_malloc_stats through ctypes:
the host links libpyalloc, so its symbols are in the process).

usage: pyalloc-python check_host.py        (prints "ok" lines; exit 1 on failure)
"""
import ctypes
import os
import subprocess
import sys


class MallocStats(ctypes.Structure):
    # pa_malloc_stats's leading fields (include/pyalloc.h); the per-class
    # array after them is left to the padding.
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arenas_allocated", "arenas_reclaimed", "arenas_highwater", "arenas_current",
        "arena_bytes", "pools_in_use", "pools_free", "bytes_in_used_blocks",
        "bytes_in_free_blocks", "bytes_in_free_pools", "bytes_pool_headers",
        "bytes_quantization", "large_blocks", "large_bytes", "arenas_in_runtimes")] + [
        ("classes", ctypes.c_byte * 4096)]


def used_bytes():
    lib = ctypes.CDLL(None)
    stats = MallocStats()
    assert lib.pa_get_malloc_stats(ctypes.byref(stats)) == 0
    return stats.bytes_in_used_blocks


def probe():
    """The child's part: how much of 200,000 new objects PyAlloc holds."""
    before = used_bytes()
    keep = [(i, str(i)) for i in range(200_000)]
    grown = used_bytes() - before
    print(grown)
    del keep


def run_child(env_extra, *args):
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONMALLOC", "PYTHONDEVMODE", "PYALLOC_PYTHON_ALLOCATOR")}
    env.update(env_extra)
    return subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True)


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    return cond


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--probe":
        probe()
        return 0
    me = os.path.abspath(__file__)
    good = True
    # 200,000 tuples and strs: well over 10 MB of PyAlloc's pool blocks.
    for env, expect_pyalloc, what in (
        ({}, True, "default: objects live in PyAlloc's pools"),
        ({"PYTHONMALLOC": "pymalloc"}, True, "PYTHONMALLOC=pymalloc: PyAlloc takes pymalloc's place"),
        ({"PYTHONMALLOC": "debug"}, True, "PYTHONMALLOC=debug: PyAlloc under CPython's debug hooks"),
        ({"PYTHONMALLOC": "malloc"}, False, "PYTHONMALLOC=malloc: the C library's malloc, PyAlloc unused"),
        ({"PYALLOC_PYTHON_ALLOCATOR": "cpython"}, False, "PYALLOC_PYTHON_ALLOCATOR=cpython: CPython's own pymalloc"),
    ):
        out = run_child(env, me, "--probe")
        grown = int(out.stdout.strip() or -1) if out.returncode == 0 else -1
        ok = out.returncode == 0 and ((grown > 10_000_000) if expect_pyalloc else (0 <= grown < 100_000))
        good &= check(ok, f"{what} (PyAlloc's used bytes grew by {grown}; {out.stderr.strip()[-200:]})")

    # The debug hooks over PyAlloc catch a buffer overflow, as over pymalloc.
    overflow = "import _testcapi; _testcapi.pymem_buffer_overflow()"
    out = run_child({"PYTHONMALLOC": "debug"}, "-c", overflow)
    good &= check(out.returncode != 0 and "bad trailing pad byte" in out.stderr,
                  "PYTHONMALLOC=debug: an overflow is reported ('bad trailing pad byte')")
    out = run_child({"PYTHONMALLOC": "pymalloc_debug"}, "-c", overflow)
    good &= check(out.returncode != 0 and "bad trailing pad byte" in out.stderr,
                  "PYTHONMALLOC=pymalloc_debug: the same")
    # -X dev turns the hooks on, as in CPython.
    out = run_child({}, "-X", "dev", "-c", overflow)
    good &= check(out.returncode != 0 and "bad trailing pad byte" in out.stderr,
                  "-X dev: the debug hooks are on")
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
