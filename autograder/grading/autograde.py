"""nbgrader autograde, in this worker process, one notebook at a time; then what went wrong.

Running nbgrader's converter in-process saves a Python start and nbgrader's imports per
student. One notebook per run keeps a dead kernel in one notebook from discarding the
other (nbgrader removes a failed student's whole autograded folder otherwise).
"""
import copy

import nbformat
from nbgrader.api import Gradebook
from nbgrader.converters import Autograde as AutogradeConverter
from nbgrader.coursedir import CourseDirectory
from nbclient.exceptions import DeadKernelError
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute
from nbgrader.utils import capture_log

from . import flags


class ResilientExecute(Execute):
    """nbgrader's Execute, except that a dead kernel fails only the cells it had not run yet.

    nbgrader would discard the whole notebook; here every code cell left without an
    execution count gets a DeadKernelError output, so SaveAutoGrades scores them zero
    and keeps what the cells before them earned.
    """

    def preprocess(self, nb, resources=None, km=None):
        try:
            return super().preprocess(nb, resources, km)
        except DeadKernelError as exc:
            message = str(exc).splitlines()[0] if str(exc) else "the kernel died"
        for cell in self.nb.cells:
            if cell.cell_type == "code" and cell.get("execution_count") is None:
                cell.outputs.append(new_output("error", ename="DeadKernelError", evalue=message,
                                               traceback=[f"DeadKernelError: {message}"]))
        return self.nb, resources


def run_autograde(nbconfig, assignment, student, notebook="*"):
    config = copy.deepcopy(nbconfig)
    config.Autograde.autograde_preprocessors = [
        ResilientExecute if step is Execute else step for step in AutogradeConverter.autograde_preprocessors.default()]
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id, coursedir.student_id, coursedir.notebook_id = assignment, student, notebook
    app = AutogradeConverter(coursedir=coursedir, config=config)
    app.force, app.create_student = True, True
    return capture_log(app)


def record_empty_submission(db_url, assignment, student):
    """No valid notebook at all: nbgrader has nothing to run, so record the zeros it would give."""
    with Gradebook(db_url) as gb:
        gb.update_or_create_student(student)
        submission = gb.update_or_create_submission(assignment, student)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                grade.auto_score, grade.needs_manual_grade = 0, grade.cell.cell_type != "code"
        gb.db.commit()


class Autograde:
    def __call__(self, ctx):
        config, course = ctx.config, ctx.course
        if not ctx.staged:
            record_empty_submission(f"sqlite:///{course.db}", config.assignment, ctx.job.student_id)
            return
        outcome = run_autograde(course.nbconfig, config.assignment, ctx.job.student_id)
        logs = [outcome.get("log", "") or ""]
        if not outcome["success"]:
            # nbgrader dropped the whole submission: salvage what each notebook earns on its own
            for stem in sorted(ctx.staged):
                outcome = run_autograde(course.nbconfig, config.assignment, ctx.job.student_id, stem)
                logs.append(outcome.get("log", "") or "")
                if not outcome["success"]:
                    logs.append(f"[AUTOGRADE FAILED {stem}] " + (outcome.get("error") or ""))
        ctx.log = "\n".join(logs)


class Incidents:
    """Timeouts, dead kernels and crashes, from nbgrader's log and the executed notebooks."""

    def __call__(self, ctx):
        log = ctx.log
        autograded = ctx.course.folder("autograded", ctx.job.student_id, ctx.config.assignment)
        for stem in sorted(ctx.staged):
            path = autograded / f"{stem}.ipynb"
            if not path.is_file():
                if "DeadKernelError" in log or "Kernel died" in log or "kernel died" in log:
                    ctx.flag(flags.KERNEL_DIED, stem)
                else:
                    ctx.flag(flags.CRASH, stem)
                continue
            notebook = nbformat.read(str(path), as_version=4)
            for cell in notebook.cells:
                for output in cell.get("outputs", []):
                    if output.get("output_type") != "error":
                        continue
                    if output.get("ename") in ("CellTimeoutError", "TimeoutError"):
                        ctx.flag(flags.TIMEOUT, stem)
                    if output.get("ename") in ("DeadKernelError",):
                        ctx.flag(flags.KERNEL_DIED, stem)
        if "Timeout waiting for" in log or "Cell execution timed out" in log:
            for stem in ctx.staged:
                if f"{stem}" in log:
                    ctx.flag(flags.TIMEOUT, stem)
