"""The hidden-test cells' runner in the instructor's notebooks (source/, solutions/, nbval).

`run_hidden_test(grade_id, fn)` judges `fn` on the Check's cases with the reference
at hand, so a failure also names the slip. In the grading pipeline a student's
confined kernel imports kernel_hidden.py under this module's name instead: the same
verdicts, from that student's precomputed cases, with no reference in reach.
"""
import numpy as np

from .compare import run_cases
from .specs import CHECKS

SEEDS = (11, 23, 37)


def run_hidden_test(grade_id, function, seeds=SEEDS):
    check = CHECKS[grade_id]
    cases = [args for seed in seeds for args in check.cases(np.random.default_rng(seed))]
    run_cases(check.function, check.bind(function), cases, check.judge)
