"""Stage: copy a student's files into the worker's nbgrader course, with a fresh instructor kit.

A notebook that isn't valid JSON / nbformat is left out (nbgrader then scores it zero as
missing) and flagged; the student's own copy of the kit is replaced.
"""
import shutil

import nbformat
from nbformat.reader import NotJSONError

from . import flags


def valid_notebook(path):
    try:
        nbformat.validate(nbformat.read(str(path), as_version=4))
        return None
    except Exception as exc:  # any way a file can fail to be a notebook
        if isinstance(exc, NotJSONError):
            return "not JSON"
        detail = " ".join((getattr(exc, "message", None) or str(exc)).split())[:80]
        return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


class Stage:
    def __call__(self, ctx):
        config, job, course = ctx.config, ctx.job, ctx.course
        ctx.flags.extend(flag for flag in job.flags if flag not in ctx.flags)
        for kind in ("submitted", "autograded", "feedback"):
            shutil.rmtree(course.root / kind / job.student_id, ignore_errors=True)
        target = course.folder("submitted", job.student_id, config.assignment)
        target.mkdir(parents=True)
        if job.folder.is_dir():
            for path in sorted(job.folder.iterdir()):
                if path.name in (config.kit_name, "__pycache__", ".ipynb_checkpoints") or path.suffix == ".ipynb":
                    continue
                if path.is_file() and not path.is_symlink():
                    shutil.copyfile(path, target / path.name)
        if config.kit:
            shutil.copytree(config.kit, target / config.kit_name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        expected = sorted(p.stem for p in (course.root / "source" / config.assignment).glob("*.ipynb"))
        for stem in expected:
            path = job.notebooks.get(stem)
            if path is None:
                ctx.flag(flags.MISSING, stem)
                continue
            problem = valid_notebook(path)
            if problem:
                ctx.flag(flags.INVALID, f"{stem}: {problem}")
                continue
            shutil.copyfile(path, target / f"{stem}.ipynb")
            ctx.staged[stem] = target / f"{stem}.ipynb"
