"""One student's grading, as a list of small steps run in order inside a worker process.

STEPS is the one place the order is set. Each step takes the Context, reads what the
steps before it left there and adds its own part; none of them raises for anything a
student did (that becomes a flag), so every student reaches Publish.
"""
import multiprocessing.util
import os
import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from . import confine
from .autograde import Autograde, Incidents, Phases, kernel_variables, record_empty_submission
from .gradebook import student_rows
from .feedback import Feedback
from .publish import Publish
from .reconcile import Reconcile
from .record import nbgrader_config, template_db
from .stage import Stage
from .tamper import ScanForTampering
from .confine import font_cache
from .fingerprint import integrity
from .verification import StartVerification, start_helper

STEPS = (Stage, ScanForTampering, StartVerification, Autograde, Incidents, Phases, Reconcile, Feedback, Publish)


@dataclass(frozen=True)
class Job:
    """What crosses to a worker: one student and the digest their result will be stored under."""
    student_id: str
    folder: Path
    notebooks: dict
    digest: str
    flags: tuple = ()     # what intake found wrong (a symlink refused, ...)


class WorkerCourse:
    """A private nbgrader course (own gradebook, same source) reused for all of a worker's students."""

    def __init__(self, config):
        self.root = config.work / f"worker-{os.getpid()}"
        shutil.rmtree(self.root, ignore_errors=True)
        self.root.mkdir(parents=True)
        (self.root / "source").symlink_to((config.record / "source").resolve())
        shutil.copyfile(template_db(config), self.root / "gradebook.db")
        self.db = self.root / "gradebook.db"
        self.nbconfig = nbgrader_config(config, self.root)
        # Kernel sockets: a short path (Unix socket names are limited to 107 bytes), private to this worker.
        # (inside the run's scratch folder, which the run removes even if this worker is killed)
        self.sockets = Path(tempfile.mkdtemp(prefix=f"w{os.getpid()}-", dir=config.scratch or None))
        multiprocessing.util.Finalize(self, shutil.rmtree, args=(self.sockets, True), exitpriority=10)
        self.fonts = Path(config.fonts) if config.fonts else font_cache(config.work / "matplotlib")

    def folder(self, kind, student, assignment) -> Path:
        return self.root / kind / student / assignment


@dataclass
class Context:
    config: object
    job: Job
    course: WorkerCourse
    staged: dict = field(default_factory=dict)     # notebook stem -> staged path (valid notebooks only)
    flags: list = field(default_factory=list)
    log: str = ""
    verdicts: dict = field(default_factory=dict)   # stem -> {grade_id: {"passed", "message"}}
    pending: object = None                         # verification running beside the kernel
    cells: dict = field(default_factory=dict)      # "notebook:grade_id" -> cell result
    notes: dict = field(default_factory=dict)      # stem -> {grade_id: message} for the feedback
    errors: dict = field(default_factory=dict)     # stem -> {grade_id: the first error's name in that test cell}
    result: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)    # step name -> seconds (Publish stores them)

    def flag(self, word, detail=""):
        text = f"{word} ({detail})" if detail else word
        if text not in self.flags:
            self.flags.append(text)


_course = None
# The kernels this worker starts: one BLAS thread each (N workers already fill N cores).
KERNEL_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def quiet_warnings():
    """SQLAlchemy's warnings about nbgrader's session use say nothing about a submission."""
    from sqlalchemy.exc import SAWarning
    warnings.filterwarnings("ignore", category=SAWarning)


def quiet_worker(config):
    """Send this worker's (and its kernels') stdout/stderr to a log file, not the terminal."""
    quiet_warnings()
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    log = config.work / f"worker-{os.getpid()}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(descriptor, 1)
    os.dup2(descriptor, 2)
    os.close(descriptor)


def worker_environment(config, environ=os.environ) -> dict:
    """A worker's environment: the grader's, with its kernels' settings."""
    return {**environ, **(KERNEL_ENV if config.figures else {**KERNEL_ENV, "MPLBACKEND": "Agg"}),
            "PATH": os.path.dirname(os.sys.executable) + os.pathsep + environ.get("PATH", "")}


def uses_templates(config) -> bool:
    return config.confinement == confine.BUBBLEWRAP and not config.fresh_kernels


def template_environment(config, environ=os.environ) -> dict:
    """The environment of the kernel template a worker of this run asks for (confine.KernelTemplate)."""
    extra = kernel_variables(worker_environment(config, environ))
    return confine.template_environment(confine.kernel_environment(extra, Path("."), Path(config.fonts)))


def start_worker(config):
    """Executor initializer: one course per worker process, made once."""
    global _course
    quiet_worker(config)
    os.environ.update(worker_environment(config))
    confine.SERVER = config.templates or None
    _course = WorkerCourse(config)
    start_helper(config.verifier)
    if uses_templates(config):
        confine.warm_template(kernel_variables(), _course.fonts)    # before any student's clock runs


def grade_student(config, job: Job) -> dict:
    """Run the steps; if the grader's own files are not as they were when the run started (a student's
    code reached them), keep nothing of this student."""
    context = Context(config, job, _course or WorkerCourse(config))
    for step in STEPS:
        if step in (Stage, Publish) and config.grader_state and integrity(config) != config.grader_state:
            return {"student_id": job.student_id, "grader_changed": True}
        began = time.monotonic()
        step()(context)
        context.timings[step.__name__] = round(time.monotonic() - began, 2)
    return context.result


def empty_rows(config, student) -> dict:
    """The gradebook rows of a submission scored zero, made in a scratch copy of the template."""
    scratch = config.work / f"empty-{os.getpid()}.db"
    shutil.copyfile(template_db(config), scratch)
    try:
        record_empty_submission(f"sqlite:///{scratch}", config.assignment, student)
        return student_rows(scratch, student, config.assignment)
    finally:
        scratch.unlink(missing_ok=True)


def failure_result(config, job: Job, word: str, detail: str, cell_keys) -> dict:
    """What a student gets when their worker had to be stopped: zero everywhere, and why.

    Their gradebook rows say the same, so nbgrader's export and grades.csv agree."""
    cells = {f"{nb}:{gid}": {"score": 0.0 if kind == "code" else None, "max_score": max_score,
                             "nbgrader": None, "verified": None, "message": detail}
             for (nb, gid), (max_score, kind) in sorted(cell_keys.items())}
    return {"student_id": job.student_id, "assignment": config.assignment, "digest": job.digest, "cells": cells,
            "flags": [f"{word} ({detail})"], "score": 0.0,
            "max_score": sum(c["max_score"] for c in cells.values()), "rows": empty_rows(config, job.student_id)}
