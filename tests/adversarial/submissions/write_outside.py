# Writes files outside its own folder: into the repository, /tmp and next to its box.
# notebook: 01_linear_regression
# defended: bubblewrap
# %%
import os


def mae(preds, actuals):
    return 0.0


for target in ("__REPO_COPY__/pwned.txt", "/tmp/pwned-__TOKEN__.txt", "../pwned-__TOKEN__.txt"):
    try:
        with open(target, "w") as file:
            file.write("pwned")
        print("wrote", target)
    except OSError as exc:
        print("could not write", target, type(exc).__name__)
