"""nbgrader settings for the course: every folder and limit in one place.

The flow is source/ -> notebooks/ (release) and solutions/ -> submitted/ ->
autograded/ -> feedback/, with the gradebook beside them.
"""
import os

c = get_config()  # noqa: F821  (injected by traitlets)

here = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.course_id = "dlfs"
c.CourseDirectory.root = here
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.solution_directory = "solutions"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(here, "gradebook.db")
# Bytecode and checkpoints must never be copied into a release or a submission.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".pytest_cache"]

# A cell that runs longer than this is stopped: a student's infinite loop must
# not hold up a whole class. The longest reference cell (network training)
# takes about a second.
c.Execute.timeout = 60
# Start each notebook with the same seed-free, warning-visible kernel.
c.Execute.interrupt_on_timeout = True

# What a student sees where a solution was removed; the error says what to do, should the stub run.
c.ClearSolutions.code_stub = {
    "python": "# YOUR CODE HERE: write this function, then run the next cell to test it\n"
              "raise NotImplementedError(\"write this function, then run the next cell\")",
}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# nbgrader's exchange (the formgrader's Release and Collect, the lab's Assignment List) is a
# folder of this course, git-ignored; `make lab` and `make instructor` create it when missing.
c.Exchange.root = os.path.join(here, "exchange")
c.Exchange.cache = os.path.join(here, "exchange", ".cache")
