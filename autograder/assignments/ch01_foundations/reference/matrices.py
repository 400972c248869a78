"""Chapter 1, part 2: functions of several inputs and of matrices, forward and backward."""
import numpy as np

from .derivatives import exact_slope


def multiple_inputs_add(x, y, sigma):
    """s = sigma(x + y) for x and y of the same shape."""
    if np.shape(x) != np.shape(y):
        raise ValueError(f"x has shape {np.shape(x)} and y has shape {np.shape(y)}: they must be the same")
    return sigma(x + y)


def multiple_inputs_add_backward(x, y, sigma, slope=exact_slope):
    """(ds/dx, ds/dy) for s = sigma(x + y): sigma'(a) times da/dx = 1 and da/dy = 1, a = x + y."""
    a = x + y
    ds_da = slope(sigma)(a)
    return ds_da * np.ones_like(x), ds_da * np.ones_like(y)


def matmul_forward(X, W):
    """N = XW; a ValueError when the shapes do not fit."""
    if X.ndim != 2 or W.ndim != 2 or X.shape[1] != W.shape[0]:
        raise ValueError(f"X has shape {X.shape} and W has shape {W.shape}: X needs as many columns as W has rows")
    return X @ W


def matmul_backward_first(X, W, dL_dN):
    """dL/dX for N = XW, given dL/dN (N's shape): dL/dN W^T, X's shape."""
    return dL_dN @ W.T


def matrix_function_forward(X, W, sigma):
    """S = sigma(XW)."""
    return sigma(X @ W)


def matrix_function_backward_1(X, W, sigma, slope=exact_slope):
    """dS/dX for S = sigma(XW), X one row (1, n) and W one column (n, 1), so S is one number:
    sigma'(N) times dN/dX = W^T, shape (1, n)."""
    N = X @ W
    return slope(sigma)(N) @ W.T


def matrix_function_forward_sum(X, W, sigma):
    """L = the sum of the entries of sigma(XW), as a float."""
    return float(np.sum(sigma(X @ W)))


def matrix_function_backward_sum_1(X, W, sigma, slope=exact_slope):
    """dL/dX for L = sum(sigma(XW)): dL/dS = 1 everywhere, dL/dN = dL/dS * sigma'(N), dL/dX = dL/dN W^T."""
    N = X @ W
    S = sigma(N)
    dL_dS = np.ones_like(S)
    dL_dN = dL_dS * slope(sigma)(N)
    return dL_dN @ W.T
