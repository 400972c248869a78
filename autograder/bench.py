"""`make bench`: plain serial `nbgrader autograde` against the grading pipeline at 1 and N workers.

    python -m autograder.bench [--count K] [--workers N] [--keep DIR]

Grades K submissions made from the bundled examples (examples/submissions, cycled, the
pathological ones left out: they measure timeouts, not throughput) three ways, each
starting from a gradebook that already holds the assignment:

  1. plain nbgrader: `nbgrader autograde <assignment>` over all K, one process, serially;
  2. the pipeline (python -m autograder grade) with --workers 1;
  3. the pipeline with --workers N (default: the number of cores);
  4. the same with unconfined kernels, to show what confinement costs.

CPU seconds are counted in a cgroup per command, so processes inside bubblewrap's PID
namespaces count too (os.times() where no cgroup can be made, said in the output).

The pipeline's runs include everything it does (outside verification, cleaned feedback,
result files, the merged gradebook and grades.csv); plain nbgrader's only autogrades.
It prints wall time, submissions per minute and the speed-up, and checks that every
cell's nbgrader score is the same in all three.
"""
import argparse
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
            group.rmdir()

    def cpu_seconds(self, group):
        text = (group / self.stat).read_text()
        if self.stat == "cpuacct.usage":
            return int(text) / 1e9
        return int(dict(line.split() for line in text.splitlines())["usage_usec"]) / 1e6


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
        rows.append((f"pipeline, {args.workers} workers, unconfined",)
                    + pipeline(work, submissions, prepared, args.workers, students, confined=False))
        base = rows[0][1]
        print(f"{args.count} submissions of {ASSIGNMENT}, {os.cpu_count()} cores; the pipeline's figures "
              f"include outside verification and feedback")
        print(f"load average before: {load}, after: {os.getloadavg()[0]:.2f} (other work on the machine skews wall times)")
        print(f"CPU counted by {METER.how}, every process each command started included")
        print(f"{'':44} {'wall s':>8} {'subs/min':>9} {'vs plain':>9} {'CPU s/sub':>10}")
        for name, seconds, cpu, _ in rows:
            print(f"{name:44} {seconds:8.1f} {60 * args.count / seconds:9.2f} {base / seconds:8.2f}x "
                  f"{cpu / args.count:10.2f}")
        same = all(scores == rows[0][3] for *_, scores in rows[1:])
        print("nbgrader scores identical in all runs" if same else "MISMATCH between nbgrader scores")
        return 0 if same else 1
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
