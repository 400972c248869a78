"""Run a Check inside the student's kernel: the body of every hidden-test cell."""
import copy

import numpy as np

from .specs import CHECKS, fail

SEEDS = (11, 23, 37)


def call(function, args):
    """The student's result, or the exception it raised as (type name, message)."""
    try:
        return function(*args), None
    except Exception as exc:  # a student's bug must become a message, not a crash
        return None, (type(exc).__name__, str(exc))


def same_inputs(before, after):
    if isinstance(before, dict):
        return all(same_inputs(before[key], after[key]) for key in before)
    if isinstance(before, tuple):
        return all(same_inputs(b, a) for b, a in zip(before, after))
    return np.array_equal(before, after)


def run_hidden_test(grade_id, function, seeds=SEEDS):
    check = CHECKS[grade_id]
    if not callable(function):
        fail(f"{check.function} should be a function, got {type(function).__name__}")
    cases = 0
    for seed in seeds:
        for args in check.make_cases(np.random.default_rng(seed)):
            pristine = copy.deepcopy(args)
            result, error = call(function, args)
            if not same_inputs(pristine, args):
                fail(f"{check.function} modified its inputs in place: compute new arrays instead.")
            check.judge(pristine, result, error)
            cases += 1
    print(f"{check.function}: matches the reference on {cases} random cases.")
