# Goes after the kernel template (the process its worker forks kernels from) and the kernels after it: signals every pid it can name outside its box, stops every process it may signal, joins the namespaces of its box's init, makes a user namespace, and opens the memory of every process it sees; stopped: the template and other kernels are in no namespace of this box, the kernel has no capabilities, and nothing outside its box has a pid here.
# %%
import ctypes
import errno
import json
import os
import signal

REPORT = {}
libc = ctypes.CDLL(None, use_errno=True)
box = {int(pid) for pid in os.listdir("/proc") if pid.isdigit()}
own = {int(task) for task in os.listdir("/proc/self/task")}     # kill() reaches its own threads by id


def outcome(action):
    """"ok" if the action succeeded, else the name of what refused it."""
    try:
        if action() is False:
            return errno.errorcode.get(ctypes.get_errno(), "failed")
        return "ok"
    except OSError as exc:
        return type(exc).__name__ + (f":{errno.errorcode.get(exc.errno, exc.errno)}" if exc.errno else "")


def signal_zero(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def join(name):
    fd = os.open(f"/proc/1/ns/{name}", os.O_RDONLY)
    try:
        return libc.setns(fd, 0) == 0
    finally:
        os.close(fd)


def read_memory(pid):
    with open(f"/proc/{pid}/mem", "rb") as handle:
        handle.seek(0x400000)
        handle.read(16)


reached = [pid for pid in range(1, 1 << 16) if pid not in box | own and signal_zero(pid)]
REPORT["signal a pid outside the box"] = "ok" if reached else "ESRCH"
REPORT["box:stop every process it may"] = outcome(lambda: os.kill(-1, signal.SIGSTOP))
for pid in box - own:
    outcome(lambda: os.kill(pid, signal.SIGCONT))
for name in ("user", "mnt", "pid", "net", "ipc"):
    REPORT[f"join its box init's {name} namespace"] = outcome(lambda: join(name))
REPORT["make a user namespace"] = outcome(lambda: libc.unshare(0x10000000) == 0)     # CLONE_NEWUSER
for pid in sorted(box - own):
    REPORT[f"box:read the memory of pid {pid}"] = outcome(lambda: read_memory(pid))
print("REPORT", json.dumps(REPORT))
print("ATTACK-DONE")
