"""Every hidden test of the course, by grade_id, and the cases a kernel is given.

The Checks themselves live with their assignment (autograder/assignments/<assignment>/checks.py,
built from autograder/check.py); grade_ids are unique across the course, so one table serves
the grader, the verification and the reports.
"""
from .assignments import all_checks

CHECKS = all_checks()


def checks_of(assignment, notebook=None):
    """The Checks of one assignment (and one notebook stem of it), in the order they were listed."""
    return [check for check in CHECKS.values()
            if check.assignment == assignment and (notebook is None or check.notebook == notebook)]


def cases_for(grade_id, rng):
    """(args, expected) pairs: what a confined kernel is given for one hidden test."""
    check = CHECKS[grade_id]
    return [(args, check.wanted(args)) for args in check.cases(rng)]
