"""OUT/nbgrader: the nbgrader course that remains the system of record, and its template gradebook.

    OUT/nbgrader/nbgrader_config.py       root, course id and gradebook of this folder
    OUT/nbgrader/source/<assignment>/     the instructor's notebooks and a real copy of the kit
    OUT/nbgrader/submitted/<student>/...  what was graded (the student's files + the fresh kit)
    OUT/nbgrader/autograded/<student>/... nbgrader's executed notebooks
    OUT/nbgrader/feedback/<student>/...   the cleaned feedback (also in OUT/feedback)
    OUT/nbgrader/gradebook.db             merged from every student's result at the end of a run

`nbgrader export` and the formgrader work there: `cd OUT/nbgrader && nbgrader export`.
The template gradebook (assignment and cells only, from `nbgrader generate_assignment`) is
built once per version of the source and copied by every worker.
"""
import json
import logging
import os
import shutil
import sys
from pathlib import Path

from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from .fingerprint import hash_tree

RECORD_CONFIG = '''"""nbgrader settings for this graded copy of the course (written by autograder.grading)."""
import os

c = get_config()  # noqa: F821
here = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.root = here
c.CourseDirectory.course_id = {course_id!r}
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(here, "gradebook.db")
'''
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")


def tool_env() -> dict:
    """This interpreter's bin/ first on PATH: nbgrader runs `alembic` from PATH."""
    bin_dir = os.path.dirname(sys.executable)
    return {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}


def put_tools_on_path():
    """nbgrader, in this process, runs `alembic` from PATH when it creates a gradebook."""
    bin_dir = os.path.dirname(sys.executable)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = tool_env()["PATH"]


def nbgrader_config(config, root: Path) -> Config:
    """The course's nbgrader_config.py (timeouts, stubs, ignore list) pointed at another root."""
    base = config.course_root / "nbgrader_config.py"
    loaded = PyFileConfigLoader(base.name, path=str(base.parent)).load_config() if base.is_file() else Config()
    loaded.CourseDirectory.root = str(root)
    loaded.CourseDirectory.course_id = config.course_id
    loaded.CourseDirectory.db_url = f"sqlite:///{root / 'gradebook.db'}"
    if config.cell_timeout is not None:
        loaded.Execute.timeout = config.cell_timeout
    # nbconvert validates the whole notebook after each of a converter's preprocessors (about 25 per
    # student); once, after the last, fails the same notebooks and costs a tenth as much.
    loaded.Exporter.optimistic_validation = True
    return loaded


def generate_template(config, root: Path):
    """`nbgrader generate_assignment --force` in root, in this process: nbgrader is imported here already,
    and a process of its own would import it again (about 2 of its 4.5 CPU seconds). Its log goes to a
    buffer, shown only if it fails."""
    from nbgrader.converters import GenerateAssignment
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.utils import capture_log

    put_tools_on_path()
    settings = nbgrader_config(config, root)
    coursedir = CourseDirectory(config=settings)
    coursedir.assignment_id = config.assignment
    log = logging.getLogger(f"{__name__}.generate_assignment")
    log.propagate = False           # not on the grader's terminal
    converter = GenerateAssignment(coursedir=coursedir, config=settings, log=log)
    converter.force = True
    outcome = capture_log(converter)
    if not outcome["success"]:
        raise RuntimeError(f"nbgrader generate_assignment {config.assignment} failed:\n"
                           f"{outcome.get('log', '')}{outcome.get('error', '')}")


def template_db(config) -> Path:
    return config.work / "template.db"


def template_version(config) -> str:
    """What the template gradebook is made from: the source, nbgrader_config.py (its solution stubs are
    the template's cells) and the kit."""
    return hash_tree([config.source, config.course_root / "nbgrader_config.py"]
                     + ([config.kit] if config.kit else [])).hexdigest()


def prepare(config) -> Path:
    """Copy the source into OUT/nbgrader and (re)build the template gradebook if what it is made from
    changed (template_version)."""
    source = config.record / "source" / config.assignment
    stamp = config.work / "template.json"
    version = template_version(config)
    if (template_db(config).is_file() and stamp.is_file() and source.is_dir()
            and json.loads(stamp.read_text()).get("version") == version):
        return template_db(config)
    shutil.rmtree(source, ignore_errors=True)
    shutil.copytree(config.source, source, ignore=IGNORE)      # follows the coursekit link
    if config.kit:
        shutil.rmtree(source / config.kit_name, ignore_errors=True)
        shutil.copytree(config.kit, source / config.kit_name, ignore=IGNORE)
    (config.record / "nbgrader_config.py").write_text(RECORD_CONFIG.format(course_id=config.course_id))
    scratch = config.work / "template"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    (scratch / "source").symlink_to((config.record / "source").resolve())
    generate_template(config, scratch)
    shutil.copyfile(scratch / "gradebook.db", template_db(config))
    shutil.rmtree(scratch, ignore_errors=True)
    stamp.write_text(json.dumps({"version": version}))
    return template_db(config)
