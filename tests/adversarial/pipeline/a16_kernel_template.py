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
own = {int(task) for task in os.listdir("/proc/self/task")}

def signal_zero(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


reached = [pid for pid in range(1, 1 << 16) if pid not in box | own and signal_zero(pid)]
REPORT["signal a pid outside the box"] = "ok" if reached else "ESRCH"
try:
    os.kill(-1, signal.SIGSTOP)          # everything it may signal: only its own box
    REPORT["box:stop every process it may"] = "ok"
finally:
    for pid in box:
        try:
            os.kill(pid, signal.SIGCONT)
        except OSError:
            pass
for name in ("user", "mnt", "pid", "net", "ipc"):
    fd = os.open(f"/proc/1/ns/{name}", os.O_RDONLY)
    joined = libc.setns(fd, 0) == 0
    REPORT[f"join its box init's {name} namespace"] = "ok" if joined else errno.errorcode[ctypes.get_errno()]
    os.close(fd)
made = libc.unshare(0x10000000) == 0                     # CLONE_NEWUSER
REPORT["make a user namespace"] = "ok" if made else errno.errorcode[ctypes.get_errno()]
for pid in sorted(box - own):
    try:
        with open(f"/proc/{pid}/mem", "rb") as handle:
            handle.seek(0x400000)
            handle.read(16)
        REPORT[f"box:read the memory of pid {pid}"] = "ok"
    except OSError as exc:
        REPORT[f"box:read the memory of pid {pid}"] = type(exc).__name__


print("REPORT", json.dumps(REPORT))
print("ATTACK-DONE")
