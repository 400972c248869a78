"""Publish: copy the student's files into OUT, then write their result file, atomically, last.

The result file is the commit point of a student: a run that stops before it leaves
the student to be graded again; a rerun skips a student whose file has the same digest.
"""
import json
import os
import shutil
from pathlib import Path

from .gradebook import student_rows


def replace_tree(source, destination, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")):
    shutil.rmtree(destination, ignore_errors=True)
    if source.is_dir():
        shutil.copytree(source, destination, ignore=ignore)


def pages_only(folder, names):
    """OUT/feedback gets the HTML pages, not the copies of the kit and data nbgrader puts beside them."""
    return [n for n in names if not (n.endswith(".html") or (Path(folder, n).is_dir() and n != "coursekit"))]


def write_atomically(path, data: dict):
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    scratch.write_text(json.dumps(data, indent=1, sort_keys=True, default=str))
    os.replace(scratch, path)


def result_path(config, student):
    return config.results / f"{student}.json"


def load_result(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


class Publish:
    def __call__(self, ctx):
        config, course, student = ctx.config, ctx.course, ctx.job.student_id
        for kind in ("submitted", "autograded", "feedback"):
            replace_tree(course.root / kind / student, config.record / kind / student)
        replace_tree(course.root / "feedback" / student, config.feedback / student, ignore=pages_only)
        scored = [c["score"] for c in ctx.cells.values() if c["score"] is not None]
        ctx.result.update({
            "student_id": student, "assignment": config.assignment, "digest": ctx.job.digest, "cells": ctx.cells,
            "flags": ctx.flags,
            "score": round(sum(scored), 6), "max_score": sum(c["max_score"] for c in ctx.cells.values()),
            "rows": student_rows(course.db, student, config.assignment), "timings": ctx.timings})
        write_atomically(result_path(config, student), ctx.result)
