"""A small class graded end to end: nobody is called a cheat for an honest notebook, an error of
ours never costs points, and a real tampering attempt is still caught (issue 17)."""
import csv
import os
import subprocess
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
STEM = "01_linear_regression"
SETUP = "import numpy as np\nX_sample = np.ones((3, 1)) * 2"       # not a literal: verification leaves it out
MAE = "def mae(preds, actuals):\n    return float(np.mean(np.abs(preds - actuals)))"
TEST = ('assert callable(mae)\n### BEGIN HIDDEN TESTS\nfrom autograder.hidden import run_hidden_test\n'
        'run_hidden_test("lin_mae", mae)\n### END HIDDEN TESTS')
STUDENTS = {
    "explorer": "trial = mae(X_sample, X_sample * 0) if 'mae' in dir() else X_sample.sum()\n" + MAE,
    "unlucky": MAE,                                     # its verification fails for a reason of ours
    "cheat": ("import autograder.compare as compare\ncompare.judge_expected = lambda *args, **kwargs: None\n"
              "def mae(preds, actuals):\n    return -1.0"),
}
# A verifier that breaks, as an environment can, for one student only; the real one for the rest.
VERIFIER = '''
from autograder.verify import verify_notebook

def verify(path, stem, **options):
    if "unlucky" in str(path):
        raise OSError("the sandbox could not start: no space left on device")
    return verify_notebook(path, stem, **options)
'''


def notebook(solution):
    def meta(grade_id, **kind):
        return {"nbgrader": {"grade_id": grade_id, "locked": bool(kind.get("grade")), "schema_version": 3,
                             "solution": False, "grade": False, **kind}}
    return new_notebook(cells=[new_code_cell(SETUP),
                               new_code_cell(solution, metadata=meta("mae_solution", solution=True)),
                               new_code_cell(TEST, metadata=meta("lin_mae", grade=True, points=2))],
                        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})


def test_honest_students_are_not_flagged_errors_of_ours_cost_nothing_and_cheats_are_caught(tmp_path):
    (tmp_path / "course" / "source" / "ch02_fundamentals").mkdir(parents=True)
    nbformat.write(notebook(MAE), str(tmp_path / "course" / "source" / "ch02_fundamentals" / f"{STEM}.ipynb"))
    for student, solution in STUDENTS.items():
        (tmp_path / "submitted" / student / "ch02_fundamentals").mkdir(parents=True)
        nbformat.write(notebook(solution), str(tmp_path / "submitted" / student / "ch02_fundamentals" / f"{STEM}.ipynb"))
    (tmp_path / "flaky_verifier.py").write_text(VERIFIER)
    env = {"HOME": os.environ.get("HOME", "/tmp"), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
           "PYTHONPATH": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", "ch02_fundamentals", "--submissions",
                           str(tmp_path / "submitted"), "--out", str(tmp_path / "out"), "--course-root",
                           str(tmp_path / "course"), "--no-kit", "--workers", "2", "--quiet", "--allow-unconfined",
                           "--verifier", "flaky_verifier:verify"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    with open(tmp_path / "out" / "grades.csv", newline="") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    flags = {student: [f for f in row["flags"].split("; ") if f and f != "unconfined kernel"]
             for student, row in rows.items()}
    assert rows["explorer"]["score"] == "2" and flags["explorer"] == [], rows["explorer"]
    assert rows["unlucky"]["score"] == "2", rows["unlucky"]
    assert [f for f in flags["unlucky"] if f.startswith("could not verify")], flags["unlucky"]
    assert "no space left" in rows["unlucky"]["flags"] and "tampering" not in rows["unlucky"]["flags"]
    assert rows["cheat"]["score"] == "0"
    assert any(f.startswith("tampering suspected") for f in flags["cheat"]), flags["cheat"]
    assert any(f.startswith("tampering attempted") for f in flags["cheat"]), flags["cheat"]
