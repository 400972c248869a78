"""Chapter 1's example students: who wrote what, and what grading each must give.

examples/build.py turns these into submissions; see its docstring for the interface. Five students:
one correct in a style of its own (its chain rule takes the links' derivatives from its own deriv, the
book's way, which the hidden tests' cases allow), one who stopped half-way, and three with a typical
Chapter 1 slip each. s15's slip is in deriv only: it must lose deriv's points and nothing else.
"""
FUN, MAT = "01_functions_and_derivatives", "02_several_inputs_and_matrices"
STEMS = (FUN, MAT)

# ---------------------------------------------------------------- plain, correct solutions

PLAIN = {
    (FUN, "deriv_solution"): '''import numpy as np


def deriv(func, input_, delta=0.001):
    return (func(input_ + delta) - func(input_ - delta)) / (2 * delta)
''',
    (FUN, "chain2_solution"): '''import numpy as np


def chain_deriv_2(chain, input_range):
    f1, f2 = chain
    return derivative_of(f2)(f1(input_range)) * derivative_of(f1)(input_range)
''',
    (FUN, "chain3_solution"): '''import numpy as np


def chain_deriv_3(chain, input_range):
    f1, f2, f3 = chain
    u1 = f1(input_range)
    u2 = f2(u1)
    return derivative_of(f3)(u2) * derivative_of(f2)(u1) * derivative_of(f1)(input_range)
''',
    (MAT, "add_forward_solution"): '''import numpy as np


def multiple_inputs_add(x, y, sigma):
    if x.shape != y.shape:
        raise ValueError(f"x {x.shape} and y {y.shape} differ")
    return sigma(x + y)
''',
    (MAT, "add_backward_solution"): '''import numpy as np


def multiple_inputs_add_backward(x, y, sigma):
    ds_da = derivative_of(sigma)(x + y)
    return ds_da * 1.0, ds_da * 1.0
''',
    (MAT, "matmul_forward_solution"): '''import numpy as np


def matmul_forward(X, W):
    if X.shape[1] != W.shape[0]:
        raise ValueError(f"X {X.shape} and W {W.shape} do not fit")
    return np.dot(X, W)
''',
    (MAT, "matmul_backward_x_solution"): '''import numpy as np


def matmul_backward_first(X, W, dL_dN):
    return np.dot(dL_dN, W.T)
''',
    (MAT, "sigma_xw_backward_solution"): '''import numpy as np


def matrix_function_backward_1(X, W, sigma):
    N = np.dot(X, W)
    return np.dot(derivative_of(sigma)(N), W.T)
''',
    (MAT, "sum_backward_solution"): '''import numpy as np


def matrix_function_backward_sum_1(X, W, sigma):
    N = np.dot(X, W)
    dL_dN = np.ones_like(N) * derivative_of(sigma)(N)
    return np.dot(dL_dN, W.T)
''',
}

# ---------------------------------------------------------------- correct, in another style

STYLED = {
    (FUN, "deriv_solution"): '''import numpy as np


def deriv(func, input_, delta=0.001):
    """Centred difference."""
    ahead, behind = func(input_ + delta), func(input_ - delta)
    return 0.5 * (ahead - behind) / delta
''',
    (FUN, "chain2_solution"): '''import numpy as np


def chain_deriv_2(chain, input_range):
    # the book's way: every link's derivative estimated with my own deriv
    inner, outer = chain
    return deriv(outer, inner(input_range)) * deriv(inner, input_range)
''',
    (FUN, "chain3_solution"): '''import numpy as np


def chain_deriv_3(chain, input_range):
    product, value = np.ones_like(input_range), input_range
    for link in chain:
        product = product * deriv(link, value)
        value = link(value)
    return product
''',
    (MAT, "add_forward_solution"): '''import numpy as np


def multiple_inputs_add(x, y, sigma):
    if np.shape(x) != np.shape(y):
        raise ValueError("shapes differ: " + str(np.shape(x)) + " and " + str(np.shape(y)))
    return sigma(np.add(x, y))
''',
    (MAT, "add_backward_solution"): '''import numpy as np


def multiple_inputs_add_backward(x, y, sigma):
    slope = derivative_of(sigma)
    a = np.add(x, y)
    return slope(a) * np.ones_like(x), slope(a) * np.ones_like(y)
''',
    (MAT, "matmul_forward_solution"): '''import numpy as np


def matmul_forward(X, W):
    rows, inner = X.shape
    if W.shape[0] != inner:
        raise ValueError(f"cannot multiply {X.shape} by {W.shape}")
    return np.einsum("ij,jk->ik", X, W)
''',
    (MAT, "matmul_backward_x_solution"): '''import numpy as np


def matmul_backward_first(X, W, dL_dN):
    grad = np.zeros(X.shape)
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            grad[i, j] = np.sum(dL_dN[i, :] * W[j, :])
    return grad
''',
    (MAT, "sigma_xw_backward_solution"): '''import numpy as np


def matrix_function_backward_1(X, W, sigma):
    N = matmul_forward(X, W)
    return matmul_backward_first(X, W, derivative_of(sigma)(N))
''',
    (MAT, "sum_backward_solution"): '''import numpy as np


def matrix_function_backward_sum_1(X, W, sigma):
    N = X @ W
    dL_dS = np.ones(N.shape)
    return np.einsum("ik,jk->ij", dL_dS * derivative_of(sigma)(N), W)
''',
}

ONE_SIDED_DERIV = {(FUN, "deriv_solution"): '''import numpy as np


def deriv(func, input_, delta=0.001):
    return (func(input_ + delta) - func(input_)) / delta
'''}

OUTER_AT_X = {
    (FUN, "chain2_solution"): '''import numpy as np


def chain_deriv_2(chain, input_range):
    f1, f2 = chain
    return derivative_of(f2)(input_range) * derivative_of(f1)(input_range)
''',
    (FUN, "chain3_solution"): '''import numpy as np


def chain_deriv_3(chain, input_range):
    f1, f2, f3 = chain
    return derivative_of(f3)(input_range) * derivative_of(f2)(input_range) * derivative_of(f1)(input_range)
''',
}

W_NOT_TRANSPOSED = {
    (MAT, "matmul_backward_x_solution"): '''import numpy as np


def matmul_backward_first(X, W, dL_dN):
    return dL_dN @ W
''',
    (MAT, "sum_backward_solution"): '''import numpy as np


def matrix_function_backward_sum_1(X, W, sigma):
    N = X @ W
    return (np.ones_like(N) * derivative_of(sigma)(N)) @ W
''',
}

ALL = {FUN: ["deriv", "chain2", "chain3"],
       MAT: ["add_forward", "add_backward", "matmul_forward", "matmul_backward_x", "sigma_xw_backward",
             "sum_backward"]}
EVERY = ALL[FUN] + ALL[MAT]


def but(*failing):
    """Expected: every autograded cell earns its points except `failing`."""
    return [cell for cell in EVERY if cell not in failing]


# student id -> (solutions, earned autograded cells, flag words, extra)
EXAMPLES = {
    "s01_correct_style": (STYLED, EVERY, [], None),
    "s02_partial": ({k: v for k, v in PLAIN.items() if k[1] in (
        "deriv_solution", "chain2_solution", "add_forward_solution", "matmul_forward_solution")},
        ["deriv", "chain2", "add_forward", "matmul_forward"], [], None),
    "s15_one_sided_deriv": ({**PLAIN, **ONE_SIDED_DERIV}, but("deriv"), [], None),
    "s16_outer_derivative_at_x": ({**PLAIN, **OUTER_AT_X}, but("chain2", "chain3"), [], None),
    "s17_w_not_transposed": ({**PLAIN, **W_NOT_TRANSPOSED}, but("matmul_backward_x", "sum_backward"), [], None),
}
