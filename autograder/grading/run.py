"""A run of the class, as a list of steps: the same shape as one student's grading (pipeline.py).

    Intake -> Prepare -> Plan -> Grade -> Tidy -> MergeGradebook -> WriteGrades -> WriteReport

RUN_STEPS is the one place the order is set; each step reads what the ones before it left
on the ClassRun and adds its own part. The students themselves are graded by the
workers, each through pipeline.STEPS.
"""
import dataclasses
import functools
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from . import class_report, confine, gradebook, intake, record, report
from .config import GradingConfig, scratch_folder
from .confine import font_cache
from .executor import LocalProcessPool
from .fingerprint import grader_fingerprint, integrity, submission_digest
from .pipeline import (Job, failure_result, grade_student, quiet_warnings, start_worker, template_environment,
                       uses_templates)
from .publish import load_result, result_path, write_atomically


class GraderChanged(RuntimeError):
    def __init__(self, student):
        super().__init__(f"the grader's own files changed while {student} was graded: the run stopped, and no "
                         f"grade from {student} on was kept. Reinstall the grader (git status, make clean && make env) "
                         f"and look at {student}'s submission.")
        self.student = student


@dataclass
class ClassRun:
    config: GradingConfig
    submissions_dir: Path | None = None      # DIR/<student>/<assignment>/<notebook>.ipynb
    zip: Path | None = None                  # or an LMS zip, unpacked by Intake
    quiet: bool = False
    executor: object = None
    submissions: list = field(default_factory=list)
    template: Path | None = None             # the gradebook holding the assignment alone
    cell_keys: dict = field(default_factory=dict)
    results: dict = field(default_factory=dict)   # student -> result (reused or new)
    jobs: list = field(default_factory=list)      # the students to grade now
    ordered: list = field(default_factory=list)   # results in submission order, once graded


class Intake:
    """The students and their notebooks, from a folder or a zip (strict: intake.py)."""

    def __call__(self, run):
        config = run.config
        stems = intake.notebook_stems(config.source)
        if run.zip is not None:
            run.submissions_dir = intake.unpack_zip(run.zip, config.work / "zip", config.assignment, stems)
        run.submissions = intake.from_folder(run.submissions_dir, config.assignment, stems)


class Prepare:
    """The nbgrader course in OUT/nbgrader, and the fingerprint of the grader the workers compare to."""

    def __call__(self, run):
        run.template = record.prepare(run.config)
        run.config = dataclasses.replace(run.config, grader_state=integrity(run.config),
                                         scratch=scratch_folder(), fonts=str(font_cache(run.config.work / "matplotlib")))
        for log in run.config.work.glob("worker-*.log"):       # keep the logs of the latest run only
            log.unlink(missing_ok=True)
        run.cell_keys = gradebook.assignment_cells(run.template, run.config.assignment)


class Plan:
    """Reuse the result of every student whose submission and grader are unchanged; grade the rest."""

    def __call__(self, run):
        config = run.config
        grader = grader_fingerprint(config)
        for submission in run.submissions:
            digest = submission_digest(submission, config.kit_name, grader)
            previous = load_result(result_path(config, submission.student_id))
            if previous and previous.get("digest") == digest:
                run.results[submission.student_id] = previous
            else:
                run.jobs.append(Job(submission.student_id, submission.folder, dict(submission.notebooks), digest,
                                    tuple(submission.flags)))


class Grade:
    """The workers grade the students; a worker stopped for a student gives that student zeros and why.

    The local pool's workers share this disk and commit each student themselves (Publish). An engine
    of other machines (distributed.DaskExecutor, `--scheduler`) has a `grade` method instead: the
    submission travels by content and the student is committed here, the same way, before it is
    yielded. Either way the bar counts the students done, across all workers.

    The local pool's workers are forked from a fork server that imported the grading code once, and
    their kernel templates from a template server that imported the kernels' libraries once
    (confine.TemplateServer): every worker shares those pages."""

    def __call__(self, run):
        # Both servers listen on sockets in the temporary folder: only where no box can see it.
        shared = run.executor is None and run.jobs and not confine.seen_by_boxes(tempfile.gettempdir(), run.config.out)
        server = None
        if shared and uses_templates(run.config):
            server = confine.TemplateServer(template_environment(run.config), Path(run.config.scratch))
            run.config = dataclasses.replace(run.config, templates=server.folder)
        try:
            self.grade(run, preload=("autograder.grading.worker_imports",) if shared else ())
        finally:
            if server is not None:
                server.close()

    def grade(self, run, preload):
        config = run.config
        executor = run.executor or LocalProcessPool(config.workers, timeout=config.student_timeout,
                                                    initializer=functools.partial(start_worker, config),
                                                    preload=preload)
        if hasattr(executor, "grade"):
            outcomes = executor.grade(config, run.template, run.jobs)
        else:
            outcomes = executor.map(functools.partial(grade_student, config), run.jobs)
        describe = getattr(executor, "describe", None)
        with tqdm(total=len(run.submissions), initial=len(run.results), unit="student", disable=run.quiet,
                  desc=f"grading {config.assignment}") as bar:
            if describe and not run.quiet:
                bar.set_postfix_str(describe())
            for job, done in outcomes:
                result = done.value
                if result and result.get("grader_changed"):
                    raise GraderChanged(job.student_id)
                if done.error:
                    word = "timeout" if done.error == "timeout" else "crash"
                    result = failure_result(config, job, word, done.detail.strip().splitlines()[-1][:200],
                                            run.cell_keys)
                    write_atomically(result_path(config, job.student_id), result)
                run.results[job.student_id] = result
                if describe and not run.quiet:
                    bar.set_postfix_str(describe(), refresh=False)
                bar.update()
        run.ordered = [run.results[s.student_id] for s in run.submissions]


class Tidy:
    """The workers are gone: so are their courses."""

    def __call__(self, run):
        for scratch in run.config.work.glob("worker-*"):
            if scratch.is_dir():
                shutil.rmtree(scratch, ignore_errors=True)


class MergeGradebook:
    def __call__(self, run):
        gradebook.merge(run.template, run.ordered, run.config.record / "gradebook.db")


class WriteGrades:
    def __call__(self, run):
        report.write_csv(run.config.out / "grades.csv", run.ordered, report.graded_cells(run.config.source))


class WriteReport:
    """OUT/report/: what the class got wrong, at a glance (class_report.py). Never costs grades.csv."""

    def __call__(self, run):
        try:
            class_report.build_report(run.config.out, run.ordered)
        except Exception as exc:   # the grades are written already; the report can be rebuilt
            print(f"class report not written ({type(exc).__name__}: {exc}); rebuild it: "
                  f"python -m autograder report {run.config.out}", file=sys.stderr)


RUN_STEPS = (Intake, Prepare, Plan, Grade, Tidy, MergeGradebook, WriteGrades, WriteReport)


def run_class(run: ClassRun):
    """(results in submission order, how many were graded now, seconds)."""
    started = time.monotonic()
    quiet_warnings()
    record.put_tools_on_path()
    try:
        for step in RUN_STEPS:
            step()(run)
    finally:    # kernel sockets, and whatever a worker stopped mid-student left there
        if run.config.scratch:
            shutil.rmtree(run.config.scratch, ignore_errors=True)
    return run.ordered, len(run.jobs), time.monotonic() - started
