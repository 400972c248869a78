"""Submissions that misbehave in the kernel, graded through the whole pipeline on a tiny
assignment of two graded cells (mae 2 points, rmse 3): each must get what it earned in
the other cell, plus a flag, without holding up or touching the others. Which cells run is the
course's choice: its cell tagged skip-when-grading does not (it would flag everyone), a
student's skip-execution tag is ignored."""
import csv
import os
import subprocess
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "ch02_fundamentals"   # a tiny course of its own, borrowing two of Chapter 2's hidden tests
STEM = "01_linear_regression"   # the stem whose CHECKS hold lin_mae and lin_rmse


def meta(grade_id, solution=False, grade=False, points=0):
    data = {"grade_id": grade_id, "solution": solution, "grade": grade, "locked": grade, "schema_version": 3}
    return {"nbgrader": {**data, "points": points} if grade else data}


MAE = "def mae(preds, actuals):\n    return float(np.mean(np.abs(preds - actuals)))"
RMSE = "def rmse(preds, actuals):\n    return float(np.sqrt(np.mean((preds - actuals) ** 2)))"
TEST = 'assert callable({0})\n### BEGIN HIDDEN TESTS\nfrom autograder.hidden import run_hidden_test\nrun_hidden_test("lin_{0}", {0})\n### END HIDDEN TESTS'


# A demonstration the course tags skip-when-grading: run, it would flag every student who left it as released.
SKIPPED = 'raise SystemExit("not a cell the grader runs")'
WRONG_MAE = "def mae(preds, actuals):\n    return 0.0"


def notebook(rmse_cell=RMSE, extra=None, mae_cell=MAE, skip_own_test=False):
    test_tags = {"tags": ["skip-execution"]} if skip_own_test else {}   # nbclient's tag: a student may set it
    cells = [new_code_cell("import numpy as np"),
             new_code_cell(mae_cell, metadata=meta("mae_solution", solution=True)),
             new_code_cell(TEST.format("mae"), metadata={**meta("lin_mae", grade=True, points=2), **test_tags}),
             new_code_cell(SKIPPED, metadata={"tags": ["skip-when-grading"]}),
             new_code_cell(rmse_cell, metadata=meta("rmse_solution", solution=True)),
             new_code_cell(TEST.format("rmse"), metadata={**meta("lin_rmse", grade=True, points=3), **test_tags})]
    if extra:
        cells.insert(4, new_code_cell(extra))
    return new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                              "language": "python"}})


STUDENTS = {   # student -> (notebook or raw text, mae, rmse, flag word or "")
    "good": (notebook(), "2", "3", ""),
    "exits": (notebook("import sys\nsys.exit(3)"), "2", "0", "exit called"),
    "dies": (notebook("import os\nos._exit(1)"), "2", "0", "kernel died"),
    "loud": (notebook(extra="print('x' * 3_000_000)"), "2", "3", "huge output"),
    "stubborn": (notebook(extra="import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"),
                 "2", "0", "timeout"),
    "garbled": ("\x00\x01 not a notebook", "0", "0", "invalid notebook"),
    # tags its test cells skip-execution, for nbclient to skip them: the tag is removed, the tests run
    "skipper": (notebook(mae_cell=WRONG_MAE, skip_own_test=True), "0", "3", ""),
}


def grade_all(base):
    course, submissions, out = base / "course", base / "submitted", base / "out"
    (course / "source" / ASSIGNMENT).mkdir(parents=True)
    nbformat.write(notebook(), str(course / "source" / ASSIGNMENT / f"{STEM}.ipynb"))
    for student, (content, *_) in STUDENTS.items():
        folder = submissions / student / ASSIGNMENT
        folder.mkdir(parents=True)
        path = folder / f"{STEM}.ipynb"
        path.write_text(content) if isinstance(content, str) else nbformat.write(content, str(path))
    env = {"HOME": os.environ.get("HOME", "/tmp"), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", ASSIGNMENT, "--submissions", str(submissions),
                           "--out", str(out), "--workers", "2", "--cell-timeout", "4", "--quiet",
                           "--course-root", str(course), "--no-kit", "--verifier", "none", "--allow-unconfined"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr[-4000:]
    with open(out / "grades.csv", newline="") as handle:
        return {row["student_id"]: row for row in csv.DictReader(handle)}


def test_each_gets_what_it_earned_and_a_flag(tmp_path):
    # one test, one grading run: pytest-xdist would otherwise run a shared fixture per worker
    graded, problems = grade_all(tmp_path), []
    assert sorted(graded) == sorted(STUDENTS)
    for student, (_, mae, rmse, flag) in STUDENTS.items():
        row = graded[student]
        if (row[f"{STEM}:lin_mae"], row[f"{STEM}:lin_rmse"], row["score"]) != (mae, rmse, f"{int(mae) + int(rmse)}"):
            problems.append(f"{student}: {row}")
        if (flag not in row["flags"]) if flag else row["flags"]:
            problems.append(f"{student}: flags {row['flags']!r}, expected {flag!r}")
    assert not problems, "\n".join(problems)
