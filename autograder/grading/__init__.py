"""Grade a class's submissions with nbgrader, in parallel, and trust nothing the kernel says alone.

The run, in order (cli.py drives it):

    intake.py      find each student's notebooks (a folder in nbgrader's layout, or an LMS zip)
    record.py      set up OUT/nbgrader, the nbgrader course that stays the system of record,
                   and the template gradebook every worker copies
    fingerprint.py hash each submission and the grader: unchanged students are not regraded
    executor.py    fan the students out over worker processes (Executor.map)
    pipeline.py    one student's steps, listed once in STEPS: stage, start verification,
                   nbgrader autograde, incidents, reconcile, feedback, publish
    gradebook.py   read, override and merge nbgrader's gradebook rows
    report.py      grades.csv and the closing summary

Each step module does one job; pipeline.STEPS is the one place the order is set,
as nbgrader's converters list their preprocessors.
"""
