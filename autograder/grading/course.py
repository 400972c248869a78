"""`python -m autograder course GRADES`: the course's grades, from each assignment's grades.csv.

GRADES/<assignment>/grades.csv is what `python -m autograder grade <assignment> --out
GRADES/<assignment>` wrote (`make grade` grades every assignment that way). This writes
- GRADES/course.csv: one row per student, a column per assignment (its score; empty where the
  student submitted nothing for it), then the total and the course's maximum;
- GRADES/export.csv: one row per student and assignment, in the columns of `nbgrader export`
  (assignment, duedate, timestamp, student_id, last_name, first_name, email, raw_score,
  late_submission_penalty, score, max_score), for tools that read nbgrader's export.
Assignments are taken in course order (their names sort that way).
"""
import argparse
import csv
import io
import os
import sys
from pathlib import Path

from .report import number

EXPORT_COLUMNS = ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email",
                  "raw_score", "late_submission_penalty", "score", "max_score"]


def read_grades(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def assignment_grades(grades: Path) -> dict:
    """{assignment: rows of its grades.csv}, for every GRADES/<assignment>/grades.csv."""
    return {path.parent.name: read_grades(path) for path in sorted(grades.glob("*/grades.csv"))}


def course_max(rows: list) -> float:
    """An assignment's maximum: the same for every student who submitted it."""
    maxima = {float(row["max_score"]) for row in rows if row.get("max_score")}
    if len(maxima) > 1:
        raise ValueError(f"students have different maximum scores: {sorted(maxima)}")
    return maxima.pop() if maxima else 0.0


def write(path: Path, header: list, rows: list):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    scratch = path.with_name(f".{path.name}.tmp")
    scratch.write_text(buffer.getvalue(), encoding="utf-8")
    os.replace(scratch, path)


def course_rows(by_assignment: dict) -> tuple[list, list]:
    """(header, rows) of course.csv. Student ids are taken as grades.csv wrote them (already safe)."""
    assignments = list(by_assignment)
    scores = {a: {row["student_id"]: float(row["score"]) for row in rows} for a, rows in by_assignment.items()}
    students = sorted({student for table in scores.values() for student in table})
    maximum = sum(course_max(rows) for rows in by_assignment.values())
    rows = []
    for student in students:
        mine = [scores[a].get(student) for a in assignments]
        rows.append([student, *(number(s) for s in mine), number(sum(s or 0.0 for s in mine)), number(maximum)])
    return ["student_id", *assignments, "total", "max_score"], rows


def export_rows(by_assignment: dict) -> list:
    return [[assignment, "", "", row["student_id"], "", "", "", row["score"], "0", row["score"], row["max_score"]]
            for assignment, rows in by_assignment.items() for row in rows]


def build(grades: Path) -> dict:
    by_assignment = assignment_grades(grades)
    if not by_assignment:
        raise FileNotFoundError(f"no {grades}/<assignment>/grades.csv: grade an assignment into {grades} first")
    header, rows = course_rows(by_assignment)
    write(grades / "course.csv", header, rows)
    write(grades / "export.csv", EXPORT_COLUMNS, export_rows(by_assignment))
    return by_assignment


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder course", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("grades", type=Path, help="the folder holding <assignment>/grades.csv")
    args = parser.parse_args(argv)
    try:
        by_assignment = build(args.grades)
    except (FileNotFoundError, ValueError, KeyError) as exc:
        print(f"course grades not written: {exc}", file=sys.stderr)
        return 2
    students = len({row["student_id"] for rows in by_assignment.values() for row in rows})
    print(f"wrote {args.grades / 'course.csv'} ({students} students, {len(by_assignment)} assignments: "
          f"{', '.join(by_assignment)}) and {args.grades / 'export.csv'}")
    return 0
