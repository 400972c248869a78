"""nbgrader's gradebook as plain rows: read a student's grades, override them, merge them.

nbgrader's ids are UUIDs and every worker's gradebook starts as a copy of one template,
so a student's rows (student, submission, notebooks, grades, comments) move between
gradebooks unchanged. The merged gradebook is rebuilt from the template and every
student's saved rows on each run: rerunning cannot duplicate anything.
"""
import os
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

STUDENT_TABLES = ("student", "submitted_assignment", "submitted_notebook", "grade", "comment")

CELLS = """
SELECT notebook.name, base_cell.name, grade.auto_score, grade.manual_score, grade_cells.max_score,
       grade_cells.cell_type, grade.needs_manual_grade, grade.id
FROM grade
JOIN submitted_notebook ON grade.notebook_id = submitted_notebook.id
JOIN submitted_assignment ON submitted_notebook.assignment_id = submitted_assignment.id
JOIN assignment ON submitted_assignment.assignment_id = assignment.id
JOIN notebook ON submitted_notebook.notebook_id = notebook.id
JOIN base_cell ON grade.cell_id = base_cell.id
JOIN grade_cells ON grade_cells.id = base_cell.id
WHERE submitted_assignment.student_id = ? AND assignment.name = ?
ORDER BY notebook.name, base_cell.name
"""


def connect(path: Path):
    return closing(sqlite3.connect(str(path), timeout=60))


def cells(path: Path, student: str, assignment: str) -> dict:
    """{(notebook, grade_id): row} for one student's graded cells."""
    with connect(path) as db:
        keys = ("notebook", "grade_id", "auto_score", "manual_score", "max_score", "cell_type",
                "needs_manual_grade", "id")
        return {(row[0], row[1]): dict(zip(keys, row)) for row in db.execute(CELLS, (student, assignment))}


def assignment_cells(path: Path, assignment: str) -> dict:
    """{(notebook, grade_id): (max_score, cell_type)} from a gradebook's assignment."""
    query = """SELECT notebook.name, base_cell.name, grade_cells.max_score, grade_cells.cell_type
               FROM grade_cells JOIN base_cell ON grade_cells.id = base_cell.id
               JOIN notebook ON base_cell.notebook_id = notebook.id
               JOIN assignment ON notebook.assignment_id = assignment.id WHERE assignment.name = ?"""
    with connect(path) as db:
        return {(r[0], r[1]): (r[2], r[3]) for r in db.execute(query, (assignment,))}


def zero(path: Path, grade_row_id: str, comment: str):
    """Take a cell's points away (manual_score overrides auto_score in nbgrader) and say why."""
    with connect(path) as db, db:
        db.execute("UPDATE grade SET manual_score = 0 WHERE id = ?", (grade_row_id,))
        db.execute("""UPDATE comment SET auto_comment = ? WHERE notebook_id =
                      (SELECT notebook_id FROM grade WHERE id = ?) AND cell_id =
                      (SELECT cell_id FROM grade WHERE id = ?)""", (comment, grade_row_id, grade_row_id))


def _submission_ids(db, student, assignment):
    query = """SELECT submitted_assignment.id FROM submitted_assignment JOIN assignment
               ON submitted_assignment.assignment_id = assignment.id
               WHERE submitted_assignment.student_id = ? AND assignment.name = ?"""
    return [row[0] for row in db.execute(query, (student, assignment))]


def _select(db, table, where, args):
    cursor = db.execute(f"SELECT * FROM {table} WHERE {where}", args)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor]


def student_rows(path: Path, student: str, assignment: str) -> dict:
    """Everything the gradebook holds about one student's submission, as JSON-able rows."""
    rows = {table: [] for table in STUDENT_TABLES}
    with connect(path) as db:
        rows["student"] = _select(db, "student", "id = ?", (student,))
        for sub in _submission_ids(db, student, assignment):
            rows["submitted_assignment"] += _select(db, "submitted_assignment", "id = ?", (sub,))
            notebooks = _select(db, "submitted_notebook", "assignment_id = ?", (sub,))
            rows["submitted_notebook"] += notebooks
            for notebook in notebooks:
                rows["grade"] += _select(db, "grade", "notebook_id = ?", (notebook["id"],))
                rows["comment"] += _select(db, "comment", "notebook_id = ?", (notebook["id"],))
    return rows


def merge(template: Path, results: list, destination: Path):
    """destination = template + every result's rows, replaced atomically."""
    scratch = destination.with_name(destination.name + ".tmp")
    shutil.copyfile(template, scratch)
    with connect(scratch) as db, db:
        for result in results:
            for table in STUDENT_TABLES:
                for row in result.get("rows", {}).get(table, []):
                    names = list(row)
                    db.execute(f"INSERT OR REPLACE INTO {table} ({', '.join(names)}) "
                               f"VALUES ({', '.join('?' * len(names))})", [row[n] for n in names])
    os.replace(scratch, destination)
