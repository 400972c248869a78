"""What a student needs beside the notebooks: the data and the visible-test checks.

This folder ships inside every released assignment (source/<assignment>/coursekit
is a link to it), so it must import nothing from the rest of `autograder`.
"""
