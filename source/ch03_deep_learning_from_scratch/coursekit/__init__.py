"""What a student needs beside the notebooks: the data, the visible-test checks, the hand-worked
cases, and the drawing helpers.

- data.py: the Boston data (corrected, or as the printed book used them) and the book's split;
- checks.py: the checks behind the visible tests;
- handcases.py: small cases worked out by hand for the visible tests, and part 2's check of the
  student's part-1 functions;
- plots.py: computational graphs, the usual network picture, and the plots and tables that
  compare models.

This folder ships inside every released assignment (source/<assignment>/coursekit
is a link to it), so it must import nothing from the rest of `autograder`, and it
holds no answer to a graded exercise (tests/test_release.py checks both).
"""
