# Edits the grader so that bob fails (the repository's autograder/hidden.py, compare.py, kernel_hidden.py, specs.py, coursekit/*, the course's and OUT/nbgrader's source notebook, the kernel's own stand-in package and cases, bob's grading folder); stopped by the box: the repository, the course and OUT are not there and the grading folder is read-only (and the grader's integrity check would stop the run).
# where: solution
# %%
import errno
import glob
import json
import os

REPORT = {}
FAIL_BOB = ('\n# pipeline attack __TOKEN__: fail __VICTIM__ (inert unless this variable is set)\n'
            'if __import__("os").environ.get("PIPELINE_ATTACK___TOKEN__") == "__VICTIM__":\n'
            '    raise AssertionError("__VICTIM__ fails")\n')


def attempt(label, action):
    try:
        action()
        REPORT[label] = "ok"
    except Exception as exc:
        code = getattr(exc, "errno", None)
        REPORT[label] = type(exc).__name__ + (f":{errno.errorcode.get(code, code)}" if code else "")


def append(path, text=FAIL_BOB):
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_APPEND), "a") as handle:
        handle.write(text)


def create(path):
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644), "w") as handle:
        handle.write(FAIL_BOB)


for name in ("hidden.py", "compare.py", "kernel_hidden.py", "specs.py", "_sandbox_child.py", "verify.py",
             "coursekit/__init__.py", "coursekit/checks.py"):
    attempt("repo " + name, lambda: append(f"__REPO__/autograder/{name}"))
attempt("repo new kit module", lambda: create("__REPO__/autograder/coursekit/pwned___TOKEN__.py"))
attempt("course source", lambda: append("__COURSE__/source/tiny/01_linear_regression.ipynb", " "))
attempt("record source", lambda: append("__OUT__/nbgrader/source/tiny/01_linear_regression.ipynb", " "))
grading = os.environ.get("PYTHONPATH", "")
if grading:   # the kernel's own stand-in package and cases: read-only
    for name in ("autograder/compare.py", "autograder/hidden.py", "cases.json"):
        attempt("own " + name, lambda: append(os.path.join(grading, name), "\n"))
    attempt("own new module", lambda: create(os.path.join(grading, "autograder", "pwned___TOKEN__.py")))
for number, folder in enumerate(glob.glob("__OUT__/.work/worker-*/kernel/__VICTIM__")):
    attempt(f"victim cases {number}", lambda: append(os.path.join(folder, "autograder", "compare.py")))
for number, path in enumerate(glob.glob("/tmp/verify-*/lib/coursekit/*.py")[:4]):
    attempt(f"verify kit {number}", lambda: append(path))


def mae(preds, actuals):   # wrong: the report travels back in the verification's message
    raise RuntimeError("REPORT " + json.dumps(REPORT))


print("REPORT", json.dumps(REPORT))
print("ATTACK-DONE")
