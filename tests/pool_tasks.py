"""What the process-pool tests of tests/test_grading.py give its workers to run.

A module of its own, importing nothing heavy: each worker the pool starts (and restarts, after a
hang or a crash) unpickles these functions by importing this module, and test_grading.py imports
the grader's feedback code (nbconvert), seconds of start-up per worker.
"""
import os
import time


def square(x):
    return x * x


def misbehave(x):
    if x == "sleep":
        time.sleep(3600)
    if x == "die":
        os._exit(3)
    if x == "raise":
        raise ValueError("no")
    return x


def place(_):
    """Where a worker runs, and what it was started from."""
    return {"cwd": os.getcwd(), "marker": os.environ.get("POOL_MARKER"), "parent": os.getppid(), "pid": os.getpid()}


def report_and_sleep(path):
    with open(path, "w") as out:
        out.write(str(os.getpid()))
    time.sleep(3600)


if __name__ == "__main__":     # a parent for the test that kills it: python pool_tasks.py PIDFILE
    import sys

    from autograder.grading import executor
    for _ in executor.LocalProcessPool(1, preload=("pool_tasks",)).map(report_and_sleep, [sys.argv[1]]):
        pass
