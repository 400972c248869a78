"""Chapter 1's hidden tests: derivatives and the chain rule (notebook 1), several inputs and matrices
(notebook 2).

Functions travel as the grader's named elementary functions (`Fn("sigmoid")`, ...), so every case is
plain data. Each hidden test judges one exercise through the reference alone:

- deriv is judged against the reference's centred difference, computed the same way: any correct way
  of writing it agrees to within rounding (1e-13 or so), far inside compare.py's rtol of 1e-6;
- the chain rule and the backward passes are judged against exact derivatives: the notebooks tell the
  student to take each link's derivative from coursekit.foundations.derivative_of (exact), so a slip
  in deriv costs deriv's points only. In notebook 1 a student may use their own deriv for the links
  instead: the chains' cases are drawn so that the book's estimate (deriv, delta 0.001) agrees with
  the exact derivative to within half the tolerance (`robust`), so a correct deriv passes as well
  (tests/test_ch01_reference.py proves both, with several styles).

Every case is redrawn until it tells the reference from each slip of mistakes.py listed for it.
"""
import numpy as np

from ...check import Check, Fn, Raises
from ...compare import ATOL, RTOL
from . import mistakes
from .reference import derivatives as der
from .reference import matrices as mat

DERIV_FUNCTIONS = ("square", "cube", "sigmoid", "sin", "cos", "tanh", "exp")
CURVED = ("cube", "sigmoid", "sin", "cos", "tanh", "exp")        # a centred difference depends on its step
CHAIN_FUNCTIONS = ("square", "sigmoid", "leaky_relu", "sin", "cos", "tanh", "exp")
SIGMAS = ("sigmoid", "tanh", "sin", "square", "leaky_relu")
TRIES = 500


# ---------------------------------------------------------------- shared

def close(a, b, margin=1.0):
    """compare.py's rule for arrays of the same shape, with its tolerance scaled by `margin`."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and bool((np.abs(a - b) <= margin * (ATOL + RTOL * np.abs(b))).all())


def matches(result, wrong, margin=1.0):
    """Whether a student's result has a slip's values (a tuple entry by entry)."""
    if isinstance(wrong, tuple):
        return (isinstance(result, tuple) and len(result) == len(wrong)
                and all(matches(r, w, margin) for r, w in zip(result, wrong)))
    try:
        return close(np.asarray(result, dtype=np.float64), wrong, margin)
    except (TypeError, ValueError):
        return False


def nearly(result, want):
    """Close to the right result, but maybe not within the tolerance: within 1e-4 relative, 1e-6 absolute
    (coursekit.foundations.check_values' "near" rule), entry by entry, tuples too."""
    if isinstance(want, tuple):
        return (isinstance(result, tuple) and len(result) == len(want)
                and all(nearly(r, w) for r, w in zip(result, want)))
    try:
        got = np.asarray(result, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return got.shape == np.shape(want) and bool(np.allclose(got, want, rtol=1e-4, atol=1e-6))


def separated(want, wrongs):
    """Every slip's result differs from the right one by more than the tolerance, at least somewhere."""
    return all(not matches(wrong, want, margin=4.0) for wrong in wrongs)


def draw(rng, propose, accept, what):
    """propose(rng) until accept(case); a RuntimeError after TRIES proposals."""
    for _ in range(TRIES):
        case = propose(rng)
        if accept(case):
            return case
    raise RuntimeError(f"{what}: no acceptable case in {TRIES} proposals")


def fns(rng, names, k):
    return [Fn(str(name)) for name in rng.choice(names, size=k, replace=False)]


def size(rng, low=2, high=7):
    return int(rng.integers(low, high))


def explain_with(function, expect, catalogue, near=None, extra=None):
    """An `explain` naming the slip whose results the student's match, else the near-miss message."""
    def explain(args, result):
        want = expect(args)
        if isinstance(want, Raises):
            return None            # the message of the error it should have raised says it all
        for name, message, wrong in catalogue(args):
            if matches(result, wrong):
                return f"{function}: {message} [{name}]"
        if extra:
            said = extra(args, result)
            if said:
                return said
        if not isinstance(want, tuple):
            try:
                got = np.asarray(result, dtype=np.float64)
            except (TypeError, ValueError):
                return None
            if got.ndim == 2 and got.shape == want.shape[::-1] and got.shape != want.shape and close(got.T, want):
                return (f"{function}: the values are right but transposed, shape {got.shape} instead of "
                        f"{want.shape}: look at the order of the product's operands. [transposed]")
        if near and nearly(result, want):
            return f"{function}: {near[1]} [{near[0]}]"
        return None
    return explain


def slips_of(catalogue):
    return lambda args: [wrong for _, _, wrong in catalogue(args)]


def returns(reference):
    return lambda args: reference(*args)


# ---------------------------------------------------------------- notebook 1: deriv

def deriv_cases(rng):
    """Once with the default step (two arguments), once with a step of 0.05 to 0.3 on a 2-D array,
    where the step changes the estimate (so ignoring it shows)."""
    default = (Fn(str(rng.choice(DERIV_FUNCTIONS))), rng.uniform(-2, 2, size=size(rng, 4, 10)))
    stepped = (Fn(str(rng.choice(CURVED))), rng.uniform(-2, 2, size=(size(rng, 2, 5), size(rng, 2, 5))),
               float(rng.uniform(0.05, 0.3)))
    return [default, stepped]


def explain_deriv(args, result):
    for name, message, wrong in mistakes.deriv_mistakes(args):
        if matches(result, wrong):
            return f"deriv: {message} [{name}]"
    return None


# ---------------------------------------------------------------- notebook 1: the chain rule

def robust(chain, x):
    """Whether the book's way (each link's derivative estimated by deriv, delta 0.001) agrees with the
    exact chain rule to within half compare.py's tolerance: then a student whose own deriv is right
    passes whichever way they take the links' derivatives."""
    rule = der.chain_deriv_2 if len(chain) == 2 else der.chain_deriv_3
    return close(rule(chain, x, slope=der.centred_slope), rule(chain, x), margin=0.5)


def chain_cases(length):
    rule = der.chain_deriv_2 if length == 2 else der.chain_deriv_3
    catalogue = mistakes.chain2_mistakes if length == 2 else mistakes.chain3_mistakes

    def propose(rng):
        return (fns(rng, CHAIN_FUNCTIONS, length), np.sort(rng.uniform(-2, 2, size=size(rng, 5, 12))))

    def accept(case):
        return robust(*case) and separated(rule(*case), slips_of(catalogue)(case))

    return lambda rng: [draw(rng, propose, accept, f"chain of {length}") for _ in range(2)]


def chain_estimated(function, length):
    """The chain rule right, the links' derivatives from a deriv with one of deriv's slips."""
    rule = der.chain_deriv_2 if length == 2 else der.chain_deriv_3

    def extra(args, result):
        chain, x = args
        for slip in mistakes.DERIV_SLIPS.values():
            wrong = rule(chain, x, slope=lambda f, slip=slip: (lambda v: slip(f, v, der.DELTA)))
            if matches(result, wrong):
                return f"{function}: {mistakes.LINKS_ESTIMATED[1]} [{mistakes.LINKS_ESTIMATED[0]}]"
        return None
    return extra


# ---------------------------------------------------------------- notebook 2: several inputs

def expect_add_forward(args):
    x, y, sigma = args
    if x.shape != y.shape:
        return Raises(f"multiple_inputs_add accepted x of shape {x.shape} and y of shape {y.shape} instead of "
                      f"raising an error: x + y broadcast them into a {np.broadcast_shapes(x.shape, y.shape)} "
                      f"array. Check that the shapes are the same and raise a ValueError. "
                      f"[{mistakes.SHAPES_NOT_CHECKED[0]}]", exception="ValueError")
    return mat.multiple_inputs_add(x, y, sigma)


def add_forward_cases(rng):
    def propose(rng):
        shape = (size(rng), size(rng))
        return (rng.standard_normal(shape), rng.standard_normal(shape), Fn(str(rng.choice(SIGMAS))))

    same = draw(rng, propose, lambda case: separated(mat.multiple_inputs_add(*case),
                                                     slips_of(mistakes.add_forward_mistakes)(case)), "add")
    n = size(rng, 3, 7)
    return [same, (rng.standard_normal(n), rng.standard_normal((n, 1)), Fn(str(rng.choice(SIGMAS))))]


def add_backward_cases(rng):
    def propose_with(shape_of):
        def propose(rng):
            shape = shape_of(rng)
            return (rng.standard_normal(shape), rng.standard_normal(shape), Fn(str(rng.choice(SIGMAS))))
        return propose

    accept = lambda case: separated(mat.multiple_inputs_add_backward(*case),
                                    slips_of(mistakes.add_backward_mistakes)(case))
    return [draw(rng, propose_with(lambda r: (size(r), size(r))), accept, "add backward"),
            draw(rng, propose_with(lambda r: (size(r, 4, 9),)), accept, "add backward")]


# ---------------------------------------------------------------- notebook 2: matrices

def distinct(rng, k=3):
    return [int(v) for v in rng.choice(np.arange(2, 8), size=k, replace=False)]


def matmul_forward_cases(rng):
    m, n, p = distinct(rng)
    q = int(rng.choice([v for v in range(2, 8) if v != n]))
    return [(rng.standard_normal((m, n)), rng.standard_normal((n, p))),
            (rng.standard_normal((m, n)), rng.standard_normal((q, p)))]


def expect_matmul_forward(args):
    X, W = args
    if X.shape[1] != W.shape[0]:
        return Raises(f"matmul_forward returned a result for X of shape {X.shape} and W of shape {W.shape}, "
                      f"which do not fit (X needs as many columns as W has rows): raise a ValueError.",
                      exception="ValueError")
    return mat.matmul_forward(X, W)


def matmul_backward_cases(rng):
    """A square case first, in which every slip gives an array of the right shape and is named by its
    values; then distinct sizes, where a misplaced operand cannot even be multiplied."""
    def propose_with(sizes):
        def propose(rng):
            m, n, p = sizes(rng)
            return (rng.standard_normal((m, n)), rng.standard_normal((n, p)), rng.standard_normal((m, p)))
        return propose

    def square(rng):
        k = size(rng, 2, 6)
        return k, k, k

    accept = lambda case: separated(mat.matmul_backward_first(*case), slips_of(mistakes.matmul_backward_mistakes)(case))
    return [draw(rng, propose_with(square), accept, "matmul backward"),
            draw(rng, propose_with(distinct), accept, "matmul backward")]


def sigma_xw_cases(rng):
    def propose(rng):
        n = size(rng, 2, 7)
        return (rng.standard_normal((1, n)), rng.standard_normal((n, 1)), Fn(str(rng.choice(SIGMAS))))

    accept = lambda case: separated(mat.matrix_function_backward_1(*case), slips_of(mistakes.sigma_xw_mistakes)(case))
    return [draw(rng, propose, accept, "sigma(XW) backward") for _ in range(2)]


def sum_backward_cases(rng):
    def propose_with(sizes):
        def propose(rng):
            m, n, p = sizes(rng)
            return (rng.standard_normal((m, n)), rng.standard_normal((n, p)), Fn(str(rng.choice(SIGMAS))))
        return propose

    def square(rng):
        k = size(rng, 2, 6)
        return k, k, k

    def cancelling(rng):
        """N chosen first, then W with a row that makes one entry of the gradient cancel to 0, scaled so
        that the book's estimate of sigma' (deriv, delta 0.001) leaves 5e-8 there, then X with XW = N: an
        estimated sigma' fails this case for sure (and is named), an exact one passes."""
        m, n = size(rng, 2, 5), size(rng, 3, 6)
        sigma = Fn(str(rng.choice(("sigmoid", "tanh", "sin"))))
        N, W = rng.uniform(-2, 2, size=(m, 2)), rng.standard_normal((n, 2))
        slope, estimate = der.exact_slope(sigma)(N[0]), der.centred_slope(sigma)(N[0])
        row = np.array([slope[1], -slope[0]])
        left = abs(float(estimate @ row))
        if not 1e-9 < left:
            return None
        W[0] = row * min(5e-8 / left, 50.0)
        return N @ np.linalg.pinv(W), W, sigma

    accept = lambda case: case is not None and separated(mat.matrix_function_backward_sum_1(*case),
                                                         slips_of(mistakes.sum_backward_mistakes)(case))
    return [draw(rng, propose_with(square), accept, "sum backward"),
            draw(rng, propose_with(distinct), accept, "sum backward"),
            draw(rng, cancelling, accept, "sum backward")]


DERIVATIVES = "01_functions_and_derivatives"
MATRICES = "02_several_inputs_and_matrices"

CHECKS = [
    Check("deriv", DERIVATIVES, "deriv", deriv_cases, returns(der.deriv), explain_deriv,
          slips_of(mistakes.deriv_mistakes)),
    Check("chain2", DERIVATIVES, "chain_deriv_2", chain_cases(2), returns(der.chain_deriv_2),
          explain_with("chain_deriv_2", returns(der.chain_deriv_2), mistakes.chain2_mistakes,
                       extra=chain_estimated("chain_deriv_2", 2)),
          slips_of(mistakes.chain2_mistakes)),
    Check("chain3", DERIVATIVES, "chain_deriv_3", chain_cases(3), returns(der.chain_deriv_3),
          explain_with("chain_deriv_3", returns(der.chain_deriv_3), mistakes.chain3_mistakes,
                       extra=chain_estimated("chain_deriv_3", 3)),
          slips_of(mistakes.chain3_mistakes)),
    Check("add_forward", MATRICES, "multiple_inputs_add", add_forward_cases, expect_add_forward,
          explain_with("multiple_inputs_add", expect_add_forward, mistakes.add_forward_mistakes)),
    Check("add_backward", MATRICES, "multiple_inputs_add_backward", add_backward_cases,
          returns(mat.multiple_inputs_add_backward),
          explain_with("multiple_inputs_add_backward", returns(mat.multiple_inputs_add_backward),
                       mistakes.add_backward_mistakes, near=mistakes.ESTIMATED),
          slips_of(mistakes.add_backward_mistakes)),
    Check("matmul_forward", MATRICES, "matmul_forward", matmul_forward_cases, expect_matmul_forward),
    Check("matmul_backward_x", MATRICES, "matmul_backward_first", matmul_backward_cases,
          returns(mat.matmul_backward_first),
          explain_with("matmul_backward_first", returns(mat.matmul_backward_first), mistakes.matmul_backward_mistakes),
          slips_of(mistakes.matmul_backward_mistakes)),
    Check("sigma_xw_backward", MATRICES, "matrix_function_backward_1", sigma_xw_cases,
          returns(mat.matrix_function_backward_1),
          explain_with("matrix_function_backward_1", returns(mat.matrix_function_backward_1),
                       mistakes.sigma_xw_mistakes, near=mistakes.ESTIMATED),
          slips_of(mistakes.sigma_xw_mistakes)),
    Check("sum_backward", MATRICES, "matrix_function_backward_sum_1", sum_backward_cases,
          returns(mat.matrix_function_backward_sum_1),
          explain_with("matrix_function_backward_sum_1", returns(mat.matrix_function_backward_sum_1),
                       mistakes.sum_backward_mistakes, near=mistakes.ESTIMATED),
          slips_of(mistakes.sum_backward_mistakes)),
]
