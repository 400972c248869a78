"""`make bench`: plain serial `nbgrader autograde` against the grading pipeline, fresh kernels and fast path.

    python -m autograder.bench [--count K] [--workers N] [--rows plain,fresh,fast] [--snapshot]
                               [--keep DIR] [--json FILE] [--against EARLIER.json]

Grades K submissions made from the bundled examples (examples/submissions, cycled, the
pathological ones left out: they measure timeouts, not throughput), each way starting from a
gradebook that already holds the assignment. The rows (--rows, comma-separated; default
plain,fresh,fast; `all` for every one):

  plain       `nbgrader autograde <assignment>` over all K, one process, serially;
  fresh       the pipeline (python -m autograder grade) with N workers and --fresh-kernels: a fresh
              interpreter per kernel;
  fast        the pipeline with N workers on its default path (kernels forked from a template
              process where bubblewrap works);
  plain-skip  plain nbgrader with the cells the course tags skip-when-grading tagged skip-execution in
              every submission (nbclient skips them): how plain nbgrader could skip them too;
  one-worker  the pipeline's default path with 1 worker;
  dask        the default path on Dask (--scheduler): `dask scheduler` and N `dask worker`
              processes started here before the clock starts (a cluster stands before a run), so
              the difference with `fast` is what Dask adds;
  unconfined  the default path with N workers and unconfined kernels: what confinement costs.

The pipeline's rows include everything it does (outside verification, cleaned feedback, result
files, the merged gradebook, grades.csv and the class report); plain nbgrader's only autogrades.
The bench checks that every cell's nbgrader score is the same in all rows and exits 1 otherwise.

How it counts (docs/performance.md says more):

* CPU: each command runs in a cgroup of its own, so every process it starts counts, those
  inside bubblewrap's PID namespaces too (os.times() where no cgroup can be made, said in the
  output). A sampler thread (outside the cgroup) reads the cgroup's CPU every --interval
  seconds (0.2), with the CPU of each process in it (/proc/<pid>/stat).
* Steady CPU per student: the CPU the whole cgroup used between the N-th and the (K-N+1)-th
  student's completion (every worker busy, its start-up behind it), divided by the students
  completed in between. A completion is the moment the student's result file was written
  (OUT/results/<student>.json; for plain nbgrader, its last autograded notebook); the cgroup's
  CPU at that moment is interpolated between samples.
* Fixed costs: CPU = per run + workers x per worker + K x steady. Per worker: what a worker's
  process tree (the worker, its verification helper, its kernel template, its kernels) used in
  the run beyond its students' steady cost (its start-up, its first student's warm-up, its exit),
  its part before its first student was staged shown apart; per run: the rest (the main process
  and the processes outside the workers beyond their steady part). The main process's own CPU
  is printed apart.
* By process: the steady CPU per student split by kind of process (main, workers, kernels,
  templates, verification, other; unseen: used after a process's last sample).
* Memory: PSS (sum of Pss from /proc/<pid>/smaps_rollup, so a page shared by forked processes
  counts once), sampled every --interval seconds. Per worker: the peak of what the workers use
  together (their process trees, kernels in their boxes included, and what serves them all alike:
  the fork server they are forked from, the template server and the templates it forks for them),
  divided by the workers. In all: the peak of everything in the cgroup.
* Phases per student, wall seconds: from the result files, their step timings and (when the
  grading code writes them) their per-notebook phases: kernel start, import cells, all cells,
  shutdown; import and cell times from nbclient's stamps in the autograded notebooks otherwise
  (plain nbgrader). "n/a" where a run does not record them.

--snapshot runs all this on a copy of the last commit: the grader stops a run whose own files
change, so in a tree others edit, a long run needs it. --against compares each row's CPU per
student with the same row of an earlier run's --json (at 200 students against 40, say).
"""
import argparse
import ast
import contextlib
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from .grading import confine, gradebook, record
from .grading.autograde import skipped_sources
from .grading.config import COURSE_ROOT, GradingConfig

ASSIGNMENT = "ch02_fundamentals"
EXAMPLES = COURSE_ROOT / "examples" / "submissions"
SKIP = ("broken_json", "kernel_dies", "runaway", "tampering")   # incidents, not throughput
ROWS = ("plain", "fresh", "fast", "plain-skip", "one-worker", "dask", "unconfined")
DEFAULT_ROWS = ("plain", "fresh", "fast")
CLOCK_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
# the columns of the phase table: (title, how a student's value is found); see phases_of
PHASES = ("kernel start", "imports", "own cells", "shutdown", "autograde", "verification", "feedback",
          "other steps", "total")


def example_sources(examples: Path = EXAMPLES, assignment: str = ASSIGNMENT) -> list[Path]:
    """The bundled students who handed in this assignment (examples of other chapters have no folder for it),
    the pathological ones left out."""
    return sorted(p for p in examples.iterdir()
                  if (p / assignment).is_dir() and not any(s in p.name for s in SKIP))


def make_submissions(folder: Path, count: int, examples: Path = EXAMPLES, assignment: str = ASSIGNMENT) -> list[str]:
    sources = example_sources(examples, assignment)
    students = []
    for index in range(count):
        student = f"bench_{index + 1:02d}"
        shutil.copytree(sources[index % len(sources)] / assignment, folder / student / assignment)
        students.append(student)
    return students


# ---------------------------------------------------------------------------------------------------
# /proc: the pure parsers (tests/test_bench.py) and their thin readers


def parse_smaps_rollup(text: str) -> dict:
    """{"Rss": kB, "Pss": kB, ...} from /proc/<pid>/smaps_rollup (its first line, the range, is skipped)."""
    values = {}
    for line in text.splitlines():
        key, colon, rest = line.partition(":")
        parts = rest.split()
        if colon and " " not in key and parts and parts[0].isdigit():
            values[key] = int(parts[0])
    return values


@dataclass(frozen=True)
class ProcStat:
    ppid: int
    own: float         # CPU seconds of the process itself (user + system)
    reaped: float      # CPU seconds of the children it has waited for (cutime + cstime)


def parse_stat(text: str, tick: int = CLOCK_TICK) -> ProcStat:
    """/proc/<pid>/stat; the command name may hold spaces and parentheses, so fields are counted after its
    last ')'."""
    fields = text[text.rindex(")") + 2:].split()
    utime, stime, cutime, cstime = (int(fields[i]) for i in (11, 12, 13, 14))
    return ProcStat(int(fields[1]), (utime + stime) / tick, (cutime + cstime) / tick)


def read_stat(pid: int):
    try:
        return parse_stat(Path(f"/proc/{pid}/stat").read_text())
    except (OSError, ValueError, IndexError):
        return None


def read_pss(pid: int):
    """PSS in kB, or None if the process is gone; "denied" if it may not be read."""
    try:
        return parse_smaps_rollup(Path(f"/proc/{pid}/smaps_rollup").read_text()).get("Pss", 0)
    except PermissionError:
        return "denied"
    except (OSError, ValueError):
        return None


def read_cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def owners(stats: dict, roots: set, namespaces: dict | None = None, host: str | None = None) -> dict:
    """{pid: the nearest of `roots` among the pid and its ancestors (or None)}, following ppid within `stats`.

    A process whose parents lead elsewhere but that lives in the PID namespace of a process a root owns (not
    the host's: `namespaces` {pid: namespace}) belongs to that root too: a kernel forked by a template joins
    its box's namespace, and once the process that forked it exits, the machine's init adopts it."""
    found = {}
    for pid in stats:
        chain, current = [], pid
        while current in stats and current not in found and current not in roots:
            chain.append(current)
            current = stats[current].ppid
        owner = current if current in roots else found.get(current)
        for member in chain:
            found[member] = owner
        if pid in roots:
            found[pid] = pid
    if namespaces:
        boxes = {namespaces[p]: o for p, o in found.items() if o is not None and namespaces.get(p) not in (None, host)}
        for pid, owner in found.items():
            if owner is None and namespaces.get(pid) in boxes:
                found[pid] = boxes[namespaces[pid]]
    return found


ROLES = ("main", "workers", "kernels", "templates", "verification", "other")
# In the command lines of what serves all local workers alike: the process they are forked from, and the
# template server with the templates it forks for them (outside any worker's tree).
FORK_SERVER, TEMPLATE = "multiprocessing.forkserver", "kernel_template"


def role(pid: int, stats: dict, main: int, owner: dict, cmdline) -> str:
    """What a process is for, from its owner (owners()), its place in the tree and its command line
    (`cmdline(pid)`): main (the command itself; plain nbgrader's one process), workers, kernels (the boxes and
    the kernels in them, fresh or forked), templates (a worker's kernel template), verification (a worker's
    helper and its sandboxes), other (the resource tracker, nbgrader's set-up commands, a Dask cluster)."""
    root = owner.get(pid)
    if pid == main:
        return "main"
    if root is None:
        line = cmdline(pid)
        return "workers" if FORK_SERVER in line else "templates" if TEMPLATE in line else "other"
    if root == pid:
        return "workers"
    chain, current = [], pid
    while current in stats and current != root and len(chain) < 64:
        chain.append(current)
        current = stats[current].ppid
    if current != root:          # adopted from outside the tree, in a worker's box: a forked kernel
        return "kernels"
    if any("spawn_main" in cmdline(p) for p in chain):
        return "verification"
    if stats[pid].ppid == root and "kernel_template" in cmdline(pid):
        return "templates"
    return "kernels"


def pss_of_workers(pss: dict, owner: dict, shared: set) -> int:
    """kB: the PSS of every worker's process tree (`owner`: owners()) and of the processes that serve all
    workers alike (`shared`: their fork server, the template server and its templates)."""
    return sum(kb for pid, kb in pss.items() if owner.get(pid) is not None or pid in shared)


def read_namespace(pid: int):
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return None


# ---------------------------------------------------------------------------------------------------
# the cgroup and the sampler


class CpuMeter:
    """CPU seconds of a command and of every process it starts, from a cgroup made for it.

    os.times() misses processes that their command never reaps itself: bubblewrap's PID
    namespaces reap their own, and a box killed at the end of a notebook takes its init
    with it. A cgroup counts them all. Where none can be made (no writable cgroup file
    system), it falls back on os.times() and says so."""

    ROOTS = (("/sys/fs/cgroup/unified", "cpu.stat"), ("/sys/fs/cgroup", "cpu.stat"),
             ("/sys/fs/cgroup/cpuacct", "cpuacct.usage"))

    def __init__(self):
        self.root, self.stat = next(((Path(r), f) for r, f in self.ROOTS
                                     if (Path(r) / "cgroup.procs").is_file() and os.access(r, os.W_OK)), (None, None))
        self.how = "a cgroup per command" if self.root else "os.times (sandboxed processes not counted)"

    @contextlib.contextmanager
    def group(self):
        """A Group: `enter` (a preexec_fn that puts a process into a fresh cgroup), `cpu()` (CPU seconds used
        in it so far) and `members()` (its processes). Without a cgroup: enter is None, cpu() is NaN and
        members() is empty."""
        if not self.root:
            yield Group(None, lambda: float("nan"), lambda: [])
            return
        path = self.root / f"autograder-bench-{os.getpid()}-{time.monotonic_ns()}"
        path.mkdir()
        procs = path / "cgroup.procs"
        try:
            yield Group(lambda: procs.write_text(str(os.getpid())), lambda: self.cpu_seconds(path),
                        lambda: [int(p) for p in procs.read_text().split()])
        finally:
            remove_group(path)

    def cpu_seconds(self, group):
        text = (group / self.stat).read_text()
        if self.stat == "cpuacct.usage":
            return int(text) / 1e9
        return int(dict(line.split() for line in text.splitlines())["usage_usec"]) / 1e6


@dataclass
class Group:
    enter: object
    cpu: object
    members: object

    def wait_empty(self, seconds=20.0):
        """Until the command's last processes (a worker's helper, a box) have exited, at most `seconds`."""
        deadline = time.monotonic() + seconds
        while self.members() and time.monotonic() < deadline:
            time.sleep(0.1)


def remove_group(group: Path, seconds=20.0):
    """rmdir a cgroup once the processes of its command are gone: the last of them (a worker's helper,
    a cluster's processes) may still be exiting when the command returns."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            group.rmdir()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


METER = CpuMeter()


@dataclass
class WorkerTrack:
    startup: float | None = None       # CPU s of its tree before its first student was staged
    before: float | None = None        # its tree's CPU at the previous sample, while still starting


class Sampler:
    """Every `interval` seconds: the cgroup's CPU (for the timeline of completions), the main process's own
    CPU, each worker's tree CPU until its first student, and PSS per worker and in all.

    `workers(stats)` picks the worker pids among the cgroup's processes; `began(pid)` says whether that
    worker has staged its first student (None: not known for this row)."""

    def __init__(self, group: Group, main: int, workers, began=None, interval=0.2, offset=0.0):
        self.group, self.main, self.find_workers, self.began = group, main, workers, began
        self.interval, self.offset = interval, offset
        self.ticks = []               # (time.time(), CPU s of the cgroup since the start)
        self.tracks = {}              # worker pid -> WorkerTrack
        self.main_cpu = None          # the main process's own CPU at the last sample it was alive
        self.main_alone = None        # (cgroup CPU then) if it was the only process then
        self.peak_total = 0           # kB
        self.peak_workers = 0         # kB: the workers' trees and what serves them alike, together
        self.most_workers = 0         # the most workers alive at once (a replaced worker is not one more)
        self.denied = set()           # pids whose smaps_rollup could not be read
        self.own_cpu = 0.0            # this thread's CPU (outside the cgroup)
        self.seen = {}                # pid -> [its role, its own CPU at its last sample]
        self.roles = []               # (time.time(), {role: CPU s of the processes in it, at their last sample})
        self._cmdlines = {}
        self._namespaces = {}
        self.host = read_namespace(os.getpid())
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)

    def __enter__(self):
        self.ticks.append((time.time(), 0.0))
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self):
        started = time.thread_time()
        while not self._stop.wait(self.interval):
            try:
                self.sample()
            except Exception as exc:   # never stop a run for a sample; say so
                print(f"bench sampler: {type(exc).__name__}: {exc}", file=sys.stderr)
        self.own_cpu = time.thread_time() - started

    def members(self):
        members = self.group.members()
        if members or self.group.enter is not None:
            return members
        try:                       # no cgroup: the main process and its descendants
            import psutil
            main = psutil.Process(self.main)
            return [self.main] + [p.pid for p in main.children(recursive=True)]
        except Exception:
            return []

    def cmdline(self, pid):
        if pid not in self._cmdlines:
            self._cmdlines[pid] = read_cmdline(pid)
        return self._cmdlines[pid]

    def sample(self):
        now, cpu = time.time(), self.group.cpu() - self.offset
        stats = {pid: s for pid in self.members() if (s := read_stat(pid)) is not None}
        self.ticks.append((now, cpu))
        if self.main in stats:
            self.main_cpu = stats[self.main].own
            self.main_alone = cpu if set(stats) == {self.main} else None
        workers = set(self.find_workers(stats))
        for pid in stats:
            if pid not in self._namespaces:
                self._namespaces[pid] = read_namespace(pid)
        owner = owners(stats, workers, self._namespaces, self.host)
        for pid, stat in stats.items():
            known = self.seen.get(pid)
            kind = known[0] if known and known[0] != "other" else role(pid, stats, self.main, owner, self.cmdline)
            self.seen[pid] = [kind, stat.own]
        totals = dict.fromkeys(ROLES, 0.0)
        for kind, own in self.seen.values():
            totals[kind] += own
        self.roles.append((now, totals))
        trees = {w: 0.0 for w in workers}
        for pid, owned in owner.items():
            if owned is not None:
                trees[owned] += stats[pid].own + stats[pid].reaped
        for worker, tree in trees.items():
            track = self.tracks.setdefault(worker, WorkerTrack())
            if track.startup is None and self.began is not None:
                if self.began(worker):
                    track.startup = tree if track.before is None else track.before
                else:
                    track.before = tree
        pss = {}
        for pid in stats:
            value = read_pss(pid)
            if value == "denied":
                self.denied.add(pid)
            elif value is not None:
                pss[pid] = value
        self.peak_total = max(self.peak_total, sum(pss.values()))
        shared = {pid for pid in pss if owner.get(pid) is None
                  and (FORK_SERVER in self.cmdline(pid) or TEMPLATE in self.cmdline(pid))}
        self.peak_workers = max(self.peak_workers, pss_of_workers(pss, owner, shared))
        self.most_workers = max(self.most_workers, len(workers))

    def main_total(self, final_cpu):
        """The main process's own CPU: its last sample, plus the cgroup's CPU after it when it was alone."""
        if self.main_cpu is None:
            return None
        return self.main_cpu + (final_cpu - self.main_alone if self.main_alone is not None else 0.0)


# ---------------------------------------------------------------------------------------------------
# the pure arithmetic (tests/test_bench.py)


def cpu_at(ticks, moment: float) -> float:
    """The cgroup's CPU at `moment`, interpolated between the samples (time, CPU) around it."""
    ticks = sorted(ticks)
    if not ticks:
        return float("nan")
    if moment <= ticks[0][0]:
        return ticks[0][1]
    for (t0, c0), (t1, c1) in zip(ticks, ticks[1:]):
        if t0 <= moment <= t1:
            return c0 if t1 == t0 else c0 + (c1 - c0) * (moment - t0) / (t1 - t0)
    return ticks[-1][1]


@dataclass
class Split:
    steady: float | None       # CPU s per student, every worker busy
    per_worker: float | None   # CPU s a worker costs beyond its students' steady cost
    per_run: float | None      # the rest: total - count x steady - workers x per_worker
    window: tuple = ()         # (first, last) completion, 1-based, the steady rate was measured between


# the kinds of process that belong to a worker's tree; what no sample saw is counted with them (see fixed_costs)
WORKER_KINDS = ("workers", "kernels", "templates", "verification", "unseen")


def steady_rate(completions: list, workers: int):
    """(CPU s per student, (first, last)): the CPU used between the `workers`-th and the (K - workers + 1)-th
    completion, per student completed in between; with fewer students, between the first and the last.
    completions: the cgroup's CPU at each student's completion, in the order they completed."""
    count = len(completions)
    if count < 2:
        return None, ()
    lanes = max(1, workers)
    first, last = lanes, count - lanes + 1
    if last <= first:
        first, last = 1, count
    return (completions[last - 1] - completions[first - 1]) / (last - first), (first, last)


def fixed_costs(total: float, count: int, steady: float | None, workers: int, trees: float | None = None,
                trees_steady: float | None = None):
    """(per run, per worker) with total = per run + workers x per worker + count x steady.

    trees: the CPU the workers' process trees used in the whole run; trees_steady: their part of `steady`.
    A worker's fixed cost is what its tree used beyond its students' steady cost (its start-up, its kernel
    template, the warm-up of its first student, its exit); the run's is the rest (the main process and the
    processes outside the workers beyond their steady part). Without workers (plain nbgrader) all of it is
    per run; without the trees (not measured), per worker is None and per run takes it all."""
    if steady is None:
        return None, None
    if not workers:
        return total - count * steady, 0.0
    if trees is None or trees_steady is None:
        return total - count * steady, None
    per_worker = (trees - count * trees_steady) / workers
    return total - count * steady - workers * per_worker, per_worker


def roles_in_window(role_ticks, start: float, end: float, students: int) -> dict:
    """{role: CPU s per student} between two moments, from (time, {role: CPU}) samples."""
    if students <= 0 or not role_ticks:
        return {}
    return {kind: (cpu_at([(t, r[kind]) for t, r in role_ticks], end)
                   - cpu_at([(t, r[kind]) for t, r in role_ticks], start)) / students for kind in ROLES}


def mean(values):
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def only_imports(source: str) -> bool:
    """Whether a code cell does nothing but import (the grading code's rule, autograde.only_imports)."""
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return False
    return bool(body) and all(isinstance(statement, (ast.Import, ast.ImportFrom)) for statement in body)


def executed_cells(notebook: dict) -> dict:
    """{"import_cells": s, "cells": s} of an executed notebook, from the timestamps nbclient records in each
    code cell (metadata.execution: iopub.execute_input to shell.execute_reply), as the grading code computes
    the phases of its result files (autograde.cell_seconds); cells without them are left out."""
    imports = cells = 0.0
    for each in notebook.get("cells", []):
        stamps = each.get("metadata", {}).get("execution", {})
        began, ended = stamps.get("iopub.execute_input"), stamps.get("shell.execute_reply")
        if each.get("cell_type") != "code" or not (began and ended):
            continue
        try:
            seconds = (datetime.fromisoformat(ended.replace("Z", "+00:00"))
                       - datetime.fromisoformat(began.replace("Z", "+00:00"))).total_seconds()
        except (TypeError, ValueError):
            continue
        source = each.get("source", "")
        cells += seconds
        imports += seconds if only_imports("".join(source) if isinstance(source, list) else source) else 0.0
    return {"import_cells": imports, "cells": cells}


def phases_of(result: dict, notebooks: dict | None = None) -> dict:
    """One student's wall seconds per column of PHASES (None where nothing says).

    result: the student's result file (its step timings, and its per-notebook phases when the grading code
    writes them); notebooks: {stem: executed_cells(...)} of their autograded notebooks, for the import and
    cell times where the result has no phases."""
    timings = result.get("timings") or {}
    recorded = result.get("phases") or {}

    def phase(name, source):
        values = [nb.get(name) if isinstance(nb, dict) else None for nb in source.values()]
        return sum(values) if values and all(isinstance(v, (int, float)) for v in values) else None
    cells_from = recorded if recorded else (notebooks or {})
    cells, imports = phase("cells", cells_from), phase("import_cells", cells_from)
    step = timings.get
    other = ("Stage", "ScanForTampering", "Incidents", "Publish")
    return {
        "kernel start": phase("kernel_start", recorded),
        "imports": imports,
        "own cells": cells - imports if cells is not None and imports is not None else None,
        "shutdown": phase("shutdown", recorded),
        "autograde": step("Autograde"),
        "verification": (step("StartVerification", 0) + step("Reconcile", 0)) if "Reconcile" in timings else None,
        "feedback": step("Feedback"),
        "other steps": sum(step(s, 0) for s in other) if any(s in timings for s in other) else None,
        "total": sum(timings.values()) if timings else None,
    }


def phase_means(results: list, notebooks: list | None = None) -> dict:
    per_student = [phases_of(r, nb) for r, nb in zip(results, notebooks or [None] * len(results))]
    return {name: mean([p[name] for p in per_student]) for name in PHASES}


def autograded_cells(folder: Path) -> dict:
    """{stem: executed_cells} of the autograded notebooks in a student's folder."""
    found = {}
    for path in sorted(folder.glob("*.ipynb")):
        with contextlib.suppress(OSError, ValueError):
            found[path.stem] = executed_cells(json.loads(path.read_text()))
    return found


def cell(value, spec=".2f", suffix=""):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:{spec}}{suffix}"


def format_table(headers, rows) -> str:
    """A plain-text table: the first column left-aligned, the others right-aligned, each as wide as its
    widest cell."""
    table = [list(map(str, headers))] + [list(map(str, row)) for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(headers))]
    lines = []
    for line in table:
        lines.append("  ".join(text.ljust(widths[0]) if i == 0 else text.rjust(widths[i])
                               for i, text in enumerate(line)).rstrip())
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------
# one row


@dataclass
class Row:
    key: str
    name: str
    count: int
    wall: float = float("nan")
    cpu: float = float("nan")
    workers: int = 0
    split: Split = field(default_factory=lambda: Split(None, None, None))
    main_cpu: float | None = None
    pss_worker: float | None = None       # MB, the workers' peak together, per worker
    pss_total: float | None = None        # MB, peak of everything in the cgroup
    phases: dict = field(default_factory=dict)
    roles: dict = field(default_factory=dict)     # steady CPU s per student by kind of process
    startup: float | None = None                  # CPU s of a worker's tree before its first student, mean
    sampler_cpu: float = 0.0
    notes: list = field(default_factory=list)
    scores: dict = field(default_factory=dict)

    @property
    def per_student(self):
        return self.cpu / self.count


def measure(row: Row, command, stands=None, workers=None, began=None, interval=0.2, **options):
    """Run `command` in a cgroup with the sampler beside it; fill the row's wall time, CPU, workers, main
    process CPU and PSS. Returns (CompletedProcess, the samples, each worker's start-up CPU or None).

    stands: for processes that must stand before the clock (the Dask cluster), a context manager factory
    taking the Group; they run in the cgroup, what they used before the command starts is not counted,
    and what they yield is added to the command's arguments."""
    with METER.group() as group, (stands(group) if stands else contextlib.nullcontext(())) as extra:
        offset = group.cpu() if group.enter is not None else 0.0
        before = os.times()
        started = time.monotonic()
        process = subprocess.Popen([*command, *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   preexec_fn=group.enter, **options)
        sampler = Sampler(group, process.pid, workers or (lambda stats: {process.pid}), began, interval, offset)
        with sampler:
            stdout, stderr = process.communicate()
            row.wall = time.monotonic() - started
            if stands is None:
                group.wait_empty()       # a worker's helper may outlive the command by a moment
            if group.enter is None:
                after = os.times()
                final = (after.children_user - before.children_user) + (after.children_system - before.children_system)
            else:
                final = group.cpu() - offset
        sampler.ticks.append((time.time(), final))
    row.cpu = final
    row.main_cpu = sampler.main_total(final)
    row.sampler_cpu = sampler.own_cpu
    tracks = sampler.tracks
    row.workers = len(tracks)
    row.pss_worker = sampler.peak_workers / max(1, sampler.most_workers) / 1024 or None
    row.pss_total = sampler.peak_total / 1024 or None
    if sampler.denied:
        row.notes.append(f"PSS of {len(sampler.denied)} processes could not be read (not counted)")
    startups = None if began is None else [t.startup for t in tracks.values() if t.startup is not None]
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr), sampler, startups


def settle(row: Row, sampler: Sampler, moments, lanes: int, startups):
    """The row's steady rate, fixed costs and steady CPU by kind, from the students' completion moments."""
    moments = sorted(moments)
    steady, window = steady_rate([cpu_at(sampler.ticks, m) for m in moments], lanes)
    trees = trees_steady = None
    if window:
        first, last = window
        row.roles = roles_in_window(sampler.roles, moments[first - 1], moments[last - 1], last - first)
        row.roles["unseen"] = steady - sum(row.roles.values())
        if sampler.roles:
            final = sampler.roles[-1][1]
            spent = {**final, "unseen": row.cpu - sum(final.values())}
            trees = sum(spent[k] for k in WORKER_KINDS)
            trees_steady = sum(row.roles[k] for k in WORKER_KINDS)
    per_run, per_worker = fixed_costs(row.cpu, len(moments), steady, row.workers, trees, trees_steady)
    row.split = Split(steady, per_worker, per_run, window)
    row.startup = mean(startups) if startups else None


def tag_skipped_cells(submitted: Path, source: Path):
    """What a course on plain nbgrader would do to skip the cells ours tags skip-when-grading: nbclient's
    skip-execution tag in its release, so in every submission (where plain nbgrader also honours it on
    a student's own test cell: the pipeline removes it)."""
    skipped = skipped_sources(source)
    for path in sorted(submitted.glob(f"*/{ASSIGNMENT}/*.ipynb")):
        notebook = nbformat.read(str(path), as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code" and cell.source in skipped.get(path.stem, ()):
                cell.metadata["tags"] = [*cell.metadata.get("tags", []), "skip-execution"]
        nbformat.write(notebook, str(path))


def plain_nbgrader(work: Path, submissions: Path, template: Path, students, interval, skip=False) -> Row:
    row = Row("plain-skip", "plain nbgrader, the same cells skipped", len(students)) if skip else \
        Row("plain", "plain nbgrader autograde (serial)", len(students))
    course = work / row.key
    course.mkdir()
    shutil.copytree(template.parent.parent / "nbgrader" / "source", course / "source")
    shutil.copyfile(template, course / "gradebook.db")
    shutil.copytree(submissions, course / "submitted")
    if skip:
        tag_skipped_cells(course / "submitted", course / "source" / ASSIGNMENT)
    command = [os.path.join(os.path.dirname(sys.executable), "nbgrader"), "autograde", ASSIGNMENT,
               f"--CourseDirectory.root={course}", f"--CourseDirectory.db_url=sqlite:///{course / 'gradebook.db'}",
               f"--config={COURSE_ROOT / 'nbgrader_config.py'}", "--CourseDirectory.course_id=dlfs"]
    done, sampler, _ = measure(row, command, interval=interval, cwd=course, env=record.tool_env())
    if done.returncode != 0:
        raise RuntimeError(f"nbgrader autograde failed:\n{done.stderr[-3000:]}")
    row.scores = {s: {f"{nb}:{gid}": r["auto_score"] for (nb, gid), r in
                      gradebook.cells(course / "gradebook.db", s, ASSIGNMENT).items()} for s in students}
    # a student is done when nbgrader has written the last of their autograded notebooks
    moments = [max((p.stat().st_mtime for p in (course / "autograded" / s / ASSIGNMENT).glob("*.ipynb")),
                   default=math.nan) for s in students]
    missing = [s for s, moment in zip(students, moments) if math.isnan(moment)]
    if missing:
        raise RuntimeError(f"nbgrader autograde left out {', '.join(missing)}:\n{done.stderr[-3000:]}")
    row.workers = 0          # its one process grades every student itself
    settle(row, sampler, [m for m in moments if not math.isnan(m)], 1, [])
    row.phases = phase_means([{}] * len(students),
                             [autograded_cells(course / "autograded" / s / ASSIGNMENT) for s in students])
    if len(moments) > 1:     # serial: the steady wall time of a student is the time between completions
        ordered = sorted(moments)
        row.phases["autograde"] = row.phases["total"] = (ordered[-1] - ordered[0]) / (len(ordered) - 1)
    row.notes.append("imports and cells from its autograded notebooks' cell timestamps; autograde and total: the "
                     "time between its first and last student's completions, per student")
    return row


def grade_command(out: Path, submissions: Path, workers: int | None, extra=()):
    command = [sys.executable, "-m", "autograder", "grade", ASSIGNMENT, "--submissions", str(submissions),
               "--out", str(out), "--quiet", *extra]
    return command + (["--workers", str(workers)] if workers else [])


def read_results(row: Row, out: Path, students, sampler, startups, lanes):
    results, moments = [], []
    for student in students:
        path = out / "results" / f"{student}.json"
        result = json.loads(path.read_text())
        results.append(result)
        moments.append(path.stat().st_mtime)
        row.scores[student] = {key: c["nbgrader"] for key, c in result["cells"].items()}
    settle(row, sampler, moments, lanes, startups)
    row.phases = phase_means(results, [autograded_cells(out / "nbgrader" / "autograded" / s / ASSIGNMENT)
                                       for s in students])
    if all(not r.get("phases") for r in results):
        row.notes.append("no per-notebook phases in the result files: kernel start and shutdown n/a; imports "
                         "and cells from the autograded notebooks' cell timestamps")


def local_workers(out: Path):
    """The local pool's workers are the processes with a course of their own, OUT/.work/worker-<pid>."""
    def workers(stats):
        return {pid for pid in stats if (out / ".work" / f"worker-{pid}").is_dir()}

    def began(pid):
        folder = out / ".work" / f"worker-{pid}" / "submitted"
        try:
            return any(folder.iterdir())
        except OSError:
            return False
    return workers, began


def pipeline(key, name, work, submissions, prepared, students, workers, extra, interval) -> Row:
    row = Row(key, name, len(students))
    out = work / key
    shutil.copytree(prepared, out)           # the template gradebook, as plain nbgrader gets one
    find, began = local_workers(out)
    done, sampler, startups = measure(row, grade_command(out, submissions, workers, extra), workers=find,
                                    began=began, interval=interval, env=record.tool_env())
    if done.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{done.stdout[-2000:]}{done.stderr[-3000:]}")
    read_results(row, out, students, sampler, startups, workers)
    return row


def dask_pipeline(work, submissions, prepared, students, workers, extra, interval) -> Row:
    """The pipeline through --scheduler, on `dask scheduler` + `workers` x `dask worker --nthreads 1` on this
    machine, started before the clock; the CPU of all of them and of the client, from one cgroup."""
    from .grading.distributed import CommandLineCluster
    row = Row("dask", f"pipeline on Dask, {workers} workers", len(students))
    out = work / "dask"
    shutil.copytree(prepared, out)

    @contextlib.contextmanager
    def cluster(group):
        with CommandLineCluster(workers, work / "dask-cluster", preexec_fn=group.enter) as running:
            yield ["--scheduler", running.address]
    # the grading processes of the Dask workers (executor.popen_process)
    done, sampler, _ = measure(row, grade_command(out, submissions, None, extra), stands=cluster,
                             workers=lambda stats: {p for p in stats if "_popen_child" in read_cmdline(p)},
                             interval=interval, env=record.tool_env())
    if done.returncode != 0:
        raise RuntimeError(f"pipeline on Dask failed:\n{done.stdout[-2000:]}{done.stderr[-3000:]}")
    read_results(row, out, students, sampler, None, workers)
    row.notes.append("its CPU counts the Dask scheduler, nannies and workers too (started before its clock); "
                     "fixed per run is everything but the steady rate")
    return row


# ---------------------------------------------------------------------------------------------------
# the report


def has_fast_path() -> bool:
    """Whether `grade` has a fast path to compare with: it then offers --fresh-kernels."""
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", "--help"], capture_output=True, text=True,
                          env=record.tool_env())
    return "--fresh-kernels" in done.stdout


def machine(commit=None) -> dict:
    model = ""
    with contextlib.suppress(OSError):
        model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), "")
    if commit:
        commit, dirty = f"{commit[:12]} (a snapshot of it: --snapshot)", ""
    else:
        commit = subprocess.run(["git", "-C", str(COURSE_ROOT), "rev-parse", "--short=12", "HEAD"],
                                capture_output=True, text=True).stdout.strip() or "unknown (not a git checkout)"
        dirty = subprocess.run(["git", "-C", str(COURSE_ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
    return {"nproc": os.cpu_count(), "cpu": model or platform.processor(), "python": platform.python_version(),
            "commit": commit + (" (with local changes)" if dirty else ""),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def report(rows, args, about) -> str:
    plain = next((r for r in rows if r.key == "plain"), None)
    lines = [f"{args.count} submissions of {ASSIGNMENT} (the bundled examples, cycled); {args.workers} workers; "
             f"{about['nproc']} cores ({about['cpu']}); commit {about['commit']}; {about['date']}",
             f"load average before: {about['load_before']}, after: {about['load_after']} "
             f"(other work on the machine skews wall times more than CPU)",
             f"CPU counted by {METER.how}, every process each command started included (bubblewrap boxes too); "
             f"samples every {args.interval} s", ""]
    headers = ["run", "wall s", "subs/min", "speed-up", "CPU s/sub", "steady s/sub", "of plain's",
               "fixed/run", "fixed/worker", "w. start-up"]
    table = []
    for r in rows:
        s = r.split
        table.append([r.name, cell(r.wall, ".1f"), cell(60 * r.count / r.wall),
                      cell(plain.wall / r.wall if plain else None, ".2f", "x"),
                      cell(r.per_student), cell(s.steady),
                      cell(s.steady / plain.split.steady if plain and plain.split.steady and s.steady else None),
                      cell(s.per_run, ".1f"), "–" if r.workers == 0 else cell(s.per_worker, ".1f"),
                      "–" if r.workers == 0 else cell(r.startup, ".1f")])
    lines += ["Throughput and CPU (CPU seconds, user + system)", format_table(headers, table), ""]
    lines += ["Memory: PSS (pages shared between processes counted once), peak over the run, MB; per worker: the "
              "workers' peak together (their trees and the servers they share) / workers",
              format_table(["run", "workers", "per worker", "peak total"],
                           [[r.name, r.workers or "1 (itself)", cell(r.pss_worker, ".0f"), cell(r.pss_total, ".0f")]
                            for r in rows]), ""]
    kinds = [*ROLES, "unseen"]
    lines += ["Steady CPU per student by process, CPU s (the steady window's; unseen: what processes used after "
              "their last sample)",
              format_table(["run", *kinds, "steady"],
                           [[r.name, *(cell(r.roles.get(k)) for k in kinds), cell(r.split.steady)] for r in rows]), ""]
    lines += ["Per student: wall seconds, mean over the students, both notebooks (OUT/results/<student>.json)",
              format_table(["run", *PHASES], [[r.name, *(cell(r.phases.get(p)) for p in PHASES)] for r in rows]), ""]
    windows = {r.split.window for r in rows if r.split.window}
    lines += [
        "How to read it:",
        "* CPU s/sub: the whole command's CPU / K. steady s/sub: the cgroup's CPU between the N-th and the",
        f"  (K-N+1)-th student's completion (N: the row's workers; here {', '.join(f'{a}-{b}' for a, b in sorted(windows))}),",
        "  per student completed in between; a completion is the moment the result file (plain: the last",
        "  autograded notebook) was written. of plain's: steady CPU / plain nbgrader's steady CPU.",
        "* fixed/worker: what a worker's process tree (the worker, its verification helper, its kernel template,",
        "  its kernels, and what no sample saw) used beyond the steady cost of its students: its start-up, the",
        "  warm-up of its first student, its exit. w. start-up: the part of it before its first student was",
        "  staged. fixed/run: the rest, CPU - K x steady - workers x fixed/worker: the main process and the",
        "  processes outside the workers, beyond their steady part.",
        "* By process: each process's own CPU (/proc/<pid>/stat) at its last sample, summed by kind, between the",
        "  same two completions as steady. main: the command's own process (plain: nbgrader, all of its work);",
        "  workers: nbgrader's converters, feedback, publishing; kernels: the boxes and the kernels in them",
        "  (the notebooks' code, their imports, start and shutdown); templates: the workers' kernel templates;",
        "  verification: the helper and its sandboxes; other: the resource tracker, set-up commands.",
        "* Per student: autograde is nbgrader's whole step (kernel start, imports, own cells and shutdown are",
        "  parts of it: imports = the cells that only import; own cells = the other cells, the notebooks' own",
        "  work); verification = the wait for the outside verification after the kernel (it runs beside it)",
        "  and reconciling; other steps = staging, the tampering scan, incidents, publishing.",
        f"* The sampler (outside the cgroups) used {', '.join(f'{r.sampler_cpu:.1f}' for r in rows)} CPU s in the rows above.",
    ]
    lines.append("* The main process's own CPU, in all (the pipeline's: part of fixed/run; plain nbgrader's is its one "
                 "process, which does all but the kernels' work): " + ", ".join(
                     f"{r.name}: {cell(r.main_cpu, '.1f')} s" for r in rows))
    for r in rows:
        lines += [f"* {r.name}: {note}" for note in r.notes]
    rows_by = {r.key: r for r in rows}
    if "dask" in rows_by and "fast" in rows_by:
        dask, local = rows_by["dask"], rows_by["fast"]
        lines.append(f"Dask against the local pool, {args.workers} workers each: "
                     f"{(dask.wall - local.wall) / args.count:+.2f} s wall and "
                     f"{dask.per_student - local.per_student:+.2f} CPU s per submission")
    fast = rows_by.get("fast")
    if plain and fast and fast.split.steady and plain.split.steady:
        speed, ratio = plain.wall / fast.wall, fast.split.steady / plain.split.steady
        lines += ["", "Targets (issue 18), fast path against plain nbgrader:",
                  f"  throughput {speed:.2f}x: {'met' if speed >= 5 else 'NOT met'} (>= 5x; aim 8x)",
                  f"  steady CPU per student {ratio:.2f} of plain's: {'met' if ratio <= 1 / 3 else 'NOT met'} "
                  f"(<= 1/3; aim 1/4)"]
    return "\n".join(lines)


def run_on_snapshot(args) -> int:
    """This bench, run by the same interpreter in a copy of HEAD's tree (the editable install is shadowed: the
    copy's folder comes first on sys.path, and every process of the grader inherits its sys.path)."""
    commit = subprocess.run(["git", "-C", str(COURSE_ROOT), "rev-parse", "HEAD"], capture_output=True, text=True,
                            check=True).stdout.strip()
    source = Path(tempfile.mkdtemp(prefix="autograder-bench-src-"))
    try:
        archive = subprocess.run(["git", "-C", str(COURSE_ROOT), "archive", "--format=tar", commit],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(source)], input=archive, check=True)
        argv = ["--count", str(args.count), "--workers", str(args.workers), "--rows", args.rows,
                "--interval", str(args.interval), "--commit", commit]
        argv += ["--keep", str(args.keep.resolve())] if args.keep else []
        argv += ["--json", str(args.json.resolve())] if args.json else []
        argv += ["--against", str(args.against.resolve())] if args.against else []
        print(f"bench: on a snapshot of {commit[:12]} in {source}", file=sys.stderr, flush=True)
        return subprocess.run([sys.executable, "-m", "autograder.bench", *argv], cwd=source).returncode
    finally:
        shutil.rmtree(source, ignore_errors=True)


def against(rows, earlier: dict) -> str:
    """Each row's CPU per student (steady, and whole command) beside the same row of an earlier --json."""
    before = {r["key"]: r for r in earlier.get("rows", [])}
    lines = [f"Against the run of {earlier.get('machine', {}).get('date', '?')} "
             f"(commit {earlier.get('machine', {}).get('commit', '?')}):"]
    for row in rows:
        old = before.get(row.key)
        if not old:
            continue
        steady_then = (old.get("split") or {}).get("steady")
        for what, now, then in (("steady CPU s/sub", row.split.steady, steady_then),
                                ("CPU s/sub, whole command", row.per_student, old["cpu"] / old["count"])):
            change = f"{100 * (now / then - 1):+.1f}%" if now and then else "n/a"
            lines.append(f"  {row.name}: {what} {cell(now)} at {row.count} students, {cell(then)} at "
                         f"{old['count']}: {change}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10, help="submissions (default 10; the issue's runs: 40)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--rows", default=",".join(DEFAULT_ROWS),
                        help=f"comma-separated, among {', '.join(ROWS)}; or all (default %(default)s)")
    parser.add_argument("--interval", type=float, default=0.2, help="seconds between samples (default 0.2)")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument("--against", type=Path, metavar="JSON",
                        help="an earlier run's --json: compare each row's CPU per student with the same row there "
                             "(issue 18's flat cost: at 200 students within 10%% of 40)")
    parser.add_argument("--snapshot", action="store_true",
                        help="run on a copy of the last commit (git archive HEAD), so that files edited while it runs "
                             "neither stop it (the grader stops a run whose own files change) nor enter its figures")
    parser.add_argument("--commit", help=argparse.SUPPRESS)     # the snapshot's, given to the bench run in it
    args = parser.parse_args(argv)
    if args.snapshot:
        return run_on_snapshot(args)
    keys = ROWS if args.rows == "all" else tuple(k.strip() for k in args.rows.split(",") if k.strip())
    unknown = [k for k in keys if k not in ROWS]
    if unknown or not keys:
        parser.error(f"unknown rows {', '.join(unknown)}; choose among {', '.join(ROWS)}")
    fast_path = has_fast_path()
    skipped = []
    if not fast_path and "fast" in keys:
        skipped.append("fast: this grader has no fast path yet (no --fresh-kernels in `grade --help`)")
        keys = tuple(k for k in keys if k != "fast")
    fresh = ("--fresh-kernels",) if fast_path else ()
    work = args.keep or Path(tempfile.mkdtemp(prefix="autograder-bench-"))
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        submissions = work / "submissions"
        students = make_submissions(submissions, args.count)
        prepared = work / "prepared"
        template = record.prepare(GradingConfig(ASSIGNMENT, prepared))
        about = machine(args.commit)
        about["load_before"] = " ".join(f"{v:.2f}" for v in os.getloadavg())
        box = () if confine.available() else ("--allow-unconfined",)
        where = "" if not box else " (UNCONFINED: no bubblewrap)"
        n = args.workers
        plural = "s" * (n > 1)
        rows = []
        for key in keys:
            started = time.monotonic()
            print(f"bench: {key} ...", file=sys.stderr, flush=True)
            if key == "plain":
                rows.append(plain_nbgrader(work, submissions, template, students, args.interval))
            elif key == "plain-skip":
                rows.append(plain_nbgrader(work, submissions, template, students, args.interval, skip=True))
            elif key == "fresh":
                rows.append(pipeline(key, f"pipeline, {n} worker{plural}, fresh kernels{where}", work, submissions,
                                     prepared, students, n, fresh + box, args.interval))
            elif key == "fast":
                rows.append(pipeline(key, f"pipeline, {n} worker{plural}, fast path{where}", work, submissions,
                                     prepared, students, n, box, args.interval))
            elif key == "one-worker":
                rows.append(pipeline(key, f"pipeline, 1 worker, {'fast path' if fast_path else 'fresh kernels'}"
                                     f"{where}", work, submissions, prepared, students, 1, box, args.interval))
            elif key == "dask":
                rows.append(dask_pipeline(work, submissions, prepared, students, n, box, args.interval))
            elif key == "unconfined":
                rows.append(pipeline(key, f"pipeline, {n} worker{plural}, unconfined", work, submissions, prepared,
                                     students, n, ("--unconfined",), args.interval))
            print(f"bench: {key} done in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
        about["load_after"] = " ".join(f"{v:.2f}" for v in os.getloadavg())
        print(report(rows, args, about))
        if args.against:
            print(against(rows, json.loads(args.against.read_text())))
        for line in skipped:
            print(f"row skipped: {line}")
        same = all(r.scores == rows[0].scores for r in rows[1:])
        print("nbgrader scores identical cell by cell in all rows" if same else
              "MISMATCH between nbgrader scores: " + ", ".join(r.name for r in rows[1:] if r.scores != rows[0].scores)
              + f" differ from {rows[0].name}")
        if args.json:
            args.json.write_text(json.dumps({"machine": about, "args": {k: str(v) for k, v in vars(args).items()},
                                             "same_scores": same, "skipped": skipped,
                                             "rows": [{**asdict(r), "scores": None} for r in rows]},
                                            indent=1, default=str))
        return 0 if same else 1
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
