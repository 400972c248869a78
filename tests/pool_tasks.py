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
