"""What each hidden test checks, written once and run twice.

A Check names a graded function, makes random cases for it, and judges what the
student's function returned (or raised) against the reference solution. The hidden
test cell runs it inside the student's kernel (hidden.py); the grading pipeline
runs the student's function again in a sandbox and judges the plain numbers it
sends back in the parent process (verify.py). Cases hold only arrays, dicts of
arrays and floats, so they cross a process boundary without pickle.

Shapes: N (batch), k (features) and h (hidden units) are drawn different from
each other, with N >= 2, so a transposed or mis-summed result cannot pass.
"""
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .diagnose import explain_gradients
from .reference import linear_regression as lin
from .reference import mistakes
from .reference import neural_network as net

@dataclass(frozen=True)
class Check:
    grade_id: str        # grade_id of the hidden-test cell in the source notebook
    notebook: str        # notebook file stem in source/<assignment>/
    function: str        # the name the student defines
    make_cases: Callable  # np.random.Generator -> list of argument tuples
    judge: Callable       # (args, result, error) -> None, raising AssertionError on a wrong answer

def distinct_sizes(rng, hidden=False):
    n, k, h = rng.choice(np.arange(2, 12), size=3, replace=False)
    return (int(n), int(k), int(h)) if hidden else (int(n), int(k))

def fail(message):
    raise AssertionError(message)

def require_no_error(name, error):
    if error is not None:
        fail(f"{name} raised {error[0]}: {error[1]}")

def require_array(name, value, shape):
    if not isinstance(value, np.ndarray) or type(value) is not np.ndarray:
        fail(f"{name} should be a plain NumPy array, got {type(value).__name__}")
    if value.shape != shape:
        fail(f"{name} has shape {value.shape}, expected {shape}")
    if value.dtype != np.float64:
        fail(f"{name} has dtype {value.dtype}, expected float64")

def require_close(name, got, want):
    if not np.allclose(got, want, rtol=1e-6, atol=1e-9):
        fail(f"{name} is wrong (largest difference {np.max(np.abs(np.asarray(got) - want)):.3g})")

def require_number(name, value, want):
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.item()
    if not isinstance(value, (float, np.floating)) or isinstance(value, bool):
        fail(f"{name} should be a float, got {type(value).__name__}")
    require_close(name, float(value), want)

def require_dict(name, value, want):
    if not isinstance(value, dict) or sorted(value) != sorted(want):
        keys = sorted(value) if isinstance(value, dict) else type(value).__name__
        fail(f"{name} should be a dict with keys {sorted(want)}, got {keys}")
    for key in want:
        require_array(f"{name}['{key}']", value[key], want[key].shape)

# ---------------------------------------------------------------- linear regression

def linear_weights(rng, k):
    return {"W": rng.standard_normal((k, 1)), "B": rng.standard_normal((1, 1))}

def linear_forward_cases(rng):
    n, k = distinct_sizes(rng)
    X, y = rng.standard_normal((n, k)), rng.standard_normal((n, 1))
    return [(X, y, linear_weights(rng, k)), (X, y[:, 0], linear_weights(rng, k))]

def judge_forward(name, reference, loss_first):
    def judge(args, result, error):
        X, y, weights = args
        if y.ndim == 1:
            if error is None:
                flat_loss = result[0] if loss_first else result[1]
                P = reference(X, y[:, None], weights)[1 if loss_first else 0]["P"]
                silently = np.isclose(float(np.asarray(flat_loss)), np.mean((y - P) ** 2))
                fail(f"{name} accepted y_batch of shape {y.shape} instead of raising an error"
                     + (f": y - P then broadcast to a {len(y)}x{len(y)} matrix and the loss silently "
                        f"averaged it. Check y_batch's shape is (N, 1) and raise a ValueError." if silently else "."))
            return
        require_no_error(name, error)
        want_loss, want_info = reference(X, y, weights)[:: 1 if loss_first else -1]
        if not isinstance(result, tuple) or len(result) != 2:
            fail(f"{name} should return a pair, got {type(result).__name__}")
        loss, info = result[:: 1 if loss_first else -1]
        require_dict(f"{name}'s forward_info", info, want_info)
        for key in want_info:
            require_close(f"forward_info['{key}']", info[key], want_info[key])
        require_number(f"{name}'s loss", loss, want_loss)
    return judge

def linear_gradient_cases(rng):
    n, k = distinct_sizes(rng)
    weights = linear_weights(rng, k)
    _, info = lin.forward_linear_regression(rng.standard_normal((n, k)), rng.standard_normal((n, 1)), weights)
    return [(info, weights)]

def judge_gradients(reference, catalogue):
    def judge(args, result, error):
        info, weights = args
        require_no_error("loss_gradients", error)
        want = reference(info, weights)
        if not isinstance(result, dict) or sorted(result) != sorted(want):
            fail(f"loss_gradients should return a dict with keys {sorted(want)}")
        explained = explain_gradients(result, want, catalogue(info, weights), len(info["X"]))
        if explained:
            fail(f"{explained[1]} [{explained[0]}]")
        require_dict("loss_gradients", result, want)
    return judge

def update_cases(rng):
    n, k = distinct_sizes(rng)
    weights, grads = linear_weights(rng, k), linear_weights(rng, k)
    return [(weights, grads, float(rng.uniform(0.001, 0.1)))]

def judge_update(args, result, error):
    require_no_error("update_weights", error)
    want = lin.update_weights(*args)
    require_dict("update_weights", result, want)
    for key in want:
        if np.allclose(result[key], args[0][key] + args[2] * args[1][key]):
            fail(f"update_weights moved '{key}' up the gradient: subtract learning_rate * grads['{key}'].")
        require_close(f"update_weights(...)['{key}']", result[key], want[key])

def linear_predict_cases(rng):
    n, k = distinct_sizes(rng)
    return [(rng.standard_normal((n, k)), linear_weights(rng, k))]

def judge_array(name, reference):
    def judge(args, result, error):
        require_no_error(name, error)
        want = reference(*args)
        require_array(f"{name}(...)", result, want.shape)
        require_close(f"{name}(...)", result, want)
    return judge

def metric_cases(rng):
    n, _ = distinct_sizes(rng)
    return [(rng.standard_normal((n, 1)), rng.standard_normal((n, 1)))]

def judge_metric(name, reference):
    def judge(args, result, error):
        require_no_error(name, error)
        require_number(f"{name}(...)", result, reference(*args))
    return judge

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

CHECKS = {check.grade_id: check for check in [
    Check("lin_forward", LINEAR, "forward_linear_regression", linear_forward_cases,
          judge_forward("forward_linear_regression", lin.forward_linear_regression, loss_first=True)),
    Check("lin_gradients", LINEAR, "loss_gradients", linear_gradient_cases,
          judge_gradients(lin.loss_gradients, mistakes.linear_mistakes)),
    Check("lin_update", LINEAR, "update_weights", update_cases, judge_update),
    Check("lin_predict", LINEAR, "predict", linear_predict_cases, judge_array("predict", lin.predict)),
    Check("lin_mae", LINEAR, "mae", metric_cases, judge_metric("mae", lin.mae)),
    Check("lin_rmse", LINEAR, "rmse", metric_cases, judge_metric("rmse", lin.rmse)),
    Check("net_sigmoid", NETWORK, "sigmoid", sigmoid_cases, judge_array("sigmoid", net.sigmoid)),
    Check("net_forward", NETWORK, "forward_loss", network_forward_cases,
          judge_forward("forward_loss", net.forward_loss, loss_first=False)),
    Check("net_gradients", NETWORK, "loss_gradients", network_gradient_cases,
          judge_gradients(net.loss_gradients, mistakes.network_mistakes)),
    Check("net_predict", NETWORK, "predict", network_predict_cases, judge_array("predict", net.predict)),
]}
