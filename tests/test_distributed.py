"""Grading on Dask distributed (issue 13), on a real scheduler and two real worker processes here.

`dask scheduler` and two `dask worker` processes (each behind its nanny, as on real machines)
are started once for this file. Three bundled students are graded through `--scheduler`; while
the run goes on, the worker process that is in the middle of a student is killed with SIGKILL.
grades.csv must then hold what examples/expected says they earn, cell for cell and flag for flag
(what tests/test_grading_examples.py checks of the local pool on the same students), every
student must be committed exactly once, and what the killed worker had started (its grading
process, the student's kernel) must be gone; a local-pool run on the same OUT then finds every
result current and grades nobody again. Cheaper checks follow: what crosses
the wire, the workers' version check, a student who kills every worker it is given, and the
grading process a Dask worker keeps (executor.Slot started with subprocess).
"""
import csv
import os
import pickle
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

# Light imports only: the workers and the grading processes of these tests import this file.
from autograder.grading import distributed, executor


ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "ch02_fundamentals"
STUDENTS = ("s01_correct_style", "s05_wrong_sign", "s11_broken_json")
ALLOWED_FAILURES = 1     # the scheduler's setting here: a student may see one worker die, not two


def command(out, submissions, *extra):
    return [sys.executable, "-m", "autograder", "grade", ASSIGNMENT, "--submissions", str(submissions),
            "--out", str(out), "--cell-timeout", "20", "--allow-unconfined", *extra]


def environment():
    # no PATH to the venv on purpose, as in test_grading_examples: the pipeline finds its tools itself
    return {"HOME": os.environ.get("HOME", "/tmp"), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
            **({"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {})}


def read_csv(path):
    with open(path, newline="") as handle:
        return {row["student_id"]: row for row in csv.DictReader(handle)}


@pytest.fixture(scope="module")
def submissions(tmp_path_factory):
    folder = tmp_path_factory.mktemp("submissions")
    for student in STUDENTS:
        shutil.copytree(ROOT / "examples" / "submissions" / student, folder / student)
    return folder


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """An OUT folder holding the template gradebook (made once: both runs below start from a copy)."""
    from autograder.grading import record
    from autograder.grading.config import GradingConfig
    folder = tmp_path_factory.mktemp("prepared")
    record.prepare(GradingConfig(ASSIGNMENT, folder))
    return folder


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cluster")
    # The scheduler unpickles tasks and the workers run them: both import this file's die_on.
    path = os.pathsep.join(filter(None, [str(Path(__file__).parent), os.environ.get("PYTHONPATH")]))
    env = {"DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": str(ALLOWED_FAILURES), "PYTHONPATH": path}
    with distributed.CommandLineCluster(2, folder, env=env) as running:
        yield running


@pytest.fixture(scope="module")
def dask_executor(cluster):
    with distributed.open_executor(cluster.address) as opened:
        yield opened


# ---------------------------------------------------------------- faults and refusals, without grading

def test_workers_refuse_a_client_whose_course_or_packages_differ(dask_executor, tmp_path):
    from autograder.grading.config import GradingConfig
    config = GradingConfig(ASSIGNMENT, tmp_path)
    honest = distributed.manifest(config)
    spec = distributed.RunSpec("0" * 32, distributed.options(config), True, honest, b"")
    dask_executor.check_workers(spec)                         # same machine, same files: no word

    files = dict(honest["files"], **{"autograder/check.py": "0" * 64})
    packages = dict(honest["packages"], numpy="0.0.1")
    other = distributed.RunSpec("1" * 32, distributed.options(config), True, {"files": files, "packages": packages},
                                b"")
    with pytest.raises(distributed.WorkerRefused) as refused:
        dask_executor.check_workers(other)
    said = str(refused.value)
    assert "autograder/check.py (differs)" in said and "numpy" in said and "0.0.1 on the client" in said
    assert said.count("refuses to grade") == len(dask_executor.workers()) == 2

    # a worker that joins later checks before its first student: the run stops, nothing is graded
    shared = dask_executor.client.scatter(other, broadcast=True, hash=False)
    parcel = distributed.Parcel("nobody", "digest", ())
    with pytest.raises(distributed.WorkerRefused, match="autograder/check.py"):
        list(dask_executor.map(distributed.grade_on_worker, [parcel], shared))


def die_on(item):
    if item == "die":
        os._exit(1)          # the whole Dask worker process, as a segfault or the OOM killer would
    return item


def test_a_task_that_kills_every_worker_is_flagged_and_the_rest_go_on(dask_executor):
    # alone: a task waiting on a worker when it dies is blamed too (Dask counts every task it held)
    [(item, done)] = dask_executor.map(die_on, ["die"])
    assert done.error == "crash" and done.value is None
    assert f"{ALLOWED_FAILURES + 1} Dask workers died" in done.detail
    # the nannies restart the killed workers: the work goes on
    results = dict(dask_executor.map(die_on, ["a", "b"]))
    assert results["a"].value == "a" and results["b"].value == "b"


# ---------------------------------------------------------------- the wire

def test_what_crosses_the_wire_is_content_not_paths(tmp_path):
    from autograder.grading.config import COURSE_ROOT, GradingConfig
    from autograder.grading.pipeline import Job
    folder = tmp_path / "client-only-folder" / "s99" / ASSIGNMENT
    folder.mkdir(parents=True)
    (folder / "01_linear_regression.ipynb").write_text('{"cells": []}')
    (folder / "notes.txt").write_text("mine")
    (folder / "coursekit").mkdir()
    (folder / "coursekit" / "checks.py").write_text("their own kit: replaced anyway")
    job = Job("s99", folder, {"01_linear_regression": folder / "01_linear_regression.ipynb"}, "d" * 64,
              ("a flag",))
    parcel = distributed.pack(job, "coursekit")
    assert parcel.notebooks == {"01_linear_regression": b'{"cells": []}'}
    assert parcel.files == {"notes.txt": b"mine"}
    assert str(tmp_path).encode() not in pickle.dumps(parcel)

    config = GradingConfig(ASSIGNMENT, tmp_path / "client-out")
    template = tmp_path / "template.db"
    template.write_bytes(b"SQLite stand-in")
    spec = distributed.RunSpec("2" * 32, distributed.options(config), True, distributed.manifest(config),
                               template.read_bytes())
    wire = pickle.dumps(spec)
    assert str(tmp_path).encode() not in wire and str(COURSE_ROOT).encode() not in wire
    assert "autograder/grading/pipeline.py" in spec.manifest["files"]
    assert f"source/{ASSIGNMENT}/01_linear_regression.ipynb" in spec.manifest["files"]


def test_the_client_commits_only_the_students_own_files(tmp_path):
    from autograder.grading.config import GradingConfig
    config = GradingConfig(ASSIGNMENT, tmp_path / "out")
    result = {"student_id": "s1", "cells": {}, "score": 0}
    good = {"nbgrader/autograded/s1/ch02/a.ipynb": b"{}", "feedback/s1/ch02/a.html": b"<p>",
            "nbgrader/submitted/s1/ch02/empty/": None}
    distributed.commit(config, "s1", distributed.Reply(executor.Done(result), good, "w", 1.0))
    assert (config.record / "autograded" / "s1" / "ch02" / "a.ipynb").read_bytes() == b"{}"
    assert (config.feedback / "s1" / "ch02" / "a.html").is_file()
    assert (config.record / "submitted" / "s1" / "ch02" / "empty").is_dir()
    assert (config.results / "s1.json").is_file()
    for bad in ("nbgrader/autograded/s2/x", "feedback/s1/../s2/x", "/etc/passwd", "results/s1.json",
                "nbgrader/gradebook.db"):
        with pytest.raises(executor.EngineError):
            distributed.commit(config, "s1", distributed.Reply(executor.Done(result), {bad: b"x"}, "w", 1.0))
    assert not (config.record / "autograded" / "s2").exists()


def test_versions_are_compared_file_by_file_and_package_by_package():
    client = {"files": {"a.py": "1", "b.py": "2", "gone.py": "3"}, "packages": {"numpy": "2.4.6", "dask": "1"}}
    worker = {"files": {"a.py": "1", "b.py": "9", "extra.py": "4"}, "packages": {"numpy": "2.4.5", "dask": "1",
                                                                                   "only-here": "1"}}
    said = distributed.differences(client, worker)
    assert said == ["b.py (differs)", "extra.py (not on the client)", "gone.py (missing here)",
                    "numpy 2.4.5 here, 2.4.6 on the client"]
    assert distributed.differences(client, client) == []


# ---------------------------------------------------------------- a Dask worker's grading process

def misbehave(item):
    if item == "sleep":
        time.sleep(60)
    if item == "die":
        os._exit(3)
    if item == "raise":
        raise ValueError("no")
    return item


def test_a_grading_process_started_with_subprocess_keeps_the_local_pools_rules():
    slot = executor.Slot(timeout=2, start=executor.popen_process)
    try:
        outcomes = {item: slot.run(misbehave, item) for item in ("a", "sleep", "die", "raise", "b")}
    finally:
        slot.close()
    assert outcomes["a"].value == "a" and outcomes["b"].value == "b"
    assert outcomes["sleep"].error == "timeout"
    assert outcomes["die"].error == "crash" and "died" in outcomes["die"].detail
    assert outcomes["raise"].error == "crash" and "ValueError" in outcomes["raise"].detail


# ---------------------------------------------------------------- the run, against the local pool

def is_kernel(process):
    """A grading kernel: a fresh one (ipykernel), or one forked from the worker's kernel template."""
    command, parent = " ".join(process.cmdline()), process.parent()
    return "ipykernel" in command or ("kernel_template.py" in command and parent is not None
                                      and "kernel_template.py" in " ".join(parent.cmdline()))


def kill_a_worker_mid_student(address, run, timeout=300):
    """SIGKILL the Dask worker process that is running a student's kernel: its address, its pid, its tasks,
    what it had started."""
    from distributed import Client
    deadline = time.monotonic() + timeout
    with Client(address, timeout=30) as client:
        while time.monotonic() < deadline:
            assert run.poll() is None, "the run ended before a worker could be killed mid-student"
            pids = client.run(os.getpid, on_error="return")
            for worker, keys in client.processing().items():
                if not keys or not isinstance(pids.get(worker), int):
                    continue
                try:
                    started = psutil.Process(pids[worker]).children(recursive=True)
                    kernel = any(is_kernel(p) for p in started)
                except psutil.Error:
                    continue
                if kernel:                     # the grading process is in the middle of a notebook
                    os.kill(pids[worker], signal.SIGKILL)
                    return worker, pids[worker], [str(key) for key in keys], started
            time.sleep(0.3)
    pytest.fail("no worker was seen in the middle of a student")


def test_dask_grades_what_the_examples_earn_even_when_a_worker_is_killed(submissions, prepared, cluster, tmp_path):
    out = tmp_path / "dask"
    shutil.copytree(prepared, out)
    run = subprocess.Popen(command(out, submissions, "--scheduler", cluster.address), cwd=ROOT, env=environment(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        killed, killed_pid, keys, started = kill_a_worker_mid_student(cluster.address, run)
        stdout, stderr = run.communicate(timeout=900)
    finally:
        if run.poll() is None:
            executor.kill_tree(run.pid)
    assert run.returncode == 0, stdout + stderr[-5000:]

    # what the client showed: where it grades, and a bar that counted every student across the workers
    assert f"grading on the Dask scheduler at {cluster.address}" in stderr
    assert f"{len(STUDENTS)}/{len(STUDENTS)}" in stderr and "Dask workers" in stderr

    # cell for cell, flags and totals included: what the local pool gives these students (test_grading_examples)
    from test_grading_examples import EXPECTED, check_scores, max_points     # here: the workers import this file
    rows = read_csv(out / "grades.csv")
    check_scores(rows, max_points(rows), everyone={student: EXPECTED[student] for student in STUDENTS})

    # every student committed exactly once, none by the killed worker, none as a crash
    lines = [line.split("\t") for line in (out / ".work" / distributed.LOG).read_text().splitlines()
             if "\t" in line]
    assert sorted(line[0] for line in lines) == sorted(STUDENTS), lines
    assert all(line[3] == "graded" and line[1] != killed for line in lines), (killed, lines)
    assert any(key.startswith("grade-") for key in keys)
    assert sorted(p.stem for p in (out / "results").glob("*.json")) == sorted(STUDENTS)
    with sqlite3.connect(out / "nbgrader" / "gradebook.db") as db:
        assert sorted(r[0] for r in db.execute("SELECT student_id FROM submitted_assignment")) == sorted(STUDENTS)
    for student in STUDENTS:
        assert (out / "feedback" / student / ASSIGNMENT / "02_neural_network.html").is_file()
        assert not (out / "incoming" / student).exists()

    # the killed worker's grading process and the kernel it ran did not outlive it
    gone, alive = psutil.wait_procs(started, timeout=15)
    alive = [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not alive, [p.cmdline() for p in alive]

    # each result is keyed by the digest the local pool computes: on the same OUT it resumes, grading no one
    first = (out / "grades.csv").read_text()
    local = subprocess.run(command(out, submissions, "--workers", "2"), cwd=ROOT, env=environment(),
                           capture_output=True, text=True, timeout=900)
    assert local.returncode == 0, local.stdout + local.stderr[-5000:]
    assert f"{len(STUDENTS)} students (0 graded now, {len(STUDENTS)} unchanged)" in local.stdout, local.stdout
    assert (out / "grades.csv").read_text() == first
    # the killed worker could not remove its kernels' socket folder; the next run did (config.scratch_folder)
    assert not list(Path(tempfile.gettempdir()).glob(f"autograder-run-{killed_pid}-*"))
