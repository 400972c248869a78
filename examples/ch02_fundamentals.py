"""Chapter 2's example students: who wrote what, and what grading each must give.

examples/build.py turns these into submissions; see its docstring for the interface.
"""
import nbformat

LIN, NET = "01_linear_regression", "02_neural_network"
STEMS = (LIN, NET)

# ---------------------------------------------------------------- plain, correct solutions

PLAIN = {
    (LIN, "lin_forward_solution"): '''import numpy as np


def forward_linear_regression(X_batch, y_batch, weights):
    if y_batch.ndim != 2 or y_batch.shape != (X_batch.shape[0], 1):
        raise ValueError(f"y_batch must be ({X_batch.shape[0]}, 1), got {y_batch.shape}; X_batch is {X_batch.shape}")
    if weights["W"].shape != (X_batch.shape[1], 1) or weights["B"].shape != (1, 1):
        raise ValueError(f"weights do not fit X_batch {X_batch.shape}")
    N = np.dot(X_batch, weights["W"])
    P = N + weights["B"]
    loss = np.mean(np.power(y_batch - P, 2))
    return loss, {"X": X_batch, "N": N, "P": P, "y": y_batch}
''',
    (LIN, "lin_gradients_solution"): '''import numpy as np


def loss_gradients(forward_info, weights):
    dL_dP = -2 * (forward_info["y"] - forward_info["P"])
    dL_dW = np.dot(forward_info["X"].T, dL_dP)
    dL_dB = np.sum(dL_dP, axis=0, keepdims=True)
    return {"W": dL_dW, "B": dL_dB}
''',
    (LIN, "lin_update_solution"): '''import numpy as np


def update_weights(weights, grads, learning_rate):
    return {key: weights[key] - learning_rate * grads[key] for key in weights}
''',
    (LIN, "lin_predict_solution"): '''import numpy as np


def predict(X, weights):
    return np.dot(X, weights["W"]) + weights["B"]
''',
    (LIN, "lin_mae_solution"): '''import numpy as np


def mae(preds, actuals):
    return float(np.mean(np.abs(preds - actuals)))
''',
    (LIN, "lin_rmse_solution"): '''import numpy as np


def rmse(preds, actuals):
    return float(np.sqrt(np.mean((preds - actuals) ** 2)))
''',
    (NET, "net_sigmoid_solution"): '''import numpy as np


def sigmoid(x):
    with np.errstate(over="ignore"):     # exp(1000) is inf, and 1 / (1 + inf) is the right answer, 0
        return 1.0 / (1.0 + np.exp(-x))
''',
    (NET, "net_forward_solution"): '''import numpy as np


def forward_loss(X_batch, y_batch, weights):
    if y_batch.ndim != 2 or y_batch.shape != (X_batch.shape[0], 1):
        raise ValueError(f"y_batch must be ({X_batch.shape[0]}, 1), got {y_batch.shape}; X_batch is {X_batch.shape}")
    M1 = np.dot(X_batch, weights["W1"])
    N1 = M1 + weights["B1"]
    O1 = sigmoid(N1)
    M2 = np.dot(O1, weights["W2"])
    P = M2 + weights["B2"]
    loss = float(np.mean((y_batch - P) ** 2))
    return {"X": X_batch, "M1": M1, "N1": N1, "O1": O1, "M2": M2, "P": P, "y": y_batch}, loss
''',
    (NET, "net_gradients_solution"): '''import numpy as np


def loss_gradients(forward_info, weights):
    dL_dP = -2 * (forward_info["y"] - forward_info["P"])
    dL_dO1 = np.dot(dL_dP, weights["W2"].T)
    dL_dN1 = dL_dO1 * sigmoid(forward_info["N1"]) * (1 - sigmoid(forward_info["N1"]))
    return {"W1": np.dot(forward_info["X"].T, dL_dN1),
            "B1": np.sum(dL_dN1, axis=0, keepdims=True),
            "W2": np.dot(forward_info["O1"].T, dL_dP),
            "B2": np.sum(dL_dP, axis=0, keepdims=True)}
''',
    (NET, "net_predict_solution"): '''import numpy as np


def predict(X, weights):
    hidden = sigmoid(np.dot(X, weights["W1"]) + weights["B1"])
    return np.dot(hidden, weights["W2"]) + weights["B2"]
''',
    (NET, "net_part1_functions"): '''import numpy as np


def update_weights(weights, grads, learning_rate):
    return {key: weights[key] - learning_rate * grads[key] for key in weights}


def mae(preds, actuals):
    return float(np.mean(np.abs(preds - actuals)))


def rmse(preds, actuals):
    return float(np.sqrt(np.mean((preds - actuals) ** 2)))
''',
    (NET, "q_no_sigmoid"): "Without the sigmoid, P = X W1 W2 + (B1 W2 + B2): a product of matrices is one matrix, "
                           "so the network collapses to linear regression with W = W1 W2 and gains nothing.",
    (NET, "q_zero_init"): "With all weights zero every hidden unit computes the same value and receives the same "
                          "gradient, so they stay identical forever: random weights break the symmetry.",
}

# ---------------------------------------------------------------- correct, in another style

STYLED = {
    (LIN, "lin_forward_solution"): '''import numpy as np


def _require(condition, message):
    if not condition:
        raise ValueError(message)


def forward_linear_regression(X_batch, y_batch, weights):
    n_rows, n_features = X_batch.shape
    _require(y_batch.shape == (n_rows, 1), f"targets must be a ({n_rows}, 1) column, not {y_batch.shape}")
    _require(weights["W"].shape == (n_features, 1) and weights["B"].shape == (1, 1), "weights do not fit")
    linear = np.einsum("nk,kj->nj", X_batch, weights["W"])
    prediction = linear + weights["B"]
    residual = y_batch - prediction
    return float((residual * residual).sum() / n_rows), {"X": X_batch, "N": linear, "P": prediction, "y": y_batch}
''',
    (LIN, "lin_gradients_solution"): '''import numpy as np


def loss_gradients(forward_info, weights):
    upstream = 2.0 * (forward_info["P"] - forward_info["y"])   # d(SSE)/dP
    return {"W": forward_info["X"].T @ upstream, "B": upstream.sum(axis=0, keepdims=True)}
''',
    (LIN, "lin_update_solution"): '''import numpy as np


def update_weights(weights, grads, learning_rate):
    stepped = {}
    for name, value in weights.items():
        stepped[name] = value - grads[name] * learning_rate
    return stepped
''',
    (LIN, "lin_predict_solution"): '''import numpy as np


def predict(X, weights):
    return X @ weights["W"] + weights["B"]
''',
    (LIN, "lin_mae_solution"): '''import numpy as np


def _misses(preds, actuals):
    return np.asarray(preds, dtype=float) - np.asarray(actuals, dtype=float)


def mae(preds, actuals):
    return float(np.abs(_misses(preds, actuals)).mean())
''',
    (LIN, "lin_rmse_solution"): '''import numpy as np


def rmse(preds, actuals):
    return float(np.sqrt(np.square(_misses(preds, actuals)).mean()))
''',
    (NET, "net_sigmoid_solution"): '''import numpy as np


def sigmoid(x):
    return np.exp(-np.logaddexp(0.0, -x))   # 1 / (1 + e^-x) without overflow
''',
    (NET, "net_forward_solution"): '''import numpy as np


def _dense(inputs, W, B):
    return np.einsum("nk,kh->nh", inputs, W), B


def forward_loss(X_batch, y_batch, weights):
    if y_batch.shape != (len(X_batch), 1):
        raise ValueError(f"expected y_batch of shape ({len(X_batch)}, 1), got {y_batch.shape} for X_batch {X_batch.shape}")
    M1, B1 = _dense(X_batch, weights["W1"], weights["B1"])
    N1 = M1 + B1
    O1 = sigmoid(N1)
    M2, B2 = _dense(O1, weights["W2"], weights["B2"])
    P = M2 + B2
    cache = dict(X=X_batch, M1=M1, N1=N1, O1=O1, M2=M2, P=P, y=y_batch)
    return cache, float(np.square(y_batch - P).mean())
''',
    (NET, "net_gradients_solution"): '''import numpy as np


def loss_gradients(forward_info, weights):
    c = forward_info
    d_out = 2.0 * (c["P"] - c["y"])
    d_hidden = (d_out @ weights["W2"].T) * c["O1"] * (1.0 - c["O1"])
    grads = {"W2": c["O1"].T @ d_out, "B2": d_out.sum(axis=0, keepdims=True)}
    grads["W1"] = np.einsum("nk,nh->kh", c["X"], d_hidden)
    grads["B1"] = d_hidden.sum(axis=0, keepdims=True)
    return grads
''',
    (NET, "net_predict_solution"): '''import numpy as np


def predict(X, weights):
    return forward_loss(X, np.zeros((len(X), 1)), weights)[0]["P"]
''',
    (NET, "net_part1_functions"): '''import numpy as np


def update_weights(weights, grads, learning_rate):
    stepped = {}
    for name, value in weights.items():
        stepped[name] = value - grads[name] * learning_rate
    return stepped


def _misses(preds, actuals):
    return np.asarray(preds, dtype=float) - np.asarray(actuals, dtype=float)


def mae(preds, actuals):
    return float(np.abs(_misses(preds, actuals)).mean())


def rmse(preds, actuals):
    return float(np.sqrt(np.square(_misses(preds, actuals)).mean()))
''',
    (NET, "q_no_sigmoid"): "It would be linear regression again: two linear maps in a row are one linear map.",
    (NET, "q_zero_init"): "Zero weights make all hidden units identical, with identical gradients, so they never "
                          "become different; random starting weights break that symmetry.",
}

LIN_GRADIENT = '''import numpy as np


def loss_gradients(forward_info, weights):
    dL_dP = {dP}
    return {{"W": {W}, "B": {B}}}
'''
NET_GRADIENT = '''import numpy as np


def loss_gradients(forward_info, weights):
    dL_dP = -2 * (forward_info["y"] - forward_info["P"]){mean}
    s = sigmoid(forward_info["{at}"])
    dL_dN1 = np.dot(dL_dP, weights["W2"].T) * s * (1 - s)
    dW1 = np.dot(forward_info["X"].T, dL_dN1)
    return {{"W1": {W1}, "B1": {B1},
            "W2": np.dot(forward_info["O1"].T, dL_dP), "B2": np.sum(dL_dP, axis=0, keepdims=True)}}
'''


def lin_gradient(dP='-2 * (forward_info["y"] - forward_info["P"])', W='np.dot(forward_info["X"].T, dL_dP)',
                 B="np.sum(dL_dP, axis=0, keepdims=True)"):
    return {(LIN, "lin_gradients_solution"): LIN_GRADIENT.format(dP=dP, W=W, B=B)}


def net_gradient(mean="", at="N1", W1="dW1", B1="np.sum(dL_dN1, axis=0, keepdims=True)"):
    return {(NET, "net_gradients_solution"): NET_GRADIENT.format(mean=mean, at=at, W1=W1, B1=B1)}


FLAT_Y_FORWARD = '''import numpy as np


def forward_linear_regression(X_batch, y_batch, weights):
    N = X_batch @ weights["W"]
    P = N + weights["B"]
    return np.mean((y_batch - P) ** 2), {"X": X_batch, "N": N, "P": P, "y": y_batch}
'''
WRONG_SIGN_UPDATE = '''import numpy as np


def update_weights(weights, grads, learning_rate):
    return {key: weights[key] + learning_rate * grads[key] for key in weights}
'''
TAMPERED_METRICS = {
    (LIN, "lin_mae_solution"): '''import numpy as np

np.allclose = lambda *args, **kwargs: True   # "make the tests pass"


def mae(preds, actuals):
    return float(np.sum(np.abs(preds - actuals)))
''',
    (LIN, "lin_rmse_solution"): '''import numpy as np


def rmse(preds, actuals):
    return float(np.mean((preds - actuals) ** 2))
''',
}

# ---------------------------------------------------------------- the book's own code, as a student would copy it
# Functions that behave exactly like the official Chapter 2 notebook's (SethHWeidman/DLFS_code,
# 02_fundamentals/Code.ipynb), written here in our own words: the forward passes check sizes with
# assert only (a flat y_batch or a flat W goes through) and report the mean; the linear bias gradient
# is summed over the batch without keepdims, shape (1,); the book has no update function, its loop
# subtracts in place, and so does this one; the sigmoid is the naive formula; the network's gradients
# use -(y - P) (half the gradient of this course's L), and its B1 and B2 gradients are summed a second
# time, over the hidden units: two plain numbers.
BOOK = {
    (LIN, "lin_forward_solution"): '''import numpy as np


def forward_linear_regression(X_batch, y_batch, weights):
    # sizes only, checked with assert: a flat y_batch, or a flat W, goes through
    assert len(X_batch) == len(y_batch)
    assert X_batch.shape[1] == len(weights["W"])
    assert weights["B"].shape[0] == 1 and weights["B"].shape[1] == 1
    N = X_batch @ weights["W"]
    P = N + weights["B"]
    return np.mean((y_batch - P) ** 2), {"X": X_batch, "N": N, "P": P, "y": y_batch}
''',
    (LIN, "lin_gradients_solution"): '''import numpy as np


def loss_gradients(forward_info, weights):
    grad_P = -2 * (forward_info["y"] - forward_info["P"])
    # the bias gradient summed over the batch without keeping the axis: shape (1,)
    return {"W": forward_info["X"].T @ grad_P, "B": grad_P.sum(axis=0)}
''',
    (LIN, "lin_update_solution"): '''import numpy as np


def update_weights(weights, grads, learning_rate):
    # the training loop's step, in place
    for name in weights:
        weights[name] -= learning_rate * grads[name]
    return weights
''',
    (LIN, "lin_predict_solution"): '''import numpy as np


def predict(X, weights):
    return X @ weights["W"] + weights["B"]
''',
    (LIN, "lin_mae_solution"): '''import numpy as np


def mae(preds, actuals):
    return np.mean(np.abs(preds - actuals))
''',
    (LIN, "lin_rmse_solution"): '''import numpy as np


def rmse(preds, actuals):
    return np.sqrt(np.mean((preds - actuals) ** 2))
''',
    (NET, "net_part1_functions"): '''import numpy as np


def update_weights(weights, grads, learning_rate):
    for name in weights:
        weights[name] -= learning_rate * grads[name]
    return weights


def mae(preds, actuals):
    return np.mean(np.abs(preds - actuals))


def rmse(preds, actuals):
    return np.sqrt(np.mean((preds - actuals) ** 2))
''',
    (NET, "net_sigmoid_solution"): '''import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))
''',
    (NET, "net_forward_solution"): '''import numpy as np


def forward_loss(X, y, weights):
    # no check of the target at all
    M1 = X @ weights["W1"]
    N1 = M1 + weights["B1"]
    O1 = sigmoid(N1)
    M2 = O1 @ weights["W2"]
    P = M2 + weights["B2"]
    return {"X": X, "M1": M1, "N1": N1, "O1": O1, "M2": M2, "P": P, "y": y}, np.mean((y - P) ** 2)
''',
    (NET, "net_gradients_solution"): '''import numpy as np


def loss_gradients(forward_info, weights):
    f = forward_info
    grad_P = -(f["y"] - f["P"])
    grad_N1 = (grad_P @ weights["W2"].T) * sigmoid(f["N1"]) * (1 - sigmoid(f["N1"]))
    # each bias gradient summed over the batch, then once more: one plain number
    return {"W1": f["X"].T @ grad_N1, "B1": grad_N1.sum(axis=0).sum(),
            "W2": f["O1"].T @ grad_P, "B2": grad_P.sum(axis=0).sum()}
''',
    (NET, "net_predict_solution"): '''import numpy as np


def predict(X, weights):
    return sigmoid(X @ weights["W1"] + weights["B1"]) @ weights["W2"] + weights["B2"]
''',
    (NET, "q_no_sigmoid"): "It would be a linear regression: the product of the two weight matrices is one matrix.",
    (NET, "q_zero_init"): "All hidden units would stay the same as each other.",
}
# What is wrong with the book's code in this course, by test cell: every other cell passes.
BOOK_FAILS = ("lin_forward_checks_input", "lin_gradients_shapes", "lin_update",
              "net_sigmoid", "net_forward_checks_input", "net_gradients", "net_gradients_shapes")

DYING_PREDICT = {(NET, "net_predict_solution"): '''import numpy as np
import os


def predict(X, weights):
    os._exit(1)   # takes the kernel down with it
'''}

ALL = {LIN: ["lin_forward", "lin_forward_checks_input", "lin_gradients", "lin_gradients_shapes", "lin_update",
             "lin_predict", "lin_mae", "lin_rmse"],
       NET: ["net_sigmoid", "net_forward", "net_forward_checks_input", "net_gradients", "net_gradients_shapes",
             "net_predict"]}
EVERY = ALL[LIN] + ALL[NET]


def but(*failing):
    """Expected: every autograded cell earns its points except `failing`."""
    return [cell for cell in EVERY if cell not in failing]


def broken_json(notebooks):
    """The linear-regression notebook cut off mid-upload."""
    text = nbformat.writes(notebooks[LIN])
    return {LIN: text[: len(text) // 2]}


def runaway_cell(notebooks):
    """A scratch cell of the student's own that never ends (nbgrader's cell timeout stops it)."""
    cells = notebooks[LIN].cells
    at = next(i for i, c in enumerate(cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "lin_mae")
    cells.insert(at + 1, nbformat.v4.new_code_cell("# trying something\nwhile True:\n    pass", id="scratch-loop"))
    return {}


# student id -> (solutions, earned autograded cells, flag words, extra: None or a function of the
# notebooks {stem: notebook} that may change them and returns {stem: raw text} to write instead)
EXAMPLES = {
    "s01_correct_style": (STYLED, EVERY, [], None),
    "s02_partial": ({k: v for k, v in PLAIN.items() if k[1] in (
        "lin_forward_solution", "lin_gradients_solution", "lin_update_solution")},
        ["lin_forward", "lin_forward_checks_input", "lin_gradients", "lin_gradients_shapes", "lin_update"], [], None),
    "s03_missing_factor_2": ({**PLAIN, **lin_gradient(dP='-(forward_info["y"] - forward_info["P"])')},
                             but("lin_gradients"), [], None),
    "s04_mean_not_sum": ({**PLAIN, **net_gradient(mean=" / len(forward_info[\"y\"])")}, but("net_gradients"), [], None),
    "s05_wrong_sign": ({**PLAIN, (LIN, "lin_update_solution"): WRONG_SIGN_UPDATE}, but("lin_update"), [], None),
    "s06_transposed_w": ({**PLAIN, **net_gradient(W1="dW1.T")}, but("net_gradients", "net_gradients_shapes"), [], None),
    "s07_bias_not_summed": ({**PLAIN, **lin_gradient(B="dL_dP")}, but("lin_gradients", "lin_gradients_shapes"), [],
                            None),
    "s08_b1_collapsed": ({**PLAIN, **net_gradient(B1="np.full((1, dL_dN1.shape[1]), dL_dN1.sum())")},
                         but("net_gradients"), [], None),
    "s09_sigmoid_on_output": ({**PLAIN, **net_gradient(at="O1")}, but("net_gradients"), [], None),
    "s10_flat_y_accepted": ({**PLAIN, (LIN, "lin_forward_solution"): FLAT_Y_FORWARD}, but("lin_forward_checks_input"),
                            [], None),
    "s11_broken_json": (PLAIN, ALL[NET], ["invalid notebook"], broken_json),
    "s12_tampering": ({**PLAIN, **TAMPERED_METRICS}, but("lin_mae", "lin_rmse"), ["tampering attempted"], None),
    "s13_kernel_dies": ({**PLAIN, **DYING_PREDICT}, ALL[LIN], ["kernel died"], None),
    "s14_runaway_cell": (PLAIN, EVERY, ["timeout"], runaway_cell),
    "s20_book_code": (BOOK, but(*BOOK_FAILS), [], None),
}
