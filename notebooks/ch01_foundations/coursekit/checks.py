"""Checks behind the visible tests: shapes, values, warnings and numerical gradients.

Each check raises AssertionError with a message that says what is wrong and
where to look, in lines of at most WIDTH characters (nbgrader's Validate dialog
does not wrap them), the hint on a line of its own. Gradient checks follow
CS231n's recipe: float64 centred differences and a relative error with a floor.

A backward pass is judged twice, as the hidden tests judge it: its numbers, whatever
shape they come in (check_gradient_values), and, in a cell of its own, each gradient's
shape and dtype (check_gradient_shapes); each check names every wrong gradient at once.
"""
import textwrap
import warnings

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


def check_number(value, name, hint=""):
    """`value` must be one number: a float (a NumPy float too) or a float array holding a single number, as
    the hidden tests accept. Returns it as a Python float."""
    if isinstance(value, np.ndarray) and value.size == 1 and np.issubdtype(value.dtype, np.floating):
        return float(value.reshape(-1)[0])
    if isinstance(value, (float, np.floating)):
        return float(value)
    shape = f" of shape {value.shape}" if isinstance(value, np.ndarray) else ""
    raise AssertionError(_message(f"{name} should be a single number (a float), got {type(value).__name__}{shape}.",
                                  hint))


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


def _ratios(batch_size=None):
    """{factor: (what the factor is, where to look)}: the constant factors of the common slips."""
    ratios = {
        -1.0: ("it has the wrong sign", "the derivative of (y - P)**2 with respect to P is -2 (y - P)."),
        2.0: ("it is twice the right answer", "look for an extra factor of 2."),
        0.5: ("it is half the right answer", "look for a missing factor of 2 from the square."),
    }
    if batch_size and batch_size > 2:
        ratios[1.0 / batch_size] = ("it is the right answer divided by the batch size",
                                    "the gradient in this course is of the sum over the batch, so sum, don't average.")
        ratios[float(batch_size)] = ("it is the batch size times the right answer", "sum over the batch once, not twice.")
    return ratios


def _factor(got, want, batch_size=None):
    """(what, where to look) for the common factor relating `got` to `want` (same shape), or None."""
    for ratio, words in _ratios(batch_size).items():
        if np.allclose(got, ratio * want) and not np.allclose(got, want):
            return words
    return None


def _collapsed(got, want, batch_size=None):
    """The sentence for a bias gradient collapsed into one number (the sum over every unit, or a common
    factor of that sum), as a scalar, a (1,) array or equal entries; '' if `got` is not that."""
    if want.size < 2 or got.size not in (1, want.size) or not np.allclose(got, got.flat[0]):
        return ""
    collapse = ("every unit got the same bias gradient, the sum over all the units: sum over the batch axis "
                "only (axis=0, keepdims=True), so that each unit keeps its own.")
    total = np.asarray(want.sum())
    if np.allclose(got.flat[0], total):
        return collapse
    factor = _factor(np.asarray(got.flat[0]), total, batch_size)
    if factor is None:
        return ""
    return f"{collapse} Besides, compared with that sum {factor[0]}: {factor[1]}"


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
    collapsed = _collapsed(got, want, batch_size) if got.size == 1 or got.shape == want.shape else ""
    if collapsed:
        return collapsed
    if got.shape != want.shape:
        return ""
    factor = _factor(got, want, batch_size)
    return f"{factor[0]}: {factor[1]}" if factor else ""


# ---------------------------------------------------------------- a backward pass: values, then shapes

def _is_numbers(value):
    return isinstance(value, (np.ndarray, np.generic, float)) and not isinstance(value, (bool, np.bool_))


def shape_problem(got, want, batch_size=None):
    """(kind, sentence) saying how a gradient `got` differs in type, shape or dtype from what its weight
    needs (`want`, a float64 array of the weight's shape), or None if it does not. kind is one of
    'not an array', 'collapsed', 'keepdims', 'transposed', 'per row', 'reshaped', 'shape', 'dtype'."""
    want = np.asarray(want)
    if not isinstance(got, np.ndarray):
        if not _is_numbers(got):
            return "not an array", f"should be a NumPy array, got {type(got).__name__}."
        if want.size > 1:
            return "collapsed", (f"is a single number ({type(got).__name__}), expected an array of shape {want.shape}, "
                                 "one entry per unit: sum over the batch axis only (axis=0, keepdims=True).")
        return "keepdims", (f"is a single number ({type(got).__name__}), expected an array of shape {want.shape}: "
                            "keep the summed axis (axis=0, keepdims=True) so that it has its weight's shape.")
    dtype = "" if got.dtype == np.float64 else (f" It also has dtype {got.dtype}, expected float64."
                                                 if got.shape != want.shape else "")
    if got.shape == want.shape:
        if got.dtype == np.float64:
            return None
        return "dtype", (f"has dtype {got.dtype}, expected float64: keep every step in float64 "
                         "(no float32 arrays, no astype).")
    if got.shape == want.shape[::-1]:
        return "transposed", (f"has shape {got.shape}, the transpose of its weight's {want.shape}: check which "
                              "operand of the matrix product is transposed, and on which side it stands." + dtype)
    if batch_size and want.ndim == 2 and want.shape[0] == 1 and got.shape == (batch_size, *want.shape[1:]):
        return "per row", (f"has shape {got.shape}, one row per observation, expected {want.shape}: the bias was "
                           "added to every row, so its gradient is summed over the batch axis (axis=0, "
                           "keepdims=True)." + dtype)
    if got.size == 1 and want.size > 1:
        return "collapsed", (f"has shape {got.shape}, a single number, expected {want.shape}, one entry per "
                             "unit: sum over the batch axis only (axis=0, keepdims=True)." + dtype)
    if got.size == want.size and got.ndim < want.ndim:
        return "keepdims", (f"has shape {got.shape}, expected {want.shape}: the sum dropped the summed axis; "
                            "keep it (keepdims=True) so that the gradient has its weight's shape." + dtype)
    if got.size == want.size:
        return "reshaped", (f"has shape {got.shape}, expected {want.shape}: the right number of entries in "
                            "another shape; look for a stray reshape, ravel or transpose." + dtype)
    return "shape", (f"has shape {got.shape}, expected {want.shape}: a gradient has the shape of the array "
                     "it is taken with respect to." + dtype)


def check_gradient_shapes(grads, weights, name="grads", batch_size=None):
    """Every gradient must be a float64 array of its weight's shape. One AssertionError names every
    gradient that is not, each with what its shape suggests (a transpose, a dropped axis, ...)."""
    check_keys(grads, list(weights), name)
    problems = []
    for key in weights:
        problem = shape_problem(grads[key], np.zeros_like(weights[key], dtype=np.float64), batch_size)
        if problem:
            problems.append(f"{name}['{key}'] {problem[1]}")
    if problems:
        lead = "A gradient has the shape of its weight and dtype float64; these do not:"
        raise AssertionError(_message("\n".join([lead, *problems])))


def value_problem(got, want, batch_size=None, rtol=1e-6, atol=1e-9, slips=()):
    """A sentence saying how the numbers of a gradient `got` differ from `want`'s, whatever shape `got` has
    (right numbers in another shape are not a problem here), or None if they agree. slips: [(what, where to
    look, the wrong gradient)] of known slips that no pattern of describe_mismatch names."""
    want = np.asarray(want, dtype=np.float64)
    if not _is_numbers(got):
        return f"should be a NumPy array of numbers, got {type(got).__name__}."
    flat = np.ravel(got)
    if flat.dtype != np.float64:
        return f"has dtype {flat.dtype}, expected float64: keep every step in float64 (no float32 arrays, no astype)."
    if flat.size == want.size and np.allclose(flat, want.ravel(), rtol=rtol, atol=atol):
        return None
    shown = lambda a: np.array2string(np.asarray(a), precision=6)
    if flat.size != want.size:
        why = describe_mismatch(got, want, batch_size) or (
            f"it holds {flat.size} numbers where {want.size} are expected." if flat.size != 1 else "")
        return f"is {shown(got)}, expected {shown(want)}: {why or 'recheck that step of the chain rule.'}"
    why = describe_mismatch(got, want, batch_size) or describe_mismatch(flat.reshape(want.shape), want, batch_size)
    for what, advice, wrong in slips:
        if not why and np.allclose(flat, np.ravel(wrong), rtol=rtol, atol=atol):
            why = f"{what}: {advice}"
    return f"is {shown(got)}, expected {shown(want)}: {why or 'no common slip explains it; recheck that step.'}"


def check_gradient_values(grads, expected, name="grads", batch_size=None, hint="", slips=()):
    """The numbers of every gradient must be the expected ones, whatever shape they come in (a shape slip
    is another check's business); dtype float64. One AssertionError names every gradient that is wrong,
    each with the common slip its numbers fit, if one does. slips: [(what, where to look, {key: wrong
    gradient})] of slips particular to the case (e.g. handcases.network_gradient_slips())."""
    check_keys(grads, list(expected), name)
    problems = [f"{name}['{key}'] {problem}" for key in expected
                if (problem := value_problem(grads[key], expected[key], batch_size,
                                             slips=[(what, advice, wrong[key]) for what, advice, wrong in slips
                                                    if key in wrong]))]
    if problems:
        lead = f"{len(problems)} of the {len(expected)} gradients {'is' if len(problems) == 1 else 'are'} wrong:"
        raise AssertionError(_message("\n".join([lead, *problems]), hint))


def check_refuses(function, cases, name):
    """Every case must make `function` raise a ValueError, as the hidden test asks; a message that
    does not name the shape it was given passes too, with a printed tip (the hidden test does not
    read messages, so neither may this).

    cases: [(what the input is, in words; its arguments; the shape as its message should print it)].
    One AssertionError names every case that was accepted, or refused otherwise.
    """
    problems, tips = [], []
    for what, args, shape in cases:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                function(*args)
        except NotImplementedError:
            raise
        except ValueError as error:
            if shape not in str(error):
                tips.append(f"{what}: refused, good. Tip: a message that names the shape it got, {shape}, "
                            f"tells the caller what went wrong; yours says: {error}")
            continue
        except Exception as error:   # any other error is reported, not raised: the cell names every case
            problems.append(f"{what}: {name} raised {type(error).__name__} ({error}); raise a ValueError instead.")
            continue
        problems.append(f"{what}: {name} accepted it without an error; raise a ValueError that names its shape.")
    if problems:
        raise AssertionError(_message("\n".join(["Input that NumPy would broadcast without a word must be refused:",
                                                 *problems])))
    for tip in tips:
        print(_message(tip))


def call_quietly(function, *args, name="the call", hint=""):
    """function(*args), or an AssertionError if it warns (an overflow, an invalid value, ...): the
    warning becomes the message instead of text on stderr, which nbgrader scores as a failure."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = function(*args)
    if caught:
        first = caught[0]
        raise AssertionError(_message(f"{name} gave a warning, {first.category.__name__}: {first.message}.", hint))
    return result


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
