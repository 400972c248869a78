"""Each common mistake, written as a student would write it, is caught and named.

The buggy functions here are written independently of the mistakes.py catalogue, so
a catalogue entry that drifts from the slip it describes fails these tests.
"""
import numpy as np
import pytest

from autograder.coursekit.checks import check_gradient, describe_mismatch
from autograder.hidden import run_hidden_test
from autograder.assignments.ch02_fundamentals.reference import linear_regression as lin
from autograder.assignments.ch02_fundamentals.reference import neural_network as net


def sig(x):
    return 1 / (1 + np.exp(-x))


def linear_with(dP=lambda y, P: -2 * (y - P), dW=lambda X, dP: X.T @ dP, dB=lambda dP: dP.sum(axis=0, keepdims=True)):
    def loss_gradients(info, weights):
        grad_P = dP(info["y"], info["P"])
        return {"W": dW(info["X"], grad_P), "B": dB(grad_P)}
    return loss_gradients


def network_with(dP=lambda y, P: -2 * (y - P), deriv_at="N1", dB1=lambda d: d.sum(axis=0, keepdims=True),
                 dW1=lambda X, d: X.T @ d):
    def loss_gradients(info, weights):
        grad_P = dP(info["y"], info["P"])
        s = sig(info[deriv_at])
        grad_N1 = (grad_P @ weights["W2"].T) * s * (1 - s)
        return {"W1": dW1(info["X"], grad_N1), "B1": dB1(grad_N1),
                "W2": info["O1"].T @ grad_P, "B2": grad_P.sum(axis=0, keepdims=True)}
    return loss_gradients


LINEAR_SLIPS = {
    "missing factor 2": linear_with(dP=lambda y, P: -(y - P)),
    "extra factor 2": linear_with(dP=lambda y, P: -4 * (y - P)),
    "mean instead of sum": linear_with(dP=lambda y, P: -2 * (y - P) / len(y)),
    "wrong sign": linear_with(dP=lambda y, P: 2 * (y - P)),
    "transposed": linear_with(dW=lambda X, dP: dP.T @ X),
    "bias not summed": linear_with(dB=lambda dP: dP),
}

NETWORK_SLIPS = {
    "missing factor 2": network_with(dP=lambda y, P: -(y - P)),
    "mean instead of sum": network_with(dP=lambda y, P: -2 * (y - P) / len(y)),
    "wrong sign": network_with(dP=lambda y, P: 2 * (y - P)),
    "transposed": network_with(dW1=lambda X, d: d.T @ X),
    "B1 collapsed": network_with(dB1=lambda d: np.full((1, d.shape[1]), d.sum())),
    "sigmoid derivative on the output": network_with(deriv_at="O1"),
}


@pytest.mark.parametrize("slip", LINEAR_SLIPS)
def test_linear_slip_is_named(slip):
    with pytest.raises(AssertionError, match=f"\\[{slip}\\]"):
        run_hidden_test("lin_gradients", LINEAR_SLIPS[slip])


@pytest.mark.parametrize("slip", NETWORK_SLIPS)
def test_network_slip_is_named(slip):
    with pytest.raises(AssertionError, match=f"\\[{slip}\\]"):
        run_hidden_test("net_gradients", NETWORK_SLIPS[slip])


def test_flat_target_that_silently_averages_an_n_by_n_matrix_is_explained():
    def forward(X, y, weights):  # no shape check: (N,) - (N, 1) broadcasts to (N, N)
        P = X @ weights["W"] + weights["B"]
        return np.mean((y - P) ** 2), {"X": X, "N": X @ weights["W"], "P": P, "y": y}
    with pytest.raises(AssertionError, match=r"broadcast to a \d+x\d+ matrix"):
        run_hidden_test("lin_forward", forward)


def test_modifying_inputs_in_place_fails():
    def update_weights(weights, grads, learning_rate):
        for key in weights:
            weights[key] -= learning_rate * grads[key]
        return weights
    with pytest.raises(AssertionError, match="modified its inputs"):
        run_hidden_test("lin_update", update_weights)


def test_ascending_the_gradient_is_explained():
    with pytest.raises(AssertionError, match="up the gradient"):
        run_hidden_test("lin_update", lambda w, g, lr: {k: w[k] + lr * g[k] for k in w})


def test_wrong_dtype_fails():
    with pytest.raises(AssertionError, match="dtype"):
        run_hidden_test("lin_predict", lambda X, w: (X @ w["W"] + w["B"]).astype(np.float32))


def test_references_pass_their_own_hidden_tests(capsys):
    run_hidden_test("lin_gradients", lin.loss_gradients)
    run_hidden_test("net_gradients", net.loss_gradients)
    assert "matches the reference" in capsys.readouterr().out


@pytest.mark.parametrize("got, phrase", [
    (lambda g: -g, "wrong sign"), (lambda g: 2 * g, "twice"), (lambda g: g / 2, "half"),
    (lambda g: g / 5, "divided by the batch size"), (lambda g: g.T, "transpose"),
])
def test_visible_gradient_check_explains_pattern(got, phrase):
    numeric = np.arange(1.0, 7.0).reshape(3, 2)
    with pytest.raises(AssertionError, match=phrase):
        check_gradient(got(numeric), numeric, "dW", batch_size=5)


def test_unsummed_bias_and_collapse_patterns():
    per_row = np.arange(1.0, 7.0).reshape(3, 2)
    right = per_row.sum(axis=0, keepdims=True)
    assert "summed over the batch axis" in describe_mismatch(per_row, right, batch_size=3)
    assert "each unit keeps its own" in describe_mismatch(np.full((1, 2), right.sum()), right)
    assert describe_mismatch(right + 1, right) == ""
    assert check_gradient(right.copy(), right, "dB") == 0.0


def test_sigmoid_derivative_written_with_the_input_is_named():
    def loss_gradients(info, weights):
        grad_P = -2 * (info["y"] - info["P"])
        s = sig(info["N1"])
        grad_N1 = (grad_P @ weights["W2"].T) * s * (1 - info["N1"])
        return {"W1": info["X"].T @ grad_N1, "B1": grad_N1.sum(axis=0, keepdims=True),
                "W2": info["O1"].T @ grad_P, "B2": grad_P.sum(axis=0, keepdims=True)}
    with pytest.raises(AssertionError, match=r"\[sigmoid derivative as s\(1 - x\)\]"):
        run_hidden_test("net_gradients", loss_gradients)


@pytest.mark.parametrize("collapse", [
    lambda d: d.sum(),                                  # the book's scalar
    lambda d: np.array([d.sum()]),                      # shape (1,)
    lambda d: np.full((1, d.shape[1]), d.sum()),        # (1, h), every entry equal
])
def test_b1_collapse_is_named_in_every_form(collapse):
    with pytest.raises(AssertionError, match=r"\[B1 collapsed\]"):
        run_hidden_test("net_gradients", network_with(dB1=collapse))


def test_every_wrong_key_is_named_not_only_the_first():
    both = network_with(dW1=lambda X, d: d.T @ X, dB1=lambda d: d.sum())
    with pytest.raises(AssertionError, match=r"\[transposed\].*\[B1 collapsed\]|\[B1 collapsed\].*\[transposed\]"):
        run_hidden_test("net_gradients", both)


def test_right_values_in_the_wrong_shape_say_so():
    with pytest.raises(AssertionError, match="values are right but the shape is \\(1,\\)"):
        run_hidden_test("lin_gradients", linear_with(dB=lambda dP: dP.sum(axis=0)))


def test_a_matrix_product_that_does_not_fit_gets_the_transpose_hint():
    with pytest.raises(AssertionError, match="transpose"):
        run_hidden_test("lin_gradients", linear_with(dW=lambda X, dP: X @ dP))
