"""The feedback page a student reads (grading/feedback.py, grading/summary_page.py).

One student's 02_neural_network is graded in-process on the real course, through the
pipeline's own steps (Stage, Autograde in a confined kernel where bubblewrap works,
Incidents, Reconcile, Feedback), without outside verification: the diagnosis it would add
for the wrong gradient is the Check's own, put where Reconcile puts it. The student is the
example s06_transposed_w (loss_gradients returns W1's gradient transposed) with a predict
that raises a ValueError in its own code, one written answer given (not graded yet) and
one left blank. The page is then read in headless Chromium (Debian's, driven by
Playwright) at 1366x768 and at a phone's width.

Also here: the traceback kept for an error that is not an assertion (real IPython
tracebacks), the outcome words for every kind of cell, and the messages of
coursekit/checks.py as nbgrader's Validate dialog shows them (lines of at most 100
characters).

AUTOGRADER_FEEDBACK_SCREENSHOT=docs/img/feedback.png makes the 1366-wide test save what
a student sees first.
"""
import os
import re
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from autograder.coursekit import checks
from autograder.grading import confine, feedback, pipeline, record, summary_page
from autograder.grading.autograde import Autograde, Incidents
from autograder.grading.config import GradingConfig
from autograder.grading.reconcile import Reconcile
from autograder.grading.stage import Stage
from autograder.specs import CHECKS

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")   # nbgrader's session use
ASSIGNMENT, STEM, STUDENT = "ch02_fundamentals", "02_neural_network", "sam"
EXAMPLE = ROOT / "examples" / "submissions" / "s06_transposed_w" / ASSIGNMENT / f"{STEM}.ipynb"
RELEASED = ROOT / "notebooks" / ASSIGNMENT
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
HIDDEN_SOURCE = ("run_hidden_test", "BEGIN HIDDEN TESTS", "autograder.hidden")
COURSE_FRAMES = ("Traceback (most recent call last)", "coursekit/checks.py", "autograder/hidden.py", "compare.py")

PREDICT_RAISES = '''import numpy as np


def predict(X, weights):
    """The network's predictions for the rows of X (n, k): an array of shape (n, 1)."""
    hidden = sigmoid(X @ weights["W1"] + weights["B1"])
    return hidden @ weights["W2"].T + weights["B2"]
'''
TRANSPOSED_W1 = '''import numpy as np


def loss_gradients(forward_info, weights):
    dL_dP = -2 * (forward_info["y"] - forward_info["P"])
    s = sigmoid(forward_info["N1"])
    dL_dN1 = np.dot(dL_dP, weights["W2"].T) * s * (1 - s)
    dW1 = np.dot(forward_info["X"].T, dL_dN1)
    return {"W1": dW1.T, "B1": np.sum(dL_dN1, axis=0, keepdims=True),
            "W2": np.dot(forward_info["O1"].T, dL_dP), "B2": np.sum(dL_dP, axis=0, keepdims=True)}
'''


def cell_of(notebook, grade_id):
    return next(cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def student_notebook():
    notebook = nbformat.read(EXAMPLE, as_version=4)
    cell_of(notebook, "net_predict_solution").source = PREDICT_RAISES
    released = nbformat.read(RELEASED / f"{STEM}.ipynb", as_version=4)
    cell_of(notebook, "q_zero_init").source = cell_of(released, "q_zero_init").source   # left blank
    return notebook


def verifier_diagnosis():
    """What outside verification says of this loss_gradients: the Check's judge on its own cases."""
    check, found = CHECKS["net_gradients"], {}
    exec(compile("import numpy as np\nfrom scipy.special import expit as sigmoid\n" + TRANSPOSED_W1, "student", "exec"),
         found)
    for args in check.cases(np.random.default_rng(0)):
        try:
            check.judge(args, found["loss_gradients"](*args), None)
        except AssertionError as exc:
            return str(exc)
    raise AssertionError("the transposed gradient passed its Check")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """(ctx, path of the feedback page) for one student graded through the pipeline's steps."""
    base = tmp_path_factory.mktemp("feedback")
    folder = base / "submitted" / STUDENT / ASSIGNMENT
    folder.mkdir(parents=True)
    nbformat.write(student_notebook(), folder / f"{STEM}.ipynb")
    mode = confine.BUBBLEWRAP if confine.available() else confine.UNCONFINED
    config = GradingConfig(ASSIGNMENT, base / "out", verifier=None, workers=1, confinement=mode)
    record.prepare(config)
    saved = dict(os.environ)
    os.environ.update(pipeline.KERNEL_ENV, MPLBACKEND="Agg")     # as the grading workers run kernels
    try:
        ctx = pipeline.Context(config, pipeline.Job(STUDENT, folder, {STEM: folder / f"{STEM}.ipynb"}, "test"),
                               pipeline.WorkerCourse(config))
        for step in (Stage, Autograde, Incidents, Reconcile):
            step()(ctx)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert ctx.cells[f"{STEM}:net_gradients"]["score"] == 0 and ctx.cells[f"{STEM}:net_sigmoid"]["score"] == 1
    diagnosis = verifier_diagnosis()       # both checks failed: Reconcile would note the verifier's words
    ctx.cells[f"{STEM}:net_gradients"].update(verified=False, message=diagnosis)
    ctx.notes.setdefault(STEM, {})["net_gradients"] = ("diagnosis", diagnosis)
    feedback.Feedback()(ctx)
    page = ctx.course.folder("feedback", STUDENT, ASSIGNMENT) / f"{STEM}.html"
    assert page.is_file(), ctx.flags
    return ctx, page


# ---------------------------------------------------------------- the page, as HTML

def test_no_hidden_test_and_no_course_frame_reaches_the_page(graded):
    html = graded[1].read_text()
    for word in HIDDEN_SOURCE + COURSE_FRAMES:
        assert word not in html, word


def test_an_error_in_the_students_code_keeps_their_frames(graded):
    autograded = nbformat.read(graded[0].course.folder("autograded", STUDENT, ASSIGNMENT) / f"{STEM}.ipynb", 4)
    cell = cell_of(autograded, "net_predict")
    error = next(output for output in cell.outputs if output.output_type == "error")
    assert error.ename == "ValueError"
    kept = summary_page.ANSI.sub("", "\n".join(feedback.reduced_traceback(error, cell.execution_count,
                                                                          feedback.hidden_line_numbers(cell.source))))
    assert re.search(r"Cell In ?\[\d+\], line \d+, in predict", kept), kept          # their function, where it raised
    assert 'return hidden @ weights["W2"].T + weights["B2"]' in kept
    assert kept.rstrip().splitlines()[-1].startswith("ValueError: matmul")
    assert not re.search(r"^\s*File ", kept, re.M) and "Traceback (most recent call last)" not in kept


# ---------------------------------------------------------------- the page, in a browser

def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no headless browser: {CHROMIUM} is not installed (Debian's chromium package)")
    pytest.importorskip("playwright", reason="no headless browser: the playwright Python package is not installed")
    from playwright.sync_api import sync_playwright
    return sync_playwright


READ_PAGE = """() => {
  const text = e => e ? e.innerText.trim() : null;
  const scroller = document.scrollingElement, title = document.querySelector('h1');
  const rows = [...document.querySelectorAll('#summary table tbody tr')].map(row => {
    const link = row.querySelector('td.ag-name a'), target = document.getElementById(link.hash.slice(1));
    return {name: text(link), grade_id: row.dataset.gradeId, points: text(row.querySelector('.ag-points')),
            result: text(row.querySelector('.ag-result')), message: text(row.querySelector('.ag-msg')),
            diagnosis: text(row.querySelector('.ag-diagnosis')), target: target ? target.id : null,
            at_cell: target ? text(target.querySelector('.ag-cell-status')) : null,
            cell_diagnosis: target ? text(target.closest('.cell').querySelector('.output_wrapper .ag-diagnosis')) : null};
  });
  const box = document.querySelector('.output_wrapper .ag-diagnosis');
  const error = document.querySelector('.output_error pre');
  return {scroll: [scroller.scrollWidth, scroller.clientWidth], rows,
          title: text(title), first_heading: document.querySelector('h1, h2, h3') === title,
          after_title: title.nextElementSibling ? title.nextElementSibling.id : null,
          summary_before_notebook: !!(document.getElementById('summary').compareDocumentPosition(
              document.getElementById('notebook-container')) & Node.DOCUMENT_POSITION_FOLLOWING),
          viewport: (document.querySelector('meta[name=viewport]') || {}).content,
          box: box ? [getComputedStyle(box).borderTopStyle, getComputedStyle(box).borderLeftWidth] : null,
          wrap: error ? [getComputedStyle(error).whiteSpace, getComputedStyle(error).overflowWrap] : null,
          scripts: document.scripts.length,
          formulas: Array.from(document.querySelectorAll('#notebook-container math'),
                               m => [m.getAttribute('display'), m.getBoundingClientRect().width]),
          text: document.body.innerText, html: document.documentElement.outerHTML};
}"""


def read_page(path, width, height, screenshot=None):
    sync_playwright, requests = browser(), []
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = chromium.new_page(viewport={"width": width, "height": height})

            def route(request_route):          # nothing leaves the machine (MathJax's CDN included)
                if request_route.request.url.startswith(("file:", "data:")):
                    request_route.continue_()
                else:
                    requests.append(request_route.request.url)
                    request_route.abort()

            page.route("**/*", route)
            page.goto(path.as_uri(), wait_until="load")
            found = page.evaluate(READ_PAGE)
            if screenshot:
                Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(screenshot))
        finally:
            chromium.close()
    return found


def graded_in_order():
    source = nbformat.read(ROOT / "source" / ASSIGNMENT / f"{STEM}.ipynb", 4)
    return [cell.metadata["nbgrader"]["grade_id"] for cell in source.cells if cell.metadata.get("nbgrader", {}).get("grade")]


def test_the_page_at_1366_starts_with_a_summary_of_every_exercise(graded):
    ctx, path = graded
    seen = read_page(path, 1366, 768, os.environ.get("AUTOGRADER_FEEDBACK_SCREENSHOT"))
    assert seen["scroll"][0] <= seen["scroll"][1], f"horizontal overflow at 1366 px: {seen['scroll']}"
    assert seen["title"] == STEM and seen["first_heading"], seen["title"]
    assert seen["after_title"] == "summary" and seen["summary_before_notebook"]
    # formulas typeset as MathML, offline, by a page that runs no script (no TeX source left in the text)
    assert seen["scripts"] == 0, seen["scripts"]
    assert len(seen["formulas"]) > 20 and all(width > 0 for _, width in seen["formulas"]), seen["formulas"][:5]
    assert {"block", "inline"} <= {display for display, _ in seen["formulas"]}
    assert not re.search(r"\\(frac|partial|sigma)\b|\$\$", seen["text"]), "a formula is left as TeX source"
    # every graded exercise, in the notebook's order, a function by its name, each row a link to its cell
    in_order, rows = graded_in_order(), {row["grade_id"]: row for row in seen["rows"]}
    assert [row["grade_id"] for row in seen["rows"]] == in_order
    assert sorted(in_order) == sorted(key.split(":", 1)[1] for key in ctx.cells if key.startswith(f"{STEM}:"))
    assert [row["name"] for row in seen["rows"] if row["grade_id"] in CHECKS] == [
        CHECKS[gid].function for gid in in_order if gid in CHECKS]
    assert {"sigmoid", "forward_loss", "loss_gradients", "predict"} <= {row["name"] for row in seen["rows"]}
    assert all(row["target"] == f"grade-{row['grade_id']}" for row in seen["rows"]), seen["rows"]
    assert {gid: rows[gid]["result"] for gid in ("net_sigmoid", "net_forward", "net_gradients", "net_predict",
                                                  "q_no_sigmoid", "q_zero_init")} == {
        "net_sigmoid": "passed", "net_forward": "passed", "net_gradients": "failed", "net_predict": "failed",
        "q_no_sigmoid": "not graded yet", "q_zero_init": "no answer"}
    # a written answer waiting for a human: the points it carries, not 0.0 / 2.0
    assert rows["q_no_sigmoid"]["name"].startswith("Question 1") and rows["q_no_sigmoid"]["points"] == "2 points"
    assert "not graded yet" in rows["q_no_sigmoid"]["at_cell"] and "2 points" in rows["q_no_sigmoid"]["at_cell"]
    assert rows["q_zero_init"]["points"] == "0 / 2" and "0.0 / 2.0" not in seen["text"]
    # the failed gradient: the tests' message, and the diagnosis in a box of its own, here and at the cell
    gradients = rows["net_gradients"]
    points = next(cell.metadata["nbgrader"]["points"] for cell in nbformat.read(
        ROOT / "source" / ASSIGNMENT / f"{STEM}.ipynb", 4).cells
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "net_gradients")
    assert gradients["points"] == f"0 / {points:g}" and "W1" in gradients["message"], gradients
    assert gradients["diagnosis"].lower().startswith("diagnosis")       # its label
    assert "[transposed]" in gradients["diagnosis"] and "[transposed]" in gradients["cell_diagnosis"]
    assert seen["box"][0] == "solid" and float(seen["box"][1].rstrip("px")) >= 4, seen["box"]
    # an error in the student's own code: the error, and where in their code it was raised
    assert rows["net_predict"]["message"].startswith("ValueError") and "raised in predict" in \
        rows["net_predict"]["message"]
    assert seen["wrap"] == ["pre-wrap", "anywhere"], seen["wrap"]
    for word in HIDDEN_SOURCE + COURSE_FRAMES:
        assert word not in seen["html"], word


def test_the_page_reads_on_a_phone(graded):
    seen = read_page(graded[1], 390, 844)
    assert seen["viewport"] and "width=device-width" in seen["viewport"]
    assert seen["scroll"][0] <= seen["scroll"][1], f"horizontal overflow at 390 px: {seen['scroll']}"
    assert len(seen["rows"]) == len(graded_in_order())


# ---------------------------------------------------------------- tracebacks, outcomes (no kernel)

@pytest.fixture(scope="module")
def ipython():
    """Tracebacks as a kernel sends them: IPython's own, from cells run by an InteractiveShell."""
    from IPython.core.interactiveshell import InteractiveShell
    shell = InteractiveShell.instance(colors="linux")
    sent = []
    shell._showtraceback = lambda etype, evalue, stb: sent.append({"output_type": "error", "ename": etype.__name__,
                                                                   "evalue": str(evalue), "traceback": stb})

    def run(source):
        sent.clear()
        shell.run_cell(source, store_history=True)
        return shell.execution_count - 1, (sent[0] if sent else None)
    yield run
    InteractiveShell.clear_instance()


HIDDEN_CALL = ('x = 1\n### BEGIN HIDDEN TESTS\nfrom autograder.hidden import run_hidden_test\n'
               'run_hidden_test("no such test", mae)\n### END HIDDEN TESTS')


def test_other_errors_keep_only_the_students_frames(ipython):
    ipython(f"import sys\nsys.path.insert(0, {str(ROOT / 'source' / ASSIGNMENT)!r})\n"
            "import numpy as np\nfrom coursekit.checks import check_close")
    ipython("def mae(preds, actuals):\n    scale = len(preds)\n    return 'not a number' * scale")
    count, error = ipython("check_close(mae([1.0], [2.0]), 1.0, 'mae(...)')")       # raises in the course's check
    kept = summary_page.ANSI.sub("", "\n".join(feedback.reduced_traceback(error, count)))
    assert f"Cell In[{count}], line 1" in kept and "check_close(mae(" in kept
    assert "checks.py" not in kept and "Traceback" not in kept and "---" not in kept.splitlines()[0]
    assert kept.rstrip().endswith("ValueError: could not convert string to float: 'not a number'")

    count, error = ipython(HIDDEN_CALL)                                                # raises in the hidden tests
    kept = summary_page.ANSI.sub("", "\n".join(feedback.reduced_traceback(error, count,
                                                                          feedback.hidden_line_numbers(HIDDEN_CALL))))
    assert "(in the hidden tests)" in kept and kept.rstrip().endswith("KeyError: 'no such test'")
    for word in HIDDEN_SOURCE + ("hidden.py", "File "):
        assert word not in kept, (word, kept)

    ipython("def predict(X):\n    W = np.ones((2, 3))\n    return X @ W.T")
    count, error = ipython("predict(np.ones((4, 2)))")                               # in the student's own code
    kept = summary_page.ANSI.sub("", "\n".join(feedback.reduced_traceback(error, count)))
    assert re.search(r"Cell In\[\d+\], line 3, in predict\(X\)", kept) and "----> 3     return X @ W.T" in kept
    summary = summary_page.failure_message({"outputs": [{**error, "traceback": feedback.reduced_traceback(error)}]})
    assert summary.startswith("ValueError: matmul") and summary.endswith(f"(raised in predict, In [{count - 1}], line 3)")

    count, error = ipython("assert 1 == 2, 'the message'")                            # an assertion: its message
    assert feedback.reduced_traceback(error, count) == ["AssertionError: the message"]


def graded_cell(kind, grade_id, source="", points=2, solution=False, outputs=()):
    metadata = {"nbgrader": {"grade": True, "grade_id": grade_id, "points": points, "solution": solution,
                             "locked": not solution, "score": 0.0}}
    if kind == "code":
        return new_code_cell(source, metadata=metadata, outputs=list(outputs), execution_count=3)
    return new_markdown_cell(source, metadata=metadata)


def test_outcomes_of_every_kind_of_cell():
    notebook = new_notebook(cells=[
        new_code_cell("x = 1", metadata={"autograder": {"diagnosis": "planted by the student"}}),
        graded_cell("code", "lin_mae", "assert mae(a, b) == 1", 1),
        graded_cell("code", "lin_rmse", "assert rmse(a, b) == 1", 1,
                    outputs=[new_output("stream", name="stderr", text="RuntimeWarning: overflow\n")]),
        graded_cell("code", "lin_update", "update_weights(w, g, 0.1)", 1),
        new_markdown_cell("**Question 1 (2 points).** Why `ReLU`?"),
        graded_cell("markdown", "q_relu", "Because.", solution=True),
        graded_cell("markdown", "q_blank", "YOUR ANSWER HERE", solution=True),
        graded_cell("markdown", "q_done", "It is.", solution=True)])
    results = {"lin_mae": {"score": 1.0, "max_score": 1.0}, "lin_rmse": {"score": 0.0, "max_score": 1.0},
               "lin_update": {"score": 0.0, "max_score": 1.0, "nbgrader": 1.0},
               "q_relu": {"score": None, "max_score": 2.0, "nbgrader": None},
               "q_blank": {"score": None, "max_score": 2.0, "nbgrader": 0.0},
               "q_done": {"score": 1.5, "max_score": 2.0, "nbgrader": None}}
    resources = {"nbgrader": {"notebook": "01_linear_regression", "late_penalty": 0}}
    verdicts = feedback.AnnotateVerdicts(notes={"01_linear_regression": {
        "lin_update": ("error", "update_weights moved 'W' up the gradient (outside verification: no points)")}})
    notebook, resources = verdicts.preprocess(notebook, resources)
    # the verdict's error is an output like the kernel's: the preprocessors after it read it by attribute
    notebook, resources = feedback.CoalesceStreams().preprocess(notebook, resources)
    assert notebook.cells[3].outputs[-1].output_type == "error"
    summary = feedback.SummarizeResults(cells={"01_linear_regression": results})
    notebook, resources = summary.preprocess(notebook, resources)
    rows = {row["grade_id"]: row for row in resources["autograder_summary"]["rows"]}
    assert "autograder" not in notebook.cells[0].metadata                  # what a notebook brings is not shown
    assert [(rows[g]["name"], rows[g]["status"], rows[g]["points"]) for g in rows] == [
        ("mae", "passed", "1 / 1"), ("rmse", "failed", "0 / 1"), ("update_weights", "failed", "0 / 1"),
        ("Question 1 (2 points). Why ReLU?", "not graded yet", "2 points"), ("q_blank", "no answer", "0 / 2"),
        ("q_done", "graded", "1.5 / 2")]
    assert "RuntimeWarning: overflow" in rows["lin_rmse"]["message"]
    assert rows["lin_update"]["message"].endswith("(outside verification: no points)")
    totals = resources["autograder_summary"]
    assert totals["score"] == "2.5 / 9" and totals["notes"] == [
        "2 of the 9 points are for written answers not graded yet"]


def test_summary_names_written_answers_by_their_first_words():
    assert summary_page.first_words("**Question 1 (2 points).** Suppose we deleted the sigmoid, so that "
                                    "$O_1 = N_1$, and trained") == \
        "Question 1 (2 points). Suppose we deleted the sigmoid, so that …"
    assert summary_page.first_words("# Why?") == "Why?"


def test_a_diagnosis_that_only_repeats_the_message_is_left_out():
    assert summary_page.worth_saying("mae(...) is wrong (largest difference 9.74)",
                                     "mae(...) is wrong (largest difference 5.27)") == ""
    assert summary_page.worth_saying("sigmoid raised NotImplementedError: ",
                                     "NotImplementedError (raised in sigmoid, In [6], line 10)") == ""
    assert summary_page.worth_saying("loss_gradients raised NotImplementedError: ",      # another function
                                     "NotImplementedError (raised in forward_loss, In [8], line 14)") != ""
    assert "[missing factor 2]" in summary_page.worth_saying("gradient 'W': the factor 2 is missing. [missing factor 2]",
                                                             "grads['W'] is wrong")


# ---------------------------------------------------------------- the Validate dialog

def test_check_messages_are_lines_of_at_most_100_characters():
    long_hint = "A gradient has the shape of the array it is taken with respect to; " * 3
    for check in (lambda: checks.check_array(np.zeros((4, 3)), "grads['W1']", (3, 4), hint=long_hint),
                  lambda: checks.check_close(np.ones((2, 1)), np.ones((2, 1)) * 2, "grads['W']", hint=long_hint),
                  lambda: checks.check_gradient(np.ones((3, 2)) / 5, np.ones((3, 2)), "grads['W']", batch_size=5),
                  lambda: checks.check_keys({"a" * 40: 1, "b" * 40: 2}, ["c" * 40, "d" * 40], "grads")):
        with pytest.raises(AssertionError) as raised:
            check()
        assert max(map(len, str(raised.value).splitlines())) <= checks.WIDTH, str(raised.value)
    with pytest.raises(AssertionError, match=r"index \(1, 0\)\)\.\n"):         # plain indices, the hint below
        checks.check_close(np.array([[1.0], [2.0]]), np.array([[1.0], [3.0]]), "P", hint="look again")


def test_validate_shows_the_checks_messages_in_short_lines(tmp_path, monkeypatch):
    """`nbgrader validate` (the Validate button's code) on the released notebook with a transposed gradient."""
    from nbgrader.validator import Validator
    folder = tmp_path / ASSIGNMENT
    shutil.copytree(RELEASED, folder)
    shutil.rmtree(folder / "coursekit")        # the package's kit: what the next release ships
    shutil.copytree(ROOT / "autograder" / "coursekit", folder / "coursekit",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copyfile(EXAMPLE, folder / f"{STEM}.ipynb")     # released, filled in: loss_gradients transposes W1
    monkeypatch.setenv("MPLBACKEND", "Agg")
    failed = Validator().validate(str(folder / f"{STEM}.ipynb")).get("failed", [])
    errors = [summary_page.ANSI.sub("", cell["raw_error"]) for cell in failed]
    messages = [error[error.rindex("AssertionError: "):] for error in errors if "AssertionError: " in error]
    assert any("grads['W1']" in message for message in messages), errors
    too_long = [line for message in messages for line in message.splitlines() if len(line) > 100]
    assert not too_long, too_long
