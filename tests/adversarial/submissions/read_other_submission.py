# Reads another student's submitted notebook at grading time and runs its solutions,
# falling back to a wrong mae.
# notebook: 01_linear_regression
# defended: bubblewrap
# %%
import json

import numpy as np


def mae(preds, actuals):
    return -1.0   # wrong, unless the other submission is readable


try:
    with open("__OTHER__") as file:
        for cell in json.load(file)["cells"]:
            if cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
                exec("".join(cell["source"]))
    print("copied the other submission")
except OSError as exc:
    print("other submission unreachable:", type(exc).__name__)
