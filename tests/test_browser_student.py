"""A new student's path through `make lab`, in a real browser (Debian's Chromium, driven by Playwright).

The student opens chapter 2 in their workspace, runs the notebook to the first stub, types an
implementation, runs its visible test, then makes a common slip and reads its diagnosis, and
presses Validate; the Assignment List opens without an error. Then: no browser console error
and no traceback in the server's log. Skips, saying why, without playwright or Chromium.
Screenshots: UPDATE_SCREENSHOTS=1 copies them to docs/img/ (see docs/lab.md).
"""
import re
import time

import nbformat
import pytest

from autograder import lab
from test_lab import (ASSIGNMENT, Browser, chromium_or_skip, copy_course, family, jupyter_env,
                      menu_labels, open_menu_item, readme_menu_paths, scroll_to_top, still_running, tracebacks)

NOTEBOOK = "01_linear_regression.ipynb"
# Typed line by line: JupyterLab indents after a colon, and each line replaces that indentation.
IMPLEMENTATION = '''def forward_linear_regression(X_batch, y_batch, weights):
    if y_batch.ndim != 2 or y_batch.shape[1] != 1:
        raise ValueError(f"y_batch has shape {y_batch.shape}, expected (n, 1)")
    N = X_batch @ weights["W"]
    P = N + weights["B"]
    loss = np.mean((y_batch - P) ** 2)
    return loss, {"X": X_batch, "N": N, "P": P, "y": y_batch}'''
# The slip: dL/dP without the 2 from the square.
SLIP = '''def loss_gradients(forward_info, weights):
    dP = -(forward_info["y"] - forward_info["P"])
    return {"W": forward_info["X"].T @ dP, "B": dP.sum(axis=0, keepdims=True)}'''

RESULT = {}


def type_code(page, code):
    for number, line in enumerate(code.split("\n")):
        if number:
            page.keyboard.press("Enter")
            page.keyboard.press("Shift+Home")       # select the editor's own indentation
        page.keyboard.type(line)


def cell_index(texts, *needles, start=0):
    return next(i for i, text in enumerate(texts) if i >= start and all(n in text for n in needles))


def test_student_path(tmp_path):
    sync_playwright, expect = chromium_or_skip()
    course = copy_course(tmp_path / "course")
    released = (course / "notebooks" / ASSIGNMENT / NOTEBOOK).read_text()
    started = time.monotonic()
    with lab.running("student", course, log=tmp_path / "server.log", env=jupyter_env(tmp_path)) as running_lab, \
            sync_playwright() as playwright:
        browser = Browser(playwright, tmp_path / "shots")
        RESULT.update(errors=browser.errors, log=running_lab.log)
        page = browser.page
        try:
            page.goto(running_lab.address("lab"))
            page.locator(".jp-DirListing-item", has_text=ASSIGNMENT).wait_for()
            nbgrader_items = menu_labels(page, "Nbgrader")
            assert "Assignment List" in nbgrader_items and "Formgrader" not in nbgrader_items, nbgrader_items

            # 1. Open the chapter in the workspace and run it down to the first stub.
            page.locator(".jp-DirListing-item", has_text=ASSIGNMENT).dblclick()
            page.locator(".jp-DirListing-item", has_text=NOTEBOOK).dblclick()
            expect(page.locator(".jp-BreadCrumbs")).to_contain_text(ASSIGNMENT)
            notebook = page.locator(".jp-NotebookPanel:visible")
            cells = notebook.locator(".jp-Notebook .jp-Cell")
            count = len(nbformat.reads(released, as_version=4).cells)
            expect(cells).to_have_count(count, timeout=60_000)
            expect(page.locator(".jp-StatusBar-Widget", has_text="Idle").first).to_be_visible(timeout=60_000)
            browser.step("notebook open, kernel idle")
            # The README's menu paths for students are JupyterLab 4's, with a notebook open.
            paths = readme_menu_paths("Students")
            assert ("Kernel", "Restart Kernel and Run All Cells…") in paths, paths
            for menu, item in paths:
                assert item in menu_labels(page, menu), f"README: {menu} › {item}, not in the {menu} menu"
            kinds = cells.evaluate_all("cells => cells.map(c => c.classList.contains('jp-CodeCell'))")
            texts = [text if code else "" for text, code in zip(cells.all_text_contents(), kinds)]
            stub = cell_index(texts, "# YOUR CODE HERE", "raise NotImplementedError(")
            assert "def forward_linear_regression(" in texts[stub]
            last_code_above = max(i for i in range(stub) if kinds[i])
            cells.nth(stub).locator(".jp-InputPrompt").click()
            open_menu_item(page, "Run", "Run All Above Selected Cell")
            expect(cells.nth(last_code_above).locator(".jp-InputPrompt")).to_have_text(
                re.compile(r"\[\d+\]:"), timeout=120_000)
            assert notebook.locator(".jp-OutputArea-output img").count() >= 1, "no figure was drawn"
            assert not notebook.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count()
            browser.step("ran to the first stub")

            # 2. Type the implementation, run it and its visible test.
            cells.nth(stub).locator(".cm-content").click()
            page.keyboard.press("Control+a")
            type_code(page, IMPLEMENTATION)
            page.keyboard.press("Shift+Enter")
            page.keyboard.press("Shift+Enter")
            test = cells.nth(stub + 1)
            expect(test.locator(".jp-OutputArea")).to_contain_text("All visible tests passed.", timeout=60_000)
            scroll_to_top(cells.nth(stub))
            browser.shot("student-test-passed")
            browser.step("typed an implementation; its visible test passed")

            # 3. A common slip in the next exercise, and the test's diagnosis of it.
            gradients = cell_index(texts, "def loss_gradients(", "# YOUR CODE HERE", start=stub + 2)
            cells.nth(gradients).locator(".cm-content").click()
            page.keyboard.press("Control+a")
            type_code(page, SLIP)
            page.keyboard.press("Shift+Enter")
            page.keyboard.press("Shift+Enter")
            output = cells.nth(gradients + 1).locator(".jp-OutputArea")
            expect(output).to_contain_text("it is half the right answer: look for a missing factor of 2",
                                           timeout=60_000)
            output.locator("text=look for a missing factor").scroll_into_view_if_needed()
            browser.shot("student-diagnosis")
            browser.step("made the missing-factor-2 slip; the test named it")

            # 4. Validate (nbgrader's button: saves, then runs the notebook as the grader would).
            notebook.get_by_role("button", name="Validate").click()
            dialog = page.locator(".jp-Dialog")
            expect(dialog).to_contain_text("Validation Results", timeout=180_000)
            expect(dialog).to_contain_text("failed")
            browser.shot("student-validate")
            dialog.get_by_role("button", name="Ok").click()
            browser.step("validated")

            # 5. The Assignment List works: no error box.
            open_menu_item(page, "Nbgrader", "Assignment List")
            panel = page.locator(".lm-DockPanel-widget:visible", has_text="Released assignments")
            expect(panel).to_contain_text("There are no assignments to fetch", timeout=30_000)
            assert not re.search(r"error|does not exist", panel.inner_text(), re.I), panel.inner_text()
            browser.shot("student-assignment-list")
            browser.step("Assignment List")
        finally:
            RESULT.update(steps=browser.steps)
            browser.close()
        processes = family(running_lab.process)
    RESULT["seconds"] = time.monotonic() - started
    print(f"student path: {RESULT['seconds']:.0f} s;", "; ".join(f"{name} at {at:.0f} s" for name, at in browser.steps))

    # The work is the student's, in the workspace; the release is as it was.
    saved = (course / "workspace" / ASSIGNMENT / NOTEBOOK).read_text()
    assert "np.mean((y_batch - P) ** 2)" in saved
    assert (course / "notebooks" / ASSIGNMENT / NOTEBOOK).read_text() == released
    assert not still_running(processes), f"left running: {still_running(processes)}"


def test_student_path_has_no_console_error_and_no_server_traceback():
    chromium_or_skip()
    if "log" not in RESULT:
        pytest.skip("the student's path did not run (run the whole file)")
    assert not RESULT["errors"], "\n".join(RESULT["errors"])
    log = RESULT["log"].read_text()
    assert not tracebacks(log), "\n".join(tracebacks(log))
