"""Chapter 3's kit: the framework's given half (coursekit/framework.py), its visible-test helpers
(framework_checks.py) and its drawing helpers (framework_plots.py).

The probes and the hand-worked cases are checked against float64 centred differences and against
arithmetic written out here, independently of the reference classes; the trainer's two early-stopping
rules against what each promises to keep.
"""
import ast
import io
from contextlib import redirect_stdout
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch  # noqa: E402

from autograder.assignments.ch03_deep_learning_from_scratch.reference import classes as ref  # noqa: E402
from autograder.coursekit import framework, framework_checks, framework_plots  # noqa: E402
from autograder.coursekit.checks import numerical_gradient, relative_error  # noqa: E402
from autograder.specs import CHECKS  # noqa: E402

KIT = Path(framework.__file__).parent
MODULES = ("framework.py", "framework_checks.py", "framework_plots.py")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("module", MODULES)
def test_the_kit_stays_standalone_and_binds_no_graded_name(module):
    tree = ast.parse((KIT / module).read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names} | {node.module.split(".")[0] for node in ast.walk(tree)
                                            if isinstance(node, ast.ImportFrom) and node.module and not node.level}
    assert imported <= {"numpy", "matplotlib", "textwrap", "copy", "inspect"}, imported
    defined = {node.name for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    defined |= {target.id for node in ast.walk(tree) if isinstance(node, ast.Assign)
                for target in node.targets if isinstance(target, ast.Name)}
    assert not defined & {check.function for check in CHECKS.values()}


# ---------------------------------------------------------------- shape checks

@pytest.mark.parametrize("expected, got, phrase", [
    ((3, 5), (5, 3), "It is transposed"),
    ((1, 4), (6, 4), "one row per observation"),
    ((1, 4), (4,), "lost its axis"),
    ((1, 4), (1, 1), "summed over every axis"),
    ((1, 4), (), "summed over every axis"),
    ((6, 4), (1, 4), "always has the shape"),
])
def test_shape_hints_name_the_slip_the_shapes_suggest(expected, got, phrase):
    assert phrase in framework.shape_hint(expected, got)
    with pytest.raises(AssertionError, match=phrase):
        framework.assert_same_shape(np.zeros(expected), np.zeros(got), "the gradient")


def test_assert_same_shape_names_both_shapes_and_refuses_non_arrays():
    framework.assert_same_shape(np.zeros((2, 3)), np.ones((2, 3)), "x")
    with pytest.raises(AssertionError, match=r"x has shape \(3, 2\), expected \(2, 3\)"):
        framework.assert_same_shape(np.zeros((2, 3)), np.ones((3, 2)), "x")
    with pytest.raises(AssertionError, match="should be a NumPy array, got list"):
        framework.assert_same_shape(np.zeros((1, 1)), [[0.0]], "x")


# ---------------------------------------------------------------- operations, loss, optimizer

class Double(framework.Operation):
    def _output(self):
        return 2 * self.input_

    def _input_grad(self, output_grad):
        return 2 * output_grad


def test_operation_keeps_input_and_output_and_checks_both_gradients():
    op = Double()
    x = np.arange(6.0).reshape(2, 3)
    assert op.forward(x) is op.output and op.input_ is x
    assert np.array_equal(op.backward(np.ones((2, 3))), np.full((2, 3), 2.0))
    with pytest.raises(AssertionError, match="reverse of their forward order"):
        op.backward(np.ones((3, 2)))

    class Shrinks(Double):
        def _input_grad(self, output_grad):
            return output_grad.sum(axis=0)
    shrinking = Shrinks()
    shrinking.forward(x)
    with pytest.raises(AssertionError, match="Shrinks's input gradient"):
        shrinking.backward(np.ones((2, 3)))
    with pytest.raises(NotImplementedError, match="must define _output"):
        framework.Operation().forward(x)


def test_param_operation_sets_and_checks_param_grad():
    class Transposed(framework.ParamOperation):
        def _output(self):
            return self.input_ @ self.param

        def _input_grad(self, output_grad):
            return output_grad @ self.param.T

        def _param_grad(self, output_grad):
            return output_grad.T @ self.input_
    op = Transposed(np.ones((3, 5)))
    op.forward(np.ones((4, 3)))
    with pytest.raises(AssertionError, match=r"Transposed's param_grad has shape \(5, 3\), expected \(3, 5\)"):
        op.backward(np.ones((4, 5)))


def test_loss_refuses_a_flat_target_with_chapter_2s_reason_and_checks_its_gradient():
    class Half(framework.Loss):
        def _output(self):
            return float(np.sum(self.prediction - self.target))

        def _input_grad(self):
            return np.ones(len(self.prediction))   # wrong: flat
    loss = Half()
    with pytest.raises(AssertionError, match="n x n matrix"):
        loss.forward(np.zeros((3, 1)), np.zeros(3))
    assert loss.forward(np.ones((3, 1)), np.zeros((3, 1))) == 3.0
    with pytest.raises(AssertionError, match=r"Half.backward returns .* has shape \(3,\), expected \(3, 1\)"):
        loss.backward()
    with pytest.raises(NotImplementedError):
        framework.Optimizer(0.1).step()


# ---------------------------------------------------------------- probes, against centred differences

def numeric_input_grad(op, X, G):
    X = X.copy()
    return numerical_gradient(lambda: float(np.sum(G * op.forward(X))), X)


def test_probe_operations_agree_with_centred_differences():
    rng = np.random.default_rng(0)
    X, G = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    scale = framework.ProbeScale(np.array([[1.7]]))
    scale.forward(X)
    grad = scale.backward(G)
    assert relative_error(grad, numeric_input_grad(framework.ProbeScale(np.array([[1.7]])), X, G)) < 1e-8
    probe = framework.ProbeScale(np.array([[1.7]]))
    numeric = numerical_gradient(lambda: float(np.sum(G * probe.forward(X))), probe.param)
    assert scale.param_grad.shape == (1, 1) and relative_error(scale.param_grad, numeric) < 1e-8
    square = framework.ProbeSquare()
    square.forward(X)
    assert relative_error(square.backward(G), numeric_input_grad(framework.ProbeSquare(), X, G)) < 1e-8


def test_probe_layer_loss_and_network_record_what_they_were_given():
    rng = np.random.default_rng(1)
    X, G = rng.standard_normal((5, 2)), rng.standard_normal((5, 2))
    layer = framework.ProbeLayer(np.array([[0.6]]))
    out = layer.forward(X)
    assert np.allclose(out, 0.6 * X + X ** 2 / 2)
    grad = layer.backward(G)
    probe = framework.ProbeLayer(np.array([[0.6]]))
    assert relative_error(grad, numeric_input_grad(probe, X, G)) < 1e-8
    numeric = numerical_gradient(lambda: float(np.sum(G * probe.forward(X))), probe.scale)
    assert relative_error(layer.param_grads[0], numeric) < 1e-8
    inputs, grads = layer.report()
    assert len(inputs) == len(grads) == 1 and np.array_equal(inputs[0], X) and np.array_equal(grads[0], G)
    with pytest.raises(AssertionError, match="ProbeLayer.backward"):
        layer.backward(np.ones((2, 5)))

    w = rng.standard_normal((5, 2))
    loss = framework.ProbeLoss(w)
    P, y = rng.standard_normal((5, 2)), rng.standard_normal((5, 2))
    assert np.isclose(loss.forward(P, y), np.sum(w * (P - y))) and np.array_equal(loss.backward(), w)
    assert np.array_equal(loss.report()[0][0], P)

    params, grads = [np.ones((2, 3)), np.zeros((1, 3))], [np.full((2, 3), 2.0), np.ones((1, 3))]
    net = framework.ProbeNetwork(params, grads)
    for param, grad in zip(net.params(), net.param_grads()):
        param -= 0.5 * grad
    assert np.array_equal(params[0], np.ones((2, 3))), "the probe network holds copies of the case's arrays"
    report = net.report()
    assert np.array_equal(report[0], np.zeros((2, 3))) and np.array_equal(report[1], np.full((1, 3), -0.5))
    report[0][...] = 7.0
    assert not np.any(net.report()[0] == 7.0), "a report is a copy"


def test_probe_setup_installs_the_operations_and_counts_set_ups():
    layer = type("L", (framework.ProbeSetup, ref.Layer), {})(2)
    layer.probe_operations = [framework.ProbeSquare()]
    layer.forward(np.ones((2, 2)))
    layer.forward(np.ones((3, 2)))
    assert layer.probe_setups == 1.0 and isinstance(layer.probe_setups, float)


# ---------------------------------------------------------------- the trainer

def small_problem():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((40, 3))
    y = X @ np.array([[1.0], [-2.0], [0.5]]) + 0.1 * rng.standard_normal((40, 1))
    return X, y


def small_net():
    return ref.NeuralNetwork([ref.Dense(4, ref.Sigmoid()), ref.Dense(1, ref.Linear())], ref.MeanSquaredError(), seed=7)


def test_batches_and_permutation():
    X, y = np.arange(10.0).reshape(5, 2), np.arange(5.0).reshape(5, 1)
    sizes = [len(b) for b, _ in framework.batches(X, y, 2)]
    assert sizes == [2, 2, 1]
    with pytest.raises(ValueError, match="rows"):
        list(framework.batches(X, y[:4], 2))
    np.random.seed(0)
    Xp, yp = framework.permute_data(X, y)
    assert np.array_equal(Xp[:, 0] / 2, yp[:, 0]), "one shared order for X and y"


def fit(net, stopping, epochs=400, lr=0.2):
    X, y = small_problem()
    trainer = framework.Trainer(net, ref.SGD(lr))
    out = io.StringIO()
    with redirect_stdout(out):
        trainer.fit(X[:30], y[:30], X[30:], y[30:], epochs=epochs, eval_every=5, batch_size=8, seed=3, stopping=stopping)
    return trainer, out.getvalue(), (X[30:], y[30:])


def loss_of(net, X, y):
    return float(net.loss.forward(net.forward(X), y))


def test_the_books_stopping_keeps_an_unevaluated_copy_and_leaves_the_callers_network():
    net = small_net()
    trainer, printed, (X_val, y_val) = fit(net, "book")
    assert trainer.stopped_at is not None and trainer.stopped_at % 5 == 0, "the small problem must overfit"
    assert trainer.net is not net and trainer.optim.net is trainer.net
    assert "never evaluated" in printed and f"after {trainer.stopped_at - 1} epochs" in trainer.restored
    # The caller's network is as trained after the failed evaluation: its loss is the failed one.
    assert np.isclose(loss_of(net, X_val, y_val), trainer.history[-1][1])
    # The copy is the network one epoch earlier: train a twin for stopped_at - 1 epochs, without stopping.
    twin = small_net()
    twin_trainer, _, _ = fit(twin, "off", epochs=trainer.stopped_at - 1)
    assert np.isclose(loss_of(trainer.net, X_val, y_val), loss_of(twin, X_val, y_val))
    assert not np.isclose(loss_of(trainer.net, X_val, y_val), trainer.best_loss)


def test_the_corrected_stopping_restores_the_best_evaluation_into_the_callers_arrays():
    net = small_net()
    trainer, printed, (X_val, y_val) = fit(net, "best")
    assert trainer.stopped_at is not None and trainer.net is net
    assert np.isclose(loss_of(net, X_val, y_val), trainer.best_loss)
    assert all(op.param is param for layer in net.layers for op, param in
               zip([o for o in layer.operations if isinstance(o, framework.ParamOperation)], layer.params))
    assert f"after {trainer.best_epoch} epochs" in printed


def test_no_stopping_records_every_evaluation_and_bad_options_are_refused():
    trainer, _, _ = fit(small_net(), "off", epochs=60)
    assert [epoch for epoch, _ in trainer.history] == list(range(5, 61, 5)) and trainer.stopped_at is None
    with pytest.raises(ValueError, match="stopping must be one of"):
        framework.Trainer(small_net(), ref.SGD()).fit(*small_problem(), *small_problem(), stopping="early")


# ---------------------------------------------------------------- hand-worked cases and numerical checks

def test_hand_worked_cases_are_right():
    W, X, G, e = framework_checks.weight_multiply_case()
    assert np.array_equal(e["output"], X @ W) and np.array_equal(e["input_grad"], G @ W.T)
    assert np.array_equal(e["param_grad"], X.T @ G)
    B, X, G, e = framework_checks.bias_add_case()
    assert np.array_equal(e["output"], X + B) and np.array_equal(e["param_grad"], G.sum(axis=0, keepdims=True))
    X, G, e = framework_checks.sigmoid_case()
    s = 1 / (1 + np.exp(-X))
    assert np.allclose(e["output"], s) and np.allclose(e["input_grad"], s * (1 - s) * G)
    P, y, e = framework_checks.mse_case()
    assert np.isclose(e["loss"], np.mean((P - y) ** 2)) and np.allclose(e["input_grad"], 2 * (P - y) / 3)
    operations, X, G, e = framework_checks.layer_case()
    assert np.allclose(e["output"], 12 * X ** 2) and np.allclose(e["input_grad"], 24 * X * G)
    assert np.isclose(e["param_grads"][1][0, 0], np.sum(G * 4 * X ** 2))          # d/dc2 of c2 (c1 x)^2
    assert np.isclose(e["param_grads"][0][0, 0], np.sum(G * 3 * 2 * 2 * X ** 2))  # d/dc1 of c2 c1^2 x^2 at c1 = 2
    layers, loss, X, y, e = framework_checks.network_case()
    h = X + X ** 2 / 2
    P = -h + h ** 2 / 2
    assert np.allclose(e["hidden"], h) and np.allclose(e["prediction"], P)
    assert np.isclose(e["loss"], np.sum(loss.weights * (P - y)))
    assert np.allclose(e["grad_to_layer_1"], loss.weights * (-1 + h))
    net, lr, want = framework_checks.sgd_case()
    assert all(np.allclose(p - lr * g, w) for p, g, w in zip(net.params(), net.param_grads(), want))


def test_numerical_checks_pass_the_reference_and_name_simple_slips():
    rng = np.random.default_rng(3)
    X, G = rng.standard_normal((5, 4)), rng.standard_normal((5, 3))
    W = rng.standard_normal((4, 3))
    assert framework_checks.check_operation_numerically(lambda: ref.WeightMultiply(W.copy()), X, G, "W") < 1e-7

    class Flipped(ref.WeightMultiply):
        def _param_grad(self, output_grad):
            return -super()._param_grad(output_grad)
    with pytest.raises(AssertionError, match="wrong sign"):
        framework_checks.check_operation_numerically(lambda: Flipped(W.copy()), X, G, "Flipped")

    class NotDivided(ref.MeanSquaredError):
        def _input_grad(self):
            return 2.0 * (self.prediction - self.target)
    P, y = rng.standard_normal((6, 1)), rng.standard_normal((6, 1))
    assert framework_checks.check_loss_numerically(ref.MeanSquaredError, P, y, "MSE") < 1e-7
    with pytest.raises(AssertionError, match="6 times the right one"):
        framework_checks.check_loss_numerically(NotDivided, P, y, "NotDivided")


def test_notebook_twos_report_of_part_one_classes_never_raises():
    out = io.StringIO()
    with redirect_stdout(out):
        assert framework_checks.report_part_one(vars(ref)) == []
    assert "ready to build and train" in out.getvalue()

    class Stub(framework.Operation):
        def _output(self):
            raise NotImplementedError("write this function, then run the next cell")

    class Wrong(ref.MeanSquaredError):
        def _output(self):
            return 0.0
    namespace = {**vars(ref), "Sigmoid": Stub, "MeanSquaredError": Wrong, "Linear": None}
    out = io.StringIO()
    with redirect_stdout(out):
        assert framework_checks.report_part_one(namespace) == ["Sigmoid", "Linear", "MeanSquaredError"]
    printed = out.getvalue()
    assert "Sigmoid: it is still the stub" in printed and "Linear: it is not defined" in printed
    assert "MeanSquaredError: it does not give notebook 1's hand-worked loss" in printed


# ---------------------------------------------------------------- drawings

def test_operation_and_layer_diagrams():
    fig, ax = framework_plots.operation_diagram()
    assert len([p for p in ax.patches if isinstance(p, Circle)]) == 2
    assert len([p for p in ax.patches if isinstance(p, FancyArrowPatch)]) == len(framework_plots.OPERATION_EDGES)
    texts = [t.get_text() for t in ax.texts]
    assert "forward pass" in texts and "backward pass" in texts
    for direction in ("forward", "backward"):
        fig, ax = framework_plots.dense_layer_diagram(direction)
        assert len([p for p in ax.patches if isinstance(p, Circle)]) == 3
        assert len([p for p in ax.patches if isinstance(p, FancyBboxPatch)]) == 6
        assert ("reverse" in ax.get_title()) == (direction == "backward")
    with pytest.raises(ValueError):
        framework_plots.dense_layer_diagram("sideways")
    fig, ax = framework_plots.network_diagram(["Dense(13, Sigmoid)", "Dense(1, Linear)"])
    assert len([p for p in ax.patches if isinstance(p, FancyBboxPatch)]) == 4
    assert len([p for p in ax.patches if isinstance(p, FancyArrowPatch)]) == 6


def test_curves_pictures_spreads_and_tables():
    fig, ax = framework_plots.validation_curves({"a": [(10, 3.0), (20, 2.0)], "b": [(10, 4.0)]},
                                                marks={"a": (20, "kept")})
    assert len(ax.lines) == 2 and any(t.get_text() == "kept" for t in ax.texts)
    fig, axes = framework_plots.weight_pictures([np.eye(3), -np.eye(3)], ["I", "-I"])
    assert len(axes) == 2 and axes[0].images[0].get_clim() == (-1.0, 1.0)
    with pytest.raises(ValueError):
        framework_plots.weight_pictures([np.eye(2)], ["a", "b"])
    fig, ax = framework_plots.spread_plot({"x": [1.0, 2.0, 3.0], "y": [2.0]}, marks={"x": (2.0, "book")})
    assert [t.get_text() for t in ax.get_yticklabels()] == ["x", "y"]
    fig, ax = framework_plots.function_and_slope(np.arange(3.0), np.ones(3), np.zeros(3), "f")
    assert len(ax.lines) == 3
    with pytest.raises(ValueError):
        framework_plots.function_and_slope(np.arange(3.0), np.ones(2), np.zeros(3), "f")
    table = framework_plots.text_table(["model", "RMSE"], [["linear", 5.00871], ["deep", None]], decimals=2)
    assert table.splitlines() == ["model   RMSE", "------  ----", "linear  5.01", "deep"]
    with pytest.raises(ValueError):
        framework_plots.text_table(["a", "b"], [[1.0]])
