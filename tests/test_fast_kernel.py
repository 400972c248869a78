"""The kernel template (autograder/grading/kernel_template.py): a forked kernel is confined exactly as a
fresh one, starts as a fresh one would, and cannot reach the template or the kernels after it.

Each test runs real kernels in bubblewrap boxes through ConfinedKernelManager, the way nbgrader's
Execute does during grading, and compares a probe notebook's outputs between a fresh kernel and a
forked one. tests/adversarial/test_pipeline_attacks.py runs its whole attack suite on both paths.
"""
import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import psutil
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook
from traitlets.config import Config

from autograder.grading import confine
from autograder.grading.confine import ConfinedKernelManager, KernelTemplate, font_cache, write_grading_folder

pytestmark = pytest.mark.skipif(not confine.available(),
                                reason="bubblewrap cannot confine a grading kernel here (confine.available() "
                                       "is False): the kernel template joins bubblewrap's box")

# What a kernel can see of itself and its box: everything but what differs between any two kernels
# (pids, the socket folder's random name, the placeholder in the box's /proc). It first imports what
# the course's notebooks import in their first cell: scikit-learn sets two variables in os.environ when
# imported (KMP_DUPLICATE_LIB_OK, KMP_INIT_AT_FORK), which a forked kernel has from its start.
PROBE = r'''
import json, os, random, re, resource, sys
import numpy as np, matplotlib.pyplot, sklearn.linear_model
status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines() if ":" in line)
limits = {name: resource.getrlimit(getattr(resource, name)) for name in dir(resource) if name.startswith("RLIMIT_")}
sockets = os.path.dirname(sys.argv[sys.argv.index("-f") + 1])
mounts = sorted(" ".join(line.split()[3:5] + line.split(" - ")[1].split()[:1])
                for line in open("/proc/self/mountinfo").read().replace(sockets, "SOCKETS").splitlines())
facts = {
    "env": dict(os.environ), "argv": [a.replace(sockets, "SOCKETS") for a in sys.argv],
    "cwd": os.getcwd(), "path": sys.path, "flags": str(sys.flags),
    "ids": [os.getuid(), os.geteuid(), os.getgid(), os.getegid(), os.getgroups()],
    "status": {k: status[k].strip() for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs",
                                              "Seccomp", "Seccomp_filters", "Groups")},
    "limits": limits, "mounts": mounts, "root": sorted(os.listdir("/")), "umask": os.umask(0o022),
    "hash": hash("grading"), "set": list({"alpha", "beta", "gamma", "delta"}),
    "sid_is_pgid": os.getsid(0) == os.getpgid(0), "fds": len(os.listdir("/proc/self/fd")) > 3,
    "rng": np.random.RandomState(3).rand(2).tolist(),
    "grader's modules": sorted(m for m in sys.modules if m.split(".")[0] in ("autograder", "coursekit")),
}
print(json.dumps(facts, sort_keys=True))
'''
EXTRA_ENV = {"MPLBACKEND": "Agg", "OPENBLAS_NUM_THREADS": "1"}     # the kernels' settings the grader adds
DRAWS = "import random, numpy as np\nprint(np.random.rand(), random.random())"


@pytest.fixture(scope="module")
def box(tmp_path_factory):
    root = tmp_path_factory.mktemp("fast-kernel")
    grading = root / "grading"
    write_grading_folder(grading, {})
    (root / "work").mkdir()
    (root / "sockets").mkdir()
    yield {"root": root, "grading": grading, "fonts": font_cache(root / "fonts")}
    if KernelTemplate.current is not None:
        KernelTemplate.current.stop()


def run(box, sources, from_template, timeout=60):
    """The notebook's outputs (stdout text per cell), run in a confined kernel started one way or the
    other, which is killed after the last cell, as in grading."""
    nb = new_notebook(cells=[new_code_cell(source) for source in sources])
    settings = {"grading_dir": str(box["grading"]), "fonts": str(box["fonts"]), "from_template": from_template,
                "sockets_root": str(box["root"] / "sockets"),
                "extra_env": EXTRA_ENV}
    NotebookClient(nb, timeout=timeout, allow_errors=True, kernel_name="python3", shutdown_kernel="immediate",
                   kernel_manager_class=ConfinedKernelManager, config=Config({"ConfinedKernelManager": settings}),
                   resources={"metadata": {"path": str(box["root"] / "work")}}).execute()
    return ["".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")
            + "".join(f"{o['ename']}: {o['evalue']}" for o in cell.outputs if o.get("output_type") == "error")
            for cell in nb.cells]


def probe(box, from_template):
    facts = json.loads(run(box, [PROBE], from_template)[0])
    facts["env"].pop("PWD", None)
    return facts


def test_a_forked_kernel_sees_exactly_what_a_fresh_kernel_sees(box):
    fresh, forked = probe(box, from_template=False), probe(box, from_template=True)
    assert KernelTemplate.current is not None and KernelTemplate.current.process.poll() is None
    differences = {key: (fresh[key], forked.get(key)) for key in fresh if fresh[key] != forked.get(key)}
    if "env" in differences:
        differences["env"] = {name: (fresh["env"].get(name), forked["env"].get(name))
                              for name in {*fresh["env"], *forked["env"]}
                              if fresh["env"].get(name) != forked["env"].get(name)}
    assert not differences
    assert forked["status"]["CapEff"] == "0000000000000000" and forked["status"]["NoNewPrivs"] == "1"
    assert forked["status"]["Seccomp"] == "2" and forked["ids"][:2] == [confine.BOX_UID, confine.BOX_UID]
    assert forked["grader's modules"] == []       # the template imported nothing of the grader's


def test_unseeded_draws_differ_between_kernels_of_one_template(box):
    first = run(box, [DRAWS], from_template=True)[0]
    second = run(box, [DRAWS], from_template=True)[0]
    assert first.strip() and first != second


def without_ptrace_capability():
    """Drop CAP_SYS_PTRACE from this (forked) process's effective and permitted sets, as the template does."""
    libc = ctypes.CDLL(None, use_errno=True)
    header, data = (ctypes.c_uint32 * 2)(0x20080522, 0), (ctypes.c_uint32 * 6)()
    assert libc.capget(header, data) == 0
    data[0] &= ~(1 << 19)
    data[1] &= ~(1 << 19)
    assert libc.capset(header, data) == 0


def forked(body):
    child = os.fork()
    if child == 0:
        code = 3
        try:
            code = body()
        finally:
            os._exit(code)
    return child


def readable_by_a_process_like_the_template(pid) -> bool:
    """Whether a process of the template's uid and capabilities may open pid's memory: it may for a
    dumpable process, and may not for one that is not dumpable."""
    def attempt():
        without_ptrace_capability()
        try:
            with open(f"/proc/{pid}/mem", "rb"):
                return 0
        except PermissionError:
            return 1
    _, status = os.waitpid(forked(attempt), 0)
    assert os.waitstatus_to_exitcode(status) in (0, 1)
    return os.waitstatus_to_exitcode(status) == 0


def test_the_template_is_outside_every_kernel_box_and_not_dumpable(box):
    seen = run(box, ["import os\nprint(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()), os.getpid())"],
               from_template=True)[0]
    assert seen.strip() == "[1, 2, 3] 3"        # the box's init, the placeholder, the kernel: nothing else
    template = KernelTemplate.current.process

    def sleeper():
        without_ptrace_capability()
        time.sleep(60)
        return 0
    dumpable = forked(sleeper)
    try:
        assert readable_by_a_process_like_the_template(dumpable)             # the check can tell ...
        assert not readable_by_a_process_like_the_template(template.pid)     # ... and the template is not dumpable
    finally:
        os.kill(dumpable, signal.SIGKILL)
        os.waitpid(dumpable, 0)


ATTACK = r'''
import os, signal, ctypes
report = {}
own = {int(task) for task in os.listdir("/proc/self/task")}     # kill() reaches its own threads by id too
for pid in range(1, 1 << 16):
    if pid in own:
        continue
    try:
        os.kill(pid, 0)
        report.setdefault("visible", []).append(pid)
    except OSError:
        pass
try:
    os.kill(-1, signal.SIGSTOP)        # every process it may signal, but itself (the test checks the template)
    report["kill -1"] = "sent"
except OSError as exc:
    report["kill -1"] = exc.strerror
os.kill(2, signal.SIGCONT)             # its own box's placeholder: it must read the pipe's end to close the box
for path in ("/proc/1/mem", "/proc/2/mem"):
    try:
        open(path, "rb").read(1)
        report[path] = "read"
    except OSError as exc:
        report[path] = exc.strerror
libc = ctypes.CDLL(None, use_errno=True)
for ns in ("user", "mnt", "pid", "net"):
    fd = os.open(f"/proc/1/ns/{ns}", os.O_RDONLY)
    report["setns " + ns] = "joined" if libc.setns(fd, 0) == 0 else os.strerror(ctypes.get_errno())
report["unshare user"] = "made" if libc.unshare(0x10000000) == 0 else os.strerror(ctypes.get_errno())
try:
    os.write(1000, b"x" * 65536)
    report["pipe"] = "written"
except OSError as exc:
    report["pipe"] = exc.strerror
print(sorted(report.items()))
'''


def test_an_attack_on_the_template_from_a_kernel_leaves_the_next_kernel_untouched(box):
    before = probe(box, from_template=True)
    template = KernelTemplate.current.process
    report = run(box, [ATTACK], from_template=True, timeout=120)[0]
    assert "('visible', [1, 2])" in report          # only its own box's init and placeholder
    for escape in ("'read'", "'joined'", "'made'"):
        assert escape not in report, report
    assert template.poll() is None and KernelTemplate.current.process is template
    assert psutil.Process(template.pid).status() != psutil.STATUS_STOPPED
    after = probe(box, from_template=True)
    assert after == before


def test_a_kernel_is_the_templates_child_and_nothing_of_its_box_outlives_it(box):
    """The kernel's forking child exits at once; the template (a subreaper that ignores SIGCHLD) adopts
    and reaps the kernel, whatever the machine's init does, so that the box's PID namespace can end."""
    run(box, ["1"], from_template=True)
    template = psutil.Process(KernelTemplate.current.process.pid)
    adopted = []
    watcher = threading.Timer(1.0, lambda: adopted.extend(template.children()))
    watcher.start()
    during = run(box, ["import os, time\nprint(os.getppid())\ntime.sleep(2)"], from_template=True)
    watcher.join()
    assert during == ["0\n"]                       # its parent is outside its PID namespace ...
    assert len(adopted) == 1                        # ... the template
    deadline = time.monotonic() + 10
    while template.children() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert template.children() == []
    assert not [p for p in psutil.Process().children(recursive=True) if p.name() in ("bwrap", "cat")]


def test_a_dead_template_is_replaced_and_grading_goes_on(box):
    run(box, ["1"], from_template=True)
    old = KernelTemplate.current.process
    os.kill(old.pid, signal.SIGKILL)
    old.wait()
    assert run(box, ["print(6 * 7)"], from_template=True)[0] == "42\n"
    assert KernelTemplate.current.process is not old


# ---------------------------------------------------------------- templates forked by the run's template server

REACH_SERVER = r'''
import os, socket
folder = {folder!r}
report = {{"folder": os.path.exists(folder), "socket": os.path.exists(os.path.join(folder, "templates"))}}
try:
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
        s.connect(os.path.join(folder, "templates"))
        report["connect"] = "connected"
except OSError as exc:
    report["connect"] = exc.strerror
print(sorted(report.items()))
'''


def served_environment(box):
    return confine.template_environment(confine.kernel_environment(EXTRA_ENV, box["grading"], box["fonts"]))


@pytest.fixture
def served(box):
    """The box's templates forked by a template server, as a run's local workers get theirs."""
    if KernelTemplate.current is not None:
        KernelTemplate.current.stop()
    folder = Path(tempfile.mkdtemp(prefix="served-"))       # short: a socket's path has 107 bytes
    server = confine.TemplateServer(served_environment(box), folder)
    confine.SERVER = server.folder
    try:
        yield server
    finally:
        if KernelTemplate.current is not None:
            KernelTemplate.current.stop()
        confine.SERVER = None
        server.close()
        shutil.rmtree(folder, ignore_errors=True)


def test_a_served_template_gives_the_kernels_a_fresh_one_would_have(box, served):
    fresh, forked = probe(box, from_template=False), probe(box, from_template=True)
    template = KernelTemplate.current.process
    assert isinstance(template, confine.ForkedTemplate)
    assert psutil.Process(template.pid).ppid() == served.process.pid
    assert fresh == forked


def test_a_kernel_reaches_neither_its_served_template_nor_the_server(box, served):
    before = probe(box, from_template=True)
    template = KernelTemplate.current.process
    report = run(box, [ATTACK, REACH_SERVER.format(folder=served.folder)], from_template=True, timeout=120)
    assert "('visible', [1, 2])" in report[0]
    for escape in ("'read'", "'joined'", "'made'"):
        assert escape not in report[0], report[0]
    assert report[1] == "[('connect', 'No such file or directory'), ('folder', False), ('socket', False)]\n"
    for pid in (template.pid, served.process.pid):
        assert psutil.Process(pid).status() != psutil.STATUS_STOPPED
        assert not readable_by_a_process_like_the_template(pid)         # neither is dumpable
    assert KernelTemplate.current.process is template and template.poll() is None
    assert probe(box, from_template=True) == before


def test_a_served_template_ends_with_its_worker(box, served):
    assert run(box, ["print(6 * 7)"], from_template=True)[0] == "42\n"
    template = KernelTemplate.current
    template.control.close()                         # what a worker's death does to its end
    template.process.wait(10)
    assert template.process.poll() is not None and served.process.poll() is None
    KernelTemplate.current = None
    assert run(box, ["print(6 * 7)"], from_template=True)[0] == "42\n"     # the next worker's, from the server


def test_a_worker_that_needs_another_environment_starts_a_template_of_its_own(box, served):
    env = confine.template_environment(confine.kernel_environment({**EXTRA_ENV, "OMP_NUM_THREADS": "1"},
                                                                  box["grading"], box["fonts"]))
    template = KernelTemplate.get(env)          # not warmed: its imports would take seconds, and prove nothing here
    assert not isinstance(template.process, confine.ForkedTemplate)
    assert psutil.Process(template.process.pid).ppid() == os.getpid()


ASK_SERVER = r'''
import json, socket, sys
mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as server:
    server.connect(sys.argv[1])
    socket.send_fds(server, [json.dumps({"env": json.loads(sys.argv[2])}).encode()], [theirs.fileno()])
    print(server.recv(65536).decode())
'''


def test_the_server_forks_templates_for_processes_of_its_own_pid_namespace_only(box, served):
    """Defence in depth: no box sees the server's socket; were one to, a process in another PID namespace
    (every kernel's) would get no template."""
    ask = [sys.executable, "-c", ASK_SERVER, os.path.join(served.folder, "templates"), json.dumps(served_environment(box))]
    worker = subprocess.run(ask, capture_output=True, text=True, timeout=120)
    assert '"pid"' in worker.stdout, worker.stderr
    boxed = subprocess.run(["bwrap", "--dev-bind", "/", "/", "--unshare-pid", "--", *ask], capture_output=True, text=True,
                           timeout=120)
    assert json.loads(boxed.stdout) == {"error": "not a worker of this run"}, boxed.stderr
