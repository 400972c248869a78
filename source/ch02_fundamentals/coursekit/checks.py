"""Checks behind the visible tests: shapes, values and numerical gradients.

Each check raises AssertionError with a message that says what is wrong and
where to look, in lines of at most WIDTH characters (nbgrader's Validate dialog
does not wrap them), the hint on a line of its own. Gradient checks follow
CS231n's recipe: float64 centred differences and a relative error with a floor.
"""
import textwrap

import numpy as np

TOLERANCE = 1e-6      # relative error a float64 centred difference reliably reaches
FLOOR = 1e-8          # keeps the relative error finite where both values are ~0
WIDTH = 100           # longest line of a message


def _message(text, hint=""):
    """text, then the hint on a line of its own, every line longer than WIDTH wrapped at words."""
    text = f"{text}\n{hint.strip()}" if hint and hint.strip() else text
    return "\n".join(textwrap.fill(line, WIDTH, break_long_words=False, break_on_hyphens=False)
                     if len(line) > WIDTH else line for line in text.split("\n"))


def check_array(value, name, shape=None, hint=""):
    """`value` must be a float64 ndarray, of `shape` if one is given."""
    if not isinstance(value, np.ndarray):
        message = f"{name} should be a NumPy array, got {type(value).__name__}."
        raise AssertionError(_message(message, hint))
    if shape is not None and value.shape != tuple(shape):
        message = f"{name} has shape {value.shape}, expected {tuple(shape)}."
        raise AssertionError(_message(message, hint))
    if value.dtype != np.float64:
        raise AssertionError(_message(f"{name} has dtype {value.dtype}, expected float64."))


def check_keys(mapping, keys, name):
    """`mapping` must be a dict with exactly `keys`."""
    if not isinstance(mapping, dict):
        raise AssertionError(_message(f"{name} should be a dict, got {type(mapping).__name__}."))
    missing, extra = set(keys) - set(mapping), set(mapping) - set(keys)
    if missing or extra:
        raise AssertionError(_message(f"{name} has keys {sorted(mapping)}, expected {sorted(keys)}"
                                      f" (missing {sorted(missing)}, unexpected {sorted(extra)})."))


def check_close(actual, expected, name, rtol=1e-7, atol=1e-9, hint=""):
    """Values must agree; the message shows both and the largest difference."""
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    if actual.shape != expected.shape:
        message = f"{name} has shape {actual.shape}, expected {expected.shape}."
        raise AssertionError(_message(message, hint))
    if not np.allclose(actual, expected, rtol=rtol, atol=atol):
        worst = np.argmax(np.abs(actual - expected))
        worst = tuple(int(i) for i in np.unravel_index(worst, actual.shape)) if actual.shape else ()
        got, want = np.array2string(actual, precision=6), np.array2string(expected, precision=6)
        raise AssertionError(_message(f"{name} is wrong: got\n{got}\nexpected\n{want}\n"
                                      f"(largest difference at index {worst}).", hint))


def relative_error(a, b, floor=FLOOR):
    """max |a - b| / max(|a| + |b|, floor), elementwise, as one number."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), floor)))


def numerical_gradient(f, x, h=1e-5):
    """Centred-difference gradient of the scalar function f() with respect to array x.

    x is nudged in place and restored, so f must read x (not a copy of it).
    """
    if x.dtype != np.float64:
        raise TypeError(f"numerical gradients need float64, got {x.dtype}")
    grad = np.zeros_like(x)
    for index in np.ndindex(*x.shape):
        saved = x[index]
        x[index] = saved + h
        above = float(f())
        x[index] = saved - h
        below = float(f())
        x[index] = saved
        grad[index] = (above - below) / (2 * h)
    return grad


def describe_mismatch(got, want, batch_size=None):
    """Name the pattern relating a wrong gradient `got` to the right one `want`, or return ''.

    The patterns are the common slips in a backward pass: a constant factor, the
    sign, a transpose, and a batch axis summed too little or too much.
    """
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    if got.shape == want.shape[::-1] and got.shape != want.shape and np.allclose(got.T, want):
        return ("it is the transpose of the right answer: check the order of the operands in the "
                "matrix product (the input's transpose stands on the left) or a stray .T.")
    if (batch_size and got.ndim == want.ndim == 2 and want.shape[0] == 1
            and got.shape == (batch_size, want.shape[1])):
        if np.allclose(got.sum(axis=0, keepdims=True), want):
            return ("it has one row per observation: the bias gradient must be summed over the "
                    "batch axis (axis=0, keepdims=True), because the same bias was added to every "
                    "row.")
    if got.shape != want.shape:
        return ""
    if want.size > 1 and np.allclose(got, want.sum()) and not np.allclose(got, want):
        return ("every entry equals the sum of all the right entries: sum over the batch axis only "
                "(axis=0, keepdims=True), so each unit keeps its own bias gradient.")
    ratios = {
        -1.0: ("it has the wrong sign: the derivative of (y - P)**2 with respect to P is "
               "-2 (y - P)."),
        2.0: "it is twice the right answer: look for an extra factor of 2.",
        0.5: "it is half the right answer: look for a missing factor of 2 from the square.",
    }
    if batch_size and batch_size > 2:
        ratios[1.0 / batch_size] = ("it is the right answer divided by the batch size: the "
                                    "gradient in this course is of the sum over the batch, so sum, "
                                    "don't average.")
        ratios[float(batch_size)] = ("it is the batch size times the right answer: sum over the "
                                     "batch once, not twice.")
    for ratio, message in ratios.items():
        if np.allclose(got, ratio * want) and not np.allclose(got, want):
            return message
    return ""


def check_gradient(analytic, numeric, name, batch_size=None, tolerance=TOLERANCE):
    """An analytic gradient must match its numerical estimate; a mismatch is explained if it can."""
    check_array(analytic, name)
    why = describe_mismatch(analytic, numeric, batch_size)
    if analytic.shape != numeric.shape:
        message = (f"{name} has shape {analytic.shape}, expected {numeric.shape}: a gradient has "
                   "the shape of the array it is taken with respect to.")
        raise AssertionError(_message(message, why))
    error = relative_error(analytic, numeric)
    if error > tolerance:
        why = why or "no common slip explains it; recheck each chain-rule factor."
        raise AssertionError(_message(f"{name} disagrees with the numerical gradient "
                                      f"(relative error {error:.2e} > {tolerance:.0e}):", why))
    return error
