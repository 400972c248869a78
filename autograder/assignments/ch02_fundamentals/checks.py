"""Chapter 2's hidden tests: linear regression (notebook 1) and the network (notebook 2).

Shapes: n (the batch size, as in the notebooks), k (features) and h (hidden units) are
drawn different from each other, with n >= 2, so a transposed or mis-summed result cannot pass.

A forward pass has two checks: its results on valid input, and, in a cell of its own, that it
refuses input that would silently broadcast (`*_checks_input`). A backward pass has two: its
gradients' values whatever their shape (view "values"), and their shapes and dtype (view
"shapes", `*_gradients_shapes`). So a shape slip costs only the cell whose clause it breaks.
"""
import numpy as np

from ...check import Check, Raises, compare, distinct_sizes
from ...compare import ATOL, RTOL
from .diagnose import explain_shapes, explain_values
from .reference import linear_regression as lin
from . import mistakes
from .reference import neural_network as net

# ---------------------------------------------------------------- linear regression

def linear_weights(rng, k):
    return {"W": rng.standard_normal((k, 1)), "B": rng.standard_normal((1, 1))}


def linear_forward_cases(rng):
    """Valid input: a column target and weights that fit."""
    n, k = distinct_sizes(rng)
    return [(rng.standard_normal((n, k)), rng.standard_normal((n, 1)), linear_weights(rng, k))]


def linear_input_cases(rng):
    """Input that NumPy would broadcast without a word: a flat target; a flat W (then P is flat)."""
    n, k = distinct_sizes(rng)
    X, y = rng.standard_normal((n, k)), rng.standard_normal((n, 1))
    flat_w = linear_weights(rng, k)
    flat_w["W"] = flat_w["W"][:, 0]
    return [(X, y[:, 0], linear_weights(rng, k)), (X, y, flat_w)]


def network_input_cases(rng):
    """Targets that broadcast against the (n, 1) predictions: flat (n,), and a row (1, n)."""
    n, k, h = distinct_sizes(rng, hidden=True)
    X, y = rng.standard_normal((n, k)), rng.standard_normal((n, 1))
    return [(X, y[:, 0], network_weights(rng, k, h)), (X, y.T, network_weights(rng, k, h))]


def refused(name, args, broadcast=False):
    """What a forward pass that accepted invalid input is told: which input, what it did, the slip's name."""
    X, y, weights = args
    n = len(X)
    if y.ndim == 1:
        slip, what = mistakes.FLAT_Y_ACCEPTED[0], f"y_batch of shape {y.shape}"
    elif y.shape != (n, 1):
        slip, what = mistakes.ROW_Y_ACCEPTED[0], f"y_batch of shape {y.shape}, a row,"
    else:
        slip, what = mistakes.FLAT_W_ACCEPTED[0], f"weights['W'] of shape {weights['W'].shape}"
    fix = ("Check that W is (k, 1) and B is (1, 1), and raise a ValueError" if slip == mistakes.FLAT_W_ACCEPTED[0]
           else "Check that y_batch is a column (n, 1) and raise a ValueError")
    if broadcast:
        return (f"{name} accepted {what} instead of raising an error: y - P then broadcast to a {n}x{n} matrix "
                f"and the loss silently averaged it. {fix}. [{slip}]")
    return f"{name} accepted {what} instead of raising an error: {fix[0].lower()}{fix[1:]}. [{slip}]"


def expect_forward(name, reference, loss_first):
    """The pair in the student's order; invalid input must be refused."""
    def expect(args):
        X, y, weights = args
        try:
            loss, info = reference(X, y, weights)[:: 1 if loss_first else -1]
        except ValueError:
            return Raises(refused(name, args), exception="ValueError")
        return (float(loss), info) if loss_first else (info, float(loss))
    return expect


def explain_forward(name, reference, predict, loss_first):
    order = "(mse, forward_info)" if loss_first else "(forward_info, mse)"
    expect = expect_forward(name, reference, loss_first)

    def explain(args, result):
        X, y, weights = args
        if isinstance(expect(args), Raises):
            # It accepted what it should refuse: did y - P broadcast to an n x n matrix, averaged?
            errors = y - predict(X, weights)
            try:
                loss = float(np.asarray(result[0] if loss_first else result[1]))
            except (TypeError, ValueError, IndexError, KeyError):
                return None
            if errors.shape == (len(X), len(X)) and np.isclose(loss, np.mean(errors ** 2)):
                return refused(name, args, broadcast=True)
            return None
        if isinstance(result, tuple) and len(result) == 2:
            try:
                compare(name, expect(args), result[::-1])
            except AssertionError:
                return None
            return (f"{name} returned its pair the other way round: it should return {order}, in that order. "
                    f"[{mistakes.PAIR_SWAPPED[0]}]")
        return None
    return explain


def linear_gradient_cases(rng):
    n, k = distinct_sizes(rng)
    weights = linear_weights(rng, k)
    _, info = lin.forward_linear_regression(rng.standard_normal((n, k)), rng.standard_normal((n, 1)), weights)
    return [(info, weights)]


def explain_gradients_with(reference, catalogue, view):
    """The diagnosis of a wrong backward pass: of its values (any shape), or of its shapes and dtype."""
    def explain(args, result):
        info, weights = args
        want = reference(info, weights)
        if not isinstance(result, dict) or sorted(map(str, result)) != sorted(want):
            return None
        if view == "values":
            explained = explain_values(result, want, catalogue(info, weights), len(info["X"]))
        else:
            explained = explain_shapes(result, want, len(info["X"]))
        return explained[1] if explained else None
    return explain


def catalogue_results(catalogue):
    return lambda args: [wrong for _, _, wrong in catalogue(*args)]


def ascent(args):
    weights, grads, learning_rate = args
    return [{key: weights[key] + learning_rate * grads[key] for key in weights}]


def update_cases(rng):
    n, k = distinct_sizes(rng)
    weights, grads = linear_weights(rng, k), linear_weights(rng, k)
    return [(weights, grads, float(rng.uniform(0.001, 0.1)))]


def explain_update(args, result):
    weights, grads, learning_rate = args
    if not isinstance(result, dict):
        return None
    for key in weights:
        value = result.get(key)
        if (isinstance(value, np.ndarray) and value.shape == weights[key].shape
                and np.allclose(value, weights[key] + learning_rate * grads[key], rtol=RTOL, atol=ATOL)):
            return (f"update_weights moved '{key}' up the gradient: subtract learning_rate * grads['{key}']. "
                    f"[{mistakes.UP_THE_GRADIENT[0]}]")
    return None


def linear_predict_cases(rng):
    n, k = distinct_sizes(rng)
    return [(rng.standard_normal((n, k)), linear_weights(rng, k))]


def metric_cases(rng):
    n, _ = distinct_sizes(rng)
    return [(rng.standard_normal((n, 1)), rng.standard_normal((n, 1)))]


def returns_float(reference):
    return lambda args: float(reference(*args))


def returns(reference):
    return lambda args: reference(*args)


# ---------------------------------------------------------------- neural network

def network_weights(rng, k, h):
    return {"W1": rng.standard_normal((k, h)), "B1": rng.standard_normal((1, h)),
            "W2": rng.standard_normal((h, 1)), "B2": rng.standard_normal((1, 1))}


def sigmoid_cases(rng):
    """Moderate inputs, then large ones: beyond about 709 in size, exp(-x) overflows in a naive sigmoid."""
    n, k = distinct_sizes(rng)
    far = rng.uniform(-1000, 1000, size=(n, k))
    far.flat[:2] = (-1000.0, 1000.0)
    return [(rng.uniform(-30, 30, size=(n, k)),), (far,)]


def network_forward_cases(rng):
    """Valid input: a column target."""
    n, k, h = distinct_sizes(rng, hidden=True)
    return [(rng.standard_normal((n, k)), rng.standard_normal((n, 1)), network_weights(rng, k, h))]


def network_gradient_cases(rng):
    n, k, h = distinct_sizes(rng, hidden=True)
    weights = network_weights(rng, k, h)
    info, _ = net.forward_loss(rng.standard_normal((n, k)), rng.standard_normal((n, 1)), weights)
    return [(info, weights)]


def network_predict_cases(rng):
    n, k, h = distinct_sizes(rng, hidden=True)
    return [(rng.standard_normal((n, k)), network_weights(rng, k, h))]


LINEAR = "01_linear_regression"
NETWORK = "02_neural_network"

CHECKS = [
    Check("lin_forward", LINEAR, "forward_linear_regression", linear_forward_cases,
          expect_forward("forward_linear_regression", lin.forward_linear_regression, loss_first=True),
          explain_forward("forward_linear_regression", lin.forward_linear_regression, lin.predict, loss_first=True)),
    Check("lin_forward_checks_input", LINEAR, "forward_linear_regression", linear_input_cases,
          expect_forward("forward_linear_regression", lin.forward_linear_regression, loss_first=True),
          explain_forward("forward_linear_regression", lin.forward_linear_regression, lin.predict, loss_first=True)),
    Check("lin_gradients", LINEAR, "loss_gradients", linear_gradient_cases, returns(lin.loss_gradients),
          explain_gradients_with(lin.loss_gradients, mistakes.linear_mistakes, "values"),
          catalogue_results(mistakes.linear_value_mistakes), view="values"),
    Check("lin_gradients_shapes", LINEAR, "loss_gradients", linear_gradient_cases, returns(lin.loss_gradients),
          explain_gradients_with(lin.loss_gradients, mistakes.linear_shape_mistakes, "shapes"),
          catalogue_results(mistakes.linear_shape_mistakes), view="shapes"),
    Check("lin_update", LINEAR, "update_weights", update_cases, returns(lin.update_weights), explain_update, ascent),
    Check("lin_predict", LINEAR, "predict", linear_predict_cases, returns(lin.predict)),
    Check("lin_mae", LINEAR, "mae", metric_cases, returns_float(lin.mae)),
    Check("lin_rmse", LINEAR, "rmse", metric_cases, returns_float(lin.rmse)),
    Check("net_sigmoid", NETWORK, "sigmoid", sigmoid_cases, returns(net.sigmoid)),
    Check("net_forward", NETWORK, "forward_loss", network_forward_cases,
          expect_forward("forward_loss", net.forward_loss, loss_first=False),
          explain_forward("forward_loss", net.forward_loss, net.predict, loss_first=False)),
    Check("net_forward_checks_input", NETWORK, "forward_loss", network_input_cases,
          expect_forward("forward_loss", net.forward_loss, loss_first=False),
          explain_forward("forward_loss", net.forward_loss, net.predict, loss_first=False)),
    Check("net_gradients", NETWORK, "loss_gradients", network_gradient_cases, returns(net.loss_gradients),
          explain_gradients_with(net.loss_gradients, mistakes.network_mistakes, "values"),
          catalogue_results(mistakes.network_mistakes), view="values"),
    Check("net_gradients_shapes", NETWORK, "loss_gradients", network_gradient_cases, returns(net.loss_gradients),
          explain_gradients_with(net.loss_gradients, mistakes.network_shape_mistakes, "shapes"),
          catalogue_results(mistakes.network_shape_mistakes), view="shapes"),
    Check("net_predict", NETWORK, "predict", network_predict_cases, returns(net.predict)),
]
