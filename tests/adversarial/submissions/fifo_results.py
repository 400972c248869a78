# Tries to make the grader block or choke on its results: replaces the result files by FIFOs
# (there are none to replace: results travel through descriptors the grader opened) and, on
# exit, writes unfinished JSON through a copy of the results' descriptor.
# notebook: 01_linear_regression
# flags: invalid result
# %%
import atexit
import os
import sys

TREE = os.dup(int(sys.argv[3]))


def mae(preds, actuals):
    return -1.0


def plant():
    for name in ("results.json", "results.npz", "../results.json", "../results.npz"):
        try:
            os.mkfifo(name)
        except OSError:
            pass
    os.ftruncate(TREE, 0)
    os.lseek(TREE, 0, os.SEEK_SET)
    os.write(TREE, b'{"checks": {')


atexit.register(plant)
