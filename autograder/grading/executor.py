"""Fan-out behind one small interface, so another engine (a cluster, a queue) can take over.

    executor.map(fn, items) -> iterator of (item, Done)

`fn(item)` runs in a worker; `Done.value` is its return value, or `Done.error` says why
there is none ("timeout" when the item ran past the executor's limit, "crash" when the
worker died). Results arrive as items finish, in any order.

LocalProcessPool keeps N long-lived worker processes (each runs `initializer` once, so
per-item start-up costs are paid once per worker). A worker that overruns the limit or
dies is killed with everything it started (kernels included) and replaced; the other
workers carry on. One such worker and its clock is a `Slot`; a Dask worker keeps Slots of
its own (distributed.py), started with `popen_process`: a Dask nanny's worker is a daemonic
process, and multiprocessing gives those no children.

A worker process whose parent disappears (kill -9) kills what it started and exits within
a second, even in the middle of an item.

DaskExecutor (distributed.py, `--scheduler`) is the other engine; what it cannot do it
says with an EngineError, which stops the run without committing anything wrong.
"""
import functools
import multiprocessing
import multiprocessing.connection
import multiprocessing.util
import os
import socket
import subprocess
import sys
import queue
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Protocol

import psutil

STARTUP = 300.0   # seconds a fresh worker may take to start and import before its item's clock runs


@dataclass
class Done:
    value: Any = None
    error: str | None = None     # None, "timeout" or "crash"
    detail: str = ""


class EngineError(RuntimeError):
    """The engine cannot grade (workers refuse, the scheduler is gone): the run stops; every student
    committed so far is kept, and a rerun resumes."""


class Executor(Protocol):
    def map(self, fn: Callable, items: Iterable) -> Iterator[tuple[Any, Done]]: ...


class SerialExecutor:
    """Everything in this process: for debugging and for tests of the steps."""

    def __init__(self, initializer=None):
        self.initializer = initializer

    def map(self, fn, items):
        if self.initializer:
            self.initializer()
        for item in items:
            try:
                yield item, Done(fn(item))
            except Exception:
                yield item, Done(error="crash", detail=traceback.format_exc(limit=3))


def _worker(connection, initializer, place=None):
    owner = os.getppid()
    if place:                 # forked from the fork server: this run's folder and environment, as if spawned now
        owner, folder, environment = place
        os.chdir(folder)
        os.environ.clear()
        os.environ.update(environment)
    _watch_parent(owner)
    if initializer:
        initializer()
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):       # the parent is gone
            message = None
        if message is None:
            _leave()
        fn, item = message
        connection.send(("started", None))      # the clock starts once fn and item are unpickled
        try:
            connection.send(("ok", fn(item)))
        except Exception:
            connection.send(("error", traceback.format_exc(limit=5)))


def _watch_parent(owner: int):
    """Leave as soon as the process that owns this worker is gone, even in the middle of an item: a killed
    owner (a Dask worker killed with -9, a grader stopped hard) must not leave a student's kernels running.
    The owner is the parent, or for a worker forked from the fork server, the process that asked for it
    (the fork server itself lives as long as any of its workers does)."""
    parent = os.getppid()
    owner = psutil.Process(owner)

    def gone():
        try:        # is_running: not a new process that took its pid; a killed one is a zombie until reaped
            return not owner.is_running() or owner.status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True

    def watch():
        while os.getppid() == parent and not gone():
            time.sleep(1.0)
        _leave()
    threading.Thread(target=watch, name="watch-parent", daemon=True).start()


def _popen_child(fd: int):
    """The entry point of a worker started by `popen_process`: the first message is the initializer."""
    connection = multiprocessing.connection.Connection(fd)
    _worker(connection, connection.recv())


class PopenProcess:
    """A worker process started with subprocess, seen through multiprocessing.Process's few methods."""

    def __init__(self, popen):
        self.popen, self.pid = popen, popen.pid

    def is_alive(self):
        return self.popen.poll() is None

    @property
    def exitcode(self):
        return self.popen.poll()

    def join(self, timeout=None):
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            pass


def popen_process(initializer):
    """(process, connection) of a fresh worker started as `python -c ...` (works in daemonic processes)."""
    mine, theirs = socket.socketpair()
    command = f"from autograder.grading.executor import _popen_child; _popen_child({theirs.fileno()})"
    path = os.pathsep.join(p for p in sys.path if p and os.path.isdir(p))
    env = {**os.environ, "PYTHONPATH": path}
    popen = subprocess.Popen([sys.executable, "-c", command], pass_fds=(theirs.fileno(),), env=env,
                             stdin=subprocess.DEVNULL)
    theirs.close()
    connection = multiprocessing.connection.Connection(mine.detach())
    connection.send(initializer)
    return PopenProcess(popen), connection


def _leave():
    """End a worker at once: its helpers are killed, not politely joined (that took seconds)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    kill_all(psutil.Process().children(recursive=True), timeout=2)
    multiprocessing.util._run_finalizers()   # release semaphores etc. without the slow joins
    os._exit(0)


def kill_all(processes, timeout):
    for process in processes:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(processes, timeout=timeout)


def kill_tree(pid):
    try:
        parent = psutil.Process(pid)
        family = parent.children(recursive=True) + [parent]
    except psutil.NoSuchProcess:
        return
    kill_all(family, timeout=5)


class Slot:
    """One long-lived worker process and the clock of its current item. The worker is started on the
    first item; one that overruns the limit or dies is killed with everything it started (kernels
    included) and started afresh for the next item."""

    def __init__(self, timeout: float | None = None, initializer: Callable | None = None, start=None):
        self.timeout, self.initializer = timeout, initializer
        self.start = start or spawn_process
        self.process = self.connection = None

    def run(self, fn, item) -> Done:
        if self.process is None:
            self.process, self.connection = self.start(self.initializer)
        process, connection = self.process, self.connection
        try:
            connection.send((fn, item))
        except (OSError, BrokenPipeError):
            outcome = Done(error="crash", detail="the worker process died")
        else:
            outcome = self._wait(process, connection)
        if outcome.error:
            kill_tree(process.pid)
            self.process = self.connection = None
        return outcome

    def _wait(self, process, connection) -> Done:
        deadline = None if self.timeout is None else time.monotonic() + self.timeout + STARTUP
        while True:
            wait = 1.0 if deadline is None else max(0.0, min(1.0, deadline - time.monotonic()))
            if connection.poll(wait):
                try:
                    status, value = connection.recv()
                    if status == "started":
                        deadline = None if self.timeout is None else time.monotonic() + self.timeout
                        continue
                    return Done(value) if status == "ok" else Done(error="crash", detail=value)
                except (EOFError, OSError):
                    return Done(error="crash", detail="the worker process died")
            elif not process.is_alive():
                return Done(error="crash", detail=f"the worker process died (exit {process.exitcode})")
            elif deadline is not None and time.monotonic() >= deadline:
                return Done(error="timeout", detail=f"stopped after {self.timeout:.0f} s")

    def close(self):
        process, connection, self.process, self.connection = self.process, self.connection, None, None
        if process is None:
            return
        try:
            connection.send(None)
            process.join(5)
        except (OSError, BrokenPipeError):
            pass
        if process.is_alive():
            kill_tree(process.pid)


def spawn_process(initializer, preload=()):
    """(process, connection) of a fresh worker started by multiprocessing. With `preload` (modules), it is
    forked from multiprocessing's fork server, which imported them once: the workers share those pages
    instead of each importing its own copy. It then takes this process's folder and environment, as a
    spawned worker would. Without, it is spawned."""
    place = None
    if preload:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(list(preload))     # read when the fork server starts: once per process
        place = (os.getpid(), os.getcwd(), dict(os.environ))
    else:
        context = multiprocessing.get_context("spawn")
    mine, theirs = context.Pipe()
    # not a daemon: a worker may start processes of its own (the verification helper);
    # it exits when the parent closes its end of the pipe
    process = context.Process(target=_worker, args=(theirs, initializer, place), daemon=False)
    process.start()
    theirs.close()
    return process, mine


class LocalProcessPool:
    def __init__(self, workers: int, timeout: float | None = None, initializer: Callable | None = None,
                 preload: tuple = ()):
        self.workers, self.timeout, self.initializer = max(1, workers), timeout, initializer
        self.start = functools.partial(spawn_process, preload=preload) if preload else spawn_process

    def _slot(self, fn, todo: queue.Queue, done: queue.Queue):
        slot = Slot(self.timeout, self.initializer, start=self.start)
        try:
            while True:
                try:
                    item = todo.get_nowait()
                except queue.Empty:
                    return
                done.put((item, slot.run(fn, item)))
        finally:
            slot.close()

    def map(self, fn, items):
        todo, done = queue.Queue(), queue.Queue()
        items = list(items)
        for item in items:
            todo.put(item)
        slots = [threading.Thread(target=self._slot, args=(fn, todo, done), daemon=True)
                 for _ in range(min(self.workers, len(items)))]
        for slot in slots:
            slot.start()
        try:
            for _ in items:
                yield done.get()
        finally:     # also when the caller stops early: nothing new starts, the running items end
            while not todo.empty():
                try:
                    todo.get_nowait()
                except queue.Empty:
                    break
            for slot in slots:
                slot.join()
