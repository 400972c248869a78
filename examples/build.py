"""Rebuild the bundled example submissions from the released notebooks.

    .venv/bin/python examples/build.py [ASSIGNMENT ...]      (default: every assignment with examples)

Each assignment with examples has a module here, examples/<assignment>.py, defining
- STEMS: its notebooks' file stems;
- EXAMPLES: {student: (solutions, earned, flags, extra)}, where solutions maps
  (stem, solution cell's grade_id) to the source the student wrote, earned lists the
  autograded cells that must get full points, flags the flag words grading must raise, and
  extra is None or a function of the filled notebooks {stem: notebook} that may change them
  and returns {stem: raw text} to write instead of a notebook (a broken upload).

Each example is the released stub notebooks with those solution cells filled in. They are
written to submissions/<student>/<assignment>/, and what grading each must give to
expected/<assignment>.json; tests/test_grading_examples.py checks it against one run of the
pipeline. Rerun this script whenever the notebooks change and commit the result: `make grade`
uses the committed submissions as they are.
"""
import argparse
import importlib.util
import json
import shutil
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "submissions"
EXPECTED = HERE / "expected"


def assignments():
    """Every assignment that has an examples module, in course order."""
    return sorted(p.stem for p in HERE.glob("ch*.py"))


def load(assignment):
    spec = importlib.util.spec_from_file_location(f"examples_{assignment}", HERE / f"{assignment}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fill(notebook, solutions, stem):
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if (stem, grade_id) in solutions:
            cell.source = solutions[(stem, grade_id)]
    return notebook


def build(assignment, release_dir: Path, out: Path = OUT, expected_path: Path | None = None):
    """Write every example student's folder for `assignment` under `out`, and what each must earn."""
    examples = load(assignment)
    expected_path = expected_path or EXPECTED / f"{assignment}.json"
    expected = {}
    for student, (solutions, earned, flags, extra) in examples.EXAMPLES.items():
        folder = out / student / assignment
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        notebooks = {stem: fill(nbformat.read(str(release_dir / f"{stem}.ipynb"), as_version=4), solutions, stem)
                     for stem in examples.STEMS}
        raw = extra(notebooks) if extra else {}
        for stem, notebook in notebooks.items():
            if stem in raw:
                (folder / f"{stem}.ipynb").write_text(raw[stem])
            else:
                nbformat.write(notebook, str(folder / f"{stem}.ipynb"))
        expected[student] = {"earned": sorted(earned), "flags": flags}
    expected_path.parent.mkdir(parents=True, exist_ok=True)
    expected_path.write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
    return expected


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("assignment", nargs="*", help="default: " + " ".join(assignments()))
    args = parser.parse_args(argv)
    unknown = sorted(set(args.assignment) - set(assignments()))
    if unknown:
        parser.error(f"no examples module for {', '.join(unknown)} (have: {', '.join(assignments())})")
    for assignment in args.assignment or assignments():
        release_dir = ROOT / "notebooks" / assignment
        if not release_dir.is_dir():
            print(f"no released notebooks in {release_dir}: run `make release` first", file=sys.stderr)
            return 2
        written = build(assignment, release_dir)
        print(f"{assignment}: wrote {len(written)} example submissions to examples/submissions/*/{assignment} "
              f"and examples/expected/{assignment}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
