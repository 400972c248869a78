"""Grading without bubblewrap: refused unless accepted, and then every output says so."""
import csv
import os
import subprocess
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from autograder.grading import cli

ROOT = Path(__file__).resolve().parents[1]
STEM = "01_linear_regression"
MAE = "import numpy as np\n\ndef mae(preds, actuals):\n    return float(np.mean(np.abs(preds - actuals)))"
TEST = 'assert callable(mae)\n### BEGIN HIDDEN TESTS\nfrom autograder.hidden import run_hidden_test\nrun_hidden_test("lin_mae", mae)\n### END HIDDEN TESTS'


def tiny_course(base):
    def meta(grade_id, **kind):
        data = {"grade_id": grade_id, "locked": bool(kind.get("grade")), "schema_version": 3,
                "solution": False, "grade": False, **kind}
        return {"nbgrader": data}
    notebook = new_notebook(cells=[new_code_cell(MAE, metadata=meta("mae_solution", solution=True)),
                                   new_code_cell(TEST, metadata=meta("lin_mae", grade=True, points=2))],
                            metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    (base / "course" / "source" / "ch02_fundamentals").mkdir(parents=True)
    nbformat.write(notebook, str(base / "course" / "source" / "ch02_fundamentals" / f"{STEM}.ipynb"))
    (base / "submitted" / "ann" / "ch02_fundamentals").mkdir(parents=True)
    nbformat.write(notebook, str(base / "submitted" / "ann" / "ch02_fundamentals" / f"{STEM}.ipynb"))
    return ["ch02_fundamentals", "--submissions", str(base / "submitted"), "--out", str(base / "out"), "--course-root",
            str(base / "course"), "--no-kit", "--workers", "1", "--quiet"]


def test_without_bubblewrap_grading_refuses_and_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli.confine, "available", lambda: False)
    assert cli.main(tiny_course(tmp_path)) == 2
    said = capsys.readouterr().err
    assert "bubblewrap" in said and "apt-get install bubblewrap" in said and "--allow-unconfined" in said
    assert not (tmp_path / "out" / "grades.csv").exists()


def test_accepted_unconfined_kernels_grade_and_every_output_says_so(tmp_path):
    args = tiny_course(tmp_path) + ["--unconfined"]     # what --allow-unconfined does without bubblewrap
    env = {"HOME": os.environ.get("HOME", "/tmp"), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "UNCONFINED" in done.stderr and "unconfined kernel" in done.stdout
    with open(tmp_path / "out" / "grades.csv", newline="") as handle:
        row = next(csv.DictReader(handle))
    assert row["score"] == "2" and "unconfined kernel" in row["flags"]
    page = next((tmp_path / "out" / "feedback" / "ann").rglob("*.html")).read_text()
    assert "unconfined" in page
