"""Say which common mistake explains a wrong gradient, for every key that is wrong."""
import numpy as np

from ...coursekit.checks import describe_mismatch
from .mistakes import B1_COLLAPSED


def _same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and np.allclose(a, b, rtol=1e-6, atol=1e-9)


def explain_gradients(got, want, mistakes, batch_size):
    """Return (names, message) naming the slip behind every wrong key of `got`, or None if all agree.

    `mistakes` is a catalogue from mistakes.py: the wrong gradients each slip
    produces for the same inputs. Keys wrong by the same slip are named together; each
    part of the message ends with its slip's name in brackets.
    """
    found = {}   # slip name -> (keys, message)
    for key in want:
        if not _same(got[key], want[key]):
            name, message = explain_key(key, got[key], want[key], mistakes, batch_size)
            found.setdefault(name, ([], message))[0].append(key)
    if not found:
        return None
    parts = [f"gradient{'s' * (len(keys) > 1)} {', '.join(repr(k) for k in keys)}: {message} [{name}]"
             for name, (keys, message) in found.items()]
    return ", ".join(found), " ".join(parts)


def explain_key(key, got, want, mistakes, batch_size):
    """(slip name, what to tell the student) for one wrong gradient."""
    try:
        got = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        return "unrecognised", "is not an array of numbers."
    if want.size > 1 and got.size in (1, want.size) and np.allclose(got, want.sum()) and not _same(got, want):
        return B1_COLLAPSED[0], B1_COLLAPSED[1]          # in any form: a scalar, (1,), or (1, h) all equal
    for name, message, wrong in mistakes:
        if _same(got, wrong[key]):
            return name, message
    if got.size == want.size and got.shape != want.shape and np.allclose(got.reshape(want.shape), want):
        return "shape", (f"the values are right but the shape is {got.shape}, expected {want.shape}: "
                         "keep the summed axis (keepdims=True) so that a gradient has its weight's shape.")
    pattern = describe_mismatch(got, want, batch_size)
    return "unrecognised", (f"is wrong: {pattern}" if pattern else
                            "is wrong, and no common slip explains it: recheck each chain-rule factor "
                            "against the table in the notebook.")
