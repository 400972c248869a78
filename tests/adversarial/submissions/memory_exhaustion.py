# Allocates without bound, in a cell and in a graded function.
# notebook: 01_linear_regression
# flags: memory limit
# %%
import numpy as np

hoard = []
while True:
    hoard.append(bytearray(50 << 20))
# %%
import numpy as np


def mae(preds, actuals):
    big = np.ones((1 << 40,))   # 8 TiB
    return float(big.sum())
