"""The student's grading kernel, in a box: it reaches nothing but its own folder.

nbgrader runs a student's notebook in a Jupyter kernel. Here that kernel is started by
`ConfinedKernelManager` (nbclient's kernel manager, configured per student by the
Autograde step) under bubblewrap:

* new user, PID, IPC, UTS, cgroup and network namespaces, as uid 65534 with no
  capabilities and no way to make further user namespaces; no network at all: the
  kernel talks to nbclient over Unix sockets in a private folder bound into the box;
* read-only: /usr, the Python installation and the virtual environment; read-only and
  private to this student: the grading folder (a stand-in `autograder` package that
  holds only compare.py and this student's cases with their expected results, see
  kernel_hidden.py) and the student's own staged files;
* writable: a size-limited tmpfs over the working folder (the student's files are
  bound read-only inside it) and another as /tmp, both gone with the box;
* not there at all: the repository (source/, solutions/, the reference, the hidden
  checks), other students, the run's output folder, the verification's folders;
* limits on the kernel: address space, CPU time, file size, open files, and a seccomp
  filter that refuses new processes, ptrace, process_vm_* and io_uring. When the kernel ends, its PID namespace ends, and everything in it.

Two ways to start the kernel in its box, with the same box and the same results:

* fresh (`--fresh-kernels`): bubblewrap runs `python -m ipykernel_launcher`, which then
  spends a second or two importing ipykernel and the notebooks' libraries;
* from the template (the default with bubblewrap): bubblewrap runs a placeholder, and a
  process that imported those libraries once per worker (kernel_template.py) forks a
  kernel that joins the box's namespaces and confines itself as bubblewrap would.

Without bubblewrap, grading refuses to start unless the grader accepts unconfined
kernels explicitly (`--allow-unconfined`): the kernel then runs with the same limits,
seccomp filter and clean environment, as uid "nobody" where it can, but sees the
grader's file system (docs/threat-model.md says what that gives up).
"""
import base64
import dataclasses
import importlib.util
import json
import logging
import os
import pwd
import resource
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from queue import Empty

import numpy as np
import psutil
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from traitlets import Bool, Dict, Type, Unicode

from .. import _sandbox_child as wire
from .. import sandbox
from ..compare import Raises

BUBBLEWRAP, UNCONFINED = "bubblewrap", "unconfined"
PACKAGE = Path(__file__).resolve().parents[1]
# The stand-in package a confined kernel imports as `autograder`: names in the box -> our files.
BOX_PACKAGE = {"__init__.py": None, "hidden.py": PACKAGE / "kernel_hidden.py",
               "compare.py": PACKAGE / "compare.py", "_sandbox_child.py": PACKAGE / "_sandbox_child.py"}
BOX_UID = 65534
TEMPLATE_SCRIPT = Path(__file__).with_name("kernel_template.py")
PLACEHOLDER = "/usr/bin/cat"     # holds the box open until the kernel that joins it has died
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KernelLimits:
    memory_bytes: int = 4 << 30     # RLIMIT_AS of the kernel
    cpu_seconds: int = 600          # RLIMIT_CPU of the kernel: one notebook's whole run
    file_bytes: int = 64 << 20      # RLIMIT_FSIZE
    disk_bytes: int = 256 << 20     # each of the two tmpfs: the working folder and /tmp
    open_files: int = 1024          # RLIMIT_NOFILE


def available() -> bool:
    """Whether bubblewrap can run the kernel's interpreter here (checked once, logged either way)."""
    python = str(Path(sys.executable).resolve())
    return sandbox.bubblewrap_works(python, str(Path(np.__file__).resolve().parent.parent))


# ---------------------------------------------------------------- what the box is given

def write_grading_folder(folder: Path, cases: dict):
    """folder/autograder/ (the stand-in package) and folder/cases.{json,npz}.

    cases: {grade_id: (Check, [(args, expected or Raises)])}."""
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "autograder").mkdir(parents=True)
    for name, source in BOX_PACKAGE.items():
        target = folder / "autograder" / name
        target.write_text(source.read_text() if source else '"""The grader\'s stand-in package."""\n')
    arrays, tree = {}, {}
    for grade_id, (check, pairs) in cases.items():
        tree[grade_id] = {"function": check.function, "view": check.view, "script": check.script, "cases": [
            {"args": wire.encode(args, arrays),
             "expect": None if isinstance(want, Raises) else wire.encode(want, arrays),
             "raises": want.message if isinstance(want, Raises) else None,
             "raises_type": want.exception if isinstance(want, Raises) else None} for args, want in pairs]}
    np.savez(folder / "cases.npz", **arrays)
    (folder / "cases.json").write_text(json.dumps(tree))


def font_cache(folder: Path) -> Path:
    """Matplotlib's font list, built once by the grader, so that no kernel spends a second on it."""
    from matplotlib import font_manager
    target = folder / f"fontlist-v{font_manager.FontManager.__version__}.json"
    if not target.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        scratch = folder / f".{target.name}.{os.getpid()}"
        font_manager.json_dump(font_manager.FontManager(), scratch)
        os.replace(scratch, target)    # workers may build it at the same time
    return target


# ---------------------------------------------------------------- the kernel manager

class PromptKernelClient(AsyncKernelClient):
    """jupyter_client's client, ready as soon as the kernel has answered kernel_info on the shell channel
    and sent a message on IOPub (the proof that IOPub is connected).

    jupyter_client's own wait_for_ready then reads IOPub until 0.2 s pass without a message, which
    keeps a worker idle for 0.2 s at every kernel start (two per student). What that would discard, the
    kernel_info request's own status messages, nbclient skips anyway: it reads IOPub for the msg_id of
    the request it sent."""

    async def wait_for_ready(self, timeout=None):
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        while True:
            self.kernel_info()
            try:
                reply = await self.shell_channel.get_msg(timeout=1)
            except Empty:
                reply = None
            if reply is not None and reply["msg_type"] == "kernel_info_reply":
                try:
                    await self.iopub_channel.get_msg(timeout=0.2)
                except Empty:       # IOPub not connected yet: the kernel's message was lost, ask again
                    pass
                else:
                    self._handle_kernel_info_reply(reply)
                    return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")


class ConfinedKernelManager(AsyncKernelManager):
    """nbclient's kernel manager, starting the kernel confined (see the module docstring)."""

    client_factory = Type(PromptKernelClient, klass=AsyncKernelClient)
    mode = Unicode(BUBBLEWRAP, help="bubblewrap or unconfined").tag(config=True)
    grading_dir = Unicode("", help="the stand-in autograder package and this student's cases").tag(config=True)
    fonts = Unicode("", help="a prebuilt matplotlib font list").tag(config=True)
    limits = Dict({}, help="KernelLimits fields").tag(config=True)
    extra_env = Dict({}, help="variables the kernel gets (MPLBACKEND, thread counts)").tag(config=True)
    sockets_root = Unicode("", help="where the kernel's socket folder is made (default: the system's)").tag(config=True)
    from_template = Bool(False, help="fork the kernel from the worker's kernel template (bubblewrap only)").tag(config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # Short path: a Unix socket's name may not exceed 107 bytes.
        self.sockets = Path(tempfile.mkdtemp(prefix="k", dir=self.sockets_root or None))
        self.transport, self.ip = "ipc", str(self.sockets / "k")
        self.connection_file = str(self.sockets / "connection.json")

    @property
    def kernel_spec(self):
        spec = super().kernel_spec
        if spec is not None:
            spec.interrupt_mode = "message"   # a signal would reach bubblewrap, not the kernel
        return spec

    def box_limits(self) -> KernelLimits:
        return KernelLimits(**self.limits)

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        cwd = Path(kw.get("cwd") or os.getcwd())
        limits = self.box_limits()
        fonts = Path(self.fonts) if self.fonts else None
        env = kernel_environment(self.extra_env, Path(self.grading_dir), fonts)
        if self.mode == BUBBLEWRAP and self.from_template and launcher_argv(kernel_cmd):
            try:
                return await self._async_launch_from_template(kernel_cmd, cwd, env, limits, fonts, dict(kw))
            except TemplateError as exc:
                log.warning("kernel template failed (%s): starting a fresh kernel", exc)
        fds = ()
        if self.mode == BUBBLEWRAP:
            program = sandbox.seccomp_program(sockets=True)
            fds = () if program is None else (sandbox.seccomp_fd(program),)
            argv = bubblewrap_argv(kernel_cmd, cwd, self.sockets, Path(self.grading_dir), env, limits,
                                   fds[0] if fds else None, fonts)
            kw.update(env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")}, pass_fds=fds,
                      preexec_fn=lambda: set_limits(limits))
        else:
            argv = list(kernel_cmd)
            drop = nobody_can_run(kernel_cmd[0])
            kw.update(env=env, preexec_fn=unconfined_preexec(limits, drop))
            if drop:
                kernel_folder_for_nobody(cwd, self.sockets)
        # Never the worker's own streams (its log holds other students' output): the kernel's
        # output reaches nbclient over its sockets anyway.
        kw.update(stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            return await super()._async_launch_kernel(argv, **kw)
        finally:
            for fd in fds:
                os.close(fd)

    async def _async_launch_from_template(self, kernel_cmd, cwd, env, limits, fonts, kw):
        """The same box as a fresh kernel's, with the placeholder in it; then the template's fork joins it."""
        program = sandbox.seccomp_program(sockets=True)
        fds = () if program is None else (sandbox.seccomp_fd(program),)
        stdin, holder = os.pipe()
        info_read, info_write = os.pipe()
        argv = bubblewrap_argv([PLACEHOLDER], cwd, self.sockets, Path(self.grading_dir), env, limits,
                               fds[0] if fds else None, fonts, info_fd=info_write)
        kw.update(env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")}, pass_fds=(*fds, info_write),
                  preexec_fn=lambda: set_limits(limits), stdin=stdin, stdout=subprocess.DEVNULL,
                  stderr=subprocess.DEVNULL)
        try:
            info = await super()._async_launch_kernel(argv, **kw)
        finally:
            for fd in (*fds, stdin, info_write):
                os.close(fd)
        try:
            placeholder = placeholder_pid(info_read)
            request = {"placeholder": placeholder, "env": env, "cwd": str(cwd), "argv": launcher_argv(kernel_cmd),
                       "limits": dataclasses.asdict(limits), "seccomp": base64.b64encode(program or b"").decode()}
            KernelTemplate.get(template_environment(env)).fork(request, holder)
        except TemplateError:
            await self._async_kill_kernel()
            raise
        finally:
            os.close(info_read)
            os.close(holder)
        return info

    def seal(self):
        """Once the kernel has made its sockets, it may create nothing more in their folder, which
        lies on the grader's disk: the folder goes to another owner, read-only. (As root only:
        otherwise the kernel's uid outside the box owns the folder and could undo it; the
        per-file size limit then bounds each file, not their number: docs/threat-model.md.)"""
        if os.geteuid() == 0:
            uid, gid = nobody()
            os.chown(self.sockets, uid, gid)
            os.chmod(self.sockets, 0o555)

    async def _async_cleanup_resources(self, restart=False):
        await super()._async_cleanup_resources(restart=restart)
        shutil.rmtree(self.sockets, ignore_errors=True)


def kernel_environment(extra: dict, grading: Path, fonts: Path | None = None) -> dict:
    """A kernel's whole environment. MPLCONFIGDIR is the font list's folder (a tmpfs in the box, with the
    list in it) because matplotlib reads it once, at import: in the template, then in no kernel.
    PYTHONHASHSEED is fixed, as a forked kernel has its template's: every grading kernel, fresh or
    forked, orders a set of strings the same way, so a regrade prints what the first grading printed."""
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": "/tmp", "TMPDIR": "/tmp",
           "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "PYTHONPATH": str(grading), "PYTHONDONTWRITEBYTECODE": "1",
           "PYTHONHASHSEED": "0", "MPLCONFIGDIR": str(fonts.parent) if fonts else "/tmp/matplotlib",
           "IPYTHONDIR": "/tmp/ipython", "JUPYTER_PLATFORM_DIRS": "1"}
    if "OPENBLAS_CORETYPE" in os.environ:    # needed by OpenBLAS on some CPUs
        env["OPENBLAS_CORETYPE"] = os.environ["OPENBLAS_CORETYPE"]
    env.update(extra)
    return env


def bubblewrap_argv(kernel_cmd, cwd: Path, sockets: Path, grading: Path, env: dict, limits: KernelLimits,
                    seccomp_fd, fonts: Path | None, info_fd=None):
    python = Path(sys.executable)
    prefixes = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), python.resolve().parent.parent}
    args = ["bwrap", "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", "--new-session",
            "--uid", str(BOX_UID), "--gid", str(BOX_UID), "--cap-drop", "ALL", "--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64"):    # merged /usr: these are symlinks
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    args += ["--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache", "--proc", "/proc", "--dev", "/dev",
             "--size", str(limits.disk_bytes), "--tmpfs", "/tmp"]
    for prefix in sorted(prefixes):
        args += ["--ro-bind", str(prefix), str(prefix)]
    if Path(sys.prefix) != Path(sys.prefix).resolve():    # a venv reached through a symlink
        args += ["--symlink", str(Path(sys.prefix).resolve()), sys.prefix]
    args += ["--bind", str(sockets), str(sockets), "--ro-bind", str(grading), str(grading),
             "--size", str(limits.disk_bytes), "--tmpfs", str(cwd)]
    for entry in sorted(cwd.iterdir()):
        if entry.suffix != ".ipynb" and not entry.is_symlink():
            args += ["--ro-bind", str(entry), str(cwd / entry.name)]
    if fonts:
        args += ["--size", str(limits.disk_bytes), "--tmpfs", env["MPLCONFIGDIR"],
                 "--ro-bind", str(fonts), f"{env['MPLCONFIGDIR']}/{fonts.name}"]
    # The box's own root (where bubblewrap made the mount points) is read-only: writes go to the two tmpfs.
    args += ["--remount-ro", "/", "--chdir", str(cwd), "--clearenv"]
    for name, value in sorted(env.items()):
        args += ["--setenv", name, value]
    if seccomp_fd is not None:
        args += ["--seccomp", str(seccomp_fd)]
    if info_fd is not None:
        args += ["--info-fd", str(info_fd)]
    return args + ["--", *kernel_cmd]


def set_limits(limits: KernelLimits):
    """Meant for preexec_fn (no allocation-heavy work, no imports)."""
    for which, value in [(resource.RLIMIT_AS, limits.memory_bytes),
                         (resource.RLIMIT_CPU, limits.cpu_seconds),
                         (resource.RLIMIT_FSIZE, limits.file_bytes),
                         (resource.RLIMIT_NOFILE, limits.open_files),
                         (resource.RLIMIT_CORE, 0)]:
        resource.setrlimit(which, (value, value))


# ---------------------------------------------------------------- the kernel template (kernel_template.py)

def warm_template(extra_env: dict, fonts: Path | None):
    """Start this worker's template and wait for its imports: a worker does it before its first student,
    so that no student's clock pays for them. A template that fails here is retried (and, failing
    again, replaced by fresh kernels) when a kernel is needed."""
    try:
        KernelTemplate.get(template_environment(kernel_environment(extra_env, Path("."), fonts))).warm()
    except TemplateError as exc:
        log.warning("the kernel template did not start: %s", exc)


class TemplateError(RuntimeError):
    """The template could not give this box its kernel (the notebook then gets a fresh one)."""


def launcher_argv(kernel_cmd) -> list[str] | None:
    """A fresh kernel's sys.argv, if kernel_cmd is this interpreter's `-m ipykernel_launcher -f FILE ...`:
    the only command a template's fork can stand in for."""
    cmd = list(kernel_cmd)
    if len(cmd) < 5 or cmd[1:3] != ["-m", "ipykernel_launcher"] or cmd[3] != "-f":
        return None
    if os.path.realpath(shutil.which(cmd[0]) or cmd[0]) != os.path.realpath(sys.executable):
        return None
    return [importlib.util.find_spec("ipykernel_launcher").origin, *cmd[3:]]


def template_environment(kernel_env: dict) -> dict:
    """The template's environment: the kernel's, but for what differs between kernels (read at import by
    nothing the template imports; the fork sets the kernel's own)."""
    return {name: value for name, value in kernel_env.items() if name != "PYTHONPATH"}


def placeholder_pid(info_fd, seconds=30.0) -> int:
    """The pid (outside) of the placeholder once it runs: bubblewrap's --info-fd gives its init's pid, the
    placeholder is that init's child, and its namespaces are final once it has exec'd."""
    deadline = time.monotonic() + seconds
    text = b""
    while not text.endswith(b"}") and time.monotonic() < deadline:
        ready, _, _ = select.select([info_fd], [], [], max(0.0, deadline - time.monotonic()))
        chunk = os.read(info_fd, 4096) if ready else b""
        if not chunk:
            break
        text += chunk.strip()
    try:
        init = int(json.loads(text)["child-pid"])
    except (ValueError, KeyError) as exc:
        raise TemplateError(f"bubblewrap did not start the box ({text[:200]!r})") from exc
    while time.monotonic() < deadline:
        try:
            for pid in Path(f"/proc/{init}/task/{init}/children").read_text().split():
                if os.readlink(f"/proc/{pid}/exe") == PLACEHOLDER:
                    return int(pid)
        except OSError:
            pass
        time.sleep(0.001)
    raise TemplateError("the box's placeholder did not start")


def seen_by_boxes(path, out) -> bool:
    """Whether a kernel's box could see `path` (read-only or not, a socket there could be connected to):
    it lies under what every box mounts from the machine (the system, Python) or under the grader's
    output folder (where the kernels' working and grading folders are)."""
    path = Path(path).resolve()
    mounted = [Path(p).resolve() for p in ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc/ld.so.cache")]
    mounted += [Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), Path(sys.executable).resolve().parent.parent,
                Path(out).resolve()]
    return any(path == folder or folder in path.parents for folder in mounted)


class TemplateServer:
    """The run's template server (kernel_template.py --server): it imports once and forks each local
    worker's template, so that all of them share its pages. Started by the grader before its workers
    (their first student does not wait for it), listening on a socket in the run's private scratch folder
    (no box sees that folder: Grade checks; docs/threat-model.md); ended with the run, and with the
    grader (its parent-death signal), its templates with it. The grader keeps no copy of the listener:
    if the server dies, a worker's connection fails at once and it starts a template of its own."""

    def __init__(self, env: dict, folder: Path):
        self.folder = str(folder)
        with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as listener, \
                open(folder / "templates.log", "wb") as out:
            listener.bind(str(folder / "templates"))
            listener.listen(64)
            self.process = subprocess.Popen([sys.executable, str(TEMPLATE_SCRIPT), "--server", str(listener.fileno()),
                                             str(os.getpid())], env=env, cwd="/", pass_fds=(listener.fileno(),),
                                            stdin=subprocess.DEVNULL, stdout=out, stderr=out)

    def close(self):
        self.process.kill()
        self.process.wait()
        Path(self.folder, "templates").unlink(missing_ok=True)


# The folder of the run's template server (TemplateServer.folder), set in each worker (pipeline.start_worker);
# None: a template of the worker's own.
SERVER: str | None = None


class ForkedTemplate:
    """A template the server forked: not this process's child, seen through Popen's few methods."""

    def __init__(self, pid: int):
        self.pid, self.process = pid, psutil.Process(pid)

    def poll(self):
        try:
            return None if self.process.is_running() and self.process.status() != psutil.STATUS_ZOMBIE else 0
        except psutil.NoSuchProcess:
            return 0

    def kill(self):
        try:
            self.process.kill()
        except psutil.NoSuchProcess:
            pass

    def wait(self, timeout=None):
        try:
            self.process.wait(timeout)
        except psutil.NoSuchProcess:
            pass


class KernelTemplate:
    """One per worker process and environment: forked by the run's server (SERVER) where there is one
    for this environment, else started as a process of this worker's; started at first use, ended with
    the worker."""

    current = None

    def __init__(self, env: dict):
        self.env, self.ready = env, False
        self.log = self.log_path = None
        self.control, self.process = self.from_server() if SERVER else (None, None)
        if self.process is None:
            self.control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            self.log = tempfile.TemporaryFile()
            self.process = subprocess.Popen([sys.executable, str(TEMPLATE_SCRIPT), str(theirs.fileno())],
                                            env=env, cwd="/", pass_fds=(theirs.fileno(),),
                                            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
            theirs.close()

    def from_server(self, seconds=120.0):
        """(its control socket, the server's fork for this worker), or (None, None) and why in the worker's
        log. The socket pair is used for nothing else: one end sent to a server that did not answer in time
        could still reach a template later."""
        control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as server:
                server.settimeout(seconds)        # it answers once its imports are done
                server.connect(os.path.join(SERVER, "templates"))
                socket.send_fds(server, [json.dumps({"env": self.env}).encode()], [theirs.fileno()])
                reply = json.loads(server.recv(1 << 16) or b"{}")
            process = ForkedTemplate(reply["pid"]) if "pid" in reply else None
        except (OSError, ValueError, psutil.Error) as exc:
            reply, process = {"error": f"{type(exc).__name__}: {exc}"}, None
        finally:
            theirs.close()
        if process is None:
            control.close()
            log.warning("the template server gave no template (%s): starting one", reply.get("error", "no answer"))
            return None, None
        self.log_path = Path(SERVER) / "templates.log"      # the server's and all its templates'
        return control, process

    @classmethod
    def get(cls, env: dict) -> "KernelTemplate":
        if cls.current is None or cls.current.env != env or cls.current.process.poll() is not None:
            if cls.current is not None:
                cls.current.stop()
            cls.current = cls(env)
        return cls.current

    def warm(self, seconds=120.0):
        """Wait until the template has imported everything (a few seconds, once)."""
        if not self.ready:
            self.control.settimeout(seconds)
            try:
                said = self.control.recv(1 << 16)
            except OSError as exc:
                self.stop()
                raise TemplateError(f"{exc}; {self.tail()}") from exc
            if not said:
                self.stop()
                raise TemplateError(f"the template died while importing; {self.tail()}")
            self.ready = True
        return self

    def fork(self, request: dict, holder_fd: int, seconds=120.0):
        """A kernel from the template, in the box whose placeholder the request names: milliseconds."""
        self.warm()
        try:
            socket.send_fds(self.control, [json.dumps(request).encode()], [holder_fd])
            self.control.settimeout(seconds)
            reply = self.control.recv(1 << 16)
        except OSError as exc:
            self.stop()
            raise TemplateError(f"{exc}; {self.tail()}") from exc
        answer = json.loads(reply) if reply else {"error": f"the template died; {self.tail()}"}
        if "error" in answer:
            raise TemplateError(f"{answer['error']}; {self.tail()}")

    def tail(self) -> str:
        if self.log_path is not None:
            text = self.log_path.read_bytes() if self.log_path.is_file() else b""
        else:
            self.log.seek(0)
            text = self.log.read()
        return "its log: " + (text[-1500:].decode(errors="replace").strip() or "(empty)")

    def stop(self):
        self.process.kill()
        self.process.wait()
        self.control.close()
        if KernelTemplate.current is self:
            KernelTemplate.current = None


# ---------------------------------------------------------------- unconfined (explicitly accepted)

def nobody():
    try:
        entry = pwd.getpwnam("nobody")
        return entry.pw_uid, entry.pw_gid
    except KeyError:
        return BOX_UID, BOX_UID


def nobody_can_run(executable) -> bool:
    """As root, whether uid nobody could reach the interpreter (a Python under /root cannot)."""
    if os.geteuid() != 0:
        return False
    for path in [Path(executable), Path(executable).resolve(), Path(sys.prefix), Path(sys.base_prefix)]:
        for folder in [path, *path.parents]:
            if folder.is_dir() and not os.stat(folder).st_mode & 0o001:
                return False
    return True


def kernel_folder_for_nobody(cwd: Path, sockets: Path):
    """A kernel dropped to nobody must create its sockets and read its connection file."""
    if os.geteuid() == 0:
        uid, gid = nobody()
        for path in [sockets, *sockets.iterdir()]:
            os.chown(path, uid, gid)


def unconfined_preexec(limits: KernelLimits, drop_to_nobody: bool):
    uid, gid = nobody()

    def preexec():
        set_limits(limits)
        if drop_to_nobody:
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
        program = sandbox.seccomp_program(own_pid=os.getpid(), sockets=True)
        if program is not None:
            sandbox.install_seccomp(program)
    return preexec
