# Blocks without using CPU time, so only the wall-clock timeout can end it.
# notebook: 01_linear_regression
# flags: timeout
# %%
import time

time.sleep(3600)


def mae(preds, actuals):
    return 0.0
