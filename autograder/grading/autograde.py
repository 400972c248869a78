"""nbgrader autograde, in this worker process, one notebook at a time; then what went wrong.

Running nbgrader's converter in-process saves a Python start and nbgrader's imports per
student. One notebook per run keeps a dead kernel in one notebook from discarding the
other (nbgrader removes a failed student's whole autograded folder otherwise).
"""
import ast
import contextlib
import copy
import dataclasses
import functools
import json
import os
import re
import shutil
import time
from datetime import datetime
from pathlib import Path

import jsonschema
import nbformat
import numpy as np
from nbgrader.api import Gradebook
from nbgrader.nbgraderformat import common as nbgrader_format
from nbgrader.converters import Autograde as AutogradeConverter
from nbgrader.coursedir import CourseDirectory
from nbclient.exceptions import DeadKernelError
from nbconvert.preprocessors import Preprocessor
from traitlets import Bool, Dict, Integer
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute
from nbgrader.utils import capture_log

from ..specs import CHECKS, cases_for
from . import flags
from . import confine
from .confine import ConfinedKernelManager, write_grading_folder
from .sanitize import SanitizeOutputs
from .verification import student_seed

PHASES = "autograder_phases"   # notebook metadata: wall seconds of the kernel's start and shutdown
# What a grading kernel inherits from the worker's environment; everything else is cleared.
KERNEL_VARIABLES = ("MPLBACKEND", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


class SchemaCheckedOnce:
    """What nbgrader's metadata check calls as `jsonschema`: jsonschema.validate checks the schema itself
    against its metaschema before each cell (the Autograde step's CPU in the worker fell from 1.00 to
    0.88 s per student without it). The same verdict and error (the best match), with each schema
    checked once per process."""

    @staticmethod
    @functools.lru_cache(maxsize=8)
    def _validator(schema_text):
        schema = json.loads(schema_text)
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        return cls(schema)

    @classmethod
    def validate(cls, instance, schema):
        validator = cls._validator(json.dumps(schema, sort_keys=True))
        error = jsonschema.exceptions.best_match(validator.iter_errors(instance))
        if error is not None:
            raise error


nbgrader_format.jsonschema = SchemaCheckedOnce


class ResilientExecute(Execute):
    """nbgrader's Execute, except that a broken-down run fails only the cells it had not run yet.

    nbclient gives up on a notebook when the kernel dies (os._exit, a segfault, the OOM
    killer) or ignores the interrupt after a cell timeout; nbgrader would then discard
    the whole submission. Here every code cell left without an execution count gets an
    error output named after what happened, so SaveAutoGrades scores those cells zero
    and keeps what the cells before them earned.
    """

    # nbclient's sync setup_kernel calls start_new_kernel_client, bound to the base class's
    # coroutine; the async path calls the coroutine: seal the box's socket folder on both.
    # Each also times its part of the kernel's life (PHASES, kept in the notebook's metadata).
    def start_new_kernel(self, **kwargs):
        with self.timed("kernel_start"):
            return super().start_new_kernel(**kwargs)

    async def async_start_new_kernel(self, **kwargs):
        with self.timed("kernel_start"):
            return await super().async_start_new_kernel(**kwargs)

    def start_new_kernel_client(self):
        with self.timed("kernel_start"):
            client = super().start_new_kernel_client()
        self.seal()
        return client

    async def async_start_new_kernel_client(self):
        with self.timed("kernel_start"):
            client = await super().async_start_new_kernel_client()
        self.seal()
        return client

    def _cleanup_kernel(self):
        with self.timed("shutdown"):
            return super()._cleanup_kernel()

    async def _async_cleanup_kernel(self):
        with self.timed("shutdown"):
            return await super()._async_cleanup_kernel()

    @contextlib.contextmanager
    def timed(self, phase):
        began = time.monotonic()
        try:
            yield
        finally:
            phases = self.nb.metadata.setdefault(PHASES, {})
            phases[phase] = round(phases.get(phase, 0.0) + time.monotonic() - began, 3)

    def seal(self):
        if isinstance(self.km, ConfinedKernelManager):
            self.km.seal()          # the kernel has its sockets: nothing more may be created beside them

    def preprocess(self, nb, resources=None, km=None):
        try:
            return super().preprocess(nb, resources, km)
        except Exception as exc:  # noqa: BLE001 - any way the run broke down
            name = "DeadKernelError" if isinstance(exc, DeadKernelError) else type(exc).__name__
            message = (str(exc).strip().splitlines() or ["the kernel stopped answering"])[0][:300]
        for cell in self.nb.cells:
            if cell.cell_type == "code" and cell.get("execution_count") is None:
                cell.outputs.append(new_output("error", ename=name, evalue=message,
                                               traceback=[f"{name}: {message}"]))
        return self.nb, resources


SKIP_TAG = "skip-when-grading"     # a cell of source/ that grades nothing and feeds no graded cell
NOT_RUN = ("[not run when grading: the course marks this cell as grading nothing (skip-when-grading); "
           "in your own notebook it runs as usual]\n")


@functools.lru_cache(maxsize=16)
def _tagged_sources(path: str, modified: float) -> tuple:
    cells = nbformat.read(path, as_version=4).cells
    return tuple(cell.source for cell in cells if cell.cell_type == "code" and SKIP_TAG in cell.metadata.get("tags", []))


def skipped_sources(source_folder) -> dict:
    """{notebook stem: the sources of its code cells that the course's source tags SKIP_TAG}."""
    return {path.stem: list(_tagged_sources(str(path), path.stat().st_mtime))
            for path in sorted(Path(source_folder).glob("*.ipynb"))}


class RunWhatTheSourceRuns(Preprocessor):
    """Which cells run is the course's choice, never the submission's. A student's `skip-execution` tag
    is removed: nbclient would skip that cell, and a test cell that never runs fails nothing. A cell
    the course's source tags SKIP_TAG gets it, with a note for the feedback, if the submission holds it
    as released (an edited copy runs). tests/test_release.py checks that such a cell is graded nowhere
    and that no later cell reads what it sets: the graded cells run exactly as they would after it."""
    enabled = Bool(True)
    skipped = Dict({}).tag(config=True)     # {notebook stem: [source of each tagged cell]}

    def preprocess(self, nb, resources):
        self.released = set(self.skipped.get(resources.get("nbgrader", {}).get("notebook"), ()))
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        tags = [tag for tag in cell.metadata.get("tags", []) if tag != "skip-execution"]
        graded = any(cell.metadata.get("nbgrader", {}).get(key) for key in ("grade", "solution", "task"))
        if cell.cell_type == "code" and not graded and cell.source in self.released:
            tags.append("skip-execution")
            cell.outputs = [new_output("stream", name="stdout", text=NOT_RUN)]
        if tags:
            cell.metadata["tags"] = tags
        else:
            cell.metadata.pop("tags", None)
        return cell, resources


def run_autograde(nbconfig, assignment, student, notebook="*", kernel=None, skipped=None):
    """kernel: the ConfinedKernelManager settings for this student (see Autograde.kernel_settings);
    skipped: skipped_sources() of the assignment's source."""
    config = copy.deepcopy(nbconfig)
    steps = [ResilientExecute if step is Execute else step for step in AutogradeConverter.autograde_preprocessors.default()]
    assert steps[0] is ResilientExecute       # nbgrader's sanitizing steps (OverwriteCells...) ran before
    config.Autograde.autograde_preprocessors = [RunWhatTheSourceRuns] + steps[:1] + [TrimOutputs, SanitizeOutputs] + steps[1:]
    config.RunWhatTheSourceRuns.skipped = skipped or {}
    if kernel is not None:
        config.Execute.kernel_manager_class = ConfinedKernelManager
        # The last cell has run: kill the box at once (its PID namespace ends with it) rather
        # than wait for a polite shutdown, which only runs the student's exit handlers.
        config.Execute.shutdown_kernel = "immediate"
        config.ConfinedKernelManager.update(kernel)
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


def kernel_variables(environ=os.environ) -> dict:
    return {name: environ[name] for name in KERNEL_VARIABLES if name in environ}


def kernel_cases(assignment, stems, seed):
    """{grade_id: (Check, [(args, expected)])} for the hidden tests of these notebooks."""
    rng = np.random.default_rng(seed)
    return {gid: (check, cases_for(gid, rng)) for gid, check in sorted(CHECKS.items())
            if check.assignment == assignment and check.notebook in stems}


class Autograde:
    def kernel_settings(self, ctx):
        """The box of this student's kernels: their own cases, nothing of anyone else's."""
        config, student = ctx.config, ctx.job.student_id
        grading = ctx.course.root / "kernel" / student
        write_grading_folder(grading, kernel_cases(config.assignment, set(ctx.staged), student_seed(config.seed, "kernel:" + student)))
        sockets = ctx.course.sockets / "s"   # one student at a time per worker; Unix socket paths are short
        sockets.mkdir(parents=True, exist_ok=True)
        extra = kernel_variables()
        return {"mode": config.confinement, "grading_dir": str(grading), "sockets_root": str(sockets),
                "from_template": config.confinement == confine.BUBBLEWRAP and not config.fresh_kernels,
                "fonts": str(ctx.course.fonts or ""), "limits": dataclasses.asdict(config.kernel_limits),
                "extra_env": extra}

    def __call__(self, ctx):
        config, course = ctx.config, ctx.course
        if not ctx.staged:
            record_empty_submission(f"sqlite:///{course.db}", config.assignment, ctx.job.student_id)
            return
        kernel = self.kernel_settings(ctx)
        if kernel["mode"] != confine.BUBBLEWRAP:
            ctx.flag(flags.UNCONFINED)
        try:
            self.run(ctx, kernel)
        finally:
            shutil.rmtree(kernel["sockets_root"], ignore_errors=True)
            shutil.rmtree(kernel["grading_dir"], ignore_errors=True)

    def run(self, ctx, kernel):
        config, course = ctx.config, ctx.course
        skipped = skipped_sources(config.source)
        outcome = run_autograde(course.nbconfig, config.assignment, ctx.job.student_id, kernel=kernel, skipped=skipped)
        logs = [outcome.get("log", "") or ""]
        if not outcome["success"]:
            # nbgrader dropped the whole submission: salvage what each notebook earns on its own
            for stem in sorted(ctx.staged):
                outcome = run_autograde(course.nbconfig, config.assignment, ctx.job.student_id, stem, kernel, skipped)
                logs.append(outcome.get("log", "") or "")
                if not outcome["success"]:
                    logs.append(f"[AUTOGRADE FAILED {stem}] " + (outcome.get("error") or ""))
        ctx.log = "\n".join(logs)
        ctx.result["log"] = "\n".join(line for line in ctx.log.splitlines()
                                      if line.startswith(("[ERROR]", "[WARNING]", "[AUTOGRADE")))[-4000:]


EXIT_CALL = re.compile(r"(^|[^\w.])(sys\.exit|os\._exit|exit|quit)\s*\(", re.M)
RUN_FAILURES = ("RuntimeError", "CellExecutionError", "CellControlSignal", "ZMQError")


class TrimOutputs(Preprocessor):
    """Cap what one cell may print (nbgrader's LimitOutput counts lines, not bytes)."""
    enabled = Bool(True)
    max_chars = Integer(100_000).tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        for output in cell.get("outputs", []):
            text = output.get("text")
            if isinstance(text, str) and len(text) > self.max_chars:
                output.text = text[: self.max_chars] + f"\n... [{len(text) - self.max_chars} characters cut by the grader]"
                cell.metadata["trimmed_output"] = True
        return cell, resources


class Phases:
    """Wall seconds per notebook of the kernel's start, its cells (and of those, the cells that only
    import) and its shutdown, from the autograded notebooks: the benchmark's breakdown."""

    def __call__(self, ctx):
        autograded = ctx.course.folder("autograded", ctx.job.student_id, ctx.config.assignment)
        phases = {}
        for stem in sorted(ctx.staged):
            path = autograded / f"{stem}.ipynb"
            if path.is_file():
                notebook = nbformat.read(str(path), as_version=4)
                phases[stem] = {**notebook.metadata.get(PHASES, {}), **cell_seconds(notebook.cells)}
        ctx.result["phases"] = phases


def cell_seconds(cells) -> dict:
    cells_s = imports_s = 0.0
    for cell in cells:
        stamps = cell.get("metadata", {}).get("execution", {})
        began, ended = stamps.get("iopub.execute_input"), stamps.get("shell.execute_reply")
        if cell.cell_type != "code" or not (began and ended):
            continue
        seconds = (datetime.fromisoformat(ended.replace("Z", "+00:00"))
                   - datetime.fromisoformat(began.replace("Z", "+00:00"))).total_seconds()
        cells_s += seconds
        if only_imports(cell.source):
            imports_s += seconds
    return {"cells": round(cells_s, 3), "import_cells": round(imports_s, 3)}


def only_imports(source: str) -> bool:
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return False
    return bool(body) and all(isinstance(node, (ast.Import, ast.ImportFrom)) for node in body)


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
                    ename = output.get("ename")
                    grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
                    if grade_id:
                        ctx.errors.setdefault(stem, {}).setdefault(grade_id, str(ename)[:100])
                    if ename in ("CellTimeoutError", "TimeoutError"):
                        ctx.flag(flags.TIMEOUT, stem)
                    elif ename == "DeadKernelError":
                        ctx.flag(flags.KERNEL_DIED, stem)
                    elif ename == "SystemExit":
                        ctx.flag(flags.EXIT, stem)
                    elif ename in RUN_FAILURES:
                        ctx.flag(flags.CRASH, f"{stem}: {ename}")
                if EXIT_CALL.search(cell.source) and cell.cell_type == "code":
                    ctx.flag(flags.EXIT, stem)
                if cell.metadata.get("trimmed_output"):
                    ctx.flag(flags.HUGE_OUTPUT, stem)
