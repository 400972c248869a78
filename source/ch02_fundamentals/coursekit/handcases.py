"""Cases small enough to work out by hand, for the visible tests, and a check of the part-1
functions that part 2 reuses.

Every case is exact arithmetic written out (the test cells repeat it in their comments), so a
visible test never depends on another of the student's exercises: a backward pass is checked
against numbers, not against the student's own forward pass. The gradient cases are chosen so
that each common slip in a backward pass gives an answer different from the right one
(tests/test_reference.py checks this against the catalogue of slips): three rows (so dividing by
the batch size is neither a factor 2 nor 1/2), shapes that differ from their transposes, and,
for the network, hidden inputs N1 away from 0, where sigma(x)(1 - x) differs from
sigma(x)(1 - sigma(x)) by more than a constant factor.

Each function returns fresh arrays, so a function under test that changes its inputs cannot
spoil the next check.
"""
import numpy as np

LN3 = float(np.log(3.0))   # sigma(ln 3) = 3/4, sigma(-ln 3) = 1/4, sigma(2 ln 3) = 9/10, sigma(0) = 1/2


def linear_gradient_case():
    """(forward_info, weights, expected gradients) for linear regression, n = 3 rows, k = 2 features.

    X = [[1, 2], [3, 5], [0, 1]], W = [[1], [-1]], B = [[0.5]], y = [[0], [1], [1.5]]:
    N = XW = [-1, -2, -1], P = N + B = [-0.5, -1.5, -0.5], y - P = [0.5, 2.5, 2.0].
    dL/dP = -2 (y - P) = [-1, -5, -4];
    dL/dW = X^T dL/dP = [[1*-1 + 3*-5 + 0*-4], [2*-1 + 5*-5 + 1*-4]] = [[-16], [-31]];
    dL/dB = -1 - 5 - 4 = -10.
    """
    forward_info = {"X": np.array([[1.0, 2.0], [3.0, 5.0], [0.0, 1.0]]),
                    "N": np.array([[-1.0], [-2.0], [-1.0]]),
                    "P": np.array([[-0.5], [-1.5], [-0.5]]),
                    "y": np.array([[0.0], [1.0], [1.5]])}
    weights = {"W": np.array([[1.0], [-1.0]]), "B": np.array([[0.5]])}
    expected = {"W": np.array([[-16.0], [-31.0]]), "B": np.array([[-10.0]])}
    return forward_info, weights, expected


def network_forward_case():
    """(X, y, weights, expected) for the network's forward pass, n = 3 rows, k = 2 inputs, h = 3 hidden units.

    W1 = ln 3 * [[1, 0, 0], [0, 1, -1]] and B1 = ln 3 * [[-1, 0, 0]], so every N1 entry is a
    whole multiple of ln 3 and the sigmoid gives simple fractions:
    X = [[1, 2], [3, -1], [0, 2]]  ->  N1 / ln 3 = [[0, 2, -2], [2, -1, 1], [-1, 2, -2]]
    O1 = [[1/2, 9/10, 1/10], [9/10, 1/4, 3/4], [1/4, 9/10, 1/10]]
    W2 = [[1], [-1], [2]]  ->  M2 = O1 W2 = [-0.2, 2.15, -0.45];  B2 = [[1]]  ->  P = [0.8, 3.15, 0.55]
    y = [1.8, 2.15, 1.55]  ->  y - P = [1, -1, 1], so the MSE is 1 (and the sum of squares 3).
    expected holds M1, N1, O1, M2, P and the MSE.
    """
    X = np.array([[1.0, 2.0], [3.0, -1.0], [0.0, 2.0]])
    y = np.array([[1.8], [2.15], [1.55]])
    weights = {"W1": LN3 * np.array([[1.0, 0.0, 0.0], [0.0, 1.0, -1.0]]),
               "B1": LN3 * np.array([[-1.0, 0.0, 0.0]]),
               "W2": np.array([[1.0], [-1.0], [2.0]]),
               "B2": np.array([[1.0]])}
    M1 = LN3 * np.array([[1.0, 2.0, -2.0], [3.0, -1.0, 1.0], [0.0, 2.0, -2.0]])
    N1 = LN3 * np.array([[0.0, 2.0, -2.0], [2.0, -1.0, 1.0], [-1.0, 2.0, -2.0]])
    expected = {"M1": M1, "N1": N1,
                "O1": np.array([[0.5, 0.9, 0.1], [0.9, 0.25, 0.75], [0.25, 0.9, 0.1]]),
                "M2": np.array([[-0.2], [2.15], [-0.45]]),
                "P": np.array([[0.8], [3.15], [0.55]]),
                "mse": 1.0}
    return X, y, weights, expected


def network_gradient_case():
    """(forward_info, weights, expected gradients) for the network, n = 3, k = 2, h = 3.

    W1 = 0 and B1 = [[ln 3, -ln 3, ln 3]], so every row has N1 = [ln 3, -ln 3, ln 3],
    O1 = [3/4, 1/4, 3/4] and sigma'(N1) = sigma(N1)(1 - sigma(N1)) = 3/16 in every entry.
    W2 = [[1], [-1], [2]]: M2 = 3/4 - 1/4 + 3/2 = 2; B2 = [[1]]: P = 3 in every row.
    X = [[1, 2], [3, -1], [0, 2]], y = [4, 2, 5]: y - P = [1, -1, 2], dL/dP = -2 (y - P) = [-2, 2, -4].
      B2: -2 + 2 - 4 = -4.          W2 = O1^T dL/dP: each unit's O1 times -4 = [[-3], [-1], [-3]].
      dL/dO1 = dL/dP W2^T: rows [-2, 2, -4], [2, -2, 4], [-4, 4, -8];
      dL/dN1 = dL/dO1 * 3/16: rows [-3/8, 3/8, -3/4], [3/8, -3/8, 3/4], [-3/4, 3/4, -3/2].
      B1 = column sums = [[-3/4, 3/4, -3/2]].
      W1 = X^T dL/dN1: first row 1*r1 + 3*r2 + 0*r3 = [3/4, -3/4, 3/2],
                       second row 2*r1 - 1*r2 + 2*r3 = [-21/8, 21/8, -21/4].
    """
    O1_row = np.array([[0.75, 0.25, 0.75]])
    forward_info = {"X": np.array([[1.0, 2.0], [3.0, -1.0], [0.0, 2.0]]),
                    "M1": np.zeros((3, 3)),
                    "N1": np.repeat(np.array([[LN3, -LN3, LN3]]), 3, axis=0),
                    "O1": np.repeat(O1_row, 3, axis=0),
                    "M2": np.full((3, 1), 2.0),
                    "P": np.full((3, 1), 3.0),
                    "y": np.array([[4.0], [2.0], [5.0]])}
    weights = {"W1": np.zeros((2, 3)), "B1": np.array([[LN3, -LN3, LN3]]),
               "W2": np.array([[1.0], [-1.0], [2.0]]), "B2": np.array([[1.0]])}
    expected = {"W1": np.array([[0.75, -0.75, 1.5], [-21 / 8, 21 / 8, -21 / 4]]),
                "B1": np.array([[-0.75, 0.75, -1.5]]),
                "W2": np.array([[-3.0], [-1.0], [-3.0]]),
                "B2": np.array([[-4.0]])}
    return forward_info, weights, expected


def network_gradient_slips():
    """[(what the slip gives, where to look, {key: its wrong gradient})] for network_gradient_case: the two
    slips of the sigmoid's slope, which no constant factor explains (tests/test_reference.py checks these
    numbers against the catalogue of slips). Only W1 and B1 differ from the right answer."""
    on_output = {"W1": np.array([[0.8715799750472562, -0.9845363309503934, 1.7431599500945123],
                                 [-3.0505299126653966, 3.4458771583263768, -6.101059825330793]]),
                 "B1": np.array([[-0.8715799750472562, 0.9845363309503934, -1.7431599500945123]])}
    one_minus_input = {"W1": np.array([[-0.29583686600432935, -2.09861228866811, -0.5916737320086587],
                                       [1.0354290310151528, 7.345143010338385, 2.0708580620303056]]),
                       "B1": np.array([[0.29583686600432935, 2.09861228866811, 0.5916737320086587]])}
    return [("it is what the sigmoid's slope taken at O1 gives", "take the slope at the sigmoid's input, N1 "
             "(sigma(N1) is O1, so the slope is O1 (1 - O1)).", on_output),
            ("it is what sigma(N1) (1 - N1) gives for the sigmoid's slope", "the second factor is 1 - sigma(N1), "
             "not 1 - N1.", one_minus_input)]


# ---------------------------------------------------------------- part 1's functions, in part 2

PART_ONE = ("update_weights", "mae", "rmse")


def _try_part_one(name, function):
    """None if `function` gives part 1's hand-worked answers, else what is wrong, in a sentence."""
    try:
        if name == "update_weights":
            weights = {"W": np.array([[1.0], [2.0]]), "B": np.array([[0.5]])}
            grads = {"W": np.array([[10.0], [-20.0]]), "B": np.array([[5.0]])}
            got = function(weights, grads, 0.1)
            right = (isinstance(got, dict) and set(got) == {"W", "B"}
                     and np.allclose(np.asarray(got["W"], dtype=float), [[0.0], [4.0]])
                     and np.allclose(np.asarray(got["B"], dtype=float), [[0.0]])
                     and np.array_equal(weights["W"], [[1.0], [2.0]]))
            return None if right else ("it does not give part 1's hand-worked step "
                                       "(W = [[1], [2]], dW = [[10], [-20]], rate 0.1 -> [[0], [4]]) "
                                       "or it changes its inputs")
        preds, actuals = np.array([[1.0], [2.0], [4.0]]), np.array([[1.0], [3.0], [2.0]])
        want = 1.0 if name == "mae" else float(np.sqrt(5 / 3))
        got = function(preds, actuals)
        return None if np.isclose(float(got), want) else f"it gives {float(got):.4f} where part 1's test wants {want:.4f}"
    except NotImplementedError:
        return "it is still the stub (it raises NotImplementedError): copy in the body you wrote in part 1"
    except Exception as error:   # report, never stop the notebook
        return f"it raised {type(error).__name__}: {error}"


def report_part_one(namespace):
    """Print whether `update_weights`, `mae` and `rmse` in `namespace` (pass globals()) work as in part 1.

    Never raises: the exercises of part 2 do not need these functions, only its training and
    evaluation do. Returns the list of names that are missing or wrong.
    """
    problems = {}
    for name in PART_ONE:
        function = namespace.get(name)
        if not callable(function):
            problems[name] = "it is not defined: run the cell above (or paste your part-1 function into it)"
        else:
            why = _try_part_one(name, function)
            if why:
                problems[name] = why
    if not problems:
        print("Your part-1 update_weights, mae and rmse give part 1's hand-worked answers: ready to train.")
        return []
    for name, why in problems.items():
        print(f"{name}: {why}.")
    print("Until these work, sections 1 to 3 (the exercises) run as usual, but the training and the "
          "evaluation from section 4 on will stop with an error.")
    return list(problems)
