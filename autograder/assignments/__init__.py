"""The course's assignments, one package each: autograder/assignments/<assignment>/.

A package is named after its folder in source/ and holds what only the grader sees:
`checks.py` (CHECKS, a list of autograder.check.Check: the hidden tests), the reference
solutions (`reference/`), and `mistakes.py`, the catalogue of common slips its diagnoses name:
each a module-level (name, what to tell the student) pair, with whatever makes its wrong results. Adding an assignment
means adding a package here and a folder in source/; nothing else lists them.
"""
import dataclasses
import importlib
import pkgutil
from pathlib import Path

COURSE_ROOT = Path(__file__).resolve().parents[2]


def names():
    """Every assignment with a package here that lists its checks, in course order (their names sort
    that way). A package still without checks.py (an assignment being written) is not one yet, so
    it cannot stop the others from grading; tests/test_release.py insists that every folder in
    source/ has one."""
    here = Path(__file__).resolve().parent
    return sorted(info.name for info in pkgutil.iter_modules(__path__)
                  if info.ispkg and (here / info.name / "checks.py").is_file())


def checks(assignment):
    """The assignment's Checks, each told which assignment it belongs to."""
    module = importlib.import_module(f"{__name__}.{assignment}.checks")
    return [dataclasses.replace(check, assignment=assignment) for check in module.CHECKS]


def all_checks():
    """{grade_id: Check} over the whole course; a grade_id used twice is an error."""
    table = {}
    for assignment in names():
        for check in checks(assignment):
            if check.grade_id in table:
                raise ValueError(f"grade_id {check.grade_id!r} is used by both {table[check.grade_id].assignment} "
                                 f"and {assignment}: grade_ids must be unique across the course")
            table[check.grade_id] = check
    return table


def slip_names():
    """Every slip name the course's catalogues define: the first item of each (name, message) pair."""
    found = set()
    for assignment in names():
        try:
            module = importlib.import_module(f"{__name__}.{assignment}.mistakes")
        except ModuleNotFoundError:
            continue
        found |= {value[0] for value in vars(module).values()
                  if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, str) for v in value)}
    return found
