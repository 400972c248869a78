"""What a TA opens is inert: grades.csv cells never start like a formula; the terminal gets no controls."""
import csv

import pytest

from autograder.grading import report


def result(student_id, score=5.0, flags=()):
    return {"student_id": student_id, "score": score, "max_score": 12.5, "flags": list(flags),
            "cells": {"nb:a": {"score": score, "max_score": 12.5}}}


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


@pytest.mark.parametrize("text", ['=HYPERLINK("x")', "+1", "-2", "@x", "\tx", "\rx", "=1+1", "\uff1dSUM(A1)"])
def test_text_that_starts_like_a_formula_is_quoted(text):
    assert report.safe_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["alice", "José", "a=b", "1", "", "'=already", " x", "timeout (nb)"])
def test_other_text_is_unchanged(text):
    assert report.safe_cell(text) == text


@pytest.mark.parametrize("value", [0, 12.5, -2, None])
def test_non_text_is_unchanged(value):
    assert report.safe_cell(value) == value


def test_grades_csv_quotes_ids_and_flags_but_not_numbers(tmp_path):
    ids = ['=HYPERLINK("x")', "+1", "-2", "@x", "\tx"]
    results = [result(sid, score) for sid, score in zip(ids, [0.0, 12.5, 0.0, 12.5, 0.0])]
    results.append(result("李雷", 0.0, flags=["=cmd|' /C calc'!A0", "timeout (nb)"]))
    path = tmp_path / "grades.csv"
    report.write_csv(path, results, ["nb:a"])
    rows = read_rows(path)
    assert rows[0] == ["student_id", "score", "max_score", "nb:a", "flags"]
    assert [row[0] for row in rows[1:]] == ["'" + sid for sid in ids] + ["李雷"]
    assert [row[1:4] for row in rows[1:]] == [["0", "12.5", "0"], ["12.5", "12.5", "12.5"], ["0", "12.5", "0"],
                                             ["12.5", "12.5", "12.5"], ["0", "12.5", "0"], ["0", "12.5", "0"]]
    assert rows[-1][4] == "'=cmd|' /C calc'!A0; timeout (nb)"
    assert all(not cell.startswith(tuple("=+-@\t\r")) for row in rows for cell in row)


def test_a_negative_number_stays_a_number(tmp_path):
    path = tmp_path / "grades.csv"
    report.write_csv(path, [result("s1", -1.0)], ["nb:a"])
    assert read_rows(path)[1][:4] == ["s1", "-1", "12.5", "-1"]


def test_a_column_name_that_starts_like_a_formula_is_quoted(tmp_path):
    path = tmp_path / "grades.csv"
    report.write_csv(path, [result("s1")], ["=nb:a"])
    assert read_rows(path)[0][3] == "'=nb:a"


def test_the_summary_prints_no_control_characters():
    evil = "mallory\x1b]0;pwned\x07\x1b[2J\r\u202eevil\nx"
    text = report.summary([result(evil, flags=["crash (nb: \x1b[31mred)"])], graded_now=1, seconds=1.0)
    assert "\x1b" not in text and "\x07" not in text and "\r" not in text and "\u202e" not in text
    assert "mallory?]0;pwned??[2J??evil?x" in text and "crash (nb: ?[31mred)" in text
    assert all(line.isprintable() for line in text.splitlines())


def test_printable_keeps_letters_of_any_script():
    assert report.printable("José 李雷 हिन्दी") == "José 李雷 हिन्दी"
    assert report.printable("a\tb\x00c") == "a?b?c"
