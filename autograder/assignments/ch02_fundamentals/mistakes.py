"""The common backward-pass mistakes, each as the wrong gradients it produces.

diagnose.py matches a student's wrong gradient against these to say which slip
was made. Each entry: (name, what to tell the student, wrong gradients).
"""
import numpy as np

from .reference.neural_network import sigmoid


def _dP(info, factor=2.0, sign=-1.0, mean=False):
    grad = sign * factor * (info["y"] - info["P"])
    return grad / len(grad) if mean else grad


def _linear(dP, info, sum_bias=True, transpose_w=False):
    dW = info["X"].T @ dP
    return {"W": dW.T if transpose_w else dW, "B": dP.sum(axis=0, keepdims=True) if sum_bias else dP}


def _network(dP, info, weights, sigma_on_output=False, collapse_b1=False, transpose_w=False, one_minus_input=False):
    dO1 = dP @ weights["W2"].T
    s = sigmoid(info["O1"] if sigma_on_output else info["N1"])
    dN1 = dO1 * s * (1 - (info["N1"] if one_minus_input else s))
    dW1, dW2 = info["X"].T @ dN1, info["O1"].T @ dP
    B1 = dN1.sum(axis=0, keepdims=True)
    return {"W1": dW1.T if transpose_w else dW1,
            "B1": np.full_like(B1, dN1.sum()) if collapse_b1 else B1,
            "W2": dW2.T if transpose_w else dW2,
            "B2": dP.sum(axis=0, keepdims=True)}


MISSING_FACTOR_2 = ("missing factor 2", "the derivative of (y - P)**2 is -2 (y - P): the factor 2 is missing.")
EXTRA_FACTOR_2 = ("extra factor 2", "the gradient is twice too large: a factor 2 is applied twice.")
MEAN_NOT_SUM = ("mean instead of sum", "the gradient is divided by the batch size: in this course the "
                "gradient is of the sum of squared errors over the batch, so sum, don't average.")
WRONG_SIGN = ("wrong sign", "the sign is flipped: dL/dP = -2 (y - P), not 2 (y - P).")
TRANSPOSED = ("transposed", "the weight gradient is transposed: the input's transpose stands on the left, "
              "X.T @ dL/dN, so the result has the weight's shape.")
BIAS_NOT_SUMMED = ("bias not summed", "the bias gradient has one row per observation: the bias was added to "
                   "every row, so its gradient is summed over the batch axis (axis=0, keepdims=True).")
B1_COLLAPSED = ("B1 collapsed", "every hidden unit got the same B1 gradient (the sum over all units): "
                "sum over the batch axis only, axis=0, keepdims=True, so each unit keeps its own.")
SIGMA_ON_OUTPUT = ("sigmoid derivative on the output", "the sigmoid's derivative was evaluated at O1, its "
                   "output: use sigma(N1) * (1 - sigma(N1)), or equivalently O1 * (1 - O1).")

SIGMA_ONE_MINUS_INPUT = ("sigmoid derivative as s(1 - x)", "the sigmoid's derivative was written sigma(N1) * (1 - N1): "
                         "the second factor is 1 - sigma(N1), i.e. O1 * (1 - O1).")

# Slips of a gradient's shape or dtype, named by the shapes checks (the values may be right).
KEEPDIMS_MISSING = ("keepdims missing", "the sum over the batch dropped the summed axis: keep it "
                    "(axis=0, keepdims=True) so that the gradient has its weight's shape.")
NOT_FLOAT64 = ("not float64", "the gradient is not float64: keep every step in float64 (no float32 arrays, "
               "no astype).")

# Slips outside the backward pass, named where the grader explains them (checks.py).
UP_THE_GRADIENT = ("up the gradient", "the step went up the gradient: subtract learning_rate * grads[key].")
FLAT_Y_ACCEPTED = ("flat y accepted", "a flat y_batch of shape (n,) was accepted: y - P then broadcasts to an "
                   "n x n matrix and the loss silently averages it. Check that y_batch is (n, 1) and raise a "
                   "ValueError.")
ROW_Y_ACCEPTED = ("row y accepted", "a y_batch of shape (1, n), a row, was accepted: y - P then broadcasts to an "
                  "n x n matrix and the loss silently averages it. Check that y_batch is (n, 1) and raise a "
                  "ValueError.")
FLAT_W_ACCEPTED = ("flat W accepted", "weights['W'] of shape (k,), flat, was accepted: X_batch @ W is then flat, "
                   "y - P broadcasts to an n x n matrix and the loss silently averages it. Check that W is (k, 1) "
                   "and B is (1, 1) and raise a ValueError.")
PAIR_SWAPPED = ("pair swapped", "the function returned its pair the other way round.")


def _dropped_axis(grads):
    """The gradients with every bias gradient summed without keepdims: (1,) and (h,) instead of 2-D."""
    return {key: value[0] if key.startswith("B") else value for key, value in grads.items()}


def linear_mistakes(info, weights):
    return [
        (*MISSING_FACTOR_2, _linear(_dP(info, factor=1), info)),
        (*EXTRA_FACTOR_2, _linear(_dP(info, factor=4), info)),
        (*MEAN_NOT_SUM, _linear(_dP(info, mean=True), info)),
        (*WRONG_SIGN, _linear(_dP(info, sign=1), info)),
        (*TRANSPOSED, _linear(_dP(info), info, transpose_w=True)),
        (*BIAS_NOT_SUMMED, _linear(_dP(info), info, sum_bias=False)),
    ]


def network_mistakes(info, weights):
    return [
        (*MISSING_FACTOR_2, _network(_dP(info, factor=1), info, weights)),
        (*EXTRA_FACTOR_2, _network(_dP(info, factor=4), info, weights)),
        (*MEAN_NOT_SUM, _network(_dP(info, mean=True), info, weights)),
        (*WRONG_SIGN, _network(_dP(info, sign=1), info, weights)),
        (*TRANSPOSED, _network(_dP(info), info, weights, transpose_w=True)),
        (*B1_COLLAPSED, _network(_dP(info), info, weights, collapse_b1=True)),
        (*SIGMA_ON_OUTPUT, _network(_dP(info), info, weights, sigma_on_output=True)),
        (*SIGMA_ONE_MINUS_INPUT, _network(_dP(info), info, weights, one_minus_input=True)),
    ]


# The values checks judge numbers whatever their shape: a slip that only changes a shape is not theirs.

def linear_value_mistakes(info, weights):
    """linear_mistakes without the transposed W: a (1, k) row holds the right numbers in the wrong shape."""
    return [slip for slip in linear_mistakes(info, weights) if slip[0] != TRANSPOSED[0]]


def linear_shape_mistakes(info, weights):
    """The slips that give a gradient the wrong shape (the shapes check's business)."""
    right = _linear(_dP(info), info)
    return [
        (*TRANSPOSED, _linear(_dP(info), info, transpose_w=True)),
        (*BIAS_NOT_SUMMED, _linear(_dP(info), info, sum_bias=False)),
        (*KEEPDIMS_MISSING, _dropped_axis(right)),
        (*NOT_FLOAT64, {key: value.astype(np.float32) for key, value in right.items()}),
    ]


def network_shape_mistakes(info, weights):
    """The slips that give a network gradient the wrong shape; the B1 collapse as the book writes it, one number."""
    dP = _dP(info)
    right = _network(dP, info, weights)
    per_row = dict(right, B2=dP, B1=(dP @ weights["W2"].T) * info["O1"] * (1 - info["O1"]))
    return [
        (*TRANSPOSED, _network(dP, info, weights, transpose_w=True)),
        (*BIAS_NOT_SUMMED, per_row),
        (*KEEPDIMS_MISSING, _dropped_axis(right)),
        (*B1_COLLAPSED, dict(right, B1=np.float64(right["B1"].sum()))),
        (*NOT_FLOAT64, {key: value.astype(np.float32) for key, value in right.items()}),
    ]
