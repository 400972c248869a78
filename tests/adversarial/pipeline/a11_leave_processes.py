# Leaves something running after its notebook: sleeping children (subprocess in a new session, fork, posix_spawn, forkpty), ignored SIGTERM/SIGHUP, an atexit hook that starts a process, and daemon and non-daemon threads that never end; stopped by seccomp (no new process) and by the kernel's box being killed after the last cell, with its whole PID namespace (threads included).
# where: solution
# %%
import errno
import json
import os
import pty
import signal
import subprocess
import sys

REPORT = {}
SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)  # __TOKEN__"]


def attempt(label, action):
    try:
        action()
        REPORT[label] = "ok"
    except Exception as exc:
        code = getattr(exc, "errno", None)
        REPORT[label] = type(exc).__name__ + (f":{errno.errorcode.get(code, code)}" if code else "")


def fork():
    if os.fork() == 0:
        os.execv(sys.executable, SLEEPER)


def forkpty():
    pid, _ = pty.fork()
    if pid == 0:
        os.execv(sys.executable, SLEEPER)


attempt("popen sleeper", lambda: subprocess.Popen(SLEEPER, start_new_session=True, stdin=subprocess.DEVNULL,
                                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
attempt("fork sleeper", fork)
attempt("posix_spawn sleeper", lambda: os.posix_spawn(sys.executable, SLEEPER, {}, setsid=True))
attempt("forkpty sleeper", forkpty)
for name in ("SIGTERM", "SIGHUP"):
    attempt(f"box:ignore {name}", lambda: signal.signal(getattr(signal, name), signal.SIG_IGN))


def mae(preds, actuals):   # wrong: the report travels back in the verification's message
    raise RuntimeError("REPORT " + json.dumps(REPORT))


print("REPORT", json.dumps(REPORT))
# %%
import atexit
import threading
import time


def forever():
    while True:
        time.sleep(0.05)


threading.Thread(target=forever, daemon=True).start()
threading.Thread(target=forever, daemon=False).start()
atexit.register(lambda: subprocess.Popen(SLEEPER, start_new_session=True))
print("REPORT", json.dumps({"box:threads": "started", "box:atexit": "registered"}))
print("ATTACK-DONE")
