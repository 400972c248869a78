"""Chapter 1, part 1: the centred-difference derivative, and the chain rule."""
import numpy as np

DELTA = 0.001   # the book's step (Weidman 2019, ch. 1)


def deriv(func, input_, delta=DELTA):
    """The centred difference (f(x + delta) - f(x - delta)) / (2 delta), entry by entry."""
    return (func(input_ + delta) - func(input_ - delta)) / (2 * delta)


def _sigmoid(x):
    return np.exp(-np.logaddexp(0.0, -x))


# The exact derivatives of the elementary functions, by name: written here on their own, not taken from
# the kit, so that tests/test_ch01_reference.py can hold the kit's derivative_of against them.
SLOPES = {
    "identity": lambda x: np.ones_like(x, dtype=np.float64),
    "square": lambda x: 2 * x,
    "cube": lambda x: 3 * x ** 2,
    "relu": lambda x: (x > 0).astype(np.float64),
    "leaky_relu": lambda x: np.where(x > 0, 1.0, 0.2),
    "sigmoid": lambda x: _sigmoid(x) * _sigmoid(-x),
    "sin": np.cos,
    "cos": lambda x: -np.sin(x),
    "tanh": lambda x: 1 / np.cosh(x) ** 2,
    "exp": np.exp,
}


def exact_slope(function):
    """The exact derivative of a named elementary function (the grader's Fn, or a function of that name)."""
    return SLOPES[function.__name__]


def centred_slope(function, delta=DELTA):
    """The book's way: the derivative estimated with deriv."""
    return lambda x: deriv(function, x, delta)


def chain_deriv_2(chain, input_range, slope=exact_slope):
    """d/dx f2(f1(x)) = f2'(f1(x)) * f1'(x), entry by entry, for chain = [f1, f2]."""
    f1, f2 = chain
    inner = f1(input_range)
    return slope(f2)(inner) * slope(f1)(input_range)


def chain_deriv_3(chain, input_range, slope=exact_slope):
    """d/dx f3(f2(f1(x))) = f3'(f2(f1(x))) * f2'(f1(x)) * f1'(x), entry by entry, for chain = [f1, f2, f3]."""
    f1, f2, f3 = chain
    u1 = f1(input_range)
    u2 = f2(u1)
    return slope(f3)(u2) * slope(f2)(u1) * slope(f1)(input_range)
