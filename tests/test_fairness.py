"""Random cases never cost a correct student a point, in the kernel or outside it.

For 10,000 student ids (2,000 in `make test`; FAIRNESS_STUDENTS=10000 for all), the cases that the confined kernel and the outside verification
draw for that student are judged on correct functions of Chapter 2 written here independently of
the reference (other formulas, other NumPy calls, so other rounding): every check passes
them, in the kernel's way (compare.py against the expected results alone) and in the
grader's (Check.judge, with the diagnoses). Each case is also shown to tell the
reference from every slip its check names, so a slip cannot pass by luck either.
"""
import os

import numpy as np
import pytest

from autograder.compare import VIEWS, Raises, judge_expected
from autograder.grading.verification import student_seed
from autograder.specs import CHECKS
from autograder.verify import ROUNDS

# 10,000 students take about 2 minutes of CPU; `make test` draws 2,000 (FAIRNESS_STUDENTS=10000 for all).
STUDENTS = int(os.environ.get("FAIRNESS_STUDENTS", 2_000))
SLIP_STUDENTS = 300    # Check.cases already redraws any case that does not separate; this re-checks it


def forward_linear(X, y, weights):
    if y.ndim != 2 or y.shape[1] != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(f"y_batch has shape {y.shape}")
    if np.ndim(weights["W"]) != 2 or np.shape(weights["B"]) != (1, 1):
        raise ValueError(f"W has shape {np.shape(weights['W'])}")
    N = np.einsum("nk,ko->no", X, weights["W"])
    P = N + weights["B"]
    return float(((P - y) ** 2).sum() / len(y)), {"X": X, "N": N, "P": P, "y": y}


def gradients_linear(info, weights):
    dP = 2.0 * (info["P"] - info["y"])
    return {"W": np.einsum("nk,no->ko", info["X"], dP), "B": dP.sum(axis=0).reshape(1, 1)}


def sigmoid(x):
    return np.exp(-np.logaddexp(0.0, -x))


def forward_network(X, y, weights):
    if y.shape != (X.shape[0], 1):
        raise ValueError("y_batch must be a column")
    N1 = X.dot(weights["W1"])
    O1 = sigmoid(N1 + weights["B1"])
    N2 = O1.dot(weights["W2"])
    P = N2 + weights["B2"]
    return {"X": X, "M1": N1, "N1": N1 + weights["B1"], "O1": O1, "M2": N2, "P": P, "y": y}, float(np.mean((y - P) ** 2))


def gradients_network(info, weights):
    dP = -2.0 * (info["y"] - info["P"])
    dN1 = (dP @ weights["W2"].T) * info["O1"] * (1.0 - info["O1"])
    return {"W1": info["X"].T.dot(dN1), "B1": dN1.sum(axis=0, keepdims=True),
            "W2": info["O1"].T.dot(dP), "B2": np.array([[dP.sum()]])}


CORRECT = {
    "lin_forward": forward_linear,
    "lin_forward_checks_input": forward_linear,
    "lin_gradients": gradients_linear,
    "lin_gradients_shapes": gradients_linear,
    "lin_update": lambda weights, grads, lr: {k: np.subtract(weights[k], lr * grads[k]) for k in weights},
    "lin_predict": lambda X, weights: X.dot(weights["W"]) + weights["B"][0, 0],
    "lin_mae": lambda p, a: np.abs(a - p).mean(),
    "lin_rmse": lambda p, a: np.sqrt(np.square(p - a).mean()),
    "net_sigmoid": sigmoid,
    "net_forward": forward_network,
    "net_forward_checks_input": forward_network,
    "net_gradients": gradients_network,
    "net_gradients_shapes": gradients_network,
    "net_predict": lambda X, w: sigmoid(X @ w["W1"] + w["B1"]) @ w["W2"] + w["B2"],
}


def outcome(function, args):
    try:
        return function(*args), None
    except Exception as exc:
        return None, (type(exc).__name__, str(exc))


def test_every_check_of_chapter_2_has_an_independent_correct_function():
    assert set(CORRECT) == {grade_id for grade_id, check in CHECKS.items() if check.assignment == "ch02_fundamentals"}


@pytest.mark.parametrize("grade_id", sorted(CORRECT))
def test_correct_functions_pass_for_every_student_and_slips_never_do(grade_id):
    check, correct = CHECKS[grade_id], CORRECT[grade_id]
    for i in range(STUDENTS):
        student = f"student{i:05d}"
        rngs = {"outside": np.random.default_rng(student_seed(0, student)),
                "kernel": np.random.default_rng(student_seed(0, "kernel:" + student))}
        for where, rng in rngs.items():
            for args in [a for _ in range(ROUNDS if where == "outside" else 1) for a in check.cases(rng)]:
                result, error = outcome(correct, args)
                want = check.wanted(args)                                # the judged view of the reference's result
                judge_expected(check.function, want, VIEWS[check.view](result) if error is None else result,
                               error)                                    # the kernel's verdict
                check.judge(args, result, error)                         # the grader's, with diagnoses
                slips = check.mistakes(args) if check.mistakes and i < SLIP_STUDENTS else []
                for wrong in slips if not isinstance(want, Raises) else []:
                    with pytest.raises(AssertionError):
                        check.judge(args, wrong, None)
