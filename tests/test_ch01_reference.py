"""Chapter 1's reference solutions: the book's numbers, an independent oracle, and hidden tests that
every correct style passes.

Provenance (docs/chapter1-results.md):
- printed book: Weidman 2019, ch. 1, prints L = 2.3755 and dL/dX (first entry 0.2489) for seed 190204,
  and the one-sided nudge of x11 that gives 0.2489 again;
- official notebook: SethHWeidman/DLFS_code, 01_foundations/Code.ipynb (its committed outputs), prints
  the same, the whole dL/dX matrix, and for seed 190203 X = [[0.4723 0.6151 -1.7262]], W^T (the book's
  matmul_backward_first) = [[0.9282 -0.6075 -1.2214]], dS/dX for S = sigmoid(XW) = [[0.0852 -0.0557
  -0.1121]] and its rounded check of the third entry, -0.11.
The book estimates every link's derivative with deriv (delta 0.001); the course takes them exact. Both
give the printed figures to their four decimals (asserted below).
"""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from autograder.check import Fn
from autograder.compare import ATOL, RTOL, run_cases
from autograder.coursekit.foundations import derivative_of
from autograder.hidden import SEEDS, run_hidden_test
from autograder.specs import CHECKS, checks_of
from autograder.assignments.ch01_foundations import checks, mistakes
from autograder.assignments.ch01_foundations.reference import book
from autograder.assignments.ch01_foundations.reference import derivatives as der
from autograder.assignments.ch01_foundations.reference import matrices as mat

SIGMOID = Fn("sigmoid")


def four(array):
    return np.round(array, 4).tolist()


# ---------------------------------------------------------------- the book's numbers

def test_seed_190204_gives_the_printed_x_l_and_gradient():
    X, W = book.seed_190204()
    # official notebook, cell "Testing": X printed at 4 decimals
    assert four(X) == [[-1.5775, -0.6664, 0.6391], [-0.5615, 0.7373, -1.4231], [-1.4435, -0.3913, 0.1539]]
    # printed book and official notebook: L = 2.3755
    assert round(mat.matrix_function_forward_sum(X, W, SIGMOID), 4) == 2.3755
    # printed book (first entry 0.2489) and official notebook (the whole matrix)
    printed = [[0.2489, -0.3748, 0.0112], [0.126, -0.2781, -0.1395], [0.2299, -0.3662, -0.0225]]
    assert four(mat.matrix_function_backward_sum_1(X, W, SIGMOID)) == printed
    # the book's own way (sigma' by deriv, dS/dN times W^T) prints the same four decimals
    assert four(book.backward_sum_as_printed(X, W, SIGMOID)) == printed
    # printed book and official notebook: the one-sided nudge of x11 by 0.001
    assert round(book.x11_forward_nudge(X, W, SIGMOID), 4) == 0.2489


def test_seed_190203_gives_the_official_notebooks_single_row_numbers():
    X, W = book.seed_190203()
    assert four(X) == [[0.4723, 0.6151, -1.7262]]                                   # official notebook
    assert four(mat.matmul_backward_first(X, W, np.ones((1, 1)))) == [[0.9282, -0.6075, -1.2214]]
    assert four(mat.matrix_function_backward_1(X, W, SIGMOID)) == [[0.0852, -0.0557, -0.1121]]
    assert four(book.backward_1_by_deriv(X, W, SIGMOID)) == [[0.0852, -0.0557, -0.1121]]
    assert book.x13_rounded_nudge(X, W, SIGMOID).tolist() == [[-0.11]]             # its rounded check


def test_the_official_notebooks_backward_of_the_sum_ignores_dl_ds():
    """It multiplies dS/dN, not dL/dN, by W^T: right for a plain sum (dL/dS = 1), wrong for any other."""
    X, W = book.seed_190204()
    exact = mat.matrix_function_backward_sum_1(X, W, SIGMOID)
    assert np.allclose(book.backward_sum_as_printed(X, W, SIGMOID), exact, rtol=0, atol=1e-7)
    C = np.array([[1.0, -2.0], [0.5, 3.0], [2.0, 1.0]])
    weighted = oracle_gradient(lambda X: np.sum(C * SIGMOID(X @ W)), X)
    N = X @ W
    chain = (C * der.exact_slope(SIGMOID)(N)) @ W.T
    assert np.allclose(chain, weighted, rtol=1e-7, atol=1e-9)
    assert not np.allclose(book.backward_sum_as_printed(X, W, SIGMOID), weighted, atol=1e-2)


def test_estimated_links_miss_the_tolerance_where_a_matrix_product_cancels():
    """Why notebook 2 wants sigma' exact. On the book's case an estimate (deriv, delta 0.001) happens to
    pass the tolerance; on notebook 2's hand case, where an entry cancels to 0, it leaves about 1e-8."""
    X, W = book.seed_190204()
    exact = mat.matrix_function_backward_sum_1(X, W, SIGMOID)
    assert checks.close(mat.matrix_function_backward_sum_1(X, W, SIGMOID, slope=der.centred_slope), exact)
    ln3 = np.log(3.0)
    X, W = np.array([[ln3, 0.75 * ln3], [0.0, 0.0]]), np.array([[1.0, -0.75], [0.0, 1.0]])
    exact = mat.matrix_function_backward_sum_1(X, W, SIGMOID)
    assert np.allclose(exact, [[0.0, 0.25], [0.0625, 0.25]], rtol=1e-15, atol=1e-15)
    estimated = mat.matrix_function_backward_sum_1(X, W, SIGMOID, slope=der.centred_slope)
    assert not checks.close(estimated, exact) and 5e-9 < abs(estimated[0, 0]) < 5e-8
    assert checks.nearly(estimated, exact)      # close enough for the "estimated derivative" diagnosis


def test_the_cancelling_case_catches_an_estimated_sigma_prime_every_time():
    """sum_backward's third case: one entry of the gradient is 0, and deriv's estimate leaves 5e-8 there."""
    for seed in [*SEEDS, *range(100)]:
        X, W, sigma = CHECKS["sum_backward"].cases(np.random.default_rng(seed))[2]
        exact = mat.matrix_function_backward_sum_1(X, W, sigma)
        estimated = mat.matrix_function_backward_sum_1(X, W, sigma, slope=der.centred_slope)
        assert abs(exact[0, 0]) < 1e-12 and np.allclose(X @ W, (X @ W).round(12), atol=1e-9)
        assert not checks.close(estimated, exact) and checks.nearly(estimated, exact)


# ---------------------------------------------------------------- an independent oracle

def oracle_gradient(scalar, X, h=1e-6):
    """d scalar(X) / dX by float64 centred differences, one entry at a time, on copies (no shared code)."""
    grad = np.zeros_like(X)
    for index in np.ndindex(*X.shape):
        up, down = X.copy(), X.copy()
        up[index] += h
        down[index] -= h
        grad[index] = (scalar(up) - scalar(down)) / (2 * h)
    return grad


def oracle_slope(function, x, h=1e-6):
    return np.array([(function(np.array([v + h]))[0] - function(np.array([v - h]))[0]) / (2 * h) for v in x])


def agree(got, want, tol=1e-6):
    return np.allclose(got, want, rtol=tol, atol=tol)


MATH = {"sin": math.sin, "cos": math.cos, "tanh": math.tanh, "exp": math.exp,
        "square": lambda v: v * v, "cube": lambda v: v * v * v, "sigmoid": lambda v: 1 / (1 + math.exp(-v))}

smooth = st.sampled_from(sorted(MATH))
seeds = st.integers(0, 2**32 - 1)
links = st.sampled_from(checks.CHAIN_FUNCTIONS)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(smooth, seeds, st.floats(1e-4, 0.5))
def test_deriv_is_the_centred_difference(name, seed, delta):
    x = np.random.default_rng(seed).uniform(-2, 2, size=6)
    f = MATH[name]
    by_hand = [(f(v + delta) - f(v - delta)) / (2 * delta) for v in x]     # scalar math, no NumPy
    assert np.allclose(der.deriv(Fn(name), x, delta), by_hand, rtol=1e-9, atol=1e-12)


def kink_free(chain, x):
    """No input of a leaky ReLU within 1e-4 of its kink, where no finite difference is meaningful."""
    values = x
    for link in chain:
        if link.name == "leaky_relu" and np.min(np.abs(values)) < 1e-4:
            return False
        values = link(values)
    return True


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.lists(links, min_size=2, max_size=3, unique=True), seeds)
def test_chain_rules_against_the_oracle(names, seed):
    chain = [Fn(name) for name in names]
    x = np.random.default_rng(seed).uniform(-2, 2, size=7)
    if not kink_free(chain, x):
        return

    def whole(v):
        for link in chain:
            v = link(v)
        return v

    rule = der.chain_deriv_2 if len(chain) == 2 else der.chain_deriv_3
    assert agree(rule(chain, x), oracle_slope(whole, x))


@settings(max_examples=30, deadline=None, derandomize=True)
@given(st.sampled_from(checks.SIGMAS), seeds, st.integers(1, 4), st.integers(1, 4), st.integers(1, 4))
def test_matrix_references_against_the_oracle(name, seed, m, n, p):
    sigma = Fn(name)
    rng = np.random.default_rng(seed)
    X, W, C = rng.standard_normal((m, n)), rng.standard_normal((n, p)), rng.standard_normal((m, p))
    if name == "leaky_relu" and np.min(np.abs(X @ W)) < 1e-4:
        return
    assert agree(mat.matrix_function_backward_sum_1(X, W, sigma), oracle_gradient(lambda A: np.sum(sigma(A @ W)), X))
    assert agree(mat.matmul_backward_first(X, W, C), oracle_gradient(lambda A: np.sum(C * (A @ W)), X))
    x, y = rng.standard_normal((m, n)), rng.standard_normal((m, n))
    if name == "leaky_relu" and np.min(np.abs(x + y)) < 1e-4:
        return
    ds_dx, ds_dy = mat.multiple_inputs_add_backward(x, y, sigma)
    assert agree(ds_dx, oracle_gradient(lambda A: np.sum(sigma(A + y)), x))
    assert agree(ds_dy, oracle_gradient(lambda B: np.sum(sigma(x + B)), y))
    row, column = X[:1], W[:, :1]
    assert agree(mat.matrix_function_backward_1(row, column, sigma),
                 oracle_gradient(lambda A: np.sum(sigma(A @ column)), row))


# ---------------------------------------------------------------- the hidden tests' cases

VERIFY_SEEDS = range(60)   # the verification draws fresh seeds; these stand for them


def test_the_checks_are_the_notebooks_exercises():
    assert [c.grade_id for c in checks_of("ch01_foundations", checks.DERIVATIVES)] == ["deriv", "chain2", "chain3"]
    assert [c.grade_id for c in checks_of("ch01_foundations", checks.MATRICES)] == [
        "add_forward", "add_backward", "matmul_forward", "matmul_backward_x", "sigma_xw_backward", "sum_backward"]


@pytest.mark.parametrize("grade_id", ["chain2", "chain3"])
def test_every_chain_case_lets_a_correct_deriv_pass(grade_id):
    """Each case's links, estimated the book's way, agree with the exact ones to within half the tolerance."""
    for seed in [*SEEDS, *VERIFY_SEEDS]:
        for chain, x in CHECKS[grade_id].cases(np.random.default_rng(seed)):
            assert checks.robust(chain, x)
            assert len({link.name for link in chain}) == len(chain)


def test_deriv_cases_use_the_default_and_a_step_that_matters():
    for seed in SEEDS:
        default, stepped = CHECKS["deriv"].cases(np.random.default_rng(seed))
        assert len(default) == 2 and len(stepped) == 3 and stepped[1].ndim == 2
        f, x, delta = stepped
        assert not checks.close(der.deriv(f, x, delta), der.deriv(f, x))     # ignoring delta shows


@pytest.mark.parametrize("grade_id", sorted(g for g, c in CHECKS.items() if c.assignment == "ch01_foundations"))
def test_cases_separate_every_slip_and_the_reference_passes(grade_id, capsys):
    check = CHECKS[grade_id]
    for seed in SEEDS:
        for args in check.cases(np.random.default_rng(seed)):
            assert check.separates(args)
    run_hidden_test(grade_id, {"deriv": der.deriv, "chain2": der.chain_deriv_2, "chain3": der.chain_deriv_3,
                               "add_forward": mat.multiple_inputs_add,
                               "add_backward": mat.multiple_inputs_add_backward,
                               "matmul_forward": mat.matmul_forward, "matmul_backward_x": mat.matmul_backward_first,
                               "sigma_xw_backward": mat.matrix_function_backward_1,
                               "sum_backward": mat.matrix_function_backward_sum_1}[grade_id])
    assert "matches the reference" in capsys.readouterr().out


def test_every_slip_of_the_catalogue_has_a_name_and_a_message():
    pairs = [value for value in vars(mistakes).values()
             if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, str) for v in value)]
    names = [name for name, _ in pairs]
    assert len(names) == len(set(names)) >= 20
    assert set(mistakes.DERIV_SLIPS) <= set(names)


# ---------------------------------------------------------------- correct students, in several styles

def deriv_vectorised(func, input_, delta=0.001):
    return (func(input_ + delta) - func(input_ - delta)) / (2 * delta)


def deriv_halved(func, input_, delta=0.001):
    return 0.5 * (func(input_ + delta) - func(input_ - delta)) / delta


def deriv_loop(func, input_, delta=0.001):
    out = np.empty(input_.shape)
    for index in np.ndindex(*input_.shape):
        point = np.array([input_[index]])
        out[index] = ((func(point + delta) - func(point - delta)) / delta / 2)[0]
    return out


def deriv_subtract(func, input_, delta=0.001):
    step = np.full_like(input_, delta)
    return np.divide(np.subtract(func(np.add(input_, step)), func(np.subtract(input_, step))), 2.0 * delta)


def chain2_exact(chain, input_range):
    f1, f2 = chain
    return derivative_of(f2)(f1(input_range)) * derivative_of(f1)(input_range)


def chain3_exact(chain, input_range):
    product, value = np.ones_like(input_range), input_range
    for link in chain:                       # the running product, link by link
        product = product * derivative_of(link)(value)
        value = link(value)
    return product


def chain_with(deriv):
    """The book's way: each link's derivative from the student's own (correct) deriv."""
    def chain2(chain, input_range):
        f1, f2 = chain
        return deriv(f2, f1(input_range)) * deriv(f1, input_range)

    def chain3(chain, input_range):
        f1, f2, f3 = chain
        u1 = f1(input_range)
        u2 = f2(u1)
        return deriv(f1, input_range) * deriv(f2, u1) * deriv(f3, u2)
    return chain2, chain3


def chain2_loop(chain, input_range):
    f1, f2 = chain
    out = []
    for v in input_range:
        point = np.array([v])
        out.append((derivative_of(f2)(f1(point)) * derivative_of(f1)(point))[0])
    return np.array(out)


def add_backward_einsum(x, y, sigma):
    grad = derivative_of(sigma)(np.add(x, y))
    return grad.copy(), grad.copy()


def matmul_backward_loops(X, W, dL_dN):
    out = np.zeros(X.shape)
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            out[i, j] = sum(dL_dN[i, k] * W[j, k] for k in range(W.shape[1]))
    return out


def sigma_xw_einsum(X, W, sigma):
    return np.einsum("ik,jk->ij", derivative_of(sigma)(np.einsum("ij,jk->ik", X, W)), W)


def sum_backward_dot(X, W, sigma):
    N = np.dot(X, W)
    return np.dot(np.ones_like(N) * derivative_of(sigma)(N), np.transpose(W))


STYLES = {
    "deriv": [deriv_vectorised, deriv_halved, deriv_loop, deriv_subtract],
    "chain2": [chain2_exact, chain2_loop, *(chain_with(d)[0] for d in (deriv_vectorised, deriv_halved, deriv_loop))],
    "chain3": [chain3_exact, *(chain_with(d)[1] for d in (deriv_vectorised, deriv_halved, deriv_subtract))],
    "add_backward": [add_backward_einsum],
    "matmul_backward_x": [matmul_backward_loops, lambda X, W, d: np.dot(d, W.T)],
    "sigma_xw_backward": [sigma_xw_einsum],
    "sum_backward": [sum_backward_dot],
}


@pytest.mark.parametrize("grade_id, index", [(g, i) for g, styles in STYLES.items() for i in range(len(styles))])
def test_correct_styles_pass_on_many_seeds(grade_id, index, capsys):
    check, style = CHECKS[grade_id], STYLES[grade_id][index]
    cases = [args for seed in [*SEEDS, *VERIFY_SEEDS] for args in check.cases(np.random.default_rng(seed))]
    run_cases(check.function, check.bind(style), cases, check.judge)
    assert f"matches the reference on {len(cases)}" in capsys.readouterr().out


def test_a_correct_deriv_in_a_chain_is_within_half_the_tolerance_of_the_exact_rule():
    """The margin the robust cases leave: the students' ways differ from each other by rounding only."""
    for seed in SEEDS:
        for chain, x in CHECKS["chain3"].cases(np.random.default_rng(seed)):
            exact = der.chain_deriv_3(chain, x)
            for deriv in (deriv_vectorised, deriv_halved, deriv_loop):
                estimated = chain_with(deriv)[1](chain, x)
                assert np.all(np.abs(estimated - exact) <= 0.5 * (ATOL + RTOL * np.abs(exact)) + 1e-12)
