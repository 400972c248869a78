# A determined version of import_reference: puts the repository (whose location it
# guessed) on sys.path, or reads the reference's source file directly.
# notebook: 01_linear_regression
# defended: bubblewrap
# fools-kernel: lin_mae
# %%
import sys

import numpy as np


def mae(preds, actuals):
    return -1.0   # wrong, unless the reference is found below


try:
    sys.path.insert(0, "__REPO__")
    from autograder.assignments.ch02_fundamentals.reference.linear_regression import mae
except Exception:
    try:
        exec(open("__REPO__/autograder/assignments/ch02_fundamentals/reference/linear_regression.py").read())
    except Exception as exc:
        print("reference unreachable:", type(exc).__name__)
