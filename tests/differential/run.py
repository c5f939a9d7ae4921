#!/usr/bin/env python3
"""Differential test of PyAlloc's cycle collector against CPython's.

    run.py --runner build/.../run_pyalloc [--count N] [--seed S] [options]

Runs the fixed regression scenarios (regressions/*.scn) and then N random
scenarios generated from the seed S, each in CPython (run_python.py, the
oracle) and in PyAlloc (run_pyalloc, built by CMake), and compares their
traces scenario by scenario.  On a mismatch it prints the scenario, both
traces and a minimised scenario that still differs, and exits 1.  The last
line is a summary:

    N scenarios identical, M differ; oracle: Python 3.12.1

The oracle is CPython 3.12 when one can be found (PYALLOC_ORACLE_PYTHON, then
python3.12, then pyenv's 3.12.x, then python3 itself if it is 3.12), otherwise
plain python3 (a warning says so).  See README.md for the scenario language,
the trace format and the long mode.
"""
import argparse
import difflib
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PY_RUNNER = os.path.join(HERE, 'run_python.py')
REGRESSIONS = os.path.join(HERE, 'regressions')

KINDS = ('plain', 'fin', 'res', 'legacy', 'both', 'clr', 'legres', 'fwr', 'lwr')
WEAK_MODES = ('nocb', 'cb', 'cbfree', 'cbdrop')
DEEP_SHARE = 0.03              # share of deep scenarios (gen_deep) among the random ones
MAX_WEAKREFS_PER_TARGET = 8   # PyObject_ClearWeakRefs' tuple stays within the tuple free lists


# =========================================================== the oracle

def _python_version(cmd, env):
    try:
        r = subprocess.run(cmd + ['-c', 'import sys, _testcapi; print("%d.%d.%d" % sys.version_info[:3])'],
                           env=env, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if r.returncode != 0:
        return None
    return r.stdout.strip() or None


def find_oracle(explicit=None):
    """(command list, env, version string): CPython 3.12 when present."""
    base = dict(os.environ)
    candidates = []
    if explicit:
        candidates.append((explicit.split(), base))
    if os.environ.get('PYALLOC_ORACLE_PYTHON'):
        candidates.append((os.environ['PYALLOC_ORACLE_PYTHON'].split(), base))
    if shutil.which('python3.12'):
        candidates.append((['python3.12'], base))
    if shutil.which('pyenv'):
        try:
            versions = subprocess.run(['pyenv', 'versions', '--bare'], capture_output=True,
                                      text=True, timeout=60).stdout.split()
        except (OSError, subprocess.TimeoutExpired):
            versions = []
        for v in sorted((v for v in versions if v.startswith('3.12.')), reverse=True):
            # The interpreter itself, not the shim: under a pyenv-launched Python,
            # PATH puts that version's bin/ first and the shim is bypassed.
            try:
                prefix = subprocess.run(['pyenv', 'prefix', v], capture_output=True,
                                        text=True, timeout=60).stdout.strip()
            except (OSError, subprocess.TimeoutExpired):
                prefix = ''
            if prefix and os.path.exists(os.path.join(prefix, 'bin', 'python3')):
                candidates.append(([os.path.join(prefix, 'bin', 'python3')], base))
    candidates.append((['python3'], base))
    fallback = None
    for cmd, env in candidates:
        v = _python_version(cmd, env)
        if v is None:
            continue
        if explicit and cmd == explicit.split():
            return cmd, env, v
        if v.startswith('3.12.'):
            return cmd, env, v
        if fallback is None:
            fallback = (cmd, env, v)
    if fallback is None:
        sys.exit("run.py: no Python with _testcapi found for the oracle")
    print(f"run.py: warning: no CPython 3.12 found; the oracle is Python {fallback[2]} "
          "(3.12 is the reference)", file=sys.stderr)
    return fallback


# =========================================================== scenarios
# A scenario is a list of op lines (strings), the last one "end".

def op_words(line):
    return line.split()


def node_args(words):
    """Positions of node ids among an op's words."""
    op = words[0]
    if op in ('new', 'pair', 'pop', 'drop', 'unset', 'wedge'):
        return [1]
    if op == 'edge':
        return [1, 2]
    if op == 'set':
        return [1, 3]
    if op == 'weak':
        return [2, 4] if len(words) == 5 else [2]
    return []


def weak_arg(words):
    if words[0] == 'wedge':
        return words[2]
    return words[1] if words[0] in ('weak', 'dropweak', 'weakget') else None


def valid(lines):
    """True when every op of the scenario refers to what exists at that point
    (so that both runners can execute it): the minimiser's filter."""
    family = {}          # id -> 'list' | 'pair', for held nodes
    length = {}          # list node id -> number of items
    slots = {}           # pair node id -> set of filled slots
    made = set()
    weak = {}            # name -> target
    per_target = {}      # id -> number of weakrefs made to it (an upper bound of the live ones)
    if not lines or lines[-1] != 'end' or lines.count('end') != 1:
        return False
    for line in lines:
        w = line.split()
        op = w[0]
        try:
            if op in ('new', 'pair'):
                i = int(w[1])
                if i in made or w[2] not in KINDS or len(w) != 3:
                    return False
                made.add(i)
                family[i] = 'list' if op == 'new' else 'pair'
                length[i] = 0
                slots[i] = set()
            elif op == 'edge':
                a, b = int(w[1]), int(w[2])
                if family.get(a) != 'list' or b not in family:
                    return False
                length[a] += 1
            elif op == 'wedge':
                a = int(w[1])
                if family.get(a) != 'list' or w[2] not in weak or len(w) != 3:
                    return False
                length[a] += 1
            elif op == 'pop':
                a = int(w[1])
                if family.get(a) != 'list' or length[a] == 0:
                    return False
                length[a] -= 1
            elif op == 'set':
                a, s, b = int(w[1]), w[2], int(w[3])
                if family.get(a) != 'pair' or s not in ('a', 'b') or b not in family:
                    return False
                slots[a].add(s)
            elif op == 'unset':
                a, s = int(w[1]), w[2]
                if family.get(a) != 'pair' or s not in slots[a]:
                    return False
                slots[a].discard(s)
            elif op == 'drop':
                a = int(w[1])
                if a not in family:
                    return False
                del family[a]
            elif op == 'weak':
                name, t, mode = w[1], int(w[2]), w[3]
                if not name.startswith('w') or not name[1:].isdigit() or t not in family \
                        or mode not in WEAK_MODES or len(w) != (5 if mode == 'cbdrop' else 4):
                    return False
                per_target[t] = per_target.get(t, 0) + 1
                if per_target[t] > MAX_WEAKREFS_PER_TARGET:
                    return False
                weak.pop(name, None)
                if mode == 'cbfree':
                    pass                # its callback may drop it: not to be named again
                elif mode == 'cbdrop':
                    x = int(w[4])
                    if x not in family:
                        return False
                    del family[x]       # its callback may drop x: not to be named again
                    weak[name] = t
                else:
                    weak[name] = t
            elif op in ('referrers', 'referents', 'getweakrefs'):
                ids = [int(x) for x in w[1:]]
                if not 1 <= len(ids) <= (1 if op == 'getweakrefs' else 3) or any(i not in family for i in ids):
                    return False
            elif op in ('dropweak', 'weakget'):
                if w[1] not in weak:
                    return False
                if op == 'dropweak':
                    del weak[w[1]]
            elif op == 'collect':
                if w[1] not in ('0', '1', '2'):
                    return False
            elif op in ('count', 'clearres', 'cleargarbage', 'end'):
                if len(w) != 1:
                    return False
            else:
                return False
        except (IndexError, ValueError, KeyError):
            return False
    return True


def _pick_kind(rng, weights):
    return rng.choices(KINDS, weights=weights)[0]


def gen_random(rng):
    """A random scenario: 5-60 nodes, random edges (self-loops and cycles
    included), kinds by weight, weakrefs with and without callbacks, drops
    interleaved with collections, some nodes kept to the end."""
    n = rng.randint(5, 60)
    pair_share = rng.choice((0.0, 0.0, 0.25, 0.5))
    # plain, fin, res, legacy, both, clr, legres, fwr, lwr
    kind_weights = rng.choice(((40, 25, 12, 10, 5, 5, 3, 3, 3), (60, 20, 10, 5, 0, 0, 0, 0, 0),
                               (30, 30, 20, 15, 5, 0, 0, 0, 0), (50, 0, 30, 20, 0, 0, 0, 0, 0),
                               (20, 40, 30, 0, 10, 0, 0, 0, 0), (30, 20, 10, 5, 0, 30, 0, 0, 0),
                               (20, 20, 20, 10, 5, 20, 5, 0, 0), (40, 20, 0, 10, 0, 0, 30, 0, 0),
                               (30, 10, 10, 5, 0, 5, 0, 20, 20)))
    keep_share = rng.choice((0.0, 0.1, 0.25))
    locality = rng.choice((4, 8, 1000))
    ops = []
    held = {}            # id -> family
    order = []           # held ids, oldest first
    length = {}
    slots = {}
    keep = set()
    weak = {}            # name -> target
    per_target = {}
    next_w = 0
    made = 0
    steps = 0
    budget = rng.randint(2 * n, 7 * n)

    def pick_target():
        if rng.random() < 0.5 and len(order) > 0:
            return rng.choice(order[-locality:])
        return rng.choice(order)

    # The inspections (gc.get_referrers / get_referents of 1-3 nodes, weakref.getweakrefs)
    # change nothing, and draw from their own generator so that the rest of a seed's
    # scenario is what it was before they existed.
    insp = random.Random(n * 1000003 + budget)

    while made < n or steps < budget:
        if order and insp.random() < 0.08:
            what = insp.choice(('referrers', 'referents', 'getweakrefs'))
            k = 1 if what == 'getweakrefs' else insp.randint(1, 3)
            ops.append(what + "".join(f" {insp.choice(order)}" for _ in range(k)))
        steps += 1
        if steps > 20 * n + 100:
            break
        choices = []
        if made < n:
            choices.append(('new', 6 if len(held) < 3 else 3))
        if held:
            choices += [('edge', 8), ('weak', 1.2), ('weakget', 0.6 if weak else 0),
                        ('wedge', 0.8 if weak else 0),
                        ('unedge', 0.5), ('count', 0.4)]
            droppable = [i for i in order if i not in keep]
            if droppable:
                choices.append(('drop', 3))
        if weak:
            choices.append(('dropweak', 0.3))
        choices += [('collect', 1.0), ('clearres', 0.25), ('cleargarbage', 0.15)]
        act = rng.choices([c[0] for c in choices], weights=[c[1] for c in choices])[0]
        if act == 'new':
            fam = 'pair' if rng.random() < pair_share else 'list'
            i = made
            made += 1
            ops.append(f"{'new' if fam == 'list' else 'pair'} {i} {_pick_kind(rng, kind_weights)}")
            held[i] = fam
            order.append(i)
            length[i] = 0
            slots[i] = set()
            if rng.random() < keep_share:
                keep.add(i)
        elif act == 'edge':
            a = pick_target()
            b = a if rng.random() < 0.08 else pick_target()
            if held[a] == 'list':
                ops.append(f"edge {a} {b}")
                length[a] += 1
            else:
                s = rng.choice('ab')
                ops.append(f"set {a} {s} {b}")
                slots[a].add(s)
        elif act == 'wedge':
            lists = [i for i in order if held[i] == 'list']
            if lists:
                a = rng.choice(lists)
                ops.append(f"wedge {a} {rng.choice(sorted(weak))}")
                length[a] += 1
        elif act == 'unedge':
            a = rng.choice(order)
            if held[a] == 'list' and length[a] > 0:
                ops.append(f"pop {a}")
                length[a] -= 1
            elif held[a] == 'pair' and slots[a]:
                s = rng.choice(sorted(slots[a]))
                ops.append(f"unset {a} {s}")
                slots[a].discard(s)
        elif act == 'drop':
            a = rng.choice([i for i in order if i not in keep])
            ops.append(f"drop {a}")
            del held[a]
            order.remove(a)
        elif act == 'weak':
            t = pick_target()
            if per_target.get(t, 0) < MAX_WEAKREFS_PER_TARGET:
                mode = rng.choices(WEAK_MODES, weights=(35, 45, 10, 10))[0]
                others = [i for i in order if i != t and i not in keep]
                if mode == 'cbdrop' and not others:
                    mode = 'cb'
                per_target[t] = per_target.get(t, 0) + 1
                name = f"w{next_w}"
                next_w += 1
                if mode == 'cbdrop':
                    x = rng.choice(others)
                    ops.append(f"weak {name} {t} cbdrop {x}")
                    del held[x]         # from now on only the callback may drop it
                    order.remove(x)
                else:
                    ops.append(f"weak {name} {t} {mode}")
                if mode != 'cbfree':
                    weak[name] = t
        elif act == 'weakget':
            ops.append(f"weakget {rng.choice(sorted(weak))}")
        elif act == 'dropweak':
            name = rng.choice(sorted(weak))
            ops.append(f"dropweak {name}")
            del weak[name]
        elif act == 'collect':
            ops.append(f"collect {rng.choices((0, 1, 2), weights=(4, 3, 3))[0]}")
        elif act in ('count', 'clearres', 'cleargarbage'):
            ops.append(act)
    if rng.random() < 0.5:
        for a in list(order):
            if a not in keep and rng.random() < 0.7:
                ops.append(f"drop {a}")
    if rng.random() < 0.7:
        ops.append(f"collect {rng.choice((0, 1, 2, 2))}")
    if rng.random() < 0.3:
        ops.append("clearres")
        ops.append("collect 2")
    for name in sorted(weak, key=lambda s: int(s[1:])):
        if rng.random() < 0.5:
            ops.append(f"weakget {name}")
    ops.append("end")
    return ops


def gen_deep(rng):
    """A deep tree (110-300 nodes, mostly a chain with side branches), to
    exercise the trashcan's nesting limit: killed by count from its root, or
    closed into a cycle and collected."""
    n = rng.randint(110, 300)
    kind_weights = rng.choice(((30, 50, 10, 0, 0, 0, 0, 0, 0), (0, 100, 0, 0, 0, 0, 0, 0, 0),
                               (50, 40, 0, 5, 5, 0, 0, 0, 0), (30, 40, 0, 0, 0, 30, 0, 0, 0),
                               (40, 30, 0, 0, 0, 0, 0, 30, 0)))
    ops = [f"new {i} {_pick_kind(rng, kind_weights)}" for i in range(n)]
    spine = [0]
    for i in range(1, n):
        # A spine that grows from its tip, with leaves hung all along it (so
        # that nodes near each multiple of the nesting limit have siblings).
        if rng.random() < 0.75:
            ops.append(f"edge {spine[-1]} {i}")
            spine.append(i)
        else:
            ops.append(f"edge {spine[-rng.randint(1, min(3, len(spine)))]} {i}")
    nw = rng.randint(0, 6)
    for w in range(nw):
        ops.append(f"weak w{w} {rng.randrange(n)} cb")
    cyclic = rng.random() < 0.5
    if cyclic:
        ops.append(f"edge {n - 1} 0")
    rest = list(range(1, n))
    rng.shuffle(rest)
    for i in rest:
        ops.append(f"drop {i}")
    ops.append("drop 0")
    if cyclic or rng.random() < 0.3:
        ops.append(f"collect {rng.choice((0, 1, 2))}")
    ops.append("clearres")
    ops.append("collect 2")
    ops.append("end")
    return ops


def generate(seed, count, deep_share=DEEP_SHARE):
    rng = random.Random(seed)
    out = []
    for i in range(count):
        ops = gen_deep(rng) if rng.random() < deep_share else gen_random(rng)
        assert valid(ops), ops
        out.append((f"s{seed}-{i}", ops))
    return out


def read_scenarios(path):
    """[(name, lines)] from a scenario file; names made unique with the file's stem."""
    stem = os.path.splitext(os.path.basename(path))[0]
    result = []
    name = None
    ops = None
    with open(path) as f:
        for raw in f:
            line = ' '.join(raw.split('#', 1)[0].split())
            if not line:
                continue
            if line.startswith('scenario '):
                name, ops = line.split()[1], []
                continue
            if name is None:
                sys.exit(f"run.py: {path}: op outside a scenario")
            ops.append(line)
            if line == 'end':
                result.append((f"{stem}:{name}", ops))
                name = ops = None
    if name is not None:
        sys.exit(f"run.py: {path}: scenario {name} has no end")
    return result


def format_scenario(name, lines):
    return f"scenario {name}\n" + "".join(l + "\n" for l in lines)


# =========================================================== running

class Runner:
    def __init__(self, label, cmd, env, tmpdir):
        self.label, self.cmd, self.env, self.tmpdir = label, cmd, env, tmpdir
        self.seq = 0

    def start(self, scenarios):
        """Starts the runner on scenarios; returns a handle for finish()."""
        self.seq += 1
        base = os.path.join(self.tmpdir, f"{self.label}-{self.seq}")
        with open(base + '.scn', 'w') as f:
            for i, (_, lines) in enumerate(scenarios):
                f.write(format_scenario(str(i), lines))
        err = open(base + '.err', 'w')
        proc = subprocess.Popen(self.cmd + [base + '.scn', base + '.out'], env=self.env,
                                stdout=subprocess.DEVNULL, stderr=err)
        return (proc, base, err, scenarios)

    def finish(self, handle):
        """{index: trace lines} for the scenarios of the batch.  A runner that
        dies leaves the traces it completed; the scenario it died in gets a
        CRASH trace, and the rest are run again in a new process."""
        proc, base, err, scenarios = handle
        rc = proc.wait()
        err.close()
        traces = parse_traces(base + '.out')
        if rc != 0 or len(traces) < len(scenarios):
            with open(base + '.err') as f:
                tail = f.read()[-2000:]
            done = len(traces)
            if done < len(scenarios):
                traces[done] = [f"CRASH exit status {rc}"] + \
                    [f"| {l}" for l in tail.splitlines()[-15:]]
                if done + 1 < len(scenarios):
                    more = self.finish(self.start(scenarios[done + 1:]))
                    for k, v in more.items():
                        traces[done + 1 + k] = v
        return traces

    def run(self, scenarios):
        return self.finish(self.start(scenarios))


def parse_traces(path):
    traces = {}
    try:
        f = open(path)
    except OSError:
        return traces
    with f:
        cur = None
        lines = []
        for raw in f:
            line = raw.rstrip('\n')
            if cur is None:
                if line.startswith('scenario '):
                    cur = int(line.split()[1])
                    lines = []
                continue
            if line == 'done':
                traces[cur] = lines
                cur = None
            else:
                lines.append(line)
    # Traces are complete only up to the first missing index.
    complete = {}
    for i in range(len(traces)):
        if i not in traces:
            break
        complete[i] = traces[i]
    return complete


def run_pair(py, pa, scenarios):
    """Runs both runners at once on scenarios: (python traces, pyalloc traces)."""
    h1 = py.start(scenarios)
    h2 = pa.start(scenarios)
    return py.finish(h1), pa.finish(h2)


# =========================================================== minimising

def _without_nodes(body, group):
    """body less every line that mentions a node of group (or a weakref to one)."""
    group = set(group)
    wnames = {l.split()[1] for l in body if l.split()[0] == 'weak' and l.split()[2] in group}

    def mentions(l):
        w = l.split()
        return any(w[p] in group for p in node_args(w)) or weak_arg(w) in wnames
    return [l for l in body if not mentions(l)]


def candidate_levels(lines):
    """Lists of smaller scenarios to try, biggest cuts first: groups of nodes
    removed with every line that mentions them (halves, quarters, ... single
    nodes), single weakrefs, then chunks of lines (halves ... single lines)."""
    body = lines[:-1]
    ids = [l.split()[1] for l in body if l.split()[0] in ('new', 'pair')]
    k = len(ids) // 2
    while k >= 1:
        yield [_without_nodes(body, ids[i:i + k]) + ['end'] for i in range(0, len(ids), k)]
        k //= 2
    names = sorted({weak_arg(l.split()) for l in body} - {None})
    yield [[l for l in body if weak_arg(l.split()) != n] + ['end'] for n in names]
    k = len(body) // 2
    while k >= 1:
        yield [body[:i] + body[i + k:] + ['end'] for i in range(0, len(body), k)]
        k //= 2


def minimise(py, pa, lines, log):
    """Greedy delta debugging: at the coarsest level where some candidate
    still differs, take the first such and start again; done when no
    candidate at any level differs.  Each level runs as one batch."""
    current = lines
    rounds = 0
    progress = True
    while progress:
        progress = False
        for level in candidate_levels(current):
            seen = set()
            cands = []
            for c in level:
                if len(c) < len(current) and tuple(c) not in seen and valid(c):
                    seen.add(tuple(c))
                    cands.append(c)
            if not cands:
                continue
            rounds += 1
            t_py, t_pa = run_pair(py, pa, [(f"m{j}", c) for j, c in enumerate(cands)])
            found = next((c for j, c in enumerate(cands) if t_py.get(j) != t_pa.get(j)), None)
            if found is not None:
                current = found
                progress = True
                log(f"run.py: minimising: batch {rounds}, {len(current)} lines")
                break
    return current


# =========================================================== reporting

def show(title, lines, out):
    out.write(f"--- {title}\n")
    for l in lines:
        out.write(f"    {l}\n")


def report(name, lines, tpy, tpa, oracle_label, out):
    out.write(f"\n=== MISMATCH in scenario {name}\n")
    show("scenario", lines, out)
    show(f"trace of CPython ({oracle_label})", tpy, out)
    show("trace of PyAlloc", tpa, out)
    out.write("--- diff (CPython -> PyAlloc)\n")
    for d in difflib.unified_diff(tpy, tpa, 'cpython', 'pyalloc', lineterm='', n=2):
        out.write(f"    {d}\n")


# =========================================================== main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--runner', help='the run_pyalloc executable (default: found under build/)')
    ap.add_argument('--count', type=int, default=300, help='random scenarios (default 300)')
    ap.add_argument('--seed', type=int, default=1, help='seed of the random scenarios (default 1)')
    ap.add_argument('--python', help='oracle Python command (default: CPython 3.12 when present)')
    ap.add_argument('--deep-share', type=float, default=DEEP_SHARE,
                    help=f'share of deep (trashcan) scenarios among the random ones (default {DEEP_SHARE})')
    ap.add_argument('--batch', type=int, default=500, help='scenarios per runner process (default 500)')
    ap.add_argument('--file', action='append', default=[],
                    help='run the scenarios of this file too (repeatable)')
    ap.add_argument('--no-regressions', action='store_true', help='skip regressions/*.scn')
    ap.add_argument('--no-minimise', action='store_true', help='report mismatches without minimising')
    ap.add_argument('--max-reports', type=int, default=3,
                    help='mismatches reported and minimised in full (default 3)')
    ap.add_argument('--save', help='directory for the failing and minimised scenarios')
    ap.add_argument('--print', dest='print_only', action='store_true',
                    help='print the generated scenarios and exit')
    args = ap.parse_args()

    random_scenarios = generate(args.seed, args.count, args.deep_share)
    if args.print_only:
        for name, lines in random_scenarios:
            sys.stdout.write(format_scenario(name, lines))
        return 0

    runner = args.runner or os.environ.get('PYALLOC_DIFF_RUNNER')
    if not runner:
        for cand in ('build/cmake/tests/differential/run_pyalloc',):
            p = os.path.join(HERE, '..', '..', cand)
            if os.path.exists(p):
                runner = p
    if not runner or not os.path.exists(runner):
        sys.exit("run.py: the run_pyalloc executable was not found: pass --runner PATH "
                 "(CMake builds it as tests/differential/run_pyalloc)")
    runner = os.path.abspath(runner)

    cmd, env, version = find_oracle(args.python)
    oracle_label = f"Python {version}"
    print(f"run.py: oracle: {oracle_label} ({' '.join(cmd)}); PyAlloc runner: {runner}", flush=True)

    scenarios = []
    if not args.no_regressions and os.path.isdir(REGRESSIONS):
        for fn in sorted(os.listdir(REGRESSIONS)):
            if fn.endswith('.scn'):
                scenarios += read_scenarios(os.path.join(REGRESSIONS, fn))
    n_regressions = len(scenarios)
    for path in args.file:
        scenarios += read_scenarios(path)
    scenarios += random_scenarios
    print(f"run.py: {n_regressions} regression scenarios, {len(scenarios) - n_regressions} others "
          f"(seed {args.seed})", flush=True)

    tmpdir = tempfile.mkdtemp(prefix='pyalloc-difftest-')
    py = Runner('cpython', cmd + [PY_RUNNER], env, tmpdir)
    pa = Runner('pyalloc', [runner], dict(os.environ, PYALLOC_MALLOC=''), tmpdir)
    t0 = time.time()
    identical = 0
    mismatches = []
    try:
        for start in range(0, len(scenarios), args.batch):
            chunk = scenarios[start:start + args.batch]
            t_py, t_pa = run_pair(py, pa, chunk)
            for j, (name, lines) in enumerate(chunk):
                a, b = t_py.get(j), t_pa.get(j)
                if a is not None and a and a[0].startswith('CRASH'):
                    sys.exit(f"run.py: the oracle runner failed on scenario {name}:\n" + "\n".join(a))
                if a == b:
                    identical += 1
                else:
                    mismatches.append((name, lines, a or [], b or []))
            if len(scenarios) > args.batch:
                print(f"run.py: {start + len(chunk)}/{len(scenarios)} scenarios, "
                      f"{len(mismatches)} differ ({time.time() - t0:.0f}s)", flush=True)

        out = sys.stdout
        if args.save and mismatches:
            os.makedirs(args.save, exist_ok=True)
        for k, (name, lines, a, b) in enumerate(mismatches):
            if k >= args.max_reports:
                out.write(f"\n=== MISMATCH in scenario {name} (not shown: --max-reports {args.max_reports})\n")
                continue
            report(name, lines, a, b, oracle_label, out)
            if args.save:
                with open(os.path.join(args.save, f"{name.replace(':', '_')}.scn"), 'w') as f:
                    f.write(format_scenario(name.replace(':', '_'), lines))
            if args.no_minimise:
                continue
            small = minimise(py, pa, lines, lambda m: print(m, file=sys.stderr, flush=True))
            t_py, t_pa = run_pair(py, pa, [("min", small)])
            report(f"{name} (minimised: {len(small)} lines from {len(lines)})", small,
                   t_py.get(0, []), t_pa.get(0, []), oracle_label, out)
            if args.save:
                with open(os.path.join(args.save, f"{name.replace(':', '_')}-min.scn"), 'w') as f:
                    f.write(format_scenario(name.replace(':', '_') + "-min", small))
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)

    print(f"run.py: {len(scenarios)} scenarios in {time.time() - t0:.1f}s")
    print(f"{identical} scenarios identical, {len(mismatches)} differ; oracle: {oracle_label}")
    return 1 if mismatches else 0


if __name__ == '__main__':
    sys.exit(main())
