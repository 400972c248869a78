"""The course's grades: course.csv (a row per student, a column per assignment) and export.csv
(nbgrader export's columns), from each assignment's grades.csv."""
import csv

from autograder import __main__ as command
from autograder.grading import course

GRADES = {
    "ch01_foundations": "student_id,score,max_score,a:x,flags\nalice,7,10,7,\nbob,10,10,10,\n",
    "ch02_fundamentals": "student_id,score,max_score,b:y,flags\nalice,12.5,20,12.5,\n'=carol,0,20,0,timeout\n",
}


def write_grades(folder):
    for assignment, text in GRADES.items():
        (folder / assignment).mkdir(parents=True)
        (folder / assignment / "grades.csv").write_text(text)


def rows(path):
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


def test_course_csv_has_a_column_per_assignment_and_leaves_missing_ones_empty(tmp_path, capsys):
    write_grades(tmp_path)
    (tmp_path / "report").mkdir()                                  # not an assignment: ignored
    assert command.main(["course", str(tmp_path)]) == 0
    assert "3 students, 2 assignments: ch01_foundations, ch02_fundamentals" in capsys.readouterr().out
    assert rows(tmp_path / "course.csv") == [
        ["student_id", "ch01_foundations", "ch02_fundamentals", "total", "max_score"],
        ["'=carol", "", "0", "0", "30"],                           # still defused for spreadsheets
        ["alice", "7", "12.5", "19.5", "30"],
        ["bob", "10", "", "10", "30"]]


def test_export_csv_has_nbgrader_exports_columns_one_row_per_submission(tmp_path):
    write_grades(tmp_path)
    course.build(tmp_path)
    table = rows(tmp_path / "export.csv")
    assert table[0] == ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email",
                        "raw_score", "late_submission_penalty", "score", "max_score"]
    assert [(r[0], r[3], r[9], r[10]) for r in table[1:]] == [
        ("ch01_foundations", "alice", "7", "10"), ("ch01_foundations", "bob", "10", "10"),
        ("ch02_fundamentals", "alice", "12.5", "20"), ("ch02_fundamentals", "'=carol", "0", "20")]


def test_nothing_graded_is_a_clear_refusal(tmp_path, capsys):
    assert command.main(["course", str(tmp_path)]) == 2
    assert "grade an assignment into" in capsys.readouterr().err
