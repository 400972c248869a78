"""The kernel template: a process that has imported what grading kernels import, and forks them.

A fresh grading kernel spends most of its start-up importing ipykernel, NumPy, SciPy,
scikit-learn and matplotlib. This process imports them once per worker, then, for each
notebook, forks a kernel that *joins the box bubblewrap has just built for that notebook*
(the box runs a placeholder, `cat`, until the kernel arrives). The kernel then has exactly
the namespaces, mounts and file system of a fresh kernel's box, and this script gives it
the rest of what bubblewrap gives a fresh kernel: uid 65534 with no capabilities, a new
session, the limits, the environment, the working folder, the seccomp filter.

Run by `confine.KernelTemplate` as `python kernel_template.py FD` (FD: its end of a socket
pair). Or forked from the run's template server: `python kernel_template.py --server FD PID`
(FD a listening socket, PID the grader's), started by `confine.TemplateServer` for a run's
local workers. The server imports once, then forks one template per worker that asks (a
process of its own PID namespace, sending its end of the pair and its environment, which must
be the server's), so that the workers' templates and kernels share those pages instead of each
template importing its own copy. The server runs nothing else.

Neither imports anything of the grader's: a kernel inherits this process's memory, so
nothing secret may ever be in it. It never runs student code, and a forked kernel cannot
reach it: the kernel lives in the box's PID namespace (this process is not in it), in the
box's user namespace (no rights over processes outside), without this process's open
files, and this process is not dumpable.

The protocol, one request at a time: the worker sends a JSON request (the placeholder's
pid, the kernel's environment, working folder, argv, limits, seccomp program) with one
file descriptor, the write end of the placeholder's stdin; a kernel holds it until it
dies, so the placeholder (and with it the box) ends when the kernel does. The reply is
{"ok": true} once the kernel process exists inside the box, or {"error": "..."}. Before the
first request, the template says {"ready": true} once its imports are done.
"""
import base64
import ctypes
import gc
import importlib
import json
import os
import random
import resource
import signal
import socket
import struct
import sys
import traceback

# What kernels import, at their start (ipykernel) or in the course's notebooks. A module
# that fails to import here is left out: the kernel that needs it fails the same way.
PRELOAD = ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell", "ipykernel.comm",
           "ipykernel.debugger", "IPython.core.interactiveshell", "IPython.core.completer",
           "IPython.core.completerlib", "IPython.core.debugger", "IPython.core.logger", "IPython.core.oinspect",
           "IPython.extensions.storemagic", "sqlite3", "pdb", "tornado.platform.asyncio",
           "matplotlib_inline.backend_inline", "debugpy", "jedi", "numpy", "scipy.special",
           "matplotlib", "matplotlib.pyplot", "matplotlib.patches", "sklearn.linear_model",
           "sklearn.model_selection", "sklearn.preprocessing", "sklearn.metrics")
# Joined in this order: the user namespace last, once the others are joined with this
# process's own rights (after it, this process only has rights inside the box).
NAMESPACES = ("cgroup", "ipc", "uts", "net", "pid", "mnt", "user")
KEEP_FD = 1000      # where a kernel keeps the placeholder's pipe (below the open-files limit)

PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_CHILD_SUBREAPER = 1, 4, 24, 36
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 38, 22, 47, 4
SECCOMP_MODE_FILTER, CAPABILITY_VERSION_3, CAP_SYS_PTRACE = 2, 0x20080522, 19
LIMITS = {"memory_bytes": resource.RLIMIT_AS, "cpu_seconds": resource.RLIMIT_CPU,
          "file_bytes": resource.RLIMIT_FSIZE, "open_files": resource.RLIMIT_NOFILE}

libc = ctypes.CDLL(None, use_errno=True)


def check(result, what):
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")


def prctl(option, arg2=0, arg3=0):
    check(libc.prctl(option, ctypes.c_ulong(arg2), ctypes.c_ulong(arg3), 0, 0), f"prctl({option})")


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


class CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


# ---------------------------------------------------------------- the template

CONTROL = None      # the socket to the worker
SET_BY_IMPORTS = {}  # environment variables the preloaded modules set (debugpy does), as they would in a kernel


def main():
    if sys.argv[1] == "--server":
        serve_workers(socket.socket(fileno=int(sys.argv[2])), grader=int(sys.argv[3]))
    else:
        harden()
        preload()
        serve(socket.socket(fileno=int(sys.argv[1])))


def harden():
    # Gone with its parent: a template started by its worker, with it; the server, with the grader; a
    # template the server forked, with the server (and with its worker: its control socket then ends).
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    prctl(PR_SET_DUMPABLE, 0)                     # no ptrace, no /proc/<pid>/mem, even for its own uid
    # Orphaned kernels (their forking child exits at once) become this process's children rather than
    # the machine's init's, and are reaped the moment they die (SIGCHLD ignored): a box's PID namespace
    # can only end once every process of it has been reaped, whatever the machine's init does.
    # (A fork keeps neither the subreaper flag nor the parent-death signal: a forked template sets both.)
    prctl(PR_SET_CHILD_SUBREAPER, 1)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    drop_capability(CAP_SYS_PTRACE)               # it never traces: nothing of its uid that lacks it may trace it


def preload():
    if sys.path and sys.path[0] == os.path.dirname(os.path.abspath(__file__)):
        del sys.path[0]                           # this script's folder is no kernel's
    before = dict(os.environ)
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - see PRELOAD
            pass
    SET_BY_IMPORTS.update({name: value for name, value in os.environ.items() if before.get(name) != value})
    gc.collect()
    gc.freeze()     # kernels share these pages with the template instead of copying them on the first collection
    return before


def serve_workers(listener, grader):
    """The template server: one template per worker that connects, forked once the imports are done."""
    harden()
    if os.getppid() != grader:
        return                                    # the grader died before the parent-death signal was set
    environment = preload()
    while True:
        connection, fds = None, []
        try:
            connection, _ = listener.accept()
            connection.settimeout(10)
            message, fds, _, _ = socket.recv_fds(connection, 1 << 20, 1)
            refusal = refuse(connection, message, fds, environment)
            if refusal:
                connection.sendall(json.dumps({"error": refusal}).encode())
                continue
            pid = os.fork()
            if pid == 0:
                become_template(listener, connection, fds[0])
            print(f"template {pid} forked for a worker", flush=True)
            connection.sendall(json.dumps({"ok": True, "pid": pid}).encode())
        except Exception as exc:  # noqa: BLE001 - that worker starts a template of its own
            print(f"a worker's request failed: {type(exc).__name__}: {exc}", flush=True)
        finally:
            for fd in fds:
                os.close(fd)
            if connection is not None:
                connection.close()


def refuse(connection, message, fds, environment):
    """Why this request gets no template, or None. Only a process of the server's own PID namespace (a
    worker; never a kernel, which lives in its box's) may ask, with one descriptor and the server's
    environment (the kernels' imports depend on it)."""
    peer = struct.unpack("3i", connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))[0]
    if peer <= 0 or pid_namespaces(peer) != 1:
        return "not a worker of this run"
    if not message or len(fds) != 1:
        return "a request is a message with one descriptor"
    if json.loads(message).get("env") != environment:
        return "this worker's kernels need another environment"
    return None


def pid_namespaces(pid) -> int:
    """In how many PID namespaces pid has a pid, counted from this process's (1: this one's alone). Read
    from /proc/<pid>/status, which needs no right over the process (its ns links would: this process
    has dropped CAP_SYS_PTRACE)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            return next(len(line.split()) - 1 for line in status if line.startswith("NSpid:"))
    except (OSError, StopIteration):
        return 0


def become_template(listener, connection, control_fd):
    """The forked child: the template of the worker that sent control_fd. Never returns."""
    try:
        listener.close()
        connection.close()
        harden()
        serve(socket.socket(fileno=control_fd))
    except BaseException:  # noqa: BLE001 - into the server's log, which the worker shows when it fails
        traceback.print_exc()
    finally:
        os._exit(0)


def serve(control):
    """A template: kernels for one worker, one request at a time, until the worker is gone."""
    global CONTROL
    CONTROL = control
    control.sendall(json.dumps({"ready": True}).encode())
    while True:
        message, fds, _, _ = socket.recv_fds(control, 1 << 20, 1)
        if not message:
            return                                # the worker is gone
        try:
            reply = fork_kernel(json.loads(message), fds[0])
        except Exception as exc:  # noqa: BLE001 - reported to the worker, which fails this notebook
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        finally:
            for fd in fds:
                os.close(fd)
        control.sendall(json.dumps(reply).encode())


def fork_kernel(request, pipe_fd):
    """Fork a child that joins the box's namespaces and forks the kernel inside its PID namespace; the
    child says how that went through a pipe, and exits."""
    namespaces = [os.open(f"/proc/{int(request['placeholder'])}/ns/{name}", os.O_RDONLY) for name in NAMESPACES]
    said, say = os.pipe()
    try:
        if os.fork() == 0:
            answer = b"ok"
            try:
                for fd, name in zip(namespaces, NAMESPACES):
                    check(libc.setns(fd, 0), f"setns({name})")
                if os.fork() == 0:                # the first process of this box's PID namespace we make
                    become_kernel(request, pipe_fd)
            except BaseException as exc:  # noqa: BLE001
                answer = f"{type(exc).__name__}: {exc}".encode()
            finally:
                os.write(say, answer[:4000])
                os._exit(0)                       # the kernel is now the template's (a subreaper's) child
        os.close(say)
        say = None
        answer = os.read(said, 4096).decode(errors="replace")
    finally:
        for fd in [*namespaces, said] + ([say] if say is not None else []):
            os.close(fd)
    return {"ok": True} if answer == "ok" else {"error": f"joining the box failed: {answer or 'no answer'}"}


# ---------------------------------------------------------------- the kernel, inside the box

def become_kernel(request, pipe_fd):
    """Never returns: runs the kernel, then exits."""
    status = 70
    try:
        confine(request, pipe_fd)
        fresh_interpreter_state(request)
        from ipykernel import kernelapp
        kernelapp.launch_new_instance()
        status = 0
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001
        traceback.print_exc()
    finally:
        try:
            import atexit
            atexit._run_exitfuncs()               # as at a fresh interpreter's exit
        finally:
            os._exit(status)


def confine(request, pipe_fd):
    """What bubblewrap and the kernel manager give a fresh kernel, besides the namespaces."""
    os.setsid()                                   # bubblewrap's --new-session
    drop_capabilities()
    for name, which in LIMITS.items():
        value = int(request["limits"][name])
        resource.setrlimit(which, (value, value))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # Open files: only /dev/null as 0, 1 and 2, and the placeholder's pipe.
    os.dup2(pipe_fd, KEEP_FD)
    null = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.closerange(3, KEEP_FD)
    os.closerange(KEEP_FD + 1, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
    prctl(PR_SET_DUMPABLE, 1)                     # as a fresh kernel is, inside its box
    program = base64.b64decode(request["seccomp"])
    if program:
        buffer = ctypes.create_string_buffer(program, len(program))
        prctl(PR_SET_NO_NEW_PRIVS, 1)
        check(libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(SockFprog(len(program) // 8,
                         ctypes.addressof(buffer))), 0, 0), "seccomp")
    else:
        prctl(PR_SET_NO_NEW_PRIVS, 1)


def drop_capability(number):
    """Out of this process's effective and permitted sets (a kernel's are emptied anyway)."""
    header, data = CapHeader(CAPABILITY_VERSION_3, 0), (CapData * 2)()
    check(libc.capget(ctypes.byref(header), data), "capget")
    word, bit = divmod(number, 32)
    data[word].effective &= ~(1 << bit)
    data[word].permitted &= ~(1 << bit)
    check(libc.capset(ctypes.byref(header), data), "capset")


def drop_capabilities():
    """Joining the box's user namespace gave every capability inside it; bubblewrap's kernel has none."""
    for cap in range(64):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            break                                 # past the last capability this kernel knows
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    data = (CapData * 2)()
    check(libc.capset(ctypes.byref(CapHeader(CAPABILITY_VERSION_3, 0)), data), "capset")


def fresh_interpreter_state(request):
    """What a fork carries over from the template, set as a fresh `python -m ipykernel_launcher` has it."""
    CONTROL.detach()        # its descriptor is closed: the object must not close a kernel's later one
    # The template's objects stay frozen (gc.freeze): live module state, never garbage; scanning them
    # would copy their pages into every kernel.
    os.environ.clear()
    os.environ.update(request["env"])
    os.environ.update(SET_BY_IMPORTS)
    os.chdir(request["cwd"])
    extra = [p for p in request["env"].get("PYTHONPATH", "").split(os.pathsep) if p]
    sys.path[:0] = extra
    sys.path_importer_cache.clear()
    importlib.invalidate_caches()
    sys.argv = list(request["argv"])
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    # Unseeded draws differ between kernels, as they do between fresh interpreters.
    random.seed()
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()


if __name__ == "__main__":
    main()
