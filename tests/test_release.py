"""The release is fresh, gives nothing away, and its stubs fail every test."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.release import COURSE_ROOT, KIT, release
from autograder.specs import CHECKS

ASSIGNMENT = "ch02_fundamentals"
SOURCE = COURSE_ROOT / "source" / ASSIGNMENT
RELEASED = COURSE_ROOT / "notebooks" / ASSIGNMENT
SOLUTIONS = COURSE_ROOT / "solutions" / ASSIGNMENT
NOTEBOOKS = sorted(path.name for path in SOURCE.glob("*.ipynb"))


def nbgrader_meta(cell):
    return cell.metadata.get("nbgrader", {})


def comparable(path):
    """A notebook as data, without what legitimately varies between runs (timings, images)."""
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
        outputs = []
        for output in cell.get("outputs", []):
            output.get("data", {}).pop("image/png", None)
            # The kernel may split one print into several stream messages, differently each run.
            if outputs and output.output_type == "stream" == outputs[-1].output_type \
                    and output.name == outputs[-1].name:
                outputs[-1].text += output.text
            else:
                outputs.append(output)
        if cell.cell_type == "code":
            cell.outputs = outputs
    return notebook


@pytest.fixture(scope="module")
def fresh_release(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    (root / "source").symlink_to(COURSE_ROOT / "source")
    release(ASSIGNMENT, root=root)
    return root


def test_there_are_notebooks():
    assert NOTEBOOKS == ["01_linear_regression.ipynb", "02_neural_network.ipynb"]


@pytest.mark.parametrize("folder", ["notebooks", "solutions"])
def test_committed_release_is_fresh(fresh_release, folder):
    committed, regenerated = COURSE_ROOT / folder / ASSIGNMENT, fresh_release / folder / ASSIGNMENT
    files = lambda base: sorted(str(p.relative_to(base)) for p in base.rglob("*") if p.is_file())
    assert files(committed) == files(regenerated), f"run `make release`: {folder}/ differs from source/"
    for name in NOTEBOOKS:
        assert comparable(committed / name) == comparable(regenerated / name), \
            f"run `make release`: {folder}/{ASSIGNMENT}/{name} is stale"


@pytest.mark.parametrize("folder", [RELEASED, SOLUTIONS])
def test_released_kit_is_the_packages_kit(folder):
    for path in KIT.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            assert (folder / "coursekit" / path.relative_to(KIT)).read_bytes() == path.read_bytes(), \
                f"run `make release`: {path.relative_to(KIT)} changed"


def solution_lines(notebook):
    for cell in notebook.cells:
        inside = False
        for line in cell.source.splitlines():
            if "### BEGIN SOLUTION" in line or "### BEGIN HIDDEN TESTS" in line:
                inside = True
            elif "### END SOLUTION" in line or "### END HIDDEN TESTS" in line:
                inside = False
            elif inside and len(line.strip()) > 20 and not line.strip().startswith("#"):
                yield line.strip()


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_release_holds_no_solution_and_no_hidden_test(name):
    released = (RELEASED / name).read_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "run_hidden_test"):
        assert marker not in released
    code = "\n".join(c.source for c in nbformat.reads(released, as_version=4).cells if c.cell_type == "code")
    leaked = [line for line in solution_lines(nbformat.read(SOURCE / name, as_version=4)) if line in code]
    assert not leaked, f"solution or hidden-test lines in the release: {leaked}"


def test_nothing_under_notebooks_imports_the_instructor_package():
    for path in (COURSE_ROOT / "notebooks").rglob("*"):
        if path.is_file() and path.suffix in (".py", ".ipynb"):
            assert not re.search(r"(from|import)\s+autograder", path.read_text()), path


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_stubs_fail_every_test(name):
    done = subprocess.run([os.path.join(os.path.dirname(sys.executable), "nbgrader"), "validate", "--invert",
                           str(RELEASED / name)], capture_output=True, text=True, cwd=RELEASED)
    assert "Success! The notebook does not pass any tests." in done.stdout, done.stdout + done.stderr


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_graded_cells_match_the_hidden_test_specs(name):
    notebook = nbformat.read(SOURCE / name, as_version=4)
    graded = {nbgrader_meta(c)["grade_id"]: c for c in notebook.cells
              if nbgrader_meta(c).get("grade") and c.cell_type == "code"}
    expected = {gid for gid, check in CHECKS.items() if check.notebook == Path(name).stem}
    assert set(graded) == expected
    for grade_id, cell in graded.items():
        assert nbgrader_meta(cell)["points"] > 0 and nbgrader_meta(cell)["locked"]
        assert f'run_hidden_test("{grade_id}", {CHECKS[grade_id].function})' in cell.source


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_test_cells_end_in_an_assertion_or_a_print(name):
    # nbgrader reads a number on a test cell's last line as partial credit.
    for cell in nbformat.read(RELEASED / name, as_version=4).cells:
        if nbgrader_meta(cell).get("grade") and cell.cell_type == "code":
            last = [line for line in cell.source.splitlines() if line.strip() and not line.startswith("#")][-1]
            assert re.match(r"\s*(assert|print\()", last), f"{nbgrader_meta(cell)['grade_id']} ends in {last!r}"


def test_solutions_ran_without_errors():
    for name in NOTEBOOKS:
        for cell in json.loads((SOLUTIONS / name).read_text())["cells"]:
            assert not [o for o in cell.get("outputs", []) if o["output_type"] == "error"]
            assert not [o for o in cell.get("outputs", []) if o.get("name") == "stderr"], cell["source"][:80]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_released_notebook_runs_cleanly_up_to_the_stubs(name):
    # A student who runs every cell before writing anything sees only the stubs' errors.
    from nbclient import NotebookClient
    notebook = nbformat.read(RELEASED / name, as_version=4)
    NotebookClient(notebook, timeout=120, allow_errors=True, kernel_name="python3",
                   resources={"metadata": {"path": str(RELEASED)}}).execute()
    failed_sources = []
    for cell in (c for c in notebook.cells if c.cell_type == "code"):
        for error in (o for o in cell.outputs if o.output_type == "error"):
            missing = re.match(r"name '(\w+)' is not defined", error.evalue)
            # A NameError is fine only for a name an earlier, stub-broken cell would have defined.
            downstream = error.ename == "NameError" and missing and \
                any(re.search(rf"\b{missing.group(1)}\b", src) for src in failed_sources)
            assert error.ename == "NotImplementedError" or downstream, \
                f"{error.ename}: {error.evalue} in cell:\n{cell.source[:300]}"
            failed_sources.append(cell.source)
    assert failed_sources, "the stubs should raise NotImplementedError"
