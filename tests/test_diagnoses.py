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


# Which of the two gradient checks each slip fails: the values check judges numbers whatever their shape,
# the shapes check each gradient's shape and dtype. A linear W transposed is the right numbers in a (1, k)
# row, so only its shape is wrong; a bias not summed has the wrong numbers and the wrong shape.
LINEAR_FAILS = {"missing factor 2": ["lin_gradients"], "extra factor 2": ["lin_gradients"],
                "mean instead of sum": ["lin_gradients"], "wrong sign": ["lin_gradients"],
                "transposed": ["lin_gradients_shapes"], "bias not summed": ["lin_gradients", "lin_gradients_shapes"]}
NETWORK_FAILS = {"missing factor 2": ["net_gradients"], "mean instead of sum": ["net_gradients"],
                 "wrong sign": ["net_gradients"], "transposed": ["net_gradients", "net_gradients_shapes"],
                 "B1 collapsed": ["net_gradients"], "sigmoid derivative on the output": ["net_gradients"]}


@pytest.mark.parametrize("slip", LINEAR_SLIPS)
def test_linear_slip_is_named_by_the_check_it_fails_and_passes_the_other(slip):
    for grade_id in ("lin_gradients", "lin_gradients_shapes"):
        if grade_id in LINEAR_FAILS[slip]:
            with pytest.raises(AssertionError, match=f"\\[{slip}\\]"):
                run_hidden_test(grade_id, LINEAR_SLIPS[slip])
        else:
            run_hidden_test(grade_id, LINEAR_SLIPS[slip])


@pytest.mark.parametrize("slip", NETWORK_SLIPS)
def test_network_slip_is_named_by_the_check_it_fails_and_passes_the_other(slip):
    for grade_id in ("net_gradients", "net_gradients_shapes"):
        if grade_id in NETWORK_FAILS[slip]:
            with pytest.raises(AssertionError, match=f"\\[{slip}\\]"):
                run_hidden_test(grade_id, NETWORK_SLIPS[slip])
        else:
            run_hidden_test(grade_id, NETWORK_SLIPS[slip])


def no_checks_forward(X, y, weights):  # no shape check: (n,) - (n, 1) broadcasts to (n, n)
    P = X @ weights["W"] + weights["B"]
    return np.mean((y - P) ** 2), {"X": X, "N": X @ weights["W"], "P": P, "y": y}


def test_flat_target_that_silently_averages_an_n_by_n_matrix_is_explained():
    with pytest.raises(AssertionError, match=r"broadcast to a \d+x\d+ matrix.*\[flat y accepted\]"):
        run_hidden_test("lin_forward_checks_input", no_checks_forward)


def test_a_forward_pass_without_input_checks_loses_only_the_input_check():
    run_hidden_test("lin_forward", no_checks_forward)


def test_a_flat_w_is_refused_too():
    def forward(X, y, weights):  # checks the target, not the weights: a flat W makes P a row
        if y.shape != (len(X), 1):
            raise ValueError(f"y_batch has shape {y.shape}")
        return no_checks_forward(X, y, weights)
    with pytest.raises(AssertionError, match=r"accepted weights\['W'\] of shape \(\d+,\).*\[flat W accepted\]"):
        run_hidden_test("lin_forward_checks_input", forward)


def test_a_row_target_is_refused_by_the_network():
    def forward_loss(X, y, weights):  # checks ndim only: a (1, n) row goes through
        if y.ndim != 2:
            raise ValueError(f"y_batch has shape {y.shape}")
        M1 = X @ weights["W1"]
        O1 = sig(M1 + weights["B1"])
        P = O1 @ weights["W2"] + weights["B2"]
        info = {"X": X, "M1": M1, "N1": M1 + weights["B1"], "O1": O1, "M2": O1 @ weights["W2"], "P": P, "y": y}
        return info, float(np.mean((y - P) ** 2))
    with pytest.raises(AssertionError, match=r"a row, instead of raising an error: y - P then broadcast.*\[row y accepted\]"):
        run_hidden_test("net_forward_checks_input", forward_loss)
    run_hidden_test("net_forward", forward_loss)


def test_a_swapped_pair_is_told_so():
    def forward(X, y, weights):
        return tuple(reversed(lin.forward_linear_regression(X, y, weights)))
    with pytest.raises(AssertionError, match=r"returned its pair the other way round.*\(mse, forward_info\).*\[pair swapped\]"):
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
    for grade_id in ("lin_gradients", "lin_gradients_shapes"):
        run_hidden_test(grade_id, lin.loss_gradients)
    for grade_id in ("net_gradients", "net_gradients_shapes"):
        run_hidden_test(grade_id, net.loss_gradients)
    for grade_id in ("lin_forward", "lin_forward_checks_input"):
        run_hidden_test(grade_id, lin.forward_linear_regression)
    for grade_id in ("net_forward", "net_forward_checks_input"):
        run_hidden_test(grade_id, net.forward_loss)
    run_hidden_test("net_sigmoid", net.sigmoid)
    assert capsys.readouterr().out.count("matches the reference") == 9


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
    lambda d: np.full((1, d.shape[1]), d.sum() / 2),    # and with another slip's factor as well
])
def test_b1_collapse_is_named_in_every_form(collapse):
    with pytest.raises(AssertionError, match=r"\[B1 collapsed\]"):
        run_hidden_test("net_gradients", network_with(dB1=collapse))


@pytest.mark.parametrize("collapse", [lambda d: d.sum(), lambda d: np.array([d.sum()])])
def test_a_collapsed_b1_of_the_wrong_shape_is_named_by_the_shapes_check_too(collapse):
    with pytest.raises(AssertionError, match=r"gradient 'B1': .*one entry per unit.*\[B1 collapsed\]"):
        run_hidden_test("net_gradients_shapes", network_with(dB1=collapse))


def test_the_books_b1_is_named_collapsed_and_half():
    """-(y - P) and B1 summed over the units as well: both slips named, on B1 and on every other key."""
    book = network_with(dP=lambda y, P: -(y - P), dB1=lambda d: d.sum())
    with pytest.raises(AssertionError) as failure:
        run_hidden_test("net_gradients", book)
    message = str(failure.value)
    assert "gradients 'W1', 'B1', 'W2', 'B2': " in message and "[missing factor 2]" in message
    assert "gradient 'B1': every hidden unit got the same B1 gradient" in message and "[B1 collapsed]" in message


def test_every_wrong_key_is_named_not_only_the_first():
    both = network_with(dW1=lambda X, d: d.T @ X, dB1=lambda d: np.full((1, d.shape[1]), d.sum()))
    with pytest.raises(AssertionError, match=r"\[transposed\].*\[B1 collapsed\]|\[B1 collapsed\].*\[transposed\]"):
        run_hidden_test("net_gradients", both)


def test_right_values_in_the_wrong_shape_pass_the_values_check_and_fail_the_shapes_check():
    keepdims_missing = linear_with(dB=lambda dP: dP.sum(axis=0))
    run_hidden_test("lin_gradients", keepdims_missing)
    with pytest.raises(AssertionError, match=r"gradient 'B': has shape \(1,\), expected \(1, 1\).*keepdims=True.*"
                                             r"\[keepdims missing\]"):
        run_hidden_test("lin_gradients_shapes", keepdims_missing)


def test_a_scalar_bias_gradient_is_a_dropped_axis():
    scalar = linear_with(dB=lambda dP: dP.sum())
    run_hidden_test("lin_gradients", scalar)
    with pytest.raises(AssertionError, match=r"gradient 'B': is a single number \(float64\).*\[keepdims missing\]"):
        run_hidden_test("lin_gradients_shapes", scalar)


def test_network_biases_without_keepdims_each_say_their_shape():
    dropped = network_with(dB1=lambda d: d.sum(axis=0))
    run_hidden_test("net_gradients", dropped)
    with pytest.raises(AssertionError, match=r"gradient 'B1': has shape \(\d+,\), expected \(1, \d+\).*"
                                             r"\[keepdims missing\]"):
        run_hidden_test("net_gradients_shapes", dropped)


def test_float32_gradients_are_named_in_both_checks():
    def float32(info, weights):
        return {key: value.astype(np.float32) for key, value in lin.loss_gradients(info, weights).items()}
    for grade_id in ("lin_gradients", "lin_gradients_shapes"):
        with pytest.raises(AssertionError, match=r"float32.*\[not float64\]"):
            run_hidden_test(grade_id, float32)


def test_the_shapes_check_names_each_key_with_its_own_reason():
    mixed = network_with(dW1=lambda X, d: d.T @ X, dB1=lambda d: d)     # transposed W1, B1 with one row per row
    with pytest.raises(AssertionError) as failure:
        run_hidden_test("net_gradients_shapes", mixed)
    message = str(failure.value)
    assert "gradient 'W1': has shape" in message and "the transpose of its weight's" in message and "[transposed]" in message
    assert "gradient 'B1': has shape" in message and "one row per observation" in message and "[bias not summed]" in message


def test_a_matrix_product_that_does_not_fit_gets_the_transpose_hint():
    for grade_id in ("lin_gradients", "lin_gradients_shapes"):
        with pytest.raises(AssertionError, match="transpose"):
            run_hidden_test(grade_id, linear_with(dW=lambda X, dP: X @ dP))


# ---------------------------------------------------------------- the sigmoid at large magnitude

def test_a_naive_sigmoid_fails_the_hidden_test_on_its_overflow_warning():
    with pytest.raises(AssertionError, match="RuntimeWarning: overflow encountered in exp"):
        run_hidden_test("net_sigmoid", sig)


def test_a_sigmoid_that_returns_nan_at_large_inputs_fails_the_hidden_test():
    def nan_sigmoid(x):
        with np.errstate(all="ignore"):
            return np.exp(x) / (1 + np.exp(x))
    with pytest.raises(AssertionError, match="sigmoid"):
        run_hidden_test("net_sigmoid", nan_sigmoid)


def test_the_hidden_sigmoid_cases_reach_large_magnitudes():
    from autograder.specs import CHECKS
    cases = CHECKS["net_sigmoid"].cases(np.random.default_rng(0))
    largest = max(np.abs(args[0]).max() for args in cases)
    assert largest == 1000.0 and any((args[0] < -709).any() for args in cases)
