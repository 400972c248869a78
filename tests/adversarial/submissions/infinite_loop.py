# Never returns from a graded function.
# notebook: 01_linear_regression
# flags: timeout
# %%
def mae(preds, actuals):
    while True:
        pass
