#!/usr/bin/env python3
"""The oracle runner: executes differential scenarios in CPython.

    python3 run_python.py SCENARIOS [TRACES]

Reads the scenarios of the file SCENARIOS (format: README.md beside this
file), runs each in this process and writes one canonical trace per scenario
to TRACES (default: standard output), flushed after each scenario.  Its twin
is run_pyalloc.c; run.py drives both and compares.

Everything here is arranged so that the runner itself adds nothing the
collector could see: the runner's own containers are frozen (gc.freeze())
before each scenario, so they are outside every generation and their
references count as external ones, exactly like the C runner's arrays; the
runner creates no cyclic garbage (checked: the collection before each
scenario must return 0); and the temporaries it does create come from and go
back to free lists, so that gc.get_count() counts only the scenario's own
objects (see take_free_tuples).
"""
import gc
import sys
import weakref

import _testcapi

gc.disable()

# ------------------------------------------------------------------ state
# Module-level, created once, frozen before the first scenario: never part of
# a collection.  Cleared (not replaced) between scenarios.
QUIET = False          # True during the teardown after `end`: nothing is logged
OUT = []               # the current scenario's trace lines
# NODES and WREFS are lists, not dicts: a list is tracked from birth, so it is
# frozen with the rest, whereas an empty dict is untracked and would become
# tracked (in generation 0, between the nodes) at its first insertion; its
# references would then be internal to a collection and move_unreachable
# would reorder the nodes it holds.
NODES = []             # [id] -> node: the scenario's own references ("held")
WREFS = []             # [n] -> the weakref object of variable "w<n>"
WRNAMES = {}           # id(weakref with callback) -> its name (ints and strs: never tracked)
WRNUMS = {}            # id(weakref with callback) -> n of its name "w<n>"
WRDROPS = {}           # id(weakref of mode cbdrop) -> the node its callback drops
resurrected = []       # where `res` finalisers put their object


def _wrcb(wr):
    if not QUIET:
        OUT.append(f"wrcb {WRNAMES[id(wr)]}")


def _wrcb_free(wr):
    """Mode cbfree: the callback drops the weakref's own variable."""
    if not QUIET:
        OUT.append(f"wrcb {WRNAMES[id(wr)]}")
    WREFS[WRNUMS[id(wr)]] = None


def _wrcb_drop(wr):
    """Mode cbdrop X: the callback drops the scenario's reference to node X."""
    if not QUIET:
        OUT.append(f"wrcb {WRNAMES[id(wr)]}")
    NODES[WRDROPS[id(wr)]] = None


FINWREFS = []          # weakrefs made by the finalisers of kinds fwr and lwr
FWNAMES = {}           # id(such a weakref) -> "f<id of its node>"


def _fwcb(wr):
    if not QUIET:
        OUT.append(f"wrcb {FWNAMES[id(wr)]}")


def _finalizer_weakref(node):
    """A new weakref with callback to the dying node, kept in FINWREFS."""
    r = weakref.ref(node, _fwcb)
    FWNAMES[id(r)] = f"f{node.id}"
    FINWREFS.append(r)


WEAK_CALLBACKS = {'nocb': None, 'cb': _wrcb, 'cbfree': _wrcb_free, 'cbdrop': _wrcb_drop}


# ------------------------------------------------------------------ nodes
# Each node is exactly one GC object.  List nodes: a list subclass whose
# items are the node's edges (list_traverse visits them last first,
# _list_clear and list_dealloc release them last first).  Pair nodes: two
# object slots a and b (type_new sorts __slots__, so the members are a, b, id
# and subtype_traverse / clear_slots visit and release a before b).

class Node(list):
    __slots__ = ('id', '__weakref__')


class NodeFin(Node):
    __slots__ = ()

    def __del__(self):
        if not QUIET:
            OUT.append(f"fin {self.id}")


class NodeRes(Node):
    __slots__ = ()

    def __del__(self):
        if not QUIET:
            OUT.append(f"fin {self.id}")
        resurrected.append(self)


@_testcapi.with_tp_del
class NodeLegres(Node):
    """A legacy finaliser that resurrects its object (on every death)."""
    __slots__ = ()

    def __tp_del__(self):
        if not QUIET:
            OUT.append(f"del {self.id}")
            resurrected.append(self)


class NodeFwr(Node):
    """A finaliser that makes a new weakref (with callback) to its object."""
    __slots__ = ()

    def __del__(self):
        if not QUIET:
            OUT.append(f"fin {self.id}")
            _finalizer_weakref(self)


@_testcapi.with_tp_del
class NodeLwr(Node):
    """A legacy finaliser that makes a new weakref (with callback) to its object."""
    __slots__ = ()

    def __tp_del__(self):
        if not QUIET:
            OUT.append(f"del {self.id}")
            _finalizer_weakref(self)


class NodeClr(Node):
    """A finaliser that breaks its own edges (list_clear: last item first)."""
    __slots__ = ()

    def __del__(self):
        if not QUIET:
            OUT.append(f"fin {self.id}")
        self.clear()


@_testcapi.with_tp_del
class NodeLegacy(Node):
    __slots__ = ()

    def __tp_del__(self):
        if not QUIET:
            OUT.append(f"del {self.id}")


@_testcapi.with_tp_del
class NodeBoth(Node):
    __slots__ = ()

    def __del__(self):
        if not QUIET:
            OUT.append(f"fin {self.id}")

    def __tp_del__(self):
        if not QUIET:
            OUT.append(f"del {self.id}")


class Pair:
    __slots__ = ('id', 'a', 'b', '__weakref__')


class PairFin(Pair):
    __slots__ = ()

    def __del__(self):
        if not QUIET:
            OUT.append(f"fin {self.id}")


class PairRes(Pair):
    __slots__ = ()

    def __del__(self):
        if not QUIET:
            OUT.append(f"fin {self.id}")
        resurrected.append(self)


@_testcapi.with_tp_del
class PairLegres(Pair):
    __slots__ = ()

    def __tp_del__(self):
        if not QUIET:
            OUT.append(f"del {self.id}")
            resurrected.append(self)


class PairFwr(Pair):
    __slots__ = ()

    def __del__(self):
        if not QUIET:
            OUT.append(f"fin {self.id}")
            _finalizer_weakref(self)


@_testcapi.with_tp_del
class PairLwr(Pair):
    __slots__ = ()

    def __tp_del__(self):
        if not QUIET:
            OUT.append(f"del {self.id}")
            _finalizer_weakref(self)


class PairClr(Pair):
    """A finaliser that breaks its own edges, a then b."""
    __slots__ = ()

    def __del__(self):
        if not QUIET:
            OUT.append(f"fin {self.id}")
        self.a = None
        self.b = None


@_testcapi.with_tp_del
class PairLegacy(Pair):
    __slots__ = ()

    def __tp_del__(self):
        if not QUIET:
            OUT.append(f"del {self.id}")


@_testcapi.with_tp_del
class PairBoth(Pair):
    __slots__ = ()

    def __del__(self):
        if not QUIET:
            OUT.append(f"fin {self.id}")

    def __tp_del__(self):
        if not QUIET:
            OUT.append(f"del {self.id}")


CLASSES = {
    ('new', 'plain'): Node, ('new', 'fin'): NodeFin, ('new', 'res'): NodeRes,
    ('new', 'legacy'): NodeLegacy, ('new', 'both'): NodeBoth, ('new', 'clr'): NodeClr,
    ('new', 'legres'): NodeLegres, ('new', 'fwr'): NodeFwr, ('new', 'lwr'): NodeLwr,
    ('pair', 'plain'): Pair, ('pair', 'fin'): PairFin, ('pair', 'res'): PairRes,
    ('pair', 'legacy'): PairLegacy, ('pair', 'both'): PairBoth, ('pair', 'clr'): PairClr,
    ('pair', 'legres'): PairLegres, ('pair', 'fwr'): PairFwr, ('pair', 'lwr'): PairLwr,
}
NODE_TYPES = frozenset(CLASSES.values())


def _make(cls, ident):
    o = cls()
    o.id = ident
    return o


# ------------------------------------------------------ counting helpers
# CPython keeps free lists of dead tuples (and lists, dicts, ...); PyAlloc has
# none.  They change generation 0's count: a tuple taken from an empty free
# list is a new GC allocation (count + 1) but its death puts it back on the
# free list without lowering the count; and every full collection frees the
# free lists (clear_freelists), lowering the count once per object freed
# (never below 0).  So that gc.get_count() is a function of the scenario
# alone, the runner keeps the tuple free lists stocked with exactly
# FREE_PER_SIZE tuples of each size 1-19: transient tuples (gc.get_count()'s
# result, weakref.ref()'s argument tuple, PyObject_ClearWeakRefs' tuple of
# callbacks) then come from and go back to a free list (count unchanged), and
# every full collection frees exactly FREE_TUPLES tuples at its end, after
# which the runner stocks them again (count + FREE_TUPLES).  run_pyalloc.c
# mirrors this with FREE_TUPLES untracked GC objects, freed after each full
# collection and made again.  Lists and dicts are never allocated by the
# runner while a scenario runs, so their free lists stay empty.

HOLD = []                      # the tuples and lists taken out of the free lists
TUPLE_SIZES = tuple(range(1, 20))
FREE_PER_SIZE = tuple(range(16))   # sixteen of each size (deposits in the trashcan hold some)
# The lists of gc.get_referrers / gc.get_referents / weakref.getweakrefs (the
# inspection ops) come from and go back to the list free list, stocked likewise.
FREE_LISTS = tuple(range(4))
FREE_TUPLES = len(TUPLE_SIZES) * len(FREE_PER_SIZE) + len(FREE_LISTS)  # 308: run_pyalloc.c's FREE_TUPLES


def take_free_tuples():
    """Takes FREE_PER_SIZE tuples of each size and FREE_LISTS lists out of the free
    lists (or makes them)."""
    for size in TUPLE_SIZES:
        for _ in FREE_PER_SIZE:
            HOLD.append(tuple(range(size)))
    for _ in FREE_LISTS:
        HOLD.append([])


def give_back_free_tuples():
    HOLD.clear()


# ------------------------------------------------------------------ parsing

def parse(path):
    """[(name, [op tuple, ...])] of the file; ops are pre-resolved tuples."""
    scenarios = []
    name = None
    ops = None
    with open(path) as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.split('#', 1)[0].strip()
            if not line:
                continue
            w = line.split()
            line = ' '.join(w)
            if w[0] == 'scenario':
                if name is not None:
                    sys.exit(f"{path}:{lineno}: scenario {name} has no end")
                name, ops = w[1], []
                continue
            if name is None:
                sys.exit(f"{path}:{lineno}: op outside a scenario")
            op = w[0]
            if op in ('new', 'pair'):
                ops.append((op, line, int(w[1]), CLASSES[(op, w[2])]))
            elif op in ('edge', 'pop', 'drop', 'collect'):
                ops.append((op, line) + tuple(int(x) for x in w[1:]))
            elif op in ('dropweak', 'weakget'):
                ops.append((op, line, w[1], int(w[1][1:])))
            elif op in ('referrers', 'referents', 'getweakrefs'):
                fn = {'referrers': gc.get_referrers, 'referents': gc.get_referents,
                      'getweakrefs': weakref.getweakrefs}[op]
                ops.append((op, line, tuple(int(x) for x in w[1:]), fn))
            elif op == 'wedge':
                ops.append((op, line, int(w[1]), w[2], int(w[2][1:])))
            elif op == 'set':
                ops.append((op, line, int(w[1]), w[2], int(w[3])))
            elif op == 'unset':
                ops.append((op, line, int(w[1]), w[2]))
            elif op == 'weak':
                # (op, line, name, target, callback, n of "w<n>", node cbdrop drops)
                ops.append((op, line, w[1], int(w[2]), WEAK_CALLBACKS[w[3]], int(w[1][1:]),
                            int(w[4]) if w[3] == 'cbdrop' else -1))
            elif op in ('count', 'clearres', 'cleargarbage'):
                ops.append((op, line))
            elif op == 'end':
                ops.append((op, line))
                scenarios.append((name, ops))
                name = ops = None
            else:
                sys.exit(f"{path}:{lineno}: unknown op {op!r}")
    if name is not None:
        sys.exit(f"{path}: scenario {name} has no end")
    return scenarios


# ---------------------------------------------------------------- running

def count_line():
    c = gc.get_count()
    line = f"{c[0]} {c[1]} {c[2]}"
    del c
    return line


def run_ops(it, stats0):
    """Executes the ops of one scenario (an iterator made before the freeze,
    so that iterating allocates nothing)."""
    out = OUT
    nodes = NODES
    for op in it:
        k = op[0]
        out.append("> " + op[1])
        if k == 'new' or k == 'pair':
            nodes[op[2]] = _make(op[3], op[2])
        elif k == 'edge':
            nodes[op[2]].append(nodes[op[3]])
        elif k == 'wedge':
            nodes[op[2]].append(WREFS[op[4]])
        elif k == 'pop':
            nodes[op[2]].pop()
        elif k == 'set':
            if op[3] == 'a':
                nodes[op[2]].a = nodes[op[4]]
            else:
                nodes[op[2]].b = nodes[op[4]]
        elif k == 'unset':
            if op[3] == 'a':
                nodes[op[2]].a = None
            else:
                nodes[op[2]].b = None
        elif k == 'drop':
            nodes[op[2]] = None
        elif k == 'weak':
            if op[4] is not None:
                WREFS[op[5]] = weakref.ref(nodes[op[3]], op[4])
                WRNAMES[id(WREFS[op[5]])] = op[2]
                WRNUMS[id(WREFS[op[5]])] = op[5]
                WRDROPS[id(WREFS[op[5]])] = op[6]
            else:
                WREFS[op[5]] = weakref.ref(nodes[op[3]])
        elif k == 'dropweak':
            WREFS[op[3]] = None
        elif k == 'weakget':
            target = WREFS[op[3]]()
            out.append("-> dead" if target is None else f"-> {target.id}")
            del target
        elif k == 'referrers' or k == 'referents' or k == 'getweakrefs':
            inspect_op(op[2], op[3])
        elif k == 'collect':
            n = gc.collect(op[2])
            if op[2] == 2:
                take_free_tuples()       # restock what clear_freelists freed
                give_back_free_tuples()
            out.append(f"-> {n} [{count_line()}]")
        elif k == 'count':
            out.append(f"-> {count_line()}")
        elif k == 'clearres':
            resurrected.clear()
        elif k == 'cleargarbage':
            gc.garbage.clear()
        elif k == 'end':
            end(stats0)
        else:
            raise AssertionError(k)


def inspect_op(ids, fn):
    """gc.get_referrers / gc.get_referents of 1-3 nodes (logs the node ids in the
    result's order; other objects, the classes, ints and weakrefs, are left
    out), weakref.getweakrefs of one (logs each weakref's variables, "w1=w4"
    for a shared one, or its finaliser's "f<id>", or "?")."""
    nodes = NODES
    if len(ids) == 1:
        r = fn(nodes[ids[0]])
    elif len(ids) == 2:
        r = fn(nodes[ids[0]], nodes[ids[1]])
    else:
        r = fn(nodes[ids[0]], nodes[ids[1]], nodes[ids[2]])
    line = "->"
    o = None
    for o in r:
        if fn is weakref.getweakrefs:
            line += " " + weakref_name(o)
        elif type(o) in NODE_TYPES:
            line += f" {o.id}"
    o = r = None           # no hidden reference may outlive the op
    OUT.append(line)


def weakref_name(wr):
    name = ""
    for n in range(len(WREFS)):
        if WREFS[n] is wr:
            name += ("=" if name else "") + "w" + str(n)
    if name:
        return name
    for i in range(len(FINWREFS)):
        if FINWREFS[i] is wr:
            return FWNAMES[id(wr)]
    return "?"


def end(stats0):
    alive = sorted(o.id for o in gc.get_objects() if type(o) in NODE_TYPES)
    OUT.append("alive" + "".join(f" {i}" for i in alive))
    OUT.append("garbage" + "".join(f" {o.id}" if type(o) in NODE_TYPES else " ?" for o in gc.garbage))
    stats = gc.get_stats()
    OUT.append("stats " + " ".join(
        f"{s['collections'] - s0['collections']}/{s['collected'] - s0['collected']}/"
        f"{s['uncollectable'] - s0['uncollectable']}" for s, s0 in zip(stats, stats0)))


def teardown():
    """Frees every node without logging: break every edge, drop every
    reference, collect; repeat while nodes survive (finalisers resurrect)."""
    global QUIET
    QUIET = True
    for _ in range(50):
        live = [o for o in gc.get_objects() if type(o) in NODE_TYPES]
        if not live:
            break
        for o in live:
            if isinstance(o, Node):
                o.clear()
            else:
                o.a = None
                o.b = None
        o = None
        live = None
        NODES[:] = [None] * len(NODES)
        WREFS[:] = [None] * len(WREFS)
        WRNAMES.clear()
        WRNUMS.clear()
        WRDROPS.clear()
        FINWREFS.clear()
        FWNAMES.clear()
        resurrected.clear()
        gc.garbage.clear()
        gc.collect()
    else:
        sys.exit("run_python.py: teardown could not free every node")
    WREFS[:] = [None] * len(WREFS)
    WRNAMES.clear()
    WRNUMS.clear()
    WRDROPS.clear()
    FINWREFS.clear()
    FWNAMES.clear()
    QUIET = False


def run_scenario(name, ops, out):
    OUT.clear()
    ids = [op[2] for op in ops if op[0] in ('new', 'pair')]
    wnums = [op[5] for op in ops if op[0] == 'weak']
    if len(NODES) <= max(ids, default=0):
        NODES.extend([None] * (max(ids, default=0) + 1 - len(NODES)))
    if len(WREFS) <= max(wnums, default=0):
        WREFS.extend([None] * (max(wnums, default=0) + 1 - len(WREFS)))
    del ids, wnums
    # Everything the scenario run needs is made before the collection below,
    # whose clear_freelists then leaves every free list empty.
    stats0 = [dict(s) for s in gc.get_stats()]
    it = iter(ops)
    n = gc.collect()
    if n != 0:
        sys.exit(f"run_python.py: before scenario {name}: gc.collect() found {n} objects "
                 "(the runner made garbage of its own)")
    stats0[2]['collections'] += 1    # that collection is not the scenario's
    take_free_tuples()
    give_back_free_tuples()          # the tuple free lists: FREE_PER_SIZE of each size
    gc.freeze()          # the runner's objects (and it) leave the generations; count[0] = 0
    run_ops(it, stats0)
    del it
    teardown()
    out.write(f"scenario {name}\n")
    for line in OUT:
        out.write(line + "\n")
    out.write("done\n")
    out.flush()


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    scenarios = parse(sys.argv[1])
    out = open(sys.argv[2], 'w') if len(sys.argv) == 3 else sys.stdout
    impl = sys.implementation
    v = sys.version_info
    out.write(f"oracle Python {v.major}.{v.minor}.{v.micro} ({impl.name})\n")
    gc.collect()
    for name, ops in scenarios:
        run_scenario(name, ops, out)
    out.flush()


if __name__ == '__main__':
    main()
