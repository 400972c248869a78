"""Chapter 2, part 1: linear regression as a computational graph, forward and backward."""
import numpy as np

LEARNING_RATE = 0.001   # the book's; with the gradient of L (the sum of squared errors) every update equals the book's
ITERATIONS = 1000
BATCH_SIZE = 23
SEED = 180708


def require_column_target(X_batch, y_batch):
    if X_batch.ndim != 2 or y_batch.ndim != 2 or y_batch.shape != (X_batch.shape[0], 1):
        raise ValueError(f"X_batch must be (n, k) and y_batch (n, 1); got X_batch {X_batch.shape} "
                         f"and y_batch {y_batch.shape}")


def forward_linear_regression(X_batch, y_batch, weights):
    require_column_target(X_batch, y_batch)
    if weights["W"].shape != (X_batch.shape[1], 1) or weights["B"].shape != (1, 1):
        raise ValueError(f"W must be ({X_batch.shape[1]}, 1) and B (1, 1); got W {weights['W'].shape} "
                         f"and B {weights['B'].shape}")
    N = X_batch @ weights["W"]
    P = N + weights["B"]
    mse = np.mean((y_batch - P) ** 2)     # reported: L / n, L the sum of squared errors
    return mse, {"X": X_batch, "N": N, "P": P, "y": y_batch}


def loss_gradients(forward_info, weights):
    """The gradients of L, the batch's sum of squared errors (not of the MSE the forward pass reports)."""
    dL_dP = -2 * (forward_info["y"] - forward_info["P"])
    dL_dN = dL_dP * np.ones_like(forward_info["N"])
    return {"W": forward_info["X"].T @ dL_dN, "B": dL_dP.sum(axis=0, keepdims=True)}


def update_weights(weights, grads, learning_rate):
    return {key: weights[key] - learning_rate * grads[key] for key in weights}


def predict(X, weights):
    return X @ weights["W"] + weights["B"]


def mae(preds, actuals):
    return float(np.mean(np.abs(preds - actuals)))


def rmse(preds, actuals):
    return float(np.sqrt(np.mean((preds - actuals) ** 2)))


def init_weights(n_in):
    return {"W": np.random.randn(n_in, 1), "B": np.random.randn(1, 1)}
