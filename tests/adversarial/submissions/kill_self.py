# Kills its own process with SIGKILL when a graded function is called.
# notebook: 01_linear_regression
# flags: crash
# %%
import os
import signal


def mae(preds, actuals):
    os.kill(os.getpid(), signal.SIGKILL)
