"""Chapter 1: each common slip, written as a student would write it, gets its message, from the hidden
test (the slip's name in brackets, as the class report counts it) and from the visible test (the
sentence of the notebook's test cell).

The slips are written here independently of mistakes.py, so a catalogue entry that drifts from the slip
it describes fails these tests. The visible tests run as in the notebook: every code cell before the
test cell (the reference's solution cells included), then the slip in place of the reference, then the
test cell's visible part.
"""
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import autograder.coursekit as kit  # noqa: E402
from autograder.coursekit import checks as kit_checks, foundations, plots  # noqa: E402
from autograder.coursekit.foundations import derivative_of  # noqa: E402
from autograder.hidden import run_hidden_test  # noqa: E402
from autograder.release import COURSE_ROOT  # noqa: E402
from autograder.specs import CHECKS  # noqa: E402

SOURCE = COURSE_ROOT / "source" / "ch01_foundations"


def d(f):
    return derivative_of(f)


# ---------------------------------------------------------------- the slips, as students write them

def deriv_one_sided(func, input_, delta=0.001):
    return (func(input_ + delta) - func(input_)) / delta


def deriv_one_sided_back(func, input_, delta=0.001):
    return (func(input_) - func(input_ - delta)) / delta


def deriv_not_doubled(func, input_, delta=0.001):
    return (func(input_ + delta) - func(input_ - delta)) / delta


def deriv_reversed(func, input_, delta=0.001):
    return (func(input_ - delta) - func(input_ + delta)) / (2 * delta)


def deriv_precedence(func, input_, delta=0.001):
    return (func(input_ + delta) - func(input_ - delta)) / 2 * delta


def deriv_fixed_step(func, input_, delta=0.001):
    step = 0.001
    return (func(input_ + step) - func(input_ - step)) / (2 * step)


def chain2_outer_at_x(chain, input_range):
    f1, f2 = chain
    return d(f2)(input_range) * d(f1)(input_range)


def chain2_reversed(chain, input_range):
    f1, f2 = chain
    return d(f1)(f2(input_range)) * d(f2)(input_range)


def chain2_inner_missing(chain, input_range):
    f1, f2 = chain
    return d(f2)(f1(input_range))


def chain2_sum(chain, input_range):
    f1, f2 = chain
    return d(f2)(f1(input_range)) + d(f1)(input_range)


def chain2_with_a_one_sided_deriv(chain, input_range):
    f1, f2 = chain
    return deriv_one_sided(f2, f1(input_range)) * deriv_one_sided(f1, input_range)


def chain3_all_at_x(chain, input_range):
    f1, f2, f3 = chain
    return d(f3)(input_range) * d(f2)(input_range) * d(f1)(input_range)


def chain3_outer_at_u1(chain, input_range):
    f1, f2, f3 = chain
    u1 = f1(input_range)
    return d(f3)(u1) * d(f2)(u1) * d(f1)(input_range)


def chain3_reversed(chain, input_range):
    f3, f2, f1 = chain            # read the list backwards
    u1 = f1(input_range)
    return d(f3)(f2(u1)) * d(f2)(u1) * d(f1)(input_range)


def chain3_first_missing(chain, input_range):
    f1, f2, f3 = chain
    u1 = f1(input_range)
    return d(f3)(f2(u1)) * d(f2)(u1)


def chain3_sum(chain, input_range):
    f1, f2, f3 = chain
    u1 = f1(input_range)
    return d(f3)(f2(u1)) + d(f2)(u1) + d(f1)(input_range)


def add_unchecked(x, y, sigma):
    return sigma(x + y)


def add_no_sigma(x, y, sigma):
    if x.shape != y.shape:
        raise ValueError(f"{x.shape} vs {y.shape}")
    return x + y


def add_sigma_each(x, y, sigma):
    if x.shape != y.shape:
        raise ValueError(f"{x.shape} vs {y.shape}")
    return sigma(x) + sigma(y)


def add_backward_sigma(x, y, sigma):
    return sigma(x + y), sigma(x + y)


def add_backward_ones(x, y, sigma):
    return np.ones_like(x), np.ones_like(y)


def add_backward_at_inputs(x, y, sigma):
    return d(sigma)(x), d(sigma)(y)


def add_backward_at_output(x, y, sigma):
    s = sigma(x + y)
    return d(sigma)(s), d(sigma)(s)


def add_backward_sigmoid_formula(x, y, sigma):
    s = sigma(x + y)
    return s * (1 - s), s * (1 - s)


def sigma_xw_sigmoid_formula(X, W, sigma):
    s = sigma(X @ W)
    return (s * (1 - s)) @ W.T


def sum_sigmoid_formula(X, W, sigma):
    s = sigma(X @ W)
    return (s * (1 - s)) @ W.T


def matmul_backward_no_transpose(X, W, dL_dN):
    return dL_dN @ W


def matmul_backward_like_w(X, W, dL_dN):
    return X.T @ dL_dN


def matmul_backward_book(X, W, dL_dN):
    return np.transpose(W, (1, 0))


def sigma_xw_no_derivative(X, W, sigma):
    return W.T


def sigma_xw_sigma(X, W, sigma):
    return sigma(X @ W) * W.T


def sigma_xw_at_output(X, W, sigma):
    return d(sigma)(sigma(X @ W)) * W.T


def sigma_xw_with_x(X, W, sigma):
    return d(sigma)(X @ W) * X


def sigma_xw_column(X, W, sigma):
    return W * d(sigma)(X @ W)


def sum_no_transpose(X, W, sigma):
    return d(sigma)(X @ W) @ W


def sum_no_derivative(X, W, sigma):
    return np.ones((X.shape[0], W.shape[1])) @ W.T


def sum_sigma(X, W, sigma):
    return sigma(X @ W) @ W.T


def sum_at_output(X, W, sigma):
    return d(sigma)(sigma(X @ W)) @ W.T


def sum_over_rows(X, W, sigma):
    return np.sum(d(sigma)(X @ W) @ W.T, axis=0, keepdims=True)


def sum_like_w(X, W, sigma):
    return X.T @ d(sigma)(X @ W)


def sum_estimated(X, W, sigma):
    N = X @ W
    return ((sigma(N + 0.001) - sigma(N - 0.001)) / 0.002) @ W.T


# grade_id -> [(the slip, its name in the hidden test's message, a phrase of the visible test's message)]
SLIPS = {
    "deriv": [(deriv_one_sided, "one-sided difference", "one way only"),
              (deriv_one_sided_back, "one-sided difference", "one way only (backwards)"),
              (deriv_not_doubled, "step not doubled", "twice the right answer"),
              (deriv_reversed, "difference reversed", "wrong sign"),
              (deriv_precedence, "divided by 2, times delta", "brackets around the denominator"),
              (deriv_fixed_step, "delta ignored", "ignores the delta")],
    "chain2": [(chain2_outer_at_x, "derivative at the wrong input", "derivative was taken at x"),
               (chain2_reversed, "links in reverse order", "reverse order"),
               (chain2_inner_missing, "a link's derivative missing", "inner function's derivative is missing"),
               (chain2_sum, "sum, not product", "were added"),
               (chain2_with_a_one_sided_deriv, "link derivatives from a wrong deriv", "expected [0.25")],
    "chain3": [(chain3_all_at_x, "derivative at the wrong input", "every link's derivative was taken at x"),
               (chain3_outer_at_u1, "derivative at the wrong input", "outer derivative was taken at u1"),
               (chain3_reversed, "links in reverse order", "reverse order"),
               (chain3_first_missing, "a link's derivative missing", "first link's derivative is missing"),
               (chain3_sum, "sum, not product", "were added")],
    "add_forward": [(add_unchecked, "shapes not checked", "did not raise a ValueError"),
                    (add_no_sigma, "sigma not applied", "sigma is not applied"),
                    (add_sigma_each, "sigma of each input", "applies sigma to each input")],
    "add_backward": [(add_backward_sigma, "sigma, not its derivative", "not sigma'(a)"),
                     (add_backward_ones, "sigma' missing", "sigma' is missing"),
                     (add_backward_at_inputs, "derivative at the wrong input", "evaluated at x"),
                     (add_backward_at_output, "derivative at the output", "at sigma's output"),
                     (add_backward_sigmoid_formula, "sigmoid's derivative for any sigma", "sigmoid's derivative only")],
    "matmul_backward_x": [(matmul_backward_no_transpose, "W not transposed", "untransposed"),
                          (matmul_backward_like_w, "gradient for W", "gradient with respect to W"),
                          (matmul_backward_book, "W transposed alone", "dL_dN is ignored")],
    "sigma_xw_backward": [(sigma_xw_no_derivative, "sigma' missing", "sigma' is missing"),
                          (sigma_xw_sigma, "sigma, not its derivative", "not sigma'(N)"),
                          (sigma_xw_at_output, "derivative at the output", "at sigma's output"),
                          (sigma_xw_with_x, "gradient for W", "made with X"),
                          (sigma_xw_column, "transposed", "transpose of the right shape"),
                          (sigma_xw_sigmoid_formula, "sigmoid's derivative for any sigma", "sigmoid's derivative only")],
    "sum_backward": [(sum_no_transpose, "W not transposed", "untransposed"),
                     (sum_no_derivative, "sigma' missing", "sigma' is missing"),
                     (sum_sigma, "sigma, not its derivative", "not sigma'(N)"),
                     (sum_at_output, "derivative at the output", "at sigma's output"),
                     (sum_over_rows, "summed over rows", "has shape (1, 2), expected (2, 2)"),
                     (sum_like_w, "gradient for W", "gradient with respect to W"),
                     (sum_sigmoid_formula, "sigmoid's derivative for any sigma", "sigmoid's derivative only"),
                     (sum_estimated, "estimated derivative", "close but not exact")],
}
CASES = [(grade_id, slip, name, phrase) for grade_id, slips in SLIPS.items() for slip, name, phrase in slips]
IDS = [f"{grade_id}-{slip.__name__}" for grade_id, slip, _, _ in CASES]


@pytest.mark.parametrize("grade_id, slip, name, phrase", CASES, ids=IDS)
def test_the_hidden_test_names_the_slip(grade_id, slip, name, phrase):
    with pytest.raises(AssertionError, match=f"\\[{name}\\]"):
        run_hidden_test(grade_id, slip)


def test_every_catalogued_slip_is_written_here():
    from autograder.assignments.ch01_foundations import mistakes
    named = {value[0] for value in vars(mistakes).values()
             if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, str) for v in value)}
    assert named <= {name for _, _, name, _ in CASES}, named - {name for _, _, name, _ in CASES}


# ---------------------------------------------------------------- the visible tests

def visible_part(source):
    return source.split("### BEGIN HIDDEN TESTS")[0]


@pytest.fixture(scope="module")
def notebooks():
    """{grade_id: (namespace after every code cell before its test cell, the test cell's visible code)}."""
    saved = {name: sys.modules.get(name) for name in ("coursekit", "coursekit.foundations", "coursekit.checks",
                                                      "coursekit.plots")}
    sys.modules.update({"coursekit": kit, "coursekit.foundations": foundations, "coursekit.checks": kit_checks,
                        "coursekit.plots": plots})
    show, plt.show = plt.show, lambda *args, **kwargs: None
    found = {}
    try:
        for path in sorted(SOURCE.glob("*.ipynb")):
            namespace = {"__name__": "__main__"}
            for cell in nbformat.read(path, as_version=4).cells:
                if cell.cell_type != "code":
                    continue
                meta = cell.metadata.get("nbgrader", {})
                if meta.get("grade"):
                    found[meta["grade_id"]] = (dict(namespace), visible_part(cell.source))
                    continue
                exec(compile(cell.source, f"{path.name} cell", "exec"), namespace)
                plt.close("all")
    finally:
        plt.show = show
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
    return found


def run_visible(notebooks, grade_id, function):
    namespace, source = notebooks[grade_id]
    namespace = dict(namespace)
    namespace[CHECKS[grade_id].function] = function
    exec(compile(source, f"visible test {grade_id}", "exec"), namespace)


@pytest.mark.parametrize("grade_id", [grade_id for grade_id in CHECKS if CHECKS[grade_id].assignment == "ch01_foundations"])
def test_the_visible_tests_pass_with_the_reference(notebooks, grade_id, capsys):
    namespace, _ = notebooks[grade_id]
    run_visible(notebooks, grade_id, namespace[CHECKS[grade_id].function])
    assert "All visible tests passed." in capsys.readouterr().out


@pytest.mark.parametrize("grade_id, slip, name, phrase", CASES, ids=IDS)
def test_the_visible_test_explains_the_slip(notebooks, grade_id, slip, name, phrase):
    with pytest.raises(AssertionError) as caught:
        run_visible(notebooks, grade_id, slip)
    assert phrase in " ".join(str(caught.value).split()), str(caught.value)
