# Writes files everywhere: /, the grader's $HOME, the repository, site-packages, the interpreter, OUT, the course, bob's submission folder, /usr, /etc, /var/tmp, /tmp/pwned-<token>, and every other writable mount it finds; stopped by the box: those host folders are read-only or absent in it, and what it can write lands in tmpfs made for the box (its root with the folders leading to its mounts, /tmp, $HOME=/tmp, its working folder) that vanish with it, or in its socket folder, removed when the kernel ends.
# where: solution
# %%
import errno
import json
import os

REPORT = {}
NAME = "pwned-__TOKEN__"


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


def create(folder):
    path = os.path.join(folder, NAME)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644), "w") as handle:
        handle.write("pwned __TOKEN__\n")
    return landed(path)


for label, folder in [("/", "/"), ("grader home", "__HOME__"), ("repo", "__REPO__"),
                      ("repo autograder", "__REPO__/autograder"), ("site-packages", "__SITE__"),
                      ("stdlib", "__STDLIB__"), ("venv", "__VENV__"), ("out", "__OUT__"),
                      ("out/.work", "__OUT__/.work"), ("course", "__COURSE__"),
                      ("victim folder", "__SUBMISSIONS__/__VICTIM__/tiny"), ("/usr", "/usr"), ("/etc", "/etc"),
                      ("/root", "/root"), ("/work", "/work"), ("/var/tmp", "/var/tmp")]:
    attempt(label, lambda: create(folder))
# Inside the box these are its own: they must not reach the host's /tmp or $HOME.
attempt("box:/tmp", lambda: create("/tmp"))
attempt("box:~", lambda: create(os.path.expanduser("~")))
attempt("box:cwd", lambda: create("."))
attempt("box:/dev/shm", lambda: create("/dev/shm"))
# Every other writable mount of the box.
mounts = []
try:
    for line in open("/proc/self/mountinfo"):
        fields = line.split()
        point, options, kind = fields[4], fields[5], line.split(" - ")[1].split()[0]
        if options.startswith("rw") and kind not in ("proc", "devtmpfs", "devpts", "mqueue") and \
                point not in ("/", "/tmp", "/dev", os.getcwd()) and not point.startswith(("/proc", "/dev")):
            mounts.append(point)
except OSError:
    pass
for point in mounts[:5]:
    attempt(f"hostrw:{point}", lambda: create(point))


def mae(preds, actuals):   # wrong: the report travels back in the verification's message
    raise RuntimeError("REPORT " + json.dumps(REPORT))


print("REPORT", json.dumps(REPORT))
print("ATTACK-DONE")
