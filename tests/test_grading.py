"""Unit tests of the grading pipeline's parts that need no kernel: intake, hashing, feedback
cleaning, the executor's timeouts and crashes, the gradebook merge."""
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import psutil
import pytest

from autograder.grading import executor, feedback, fingerprint, gradebook, intake, report
from autograder.grading.config import GradingConfig
from pool_tasks import misbehave, place, square     # light: each worker the pool starts imports them

STEMS = ["01_linear_regression", "02_neural_network"]


# ---------------------------------------------------------------- intake

@pytest.mark.parametrize("name, want", [
    ("alice/01_linear_regression.ipynb", ("alice", "01_linear_regression")),
    ("alice/ch02_fundamentals/02_neural_network.ipynb", ("alice", "02_neural_network")),
    ("top/alice/ch02_fundamentals/02_neural_network.ipynb", None),   # too deep: whose?
    ("bob_12345_67890_01_linear_regression.ipynb", ("bob", "01_linear_regression")),
    ("bob_late_02_neural_network-1.ipynb", ("bob", "02_neural_network")),
    ("../../etc/evil_01_linear_regression.ipynb", None),  # `..` and an LMS name in a folder
    ("01_linear_regression.ipynb", None),                 # whose?
    ("alice/notes.txt", None),
    ("alice/03_other.ipynb", None),
    ("__MACOSX/alice/._01_linear_regression.ipynb", None),
])
def test_zip_member_names(name, want):
    assert intake.member_target(name, STEMS) == want


def test_unpacked_zip_has_nbgrader_layout_and_nothing_escapes(tmp_path):
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("carol_1_01_linear_regression.ipynb", "{}")
        zipped.writestr("dan/02_neural_network.ipynb", "{}")
        zipped.writestr("../../escape_01_linear_regression.ipynb", "{}")
    with pytest.warns(intake.IntakeWarning, match="escape_01_linear_regression"):
        folder = intake.unpack_zip(archive, tmp_path / "out", "a1", STEMS)
    found = sorted(str(p.relative_to(folder)) for p in folder.rglob("*.ipynb"))
    assert found == ["carol/a1/01_linear_regression.ipynb", "dan/a1/02_neural_network.ipynb"]
    assert not list(tmp_path.glob("*.ipynb")) and not list(tmp_path.rglob("escape*"))
    submissions = intake.from_folder(folder, "a1", STEMS)
    assert [(s.student_id, sorted(s.notebooks), s.flags) for s in submissions] == [
        ("carol", ["01_linear_regression"], ()), ("dan", ["02_neural_network"], ())]


# ---------------------------------------------------------------- hashing

def test_submission_digest_follows_the_student_files_but_not_their_kit(tmp_path):
    folder = tmp_path / "s" / "a1"
    (folder / "coursekit").mkdir(parents=True)
    (folder / "01_linear_regression.ipynb").write_text("one")
    submission = intake.Submission("s", folder, {})
    first = fingerprint.submission_digest(submission, "coursekit", "grader")
    (folder / "coursekit" / "checks.py").write_text("edited kit")
    assert fingerprint.submission_digest(submission, "coursekit", "grader") == first
    assert fingerprint.submission_digest(submission, "coursekit", "other grader") != first
    (folder / "01_linear_regression.ipynb").write_text("two")
    assert fingerprint.submission_digest(submission, "coursekit", "grader") != first


# ---------------------------------------------------------------- feedback cleaning

def test_hidden_regions_are_cut_from_sources():
    source = ('assert f(1) == 2\n### BEGIN HIDDEN TESTS\nrun_hidden_test("x", f)\n### END HIDDEN TESTS\n'
              'print("done")\n')
    assert feedback.strip_hidden(source) == 'assert f(1) == 2\nprint("done")\n'
    unterminated = "visible()\n### BEGIN HIDDEN TESTS\nsecret()"
    assert "secret" not in feedback.strip_hidden(unterminated)


def test_errors_are_reduced_to_their_last_line():
    output = {"output_type": "error", "ename": "AssertionError", "evalue": "mae(...) is wrong (largest difference 1.73)",
              "traceback": ["\x1b[31m---------\x1b[0m", "File /work/main/autograder/hidden.py:38, in run_hidden_test",
                            '    run_hidden_test("lin_mae", mae)',
                            "\x1b[0;31mAssertionError\x1b[0m: mae(...) is wrong (largest difference 1.73)"]}
    assert feedback.last_line(output) == "AssertionError: mae(...) is wrong (largest difference 1.73)"
    assert feedback.last_line({"ename": "ValueError", "evalue": "bad\nshapes (2,) and (2, 1)"}) == \
        "ValueError: bad\nshapes (2,) and (2, 1)"
    assert feedback.last_line({"traceback": ["frame", "\x1b[31mKeyError\x1b[0m: 'W'"]}) == "KeyError: 'W'"


# ---------------------------------------------------------------- executor

def test_process_pool_returns_every_result():
    pool = executor.LocalProcessPool(2, timeout=30)
    assert sorted(done.value for _, done in pool.map(square, range(6))) == [0, 1, 4, 9, 16, 25]


@pytest.mark.parametrize("preload", [(), ("pool_tasks",)], ids=["spawned", "forked-from-server"])
def test_process_pool_survives_hangs_crashes_and_exceptions(preload):
    pool = executor.LocalProcessPool(2, timeout=3, preload=preload)
    started = time.monotonic()
    results = dict(pool.map(misbehave, ["sleep", "die", "raise", "a", "b", "c"]))
    # the sleeper was stopped at its 3 s timeout, not waited for (an hour): the bound leaves room for a
    # loaded machine starting fresh worker processes, and is no speed target
    assert time.monotonic() - started < 300
    assert results["sleep"].error == "timeout"
    assert results["die"].error == "crash" and "died" in results["die"].detail
    assert results["raise"].error == "crash" and "ValueError" in results["raise"].detail
    assert [results[x].value for x in "abc"] == ["a", "b", "c"]


def test_workers_forked_from_a_server_run_where_and_with_what_a_spawned_one_would(tmp_path, monkeypatch):
    """The fork server was started once, from wherever this process was then; each worker takes this
    process's folder and environment of now, as a spawned worker would."""
    monkeypatch.chdir(tmp_path)
    for marker in ("first", "second"):
        monkeypatch.setenv("POOL_MARKER", marker)
        places = [done.value for _, done in executor.LocalProcessPool(2, preload=("pool_tasks",)).map(place, range(4))]
        assert {p["cwd"] for p in places} == {str(tmp_path)}
        assert {p["marker"] for p in places} == {marker}
        assert len({p["parent"] for p in places}) == 1 and places[0]["parent"] != os.getpid()   # the fork server


def test_a_forked_worker_leaves_when_its_pool_is_killed(tmp_path):
    """kill -9 of the grader: its fork server ends, and with it every worker, in the middle of an item."""
    pidfile = tmp_path / "worker.pid"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[1]), str(Path(__file__).parent)])}
    parent = subprocess.Popen([sys.executable, str(Path(__file__).parent / "pool_tasks.py"), str(pidfile)], env=env)
    try:
        deadline = time.monotonic() + 120
        while not (pidfile.is_file() and pidfile.read_text()) and time.monotonic() < deadline:
            time.sleep(0.1)
        worker = psutil.Process(int(pidfile.read_text()))
    finally:
        parent.kill()
        parent.wait()
    worker.wait(timeout=15)     # psutil.TimeoutExpired if it outlived its pool


# ---------------------------------------------------------------- gradebook merge and csv

def make_gradebook(path):
    with sqlite3.connect(path) as db:
        for table in gradebook.STUDENT_TABLES:
            db.execute(f"CREATE TABLE {table} (id TEXT PRIMARY KEY, value TEXT)")


def test_merge_rebuilds_from_the_template_without_duplicates(tmp_path):
    template = tmp_path / "template.db"
    make_gradebook(template)
    results = [{"rows": {"student": [{"id": "s1", "value": "a"}], "grade": [{"id": "g1", "value": "2"}]}},
               {"rows": {"student": [{"id": "s2", "value": "b"}]}}, {"rows": {}}]
    destination = tmp_path / "gradebook.db"
    for _ in range(2):
        gradebook.merge(template, results, destination)
    with sqlite3.connect(destination) as db:
        assert db.execute("SELECT id FROM student ORDER BY id").fetchall() == [("s1",), ("s2",)]
        assert db.execute("SELECT COUNT(*) FROM grade").fetchone() == (1,)
    with sqlite3.connect(template) as db:
        assert db.execute("SELECT COUNT(*) FROM student").fetchone() == (0,)


def test_csv_has_a_column_per_cell_and_blank_for_ungraded(tmp_path):
    results = [{"student_id": "s1", "score": 3.0, "max_score": 5.0, "flags": ["timeout (nb)"],
                "cells": {"nb:a": {"score": 3.0}, "nb:q": {"score": None}}}]
    report.write_csv(tmp_path / "grades.csv", results, ["nb:a", "nb:q"])
    assert (tmp_path / "grades.csv").read_text().splitlines() == [
        "student_id,score,max_score,nb:a,nb:q,flags", "s1,3,5,3,,timeout (nb)"]


def test_config_paths_live_under_out(tmp_path):
    config = GradingConfig("a1", tmp_path)
    assert {config.record, config.results, config.feedback, config.work} == {
        tmp_path / "nbgrader", tmp_path / "results", tmp_path / "feedback", tmp_path / ".work"}


# ---------------------------------------------------------------- the bundled examples are current

def test_examples_are_rebuilt_from_the_current_release(tmp_path):
    """examples/submissions must be what examples/build.py makes from notebooks/ now."""
    import importlib.util
    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("examples_build", root / "examples" / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    for assignment in build.assignments():
        build.build(assignment, root / "notebooks" / assignment, tmp_path / "submissions",
                    tmp_path / "expected" / f"{assignment}.json")
    fresh = {p.relative_to(tmp_path / "submissions"): p.read_bytes() for p in (tmp_path / "submissions").rglob("*.ipynb")}
    committed = {p.relative_to(build.OUT): p.read_bytes() for p in build.OUT.rglob("*.ipynb")}
    stale = sorted(str(p) for p in set(fresh) | set(committed) if fresh.get(p) != committed.get(p))
    assert not stale, f"rerun `python examples/build.py` and commit: {stale}"
    for assignment in build.assignments():
        expected = f"expected/{assignment}.json"
        assert (tmp_path / expected).read_text() == (root / "examples" / expected).read_text(), expected


def test_summary_prints_every_students_grade_and_lost_cells():
    from autograder.grading import report
    cell = lambda score, max_score: {"score": score, "max_score": max_score}
    results = [
        {"student_id": "ada", "score": 5.0, "max_score": 7.0, "flags": [],
         "cells": {"nb:lin_forward": cell(2.0, 2.0), "nb:lin_gradients": cell(3.0, 3.0), "nb:q_why": cell(None, 2.0)}},
        {"student_id": "bob", "score": 2.0, "max_score": 7.0, "flags": ["timeout (nb)"],
         "cells": {"nb:lin_forward": cell(2.0, 2.0), "nb:lin_gradients": cell(0.0, 3.0), "nb:q_why": cell(None, 2.0)}},
    ]
    text = report.summary(results, graded_now=2, seconds=1.0)
    assert re.search(r"^ada\s+5 / 7\s+-$", text, re.M)
    assert re.search(r"^bob\s+2 / 7\s+lin_gradients$", text, re.M)
    assert "includes 2 points of written answers" in text and "bob  timeout (nb)" in text


# ---------------------------------------------------------------- the run's scratch folder

def test_a_scratch_folder_whose_process_is_gone_is_removed_by_the_next_run(tmp_path, monkeypatch):
    import os
    import subprocess
    import sys
    import tempfile
    from autograder.grading import config
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        killed = tmp_path / f"{config.SCRATCH_PREFIX}{ended.stdout.strip()}-x1"     # its process was killed
        (killed / "w1-a").mkdir(parents=True)
        (killed / "w1-a" / "s").write_text("socket")
        running = tmp_path / f"{config.SCRATCH_PREFIX}{sleeper.pid}-x2"            # another run, still going
        running.mkdir()
        older = tmp_path / f"{config.SCRATCH_PREFIX}abcdefgh"                      # no pid in its name
        older.mkdir()
        made = Path(config.scratch_folder())
        assert made.parent == tmp_path and made.name.startswith(f"{config.SCRATCH_PREFIX}{os.getpid()}-")
        assert not killed.exists() and running.is_dir() and older.is_dir()
    finally:
        sleeper.kill()
        sleeper.wait()


# ---------------------------------------------------------------- the kernel client

def test_the_prompt_client_is_ready_with_iopub_connected_and_cells_get_only_their_own_outputs(tmp_path):
    """confine.PromptKernelClient skips jupyter_client's last 0.2 s of reading IOPub at every kernel start; the
    kernel_info request's status messages it leaves there must not reach a cell (nbclient reads by msg_id)."""
    import nbformat
    from jupyter_client.asynchronous import AsyncKernelClient
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient
    from traitlets import Type
    from autograder.grading.confine import ConfinedKernelManager, PromptKernelClient

    class PlainManager(AsyncKernelManager):          # no box: this tests the client alone
        client_factory = Type(PromptKernelClient, klass=AsyncKernelClient)

    assert isinstance(ConfinedKernelManager().client(), PromptKernelClient)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('first')"),
                                         nbformat.v4.new_code_cell("import sys; print('second', file=sys.stderr)"),
                                         nbformat.v4.new_code_cell("21 * 2")])
    client = NotebookClient(nb, timeout=60, kernel_name="python3", kernel_manager_class=PlainManager,
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    assert [[(o.output_type, o.get("name"), o.get("text"), o.get("data", {}).get("text/plain")) for o in cell.outputs]
            for cell in nb.cells] == [[("stream", "stdout", "first\n", None)], [("stream", "stderr", "second\n", None)],
                                      [("execute_result", None, None, "42")]]


def test_feedback_remembers_the_values_used_last_and_forgets_the_rest():
    remembered, computed = feedback.Remembered(3), []

    def value(key):
        return lambda: computed.append(key) or key.upper()
    for key in ["course", "a", "course", "b", "course", "c", "course", "d"]:
        assert remembered.get(key, value(key)) == key.upper()
    assert computed == ["course", "a", "b", "c", "d"]           # the course's, computed once, used by each
    assert list(remembered.values) == ["c", "course", "d"]     # a and b, used once and longest ago, forgotten


def test_the_template_gradebook_is_rebuilt_when_nbgrader_config_changes(tmp_path):
    """prepare() rebuilds the template when its version changes (tests/test_distributed.py and the
    grading tests build it); its version follows nbgrader_config.py, whose stubs the template holds."""
    from autograder.grading import record
    root = Path(__file__).parents[1]
    course = tmp_path / "course"
    shutil.copytree(root / "source" / "ch01_foundations", course / "source" / "ch01_foundations", symlinks=True)
    shutil.copyfile(root / "nbgrader_config.py", course / "nbgrader_config.py")
    config = GradingConfig("ch01_foundations", tmp_path / "out", course_root=course)
    first = record.template_version(config)
    assert record.template_version(config) == first
    with open(course / "nbgrader_config.py", "a") as config_file:
        config_file.write("\nc.ClearSolutions.code_stub = {'python': '# your code here\\nraise NotImplementedError'}\n")
    assert record.template_version(config) != first


def test_a_box_sees_the_system_python_and_the_graders_output_but_not_the_temporary_folder(tmp_path):
    from autograder.grading import confine
    out = tmp_path / "out"
    assert confine.seen_by_boxes(sys.prefix, out) and confine.seen_by_boxes(Path(sys.prefix) / "tmp", out)
    assert confine.seen_by_boxes("/usr/lib", out) and confine.seen_by_boxes(out / ".work" / "worker-1", out)
    assert not confine.seen_by_boxes(tmp_path / "elsewhere", out)
