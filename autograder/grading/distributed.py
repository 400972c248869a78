"""Grading on the workers of a Dask scheduler: `python -m autograder grade ... --scheduler ADDRESS|local`.

The client (the machine that runs `python -m autograder grade`) does what it always does,
intake, plan, merged gradebook, grades.csv, report, and hands each student to Dask as one
task. What crosses the wire, and nothing else (never a path of the client's disk):

  to every worker, once per run (scattered): the options that change scores, the grader's
      manifest (a hash of every course file the grader's fingerprint covers and the version of
      every installed package) and the template gradebook (the merged gradebook needs the
      client's nbgrader ids);
  to a worker, per student (a Parcel): the submission's content, the notebooks and the top-level
      files Stage copies, with its digest and the flags intake gave it;
  back, per student (a Reply): the result and the files Publish writes (the student's
      submitted/autograded/feedback folders and feedback pages). The client commits them as
      Publish does: files first, the result file last and atomically, so resume, grades.csv,
      feedback and the gradebook are the same whichever engine graded.

A worker grades with the local pool's code: pipeline.grade_student, in a grading process of
its own (executor.Slot, one per thread of the Dask worker, kept for the run), so the
student's wall clock (--student-timeout), the kernel's box and limits (confine.py: Dask's
memory limit covers the Dask worker, not the kernels it starts) and the outside
verification are exactly the local pool's.

Versions: before the first student every worker compares its course files and packages with
the manifest (and checks that it can confine kernels); a worker that joins later checks
before its first student. One that differs refuses, naming the files and packages, and the
run stops (WorkerRefused) before anything is committed from it.

Faults are Dask's business: a worker that dies in the middle of a student (kill -9, out of
memory, a machine lost) makes the scheduler hand the student to another worker; a student
whose grading has seen `allowed-failures` + 1 workers die (the scheduler's setting, 3 by
default) gets zeros and the flag `crash (...)`, and the run goes on. Tasks are impure, with
keys of their own per run: regrading the same submission after a grader change runs again.
"""
import contextlib
import dataclasses
import functools
import hashlib
import importlib.metadata
import multiprocessing.util
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

# Light on purpose: Dask's scheduler unpickles every task, so it imports this module (the task's
# function and its Parcel) on its event loop. The grading modules (nbgrader, numpy, ...) are
# imported where they are used, and the Dask worker process itself never imports nbgrader: its
# grading processes do.
from .executor import Done, EngineError, Slot, kill_tree, popen_process
from .fingerprint import NO_SCORES, PACKAGE, SKIP

KINDS = ("submitted", "autograded", "feedback")
# GradingConfig's fields that cross the wire: what changes scores. Paths never do.
OPTIONS = ("assignment", "kit_name", "cell_timeout", "student_timeout", "verifier", "seed", "figures", "course_id",
           "confinement", "kernel_limits", "fresh_kernels")
NOT_COMPARED = frozenset({"pip", "setuptools", "wheel"})   # installers: they grade nothing
SHOWN = 12              # differing files named in a refusal; the rest are counted
LOG = "distributed.log"  # OUT/.work/distributed.log: one line per student committed, with its worker


class WorkerRefused(EngineError):
    """A worker's course, packages or kernel box differ from what the client grades with."""


# ---------------------------------------------------------------- what crosses the wire

@dataclass(frozen=True)
class RunSpec:
    """Once per run, scattered to every worker."""
    run_id: str
    options: dict
    has_kit: bool
    manifest: dict          # {"files": {path: sha256}, "packages": {name: version}}
    template: bytes         # the client's template gradebook


@dataclass(frozen=True)
class Parcel:
    """One student's submission, by content."""
    student_id: str
    digest: str
    flags: tuple
    notebooks: dict = field(default_factory=dict)   # stem -> bytes
    files: dict = field(default_factory=dict)       # top-level file name -> bytes


@dataclass
class Reply:
    """What a worker sends back for one student."""
    done: Done                  # value: the result (as Publish wrote it on the worker)
    files: dict                 # OUT-relative POSIX path -> bytes ("dir/" -> None for an empty folder)
    worker: str
    seconds: float


def options(config) -> dict:
    return {name: getattr(config, name) for name in OPTIONS}


def course_files(config) -> dict:
    """{path: sha256} of every file grader_fingerprint hashes (the assignment's source notebooks, this
    package without the files that change no score, nbgrader_config.py), by course-relative path."""
    files = {}
    for root, name in ((config.source, f"source/{config.assignment}"), (PACKAGE, PACKAGE.name),
                       (config.course_root / "nbgrader_config.py", "nbgrader_config.py")):
        _hash_files(root, name, files)
    return files


def _hash_files(path: Path, name: str, files: dict):
    if path.name in NO_SCORES:
        return
    if path.is_dir():
        for child in sorted(path.iterdir()):
            if child.name not in SKIP and child.suffix != ".pyc":
                _hash_files(child, f"{name}/{child.name}", files)
    elif path.is_file():
        files[name] = hashlib.sha256(path.read_bytes()).hexdigest()


def package_versions() -> dict:
    versions = {"python": platform.python_version()}
    for dist in importlib.metadata.distributions():
        name = (dist.metadata["Name"] or "").lower().replace("_", "-")
        if name and name not in NOT_COMPARED:
            versions.setdefault(name, dist.version)
    return versions


def manifest(config) -> dict:
    return {"files": course_files(config), "packages": package_versions()}


def differences(client: dict, here: dict) -> list[str]:
    """What differs between the client's manifest and a worker's, in words."""
    said = []
    theirs, ours = client["files"], here["files"]
    changed = sorted(p for p in theirs.keys() | ours.keys() if theirs.get(p) != ours.get(p))
    for path in changed[:SHOWN]:
        said.append(f"{path} ({'missing here' if path not in ours else 'not on the client' if path not in theirs else 'differs'})")
    if len(changed) > SHOWN:
        said.append(f"{len(changed) - SHOWN} more files")
    for name, version in sorted(client["packages"].items()):
        if here["packages"].get(name) != version:
            said.append(f"{name} {here['packages'].get(name, 'not installed')} here, {version} on the client")
    return said


def check_here(expected: dict, run_options: dict) -> list[str]:
    """On a worker: [] when it can grade this run as the client would, else what differs."""
    from . import confine
    from .config import COURSE_ROOT, GradingConfig
    config = GradingConfig(run_options["assignment"], Path(tempfile.gettempdir()), course_root=COURSE_ROOT)
    said = differences(expected, manifest(config))
    if run_options["confinement"] == confine.BUBBLEWRAP and not confine.available():
        said.append("bubblewrap cannot confine the grading kernel here (install bubblewrap; "
                    "unprivileged user namespaces must be enabled)")
    return said


def pack(job, kit_name: str) -> Parcel:
    """A Job's submission by content: the notebooks intake found, and the files Stage copies."""
    files = {}
    if job.folder.is_dir() and not job.folder.is_symlink():
        for path in sorted(job.folder.iterdir()):
            if path.name in (kit_name, "__pycache__", ".ipynb_checkpoints") or path.suffix == ".ipynb":
                continue
            if path.is_file() and not path.is_symlink():
                files[path.name] = path.read_bytes()
    notebooks = {stem: Path(path).read_bytes() for stem, path in sorted(job.notebooks.items())}
    return Parcel(job.student_id, job.digest, tuple(job.flags), notebooks, files)


def _plain_name(name: str) -> str:
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        raise ValueError(f"not a plain file name: {name!r}")
    return name


def _inside(root: Path, name: str, student: str) -> Path:
    """Where a returned file goes: only inside the student's own folders of OUT."""
    path = PurePosixPath(name)
    parts = path.parts
    allowed = (len(parts) > 3 and parts[0] == "nbgrader" and parts[1] in KINDS and parts[2] == student) or \
              (len(parts) > 2 and parts[0] == "feedback" and parts[1] == student)
    if path.is_absolute() or not allowed or any(p in ("", ".", "..") for p in parts):
        raise EngineError(f"a worker sent back {name!r} for {student}: not one of the student's own files")
    return root.joinpath(*parts)


def commit(config, student: str, reply: Reply):
    """On the client: what Publish does, from the worker's files. The result file is written last."""
    from .publish import result_path, write_atomically
    staging = config.work / "incoming" / student
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        for name, data in sorted(reply.files.items()):
            target = _inside(staging, name.rstrip("/"), student)
            if data is None:
                target.mkdir(parents=True, exist_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
        pairs = [(staging / "nbgrader" / kind / student, config.record / kind / student) for kind in KINDS]
        pairs.append((staging / "feedback" / student, config.feedback / student))
        for source, destination in pairs:
            shutil.rmtree(destination, ignore_errors=True)
            if source.is_dir():
                destination.parent.mkdir(parents=True, exist_ok=True)
                os.replace(source, destination)
        write_atomically(result_path(config, student), reply.done.value)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        with contextlib.suppress(OSError):
            staging.parent.rmdir()        # OUT/.work/incoming, once no student is on the way


# ---------------------------------------------------------------- the worker's side

_runs: dict = {}              # run_id -> WorkerRun, or the refusal (str) this worker gave
_runs_lock = threading.Lock()


class WorkerRun:
    """One run on one Dask worker process: a private OUT made from the worker's own course files
    (checked equal to the client's) and the client's template gradebook, and the grading processes."""

    def __init__(self, spec: RunSpec, local_directory: str):
        from .config import COURSE_ROOT, KIT, GradingConfig, scratch_folder
        from .fingerprint import integrity
        from .record import IGNORE, RECORD_CONFIG, template_db
        self.root = Path(tempfile.mkdtemp(prefix=f"autograder-{spec.run_id[:8]}-", dir=local_directory))
        scratch = scratch_folder()     # short: kernel socket paths
        config = GradingConfig(out=self.root / "out", course_root=COURSE_ROOT, kit=KIT if spec.has_kit else None,
                               workers=1, scratch=scratch, **spec.options)
        source = config.record / "source" / config.assignment
        shutil.copytree(config.source, source, ignore=IGNORE)
        if config.kit:
            shutil.rmtree(source / config.kit_name, ignore_errors=True)
            shutil.copytree(config.kit, source / config.kit_name, ignore=IGNORE)
        (config.record / "nbgrader_config.py").write_text(RECORD_CONFIG.format(course_id=config.course_id))
        template_db(config).parent.mkdir(parents=True, exist_ok=True)
        template_db(config).write_bytes(spec.template)
        self.config = dataclasses.replace(config, grader_state=integrity(config))
        self.idle, self.lock = [], threading.Lock()

    def slot(self) -> Slot:
        with self.lock:
            if self.idle:
                return self.idle.pop()
        return Slot(self.config.student_timeout, functools.partial(start_in_child, self.config), start=popen_process)

    def grade(self, parcel: Parcel, worker: str) -> Reply:
        began = time.monotonic()
        student = _plain_name(parcel.student_id)
        inbox = self.root / "inbox" / student
        shutil.rmtree(inbox, ignore_errors=True)
        inbox.mkdir(parents=True)
        try:
            for name, data in parcel.files.items():
                (inbox / _plain_name(name)).write_bytes(data)
            notebooks = {}
            for stem, data in parcel.notebooks.items():
                notebooks[stem] = inbox / _plain_name(f"{stem}.ipynb")
                notebooks[stem].write_bytes(data)
            job = (student, inbox, notebooks, parcel.digest, tuple(parcel.flags))
            slot = self.slot()
            try:
                done = slot.run(functools.partial(grade_in_child, self.config), job)
            finally:
                with self.lock:
                    self.idle.append(slot)
            files = {}
            if done.value and not done.value.get("grader_changed"):
                files = collect(self.config, student)
            return Reply(done, files, worker, round(time.monotonic() - began, 3))
        finally:
            forget_student(self.config, student)
            shutil.rmtree(inbox, ignore_errors=True)

    def close(self):
        with self.lock:
            idle, self.idle = self.idle, []
        for slot in idle:
            slot.close()
        shutil.rmtree(self.config.scratch, ignore_errors=True)
        shutil.rmtree(self.root, ignore_errors=True)


def start_in_child(config):
    """The grading process's initializer (pipeline.start_worker), imported there, not in the Dask worker."""
    from .pipeline import start_worker
    start_worker(config)


def grade_in_child(config, job: tuple) -> dict:
    from .pipeline import Job, grade_student
    return grade_student(config, Job(*job))


def collect(config, student: str) -> dict:
    """The student's files as Publish left them in the worker's OUT, by OUT-relative path."""
    files = {}
    for tree in [config.record / kind / student for kind in KINDS] + [config.feedback / student]:
        if not tree.is_dir():
            continue
        for path in sorted(tree.rglob("*")):
            name = path.relative_to(config.out).as_posix()
            if path.is_dir() and not path.is_symlink() and not any(path.iterdir()):
                files[name + "/"] = None
            elif path.is_file() and not path.is_symlink():
                files[name] = path.read_bytes()
    return files


def forget_student(config, student: str):
    """A worker keeps nothing of a student once the reply is made (thousands pass through it)."""
    from .publish import result_path
    trees = [config.record / kind / student for kind in KINDS] + [config.feedback / student]
    trees += [course / kind / student for course in config.work.glob("worker-*") for kind in KINDS]
    for tree in trees:
        shutil.rmtree(tree, ignore_errors=True)
    result_path(config, student).unlink(missing_ok=True)


def worker_run(spec: RunSpec, local_directory: str) -> WorkerRun:
    with _runs_lock:
        run = _runs.get(spec.run_id)
        if run is None:
            said = check_here(spec.manifest, spec.options)
            if said:
                run = _runs[spec.run_id] = "; ".join(said)
            else:
                if not _runs:
                    multiprocessing.util.Finalize(None, forget_all, exitpriority=20)
                run = _runs[spec.run_id] = WorkerRun(spec, local_directory)
    if isinstance(run, str):
        raise WorkerRefused(refusal(worker_address(), run))
    return run


def worker_address() -> str:
    from distributed import get_worker
    try:
        return get_worker().address
    except ValueError:
        return f"pid {os.getpid()}"


def grade_on_worker(spec: RunSpec, parcel: Parcel) -> Reply:
    """The task: one student, on whichever worker the scheduler chose."""
    from distributed import get_worker
    worker = get_worker()
    return worker_run(spec, worker.local_directory).grade(parcel, worker.address)


def check_worker(expected: dict, run_options: dict) -> list[str]:
    """Run on every worker before the first student (client.run)."""
    return check_here(expected, run_options)


def can_confine() -> bool:
    from . import confine
    return confine.available()


def forget_run(run_id: str):
    with _runs_lock:
        run = _runs.pop(run_id, None)
    if isinstance(run, WorkerRun):
        run.close()


def forget_all():
    for run_id in list(_runs):
        forget_run(run_id)


def refusal(worker: str, said: str) -> str:
    return (f"the Dask worker {worker} refuses to grade: {said}. Every worker needs the client's course "
            f"(the same commit) and the packages of requirements.lock: docs/grading.md, 'Grading on several machines'")


# ---------------------------------------------------------------- the client's side

class DaskExecutor:
    """The Executor interface over a Dask client, and `grade`, which the Grade step uses instead of
    map: the submission travels by content and the worker's files are committed here."""

    def __init__(self, client, retries: int = 1):
        self.client, self.retries = client, retries

    @property
    def address(self) -> str:
        return self.client.scheduler.address

    def workers(self) -> dict:
        return self.client.scheduler_info(n_workers=-1).get("workers", {})

    def describe(self) -> str:
        workers = self.workers()
        threads = sum(w.get("nthreads", 0) for w in workers.values())
        return f"{len(workers)} Dask workers, {threads} threads"

    def on_every_worker(self, fn, *args) -> dict:
        """{worker address: fn(*args) there, or the exception it raised}."""
        return self.client.run(fn, *args, on_error="return")

    def confinement_available(self) -> bool:
        """Whether every worker can confine kernels (True with no worker yet: they will say so)."""
        return all(answer is True for answer in self.on_every_worker(can_confine).values())

    def map(self, fn, items, *shared, name="task"):
        """fn(*shared, item) on the workers; (item, Done) as each finishes."""
        items = list(items)
        token = uuid.uuid4().hex[:8]
        futures = {self.client.submit(fn, *shared, item, key=f"{name}-{index}-{token}", pure=False,
                                      retries=self.retries): item for index, item in enumerate(items)}
        yield from self._as_completed(futures)

    def _as_completed(self, futures: dict):
        from distributed import as_completed
        try:
            for future in as_completed(list(futures)):
                item = futures.pop(future)
                yield item, self._done(future)
        finally:   # also when the caller stops early: nothing of this run stays queued
            if futures:
                self.client.cancel(list(futures))

    def _done(self, future) -> Done:
        from distributed import KilledWorker
        if future.status == "finished":
            return Done(future.result())
        if future.status == "error":
            exc = future.exception()
            if isinstance(exc, EngineError):
                raise exc
            if isinstance(exc, KilledWorker):
                worker = getattr(exc.last_worker, "address", exc.last_worker)
                return Done(error="crash", detail=f"{exc.allowed_failures + 1} Dask workers died while grading "
                                                  f"this student (the last: {worker})")
            return Done(error="crash", detail=f"{type(exc).__name__}: {exc}")
        raise EngineError(f"the Dask scheduler at {self.address} dropped a student ({future.status}); the "
                          f"students committed so far are kept: rerun to go on")

    def check_workers(self, spec: RunSpec):
        said = {}
        for worker, answer in sorted(self.on_every_worker(check_worker, spec.manifest, spec.options).items()):
            if isinstance(answer, BaseException):
                said[worker] = f"{type(answer).__name__}: {answer}"
            elif answer:
                said[worker] = "; ".join(answer)
        if said:
            raise WorkerRefused("\n".join(refusal(worker, text) for worker, text in said.items()))

    def grade(self, config, template: Path, jobs):
        """(job, Done) per student, as they finish; a graded student is committed before it is yielded."""
        jobs = list(jobs)
        if not jobs:
            return
        spec = RunSpec(uuid.uuid4().hex, options(config), config.kit is not None, manifest(config),
                       Path(template).read_bytes())
        self.check_workers(spec)
        shared = self.client.scatter(spec, broadcast=True, hash=False)
        futures = {self.client.submit(grade_on_worker, shared, pack(job, config.kit_name), pure=False,
                                      retries=self.retries, key=f"grade-{job.student_id}-{spec.run_id[:8]}"): job
                   for job in jobs}
        config.work.mkdir(parents=True, exist_ok=True)
        try:
            with open(config.work / LOG, "a") as log:
                log.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} run {spec.run_id[:8]} on {self.address}: "
                          f"{len(jobs)} students\n")
                for job, done in self._as_completed(futures):
                    if done.value is not None:
                        reply = done.value
                        if reply.done.value and not reply.done.value.get("grader_changed"):
                            commit(config, job.student_id, reply)
                        log.write(f"{job.student_id}\t{reply.worker}\t{reply.seconds:.1f} s\t"
                                  f"{reply.done.error or 'graded'}\n")
                        done = reply.done
                    else:
                        log.write(f"{job.student_id}\t-\t-\t{done.error}: {done.detail}\n")
                    log.flush()
                    yield job, done
        finally:
            with contextlib.suppress(Exception):
                self.client.run(forget_run, spec.run_id, on_error="ignore")
            with contextlib.suppress(Exception):
                self.client.cancel([shared])


@contextlib.contextmanager
def open_executor(address: str, workers: int = 2, connect_timeout: float = 30):
    """A DaskExecutor on the scheduler at `address`, or on a LocalCluster of `workers` processes ("local")."""
    from distributed import Client, LocalCluster
    cluster = None
    try:
        if address == "local":
            cluster = LocalCluster(n_workers=max(1, workers), threads_per_worker=1, processes=True,
                                   dashboard_address=None)
            client = Client(cluster)
        else:
            client = Client(address, timeout=connect_timeout)
    except BaseException:
        if cluster is not None:
            cluster.close()
        raise
    try:
        yield DaskExecutor(client)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# ---------------------------------------------------------------- a cluster on this machine

class CommandLineCluster:
    """`dask scheduler` and N `dask worker` processes on 127.0.0.1, each in its own process: what the
    tests and the bench grade on (the same commands as on several machines, docs/grading.md)."""

    def __init__(self, workers: int, folder: Path, nanny: bool = True, env: dict | None = None,
                 preexec_fn=None, start_timeout: float = 120):
        self.count, self.folder, self.nanny = workers, Path(folder), nanny
        self.env = {**os.environ, **(env or {})}
        self.preexec_fn, self.start_timeout = preexec_fn, start_timeout
        self.processes, self.address = [], None

    def _start(self, *args, log):
        handle = open(self.folder / log, "w")
        process = subprocess.Popen([sys.executable, "-m", "dask", *args], stdout=handle, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, env=self.env, preexec_fn=self.preexec_fn)
        handle.close()
        self.processes.append(process)
        return process

    def __enter__(self):
        self.folder.mkdir(parents=True, exist_ok=True)
        info = self.folder / "scheduler.json"
        info.unlink(missing_ok=True)
        try:
            scheduler = self._start("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                    "--scheduler-file", str(info), log="scheduler.log")
            deadline = time.monotonic() + self.start_timeout
            while not info.is_file():
                if scheduler.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"dask scheduler did not start: {(self.folder / 'scheduler.log').read_text()}")
                time.sleep(0.2)
            time.sleep(0.2)        # the file is written in one go, but not atomically
            import json
            self.address = json.loads(info.read_text())["address"]
            for index in range(self.count):
                self._start("worker", self.address, "--nthreads", "1", "--name", f"worker-{index}",
                            "--host", "127.0.0.1", "--no-dashboard", "--nanny" if self.nanny else "--no-nanny",
                            "--local-directory", str(self.folder / f"worker-{index}"), log=f"worker-{index}.log")
            from distributed import Client
            with Client(self.address, timeout=30) as client:
                client.wait_for_workers(self.count, timeout=self.start_timeout)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        for process in reversed(self.processes):      # workers first, the scheduler last
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    kill_tree(process.pid)
                    process.wait(5)
        self.processes = []
