"""Say which common mistake explains a wrong gradient."""
import numpy as np

from .coursekit.checks import describe_mismatch


def _same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and np.allclose(a, b, rtol=1e-6, atol=1e-9)


def explain_gradients(got, want, mistakes, batch_size):
    """Return (name, message) for the first wrong key of `got`, or None if all agree.

    `mistakes` is a catalogue from reference/mistakes.py: the wrong gradients each
    slip produces for the same inputs. A key matched by a catalogue entry is named;
    otherwise the generic pattern (factor, sign, transpose, batch axis) is tried.
    """
    for key in want:
        if _same(got[key], want[key]):
            continue
        for name, message, wrong in mistakes:
            if _same(got[key], wrong[key]):
                return name, f"gradient '{key}': {message}"
        pattern = describe_mismatch(got[key], want[key], batch_size)
        return "unrecognised", (f"gradient '{key}' is wrong: {pattern}" if pattern else
                                f"gradient '{key}' is wrong, and no common slip explains it: "
                                f"recheck each chain-rule factor against the table in the notebook.")
    return None
