"""Chapter 2's hidden tests: linear regression (notebook 1) and the network (notebook 2).

Shapes: n (batch), k (features) and h (hidden units) are drawn different from
each other, with n >= 2, so a transposed or mis-summed result cannot pass.
"""
import numpy as np

from ...check import Check, Raises, compare, distinct_sizes
from ...compare import ATOL, RTOL
from .diagnose import explain_gradients
from .reference import linear_regression as lin
from . import mistakes
from .reference import neural_network as net

# ---------------------------------------------------------------- linear regression

def linear_weights(rng, k):
    return {"W": rng.standard_normal((k, 1)), "B": rng.standard_normal((1, 1))}


def linear_forward_cases(rng):
    n, k = distinct_sizes(rng)
    X, y = rng.standard_normal((n, k)), rng.standard_normal((n, 1))
    return [(X, y, linear_weights(rng, k)), (X, y[:, 0], linear_weights(rng, k))]


def expect_forward(name, reference, loss_first):
    """The pair in the student's order; a flat y_batch must be refused."""
    def expect(args):
        X, y, weights = args
        if y.ndim == 1:
            return Raises(f"{name} accepted y_batch of shape {y.shape} instead of raising an error: "
                          f"check that y_batch is a column (N, 1) and raise a ValueError. "
                          f"[{mistakes.FLAT_Y_ACCEPTED[0]}]")
        loss, info = reference(X, y, weights)[:: 1 if loss_first else -1]
        return (float(loss), info) if loss_first else (info, float(loss))
    return expect


def explain_forward(name, reference, loss_first):
    order = "(loss, forward_info)" if loss_first else "(forward_info, loss)"

    def explain(args, result):
        X, y, weights = args
        if y.ndim == 1:   # it accepted a flat target: did it average an N x N matrix?
            try:
                flat_loss = float(np.asarray(result[0] if loss_first else result[1]))
            except (TypeError, ValueError, IndexError, KeyError):
                return None
            P = reference(X, y[:, None], weights)[1 if loss_first else 0]["P"]
            if np.isclose(flat_loss, np.mean((y - P) ** 2)):
                return (f"{name} accepted y_batch of shape {y.shape} instead of raising an error: y - P then "
                        f"broadcast to a {len(y)}x{len(y)} matrix and the loss silently averaged it. "
                        f"Check y_batch's shape is (N, 1) and raise a ValueError. [{mistakes.FLAT_Y_ACCEPTED[0]}]")
            return None
        if isinstance(result, tuple) and len(result) == 2:
            try:
                compare(name, expect_forward(name, reference, loss_first)(args), result[::-1])
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


def explain_gradients_with(reference, catalogue):
    def explain(args, result):
        info, weights = args
        want = reference(info, weights)
        if not isinstance(result, dict) or sorted(map(str, result)) != sorted(want):
            return None
        explained = explain_gradients(result, want, catalogue(info, weights), len(info["X"]))
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
    n, k = distinct_sizes(rng)
    return [(rng.uniform(-30, 30, size=(n, k)),)]


def network_forward_cases(rng):
    n, k, h = distinct_sizes(rng, hidden=True)
    X, y = rng.standard_normal((n, k)), rng.standard_normal((n, 1))
    return [(X, y, network_weights(rng, k, h)), (X, y[:, 0], network_weights(rng, k, h))]


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
          explain_forward("forward_linear_regression", lin.forward_linear_regression, loss_first=True)),
    Check("lin_gradients", LINEAR, "loss_gradients", linear_gradient_cases, returns(lin.loss_gradients),
          explain_gradients_with(lin.loss_gradients, mistakes.linear_mistakes),
          catalogue_results(mistakes.linear_mistakes)),
    Check("lin_update", LINEAR, "update_weights", update_cases, returns(lin.update_weights), explain_update, ascent),
    Check("lin_predict", LINEAR, "predict", linear_predict_cases, returns(lin.predict)),
    Check("lin_mae", LINEAR, "mae", metric_cases, returns_float(lin.mae)),
    Check("lin_rmse", LINEAR, "rmse", metric_cases, returns_float(lin.rmse)),
    Check("net_sigmoid", NETWORK, "sigmoid", sigmoid_cases, returns(net.sigmoid)),
    Check("net_forward", NETWORK, "forward_loss", network_forward_cases,
          expect_forward("forward_loss", net.forward_loss, loss_first=False),
          explain_forward("forward_loss", net.forward_loss, loss_first=False)),
    Check("net_gradients", NETWORK, "loss_gradients", network_gradient_cases, returns(net.loss_gradients),
          explain_gradients_with(net.loss_gradients, mistakes.network_mistakes),
          catalogue_results(mistakes.network_mistakes)),
    Check("net_predict", NETWORK, "predict", network_predict_cases, returns(net.predict)),
]
