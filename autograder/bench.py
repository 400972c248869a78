"""`make bench`: plain serial `nbgrader autograde` against the grading pipeline at 1 and N workers.

    python -m autograder.bench [--count K] [--workers N] [--keep DIR]

Grades K submissions made from the bundled examples (examples/submissions, cycled, the
pathological ones left out: they measure timeouts, not throughput) five ways, each
starting from a gradebook that already holds the assignment:

  1. plain nbgrader: `nbgrader autograde <assignment>` over all K, one process, serially;
  2. the pipeline (python -m autograder grade) with --workers 1;
  3. the pipeline with --workers N (default: the number of cores);
  4. the same on Dask (--scheduler): `dask scheduler` and N `dask worker` processes started
     here before the clock starts (a cluster stands before a run), everything still on this
     machine, so the difference with 3. is what Dask adds per student;
  5. the pipeline with --workers N and unconfined kernels, to show what confinement costs.

CPU seconds are counted in a cgroup per command, so processes inside bubblewrap's PID
namespaces count too (os.times() where no cgroup can be made, said in the output). The Dask
run's cgroup holds the scheduler, the workers and the client; its CPU is what they used
between the start and the end of the client's command.

The pipeline's runs include everything it does (outside verification, cleaned feedback,
result files, the merged gradebook and grades.csv); plain nbgrader's only autogrades.
It prints wall time, submissions per minute and the speed-up, and checks that every
cell's nbgrader score is the same in all of them.
"""
import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .grading import confine, gradebook, record
from .grading.config import COURSE_ROOT, GradingConfig

ASSIGNMENT = "ch02_fundamentals"
EXAMPLES = COURSE_ROOT / "examples" / "submissions"
SKIP = ("broken_json", "kernel_dies", "runaway", "tampering")   # incidents, not throughput


def make_submissions(folder: Path, count: int) -> list[str]:
    sources = sorted(p for p in EXAMPLES.iterdir() if p.is_dir() and not any(s in p.name for s in SKIP))
    students = []
    for index in range(count):
        student = f"bench_{index + 1:02d}"
        shutil.copytree(sources[index % len(sources)], folder / student)
        students.append(student)
    return students


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
        self.how = "cgroup" if self.root else "os.times (sandboxed processes not counted)"

    @contextlib.contextmanager
    def group(self):
        """(preexec_fn that puts a process into a fresh cgroup, CPU seconds used in it so far); without a
        cgroup: (None, a function giving NaN)."""
        if not self.root:
            yield None, lambda: float("nan")
            return
        group = self.root / f"autograder-bench-{os.getpid()}-{time.monotonic_ns()}"
        group.mkdir()
        procs = str(group / "cgroup.procs")
        try:
            yield (lambda: Path(procs).write_text(str(os.getpid()))), lambda: self.cpu_seconds(group)
        finally:
            remove_group(group)

    def run(self, command, **options):
        """(wall seconds, CPU seconds, CompletedProcess)."""
        if not self.root:
            before, started = os.times(), time.monotonic()
            done = subprocess.run(command, capture_output=True, text=True, **options)
            after = os.times()
            return (time.monotonic() - started, (after.children_user - before.children_user)
                    + (after.children_system - before.children_system), done)
        group = self.root / f"autograder-bench-{os.getpid()}-{time.monotonic_ns()}"
        group.mkdir()
        try:
            procs = str(group / "cgroup.procs")
            started = time.monotonic()
            done = subprocess.run(command, capture_output=True, text=True,
                                  preexec_fn=lambda: Path(procs).write_text(str(os.getpid())), **options)
            return time.monotonic() - started, self.cpu_seconds(group), done
        finally:
            remove_group(group)

    def cpu_seconds(self, group):
        text = (group / self.stat).read_text()
        if self.stat == "cpuacct.usage":
            return int(text) / 1e9
        return int(dict(line.split() for line in text.splitlines())["usage_usec"]) / 1e6


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


def timed(command, **options):
    return METER.run(command, **options)


def plain_nbgrader(work: Path, submissions: Path, template: Path, students) -> tuple[float, dict]:
    course = work / "plain"
    course.mkdir()
    shutil.copytree(template.parent.parent / "nbgrader" / "source", course / "source")
    shutil.copyfile(template, course / "gradebook.db")
    shutil.copytree(submissions, course / "submitted")
    command = [os.path.join(os.path.dirname(sys.executable), "nbgrader"), "autograde", ASSIGNMENT,
               f"--CourseDirectory.root={course}", f"--CourseDirectory.db_url=sqlite:///{course / 'gradebook.db'}",
               f"--config={COURSE_ROOT / 'nbgrader_config.py'}", "--CourseDirectory.course_id=dlfs"]
    seconds, cpu, done = timed(command, cwd=course, env=record.tool_env())
    if done.returncode != 0:
        raise RuntimeError(f"nbgrader autograde failed:\n{done.stderr[-3000:]}")
    scores = {s: {f"{nb}:{gid}": row["auto_score"] for (nb, gid), row in
                  gradebook.cells(course / "gradebook.db", s, ASSIGNMENT).items()} for s in students}
    return seconds, cpu, scores


def pipeline(work: Path, submissions: Path, prepared: Path, workers: int, students, confined=True):
    out = work / f"pipeline-{workers}-{'confined' if confined else 'unconfined'}"
    shutil.copytree(prepared, out)           # the template gradebook, as plain nbgrader gets one
    command = [sys.executable, "-m", "autograder", "grade", ASSIGNMENT, "--submissions", str(submissions),
               "--out", str(out), "--workers", str(workers), "--quiet",
               "--allow-unconfined" if confined else "--unconfined"]
    seconds, cpu, done = timed(command, env=record.tool_env())
    if done.returncode != 0:
        raise RuntimeError(f"pipeline failed:\n{done.stdout[-2000:]}{done.stderr[-3000:]}")
    scores = {}
    for student in students:
        result = json.loads((out / "results" / f"{student}.json").read_text())
        scores[student] = {key: cell["nbgrader"] for key, cell in result["cells"].items()}
    return seconds, cpu, scores


def dask_pipeline(work: Path, submissions: Path, prepared: Path, workers: int, students, confined=True):
    """The pipeline through --scheduler, on `dask scheduler` + `workers` x `dask worker --nthreads 1` on this
    machine, started before the clock; the CPU of all of them and of the client, from one cgroup."""
    from .grading.distributed import CommandLineCluster
    out = work / f"dask-{workers}"
    shutil.copytree(prepared, out)
    command = [sys.executable, "-m", "autograder", "grade", ASSIGNMENT, "--submissions", str(submissions),
               "--out", str(out), "--quiet", "--allow-unconfined" if confined else "--unconfined"]
    with METER.group() as (enter, cpu), CommandLineCluster(workers, work / "dask-cluster", preexec_fn=enter) as cluster:
        before, started = cpu(), time.monotonic()
        done = subprocess.run(command + ["--scheduler", cluster.address], capture_output=True, text=True,
                              env=record.tool_env(), preexec_fn=enter)
        seconds, used = time.monotonic() - started, cpu() - before
    if done.returncode != 0:
        raise RuntimeError(f"pipeline on Dask failed:\n{done.stdout[-2000:]}{done.stderr[-3000:]}")
    scores = {}
    for student in students:
        result = json.loads((out / "results" / f"{student}.json").read_text())
        scores[student] = {key: cell["nbgrader"] for key, cell in result["cells"].items()}
    return seconds, used, scores


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="autograder-bench-"))
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        submissions = work / "submissions"
        students = make_submissions(submissions, args.count)
        prepared = work / "prepared"
        template = record.prepare(GradingConfig(ASSIGNMENT, prepared))
        load = f"{os.getloadavg()[0]:.2f}"
        rows = [("plain nbgrader autograde (serial)",) + plain_nbgrader(work, submissions, template, students)]
        box = "confined" if confine.available() else "UNCONFINED: no bubblewrap"
        for workers in (1, args.workers):
            rows.append((f"pipeline, {workers} worker{'s' * (workers > 1)}, {box}",)
                        + pipeline(work, submissions, prepared, workers, students))
        rows.append((f"pipeline on Dask, {args.workers} workers, {box}",)
                    + dask_pipeline(work, submissions, prepared, args.workers, students))
        rows.append((f"pipeline, {args.workers} workers, unconfined",)
                    + pipeline(work, submissions, prepared, args.workers, students, confined=False))
        base = rows[0][1]
        print(f"{args.count} submissions of {ASSIGNMENT}, {os.cpu_count()} cores; the pipeline's figures "
              f"include outside verification and feedback")
        print(f"load average before: {load}, after: {os.getloadavg()[0]:.2f} (other work on the machine skews wall times)")
        print(f"CPU counted by {METER.how}, every process each command started included")
        print("the Dask run's CPU counts its scheduler and workers too (started before its clock)")
        print(f"{'':48} {'wall s':>8} {'subs/min':>9} {'vs plain':>9} {'CPU s/sub':>10}")
        for name, seconds, cpu, _ in rows:
            print(f"{name:48} {seconds:8.1f} {60 * args.count / seconds:9.2f} {base / seconds:8.2f}x "
                  f"{cpu / args.count:10.2f}")
        local, dask = rows[2], rows[3]
        print(f"Dask against the local pool, {args.workers} workers each: {(dask[1] - local[1]) / args.count:+.2f} "
              f"s wall and {(dask[2] - local[2]) / args.count:+.2f} CPU s per submission")
        same = all(scores == rows[0][3] for *_, scores in rows[1:])
        print("nbgrader scores identical in all runs" if same else "MISMATCH between nbgrader scores")
        return 0 if same else 1
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
