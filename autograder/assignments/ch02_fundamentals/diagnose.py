"""Say which common mistake explains a wrong gradient, for every key that is wrong.

A backward pass is judged by two checks (checks.py): its values, whatever shape they come
in (explain_values), and each gradient's shape and dtype (explain_shapes). Both name every
wrong key, each part of the message in the form `gradient 'K': what is wrong [slip name]`
(keys wrong by the same slip named together), so the class report can count the slips.
"""
import numpy as np

from ...coursekit.checks import describe_mismatch, shape_problem
from .mistakes import B1_COLLAPSED, BIAS_NOT_SUMMED, KEEPDIMS_MISSING, NOT_FLOAT64, TRANSPOSED

UNRECOGNISED = "unrecognised"
RTOL, ATOL = 1e-6, 1e-9


def _numbers(value):
    """`value` as a float array, or None if it is not numbers."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (np.ndarray, np.generic, float, int)):
        return None
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return None


def _same(a, b):
    """Same shape and the same numbers."""
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and np.allclose(a, b, rtol=RTOL, atol=ATOL)


def _same_values(a, b):
    """The same numbers in the same order, whatever the shapes."""
    a, b = np.ravel(a), np.ravel(b)
    return a.size == b.size and np.allclose(a, b, rtol=RTOL, atol=ATOL)


def _join(found):
    """found: {slip name: (keys, message)} -> the message naming every part, or None."""
    if not found:
        return None
    parts = [f"gradient{'s' * (len(keys) > 1)} {', '.join(repr(k) for k in keys)}: {message} [{name}]"
             for name, (keys, message) in found.items()]
    return ", ".join(found), " ".join(parts)


def explain_values(got, want, mistakes, batch_size):
    """(names, message) naming the slip behind every key of `got` whose numbers are wrong, whatever their
    shape (right numbers in the wrong shape are the shapes check's business), or None if all agree.

    `mistakes` is a catalogue from mistakes.py: the wrong gradients each slip produces for the same
    inputs. A key may be named twice, e.g. the book's B1 gradient: collapsed over the hidden units, and
    half the right size, like its other gradients.
    """
    found = {}   # slip name -> (keys, message)
    for key in want:
        numbers = _numbers(got[key])
        if numbers is not None and _same_values(numbers, want[key]):
            if np.asarray(got[key]).dtype == np.float64:
                continue
            named = [NOT_FLOAT64]
        else:
            named = explain_key(key, got[key], want[key], mistakes, batch_size)
        for name, message in named:
            found.setdefault(name, ([], message))[0].append(key)
    return _join(found)


def explain_key(key, got, want, mistakes, batch_size):
    """[(slip name, what to tell the student)] for one gradient whose numbers are wrong."""
    numbers = _numbers(got)
    if numbers is None:
        return [(UNRECOGNISED, "is not an array of numbers.")]
    if key.startswith("B") and want.size > 1 and numbers.size in (1, want.size) and np.allclose(numbers, numbers.flat[0]):
        # A bias gradient collapsed over the units, in any form: a scalar, (1,), or (1, h) all equal; and
        # perhaps with another slip's factor as well (the book's: half the sum).
        if np.allclose(numbers.flat[0], want.sum(), rtol=RTOL, atol=ATOL):
            return [B1_COLLAPSED]
        for name, message, wrong in mistakes:
            if name != B1_COLLAPSED[0] and np.allclose(numbers.flat[0], np.sum(wrong[key]), rtol=RTOL, atol=ATOL):
                return [B1_COLLAPSED, (name, message)]
    for name, message, wrong in mistakes:
        if _same(numbers, wrong[key]):
            return [(name, message)]
    for name, message, wrong in mistakes:     # the same numbers as a slip's, in another shape
        if _same_values(numbers, wrong[key]):
            return [(name, message)]
    pattern = describe_mismatch(numbers, want, batch_size)
    if not pattern and numbers.size == want.size:
        pattern = describe_mismatch(numbers.reshape(want.shape), want, batch_size)
    return [(UNRECOGNISED, f"is wrong: {pattern}" if pattern else
             "is wrong, and no common slip explains it: recheck each chain-rule factor "
             "against the table in the notebook.")]


SHAPE_SLIPS = {"transposed": TRANSPOSED[0], "per row": BIAS_NOT_SUMMED[0], "keepdims": KEEPDIMS_MISSING[0],
               "dtype": NOT_FLOAT64[0]}


def explain_shapes(got, want, batch_size):
    """(names, message) naming, for every key of `got` that is not a float64 array of its weight's shape,
    what its shape suggests, or None if all have the right shape and dtype. One part per key: each
    says its own shapes."""
    found = {}
    for key in want:
        problem = shape_problem(got[key], want[key], batch_size)
        if problem is None:
            continue
        kind, sentence = problem
        name = SHAPE_SLIPS.get(kind, UNRECOGNISED)
        if kind == "collapsed":
            name = B1_COLLAPSED[0] if key.startswith("B") else UNRECOGNISED
        found[f"{name}\0{key}"] = ([key], sentence)
    if not found:
        return None
    parts = [f"gradient {keys[0]!r}: {sentence} [{slot.split(chr(0))[0]}]" for slot, (keys, sentence) in found.items()]
    names = ", ".join(dict.fromkeys(slot.split("\0")[0] for slot in found))
    return names, " ".join(parts)
