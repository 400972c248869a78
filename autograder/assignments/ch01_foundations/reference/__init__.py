"""Reference solutions for Chapter 1: instructor-side only, never shipped with a release.

- derivatives.py: the centred-difference derivative and the chain rule for chains of two and three
  functions (notebook 1);
- matrices.py: functions of several inputs and of matrices, forward and backward (notebook 2);
- book.py: the book's own computations where they differ from the course's (link derivatives by
  finite differences, the backward of the sum that ignores dL/dS, the book's seeds and nudges), to
  reproduce its printed numbers and to show its quirks.

Every link's derivative in the chain rule and in the backward passes is exact (`exact_slope`), as
the notebooks have the student take it from coursekit.foundations.derivative_of; the book takes it
from deriv. The hidden tests choose their cases so that both ways agree to within compare.py's
tolerance (checks.py), so a student may use either.
"""
