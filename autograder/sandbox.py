"""Run an untrusted command with resource limits, a syscall filter and, where it works, bubblewrap.

Two isolation modes (see docs/threat-model.md):

* "bubblewrap": the command runs under `bwrap` in new user, PID, network, IPC and
  UTS namespaces, as uid 65534, seeing only read-only system directories, the
  directories it is given as readable (the interpreter, site-packages) and its
  own writable box; /tmp is an empty tmpfs; no network at all.
* "rlimits" (the fallback where bwrap is missing or does not work, e.g. in some
  containers): the same resource limits and syscall filter, an empty working
  directory and a clean environment, but the file system is the grader's own.

Both modes apply the rlimits of `Limits` and a seccomp filter that refuses to
create processes (fork, vfork, clone without CLONE_THREAD; clone3 reports
ENOSYS so that threads fall back to clone), sockets, io_uring and ptrace; in
"rlimits" mode it also refuses signals to any process but the child itself.
"""
import ctypes
import functools
import logging
import math
import os
import platform
import resource
import shutil
import signal
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

BUBBLEWRAP, RLIMITS = "bubblewrap", "rlimits"
OUTPUT_KEPT = 64 * 1024          # bytes of the command's output kept for the report
SANDBOX_UID = 65534              # "nobody" inside bubblewrap's user namespace


@dataclass(frozen=True)
class Limits:
    memory_bytes: int = 2 << 30      # RLIMIT_AS: address space of the child process
    file_bytes: int = 64 << 20       # RLIMIT_FSIZE: largest file it may write (stdout included)
    open_files: int = 64             # RLIMIT_NOFILE
    output_bytes: int = 1 << 20      # printed output beyond this fails verification ("output limit")


@dataclass(frozen=True)
class Outcome:
    returncode: int | None     # None if it was killed for the wall-clock timeout
    signal: int | None         # the signal that ended it, if any
    timed_out: bool
    output: str                # the first OUTPUT_KEPT bytes of stdout + stderr
    output_bytes: int
    isolation: str


# ---------------------------------------------------------------- seccomp

# (audit arch, syscalls refused with EPERM, clone, clone3, signal-sending syscalls)
SYSCALLS = {
    "x86_64": (0xC000003E, {"fork": 57, "vfork": 58, "socket": 41, "socketpair": 53, "ptrace": 101,
                            "process_vm_readv": 310, "process_vm_writev": 311, "pidfd_send_signal": 424,
                            "io_uring_setup": 425}, 56, 435, (62, 200, 234)),
    "aarch64": (0xC00000B7, {"socket": 198, "socketpair": 199, "ptrace": 117, "process_vm_readv": 270,
                             "process_vm_writev": 271, "pidfd_send_signal": 424, "io_uring_setup": 425},
                220, 435, (129, 130, 131)),
}
LD, JEQ, JGE, JSET, RET = 0x20, 0x15, 0x35, 0x45, 0x06
ALLOW, KILL = 0x7FFF0000, 0x80000000
EPERM, ENOSYS = 0x00050000 | 1, 0x00050000 | 38
CLONE_THREAD = 0x00010000


def seccomp_program(own_pid=None, sockets=False):
    """A classic-BPF seccomp filter as bytes, or None on an architecture we have no table for.

    With own_pid, kill/tkill/tgkill may only target own_pid, 0 (its own process group) or
    -own_pid (the group it leads). With sockets, socket and socketpair are allowed: a Jupyter
    kernel talks to its client over Unix sockets and to its own threads over TCP on loopback
    (so it gets a network namespace of its own wherever it can).
    """
    machine = MACHINE
    if machine not in SYSCALLS:
        return None
    arch, refused, clone, clone3, signalling = SYSCALLS[machine]
    allowed = [refused[name] for name in ("socket", "socketpair")] if sockets else []
    code = [(LD, 4, None, None), (JEQ, arch, 1, 0), (RET, KILL, None, None), (LD, 0, None, None)]
    if machine == "x86_64":
        code.append((JGE, 0x40000000, "eperm", None))                # the x32 ABI
    code += [(JEQ, number, "eperm", None) for number in refused.values() if number not in allowed]
    code += [(JEQ, clone3, "enosys", None), (JEQ, clone, "clone", None)]
    if own_pid is not None:
        code += [(JEQ, number, "signal", None) for number in signalling]
    code += [(RET, ALLOW, None, None),
             "clone", (LD, 16, None, None), (JSET, CLONE_THREAD, "allow", "eperm"),
             "signal", (LD, 16, None, None), (JEQ, own_pid or 0, "allow", None),
             (JEQ, -(own_pid or 0) & 0xFFFFFFFF, "allow", None), (JEQ, 0, "allow", "eperm"),
             "allow", (RET, ALLOW, None, None), "eperm", (RET, EPERM, None, None), "enosys", (RET, ENOSYS, None, None)]
    return assemble(code)


def assemble(code):
    """Resolve label jumps (relative, forward) and pack sock_filter structs."""
    labels, instructions = {}, []
    for item in code:
        if isinstance(item, str):
            labels[item] = len(instructions)
        else:
            instructions.append(item)

    def offset(target, here):
        return 0 if target is None else (target if isinstance(target, int) else labels[target] - here - 1)

    return b"".join(struct.pack("HBBI", op, offset(jt, i), offset(jf, i), k)
                    for i, (op, k, jt, jf) in enumerate(instructions))


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


# Looked up now, in the parent: between fork and exec (preexec_fn) the dynamic loader's lock may be
# held by another thread of the grader, so nothing there may load a library or resolve a symbol.
PRCTL = ctypes.CDLL(None, use_errno=True).prctl
MACHINE = platform.machine()


def install_seccomp(program):
    """Apply a filter to the calling process (meant for preexec_fn); it survives exec."""
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = SockFprog(len(program) // 8, ctypes.addressof(buffer))
    if PRCTL(38, 1, 0, 0, 0) != 0 or PRCTL(22, 2, ctypes.byref(fprog), 0, 0) != 0:  # NO_NEW_PRIVS; SECCOMP
        raise OSError(ctypes.get_errno(), "could not install the seccomp filter")


# ---------------------------------------------------------------- limits, environment, bubblewrap

def set_limits(limits, cpu_seconds):
    """Meant for preexec_fn. RLIMIT_NPROC is not set: root ignores it; the seccomp filter forbids forks."""
    for which, value in [(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1)),
                         (resource.RLIMIT_AS, (limits.memory_bytes,) * 2),
                         (resource.RLIMIT_FSIZE, (limits.file_bytes,) * 2),
                         (resource.RLIMIT_NOFILE, (limits.open_files,) * 2),
                         (resource.RLIMIT_CORE, (0, 0))]:
        resource.setrlimit(which, value)


def clean_environment(home):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "TMPDIR": str(home), "LANG": "C.UTF-8",
           "LC_ALL": "C.UTF-8", "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1"}
    env.update({name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                                       "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")})
    if "OPENBLAS_CORETYPE" in os.environ:    # needed by OpenBLAS on some CPUs
        env["OPENBLAS_CORETYPE"] = os.environ["OPENBLAS_CORETYPE"]
    return env


def bubblewrap_command(command, box, readable, seccomp_fd, hidden=(), disk_bytes=64 << 20):
    args = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session",
            "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64"):    # merged /usr: these are symlinks
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    args += ["--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache",
             "--proc", "/proc", "--dev", "/dev", "--size", str(disk_bytes), "--tmpfs", "/tmp"]
    for path in readable:
        args += ["--ro-bind", str(path), str(path)]
    for path in hidden:    # an empty tmpfs over what must not be seen inside a readable directory
        args += ["--tmpfs", str(path)]
    # The box is read-only (the child script, its job, the kit it imports); what the child may write
    # goes to two size-limited tmpfs (work/ and /tmp), gone with it: its results travel through the
    # descriptors the grader opened (pass_fds), and the box's own root is read-only.
    args += ["--ro-bind", str(box), str(box), "--size", str(disk_bytes), "--tmpfs", str(box / "work"),
             "--remount-ro", "/", "--chdir", str(box / "work")]
    if seccomp_fd is not None:
        args += ["--seccomp", str(seccomp_fd)]
    return args + ["--", *command]


def seccomp_fd(program):
    fd = os.memfd_create("seccomp", 0)
    os.write(fd, program)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


# ---------------------------------------------------------------- running

def run(command, box, *, readable, timeout_s, limits, isolation, hidden=(), pass_fds=()):
    """Run `command` (an argv) with box/work as its working directory; stdout+stderr go to box/output.txt.

    With bubblewrap only `readable` and `box` (read-only) and a tmpfs as box/work are visible, minus
    `hidden`; `pass_fds` are descriptors the command inherits (where it writes what it sends back).
    """
    box = Path(box)
    (box / "work").mkdir(exist_ok=True)
    cpu = math.ceil(timeout_s) + 1
    fds = ()
    if isolation == BUBBLEWRAP:
        program = seccomp_program()
        fds = () if program is None else (seccomp_fd(program),)
        argv = bubblewrap_command(command, box, readable, fds[0] if fds else None, hidden, limits.file_bytes)
        preexec = functools.partial(set_limits, limits, cpu)
    else:
        argv = command

        def preexec():
            set_limits(limits, cpu)
            program = seccomp_program(own_pid=os.getpid())
            if program is not None:
                install_seccomp(program)
    # The output is read back through this same open file: the child may replace the path by a symlink.
    with open(box / "output.txt", "w+b") as output:
        try:
            process = subprocess.Popen(argv, cwd=box / "work", env=clean_environment(box / "work"),
                                       stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                                       start_new_session=True, preexec_fn=preexec,
                                       pass_fds=(*fds, *pass_fds))
        finally:
            for fd in fds:
                os.close(fd)
        timed_out = False
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            if process.returncode is None:   # timed out, or the grader was interrupted: kill before reaping
                kill_group(process.pid)
                process.wait()
        return Outcome(None if timed_out else process.returncode, ending_signal(process.returncode, isolation),
                       timed_out, *read_output(output), isolation)


def kill_group(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def ending_signal(returncode, isolation):
    if returncode is not None and returncode < 0:
        return -returncode
    if isolation == BUBBLEWRAP and returncode is not None and returncode > 128:
        return returncode - 128     # bwrap reports a child killed by signal N as exit status 128 + N
    return None


def read_output(file):
    file.seek(0)
    kept = file.read(OUTPUT_KEPT)
    return kept.decode("utf-8", errors="replace"), os.fstat(file.fileno()).st_size


@functools.cache
def bubblewrap_works(python, site_packages):
    """Whether bwrap can run `python` importing numpy here; logged once either way."""
    if shutil.which("bwrap") is None:
        log.warning("bubblewrap (bwrap) not found: verification runs in 'rlimits' mode, without "
                    "file-system and network isolation (see docs/threat-model.md)")
        return False
    import tempfile
    with tempfile.TemporaryDirectory(prefix="bwrap-probe-") as box:
        probe = [python, "-I", "-S", "-c", f"import sys; sys.path.append({str(site_packages)!r}); import numpy"]
        outcome = run(probe, box, readable=readable_paths(python, site_packages), timeout_s=30,
                      limits=Limits(), isolation=BUBBLEWRAP)
    if outcome.returncode != 0:
        log.warning("bubblewrap does not work here (%s): verification runs in 'rlimits' mode",
                    outcome.output.strip()[-500:] or f"exit status {outcome.returncode}")
        return False
    return True


def readable_paths(python, site_packages):
    """What the sandbox must see: the interpreter's installation prefix and site-packages."""
    prefix = Path(os.path.realpath(python)).parent.parent
    return [prefix] + ([] if Path(site_packages).is_relative_to(prefix) else [Path(site_packages)])
