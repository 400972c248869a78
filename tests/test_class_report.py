"""The class report (autograder/grading/class_report.py), on made-up results: what it counts, how it
groups the diagnoses, and that what a student can write (an id, a message, a flag) stays inert in
the page and in the CSV files."""
import base64
import csv
import json
import re
from pathlib import Path

import pytest

from autograder.grading import class_report as cr

LIN, NET = "01_linear_regression", "02_neural_network"
GRAD = f"{LIN}:lin_gradients"
FORWARD = f"{LIN}:lin_forward"
SIGMOID = f"{NET}:net_sigmoid"
WRITTEN = f"{NET}:q_zero_init"

FACTOR_2 = ("gradient 'W': the derivative of (y - P)**2 is -2 (y - P): the factor 2 is missing. "
            "[missing factor 2]")
BIAS = ("gradient 'B': the bias gradient has one row per observation: the bias was added to every row, so its "
        "gradient is summed over the batch axis (axis=0, keepdims=True). [bias not summed]")
BOTH = f"{FACTOR_2} {BIAS}"
STUB = "loss_gradients raised NotImplementedError: "


def cell(score, max_score=3.0, message="", verified=None):
    return {"score": score, "max_score": max_score, "nbgrader": score, "verified": verified, "message": message}


def passed(max_score=3.0):
    return cell(max_score, max_score, "matches the reference on 3 fresh random cases, outside the notebook.", True)


def failed(message, max_score=3.0):
    return cell(0.0, max_score, message, False)


def result(student, grad=None, forward=None, sigmoid=None, flags=(), timings=None):
    cells = {FORWARD: forward or passed(2.0), GRAD: grad or passed(), SIGMOID: sigmoid or passed(1.0),
             WRITTEN: {"score": None, "max_score": 2.0, "nbgrader": None, "verified": None, "message": ""}}
    found = {"student_id": student, "cells": cells, "flags": list(flags),
             "timings": {"Autograde": 20.0, "Feedback": 1.0} if timings is None else timings}
    found["score"] = sum(c["score"] or 0 for c in cells.values())
    found["max_score"] = sum(c["max_score"] for c in cells.values())
    return found


def class_of_nine():
    return [
        result("s1"),
        result("s2", grad=failed(FACTOR_2)),
        result("s3", grad=failed(FACTOR_2.replace("'W'", "'B'"))),
        result("s4", grad=failed(BIAS)),
        result("s5", grad=failed(BOTH)),
        result("s6", grad=failed(STUB), sigmoid=failed("sigmoid raised NotImplementedError: ", 1.0)),
        result("s7", grad=failed("loss_gradients(...)['W'] is wrong (largest difference 0.31)")),
        result("s8", grad=failed("loss_gradients(...)['W'] is wrong (largest difference 12.5)")),
        result("s9", grad=failed(FACTOR_2), flags=[f"tampering suspected ({GRAD})"], timings={"Autograde": 90.0}),
    ]


def exercise(report, key):
    return next(x for x in report.exercises if x.key == key)


# ---------------------------------------------------------------- counting and grouping

def test_each_cell_is_passed_failed_not_attempted_or_flagged():
    report = cr.summarise(class_of_nine())
    grad = exercise(report, GRAD)
    assert dict(grad.counts) == {"passed": 1, "failed": 6, "not attempted": 1, "flagged": 1}
    assert grad.students["not attempted"] == ["s6"]
    assert grad.students["flagged"] == ["s9"]          # a flag names the cell: no diagnosis counted
    assert dict(exercise(report, SIGMOID).counts) == {"passed": 8, "not attempted": 1}
    assert [x.key for x in report.exercises] == sorted([FORWARD, GRAD, SIGMOID])
    assert report.written == [WRITTEN]                 # left for a human: not an exercise here


def test_diagnoses_are_counted_per_student_and_a_cell_with_two_slips_counts_in_both():
    grad = exercise(cr.summarise(class_of_nine()), GRAD)
    assert dict(grad.diagnoses) == {"missing factor 2": 3, "bias not summed": 2, "unexplained": 2}
    assert grad.who["missing factor 2"] == ["s2", "s3", "s5"]
    assert grad.who["bias not summed"] == ["s4", "s5"]
    assert grad.distribution() == "3 missing factor 2, 2 bias not summed, 2 unexplained"
    assert grad.shown["missing factor 2"].most_common(1)[0][0] == \
        "the derivative of (y - P)**2 is -2 (y - P): the factor 2 is missing."


def test_unexplained_failures_group_by_their_message_without_numbers():
    report = cr.summarise(class_of_nine())
    assert [(x.key, message, who) for x, message, who in report.unexplained()] == [
        (GRAD, "loss_gradients(...)['W'] is wrong (largest difference #)", ["s7", "s8"])]


def test_an_unrecognised_gradient_is_unexplained_and_grouped_by_its_pattern():
    messages = [f"gradient 'W1': is wrong: it is {n} times the right answer. [unrecognised] "
                "gradient 'B1': every hidden unit got the same B1 gradient. [B1 collapsed]" for n in (3, 7)]
    report = cr.summarise([result(f"s{i}", grad=failed(m)) for i, m in enumerate(messages)])
    grad = exercise(report, GRAD)
    assert dict(grad.diagnoses) == {"unexplained": 2, "B1 collapsed": 2}
    assert [(m, who) for _, m, who in report.unexplained()] == [
        ("is wrong: it is # times the right answer.", ["s0", "s1"])]     # W1 and B1 keep their digits


@pytest.mark.parametrize("message", [
    "loss_gradients raised ValueError: gradient 'W': x [missing factor 2]",    # the student's own text
    "loss_gradients should be a function, got [missing factor 2]",             # a type's name
    "gradient 'W': something [a slip nobody catalogued]",
    "forward_linear_regression returned its pair the other way round [not a known slip]",
])
def test_only_the_catalogue_names_a_slip_and_never_from_what_the_student_wrote(message):
    grad = exercise(cr.summarise([result("s1", grad=failed(message))]), GRAD)
    assert dict(grad.diagnoses) == {"unexplained": 1}


def test_a_named_diagnosis_of_another_check_counts_once_the_catalogue_has_the_name():
    message = "forward_loss returned its pair the other way round: return (forward_info, loss). [transposed]"
    forward = exercise(cr.summarise([result("s1", forward=failed(message, 2.0))]), FORWARD)
    assert dict(forward.diagnoses) == {"transposed": 1}


def test_normalise_keeps_names_with_digits_and_replaces_numbers():
    assert cr.normalise("W1 has shape (5, 1), expected (1, 5); broadcast to a 8x8 matrix;  diff -1.5e-03") == \
        "W1 has shape (#, #), expected (#, #); broadcast to a #x# matrix; diff #"


def test_a_notebook_flag_covers_its_failing_cells_but_a_passed_cell_stays_passed():
    report = cr.summarise([result("s1", grad=failed(FACTOR_2), flags=[f"timeout ({LIN})"])])
    assert report.outcomes["s1"][GRAD].status == "flagged"
    assert report.outcomes["s1"][FORWARD].status == "passed"
    assert report.outcomes["s1"][SIGMOID].status == "passed"


@pytest.mark.parametrize("flag, flagged", [
    (f"tampering suspected ({GRAD})", {GRAD}),
    (f"kernel and verification disagree ({LIN}:lin_grad)", set()),            # another cell, a prefix of this one
    ("not verified (lin_gradients: not defined outside the notebook)", {GRAD}),
    (f"could not verify ({LIN}: the helper died)", {GRAD, FORWARD}),
    (f"tampering attempted ({LIN}: replaces part of numpy)", {GRAD, FORWARD}),
    (f"missing notebook ({NET})", set()),
    ("huge output", set()),
])
def test_a_flag_covers_the_failing_cells_it_names(flag, flagged):
    mine = result("s1", grad=failed(FACTOR_2), forward=failed("x", 2.0), flags=[flag])
    report = cr.summarise([mine])
    assert {key for key, o in report.outcomes["s1"].items() if o.status == "flagged"} == flagged


def test_a_stopped_worker_flags_every_cell_and_has_no_timings():
    stopped = result("s1", grad=failed("Worker exceeded 900 s"), forward=failed("Worker exceeded 900 s", 2.0),
                     flags=["timeout (Worker exceeded 900 s)"], timings={})
    report = cr.summarise([stopped, result("s2")])
    assert {key: o.status for key, o in report.outcomes["s1"].items()} == \
        {FORWARD: "flagged", GRAD: "flagged", SIGMOID: "passed"}
    assert cr.timing_summary(report)["missing"] == ["s1"]


def test_the_unconfined_flag_of_a_run_flags_no_exercise_and_no_student():
    results = [result("s1", grad=failed(FACTOR_2), flags=["unconfined kernel"]),
               result("s2", flags=["unconfined kernel"])]
    report = cr.summarise(results)
    assert report.outcomes["s1"][GRAD].status == "failed"
    assert report.run_wide == {"unconfined kernel": 2}
    assert [report.student_flags(r) for r in results] == [[], []]


def test_scores_and_timings():
    report = cr.summarise(class_of_nine())
    scores = [report.score(r) for r in report.results]
    assert scores == [6.0, 3.0, 3.0, 3.0, 3.0, 2.0, 3.0, 3.0, 3.0]     # written answers left out
    assert report.autograded_max() == 6.0
    summary = cr.score_summary(scores)
    assert summary["median"] == 3.0 and summary["max"] == 6.0 and summary["min"] == 2.0
    timing = cr.timing_summary(report)
    assert timing["median"] == 21.0
    assert timing["slowest"][0] == (90.0, "s9")


# ---------------------------------------------------------------- the files

def write_out(tmp_path, results, grades_order=None):
    out = tmp_path / "OUT"
    (out / "results").mkdir(parents=True)
    for r in results:
        (out / "results" / f"{len(list((out / 'results').iterdir())):03d}.json").write_text(json.dumps(r))
    (out / "nbgrader" / "source" / "ch02_fundamentals").mkdir(parents=True)
    if grades_order:
        with open(out / "grades.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["student_id", "score", "max_score", SIGMOID, GRAD, FORWARD, WRITTEN, "flags"])
            writer.writerows([[cr.safe_cell(s), 0, 0, 0, 0, 0, "", ""] for s in grades_order])
    return out


EVIL_ID = "<script>alert(1)</script>"
EVIL_MESSAGE = "loss_gradients raised ValueError: <img src=x onerror=alert(2)> see https://evil.example/x"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One report for the file tests (the figures take a second or two)."""
    results = class_of_nine() + [
        result("=cmd|' /C calc'!A0", grad=failed(FACTOR_2)),
        result(EVIL_ID, grad=failed(EVIL_MESSAGE), flags=["=HYPERLINK(\"x\") (<b>bold</b>)"]),
        result("@sum", grad=failed("=SUM(A1) went wrong")),
    ]
    out = write_out(tmp_path_factory.mktemp("report"), results,
                    grades_order=["s9", "s8", "s7", "s6", "s5", "s4", "s3", "s2", "s1"])
    page = cr.build_report(out)
    return out, page, page.read_text(encoding="utf-8")


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_build_writes_the_page_and_four_csv_files(built):
    out, page, _ = built
    assert page == out / "report" / "index.html"
    assert sorted(p.name for p in page.parent.iterdir()) == \
        ["diagnoses.csv", "exercises.csv", "flags.csv", "index.html", "students.csv"]


def test_exercises_csv_in_grades_csv_order(built):
    rows = read_csv(built[0] / "report" / "exercises.csv")
    assert [r["grade_id"] for r in rows] == ["net_sigmoid", "lin_gradients", "lin_forward"]
    grad = rows[1]
    assert (grad["passed"], grad["failed"], grad["not_attempted"], grad["flagged"]) == ("1", "9", "1", "1")
    assert grad["function"] == "loss_gradients"
    assert grad["diagnoses"].startswith("4 missing factor 2, 2 bias not summed, 4 unexplained")


def test_diagnoses_csv_lists_who_made_each_mistake(built):
    rows = {(r["grade_id"], r["diagnosis"], r["message"][:20]): r for r in read_csv(built[0] / "report" / "diagnoses.csv")}
    factor = rows["lin_gradients", "missing factor 2", "the derivative of (y"]
    assert factor["students"] == "4"
    assert factor["student_ids"] == "s5; s3; s2; =cmd|' /C calc'!A0"      # grades.csv's order, then the rest
    assert rows["lin_gradients", "unexplained", "'=SUM(A1) went wrong"]["student_ids"] == "'@sum"


def test_students_come_in_grades_csv_order_then_the_rest(built):
    rows = read_csv(built[0] / "report" / "students.csv")
    assert [r["student_id"] for r in rows][:9] == ["s9", "s8", "s7", "s6", "s5", "s4", "s3", "s2", "s1"]
    assert rows[0]["flagged"] == "1" and rows[0]["seconds"] == "90"
    assert rows[4]["diagnoses"] == "lin_gradients: missing factor 2; lin_gradients: bias not summed"


def test_every_text_cell_of_every_csv_is_inert(built):
    folder = built[0] / "report"
    texts = []
    for path in folder.glob("*.csv"):
        with open(path, newline="", encoding="utf-8") as handle:
            texts += [value for row in csv.reader(handle) for value in row]
    assert texts and not [t for t in texts if t.startswith(("=", "+", "-", "@", "\t", "\r"))]
    flags = read_csv(folder / "flags.csv")
    assert {(r["student_id"], r["flag"]) for r in flags} >= {(EVIL_ID, "'=HYPERLINK(\"x\")"), ("s9", "tampering suspected")}
    ids = [r["student_id"] for r in read_csv(folder / "students.csv")]
    assert "'=cmd|' /C calc'!A0" in ids and "'@sum" in ids


def test_the_page_escapes_what_students_wrote(built):
    text = built[2]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&lt;img src=x onerror=alert(#)&gt;" in text          # unexplained: shown with its numbers as #
    assert "&lt;b&gt;bold&lt;/b&gt;" in text
    assert not re.search(r"<script|<img src=x|<b>bold", text, re.I)
    assert not re.search(r"<[^>]*\son\w+\s*=", text, re.I)                 # no tag has an event handler


def test_the_page_is_self_contained(built):
    text = built[2]
    assert "<script" not in text.lower()
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:|//|ftp:)""", text, re.I)
    assert not re.search(r"@import|url\(", text, re.I)
    links = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)""", text)
    assert {link for link in links if not link.startswith("data:image/png;base64,")} == \
        {"exercises.csv", "diagnoses.csv", "flags.csv", "students.csv"}
    images = [link for link in links if link.startswith("data:")]
    assert len(images) == 3
    assert all(base64.b64decode(i.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n" for i in images)
    # the only URL is the one a student wrote, escaped text, never a link
    assert [u for u in re.findall(r"https?://[^\s<]+", text)] == ["https://evil.example/x"]


def test_the_page_shows_the_counts_and_who(built):
    text = built[2]
    assert "Class report — ch02_fundamentals" in text
    assert "4 missing factor 2, 2 bias not summed, 4 unexplained" in text
    assert "s5, s3, s2, =cmd|&#x27; /C calc&#x27;!A0" in text
    assert "loss_gradients(...)[&#x27;W&#x27;] is wrong (largest difference #)" in text


def test_the_stub_is_found_in_nbgraders_notebook_when_there_is_no_verdict(tmp_path):
    no_verdict = cell(0.0, 3.0, "", None)
    out = write_out(tmp_path, [result("s1", grad=no_verdict), result("s2", grad=dict(no_verdict))])
    notebook = {"cells": [{"cell_type": "code", "metadata": {"nbgrader": {"grade_id": "lin_gradients"}},
                           "outputs": [{"output_type": "error", "ename": "NotImplementedError", "evalue": ""}]}]}
    folder = out / "nbgrader" / "autograded" / "s1" / "ch02_fundamentals"
    folder.mkdir(parents=True)
    (folder / f"{LIN}.ipynb").write_text(json.dumps(notebook))
    stub = cr.autograded_stub_error(out, "ch02_fundamentals")
    report = cr.summarise(cr.read_results(out)[0], out, stub_error=stub)
    assert report.outcomes["s1"][GRAD].status == "not attempted"
    assert report.outcomes["s2"][GRAD].status == "failed"
    assert exercise(report, GRAD).unexplained == {cr.NO_MESSAGE: ["s2"]}


def test_the_stub_is_found_in_the_cells_error_when_the_result_has_it():
    stub = {**cell(0.0, 3.0, "could not verify", None), "error": "NotImplementedError"}
    other = {**cell(0.0, 3.0, "could not verify", None), "error": "ValueError"}
    report = cr.summarise([result("s1", grad=stub), result("s2", grad=other)])
    assert [report.outcomes[s][GRAD].status for s in ("s1", "s2")] == ["not attempted", "failed"]


def test_main_refuses_a_folder_without_results(tmp_path, capsys):
    assert cr.main([str(tmp_path)]) == 2
    assert "no results in" in capsys.readouterr().err


def test_main_rebuilds_the_report_and_skips_an_unreadable_result(tmp_path, capsys):
    out = write_out(tmp_path, [result("s1"), result("s2", grad=failed(FACTOR_2))])
    (out / "results" / "broken.json").write_text("{not json")
    assert cr.main([str(out)]) == 0
    assert "index.html" in capsys.readouterr().out
    text = (out / "report" / "index.html").read_text(encoding="utf-8")
    assert "could not be read" in text and "broken.json" in text
    assert [r["student_id"] for r in read_csv(out / "report" / "students.csv")] == ["s1", "s2"]


# ---------------------------------------------------------------- in a browser

CHROMIUM = Path("/usr/bin/chromium")


def test_the_page_renders_offline_in_chromium(built, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium")
    page_path = built[1]
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            requests = []
            page.on("request", lambda request: requests.append(request.url))
            page.goto(page_path.as_uri())
            assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
            assert page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 300)")
            assert page.evaluate("document.images.length") == 3
            assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
            page.set_viewport_size({"width": 420, "height": 900})     # a phone: the page itself does not scroll sideways
            assert not page.evaluate("document.body.scrollWidth > window.innerWidth + 1")
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        finally:
            browser.close()
    assert (tmp_path / "report.png").stat().st_size > 10_000
