"""Fan-out behind one small interface, so another engine (a cluster, a queue) can take over.

    executor.map(fn, items) -> iterator of (item, Done)

`fn(item)` runs in a worker; `Done.value` is its return value, or `Done.error` says why
there is none ("timeout" when the item ran past the executor's limit, "crash" when the
worker died). Results arrive as items finish, in any order.

LocalProcessPool keeps N long-lived worker processes (each runs `initializer` once, so
per-item start-up costs are paid once per worker). A worker that overruns the limit or
dies is killed with everything it started (kernels included) and replaced; the other
workers carry on.
"""
import multiprocessing
import multiprocessing.util
import os
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


def _worker(connection, initializer):
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


class LocalProcessPool:
    def __init__(self, workers: int, timeout: float | None = None, initializer: Callable | None = None):
        self.workers, self.timeout, self.initializer = max(1, workers), timeout, initializer
        self.context = multiprocessing.get_context("spawn")

    def _start(self):
        mine, theirs = self.context.Pipe()
        # not a daemon: a worker may start processes of its own (the verification helper);
        # it exits when the parent closes its end of the pipe
        process = self.context.Process(target=_worker, args=(theirs, self.initializer), daemon=False)
        process.start()
        theirs.close()
        return process, mine

    def _slot(self, fn, todo: queue.Queue, done: queue.Queue):
        process, connection = self._start()
        try:
            while True:
                try:
                    item = todo.get_nowait()
                except queue.Empty:
                    return
                connection.send((fn, item))
                deadline = None if self.timeout is None else time.monotonic() + self.timeout + STARTUP
                outcome = None
                while outcome is None:
                    wait = 1.0 if deadline is None else max(0.0, min(1.0, deadline - time.monotonic()))
                    if connection.poll(wait):
                        try:
                            status, value = connection.recv()
                            if status == "started":
                                deadline = None if self.timeout is None else time.monotonic() + self.timeout
                                continue
                            outcome = Done(value) if status == "ok" else Done(error="crash", detail=value)
                        except (EOFError, OSError):
                            outcome = Done(error="crash", detail="the worker process died")
                    elif not process.is_alive():
                        outcome = Done(error="crash", detail=f"the worker process died (exit {process.exitcode})")
                    elif deadline is not None and time.monotonic() >= deadline:
                        outcome = Done(error="timeout", detail=f"stopped after {self.timeout:.0f} s")
                if outcome.error:
                    kill_tree(process.pid)
                    process, connection = self._start()
                done.put((item, outcome))
        finally:
            try:
                connection.send(None)
                process.join(5)
            except (OSError, BrokenPipeError):
                pass
            if process.is_alive():
                kill_tree(process.pid)

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
