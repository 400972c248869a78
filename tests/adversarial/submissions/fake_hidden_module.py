# Replaces autograder.hidden in sys.modules with a fake whose run_hidden_test
# always passes, behind a wrong mae.
# notebook: 01_linear_regression
# fools-kernel: lin_mae
# %%
import sys
import types

import numpy as np

fake = types.ModuleType("autograder.hidden")
fake.run_hidden_test = lambda *args, **kwargs: print("all hidden tests passed")
sys.modules["autograder.hidden"] = fake


def mae(preds, actuals):
    return 0.0   # wrong
