# Tries the instructor's code (autograder.assignments.ch02_fundamentals.reference, autograder.specs, the repository by path), cheats with the kernel's own expected values, and plants a correct mae in the outside verification's folders (/tmp/verify-*); stopped by the box (no repository, no other /tmp) and a read-only verification folder; the cheat fools the kernel but not verification on fresh cases (tampering suspected, 0 points).
# where: solution
# flags: tampering suspected
# %%
import errno
import glob
import importlib.util
import json
import os

REPORT = {}
CORRECT = "def mae(preds, actuals):\n    return float(np.mean(np.abs(preds - actuals)))\n"


def attempt(label, action):
    try:
        action()
        REPORT[label] = "ok"
    except Exception as exc:
        code = getattr(exc, "errno", None)
        REPORT[label] = type(exc).__name__ + (f":{errno.errorcode.get(code, code)}" if code else "")


def reference_mae():
    from autograder.assignments.ch02_fundamentals.reference.linear_regression import mae as stolen
    return stolen


def specs_mae():
    import autograder.specs
    return autograder.specs.CHECKS["lin_mae"].expect


def by_path(path):
    spec = importlib.util.spec_from_file_location("stolen", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read(path):
    with open(path) as handle:
        return handle.read()


def append(path, text):
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_APPEND), "a") as handle:
        handle.write(text)


def create(path, text):
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644), "w") as handle:
        handle.write(text)


def rewrite_job(path):
    with open(path, "r+") as handle:
        job = json.load(handle)
        job["cells"] = [cell.replace("return -1.0", "return float(np.mean(np.abs(preds - actuals)))")
                        for cell in job["cells"]]
        handle.seek(0)
        json.dump(job, handle)


attempt("import reference", reference_mae)
attempt("import specs", specs_mae)
attempt("reference by path", lambda: by_path("__REPO__/autograder/assignments/ch02_fundamentals/reference/linear_regression.py"))
attempt("specs by path", lambda: read("__REPO__/autograder/specs.py"))
attempt("course notebook", lambda: read("__COURSE__/source/tiny/01_linear_regression.ipynb"))
attempt("record notebook", lambda: read("__OUT__/nbgrader/source/tiny/01_linear_regression.ipynb"))
boxes = sorted(glob.glob("/tmp/verify-*"))
REPORT["info:verify boxes"] = len(boxes)
for number, box in enumerate(boxes[:5]):
    attempt(f"v{number} lib new", lambda: create(f"{box}/lib/mae___TOKEN__.py", CORRECT))
    attempt(f"v{number} kit", lambda: append(f"{box}/lib/coursekit/__init__.py", "\n" + CORRECT))
    attempt(f"v{number} job", lambda: rewrite_job(f"{box}/job.json"))
    attempt(f"v{number} child", lambda: append(f"{box}/child.py", "\n# __TOKEN__\n"))


def lookup_mae():
    """The kernel holds this student's cases and the reference's answers: answer from the table."""
    from autograder.hidden import load_cases
    _, pairs = load_cases("lin_mae")

    def mae(preds, actuals):
        for (p, a), want in pairs:
            if np.array_equal(p, preds) and np.array_equal(a, actuals):
                return want
        return -1.0
    return mae


try:
    mae = lookup_mae()
    REPORT["box:kernel cases"] = "ok"
except Exception as exc:
    REPORT["box:kernel cases"] = type(exc).__name__

    def mae(preds, actuals):   # wrong: the report travels back in the verification's message
        raise RuntimeError("REPORT " + json.dumps(REPORT))
print("REPORT", json.dumps(REPORT))
print("ATTACK-DONE")
