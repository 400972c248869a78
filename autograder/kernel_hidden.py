"""`autograder.hidden` as a confined grading kernel sees it: this student's cases, no reference.

The grader copies this file into the kernel's read-only grading folder as
`autograder/hidden.py`, beside compare.py and the wire format (_sandbox_child.py),
and writes `cases.json` / `cases.npz` one folder up: for each hidden test, the
arguments of this student's cases and the reference's result for each (see
grading/confine.py). The hidden-test cells of the notebook import it unchanged
(`from autograder.hidden import run_hidden_test`). Nothing here is secret; the
verdict is compare.py's, as in the instructor's notebooks, and the diagnosis of a
wrong answer comes from the outside verification.
"""
import json
from pathlib import Path

from . import _sandbox_child as wire
from .compare import VIEWS, Raises, judge_expected, run_cases

CASES = Path(__file__).resolve().parents[1]
MAX_BYTES = 64 << 20


def load_cases(grade_id):
    """The hidden test's entry (function name, view, script) and its [(args, expected)]."""
    tree = json.loads(wire.read_regular(CASES / "cases.json", MAX_BYTES))
    arrays = wire.load_arrays(CASES / "cases.npz", MAX_BYTES)
    entry = tree[grade_id]
    pairs = [(wire.decode(case["args"], arrays),
              Raises(case["raises"], case.get("raises_type") or "") if case["raises"] is not None
              else wire.decode(case["expect"], arrays))
             for case in entry["cases"]]
    return entry, pairs


def run_hidden_test(grade_id, function):
    entry, pairs = load_cases(grade_id)
    name, view = entry["function"], VIEWS[entry.get("view")]
    wants = iter([want for _, want in pairs])
    run_cases(name, wire.scripted(function, entry.get("script")) if callable(function) else function,
              [args for args, _ in pairs],
              lambda args, result, error: judge_expected(name, next(wants), view(result) if error is None else result,
                                                         error))
