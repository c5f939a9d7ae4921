#!/usr/bin/env python3
"""check_notes.py LIB PROBES_C README -- the USDT notes of libpyalloc.so agree
with native/probes/probes.c, and the README documents every probe.

From probes.c: each DTRACE_PROBEn(pyalloc, NAME, args...) and the C types of
its function's parameters give the note each probe must have: provider
"pyalloc", its name, and one argument per parameter with the size and
signedness sdt.h writes for that type (int -4, intptr_t -8, pointers and
size_t 8).  From `readelf -n LIB`: the notes as built.  Both lists must be the
same, each probe once, with a distinct location, and no semaphore (probes.c
says why).  Each probe name must appear in the README's profiling section."""
import re
import subprocess
import sys

SIZES = {"int": "-4", "intptr_t": "-8", "size_t": "8", "void *": "8", "const char *": "8"}


def expected(probes_c):
    text = open(probes_c, encoding="utf-8").read()
    out = {}
    for m in re.finditer(r"void\s+pa__probe_\w+\(([^)]*)\)\s*\{\s*DTRACE_PROBE\d?\(pyalloc,\s*(\w+)", text):
        params, name = m.group(1).strip(), m.group(2)
        sizes = []
        if params != "void":
            for p in params.split(","):
                ctype = re.sub(r"\s*\b\w+$", "", p.strip()).replace("*", " *").replace("  ", " ").strip()
                if ctype not in SIZES:
                    sys.exit(f"check_notes: probes.c: no size known for parameter type {ctype!r} of {name}")
                sizes.append(SIZES[ctype])
        out[name] = sizes
    if not out:
        sys.exit("check_notes: no DTRACE_PROBE found in " + probes_c)
    return out


def built(lib):
    text = subprocess.run(["readelf", "-n", lib], capture_output=True, text=True, check=True).stdout
    notes = []
    for block in text.split("NT_STAPSDT")[1:]:
        provider = re.search(r"Provider:\s*(\S+)", block).group(1)
        name = re.search(r"Name:\s*(\S+)", block).group(1)
        loc = re.search(r"Location:\s*(0x[0-9a-f]+).*Semaphore:\s*(0x[0-9a-f]+)", block)
        args = re.search(r"Arguments:[ \t]*(.*)", block).group(1).split()
        notes.append((provider, name, int(loc.group(1), 16), int(loc.group(2), 16),
                      [a.split("@")[0] for a in args]))
    return notes


def main():
    lib, probes_c, readme = sys.argv[1:4]
    want = expected(probes_c)
    notes = [n for n in built(lib) if n[0] == "pyalloc"]
    failures = []
    names = [n[1] for n in notes]
    for name in sorted(set(names)):
        if names.count(name) != 1:
            failures.append(f"{name}: {names.count(name)} notes, expected 1")
    for provider, name, loc, sem, sizes in notes:
        if name not in want:
            failures.append(f"{name}: in the library, not in probes.c")
        elif sizes != want[name]:
            failures.append(f"{name}: arguments {sizes}, probes.c says {want[name]}")
        if sem != 0:
            failures.append(f"{name}: has a semaphore")
    for name in want:
        if name not in names:
            failures.append(f"{name}: in probes.c, not in the library's notes")
    if len({n[2] for n in notes}) != len(notes):
        failures.append("two probes share a location")
    doc = open(readme, encoding="utf-8").read()
    for name in want:
        if f"sdt_pyalloc:{name}" not in doc and f"`{name}" not in doc:
            failures.append(f"{name}: not in the README")
    for f in failures:
        print("FAIL", f)
    print(f"{len(notes)} pyalloc probes in {lib}: " + ", ".join(
        f"{n[1]}({' '.join(n[4])})" for n in notes))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
