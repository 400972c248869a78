"""The book's own computations, where they differ from the course's: to reproduce the numbers printed
in Weidman 2019, ch. 1, and in its official notebook (SethHWeidman/DLFS_code, 01_foundations/Code.ipynb),
and to show its quirks. Our code, the book's arithmetic.
"""
import numpy as np

from .derivatives import centred_slope, deriv
from .matrices import matrix_function_forward, matrix_function_forward_sum


def seed_190203():
    """The official notebook's single-row case: np.random.seed(190203), X (1, 3) then W (3, 1)."""
    np.random.seed(190203)
    X = np.random.randn(1, 3)
    W = np.random.randn(3, 1)
    return X, W


def seed_190204():
    """The book's matrix case: np.random.seed(190204), X (3, 3) then W (3, 2)."""
    np.random.seed(190204)
    X = np.random.randn(3, 3)
    W = np.random.randn(3, 2)
    return X, W


def backward_1_by_deriv(X, W, sigma):
    """The book's dS/dX for S = sigma(XW), with sigma' estimated by deriv (delta 0.001)."""
    N = X @ W
    return np.dot(deriv(sigma, N), W.T)


def backward_sum_as_printed(X, W, sigma):
    """The official notebook's dL/dX for L = sum(sigma(XW)): it forms dL/dN = dL/dS * dS/dN but then
    multiplies dS/dN, not dL/dN, by W^T. Right only because dL/dS is all ones."""
    N = X @ W
    dS_dN = centred_slope(sigma)(N)
    return np.dot(dS_dN, W.T)


def x11_forward_nudge(X, W, sigma, step=0.001):
    """The book's check of dL/dX[0, 0]: (L(X with x11 + step) - L(X)) / step, a one-sided difference."""
    nudged = X.copy()
    nudged[0, 0] += step
    return (matrix_function_forward_sum(nudged, W, sigma) - matrix_function_forward_sum(X, W, sigma)) / step


def x13_rounded_nudge(X, W, sigma, step=0.01):
    """The official notebook's check of dS/dX[0, 2] for the single-row case: the change in S when x13
    grows by 0.01, rounded to 4 decimals before the division (so the slope has 2 decimals)."""
    nudged = X.copy()
    nudged[0, 2] += step
    change = matrix_function_forward(nudged, W, sigma) - matrix_function_forward(X, W, sigma)
    return np.round(change, 4) / step
