"""A hidden test, written once and run twice: the Check.

A Check names a graded function, makes random cases for it, and says what the
reference returns for each (`expect`); compare.py judges the student's result against
that, and `explain` words a wrong one (which common slip it looks like; `explain_error` does
the same for an error the student's code raised). In the grading
pipeline the student's confined kernel gets only its own cases and their expected
results (kernel_hidden.py, no reference); the student's function is then run again in
a sandbox and the plain numbers it sends back are judged here, with the reference and
the diagnoses (verify.py). In the instructor's notebooks hidden.py does both at once.
Cases hold only arrays, dicts of arrays and floats, so they cross a process boundary
without pickle.

Each assignment lists its Checks in autograder/assignments/<assignment>/checks.py.
"""
from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import _sandbox_child as wire
from .compare import VIEWS, Raises, compare, judge_expected  # noqa: F401  (Raises: for the checks modules)
from ._sandbox_child import Fn  # noqa: F401  (for the checks modules: function-valued arguments)


@dataclass(frozen=True)
class Check:
    grade_id: str          # grade_id of the hidden-test cell in the source notebook
    notebook: str          # notebook file stem in source/<assignment>/
    function: str          # the name the student defines
    make_cases: Callable   # np.random.Generator -> list of argument tuples
    expect: Callable       # args -> the reference's result (plain data), or compare.Raises(message)
    explain: Callable | None = None   # (args, result) -> a better message for a wrong result, or None
    mistakes: Callable | None = None  # args -> the wrong results of the slips `explain` names
    view: str | None = None           # judge compare.VIEWS[view] of the result: "values" or "shapes"
    script: tuple | None = None       # for a graded class: the steps that exercise it (_sandbox_child.run_script)
    assignment: str = ""   # folder under source/; filled in by autograder.assignments
    explain_error: Callable | None = None  # (args, (type, message)) -> a better message for an error, or None

    def __post_init__(self):
        if self.view not in VIEWS:
            raise ValueError(f"{self.grade_id}: unknown view {self.view!r}")

    def wanted(self, args):
        """What the judged view of a right answer is: the kernel is given this."""
        want = self.expect(args)
        return want if isinstance(want, Raises) else VIEWS[self.view](want)

    def bind(self, target):
        """The student's function, or, for a graded class, the function that runs the script on it."""
        return wire.scripted(target, self.script)

    def cases(self, rng, tries=20):
        """make_cases, redrawn until every case tells the reference from each named slip."""
        for _ in range(tries):
            cases = self.make_cases(rng)
            if all(self.separates(args) for args in cases):
                return cases
        raise RuntimeError(f"{self.grade_id}: no case in {tries} draws separates the reference from its slips")

    def separates(self, args):
        want = self.wanted(args)
        for wrong in self.mistakes(args) if self.mistakes else []:
            try:
                compare(self.function, want, VIEWS[self.view](wrong))
            except AssertionError:
                continue
            return False
        return True

    def judge(self, args, result, error):
        """Raise AssertionError for a wrong answer. The verdict is compare's alone (the
        confined kernel applies it too, without the reference); `explain` only words it."""
        want = self.wanted(args)
        try:
            judge_expected(self.function, want, VIEWS[self.view](result) if error is None else result, error)
        except AssertionError as exc:
            if error is None:
                better = self.explain(args, result) if self.explain else None
            else:
                better = self.explain_error(args, error) if self.explain_error else None
                if better is None and "matmul" in error[1]:
                    better = (f"{self.function} raised {error[0]}: the two operands of a matrix product (@) do "
                              f"not fit. {MATMUL_HINT} (NumPy said: {error[1]})")
            raise AssertionError(better or str(exc)) from None


MATMUL_HINT = ("Write each product's shapes down: a weight gradient is the input's transpose on the left, "
               "X.T @ dL/dN, and a gradient flowing back through W is dL/dN @ W.T.")


def distinct_sizes(rng, hidden=False):
    n, k, h = rng.choice(np.arange(2, 12), size=3, replace=False)
    return (int(n), int(k), int(h)) if hidden else (int(n), int(k))
