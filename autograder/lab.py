"""JupyterLab for students and instructors: `make lab` (= `make student`) and `make instructor`.

Student (`python -m autograder.lab student`): every assignment released in notebooks/<a>/ gets
a working copy, workspace/<a>/, the first time the lab starts, and the lab serves workspace/.
A copy is never overwritten: when notebooks/<a>/ later holds a different release, that release
is copied beside it, to workspace/<a>.new-release-<id>/, and the student moves their answers
over when they choose. So `make release` and the formgrader may regenerate notebooks/ at any
time. workspace/ is git-ignored; workspace/.releases.json records which release each copy and
each offered release came from. The student's lab has nbgrader's Validate button and
Assignment List; the instructor-only parts (Formgrader, Course List, Create Assignment) are off.

Instructor (`python -m autograder.lab instructor`): serves the course root itself, so the
formgrader's links reach source/ and notebooks/, and Generate, Release, Collect, Autograde,
Manual Grading and Feedback all act on this course (nbgrader_config.py) and its gradebook.

Both: the exchange folder named in nbgrader_config.py (Exchange.root) is created if missing,
the server listens on --ip/--port (default 127.0.0.1:8888) with a fresh token, and the URL to
open is printed before the server starts. `running()` starts either lab in the background on a
free port and stops it, kernels included (the browser tests use it).
"""
import argparse
import contextlib
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

COURSE_ROOT = Path(__file__).resolve().parents[1]
WORKSPACE = COURSE_ROOT / "workspace"
STATE = ".releases.json"            # in the workspace: which release each copy came from
CONFIG = ".jupyter"                 # in the workspace: the student lab's Jupyter config
NEW_RELEASE = ".new-release-"       # workspace/<assignment>.new-release-<id>/
SKIP = ("__pycache__", ".ipynb_checkpoints", ".pytest_cache")
IGNORE = shutil.ignore_patterns(*SKIP, "*.pyc")

# nbgrader's parts that are for instructors: off in the student's lab.
INSTRUCTOR_PLUGINS = ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:course-list",
                      "@jupyter/nbgrader:create-assignment")
INSTRUCTOR_SERVER_EXTENSIONS = ("nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.course_list")


# --- the student's workspace -------------------------------------------------------------------

def release_digest(folder: Path) -> str:
    """A short id of a released assignment's content (names and bytes; caches left out)."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_file() and not any(part in SKIP for part in relative.parts) and path.suffix != ".pyc":
            digest.update(str(relative).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:10]


def released_assignments(course: Path) -> list[Path]:
    release = course / "notebooks"
    return sorted(p for p in release.iterdir() if p.is_dir() and not p.name.startswith(".")) \
        if release.is_dir() else []


def prepare_workspace(course: Path = COURSE_ROOT, workspace: Path = WORKSPACE) -> list[str]:
    """Give each released assignment a working copy; offer a changed release beside it.

    Never writes into an existing copy. Returns what it did, one line each, for the terminal.
    """
    workspace.mkdir(parents=True, exist_ok=True)
    state_file = workspace / STATE
    state = json.loads(state_file.read_text()) if state_file.is_file() else {}
    said = []
    for release in released_assignments(course):
        name, digest = release.name, release_digest(release)
        copy = workspace / name
        known = state.setdefault(name, {"copied": digest, "offered": [digest]})
        offered_now = False
        if not copy.exists():
            shutil.copytree(release, copy, ignore=IGNORE)
            known["copied"] = digest
            said.append(f"created {copy}, your copy of {name}")
        elif digest not in known["offered"]:
            beside = workspace / f"{name}{NEW_RELEASE}{digest}"
            if not beside.exists():
                shutil.copytree(release, beside, ignore=IGNORE)
            said.append(f"a new release of {name} is in {beside}; your work in {copy} is untouched: "
                        "move your answers across when you choose")
            offered_now = True
        if digest not in known["offered"]:
            known["offered"].append(digest)
        waiting = sorted(str(p) for p in workspace.glob(f"{name}{NEW_RELEASE}*") if p.is_dir())
        if waiting and not offered_now:
            said.append(f"reminder: a newer release of {name} waits in {', '.join(waiting)}")
    state_file.write_text(json.dumps(state, indent=1, sort_keys=True) + "\n")
    return said


# --- configuration -----------------------------------------------------------------------------

def course_config(course: Path):
    from traitlets.config.loader import PyFileConfigLoader
    return PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()


def ensure_exchange(course: Path) -> Path | None:
    """Create the course's exchange folder (Exchange.root in nbgrader_config.py) if it is missing."""
    exchange = course_config(course).Exchange.get("root")
    if not exchange:
        return None
    Path(exchange).mkdir(parents=True, exist_ok=True)
    return Path(exchange)


def write_student_config(course: Path, workspace: Path) -> Path:
    """workspace/.jupyter: the course's nbgrader settings, and nbgrader's instructor plugins off.

    nbgrader's lab handlers read nbgrader_config.py from the server's folder and Jupyter's
    config path; the student's folder is the workspace, so the course's file is loaded from here.
    """
    config = workspace / CONFIG
    (config / "labconfig").mkdir(parents=True, exist_ok=True)
    (config / "nbgrader_config.py").write_text(
        '"""Written by autograder.lab at each start: the course\'s nbgrader settings."""\n'
        f"load_subconfig({str(course / 'nbgrader_config.py')!r})  # noqa: F821\n")
    (config / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {name: True for name in INSTRUCTOR_PLUGINS}}, indent=1) + "\n")
    return config


def server_command(role: str, course: Path, workspace: Path, ip: str, port: int, token: str,
                   open_browser: bool = False, extra=()):
    """(argv, env, cwd) of the Jupyter server for `role` ("student" or "instructor")."""
    bin_dir = os.path.dirname(sys.executable)
    # nbgrader runs `alembic` from PATH when the formgrader creates the gradebook.
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    argv = [sys.executable, "-m", "jupyterlab", f"--ServerApp.ip={ip}", f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
            f"--ServerApp.open_browser={open_browser}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        argv.append("--allow-root")
    if role == "student":
        root = workspace
        config = write_student_config(course, workspace)
        env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
            [str(config)] + [p for p in env.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep) if p])
        argv += [f"--ServerApp.jpserver_extensions={name}=False" for name in INSTRUCTOR_SERVER_EXTENSIONS]
    elif role == "instructor":
        root = course           # its folder holds nbgrader_config.py, which the formgrader reads from there
    else:
        raise ValueError(f"role must be student or instructor, not {role!r}")
    argv += [f"--ServerApp.root_dir={root}", *extra]
    return argv, env, root


def prepare(role: str, course: Path, workspace: Path) -> list[str]:
    ensure_exchange(course)
    return prepare_workspace(course, workspace) if role == "student" else []


def lab_url(ip: str, port: int, token: str, path: str = "lab") -> str:
    host = "127.0.0.1" if ip in ("", "0.0.0.0", "::", "*") else ip
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{port}/{path}?token={token}"


def port_is_free(ip: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)     # as Jupyter's server binds
        try:
            probe.bind((ip if ip not in ("", "*") else "0.0.0.0", port))
        except OSError:
            return False
    return True


def free_port(ip: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((ip, 0))
        return probe.getsockname()[1]


# --- the command line --------------------------------------------------------------------------

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.lab", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("role", choices=["student", "instructor"])
    parser.add_argument("--ip", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8888, help="port to listen on (default 8888)")
    parser.add_argument("--course", type=Path, default=COURSE_ROOT, help="the course root (default: this repository)")
    parser.add_argument("--workspace", type=Path, default=None,
                        help="the students' working copies (default: COURSE/workspace)")
    parser.add_argument("--no-browser", action="store_true", help="don't open a browser")
    args, extra = parser.parse_known_args(argv)
    course = args.course.resolve()
    workspace = (args.workspace or course / "workspace").resolve()
    if not (course / "nbgrader_config.py").is_file():
        parser.error(f"{course} has no nbgrader_config.py: --course must be a course root")
    if not port_is_free(args.ip, args.port):
        parser.error(f"port {args.port} on {args.ip} is in use: pick another, e.g. `make lab PORT={args.port + 1}`")
    for line in prepare(args.role, course, workspace):
        print(line)
    token = secrets.token_hex(24)
    command, env, cwd = server_command(args.role, course, workspace, args.ip, args.port, token,
                                       open_browser=not args.no_browser, extra=extra)
    served = workspace if args.role == "student" else course
    print(f"\n{args.role.capitalize()} lab on {served}\nOpen this URL in a browser (it holds the token):\n\n"
          f"    {lab_url(args.ip, args.port, token)}\n\nStop the lab with Ctrl-C, twice.\n", flush=True)
    os.chdir(cwd)
    os.execve(command[0], command, env)


# --- a lab in the background, for tests --------------------------------------------------------

@dataclass
class Lab:
    role: str
    root: Path
    url: str            # http://127.0.0.1:PORT/ (no token)
    token: str
    log: Path
    process: subprocess.Popen

    def address(self, path: str = "lab") -> str:
        return f"{self.url}{path.lstrip('/')}{'&' if '?' in path else '?'}token={self.token}"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def stop(process: subprocess.Popen, timeout: float = 30) -> None:
    """Stop the server and every process it started (kernels, nbgrader's), by their ids."""
    import psutil
    try:
        family = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        family = []
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)        # the server shuts its kernels down, then exits
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
    for child in family:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.terminate()
    _, alive = psutil.wait_procs(family, timeout=10)
    for child in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()
    psutil.wait_procs(alive, timeout=10)


@contextlib.contextmanager
def running(role: str, course: Path = COURSE_ROOT, workspace: Path | None = None, log: Path | None = None,
            env: dict | None = None, timeout: float = 90):
    """Start a lab on 127.0.0.1 on a free port with a fresh token; yield a Lab; stop it after."""
    workspace = workspace or course / "workspace"
    if log is None:
        handle, name = tempfile.mkstemp(prefix=f"lab-{role}-", suffix=".log")
        os.close(handle)
        log = Path(name)
    prepare(role, course, workspace)
    token = secrets.token_hex(16)
    for attempt in range(3):
        port = free_port()
        command, server_env, cwd = server_command(role, course, workspace, "127.0.0.1", port, token)
        with open(log, "w") as out:
            process = subprocess.Popen(command, cwd=cwd, env={**server_env, **(env or {})}, stdout=out,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        lab = Lab(role, Path(cwd), f"http://127.0.0.1:{port}/", token, log, process)
        try:
            if _wait_ready(lab, timeout):
                break
        except BaseException:
            stop(process)
            raise
        stop(process)
        if "is already in use" not in lab.log_text():
            raise RuntimeError(f"the {role} lab did not start:\n{lab.log_text()[-3000:]}")
    else:
        raise RuntimeError(f"the {role} lab found no free port:\n{lab.log_text()[-3000:]}")
    try:
        yield lab
    finally:
        stop(process)


def _wait_ready(lab: Lab, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if lab.process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(lab.address("api/status"), timeout=5) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    raise TimeoutError(f"the {lab.role} lab did not answer within {timeout} s:\n{lab.log_text()[-3000:]}")


if __name__ == "__main__":
    sys.exit(main())
