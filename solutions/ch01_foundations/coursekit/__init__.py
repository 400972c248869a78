"""What a student needs beside the notebooks: the data, the visible-test checks, the hand-worked
cases, and the drawing helpers. Shared by every assignment, plus a few modules of one chapter's.

- data.py: the Boston data (corrected, or as the printed book used them) and the book's split;
- checks.py: the checks behind the visible tests;
- foundations.py (Chapter 1): the elementary functions, their exact derivatives, and the chapter's
  checks and figures;
- handcases.py (Chapter 2): small cases worked out by hand for the visible tests, and part 2's
  check of the student's part-1 functions;
- plots.py (Chapter 2): computational graphs, the usual network picture, and the plots and tables
  that compare models;
- framework.py, framework_checks.py, framework_plots.py (Chapter 3): the framework's given parts
  and probes, its visible-test checks and figures.

This folder ships inside every released assignment (a copy in source/, notebooks/ and
solutions/<assignment>/coursekit, refreshed by `make release`), so it must import nothing from
the rest of `autograder`, and it holds no answer to a graded exercise of any assignment
(tests/test_release.py checks both).
"""
