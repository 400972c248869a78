"""End to end: every assignment's bundled examples but Chapter 2's (tests/test_grading_examples.py
grades those, in depth) are graded once each and checked cell by cell; then the course's grades
are built from every assignment's grades.csv."""
import json

import pytest

from autograder.grading import course
from test_grading_examples import EXAMPLES, LEAKS, ROOT, check_scores, grade, max_points, read_csv

OTHERS = sorted(p.stem for p in (ROOT / "examples" / "expected").glob("*.json") if p.stem != "ch02_fundamentals")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return tmp_path_factory.mktemp("grades")


@pytest.mark.parametrize("assignment", OTHERS)
def test_bundled_examples_of_every_other_assignment(graded, assignment):
    everyone = json.loads((ROOT / "examples" / "expected" / f"{assignment}.json").read_text())
    out = graded / assignment
    summary = grade(out, "--submissions", str(EXAMPLES), assignment=assignment)
    assert f"{len(everyone)} students ({len(everyone)} graded now" in summary
    rows = read_csv(out / "grades.csv")
    check_scores(rows, max_points(rows, assignment), everyone)
    pages = sorted((out / "feedback").rglob("*.html"))
    assert pages and not [page for page in pages for leak in LEAKS if leak in page.read_text()]


def test_the_course_csv_adds_up_every_graded_assignment(graded):
    if not list(graded.glob("*/grades.csv")):
        pytest.skip("no other assignment has examples yet")
    by_assignment = course.build(graded)
    with open(graded / "course.csv") as handle:
        header, *rows = [line.rstrip("\n").split(",") for line in handle]
    assert header == ["student_id", *by_assignment, "total", "max_score"]
    for row in rows:
        scores = [float(cell) for cell in row[1:-2] if cell]
        assert float(row[-2]) == sum(scores)
