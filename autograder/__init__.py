"""The course's Python package: data, reference solutions, checks and grading.

coursekit/  ships to students with every release (data loading, visible-test checks).
reference/  reference solutions and the catalogue of common mistakes (instructor only).
specs.py    what each hidden test checks; hidden.py runs it in the student's kernel.
"""
