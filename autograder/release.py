"""Release an assignment: source/ -> notebooks/ (student stubs) and solutions/ (executed).

nbgrader does both conversions; this adds the one step it cannot do: its file
walk does not follow the `coursekit` link in source/<assignment>/, so the kit is
copied into both outputs as real files.
"""
import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

COURSE_ROOT = Path(__file__).resolve().parents[1]
KIT = Path(__file__).resolve().parent / "coursekit"


def nbgrader(*args, root=COURSE_ROOT, cwd=COURSE_ROOT):
    """Run an nbgrader command with the course's config and this interpreter's tools on PATH."""
    bin_dir = os.path.dirname(sys.executable)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    command = [os.path.join(bin_dir, "nbgrader"), *args,
               f"--CourseDirectory.root={root}", f"--CourseDirectory.db_url=sqlite:///{root}/gradebook.db"]
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done


def copy_kit(destination):
    shutil.rmtree(destination, ignore_errors=True)
    shutil.copytree(KIT, destination, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def release(assignment, root=COURSE_ROOT):
    """Regenerate root/notebooks/<assignment> and root/solutions/<assignment> from source.

    `root` other than the course root (used by the freshness test) must hold a
    `source` folder or link.
    """
    for command, folder in (("generate_assignment", "notebooks"), ("generate_solution", "solutions")):
        shutil.rmtree(Path(root, folder, assignment), ignore_errors=True)
        nbgrader(command, assignment, "--force", root=root)
        copy_kit(Path(root, folder, assignment, "coursekit"))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder release", description=__doc__)
    parser.add_argument("assignment", help="folder name under source/, e.g. ch02_fundamentals")
    args = parser.parse_args(argv)
    if not (COURSE_ROOT / "source" / args.assignment).is_dir():
        parser.error(f"no assignment source/{args.assignment}")
    release(args.assignment)
    print(f"released notebooks/{args.assignment} and solutions/{args.assignment}")
    return 0
