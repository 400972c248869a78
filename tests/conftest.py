"""How `make test` shares the suite between its two pytest-xdist workers.

The Makefile runs `pytest -n 2 --dist loadfile tests`: a test file is one unit of work, run on one
worker in the file's order, so its module-scoped fixtures are built once and a test may read what
an earlier one of its file left (the browser tests' RESULT). The scheduler below is pytest-xdist's
own for loadfile, with three changes:

* A file in SPREAD (independent tests that share nothing costly) is one unit per test, so that
  both workers share out its slow tests.
* A file in PER_PARAM is one unit per param of its module-scoped parametrized fixture: the attack
  suite grades its class once per way of starting kernels, and the two gradings can run on both
  workers at once (pytest builds a module-scoped fixture once per param anyway).
* Units start longest first, in the order of LONGEST (measured: docs/timings.md), then the others
  as pytest-xdist orders them. Left alone it starts the files with the most tests first, which left
  the few-test files that grade whole classes for the end, each keeping one worker busy alone.
  A stale LONGEST costs time, never a test.

(`--dist loadgroup` with xdist_group marks would do the first two, but pytest-xdist 3.8 names the
group through `item._nodeid`, which pytest 9 no longer reads: under these pins it groups nothing.)
"""
import pytest
from xdist.scheduler import LoadFileScheduling

SPREAD = ("tests/test_release.py", "tests/test_fairness.py", "tests/test_ch03_fairness.py", "tests/test_grading.py")
PER_PARAM = ("tests/adversarial/test_pipeline_attacks.py",)

# A prefix of a unit: a file, a file[param] of PER_PARAM, or a test of SPREAD (node id prefix). In the order
# of their wall time in the run of 2026-11-30 (docs/timings.md).
LONGEST = (
    "tests/test_grading_examples.py",                   # Chapter 2's 15 examples, a resumed rerun, plain nbgrader
    "tests/test_distributed.py",                        # a Dask scheduler and workers, a worker killed mid-student
    "tests/adversarial/test_pipeline_attacks.py",       # the attack class, once per way of starting kernels
    "tests/test_grading_examples_course.py",            # the examples of Chapters 1 and 3
    "tests/test_browser_instructor.py",
    "tests/test_lab.py",
    "tests/test_grading_incidents.py",
    "tests/test_unconfined.py",
    "tests/test_grading_fairness.py",
    "tests/test_browser_student.py",
    "tests/test_release.py::test_committed_release_is_fresh",
    "tests/test_feedback_page.py",
    "tests/adversarial/test_attacks.py",
    "tests/test_fairness.py::test_correct_functions_pass_for_every_student_and_slips_never_do[net_gradients]",
    "tests/test_verify.py",
    "tests/test_reference.py",
    "tests/test_fairness.py::test_correct_functions_pass_for_every_student_and_slips_never_do[lin_gradients]",
    "tests/test_ch03_fairness.py::test_correct_classes_pass_for_every_student_and_slips_never_do[layer",
    "tests/test_ch03_reference.py",
    "tests/test_fast_kernel.py",
    "tests/test_sanitize.py",
)


def rank(unit):
    return next((i for i, prefix in enumerate(LONGEST) if unit.startswith(prefix)), len(LONGEST))


class LongestFirst(LoadFileScheduling):
    ordered = False

    def _split_scope(self, nodeid):
        path, _, test = nodeid.partition("::")
        if path in SPREAD:
            return nodeid
        if path in PER_PARAM and test.endswith("]"):
            return path + test[test.index("["):]
        return path

    def _assign_work_unit(self, node):
        if not self.ordered:            # the first assignment: the queue now holds every unit
            units = sorted(self.workqueue.items(), key=lambda unit: rank(unit[0]))
            self.workqueue.clear()
            self.workqueue.update(units)
            self.ordered = True
        super()._assign_work_unit(node)


@pytest.hookimpl(optionalhook=True)      # optional: pytest -p no:xdist runs without it
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") == "loadfile":
        return LongestFirst(config, log)
    return None
