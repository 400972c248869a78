"""The release is fresh, gives nothing away, and its stubs fail every test."""
import ast
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
    # Every cell, code and text, against the solution lines of every notebook released with it.
    text = "\n".join(c.source for c in nbformat.reads(released, as_version=4).cells)
    leaked = [(other, line) for other in NOTEBOOKS
              for line in solution_lines(nbformat.read(SOURCE / other, as_version=4)) if line in text]
    assert not leaked, f"solution or hidden-test lines in the release: {leaked}"


# ---------------------------------------------------------------- no graded answer anywhere under notebooks/

GRADED = {}   # function name -> the grade_ids that grade it
for _grade_id, _check in CHECKS.items():
    GRADED.setdefault(_check.function, []).append(_grade_id)


def is_stub(body):
    """A function body that gives nothing away: an optional docstring, then only `raise NotImplementedError`
    (with or without a message), `pass` or `...`."""
    body = list(body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]

    def stub_statement(node):
        if isinstance(node, ast.Pass):
            return True
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and node.value.value is Ellipsis:
            return True
        if isinstance(node, ast.Raise) and node.exc is not None:
            raised = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            return isinstance(raised, ast.Name) and raised.id == "NotImplementedError"
        return False
    return bool(body) and all(stub_statement(node) for node in body)


def graded_definitions(source):
    """(name, line, gives nothing away) for every binding of a graded function's name in `source`:
    def and async def (a stub body gives nothing away), class, assignment, import, loop or with target."""
    code = "\n".join("pass" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in GRADED:
            yield node.name, node.lineno, is_stub(node.body)
        elif isinstance(node, ast.ClassDef) and node.name in GRADED:
            yield node.name, node.lineno, False
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                bound = alias.asname or alias.name.split(".")[0]
                if bound in GRADED:
                    yield bound, node.lineno, False
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr, ast.For, ast.withitem)):
            targets = (node.targets if isinstance(node, ast.Assign) else
                       [node.optional_vars] if isinstance(node, ast.withitem) else [node.target])
            for target in (t for t in targets if t is not None):
                for name in ast.walk(target):
                    if isinstance(name, ast.Name) and name.id in GRADED:
                        yield name.id, getattr(node, "lineno", getattr(target, "lineno", 0)), False


def released_definitions(folder):
    """(where, name, gives nothing away, in its own stub cell) for every graded name bound under `folder`."""
    stub_cells = {(check.notebook, f"{grade_id}_solution", check.function) for grade_id, check in CHECKS.items()}
    for path in sorted(folder.rglob("*")):
        if path.suffix == ".py":
            for name, line, stub in graded_definitions(path.read_text()):
                yield f"{path.relative_to(folder)}:{line}", name, stub, False
        elif path.suffix == ".ipynb":
            for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
                if cell.cell_type != "code":
                    continue
                grade_id = nbgrader_meta(cell).get("grade_id", "")
                for name, line, stub in graded_definitions(cell.source):
                    own = (path.stem, grade_id, name) in stub_cells
                    yield (f"{path.relative_to(folder)} cell {index} ({grade_id or 'no grade_id'}) line {line}",
                           name, stub, own)


def test_no_graded_function_is_defined_outside_its_stub_anywhere_under_notebooks():
    """No released notebook, and no file released with them, holds the answer to a graded exercise of
    any notebook released with it: a graded function's name may be bound only by a stub def (docstring
    and raise NotImplementedError), in its own stub cell or, as in part 2's cell for the part-1
    functions, as an empty def the student fills in."""
    found = list(released_definitions(COURSE_ROOT / "notebooks"))
    answers = [f"{where}: {name} ({', '.join(GRADED[name])})" for where, name, stub, _ in found if not stub]
    assert not answers, "graded answers under notebooks/: " + "; ".join(answers)
    # Not vacuous: every graded function's own stub cell is found, and holds a stub.
    stubs = {(where.split(" cell ")[0], name) for where, name, stub, own in found if stub and own}
    for check in CHECKS.values():
        assert (f"{ASSIGNMENT}/{check.notebook}.ipynb", check.function) in stubs, \
            f"no stub def of {check.function} found in its stub cell of {check.notebook}"


def test_the_answer_scan_catches_answers(tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell('def mae(a, b):\n    """doc"""\n    return abs(a - b).mean()'),
        nbformat.v4.new_code_cell("rmse = lambda a, b: 0.0\nfrom helpers import update_weights"),
        nbformat.v4.new_code_cell("%matplotlib inline\ndef predict(X, w):\n    raise NotImplementedError('write it')"),
        nbformat.v4.new_code_cell("def sigmoid(x):\n    pass\n\nfor forward_loss in []:\n    pass"),
        nbformat.v4.new_markdown_cell("def loss_gradients(): return 1")])
    (tmp_path / "a" / "coursekit").mkdir(parents=True)
    nbformat.write(notebook, tmp_path / "a" / "02_neural_network.ipynb")
    (tmp_path / "a" / "coursekit" / "kit.py").write_text("def loss_gradients(info, w):\n    return {}\n")
    verdicts = sorted((name, stub) for _, name, stub, _ in released_definitions(tmp_path))
    assert verdicts == [("forward_loss", False), ("loss_gradients", False), ("mae", False), ("predict", True),
                        ("rmse", False), ("sigmoid", True), ("update_weights", False)]


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


PRINTED_AND_CORRECTED = {
    # notebook: [(a row of the printed output, what it shows)]: the corrected-data figures beside the printed book's
    "01_linear_regression.ipynb": [
        (r"hand-built\s+MAE\s+3\.5644\s+3\.5643\s+not quoted", "hand-built MAE, corrected and pre-0.20 data"),
        (r"hand-built\s+RMSE\s+5\.0497\s+5\.0508\s+5\.0508\s+\(same\)", "hand-built RMSE, printed 5.0508"),
        (r"scikit-learn\s+MAE\s+3\.5671\s+3\.5666\s+3\.5666\s+\(same\)", "scikit-learn MAE, printed 3.5666"),
        (r"scikit-learn\s+RMSE\s+5\.0476\s+5\.0482\s+5\.0482\s+\(same\)", "scikit-learn RMSE, printed 5.0482"),
    ],
    "02_neural_network.ipynb": [
        (r"one per hidden unit \(correct\)\s+corrected\s+2\.5409\s+3\.9517", "this course's network"),
        (r"one per hidden unit \(correct\)\s+pre-0\.20\s+2\.5262\s+3\.9707", "correct B1 gradient, pre-0.20 data"),
        (r"collapsed to one number \(book\)\s+corrected\s+2\.5951\s+3\.8851", "official notebook, corrected data"),
        (r"collapsed to one number \(book\)\s+pre-0\.20\s+2\.5289\s+3\.6775", "printed book, reproduced"),
        (r"printed in the book\s+2\.5289\s+3\.6775", "printed book, quoted"),
    ],
}


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_solutions_print_the_printed_books_figures_beside_the_corrected_datas(name):
    notebook = nbformat.read(SOLUTIONS / name, as_version=4)
    printed = "".join(output.get("text", "") for cell in notebook.cells
                      for output in cell.get("outputs", []) if output.get("name") == "stdout")
    missing = [what for pattern, what in PRINTED_AND_CORRECTED[name] if not re.search(pattern, printed)]
    assert not missing, f"solutions/{ASSIGNMENT}/{name} does not print: {missing}"


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
