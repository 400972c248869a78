"""Chapter 1's kit, coursekit/foundations.py: the elementary functions, their exact derivatives, the
visible tests' value checks and the figures."""
import ast
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle  # noqa: E402

from autograder import _sandbox_child as wire  # noqa: E402
from autograder.check import Fn  # noqa: E402
from autograder.coursekit import foundations as fd  # noqa: E402
from autograder.coursekit.checks import WIDTH  # noqa: E402
from autograder.assignments.ch01_foundations.reference.derivatives import SLOPES  # noqa: E402
from autograder.specs import CHECKS  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def centred(function, x, h=1e-6):
    """An oracle of our own for a derivative: float64 centred differences with a small step."""
    return (function(x + h) - function(x - h)) / (2 * h)


X = np.linspace(-2.9, 2.9, 59) + 0.013     # never within 1e-6 of a kink at 0


# ---------------------------------------------------------------- the kit stays a kit

def test_the_module_imports_nothing_of_the_grader_and_defines_no_graded_name():
    tree = ast.parse(open(fd.__file__).read())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names} | {node.module.split(".")[0] for node in ast.walk(tree)
                                            if isinstance(node, ast.ImportFrom) and node.module}
    assert "autograder" not in imported
    defined = {node.name for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    defined |= {target.id for node in ast.walk(tree) if isinstance(node, ast.Assign)
                for target in node.targets if isinstance(target, ast.Name)}
    graded = {check.function for check in CHECKS.values()}
    assert not defined & graded, defined & graded
    assert "sigmoid" in graded and "logistic" in defined      # the sigmoid goes by another name here


# ---------------------------------------------------------------- the elementary functions

@pytest.mark.parametrize("name, kit", [("identity", fd.identity), ("square", fd.square), ("cube", fd.cube),
                                       ("relu", fd.relu), ("leaky_relu", fd.leaky_relu), ("sigmoid", fd.logistic)])
def test_the_kits_functions_give_the_graders_numbers(name, kit):
    x = np.random.default_rng(0).uniform(-30, 30, size=(4, 5))
    assert np.array_equal(kit(x), Fn(name)(x))   # bit for bit: a student's visible run and the grader agree


def test_the_book_functions():
    x = np.array([-2.0, -0.5, 0.0, 3.0])
    assert fd.leaky_relu(x).tolist() == [-0.4, -0.1, 0.0, 3.0]      # slope 0.2 below zero (Weidman 2019, ch. 1)
    assert fd.square(x).tolist() == [4.0, 0.25, 0.0, 9.0]
    assert fd.cube(x).tolist() == [-8.0, -0.125, 0.0, 27.0]
    assert np.allclose(fd.logistic(x), 1 / (1 + np.exp(-x)), rtol=1e-15)


def test_logistic_is_quiet_at_any_magnitude():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = fd.logistic(np.array([-1000.0, -40.0, 0.0, 40.0, 1000.0]))
        slope = fd.derivative_of(fd.logistic)(np.array([-1000.0, 1000.0]))
    assert out[0] == 0.0 and out[2] == 0.5 and out[-1] == 1.0 and np.all(slope == 0.0)


def test_compose_applies_the_first_link_first():
    chain = fd.compose([fd.leaky_relu, fd.square, np.exp])
    x = np.array([-1.0, 2.0])
    assert np.allclose(chain(x), np.exp(fd.leaky_relu(x) ** 2))
    assert chain.__name__ == "leaky_relu then square then exp"
    with pytest.raises(ValueError):
        fd.compose([])


# ---------------------------------------------------------------- derivative_of

@pytest.mark.parametrize("name", sorted(wire.ELEMENTARY))
def test_derivative_of_every_named_function_the_grader_passes(name):
    slope = fd.derivative_of(Fn(name))
    assert np.allclose(slope(X), centred(Fn(name), X), rtol=1e-7, atol=1e-8), name
    assert np.allclose(slope(X), SLOPES[name](X), rtol=1e-13, atol=1e-15), name   # the reference's own table
    assert slope(X).dtype == np.float64 and slope(X).shape == X.shape


@pytest.mark.parametrize("function", [fd.identity, fd.square, fd.cube, fd.relu, fd.leaky_relu, fd.logistic,
                                      np.square, np.sin, np.cos, np.tanh, np.exp, np.positive])
def test_derivative_of_the_kits_and_numpys_functions(function):
    assert np.allclose(fd.derivative_of(function)(X), centred(function, X), rtol=1e-7, atol=1e-8)


def test_derivative_of_takes_the_left_value_at_a_kink_and_refuses_the_unknown():
    at_zero = np.array([0.0])
    assert fd.derivative_of(fd.leaky_relu)(at_zero).tolist() == [0.2]
    assert fd.derivative_of(fd.relu)(at_zero).tolist() == [0.0]
    with pytest.raises(ValueError, match="estimate its derivative with your deriv"):
        fd.derivative_of(lambda x: x ** 4)
    with pytest.raises(ValueError, match="'log'"):
        fd.derivative_of(np.log)


def test_the_formula_table_covers_the_kits_functions():
    assert set(fd.FORMULAS) == set(fd.DERIVATIVES) - {"positive", "sigmoid"}


# ---------------------------------------------------------------- the visible tests' checks

def message_of(call):
    with pytest.raises(AssertionError) as caught:
        call()
    text = str(caught.value)
    assert all(len(line) <= WIDTH for line in text.splitlines()), text
    return text


def test_check_values_passes_within_the_hidden_tests_tolerance():
    fd.check_values(np.array([1.0, 2.0 + 1e-7]), [1.0, 2.0], "x")
    assert "expected [1., 2.]" in message_of(lambda: fd.check_values(np.array([1.0, 2.0 + 1e-5]), [1.0, 2.0], "x"))


def test_check_values_names_type_shape_transpose_and_dtype():
    assert "should be a NumPy array, got list" in message_of(lambda: fd.check_values([1.0], [1.0], "x"))
    assert "shape (3,), expected (2,)" in message_of(lambda: fd.check_values(np.zeros(3), [1.0, 2.0], "x"))
    transposed = message_of(lambda: fd.check_values(np.zeros((3, 2)), np.zeros((2, 3)), "g"))
    assert "transpose of the right shape" in transposed
    assert "dtype float32" in message_of(lambda: fd.check_values(np.zeros(2, np.float32), [0.0, 0.0], "x"))


def test_check_values_names_the_slip_whose_numbers_it_got_and_a_near_miss():
    slips = {"it is twice the answer.": [2.0, 4.0], "it has the wrong sign.": [-1.0, -2.0]}
    text = message_of(lambda: fd.check_values(np.array([-1.0, -2.0]), [1.0, 2.0], "d", slips=slips, hint="Look."))
    assert "it has the wrong sign." in text and text.endswith("Look.")
    near = message_of(lambda: fd.check_values(np.array([1.0, 2.00001]), [1.0, 2.0], "d", slips=slips,
                                              near="close, not exact."))
    assert "off by up to 1.0e-05: close, not exact." in near
    far = message_of(lambda: fd.check_values(np.array([1.0, 2.1]), [1.0, 2.0], "d", near="close, not exact."))
    assert "close, not exact" not in far and "expected" in far


def test_check_pair_and_check_raises(capsys):
    fd.check_pair((np.ones(2), np.ones(2)), "f")
    assert "got a list of 2" in message_of(lambda: fd.check_pair([np.ones(2), np.ones(2)], "f"))
    assert "got a ndarray" in message_of(lambda: fd.check_pair(np.ones(2), "f"))

    def refuses(x, y):
        if x.shape != y.shape:
            raise ValueError(f"shapes {x.shape} and {y.shape}")

    fd.check_raises(refuses, (np.zeros(3), np.zeros((3, 1))), "f", must_name=["(3,)", "(3, 1)"])
    assert "did not raise a ValueError" in message_of(
        lambda: fd.check_raises(lambda x, y: x + y, (np.zeros(3), np.zeros((3, 1))), "f"))
    # the hidden test asks for the exception, not its words: a message without the shape passes, with a tip
    fd.check_raises(refuses, (np.zeros(3), np.zeros((3, 1))), "f", must_name=["(4,)"])

    def asserts(x, y):   # a student's own assert (raised by hand: pytest rewrites assert statements here)
        if x.shape != y.shape:
            raise AssertionError("shapes differ")

    assert "raised AssertionError (shapes differ), expected a ValueError" in message_of(
        lambda: fd.check_raises(asserts, (np.zeros(3), np.zeros((3, 1))), "f"))
    assert "Tip: a message that says (4,) tells the caller" in " ".join(capsys.readouterr().out.split())


# ---------------------------------------------------------------- the figures

def patches(ax, kind):
    return [patch for patch in ax.patches if isinstance(patch, kind)]


def texts(ax):
    return [text.get_text() for text in ax.texts]


def test_axis_sums_picture_writes_every_entry_and_both_sums():
    a = np.array([[1.0, 2.0, 3.0], [4.0, 0.0, -1.0]])
    fig, ax = fd.axis_sums_picture(a)
    shown = texts(ax)
    assert len(patches(ax, Rectangle)) == a.size + sum(a.shape)
    for value in [*a.ravel(), *a.sum(axis=0), *a.sum(axis=1)]:
        assert f"{value:g}" in shown
    with pytest.raises(ValueError):
        fd.axis_sums_picture(np.ones(3))


def test_function_panels_label_input_and_output():
    fig, axes = fd.function_panels(np.arange(-2, 2, 0.01), [fd.square, fd.leaky_relu], ["square", "leaky"])
    assert [ax.get_title() for ax in axes] == ["square", "leaky"]
    assert all(ax.get_xlabel() == "input" and ax.get_ylabel() == "output" for ax in axes)
    assert np.allclose(axes[1].lines[0].get_ydata(), fd.leaky_relu(np.arange(-2, 2, 0.01)))


@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_chain_graph(direction):
    fig, ax = fd.chain_graph(["leaky_relu", "square", "logistic"], direction)
    assert len(patches(ax, Circle)) == 3 and len(patches(ax, FancyBboxPatch)) == 4
    assert len(patches(ax, FancyArrowPatch)) == 6
    labels = texts(ax)
    if direction == "backward":
        assert "$f_3'(u_2)$" in labels and "$f_1'(x)$" in labels     # each link's derivative at its own input
    with pytest.raises(ValueError):
        fd.chain_graph(["square"], "sideways")


def test_secant_picture_draws_one_line_per_step_and_the_tangent():
    fig, ax = fd.secant_picture(np.sin, 1.0, [1.0, 0.5, 0.2], slope=np.cos(1.0))
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert sum("through the points" in label for label in legend) == 3
    assert any("tangent, slope 0.5403" in label for label in legend)


def test_step_error_plot_draws_zero_errors_at_the_bottom():
    steps = np.array([0.1, 0.01, 0.001])
    fig, ax = fd.step_error_plot(steps, {"exact": [0.0, 0.0, 0.0], "one-sided": [1e-2, 1e-3, 1e-4]})
    assert len(ax.lines) == 2 and ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert np.all(ax.lines[0].get_ydata() > 0)


def test_function_and_derivative_draws_curves_and_check_dots():
    x = np.arange(-3, 3, 0.01)
    fig, axes = fd.function_and_derivative([("a", x, x ** 2, 2 * x, 2 * x), ("b", x, x, np.ones_like(x))])
    assert len(axes[0].lines) == 4 and len(axes[1].lines) == 3     # f, df/dx, (dots), the zero line
    assert len(axes[0].lines[2].get_xdata()) == len(x[::20])


@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_two_input_graph(direction):
    fig, ax = fd.two_input_graph(direction)
    assert len(patches(ax, Circle)) == 2 and len(patches(ax, FancyBboxPatch)) == 4
    if direction == "backward":
        assert r"$\sigma'(a)$" in texts(ax)


@pytest.mark.parametrize("with_sum", [False, True])
def test_matrix_graph(with_sum):
    fig, ax = fd.matrix_graph("backward", with_sum=with_sum, shapes=("m×n", "n×p"))
    labels = texts(ax)
    assert r"$\cdot\,W^{\top}$" in labels and "m×p" in labels
    assert ("$L$" in labels) == with_sum
    with pytest.raises(ValueError):
        fd.matrix_graph("up")


def test_nudge_plot_draws_the_tangent_through_the_point():
    x11s = np.arange(-1.0, 1.0, 0.01)
    fig, ax = fd.nudge_plot(x11s, x11s ** 2, 0.5, 0.25, 1.0)
    tangent = ax.lines[1]
    assert np.allclose(tangent.get_ydata(), 0.25 + (tangent.get_xdata() - 0.5))
