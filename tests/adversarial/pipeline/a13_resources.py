# Reaches for other processes (/proc/*/environ, ptrace on its parent, process_vm_readv, a signal to the grader), the network (the test's listener on 127.0.0.1) and the machine (12 GiB, 300 processes, 3 GiB written to its folder and to /tmp), each in try/except so the notebook goes on; stopped by the PID and network namespaces, seccomp, RLIMIT_AS, RLIMIT_FSIZE and the 256 MiB tmpfs.
# rmse: 3
# %%
import ctypes
import errno
import glob
import json
import os
import socket

REPORT = {}


def attempt(label, action):
    try:
        action()
        REPORT[label] = "ok"
    except Exception as exc:
        code = getattr(exc, "errno", None)
        REPORT[label] = type(exc).__name__ + (f":{errno.errorcode.get(code, code)}" if code else "")


pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
REPORT["info:pids"] = pids
secrets = []
for path in glob.glob("/proc/[0-9]*/environ") + glob.glob("/proc/[0-9]*/cmdline"):
    try:
        with open(path, "rb") as handle:
            data = handle.read()
        if b"__TOKEN__" in data or b"PIPELINE_ATTACK_RUN" in data:
            secrets.append(path)
    except OSError:
        pass
REPORT["info:grader secrets seen"] = secrets
libc = ctypes.CDLL(None, use_errno=True)


def ptrace(request, pid):
    if libc.ptrace(request, pid, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "ptrace refused")
    libc.ptrace(17, pid, 0, 0)       # PTRACE_DETACH, should it ever attach


class IOVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


def vm_read(pid):
    buffer = ctypes.create_string_buffer(64)
    local, remote = IOVec(ctypes.addressof(buffer), 64), IOVec(0x400000, 64)
    if libc.process_vm_readv(pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0) < 0:
        raise OSError(ctypes.get_errno(), "process_vm_readv refused")


attempt("ptrace attach parent", lambda: ptrace(16, os.getppid()))
attempt("ptrace seize pid 1", lambda: ptrace(0x4206, 1))
attempt("process_vm_readv pid 1", lambda: vm_read(1))
attempt("tcp to the listener", lambda: socket.create_connection(("127.0.0.1", __PORT__), timeout=2).sendall(b"x"))
attempt("tcp6 to the listener", lambda: socket.create_connection(("::1", __PORT__), timeout=2).sendall(b"x"))


def allocate():
    block = bytearray(12 << 30)
    block[-1] = 1


attempt("allocate 12 GiB", allocate)
started = 0


def processes():
    global started
    for _ in range(300):
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        started += 1


attempt("300 processes", processes)
REPORT["info:processes started"] = started


def fill(folder, total=3 << 30, file_size=32 << 20):
    """Write `total` bytes in files of `file_size`; report MiB written and how it ended."""
    block, written, names = b"\0" * (1 << 20), 0, []
    try:
        while written < total:
            names.append(os.path.join(folder, f"fill-{len(names)}"))
            with open(names[-1], "wb") as handle:
                for _ in range(file_size >> 20):
                    handle.write(block)
                    written += len(block)
        return [written >> 20, "no error"]
    except OSError as exc:
        return [written >> 20, errno.errorcode.get(exc.errno, str(exc.errno))]
    finally:
        for name in names:
            try:
                os.unlink(name)
            except OSError:
                pass


REPORT["info:fill cwd"] = fill(".")
REPORT["info:fill /tmp"] = fill("/tmp")
REPORT["info:one 3 GiB file"] = fill("/tmp", file_size=3 << 30)
print("REPORT", json.dumps(REPORT))
print("ATTACK-DONE")
