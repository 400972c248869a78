"""Release an assignment: source/ -> notebooks/ (student stubs) and solutions/ (executed).

The kit every assignment ships (data loading, visible-test checks) is written once, in
autograder/coursekit/, and lives in source/<assignment>/coursekit/ as a real copy: nbgrader's
file walk drops a symlinked folder, and the formgrader's Generate, `nbgrader
generate_assignment` and nbgrader's autograde (which copies the source's files over a
submission) all read source/. `make release` first refreshes that copy from the package (it
replaces a symlink left from older checkouts, and refuses to overwrite a copy edited after the
package's kit, so such an edit is moved to autograder/coursekit/ rather than lost), then lets
nbgrader do both conversions and puts the package's kit into both outputs.

Students never work in notebooks/: `make lab` gives them copies in workspace/ (autograder.lab),
so a release may regenerate notebooks/ at any time.
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


KIT_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc")


def kit_files(folder):
    """Relative paths of the kit's files under `folder` (caches left out)."""
    return sorted(p.relative_to(folder) for p in Path(folder).rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")


def copy_kit(destination):
    destination = Path(destination)
    if destination.is_symlink() or destination.is_file():
        destination.unlink()
    shutil.rmtree(destination, ignore_errors=True)
    shutil.copytree(KIT, destination, ignore=KIT_IGNORE)


def kit_differences(folder):
    """Files that differ between `folder` and the package's kit: [(relative path, newer side)]."""
    differences = []
    for relative in sorted(set(kit_files(KIT)) | set(kit_files(folder))):
        ours, theirs = KIT / relative, Path(folder) / relative
        if not (ours.is_file() and theirs.is_file() and ours.read_bytes() == theirs.read_bytes()):
            newer = "source" if theirs.is_file() and (not ours.is_file()
                                                    or theirs.stat().st_mtime > ours.stat().st_mtime) else "package"
            differences.append((relative, newer))
    return differences


def sync_source_kit(assignment, root=COURSE_ROOT):
    """Make root/source/<assignment>/coursekit a real copy of autograder/coursekit.

    Returns what changed, or raises RuntimeError if the source's copy holds an edit newer than
    the package's kit (it would be lost: make it in autograder/coursekit/ instead).
    """
    target = Path(root, "source", assignment, "coursekit")
    if target.is_symlink() or not target.exists():
        copy_kit(target)
        return [f"source/{assignment}/coursekit is now a copy of autograder/coursekit"]
    differences = kit_differences(target)
    edited = [str(relative) for relative, newer in differences if newer == "source"]
    if edited:
        raise RuntimeError(
            f"source/{assignment}/coursekit/ has changes newer than autograder/coursekit/ ({', '.join(edited)}): "
            "the kit is edited in autograder/coursekit/ (the grader and the tests import it from there). "
            f"Move the change there, then run `make release` again.")
    if differences:
        copy_kit(target)
        return [f"source/{assignment}/coursekit updated from autograder/coursekit: "
                + ", ".join(str(relative) for relative, _ in differences)]
    return []


def release(assignment, root=COURSE_ROOT):
    """Regenerate root/notebooks/<assignment> and root/solutions/<assignment> from source.

    `root` other than the course root (used by the freshness test) must hold a
    `source` folder or link.
    """
    for command, folder in (("generate_assignment", "notebooks"), ("generate_solution", "solutions")):
        shutil.rmtree(Path(root, folder, assignment), ignore_errors=True)
        nbgrader(command, assignment, "--force", root=root)
        copy_kit(Path(root, folder, assignment, "coursekit"))


def assignments(root=COURSE_ROOT):
    """Every assignment in source/, in course order (their names sort that way)."""
    return sorted(p.name for p in Path(root, "source").iterdir() if p.is_dir() and not p.name.startswith("."))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder release", description=__doc__)
    parser.add_argument("assignment", nargs="*", help="folder names under source/ (default: every one)")
    args = parser.parse_args(argv)
    unknown = [a for a in args.assignment if not (COURSE_ROOT / "source" / a).is_dir()]
    if unknown:
        parser.error(f"no assignment source/{unknown[0]} (have: {', '.join(assignments())})")
    for assignment in args.assignment or assignments():
        try:
            for line in sync_source_kit(assignment):
                print(line)
        except RuntimeError as error:
            parser.exit(1, f"{error}\n")
        release(assignment)
        print(f"released notebooks/{assignment} and solutions/{assignment}")
    print("students' copies in workspace/ are untouched (`make lab` offers a changed release beside them)")
    return 0
