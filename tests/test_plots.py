"""The drawing helpers of coursekit/plots.py: what each draws, the shared conventions, and the tables."""
import ast

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch  # noqa: E402

from autograder.coursekit import plots  # noqa: E402
from autograder.specs import CHECKS  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def patches(ax, kind):
    return [patch for patch in ax.patches if isinstance(patch, kind)]


def texts(ax):
    return [text.get_text() for text in ax.texts]


def test_the_kit_stays_standalone_and_defines_no_graded_function():
    source = plots.__file__
    tree = ast.parse(open(source).read())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                for alias in node.names} | {node.module.split(".")[0] for node in ast.walk(tree)
                                            if isinstance(node, ast.ImportFrom) and node.module}
    assert "autograder" not in imported
    defined = {node.name for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    assert not defined & {check.function for check in CHECKS.values()}


@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_linear_regression_graph(direction):
    fig, ax = plots.linear_regression_graph(direction)
    nodes = plots.LINEAR_NODES if direction == "forward" else \
        {k: v for k, v in plots.LINEAR_NODES.items() if k != "MSE"}
    assert len(patches(ax, Circle)) == sum(node.kind == "op" for node in nodes.values())
    assert len(patches(ax, FancyBboxPatch)) == sum(node.kind == "data" for node in nodes.values())
    labels = texts(ax)
    if direction == "forward":
        # The loss L is the sum; the MSE hangs off it, divided by n.
        assert r"$\sum_i (y_i-P_i)^2$" in labels and "MSE" in labels and r"$\div\, n$" in labels
        assert len(patches(ax, FancyArrowPatch)) == 10
    else:
        assert any("-2(y-P)" in label for label in labels) and any("X^{\\top}" in label for label in labels)
        assert "MSE" not in labels


def test_network_backward_graph_reverses_the_forward_one():
    forward = set(plots.NETWORK_FORWARD)
    backward = [(a, b) for a, b, _ in plots.NETWORK_BACKWARD]
    assert all((b, a) in forward for a, b in backward)
    # Every weight array receives a gradient, and the derivative labels sit where the table puts them.
    labels = {(a, b): label for a, b, label in plots.NETWORK_BACKWARD}
    assert {b for _, b in backward} >= {"W1", "B1", "W2", "B2"}
    assert "X^{\\top}" in labels["mul1", "W1"] and "W_2^{\\top}" in labels["mul2", "O1"]
    assert "O_1^{\\top}" in labels["mul2", "W2"] and "sigma'(N_1)" in labels["sig", "N1"]
    fig, ax = plots.network_graph("backward")
    assert len(patches(ax, FancyArrowPatch)) == len(plots.NETWORK_BACKWARD) + 2   # + the dashed X and y
    fig, ax = plots.network_graph("forward")
    assert len(patches(ax, FancyArrowPatch)) == len(plots.NETWORK_FORWARD)
    assert "n×h" in texts(ax) and "k×h" in texts(ax)   # shapes use n, the batch size
    with pytest.raises(ValueError):
        plots.network_graph("sideways")


def test_draw_network_one_circle_per_unit_one_line_per_weight():
    fig, ax = plots.draw_network([4, 3, 1], ["in", "hidden", "out"])
    assert len(patches(ax, Circle)) == 8
    assert len(ax.lines) == 4 * 3 + 3 * 1


def test_predicted_vs_actual_puts_predictions_across():
    preds = np.array([[1.0], [2.0], [3.0]])
    actuals = np.array([[10.0], [20.0], [30.0]])
    fig, axes = plots.predicted_vs_actual({"a": preds, "b": preds * 2}, actuals)
    assert len(axes) == 2
    offsets = axes[0].collections[0].get_offsets()
    assert np.allclose(offsets[:, 0], [1, 2, 3]) and np.allclose(offsets[:, 1], [10, 20, 30])
    assert axes[0].get_xlabel().startswith("predicted") and axes[0].get_ylabel().startswith("actual")
    assert axes[1].get_xlim() == axes[0].get_xlim()
    with pytest.raises(ValueError, match="2 predictions for 3 targets"):
        plots.predicted_vs_actual({"short": preds[:2]}, actuals)


def test_running_mean_and_loss_curve():
    assert np.allclose(plots.running_mean([1, 2, 3, 4], 2), [1.5, 2.5, 3.5])
    with pytest.raises(ValueError):
        plots.running_mean([1, 2], 3)
    fig, ax = plots.loss_curve(np.linspace(100, 1, 50), window=10)
    assert len(ax.lines) == 2 and ax.get_yscale() == "log"
    assert len(ax.lines[1].get_xdata()) == 41


def test_feature_sweep_with_and_without_curves():
    fig, ax = plots.feature_sweep([0, 1, 2], [5, 4, 3], [0, 2], {"m": [5, 3], "n": [4, 4]}, "F")
    assert len(ax.lines) == 2 and "others at their mean" in ax.get_xlabel()
    fig, ax = plots.feature_sweep([0, 1, 2], [5, 4, 3], None, {}, "F", points_label="training tracts")
    assert len(ax.lines) == 0 and ax.get_xlabel() == "F (standardised)"


def test_binned_residuals_by_hand():
    feature = np.array([5.0, 1.0, 4.0, 2.0, 3.0, 6.0])
    residuals = {"m": np.array([50.0, 10.0, 40.0, 20.0, 30.0, 60.0]), "flat": np.zeros(6)}
    rows = plots.binned_residuals(feature, residuals, bins=3)
    assert [(row.low, row.high, row.count) for row in rows] == [(1, 2, 2), (3, 4, 2), (5, 6, 2)]
    assert [row.means["m"] for row in rows] == [15.0, 35.0, 55.0]
    # standard error: sample standard deviation (ddof 1) over sqrt(count): 7.0711 / 1.4142 = 5.
    assert np.allclose([row.errors["m"] for row in rows], 5.0)
    assert all(row.means["flat"] == 0 == row.errors["flat"] for row in rows)
    with pytest.raises(ValueError, match="5 residuals for 6"):
        plots.binned_residuals(feature, {"short": np.zeros(5)})
    with pytest.raises(ValueError):
        plots.binned_residuals(feature, residuals, bins=4)


def test_residual_table_prints_mean_and_standard_error():
    table = plots.residual_table(np.arange(6.0), {"ours": np.arange(6.0)}, "LSTAT", bins=2).splitlines()
    assert len(table) == 4 and "LSTAT from" in table[0] and "ours" in table[0]
    assert table[2].split()[:3] == ["0.00", "2.00", "3"] and "+1.00 ± 0.58" in table[2]


def test_sigmoid_and_slope():
    fig, ax = plots.sigmoid_and_slope()
    sigma, slope = (line.get_ydata() for line in ax.lines[:2])
    assert np.isclose(sigma.max(), 1 / (1 + np.exp(-6))) and np.isclose(slope.max(), 0.25)


def test_hidden_unit_recipes_one_bar_per_input():
    W1, W2 = np.arange(12.0).reshape(4, 3) - 5, np.array([[1.0], [-2.0], [3.0]])
    fig, axes = plots.hidden_unit_recipes(W1, W2, ["a", "b", "c", "d"], [2, 0])
    assert len(axes) == 2 and all(len(ax.patches) == 4 for ax in axes)
    assert [bar.get_width() for bar in axes[0].patches] == list(W1[:, 2])
    assert "+3.00" in axes[0].get_title()


def test_target_histogram():
    fig, ax = plots.target_histogram(np.array([[1.0], [2.0], [3.0]]), bins=3)
    assert len(ax.patches) == 3 and ax.lines[0].get_xdata()[0] == 2.0
