# Writes straight to file descriptor 1 until something stops it (the file-size limit).
# notebook: 01_linear_regression
# flags: output limit
# %%
import os

block = b"y" * (1 << 20)
for _ in range(1000):   # 1 GB at most
    os.write(1, block)


def mae(preds, actuals):
    return 0.0
