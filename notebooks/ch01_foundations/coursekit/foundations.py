"""Chapter 1 ("Foundations"): the elementary functions, their exact derivatives, chains of them,
the visible tests' value checks, and the chapter's figures.

    from coursekit import foundations as fd
    fd.square(np.array([1.0, -2.0]))                  # array([1., 4.])
    fd.derivative_of(fd.logistic)(np.array([0.0]))    # array([0.25]): exact, not estimated
    fd.compose([fd.leaky_relu, fd.square])(x)         # square(leaky_relu(x))
    fd.function_and_derivative([("f", x, values, slopes)]); plt.show()

The elementary functions are the ones the course's hidden tests pass as arguments (the grader's
`Fn("sigmoid")` and friends, which carry their name): `derivative_of` finds a function's exact
derivative by that name, so it works on these functions, on the grader's named functions and on
NumPy's own ufuncs (`np.sin`, `np.exp`, ...) alike. The sigmoid is called `logistic` here: the
name `sigmoid` belongs to the function you write in Chapter 2.

Nothing here is a graded answer: no finite-difference derivative (that is your `deriv`), no chain
rule, no backward pass. The drawing helpers take the numbers the notebook computed with your
functions; each draws one figure, returns (fig, ax) or (fig, axes), and never calls plt.show().
The check helpers raise AssertionError with a message in lines of at most checks.WIDTH characters.
"""
import textwrap

import numpy as np
import matplotlib.pyplot as plt

from .checks import WIDTH
from .plots import BACKWARD, DATA_ONLY, FORWARD, Edge, Node, draw_graph

LEAKY_SLOPE = 0.2     # the book's slope of the leaky ReLU below zero (Weidman 2019, ch. 1)
CHECK_RTOL, CHECK_ATOL = 1e-6, 1e-9   # the hidden tests' tolerance (autograder/compare.py), used here too
NEAR_RTOL, NEAR_ATOL = 1e-4, 1e-6     # "close, but not within the tolerance": check_values' near message
CURVE, SLOPE, ESTIMATE = FORWARD, BACKWARD, "#3a923a"


# ---------------------------------------------------------------- the elementary functions

def identity(x):
    """x itself, as a new float array."""
    return np.positive(x)


def square(x):
    """x squared, entry by entry."""
    return np.square(x)


def cube(x):
    """x cubed, entry by entry."""
    return np.power(x, 3)


def relu(x):
    """max(x, 0), entry by entry."""
    return np.maximum(x, 0.0)


def leaky_relu(x):
    """x where x > 0, 0.2 x elsewhere (the book's slope), entry by entry."""
    return np.maximum(LEAKY_SLOPE * x, x)


def logistic(x):
    """The sigmoid 1 / (1 + e^-x), entry by entry, written so that it never overflows:
    e^-log(1 + e^-x), with log(1 + e^-x) from np.logaddexp. The same numbers as the grader's
    Fn("sigmoid")."""
    return np.exp(-np.logaddexp(0.0, -x))


def _ones(x):
    return np.ones_like(np.asarray(x, dtype=np.float64))


def _tanh_slope(x):
    t = np.tanh(x)
    return 1.0 - t * t


def _logistic_slope(x):
    return logistic(x) * logistic(-x)    # sigma(x) (1 - sigma(x)), without 1 - sigma(x) losing digits


# Exact derivatives, by the function's name. At a kink (0 for relu and leaky_relu) the value from
# the left is used: the derivative is not defined there, and no test evaluates it there.
DERIVATIVES = {
    "identity": _ones,
    "positive": _ones,                 # np.positive, the grader's identity
    "square": lambda x: 2.0 * x,
    "cube": lambda x: 3.0 * np.square(x),
    "relu": lambda x: np.where(x > 0, 1.0, 0.0),
    "leaky_relu": lambda x: np.where(x > 0, 1.0, LEAKY_SLOPE),
    "logistic": _logistic_slope,
    "sigmoid": _logistic_slope,        # the grader's Fn("sigmoid"), or a sigmoid of your own
    "sin": np.cos,
    "cos": lambda x: -np.sin(x),
    "tanh": _tanh_slope,
    "exp": np.exp,
}

FORMULAS = {   # for the table in the notebook
    "identity": "1", "square": "2x", "cube": "3x²", "relu": "1 if x > 0, else 0",
    "leaky_relu": "1 if x > 0, else 0.2", "logistic": "σ(x) (1 − σ(x))", "sin": "cos x", "cos": "−sin x",
    "tanh": "1 − tanh² x", "exp": "eˣ",
}


def name_of(function):
    """The name a function goes by: its __name__ (the grader's named functions have one too)."""
    return getattr(function, "__name__", None) or type(function).__name__


def derivative_of(function):
    """The exact derivative of one of the elementary functions, as a function of an array.

    Works for the functions of this module, for NumPy's np.square, np.sin, np.cos, np.tanh and
    np.exp, and for the named functions the hidden tests pass (they carry the same names). Raises
    ValueError for any other function: for those, estimate the derivative with your own deriv.
    """
    name = name_of(function)
    if name not in DERIVATIVES:
        known = ", ".join(sorted(set(DERIVATIVES) - {"positive"}))
        raise ValueError(f"derivative_of knows the exact derivatives of {known}; "
                         f"{name!r} is none of them: estimate its derivative with your deriv instead")
    return DERIVATIVES[name]


def compose(chain):
    """The function x -> f_k(...f_2(f_1(x))...) for chain = [f_1, f_2, ..., f_k]: the first link is
    applied first (the book's order)."""
    links = list(chain)
    if not links:
        raise ValueError("a chain needs at least one function")

    def chained(x):
        for link in links:
            x = link(x)
        return x
    chained.__name__ = " then ".join(name_of(link) for link in links)
    return chained


# ---------------------------------------------------------------- checks for the visible tests

def _message(text, hint=""):
    """text, then the hint on a line of its own, every line longer than WIDTH wrapped at words."""
    text = f"{text}\n{hint.strip()}" if hint and hint.strip() else text
    return "\n".join(textwrap.fill(line, WIDTH, break_long_words=False, break_on_hyphens=False)
                     if len(line) > WIDTH else line for line in text.split("\n"))


def _shown(value):
    return np.array2string(np.asarray(value, dtype=float), precision=6, separator=", ")


def check_values(got, want, name, slips=None, hint="", near="", rtol=CHECK_RTOL, atol=CHECK_ATOL):
    """`got` must be a float64 NumPy array of `want`'s shape, with `want`'s values to within the hidden
    tests' tolerance (rtol 1e-6, atol 1e-9).

    slips: {what the slip is, in a sentence: the wrong values that slip gives here}. When `got` has
    one slip's values, the message says that sentence instead of a bare "is wrong".
    near: a sentence for a result close to the right one (within 1e-4 relative, 1e-6 absolute) but not
    within the tolerance, such as an estimate where an exact value is wanted.
    """
    want = np.asarray(want, dtype=np.float64)
    if not isinstance(got, np.ndarray):
        raise AssertionError(_message(f"{name} should be a NumPy array, got {type(got).__name__}.", hint))
    if got.shape != want.shape:
        transposed = got.shape == want.shape[::-1] and got.ndim == 2
        why = (" (the transpose of the right shape: look at which operand is transposed, and on which side "
               "of the product it stands)") if transposed else ""
        raise AssertionError(_message(f"{name} has shape {got.shape}, expected {want.shape}{why}.", hint))
    if got.dtype != np.float64:
        raise AssertionError(_message(f"{name} has dtype {got.dtype}, expected float64.", hint))
    if np.allclose(got, want, rtol=rtol, atol=atol):
        return
    for sentence, wrong in (slips or {}).items():
        wrong = np.asarray(wrong, dtype=np.float64)
        if wrong.shape == want.shape and np.allclose(got, wrong, rtol=rtol, atol=atol):
            raise AssertionError(_message(f"{name} is {_shown(got)}, expected {_shown(want)}: {sentence}", hint))
    if near and np.allclose(got, want, rtol=NEAR_RTOL, atol=NEAR_ATOL):
        worst = float(np.max(np.abs(got - want)))
        raise AssertionError(_message(f"{name} is off by up to {worst:.1e}: {near}", hint))
    raise AssertionError(_message(f"{name} is {_shown(got)}, expected {_shown(want)}.", hint))


def check_pair(result, name):
    """`result` must be a tuple of two (the book's convention for the gradients of two inputs)."""
    if not isinstance(result, tuple) or len(result) != 2:
        what = f"a {type(result).__name__}" + (f" of {len(result)}" if isinstance(result, (tuple, list)) else "")
        raise AssertionError(_message(f"{name} should return a tuple of two arrays, one per input, got {what}."))


def check_raises(function, args, name, error=ValueError, must_name=()):
    """function(*args) must raise `error`; a message without every string in `must_name` passes too,
    with a printed tip (the hidden test asks for the exception, not its words, so neither may this).
    Any other exception (an assert of your own, say) is reported, not passed through."""
    try:
        function(*args)
    except Exception as raised:   # the function under test may raise anything: say what it was
        if not isinstance(raised, error):
            raise AssertionError(_message(f"{name} raised {type(raised).__name__} ({raised}), expected a "
                                          f"{error.__name__}.")) from None
        missing = [text for text in must_name if text not in str(raised)]
        if missing:
            print(_message(f"{name} raised {error.__name__}, good. Tip: a message that says "
                           f"{' and '.join(missing)} tells the caller what went wrong; yours says: {raised}"))
        return
    raise AssertionError(_message(f"{name} did not raise a {error.__name__}."))


# ---------------------------------------------------------------- figures: NumPy

def axis_sums_picture(a, ax=None):
    """A small 2-D array as a grid of numbers, its sums over axis 0 (a row under it) and over axis 1 (a
    column to its right). Returns (fig, ax)."""
    a = np.asarray(a)
    if a.ndim != 2:
        raise ValueError(f"axis_sums_picture needs a 2-D array, got shape {a.shape}")
    rows, cols = a.shape
    if ax is None:
        fig, ax = plt.subplots(figsize=(1.1 * cols + 3.2, 0.75 * rows + 1.9))
    else:
        fig = ax.figure

    def cell(r, c, text, face, edge="#555555", weight="normal"):
        ax.add_patch(plt.Rectangle((c, -r - 1), 1, 1, facecolor=face, edgecolor=edge))
        ax.text(c + 0.5, -r - 0.5, text, ha="center", va="center", fontsize=12, fontweight=weight)

    number = lambda v: f"{v:g}"
    for r in range(rows):
        for c in range(cols):
            cell(r, c, number(a[r, c]), "#dbe8f5")
        cell(r, cols + 0.3, number(a[r].sum()), "#fde6c4", weight="bold")
    for c in range(cols):
        cell(rows + 0.3, c, number(a[:, c].sum()), "#e3f1dd", weight="bold")
    ax.text(cols / 2, -rows - 1.75, "a.sum(axis=0): down each column", ha="center", va="top", fontsize=10,
            color="#3a923a")
    ax.text(cols + 1.45, -rows / 2, "a.sum(axis=1):\nalong each row", ha="left", va="center", fontsize=10,
            color="#b35c00")
    ax.set_xlim(-0.2, cols + 3.6)
    ax.set_ylim(-rows - 2.3, 0.2)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(f"a, shape {a.shape}", fontsize=12)
    return fig, ax


# ---------------------------------------------------------------- figures: functions

def function_panels(x, functions, titles=None, axes=None):
    """One panel per function, each drawn over the inputs x: the book's picture of square and the leaky
    ReLU, with the axes labelled input and output. functions: a list of functions. Returns (fig, axes)."""
    x = np.asarray(x, dtype=float)
    titles = titles or [name_of(f) for f in functions]
    if axes is None:
        fig, axes = plt.subplots(1, len(functions), figsize=(4.6 * len(functions), 3.8), squeeze=False)
        axes = axes[0]
    else:
        fig = axes[0].figure
    for ax, function, title in zip(axes, functions, titles):
        ax.plot(x, function(x), color=CURVE, lw=2)
        ax.axhline(0, color="grey", lw=0.5)
        ax.axvline(0, color="grey", lw=0.5)
        ax.set_title(title)
        ax.set_xlabel("input")
        ax.set_ylabel("output")
    fig.tight_layout()
    return fig, axes


def chain_graph(names, direction="forward", ax=None):
    """A chain of functions as a computational graph: x -> f1 -> u1 -> f2 -> ... -> y, the functions in
    circles, the values in boxes. "backward" reverses the arrows and labels each with the derivative
    of the function it crosses, evaluated at that function's own input. Returns (fig, ax)."""
    names = list(names)
    k = len(names)
    values = ["$x$"] + [f"$u_{i}$" for i in range(1, k)] + ["$y$"]
    nodes = {}
    for i in range(k + 1):
        nodes[f"v{i}"] = Node(3.0 * i, 0.0, "data", values[i])
    for i, name in enumerate(names):
        nodes[f"f{i}"] = Node(3.0 * i + 1.5, 0.0, "op", f"$f_{i + 1}$", name.replace("_", " "))
    edges = []
    for i in range(k):
        if direction == "forward":
            edges += [Edge(f"v{i}", f"f{i}"), Edge(f"f{i}", f"v{i + 1}")]
        elif direction == "backward":
            inner = values[i].strip("$")
            edges += [Edge(f"v{i + 1}", f"f{i}", "", BACKWARD),
                      Edge(f"f{i}", f"v{i}", f"$f_{i + 1}'({inner})$", BACKWARD, offset=(0.0, 0.45))]
        else:
            raise ValueError(f"direction must be 'forward' or 'backward', not {direction!r}")
    title = ("Forward: each function's output is the next one's input" if direction == "forward" else
             "Backward: multiply the derivatives of the links, each at its own input")
    return draw_graph(nodes, edges, title, ax=ax, size=(3.0 * k + 2.4, 2.6), fontsize=15, label_fontsize=13)


def secant_picture(function, x0, deltas, slope=None, ax=None, width=1.6):
    """The derivative as a limit: `function` near x0 and, for each step in `deltas`, the straight line
    through the two points of the curve at x0 - delta and x0 + delta; if `slope` is given, the line of
    that slope through (x0, f(x0)), the tangent. Returns (fig, ax)."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 4.5))
    else:
        fig = ax.figure
    x = np.linspace(x0 - width, x0 + width, 301)
    values = function(x)
    y0 = float(function(np.array([x0], dtype=float))[0])
    ax.plot(x, values, color=CURVE, lw=2.5, label="f(x)")
    shades = plt.cm.Greens(np.linspace(0.45, 0.95, len(deltas)))
    for delta, colour in zip(deltas, shades):
        ends = np.array([x0 - delta, x0 + delta], dtype=float)
        heights = function(ends)
        ax.axline((ends[0], heights[0]), (ends[1], heights[1]), color=colour, lw=1.3,
                  label=f"through the points at x0 ± {delta:g}")
        ax.plot(ends, heights, "o", color=colour, ms=5)
    if slope is not None:
        ax.axline((x0, y0), slope=float(slope), color=SLOPE, lw=1.5, ls="--", label=f"tangent, slope {slope:.4f}")
    ax.plot([x0], [y0], "o", color="black", ms=6)
    span = float(values.max() - values.min()) or 1.0
    ax.set_xlim(x[0], x[-1])
    ax.set_ylim(values.min() - 0.25 * span, values.max() + 0.25 * span)
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)")
    ax.set_title(f"Lines through two points on either side of x0 = {x0:g}, closing in")
    ax.legend(fontsize=9, loc="best")
    return fig, ax


def step_error_plot(deltas, errors, ax=None):
    """How far a derivative estimate is from the exact value, against the step delta, on log-log axes.

    errors: {label: the absolute errors, one per delta}. Zeros (an exact estimate) are drawn at the
    bottom of the axes. Returns (fig, ax)."""
    deltas = np.asarray(deltas, dtype=float)
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 4.3))
    else:
        fig = ax.figure
    floor = min(float(np.min(np.asarray(e, dtype=float)[np.asarray(e) > 0], initial=1.0)) for e in errors.values())
    for (label, error), colour, marker in zip(errors.items(), (SLOPE, CURVE, ESTIMATE, "#8c4fa0"), "os^D"):
        error = np.asarray(error, dtype=float)
        ax.loglog(deltas, np.where(error > 0, error, floor / 10), marker=marker, color=colour, label=label)
    ax.invert_xaxis()
    ax.set_xlabel("step delta (smaller to the right)")
    ax.set_ylabel("|estimate − exact derivative|")
    ax.set_title("The error of a derivative estimate as the step shrinks")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=9)
    return fig, ax


def function_and_derivative(panels, axes=None, share_y=True):
    """The book's figures of nested functions: one panel per function, its values and its derivative
    over the same inputs. panels: a list of (title, x, values, slopes) or (title, x, values, slopes,
    check), where check holds another estimate of the slopes (drawn as dots on every 20th input).
    Returns (fig, axes)."""
    if axes is None:
        fig, axes = plt.subplots(1, len(panels), figsize=(6.2 * len(panels), 4.4), sharey=share_y, squeeze=False)
        axes = axes[0]
    else:
        fig = axes[0].figure
    for ax, panel in zip(axes, panels):
        title, x, values, slopes = panel[:4]
        ax.plot(x, values, color=CURVE, lw=2.2, label="$f(x)$")
        ax.plot(x, slopes, color=SLOPE, lw=2.2, label=r"$\frac{df}{dx}$")
        if len(panel) > 4 and panel[4] is not None:
            ax.plot(np.asarray(x)[::20], np.asarray(panel[4])[::20], "o", color=ESTIMATE, ms=5,
                    label=r"$\frac{df}{dx}$, estimated another way")
        ax.axhline(0, color="grey", lw=0.5)
        ax.set_title(title)
        ax.set_xlabel("x")
        ax.legend(loc="best", fontsize=10)
    fig.tight_layout()
    return fig, axes


# ---------------------------------------------------------------- figures: several inputs, matrices

def two_input_graph(direction="forward", ax=None):
    """s = sigma(x + y) as a graph: x and y meet in an addition alpha, a = x + y goes through sigma.
    "backward" labels each arrow with its local derivative. Returns (fig, ax)."""
    nodes = {"x": Node(0.0, 0.9, "data", "$x$"), "y": Node(0.0, -0.9, "data", "$y$"),
             "alpha": Node(2.0, 0.0, "op", r"$\alpha$", "x + y"), "a": Node(4.0, 0.0, "data", "$a$"),
             "sigma": Node(6.0, 0.0, "op", r"$\sigma$"), "s": Node(8.0, 0.0, "data", "$s$")}
    if direction == "forward":
        edges = [Edge("x", "alpha"), Edge("y", "alpha"), Edge("alpha", "a"), Edge("a", "sigma"),
                 Edge("sigma", "s")]
        title = "Forward: two inputs meet in one function"
    elif direction == "backward":
        edges = [Edge("s", "sigma", "", BACKWARD),
                 Edge("sigma", "a", r"$\sigma'(a)$", BACKWARD, offset=(0.0, 0.42)),
                 Edge("a", "alpha", "", BACKWARD),
                 Edge("alpha", "x", r"$\frac{\partial a}{\partial x} = 1$", BACKWARD, offset=(0.55, 0.55)),
                 Edge("alpha", "y", r"$\frac{\partial a}{\partial y} = 1$", BACKWARD, offset=(0.55, -0.55))]
        title = "Backward: the same sigma'(a) reaches both inputs"
    else:
        raise ValueError(f"direction must be 'forward' or 'backward', not {direction!r}")
    return draw_graph(nodes, edges, title, ax=ax, size=(10, 3.4))


def matrix_graph(direction="forward", with_sum=True, ax=None, shapes=("m×n", "n×p")):
    """N = XW, S = sigma(N) and, with_sum, L = the sum of S's entries, as a graph with the shapes under
    the arrays. "backward" labels each arrow with what the incoming gradient is multiplied by
    (· marks where the incoming gradient stands). Returns (fig, ax)."""
    x_shape, w_shape = shapes
    out = f"{x_shape.split('×')[0]}×{w_shape.split('×')[1]}"
    nodes = {"X": Node(0.0, 0.9, "data", "$X$", x_shape), "W": Node(0.0, -0.9, "data", "$W$", w_shape),
             "nu": Node(2.0, 0.0, "op", r"$\nu$", "XW"), "N": Node(4.0, 0.0, "data", "$N$", out),
             "sigma": Node(6.0, 0.0, "op", r"$\sigma$"), "S": Node(8.0, 0.0, "data", "$S$", out)}
    if with_sum:
        nodes.update({"Lambda": Node(10.0, 0.0, "op", r"$\Lambda$", "sum"), "L": Node(12.0, 0.0, "data", "$L$", "1×1")})
    if direction == "forward":
        edges = [Edge("X", "nu"), Edge("W", "nu"), Edge("nu", "N"), Edge("N", "sigma"), Edge("sigma", "S")]
        edges += [Edge("S", "Lambda"), Edge("Lambda", "L")] if with_sum else []
        title = "Forward: a matrix product, a function, " + ("and a sum" if with_sum else "nothing more")
    elif direction == "backward":
        edges = []
        if with_sum:
            edges += [Edge("L", "Lambda", "", BACKWARD),
                      Edge("Lambda", "S", r"$\mathbf{1}$", BACKWARD, offset=(0.0, 0.42))]
        edges += [Edge("S", "sigma", "", BACKWARD),
                  Edge("sigma", "N", r"$\odot\,\sigma'(N)$", BACKWARD, offset=(0.0, 0.42)),
                  Edge("N", "nu", "", BACKWARD),
                  Edge("nu", "X", r"$\cdot\,W^{\top}$", BACKWARD, offset=(0.55, 0.6)),
                  Edge("W", "nu", "", DATA_ONLY, "--")]
        title = "Backward: to X, through sigma and then the matrix product"
    else:
        raise ValueError(f"direction must be 'forward' or 'backward', not {direction!r}")
    return draw_graph(nodes, edges, title, ax=ax, size=(14 if with_sum else 11, 3.6))


def nudge_plot(x11s, losses, x11, loss, slope, ax=None):
    """The book's plot of L as one entry x11 of X varies, the others fixed; and the line of slope
    `slope` (the gradient's entry for x11) through the current point (x11, loss). Returns (fig, ax)."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 4.3))
    else:
        fig = ax.figure
    x11s = np.asarray(x11s, dtype=float)
    ax.plot(x11s, losses, color=CURVE, lw=2.2, label="L as $x_{11}$ varies")
    near = np.abs(x11s - x11) <= 0.35
    ax.plot(x11s[near], loss + slope * (x11s[near] - x11), color=SLOPE, lw=2, ls="--",
            label=f"slope {slope:.4f} from the backward pass")
    ax.plot([x11], [loss], "o", color="black", ms=6)
    ax.set_xlabel("$x_{11}$")
    ax.set_ylabel("$L$")
    ax.set_title("L against one entry of X, every other entry held fixed")
    ax.legend()
    return fig, ax
