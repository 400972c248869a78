"""Chapter 2's visible tests judge only what they test, and say what is wrong without a word on stderr.

Each test cell of the source notebooks is run here as a student's kernel would run it (its hidden-test
part cut off), on functions written the way students write them: the reference passes every cell; a
slip upstream (in the forward pass, the loss's type, a float32 sigmoid) costs no gradient cell; a shape
slip costs only the shapes cell; the sigmoid cell turns an overflow warning or a NaN at -1000 into its
message; the input-check cells name every input that was accepted.
"""
import ast
import contextlib
import io
import warnings
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograder.assignments.ch02_fundamentals.reference import linear_regression as lin
from autograder.assignments.ch02_fundamentals.reference import neural_network as net

SOURCE = Path(__file__).resolve().parents[1] / "source" / "ch02_fundamentals"
LIN, NET = "01_linear_regression", "02_neural_network"


def _notebook(stem):
    return nbformat.read(SOURCE / f"{stem}.ipynb", as_version=4)


def visible_cells(stem):
    """{grade_id: the visible part of the test cell} for one notebook."""
    return {c.metadata["nbgrader"]["grade_id"]: c.source.split("### BEGIN HIDDEN TESTS")[0]
            for c in _notebook(stem).cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")}


def _imports(stem):
    """The notebook's own cell of kit imports, reading the kit from the package (autograder.coursekit)."""
    cell = next(c for c in _notebook(stem).cells if c.cell_type == "code" and "from coursekit.checks" in c.source)
    imports = [ast.get_source_segment(cell.source, node) for node in ast.parse(cell.source).body
               if isinstance(node, (ast.Import, ast.ImportFrom))]
    return "\n".join(imports).replace("from coursekit", "from autograder.coursekit")


def run_visible(stem, grade_id, functions):
    """Run one visible test cell with the student's `functions`: None if it passes, else its AssertionError's
    message, unwrapped. Anything else it raises propagates; a warning that escapes it (text nbgrader would find on
    stderr, and score as a failure) fails the test."""
    namespace = {}
    exec(_imports(stem), namespace)
    namespace.update(functions)
    source = visible_cells(stem)[grade_id]
    with warnings.catch_warnings(record=True) as escaped, contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()) as stderr:
        warnings.simplefilter("always")
        try:
            exec(compile(source, f"<{grade_id}>", "exec"), namespace)
            message = None
        except AssertionError as error:
            message = " ".join(str(error).split())     # lines are wrapped at 100 characters: unwrap them
    assert not escaped, f"{grade_id}: a warning reached stderr: {escaped[0].message}"
    assert stderr.getvalue() == "", f"{grade_id} wrote to stderr: {stderr.getvalue()}"
    return message


def run_notebook(stem, functions):
    """{grade_id: message or None} for every visible test cell of the notebook."""
    return {grade_id: run_visible(stem, grade_id, functions) for grade_id in visible_cells(stem)}


REFERENCE = {
    LIN: {name: getattr(lin, name) for name in ("forward_linear_regression", "loss_gradients", "update_weights",
                                                "predict", "mae", "rmse")},
    NET: {name: getattr(net, name) for name in ("sigmoid", "forward_loss", "loss_gradients", "predict")},
}


def with_(stem, **functions):
    return {**REFERENCE[stem], **functions}


# ---------------------------------------------------------------- the reference passes, the split is as documented

@pytest.mark.parametrize("stem", [LIN, NET])
def test_the_reference_passes_every_visible_cell(stem):
    assert run_notebook(stem, REFERENCE[stem]) == {grade_id: None for grade_id in visible_cells(stem)}


def test_each_forward_and_backward_pass_has_a_numerics_cell_and_a_contract_cell():
    assert set(visible_cells(LIN)) == {"lin_forward", "lin_forward_checks_input", "lin_gradients", "lin_gradients_shapes",
                                    "lin_update", "lin_predict", "lin_mae", "lin_rmse"}
    assert set(visible_cells(NET)) == {"net_sigmoid", "net_forward", "net_forward_checks_input", "net_gradients",
                                    "net_gradients_shapes", "net_predict"}


@pytest.mark.parametrize("stem, total", [(LIN, 9), (NET, 7)])
def test_points_add_up_to_the_notebooks_table(stem, total):
    notebook = _notebook(stem)
    code_points = sum(c.metadata["nbgrader"]["points"] for c in notebook.cells
                      if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade"))
    assert code_points == total
    table = notebook.cells[0].source
    assert "what its test cell checks" in table and f"**{total + (4 if stem == NET else 0)}**" in table


# ---------------------------------------------------------------- a slip upstream costs no gradient cell

def forward_loss_as_array(X_batch, y_batch, weights):
    """Right, but the MSE comes back as a shape-(1,) array (the hidden test accepts it)."""
    mse, info = lin.forward_linear_regression(X_batch, y_batch, weights)
    return np.array([mse]), info


def forward_without_bias(X_batch, y_batch, weights):
    N = X_batch @ weights["W"]
    return float(np.mean((y_batch - N) ** 2)), {"X": X_batch, "N": N, "P": N, "y": y_batch}


def sigmoid_float32(x):
    return (1 / (1 + np.exp(-x.astype(np.float32)))).astype(np.float32)


def network_gradients_with_the_students_sigmoid(sigmoid):
    def loss_gradients(forward_info, weights):
        dP = -2 * (forward_info["y"] - forward_info["P"])
        s = sigmoid(forward_info["N1"])
        dN1 = (dP @ weights["W2"].T) * s * (1 - s)
        return {"W1": forward_info["X"].T @ dN1, "B1": dN1.sum(axis=0, keepdims=True),
                "W2": forward_info["O1"].T @ dP, "B2": dP.sum(axis=0, keepdims=True)}
    return loss_gradients


@pytest.mark.parametrize("forward", [forward_loss_as_array, forward_without_bias])
def test_linear_gradient_cells_pass_whatever_the_forward_pass_does(forward):
    results = run_notebook(LIN, with_(LIN, forward_linear_regression=forward))
    assert results["lin_gradients"] is None and results["lin_gradients_shapes"] is None
    if forward is forward_without_bias:
        assert "forward_info['P']" in results["lin_forward"]
    else:                                  # a one-number array is a number, as for the hidden test
        assert results["lin_forward"] is None


def test_a_forward_pass_that_swaps_its_pair_is_told_so():
    def swapped_linear(X_batch, y_batch, weights):
        return tuple(reversed(lin.forward_linear_regression(X_batch, y_batch, weights)))

    def swapped_network(X_batch, y_batch, weights):
        return tuple(reversed(net.forward_loss(X_batch, y_batch, weights)))
    assert "returned its pair the other way round: return (mse, forward_info)" in run_visible(
        LIN, "lin_forward", with_(LIN, forward_linear_regression=swapped_linear))
    assert "returned its pair the other way round: return (forward_info, mse)" in run_visible(
        NET, "net_forward", with_(NET, forward_loss=swapped_network))


def test_metrics_that_return_a_one_number_array_pass_as_in_the_hidden_tests():
    functions = with_(LIN, mae=lambda p, a: np.mean(np.abs(p - a), keepdims=True).reshape(1),
                      rmse=lambda p, a: np.sqrt(np.mean((p - a) ** 2)).reshape(1))
    assert run_visible(LIN, "lin_mae", functions) is None and run_visible(LIN, "lin_rmse", functions) is None
    assert "should be a single number" in run_visible(LIN, "lin_mae", with_(LIN, mae=lambda p, a: np.abs(p - a)))


def test_network_gradient_cells_pass_with_a_float32_sigmoid_and_a_broken_forward_pass():
    def forward_broken(X_batch, y_batch, weights):
        raise RuntimeError("not finished")
    functions = with_(NET, sigmoid=sigmoid_float32, forward_loss=forward_broken,
                      loss_gradients=network_gradients_with_the_students_sigmoid(sigmoid_float32))
    assert run_visible(NET, "net_gradients", functions) is None
    assert run_visible(NET, "net_gradients_shapes", functions) is None
    assert "dtype float32" in run_visible(NET, "net_sigmoid", functions)


# ---------------------------------------------------------------- a shape slip costs only the shapes cell

def test_a_missing_keepdims_costs_only_the_shapes_cell():
    def loss_gradients(forward_info, weights):
        grads = lin.loss_gradients(forward_info, weights)
        return {"W": grads["W"], "B": grads["B"].sum(axis=0)}          # shape (1,)
    results = run_notebook(LIN, with_(LIN, loss_gradients=loss_gradients))
    assert [grade_id for grade_id, message in results.items() if message] == ["lin_gradients_shapes"]
    assert "grads['B'] has shape (1,), expected (1, 1)" in results["lin_gradients_shapes"]
    assert "keepdims=True" in results["lin_gradients_shapes"]


def test_a_transposed_linear_w_is_told_in_the_shapes_cell():
    def loss_gradients(forward_info, weights):
        grads = lin.loss_gradients(forward_info, weights)
        return {"W": grads["W"].T, "B": grads["B"]}
    results = run_notebook(LIN, with_(LIN, loss_gradients=loss_gradients))
    assert results["lin_gradients"] is None      # a (1, k) row of the right numbers: only its shape is wrong
    assert "the transpose of its weight's (3, 1)" in results["lin_gradients_shapes"]


def test_network_shape_slips_are_each_told_with_their_own_reason():
    def loss_gradients(forward_info, weights):
        grads = net.loss_gradients(forward_info, weights)
        return {"W1": grads["W1"].T, "B1": grads["B1"][0], "W2": grads["W2"], "B2": grads["B2"].astype(np.float32)}
    message = run_visible(NET, "net_gradients_shapes", with_(NET, loss_gradients=loss_gradients))
    assert "grads['W1'] has shape (4, 3), the transpose of its weight's (3, 4)" in message
    assert "grads['B1'] has shape (4,), expected (1, 4)" in message and "keepdims=True" in message
    assert "grads['B2'] has dtype float32, expected float64" in message
    assert "grads['W2']" not in message
    values = run_visible(NET, "net_gradients", with_(NET, loss_gradients=loss_gradients))
    assert "grads['W1']" in values and "transpose" in values and "grads['B1']" not in values


def test_the_values_cell_names_every_wrong_gradient_and_its_slip():
    def loss_gradients(forward_info, weights):       # sigma(N1)(1 - N1), and B2 divided by the batch size
        dP = -2 * (forward_info["y"] - forward_info["P"])
        s = net.sigmoid(forward_info["N1"])
        dN1 = (dP @ weights["W2"].T) * s * (1 - forward_info["N1"])
        return {"W1": forward_info["X"].T @ dN1, "B1": dN1.sum(axis=0, keepdims=True),
                "W2": forward_info["O1"].T @ dP, "B2": dP.sum(axis=0, keepdims=True) / len(dP)}
    message = run_visible(NET, "net_gradients", with_(NET, loss_gradients=loss_gradients))
    assert message.startswith("3 of the 4 gradients are wrong")
    assert "grads['B2']" in message and "divided by the batch size" in message
    assert "grads['W1']" in message and "grads['B1']" in message and "grads['W2']" not in message
    assert message.count("it is what sigma(N1) (1 - N1) gives for the sigmoid's slope") == 2


def test_the_sigmoids_slope_taken_at_the_output_is_named_in_the_values_cell():
    def loss_gradients(forward_info, weights):
        dP = -2 * (forward_info["y"] - forward_info["P"])
        s = net.sigmoid(forward_info["O1"])
        dN1 = (dP @ weights["W2"].T) * s * (1 - s)
        return {"W1": forward_info["X"].T @ dN1, "B1": dN1.sum(axis=0, keepdims=True),
                "W2": forward_info["O1"].T @ dP, "B2": dP.sum(axis=0, keepdims=True)}
    message = run_visible(NET, "net_gradients", with_(NET, loss_gradients=loss_gradients))
    assert message.startswith("2 of the 4 gradients are wrong")
    assert message.count("it is what the sigmoid's slope taken at O1 gives") == 2


# ---------------------------------------------------------------- the sigmoid at large magnitude

def naive_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def nan_sigmoid(x):
    with np.errstate(all="ignore"):
        return np.exp(x) / (1 + np.exp(x))           # inf / inf = nan above about 709


def quiet_naive_sigmoid(x):
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-x))


def test_a_sigmoid_that_overflows_at_minus_1000_fails_with_the_warning_as_its_message():
    message = run_visible(NET, "net_sigmoid", with_(NET, sigmoid=naive_sigmoid))
    assert "gave a warning, RuntimeWarning: overflow encountered in exp" in message
    assert "cannot overflow" in message


def test_a_sigmoid_that_returns_nan_at_large_inputs_fails_saying_so():
    message = run_visible(NET, "net_sigmoid", with_(NET, sigmoid=nan_sigmoid))
    assert "sigmoid returned NaN" in message


def test_a_sigmoid_that_silences_a_harmless_overflow_passes():
    assert run_visible(NET, "net_sigmoid", with_(NET, sigmoid=quiet_naive_sigmoid)) is None


# ---------------------------------------------------------------- the input checks

def test_input_check_cells_name_every_input_that_was_accepted():
    def forward_linear(X_batch, y_batch, weights):          # no checks at all
        N = X_batch @ weights["W"]
        P = N + weights["B"]
        return np.mean((y_batch - P) ** 2), {"X": X_batch, "N": N, "P": P, "y": y_batch}
    message = run_visible(LIN, "lin_forward_checks_input", with_(LIN, forward_linear_regression=forward_linear))
    assert "(a) a flat y_batch of shape (3,): forward_linear_regression accepted it" in message
    assert "(b) a flat W of shape (2,): forward_linear_regression accepted it" in message
    assert run_visible(LIN, "lin_forward", with_(LIN, forward_linear_regression=forward_linear)) is None

    def forward_checks_ndim_only(X_batch, y_batch, weights):
        if y_batch.ndim != 2:
            raise ValueError(f"y_batch has shape {y_batch.shape}")
        return net.forward_loss(X_batch, y_batch.reshape(-1, 1), weights)[0], 0.0
    message = run_visible(NET, "net_forward_checks_input", with_(NET, forward_loss=forward_checks_ndim_only))
    assert "(a)" not in message and "(b) a row y_batch of shape (1, 5): forward_loss accepted it" in message


def test_input_check_cells_want_a_value_error_as_the_hidden_test_does():
    def forward_asserts(X_batch, y_batch, weights):
        assert y_batch.shape == (len(X_batch), 1)
        return lin.forward_linear_regression(X_batch, y_batch, weights)

    def forward_says_nothing(X_batch, y_batch, weights):
        if y_batch.shape != (len(X_batch), 1) or weights["W"].ndim != 2:
            raise ValueError("bad input")
        return lin.forward_linear_regression(X_batch, y_batch, weights)
    message = run_visible(LIN, "lin_forward_checks_input", with_(LIN, forward_linear_regression=forward_asserts))
    assert "raised AssertionError" in message and "raise a ValueError instead" in message
    # the hidden test asks for a ValueError, not for its words: neither may the visible one (a tip is printed)
    assert run_visible(LIN, "lin_forward_checks_input",
                       with_(LIN, forward_linear_regression=forward_says_nothing)) is None
