# Prints megabytes through sys.stdout.
# notebook: 01_linear_regression
# flags: output limit
# %%
import numpy as np

for _ in range(40):
    print("x" * 100_000)


def mae(preds, actuals):
    return 0.0
