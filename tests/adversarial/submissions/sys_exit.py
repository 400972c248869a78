# Calls sys.exit(0) from a graded function (SystemExit is not an Exception).
# notebook: 01_linear_regression
# flags: crash
# %%
import sys


def mae(preds, actuals):
    sys.exit(0)
