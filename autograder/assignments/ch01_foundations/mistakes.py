"""Chapter 1's common slips: each a (name, what to tell the student) pair, and the wrong results it gives.

checks.py names a wrong result after the slip whose results it matches, and redraws its cases until
every case tells the right answer apart from each slip listed for that exercise. Each catalogue
function takes the hidden test's arguments and returns [(name, message, wrong result)].
tests/test_ch01_slips.py writes every slip the way a student would, independently of this file.
"""
import numpy as np

from .reference.derivatives import DELTA, exact_slope

# ---------------------------------------------------------------- deriv

ONE_SIDED = ("one-sided difference", "it is a one-sided difference: it nudges the input one way only, and its "
             "error shrinks only as fast as delta. The course's estimate is centred: nudge the input both ways "
             "(section 3's formula).")
STEP_NOT_DOUBLED = ("step not doubled", "it is twice the right answer: the two points are 2 delta apart, so the "
                    "difference of the outputs is divided by 2 delta, not by delta.")
DIFFERENCE_REVERSED = ("difference reversed", "it has the wrong sign: subtract the output at x - delta from the "
                       "output at x + delta, not the other way round.")
PRECEDENCE = ("divided by 2, times delta", "it is the right answer times delta squared: a / 2 * delta divides by 2 "
              "and then multiplies by delta. Put the denominator in brackets, a / (2 * delta).")
DELTA_IGNORED = ("delta ignored", "it ignores the delta it is given: use the argument, not a fixed step "
                 "(0.001 is only its default value).")

# ---------------------------------------------------------------- the chain rule

WRONG_POINT = ("derivative at the wrong input", "a link's derivative was evaluated at the wrong point: each "
               "link's derivative is taken at that link's own input, which is the previous link's output "
               "(x only for the first link).")
LINKS_REVERSED = ("links in reverse order", "the links were taken in reverse order: chain[0] is applied first "
                  "(it is the innermost function), so its derivative is taken at x.")
LINK_MISSING = ("a link's derivative missing", "the derivative of one link is missing from the product: the "
                "chain rule multiplies the derivatives of every link.")
SUM_NOT_PRODUCT = ("sum, not product", "the links' derivatives were added: the chain rule multiplies them.")
LINKS_ESTIMATED = ("link derivatives from a wrong deriv", "the chain rule is put together right, but the links' "
                   "derivatives are wrong: they are what a deriv with a slip gives. Take each link's derivative "
                   "from derivative_of (exact), or fix deriv first (its own test says what is wrong).")

# ---------------------------------------------------------------- several inputs

SHAPES_NOT_CHECKED = ("shapes not checked", "x and y of different shapes were accepted: x + y broadcast them into "
                      "a larger array without a word. Check that the shapes are the same and raise a ValueError.")
SIGMA_NOT_APPLIED = ("sigma not applied", "it returns x + y: the function sigma is not applied to the sum.")
SIGMA_OF_EACH = ("sigma of each input", "it applies sigma to x and to y separately and adds: sigma(x) + sigma(y) "
                 "is not sigma(x + y).")
SIGMA_NOT_DERIVATIVE = ("sigma, not its derivative", "it uses sigma itself where its derivative belongs: take "
                        "sigma' from derivative_of(sigma).")
DERIVATIVE_MISSING = ("sigma' missing", "the derivative of sigma is missing: only the derivative of the inner "
                      "step is left. Multiply by sigma' at sigma's input.")
AT_OUTPUT = ("derivative at the output", "sigma' was evaluated at sigma's output: evaluate it at sigma's input.")
SIGMOID_FORMULA = ("sigmoid's derivative for any sigma", "sigma' was written as sigma (1 - sigma), which is the "
                   "sigmoid's derivative only: sigma here may be any function. Take sigma' from derivative_of(sigma).")
ESTIMATED = ("estimated derivative", "the numbers are close to the right ones but not exact, as a finite-difference "
             "estimate of sigma' gives: take sigma' from derivative_of(sigma), which is exact.")

# ---------------------------------------------------------------- matrices

W_NOT_TRANSPOSED = ("W not transposed", "W stands in the product untransposed: the gradient flowing back through "
                    "XW to X is multiplied by W's transpose, on the right.")
GRADIENT_FOR_W = ("gradient for W", "it is the gradient with respect to W (or built like it, with X): the "
                  "gradient with respect to X is made with W.")
W_T_ALONE = ("W transposed alone", "it returns W's transpose and ignores dL_dN: that is the gradient only when N is "
             "a single number and dL/dN is 1 (the book's case). Multiply the incoming gradient by W's transpose.")
SUMMED_OVER_ROWS = ("summed over rows", "the gradient was summed over the rows of X: every entry of X gets its "
                    "own gradient, so the result has X's shape.")


# ---------------------------------------------------------------- the wrong results

def _one_sided(f, x, d):
    return (f(x + d) - f(x)) / d


def _one_sided_back(f, x, d):
    return (f(x) - f(x - d)) / d


DERIV_SLIPS = {   # name -> (function, x, delta) -> the wrong derivative, as a deriv with that slip computes it
    ONE_SIDED[0]: _one_sided,
    STEP_NOT_DOUBLED[0]: lambda f, x, d: (f(x + d) - f(x - d)) / d,
    DIFFERENCE_REVERSED[0]: lambda f, x, d: (f(x - d) - f(x + d)) / (2 * d),
    PRECEDENCE[0]: lambda f, x, d: (f(x + d) - f(x - d)) / 2 * d,
}
MESSAGES = {pair[0]: pair[1] for pair in (ONE_SIDED, STEP_NOT_DOUBLED, DIFFERENCE_REVERSED, PRECEDENCE, DELTA_IGNORED)}


def deriv_mistakes(args):
    func, x = args[0], args[1]
    delta = args[2] if len(args) > 2 else DELTA
    found = [(name, MESSAGES[name], slip(func, x, delta)) for name, slip in DERIV_SLIPS.items()]
    found.append((*ONE_SIDED, _one_sided_back(func, x, delta)))
    if len(args) > 2 and delta != DELTA:
        found.append((*DELTA_IGNORED, (func(x + DELTA) - func(x - DELTA)) / (2 * DELTA)))
    return found


def chain2_mistakes(args):
    (f1, f2), x = args
    d1, d2 = exact_slope(f1), exact_slope(f2)
    u = f1(x)
    return [(*WRONG_POINT, d2(x) * d1(x)),
            (*LINKS_REVERSED, d1(f2(x)) * d2(x)),
            (*LINK_MISSING, d2(u)),
            (*LINK_MISSING, d1(x)),
            (*SUM_NOT_PRODUCT, d2(u) + d1(x))]


def chain3_mistakes(args):
    (f1, f2, f3), x = args
    d1, d2, d3 = exact_slope(f1), exact_slope(f2), exact_slope(f3)
    u1 = f1(x)
    u2 = f2(u1)
    return [(*WRONG_POINT, d3(x) * d2(x) * d1(x)),
            (*WRONG_POINT, d3(u1) * d2(u1) * d1(x)),
            (*WRONG_POINT, d3(u1) * d2(x) * d1(x)),
            (*LINKS_REVERSED, d1(f2(f3(x))) * d2(f3(x)) * d3(x)),
            (*LINK_MISSING, d3(u2) * d2(u1)),
            (*LINK_MISSING, d3(u2) * d1(x)),
            (*SUM_NOT_PRODUCT, d3(u2) + d2(u1) + d1(x))]


def add_forward_mistakes(args):
    x, y, sigma = args
    return [(*SIGMA_NOT_APPLIED, x + y), (*SIGMA_OF_EACH, sigma(x) + sigma(y))]


def _sigmoid_formula(sigma, N):
    """sigma (1 - sigma) at N: a slip unless sigma is the sigmoid, where it is no slip at all (so not listed)."""
    return [] if sigma.__name__ == "sigmoid" else [sigma(N) * (1 - sigma(N))]


def add_backward_mistakes(args):
    x, y, sigma = args
    slope, a = exact_slope(sigma), x + y
    return [(*SIGMA_NOT_DERIVATIVE, (sigma(a), sigma(a))),
            (*DERIVATIVE_MISSING, (np.ones_like(x), np.ones_like(y))),
            (*WRONG_POINT, (slope(x), slope(y))),
            (*AT_OUTPUT, (slope(sigma(a)), slope(sigma(a)))),
            *[(*SIGMOID_FORMULA, (wrong, wrong.copy())) for wrong in _sigmoid_formula(sigma, a)]]


def matmul_backward_mistakes(args):
    X, W, dL_dN = args
    found = [(*W_T_ALONE, W.T.copy())]
    if dL_dN.shape[1] == W.shape[0]:
        found.append((*W_NOT_TRANSPOSED, dL_dN @ W))
    if X.shape[0] == dL_dN.shape[0]:
        found.append((*GRADIENT_FOR_W, X.T @ dL_dN))
    return found


def sigma_xw_mistakes(args):
    X, W, sigma = args
    N = X @ W
    slope = exact_slope(sigma)
    return [(*DERIVATIVE_MISSING, W.T.copy()),
            (*SIGMA_NOT_DERIVATIVE, sigma(N) @ W.T),
            (*AT_OUTPUT, slope(sigma(N)) @ W.T),
            (*GRADIENT_FOR_W, slope(N) @ X),
            *[(*SIGMOID_FORMULA, wrong @ W.T) for wrong in _sigmoid_formula(sigma, N)]]


def sum_backward_mistakes(args):
    X, W, sigma = args
    N = X @ W
    slope = exact_slope(sigma)
    found = [(*DERIVATIVE_MISSING, np.ones_like(N) @ W.T),
             (*SIGMA_NOT_DERIVATIVE, sigma(N) @ W.T),
             (*AT_OUTPUT, slope(sigma(N)) @ W.T),
             (*SUMMED_OVER_ROWS, (slope(N) @ W.T).sum(axis=0, keepdims=True)),
             *[(*SIGMOID_FORMULA, wrong @ W.T) for wrong in _sigmoid_formula(sigma, N)]]
    if W.shape[0] == W.shape[1]:
        found.append((*W_NOT_TRANSPOSED, slope(N) @ W))
    if X.shape[0] == X.shape[1] == W.shape[1]:
        found.append((*GRADIENT_FOR_W, X.T @ slope(N)))
    return found
