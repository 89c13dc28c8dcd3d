#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""seedmap.py: Documentation/seed-map.rst as data, and an ftrace
function_graph record of xtcp rendered in the seed's shape.

Used by scripts/xtcp-trace, selftests/trace.sh and the demo; import it
(``sys.path.insert(0, "scripts")``) or run it:

  seedmap.py map                       the seed steps and their xtcp functions
  seedmap.py check                     seed-map.rst against the seed and mod/
  seedmap.py render DIR [--all]        DIR/trace.raw in the seed's shape
  seedmap.py tap DIR                   TAP: every mapped step, in order
  seedmap.py report DIR [--all]        render (also to DIR/render.txt) and
                                       tap to DIR/tap.txt, in one run

DIR is what ``scripts/xtcp-trace --guest`` leaves: ``trace.raw`` (the
function_graph trace), ``available`` (the module's functions from
available_filter_functions) and ``kallsyms`` (its ``t``/``T`` symbols).
"""

import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEED_MAP = os.path.join(ROOT, "Documentation", "seed-map.rst")
SEED = "/work/shared/seed/accept-path.txt"

FUNC_RE = re.compile(r"\b(_*xtcp_\w+)\s*\(")
# A step that 6.1 and xtcp take later than the seed's kernel did says so
# in its notes: "After step 43 in 6.1"; one that xtcp alone takes later,
# "After step 116 in xtcp".
AFTER_RE = re.compile(r"\bAfter step (\d+) in (?:6\.1|xtcp)\b")
# GCC's clones keep the function's name before the dot.
CLONE_RE = re.compile(r"\.(?:part|isra|constprop|cold|lto_priv)(?:\.\d+)*$")


# Steps whose function has an out-of-line copy that ftrace sees, but is
# inlined at the call site the seed's path takes (objdump -dr of xtcp.ko
# shows no call there): {seed line: function}; their steps are SKIPs.
# Empty: every function seed-map.rst names is XTCP_SEED (noinline,
# mod/xtcp.h).  Without an entry here, such a function fails its step
# ("not in the trace, though traceable").
CALLSITE_INLINED = {}

# The functions seed-map.rst names that ftrace cannot see at all (no
# symbol: inlined into every caller).  Empty, for the same reason.  A
# mapped function that is missing from available_filter_functions fails
# tap()'s last line unless it is here, and one here that ftrace sees
# fails it too: the list says what is true of the build.
UNTRACEABLE = set()


def base_name(sym):
    return CLONE_RE.sub("", sym)


class Step:
    """One row of a seed-map.rst list-table.

    line: the seed line number (None in the tables after the seed);
    seed: the seed step's text (or the stock step's); funcs: the xtcp
    functions the second column names, in order (empty for "--");
    xcell: that column verbatim; files, notes; section: the table's
    heading.
    """

    def __init__(self, section, cells):
        self.section = section
        first = cells[0]
        m = re.match(r"(\d+)\s+(.*)", first, re.S)
        self.line = int(m.group(1)) if m else None
        text = m.group(2) if m else first
        self.seed = " ".join(text.replace("``", "").split())
        self.xcell = " ".join(cells[1].split()) if len(cells) > 1 else ""
        self.files = cells[2].strip() if len(cells) > 2 else ""
        self.notes = " ".join(cells[3].split()) if len(cells) > 3 else ""
        if self.xcell.startswith("--"):
            self.funcs = []
        else:
            self.funcs = []
            for f in FUNC_RE.findall(self.xcell):
                if f not in self.funcs:
                    self.funcs.append(f)
        m = AFTER_RE.search(self.notes)
        self.after = int(m.group(1)) if m else None

    @property
    def root(self):
        """A seed line without an arrow naming a function (tcp_v4_rcv, not
        TCP_ESTABLISHED): a new call, not one still running."""
        return (self.line is not None and
                re.fullmatch(r"[a-z_][a-z0-9_]*", self.seed) is not None)

    def __repr__(self):
        return "Step(%s, %r, %r)" % (self.line, self.seed, self.funcs)


def parse_seed_map(path=SEED_MAP):
    """All rows of the list-tables of seed-map.rst, in document order."""
    with open(path) as f:
        lines = f.read().split("\n")
    steps = []
    section = ""
    cells = None
    header = False
    in_table = False

    def flush():
        if cells is not None and not header:
            steps.append(Step(section, cells))

    for i, ln in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if ln and re.fullmatch(r"-+", nxt) and len(nxt) >= len(ln.rstrip()):
            section = ln.strip()
            continue
        if ln.startswith(".. list-table::"):
            flush()
            cells, header, in_table = None, False, True
            continue
        if not in_table:
            continue
        m = re.match(r"   \* - ?(.*)", ln)
        if m:
            flush()
            cells = [m.group(1)]
            header = False
            continue
        m = re.match(r"     - ?(.*)", ln)
        if m and cells is not None:
            cells.append(m.group(1))
            continue
        if ln.startswith("       ") and cells is not None:
            cells[-1] += " " + ln.strip()
            continue
        if ln.strip() == "" or ln.startswith("   :"):
            if ln.strip() == "" and cells is not None and not nxt.startswith(" "):
                flush()
                cells, in_table = None, False
            continue
        flush()
        cells, in_table = None, False
    flush()
    # the header rows
    return [s for s in steps if s.seed not in ("seed step", "stock step")]


def seed_steps(steps=None):
    """The rows with a seed line number, in seed order."""
    steps = parse_seed_map() if steps is None else steps
    return sorted((s for s in steps if s.line is not None), key=lambda s: s.line)


def mapped_steps(steps=None):
    """The seed steps that seed-map maps to an xtcp function, in the
    order 6.1 and xtcp take them: the seed's, except that a step whose
    notes say "After step N in 6.1" comes right after step N."""
    order = [s for s in seed_steps(steps) if s.funcs]
    for s in [s for s in order if s.after]:
        order.remove(s)
        i = next((i for i, t in enumerate(order) if t.line == s.after), None)
        if i is None:
            order.append(s)
        else:
            while i + 1 < len(order) and order[i + 1].after == s.after:
                i += 1
            order.insert(i + 1, s)
    return order


def read_seed(path=SEED):
    with open(path) as f:
        return [ln.rstrip("\n") for ln in f]


# ---------------------------------------------------------------------------
# function_graph output

GRAPH_RE = re.compile(
    r"^\s*(?P<cpu>\d+)\)\s+(?P<proc>.*?)\s+\|"      # " 1)  nc-215  |"
    r"(?P<dur>[^|]*)\|\s*(?P<body>.*)$")
CALL_RE = re.compile(r"^(?P<func>[\w.]+)(?: \[\w+\])?\(\)\s*(?P<end>[{;])")
CLOSE_RE = re.compile(r"^\}(?:\s*/\*\s*(?P<func>[\w.]+)(?: \[\w+\])?\s*\*/)?")


class Call:
    """One recorded function entry: index in the trace, cpu, process,
    function, depth among the traced functions, parent Call."""

    def __init__(self, idx, cpu, proc, func, depth, parent):
        self.idx, self.cpu, self.proc = idx, cpu, proc
        self.func, self.depth, self.parent = func, depth, parent
        self.children = 0

    def ancestors(self):
        c = self
        while c is not None:
            yield c
            c = c.parent


def task_key(cpu, proc):
    """function_graph nests calls per task (its return stack is the
    task's; softirq work nests in the task it interrupted): the proc
    column's pid, or for the idle tasks (pid 0, one per CPU) the CPU."""
    pid = proc.rsplit("-", 1)[-1]
    return (cpu, proc) if pid == "0" else proc


def parse_graph(path):
    """The calls of a function_graph trace (options funcgraph-proc,
    funcgraph-tail), in order.  Nesting is kept per task: a task that
    sleeps in a traced function (xtcp_accept()) and wakes on another CPU
    closes it there, and what runs on its CPU meanwhile is not inside
    it."""
    calls = []
    stacks = {}
    with open(path, errors="replace") as f:
        for ln in f:
            m = GRAPH_RE.match(ln)
            if not m:
                continue
            cpu = int(m.group("cpu"))
            body = m.group("body").strip()
            stack = stacks.setdefault(task_key(cpu, m.group("proc").strip()), [])
            c = CALL_RE.match(body)
            if c:
                func = base_name(c.group("func"))
                parent = stack[-1] if stack else None
                call = Call(len(calls), cpu, m.group("proc").strip(), func,
                            len(stack), parent)
                if parent:
                    parent.children += 1
                calls.append(call)
                if c.group("end") == "{":
                    stack.append(call)
                continue
            c = CLOSE_RE.match(body)
            if c and stack:
                name = c.group("func") and base_name(c.group("func"))
                if name and stack[-1].func != name:
                    # an entry was lost: unwind to the function named
                    while stack and stack[-1].func != name:
                        stack.pop()
                if stack:
                    stack.pop()
    return calls


def read_names(path):
    """Function names of a file with one "name [mod]" or "addr t name
    [mod]" per line."""
    names = set()
    try:
        with open(path) as f:
            for ln in f:
                w = ln.split()
                if len(w) >= 3 and w[1] in "tTwW" and len(w[1]) == 1:
                    names.add(base_name(w[2]))
                elif w:
                    names.add(base_name(w[0]))
    except OSError:
        pass
    return names


# ---------------------------------------------------------------------------
# Matching the seed's steps to the recorded calls

class Match:
    """Where each mapped step was found: at[step.line] = (index in
    calls, how) with how "call" (the function was entered there) or
    "running" (the function is still running there: the seed lists the
    step after a callee's, as its tcp_rcv_state_process after tcp_ack);
    missing[step.line] = reason."""

    def __init__(self):
        self.at = {}
        self.missing = {}
        self.untraceable = {}


def match(steps, calls, available, inlined=None):
    """Find the mapped seed steps in the calls, in seed order.

    A step is found when each traceable function its row names is, in
    the row's order, either entered at or after the position where the
    previous step was found, or still running there (one of that call's
    ancestors, the call included).  A seed root line (tcp_v4_rcv) needs
    a new entry, and the steps after it, up to the next root line, are
    looked for inside that call: the first entry in which all of them are
    found is the root's (the SYN-ACK reaching the client's stock TCP
    passes through xtcp_v4_rcv() too, before the third ACK does); if
    none has them all, the first entry is taken and what is missing is
    reported from there.  Greedy earliest matching finds an
    order-preserving embedding whenever one exists.  Functions not in
    ``available`` (inlined, static inline) cannot appear: a step with
    only such functions is reported in ``untraceable``, never matched;
    so are the functions that ``inlined`` (default CALLSITE_INLINED)
    names for a step: they have an out-of-line copy that ftrace sees,
    but are inlined at the call site the seed's path takes.
    """
    inlined = CALLSITE_INLINED if inlined is None else inlined
    res = Match()
    by_func = {}
    for c in calls:
        by_func.setdefault(c.func, []).append(c.idx)
    order = mapped_steps(steps)
    wanted = []
    for s in order:
        seen = set(available) - {inlined.get(s.line)}
        funcs = [f for f in s.funcs if f in seen]
        gone = [f for f in s.funcs if f not in seen]
        if gone:
            res.untraceable[s.line] = gone
        if funcs:
            wanted.append((s, funcs))
    pos = 0
    i = 0
    while i < len(wanted):
        j = i + 1
        while j < len(wanted) and not wanted[j][0].root:
            j += 1
        group = wanted[i:j]
        s, funcs = group[0]
        if not s.root:
            # the steps before the first root line: bind() and listen()
            pos = _match_group(group, calls, by_func, pos, None, res)
            i = j
            continue
        roots = [k for k in by_func.get(funcs[0], []) if k >= pos]
        within = None
        for r in roots:
            trial = Match()
            _match_group(group, calls, by_func, r, r, trial)
            if not trial.missing:
                within = r
                break
        pos = _match_group(group, calls, by_func, pos if within is None else within,
                           within, res)
        i = j
    return res


def _inside(call, root):
    return root is None or any(a.idx == root for a in call.ancestors())


def _match_group(group, calls, by_func, pos, within, res):
    """Match the (step, traceable functions) of ``group`` from call
    ``pos`` on, only in the subtree of call ``within`` if not None; record
    in ``res``; return the position of the last step found."""
    for s, funcs in group:
        p = pos
        how = None
        reason = None
        for f in funcs:
            running = None
            if calls and not s.root and p < len(calls):
                running = next((a for a in calls[p].ancestors()
                                if a.func == f and _inside(a, within)), None)
            if running is not None:
                how = "running"
                continue
            later = [k for k in by_func.get(f, [])
                     if (k > p or (k == p and how is None)) and
                     _inside(calls[k], within)]
            if not later:
                if by_func.get(f):
                    reason = "%s() only before seed line %s's counterpart" % (
                        f, last_line(res, p))
                else:
                    reason = ("%s() not in the trace, though traceable: not "
                              "called, or inlined where it is called" % f)
                break
            p = later[0]
            how = "call"
        if reason:
            res.missing[s.line] = reason
            continue
        res.at[s.line] = (p, how)
        pos = p
    return pos


def last_line(res, p):
    lines = [ln for ln, (i, _) in res.at.items() if i == p]
    return max(lines) if lines else "?"


def why_untraceable(func, kallsyms, line=None):
    if CALLSITE_INLINED.get(line) == func:
        return ("inlined at the seed path's call site (an out-of-line copy "
                "is traceable)")
    if func in kallsyms:
        return "in kallsyms but not in available_filter_functions"
    for root, _, files in os.walk(os.path.join(ROOT, "mod")):
        for fn in sorted(files):
            if not fn.endswith((".c", ".h")):
                continue
            with open(os.path.join(root, fn)) as f:
                text = f.read()
            if re.search(r"static inline[^;{]*\b%s\(" % re.escape(func), text):
                return "static inline in %s: inlined, no symbol" % fn
            if re.search(r"^[\w \*]*\b%s\([^;]*$" % re.escape(func), text, re.M):
                return "defined in %s, inlined by the compiler (no symbol)" % fn
    return "not defined in mod/"


# ---------------------------------------------------------------------------
# Rendering

def load_run(d):
    steps = parse_seed_map()
    calls = parse_graph(os.path.join(d, "trace.raw"))
    available = read_names(os.path.join(d, "available"))
    kallsyms = read_names(os.path.join(d, "kallsyms"))
    return steps, calls, available, kallsyms


def render(d, show_all=False, out=sys.stdout, width=58, run=None):
    steps, calls, available, kallsyms = run or load_run(d)
    res = match(steps, calls, available)
    seed = {s.line: s for s in seed_steps(steps)}
    after = {}
    for s in steps:
        if s.line is None:
            for f in s.funcs:
                after.setdefault(f, s.seed)
    anchored = {}
    for line, (i, how) in res.at.items():
        anchored.setdefault(i, []).append((line, how))
    keep = set()
    last = max(anchored) if anchored else -1
    for i in anchored:
        keep.update(a.idx for a in calls[i].ancestors())
    out.write("%-*s  %s\n" % (width, "xtcp, recorded (function_graph, :mod:xtcp)",
                              "seed line it mirrors"))
    out.write("%-*s  %s\n" % (width, "-" * 42, "-" * 30))
    ctx = None
    hidden = 0
    for c in calls:
        if not show_all and c.idx not in keep:
            hidden += 1
            continue
        if (c.cpu, c.proc) != ctx:
            ctx = (c.cpu, c.proc)
            out.write("# cpu %d, %s\n" % (c.cpu, c.proc))
        left = c.func if c.depth == 0 else "  " * (c.depth - 1) + "-> " + c.func
        rows = sorted(anchored.get(c.idx, []))
        notes = ["%3d %s%s" % (ln, seed[ln].seed,
                               "   (still in %s)" % ", ".join(
                                   f for f in seed[ln].funcs if f in available)
                               if how == "running" and seed[ln].funcs[0] != c.func
                               else "")
                 for ln, how in rows]
        if not notes and show_all and c.func in after:
            notes = ["    (after the seed) %s" % after[c.func]]
        if not notes:
            out.write(left + "\n")
            continue
        if len(left) > width:
            out.write(left + "\n")
            left = ""
        out.write("%-*s  %s\n" % (width, left, notes[0]))
        for n in notes[1:]:
            out.write("%-*s  %s\n" % (width, "", n))
        if c.idx == last and not show_all:
            rest = len(calls) - c.idx - 1
            if rest:
                out.write("# ... %d more calls after the seed's last step "
                          "(--all shows them)\n" % rest)
            break
    if hidden and not show_all:
        out.write("# %d calls that map to no seed step not shown (--all)\n"
                  % hidden)
    report_missing(res, seed, kallsyms, out)
    return res


def report_missing(res, seed, kallsyms, out):
    if res.missing:
        out.write("\nSeed steps mapped to an xtcp function that did not appear "
                  "in order:\n")
        for ln in sorted(res.missing):
            out.write("%3d %-40s %s\n" % (ln, seed[ln].seed, res.missing[ln]))
    if res.untraceable:
        out.write("\nNot traceable (inlined: not in available_filter_functions, "
                  "or at this call site):\n")
        for ln in sorted(res.untraceable):
            for f in res.untraceable[ln]:
                full = ln not in res.at and ln not in res.missing
                out.write("%3d %-40s %s(): %s%s\n" % (
                    ln, seed[ln].seed, f, why_untraceable(f, kallsyms, ln),
                    "" if not full else "; the step is not checked"))
    n = len(res.at)
    out.write("\n%d of %d mapped seed steps found in order, %d missing, "
              "%d only untraceable\n" % (
                  n, n + len(res.missing) + sum(
                      1 for ln in res.untraceable
                      if ln not in res.at and ln not in res.missing),
                  len(res.missing),
                  sum(1 for ln in res.untraceable
                      if ln not in res.at and ln not in res.missing)))


def tap(d, out=sys.stdout, run=None):
    """TAP lines: the broken traces rejected, one line per mapped seed
    step (a SKIP only for a function that UNTRACEABLE or CALLSITE_INLINED
    names), and the mapped functions ftrace cannot see are exactly
    UNTRACEABLE; returns the failures."""
    steps, calls, available, kallsyms = run or load_run(d)
    res = match(steps, calls, available)
    fails = 0
    n = 0
    if not calls:
        out.write("not ok 1 the trace holds xtcp calls # none recorded\n1..1\n")
        return 1
    for what, bad, line in mutants(calls):
        n += 1
        r = match(steps, bad, available)
        if line in r.missing:
            out.write("ok %d the check fails on the trace with %s # %s\n" % (
                n, what, "; ".join("seed %d: %s" % (ln, r.missing[ln])
                                   for ln in sorted(r.missing))))
        else:
            fails += 1
            out.write("not ok %d the check fails on the trace with %s\n" % (n, what))
    for s in mapped_steps(steps):
        n += 1
        name = "seed %d %s: %s" % (s.line, s.seed, ", ".join(s.funcs))
        if s.line in res.at:
            i, how = res.at[s.line]
            note = "call %d%s" % (i, ", still running" if how == "running" else "")
            if s.line in res.untraceable:
                note += "; not traceable: " + ", ".join(res.untraceable[s.line])
            out.write("ok %d %s # %s\n" % (n, name, note))
        elif s.line in res.missing:
            fails += 1
            out.write("not ok %d %s # %s\n" % (n, name, res.missing[s.line]))
        else:
            gone = res.untraceable[s.line]
            known = all(f in UNTRACEABLE or CALLSITE_INLINED.get(s.line) == f
                        for f in gone)
            fails += not known
            out.write("%s %d %s # %snot traceable: %s\n" % (
                "ok" if known else "not ok", n, name, "SKIP " if known else "",
                "; ".join("%s(): %s" % (f, why_untraceable(f, kallsyms, s.line))
                          for f in gone)))
    n += 1
    hidden = sorted({f for s in mapped_steps(steps) for f in s.funcs
                     if f not in available})
    ok = set(hidden) == UNTRACEABLE
    fails += not ok
    out.write("%s %d the mapped functions ftrace cannot see are the known "
              "ones (seedmap.UNTRACEABLE) # %s%s\n" % (
                  "ok" if ok else "not ok", n, " ".join(hidden) or "none",
                  "" if ok else "; expected: %s" % (
                      " ".join(sorted(UNTRACEABLE)) or "none")))
    out.write("1..%d\n" % n)
    return fails


def report(d, show_all=False):
    """render() to stdout and DIR/render.txt, tap() to DIR/tap.txt, the
    trace read once; returns tap()'s failures."""
    run = load_run(d)
    with open(os.path.join(d, "render.txt"), "w") as f:
        render(d, show_all, out=f, run=run)
    with open(os.path.join(d, "render.txt")) as f:
        sys.stdout.write(f.read())
    with open(os.path.join(d, "tap.txt"), "w") as f:
        return tap(d, out=f, run=run)


def mutants(calls):
    """Broken copies of a good trace that match() must reject: a mapped
    function never called (the third ACK's xtcp_check_req() dropped, its
    callees kept), and a call out of order (the SYN-ACK's
    xtcp_make_synack() moved before the bind).  Yields (description,
    calls, the seed line that must then be missing)."""
    def rebuilt(seq, roots=()):
        new, made = [], {}
        for c in seq:
            p = None
            if c.idx not in roots:
                p = next((made[a.idx] for a in c.ancestors()
                          if a is not c and a.idx in made), None)
            d = Call(len(new), c.cpu, c.proc, c.func,
                     p.depth + 1 if p else 0, p)
            made[c.idx] = d
            new.append(d)
        return new
    yield ("xtcp_check_req() removed",
           rebuilt(c for c in calls if c.func != "xtcp_check_req"), 66)
    moved = [c for c in calls if c.func == "xtcp_make_synack"]
    yield ("xtcp_make_synack() moved first",
           rebuilt(moved + [c for c in calls if c.func != "xtcp_make_synack"],
                   {c.idx for c in moved}), 54)


def check(out=sys.stdout):
    """seed-map.rst against the seed file and mod/; returns problems."""
    steps = parse_seed_map()
    problems = []
    seed = read_seed()
    byline = {}
    for s in seed_steps(steps):
        if s.line in byline:
            problems.append("seed line %d mapped twice" % s.line)
        byline[s.line] = s
    for i, text in enumerate(seed, 1):
        s = byline.get(i)
        if s is None:
            problems.append("seed line %d (%s) not mapped" % (i, text))
        elif " ".join(text.split()) != s.seed:
            problems.append("seed line %d is %r, seed-map says %r" % (i, text, s.seed))
    src = ""
    for fn in sorted(os.listdir(os.path.join(ROOT, "mod"))):
        if fn.endswith((".c", ".h")):
            with open(os.path.join(ROOT, "mod", fn)) as f:
                src += f.read()
    for s in steps:
        for f in s.funcs:
            if not re.search(r"^[^;=]*\b%s\([^;]*$" % re.escape(f), src, re.M):
                problems.append("%s (%s) names %s(), not defined in mod/" % (
                    "seed line %d" % s.line if s.line else s.section, s.seed, f))
    for p in problems:
        out.write(p + "\n")
    return problems


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        sys.stdout.write(__doc__)
        return 0 if len(argv) >= 2 else 2
    cmd = argv[1]
    if cmd == "map":
        for s in seed_steps():
            print("%3d %-45s %s" % (s.line, s.seed, " ".join(s.funcs) or s.xcell))
        return 0
    if cmd == "check":
        return 1 if check() else 0
    if cmd == "render" and len(argv) >= 3:
        render(argv[2], show_all="--all" in argv[3:])
        return 0
    if cmd == "tap" and len(argv) == 3:
        return 1 if tap(argv[2]) else 0
    if cmd == "report" and len(argv) >= 3:
        return 1 if report(argv[2], show_all="--all" in argv[3:]) else 0
    sys.stderr.write("usage: seedmap.py map|check|render DIR [--all]|tap DIR|"
                     "report DIR [--all]\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
