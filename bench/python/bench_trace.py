"""The loop of bench/c/bench_trace.c in CPython: ns per allocation untraced and traced."""
import time, tracemalloc, sys
N = 1_000_000
def run():
    t0 = time.perf_counter_ns()
    b = [bytearray(16 + (i & 255)) for i in range(N)]
    del b
    return (time.perf_counter_ns() - t0) / N
for r in range(3):
    u = run(); tracemalloc.start(1); t = run(); tracemalloc.stop()
    print(f"{sys.version.split()[0]}: untraced {u:.1f} ns traced {t:.1f} ns ratio {t/u:.2f}")
