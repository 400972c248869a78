"""A new instructor's path through `make instructor`, in a real browser (Debian's Chromium, via Playwright).

On a scratch copy of the course holding one student's workspace and one submission, the
instructor opens the formgrader from JupyterLab's Nbgrader menu, follows the assignment's link
to source/, generates the release (the student's workspace and the release's coursekit/ come
through), previews it, autogrades the submission, grades a written answer by hand and
generates feedback; the Course List and the Assignment List open without an error. Then: no
browser console error and no traceback in the server's log. Skips, saying why, without
playwright or Chromium. Screenshots: UPDATE_SCREENSHOTS=1 copies them to docs/img/.
"""
import re
import shutil
import time

import pytest

from autograder import lab
from autograder.release import kit_differences
from test_lab import (ASSIGNMENT, COURSE_ROOT, Browser, chromium_or_skip, copy_course, family,
                      jupyter_env, menu_labels, open_menu_item, readme_menu_paths, still_running, tracebacks)

STUDENT = "s01_correct_style"            # a bundled example: every exercise right, both questions answered
WRITTEN = "q_no_sigmoid"                 # a written answer, graded by hand
SCORE = "1.5"
RESULT = {}


def close_modal(frame, expect):
    frame.locator(".modal.in .modal-footer button").click()
    expect(frame.locator(".modal")).to_have_count(0)


def test_instructor_path(tmp_path):
    sync_playwright, expect = chromium_or_skip()
    course = copy_course(tmp_path / "course")
    submitted = course / "submitted" / STUDENT / ASSIGNMENT
    shutil.copytree(COURSE_ROOT / "examples" / "submissions" / STUDENT / ASSIGNMENT, submitted)
    # A student at work in the same course: their copy must survive the instructor's Generate.
    lab.prepare_workspace(course, course / "workspace")
    work = course / "workspace" / ASSIGNMENT / "01_linear_regression.ipynb"
    work.write_text(work.read_text().replace('raise NotImplementedError("write this function, then run the next cell")', "return 'work in progress'", 1))
    mine = work.read_text()
    started = time.monotonic()
    with lab.running("instructor", course, log=tmp_path / "server.log", env=jupyter_env(tmp_path)) as running_lab, \
            sync_playwright() as playwright:
        browser = Browser(playwright, tmp_path / "shots")
        RESULT.update(errors=browser.errors, log=running_lab.log)
        page = browser.page
        try:
            page.goto(running_lab.address("lab"))
            page.locator(".jp-DirListing-item", has_text="source").wait_for()
            assert {"Formgrader", "Course List", "Assignment List"} <= set(menu_labels(page, "Nbgrader"))
            for menu, item in readme_menu_paths("Instructors"):
                assert item in menu_labels(page, menu), f"README: {menu} › {item}, not in the {menu} menu"

            # 1. The formgrader, from the Nbgrader menu, lists the assignment.
            open_menu_item(page, "Nbgrader", "Formgrader")
            formgrader = page.frame_locator("iframe").first
            row = formgrader.locator("tr", has_text=ASSIGNMENT)
            expect(row).to_be_visible(timeout=60_000)
            header = " ".join(formgrader.locator("thead").first.inner_text().split())
            for column in ("Generate", "Preview", "Release", "Collect", "# Submissions", "Generate Feedback"):
                assert column in header, f"the README names a formgrader column {column!r}: {header}"
            browser.shot("instructor-formgrader")
            browser.step("formgrader open")

            # 2. The assignment's link opens source/<assignment> in the file browser.
            formgrader.get_by_role("link", name=ASSIGNMENT, exact=True).click()
            crumbs = page.locator(".jp-FileBrowser .jp-BreadCrumbs")
            expect(crumbs).to_contain_text(re.compile(rf"source\s*/\s*{ASSIGNMENT}"))
            expect(page.locator(".jp-DirListing-item", has_text="coursekit")).to_be_visible()
            browser.step("assignment link: source/")

            # 3. Generate: one click, the release is rebuilt; the kit comes with it, the workspace stays.
            row.locator(".glyphicon-education").click()
            expect(formgrader.locator(".modal.in .modal-title")).to_have_text("Success", timeout=180_000)
            close_modal(formgrader, expect)
            release = course / "notebooks" / ASSIGNMENT
            assert (release / "coursekit").is_dir() and not kit_differences(release / "coursekit"), \
                "the formgrader's Generate released no coursekit/ (or another one than autograder/coursekit)"
            assert work.read_text() == mine, "Generate changed the student's workspace"
            assert (course / "workspace" / ASSIGNMENT / "coursekit").is_dir()
            browser.step("generated")

            # 4. Preview opens the release: notebooks/<assignment>, coursekit/ included.
            row.locator(".glyphicon-search").click()
            expect(crumbs).to_contain_text(re.compile(rf"notebooks\s*/\s*{ASSIGNMENT}"))
            expect(page.locator(".jp-DirListing-item", has_text="coursekit")).to_be_visible()
            browser.shot("instructor-preview")
            browser.step("preview: notebooks/")

            # 5. Autograde the submission.
            row.get_by_role("link", name="1", exact=True).click()
            submission = formgrader.locator("tr", has_text=STUDENT)
            submission.locator(".glyphicon-flash").click()
            expect(formgrader.locator(".modal.in .modal-title")).to_have_text("Success", timeout=300_000)
            close_modal(formgrader, expect)
            expect(submission).to_contain_text("needs manual grading")
            browser.shot("instructor-autograded")
            browser.step("autograded")

            # 6. Grade a written answer by hand.
            formgrader.get_by_role("link", name="Manual Grading").click()
            formgrader.get_by_role("link", name=ASSIGNMENT, exact=True).click()
            formgrader.get_by_role("link", name="02_neural_network").click()
            formgrader.get_by_role("link", name="Submission #1").click()
            score = formgrader.locator(f"input.score#{WRITTEN}")
            score.scroll_into_view_if_needed()
            score.fill(SCORE)
            with page.expect_response(lambda r: "/formgrader/api/grade/" in r.url and r.request.method == "PUT") \
                    as saved:
                score.press("Tab")                  # leaving the box saves the score
            assert saved.value.ok
            browser.shot("instructor-manual-grade")
            browser.step("graded a written answer")

            # 7. Generate feedback.
            formgrader.get_by_role("link", name="Manual Grading").click()
            formgrader.get_by_role("link", name="Manage Assignments").click()
            formgrader.locator("tr", has_text=ASSIGNMENT).locator(".glyphicon-comment").click()
            expect(formgrader.locator(".modal.in .modal-title")).to_have_text("Success", timeout=180_000)
            close_modal(formgrader, expect)
            feedback = course / "feedback" / STUDENT / ASSIGNMENT / "02_neural_network.html"
            assert feedback.is_file(), "no feedback was written"
            assert f"Written response</a> (Score: {SCORE} / 2.0)" in feedback.read_text()
            browser.step("feedback generated")

            # 8. The Course List and the Assignment List: no error box.
            for item, heading, content in (("Course List", "Available formgraders", "dlfs"),
                                           ("Assignment List", "Released assignments",
                                            "There are no assignments to fetch")):
                open_menu_item(page, "Nbgrader", item)
                panel = page.locator(".lm-DockPanel-widget:visible", has_text=heading)
                expect(panel).to_contain_text(content, timeout=30_000)
                assert not re.search(r"error|does not exist", panel.inner_text(), re.I), panel.inner_text()
                if item == "Course List":
                    browser.shot("instructor-course-list")
            browser.step("Course List and Assignment List")

            # 9. The student's feedback page, as the instructor would check it before releasing it.
            page.goto(running_lab.address(f"files/feedback/{STUDENT}/{ASSIGNMENT}/02_neural_network.html"))
            answer = page.locator(f"a[name='{WRITTEN}']").locator("xpath=..")
            expect(answer).to_contain_text("Student's answer")
            answer.evaluate("element => element.scrollIntoView({block: 'center'})")
            expect(page.get_by_text(f"(Score: {SCORE} / 2.0)").first).to_be_attached()
            browser.shot("instructor-feedback")
            browser.step("feedback page")
        finally:
            RESULT.update(steps=browser.steps)
            browser.close()
        processes = family(running_lab.process)
    RESULT["seconds"] = time.monotonic() - started
    print(f"instructor path: {RESULT['seconds']:.0f} s;",
          "; ".join(f"{name} at {at:.0f} s" for name, at in browser.steps))
    assert not still_running(processes), f"left running: {still_running(processes)}"

    # What the browser did is in the course's gradebook.
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        written = gradebook.find_grade(WRITTEN, "02_neural_network", ASSIGNMENT, STUDENT)
        assert written.manual_score == float(SCORE)
        submission = gradebook.find_submission(ASSIGNMENT, STUDENT)
        assert submission.score > 0 and submission.needs_manual_grade
    assert (course / "autograded" / STUDENT / ASSIGNMENT / "coursekit").is_dir()


def test_instructor_path_has_no_console_error_and_no_server_traceback():
    chromium_or_skip()
    if "log" not in RESULT:
        pytest.skip("the instructor's path did not run (run the whole file)")
    assert not RESULT["errors"], "\n".join(RESULT["errors"])
    log = RESULT["log"].read_text()
    assert not tracebacks(log), "\n".join(tracebacks(log))
