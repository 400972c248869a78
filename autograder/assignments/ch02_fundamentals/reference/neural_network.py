"""Chapter 2, part 2: a one-hidden-layer sigmoid network, forward and backward."""
import numpy as np

from .linear_regression import mae, require_column_target, rmse, update_weights  # noqa: F401

LEARNING_RATE = 0.0005  # the book's 0.001 was for dL/dP = -(y - P); ours is -2 (y - P)
ITERATIONS = 10_000
BATCH_SIZE = 23
HIDDEN_SIZE = 13
SEED = 180807


def sigmoid(x):
    """1 / (1 + exp(-x)), entry by entry, without overflow: for x < 0 the same number is e^x / (1 + e^x),
    so np.exp only ever sees -|x| (a naive version warns, and nbgrader fails the cell, below about -709)."""
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + z), z / (1 + z))


def forward_loss(X_batch, y_batch, weights):
    require_column_target(X_batch, y_batch)
    M1 = X_batch @ weights["W1"]
    N1 = M1 + weights["B1"]
    O1 = sigmoid(N1)
    M2 = O1 @ weights["W2"]
    P = M2 + weights["B2"]
    mse = np.mean((y_batch - P) ** 2)     # reported: L / n, L the sum of squared errors
    return {"X": X_batch, "M1": M1, "N1": N1, "O1": O1, "M2": M2, "P": P, "y": y_batch}, mse


def loss_gradients(forward_info, weights):
    """The gradients of L, the batch's sum of squared errors (not of the MSE the forward pass reports)."""
    dL_dP = -2 * (forward_info["y"] - forward_info["P"])
    dL_dO1 = dL_dP @ weights["W2"].T
    dL_dN1 = dL_dO1 * sigmoid(forward_info["N1"]) * (1 - sigmoid(forward_info["N1"]))
    return {
        "W1": forward_info["X"].T @ dL_dN1,
        "B1": dL_dN1.sum(axis=0, keepdims=True),
        "W2": forward_info["O1"].T @ dL_dP,
        "B2": dL_dP.sum(axis=0, keepdims=True),
    }


def predict(X, weights):
    return sigmoid(X @ weights["W1"] + weights["B1"]) @ weights["W2"] + weights["B2"]


def init_weights(n_in, hidden_size=HIDDEN_SIZE):
    return {"W1": np.random.randn(n_in, hidden_size), "B1": np.random.randn(1, hidden_size),
            "W2": np.random.randn(hidden_size, 1), "B2": np.random.randn(1, 1)}
