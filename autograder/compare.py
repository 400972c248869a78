"""Judge a student's function against expected results: the rule every hidden test applies.

It holds no reference solution and no case generator, only the comparison, so the
grader can ship it into a student's confined kernel together with that student's own
cases and their expected results (autograder/kernel_hidden.py), while the grader's
checks (specs.py) use the same rule with the reference at hand. It imports nothing
but NumPy and the standard library.

An expected result is plain data: a float, a float64 array, a string (what a view
describes), a tuple or a dict of them, or `Raises(message)` where the function must raise
an exception. A check may judge a view of the result (VIEWS): its values whatever their
shape, or only its arrays' shapes and dtypes; the kernel and the grader apply the same view.
"""
import copy
import warnings
from dataclasses import dataclass

import numpy as np

RTOL, ATOL = 1e-6, 1e-9


@dataclass(frozen=True)
class Raises:
    """The function must raise on these arguments (an `exception` of that name, when one is named:
    a stub's NotImplementedError is not the refusal asked for); `message` says what it did instead."""
    message: str
    exception: str = ""


def fail(message):
    raise AssertionError(message)


def compare(name, want, got):
    """Raise AssertionError naming the first way `got` differs from `want`."""
    if isinstance(want, dict):
        if not isinstance(got, dict) or sorted(map(str, got)) != sorted(want):
            keys = sorted(map(str, got)) if isinstance(got, dict) else type(got).__name__
            fail(f"{name} should be a dict with keys {sorted(want)}, got {keys}")
        for key in want:
            compare(f"{name}['{key}']", want[key], got[key])
    elif isinstance(want, tuple):
        if not isinstance(got, tuple) or len(got) != len(want):
            fail(f"{name} should be a tuple of {len(want)}, got {describe(got)}")
        for i, (w, g) in enumerate(zip(want, got)):
            compare(f"{name}[{i}]", w, g)
    elif isinstance(want, str):
        if got != want:
            fail(f"{name} is {got}, expected {want}")
    elif isinstance(want, np.ndarray):
        if type(got) is not np.ndarray:
            fail(f"{name} should be a plain NumPy array, got {type(got).__name__}")
        if got.shape != want.shape:
            fail(f"{name} has shape {got.shape}, expected {want.shape}")
        if got.dtype != want.dtype:
            fail(f"{name} has dtype {got.dtype}, expected {want.dtype}")
        close(name, got, want)
    else:
        if isinstance(got, np.ndarray) and got.size == 1:
            got = got.reshape(())[()]
        if isinstance(got, (bool, np.bool_)) or not isinstance(got, (float, np.floating)):
            fail(f"{name} should be a float, got {type(got).__name__}")
        close(name, float(got), float(want))


def close(name, got, want):
    # np.allclose's rule for finite values (|got - want| <= ATOL + RTOL |want|, NaN never close),
    # without its Python overhead: the fairness test judges millions of results.
    if not (np.abs(np.subtract(got, want)) <= ATOL + RTOL * np.abs(want)).all():
        fail(f"{name} is wrong (largest difference {np.max(np.abs(np.asarray(got) - want)):.3g})")


def mapped(leaf, value):
    """`value` with `leaf` applied to everything that is not a dict, tuple or list."""
    if isinstance(value, dict):
        return {key: mapped(leaf, item) for key, item in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value)(mapped(leaf, item) for item in value) if type(value) in (tuple, list) else leaf(value)
    return leaf(value)


def values_leaf(value):
    """Numbers, whatever the shape they came in: a scalar or any array becomes a flat array."""
    if isinstance(value, (np.ndarray, np.generic, float)) and not isinstance(value, (bool, np.bool_)):
        return np.ravel(value) if type(value) is not np.ndarray else value.reshape(-1)
    return value


def shapes_leaf(value):
    """What a value is, in words, when only its shape and type are judged."""
    if type(value) is np.ndarray:
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"a {type(value).__name__}, not an array"


VIEWS = {   # a check's view: what of the result is judged
    None: lambda value: value,
    "values": lambda value: mapped(values_leaf, value),
    "shapes": lambda value: mapped(shapes_leaf, value),
}


def describe(value):
    return f"a {type(value).__name__} of {len(value)}" if isinstance(value, (tuple, list)) else type(value).__name__


def judge_expected(name, want, result, error):
    """The verdict on one call: the same in the kernel and in the grader."""
    if isinstance(want, Raises):
        if error is None:
            fail(want.message)
        if want.exception and error[0] != want.exception:
            fail(f"{name} raised {error[0]}: {error[1]}; it should raise a {want.exception} here.")
        return
    if error is not None:
        fail(f"{name} raised {error[0]}: {error[1]}")
    compare(f"{name}(...)", want, result)


def call(function, args):
    """The student's result, or what went wrong as (type name, message): an exception, or a
    warning (an overflow, say), which nbgrader would otherwise see on stderr and score as a
    failure without a word. The outside verification calls functions the same way."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = function(*args)
        except Exception as exc:  # a student's bug must become a message, not a crash
            return None, (type(exc).__name__, str(exc))
    if caught:
        first = caught[0]
        return None, (first.category.__name__, f"{first.message} (a warning: the result may not be trustworthy)")
    return result, None


def same_inputs(before, after):
    if isinstance(before, dict):
        return isinstance(after, dict) and all(key in after and same_inputs(before[key], after[key]) for key in before)
    if isinstance(before, (tuple, list)):
        return isinstance(after, (tuple, list)) and len(before) == len(after) and all(
            same_inputs(b, a) for b, a in zip(before, after))
    if callable(before) and not isinstance(before, np.ndarray):
        return before == after
    return bool(np.array_equal(before, after))


def run_cases(name, function, cases, judge):
    """Call `function` on each case's arguments and judge it; print one line when all pass.

    judge(args, result, error) raises AssertionError for a wrong answer."""
    if not callable(function):
        fail(f"{name} should be a function, got {type(function).__name__}")
    for args in cases:
        pristine = copy.deepcopy(args)
        result, error = call(function, args)
        if not same_inputs(pristine, args):
            fail(f"{name} modified its inputs in place: compute new arrays instead.")
        judge(pristine, result, error)
    print(f"{name}: matches the reference on {len(cases)} random cases.")
