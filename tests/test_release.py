"""Every assignment's release is fresh, gives nothing away, and its stubs fail every test."""
import ast
import json
import re
from pathlib import Path

import nbformat
import pytest
from nbgrader.validator import Validator

from autograder import assignments as registry
from autograder.release import COURSE_ROOT, KIT, assignments, release
from autograder.specs import CHECKS, checks_of

ASSIGNMENTS = assignments()
SOURCE, RELEASED, SOLUTIONS = (COURSE_ROOT / "source", COURSE_ROOT / "notebooks", COURSE_ROOT / "solutions")


def notebooks_of(assignment):
    return sorted(path.name for path in (SOURCE / assignment).glob("*.ipynb"))


NOTEBOOKS = [(assignment, name) for assignment in ASSIGNMENTS for name in notebooks_of(assignment)]


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
    return root


def test_every_assignment_has_notebooks_and_a_package_of_checks():
    assert ASSIGNMENTS and registry.names() == ASSIGNMENTS, \
        "each folder in source/ needs autograder/assignments/<assignment>/ (checks.py), and no package is left over"
    for assignment in ASSIGNMENTS:
        assert notebooks_of(assignment), f"source/{assignment} has no notebook"
        assert checks_of(assignment), f"{assignment} has no hidden tests"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_committed_release_is_fresh(fresh_release, assignment):
    release(assignment, root=fresh_release)
    for folder in ("notebooks", "solutions"):
        committed, regenerated = COURSE_ROOT / folder / assignment, fresh_release / folder / assignment
        files = lambda base: sorted(str(p.relative_to(base)) for p in base.rglob("*") if p.is_file())
        assert files(committed) == files(regenerated), f"run `make release`: {folder}/{assignment} differs from source/"
        for name in notebooks_of(assignment):
            assert comparable(committed / name) == comparable(regenerated / name), \
                f"run `make release`: {folder}/{assignment}/{name} is stale"


@pytest.mark.parametrize("folder", [root / a for root in (SOURCE, RELEASED, SOLUTIONS) for a in ASSIGNMENTS],
                         ids=lambda path: f"{path.parent.name}/{path.name}")
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


@pytest.mark.parametrize("assignment,name", NOTEBOOKS)
def test_release_holds_no_solution_and_no_hidden_test(assignment, name):
    released = (RELEASED / assignment / name).read_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "run_hidden_test"):
        assert marker not in released
    # Every cell, code and text, against the solution lines of every notebook released with it.
    text = "\n".join(c.source for c in nbformat.reads(released, as_version=4).cells)
    leaked = [(other, line) for other in notebooks_of(assignment)
              for line in solution_lines(nbformat.read(SOURCE / assignment / other, as_version=4)) if line in text]
    assert not leaked, f"solution or hidden-test lines in the release: {leaked}"


# ---------------------------------------------------------------- no graded answer anywhere under notebooks/

def graded_names(checks):
    """function name -> the grade_ids that grade it"""
    names = {}
    for check in checks:
        names.setdefault(check.function, []).append(check.grade_id)
    return names


GRADED = graded_names(CHECKS.values())   # the whole course's: the kit ships with every assignment


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


def is_stub_class(node):
    """A graded class gives nothing away if a method of it is a stub: what the student writes is
    missing (the given methods, such as __init__, may stay)."""
    return any(isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and is_stub(item.body) for item in node.body)


def graded_definitions(source, graded=GRADED):
    """(name, line, gives nothing away) for every binding of a graded name in `source`: def and
    async def (a stub body gives nothing away), class (stub methods give nothing away), assignment,
    import, loop or with target."""
    code = "\n".join("pass" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in graded:
            yield node.name, node.lineno, is_stub(node.body)
        elif isinstance(node, ast.ClassDef) and node.name in graded:
            yield node.name, node.lineno, is_stub_class(node)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                bound = alias.asname or alias.name.split(".")[0]
                if bound in graded:
                    yield bound, node.lineno, False
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr, ast.For, ast.withitem)):
            targets = (node.targets if isinstance(node, ast.Assign) else
                       [node.optional_vars] if isinstance(node, ast.withitem) else [node.target])
            for target in (t for t in targets if t is not None):
                for name in ast.walk(target):
                    if isinstance(name, ast.Name) and name.id in graded:
                        yield name.id, getattr(node, "lineno", getattr(target, "lineno", 0)), False


def released_definitions(folder, checks=tuple(CHECKS.values())):
    """(where, name, gives nothing away, in its own stub cell) for every name graded by `checks` bound
    under `folder`."""
    graded = graded_names(checks)
    stub_cells = {(check.notebook, f"{check.grade_id}_solution", check.function) for check in checks}
    for path in sorted(folder.rglob("*")):
        if path.suffix == ".py":
            for name, line, stub in graded_definitions(path.read_text(), graded):
                yield f"{path.relative_to(folder)}:{line}", name, stub, False
        elif path.suffix == ".ipynb":
            for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
                if cell.cell_type != "code":
                    continue
                grade_id = nbgrader_meta(cell).get("grade_id", "")
                for name, line, stub in graded_definitions(cell.source, graded):
                    own = (path.stem, grade_id, name) in stub_cells
                    yield (f"{path.relative_to(folder)} cell {index} ({grade_id or 'no grade_id'}) line {line}",
                           name, stub, own)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_graded_function_is_defined_outside_its_stub_anywhere_in_a_release(assignment):
    """No released notebook, and no file released with them, holds the answer to a graded exercise of
    any notebook released with it: a graded function's name may be bound only by a stub def (docstring
    and raise NotImplementedError), in its own stub cell or, as in part 2's cell for the part-1
    functions, as an empty def the student fills in. The kit, released with every assignment, may
    bind no graded name of any."""
    checks = checks_of(assignment)
    found = list(released_definitions(RELEASED / assignment, checks))
    found += list(released_definitions(RELEASED / assignment / "coursekit"))
    answers = [f"{where}: {name} ({', '.join(GRADED[name])})" for where, name, stub, _ in found if not stub]
    assert not answers, f"graded answers under notebooks/{assignment}: " + "; ".join(answers)
    # Not vacuous: every graded function's own stub cell is found, and holds a stub.
    stubs = {(where.split(" cell ")[0], name) for where, name, stub, own in found if stub and own}
    for check in checks:
        assert (f"{check.notebook}.ipynb", check.function) in stubs, \
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


def test_a_class_is_a_stub_while_a_method_of_it_is():
    graded = {"Scale": ["op_scale"]}
    given = "class Scale:\n    def __init__(self, k):\n        self.k = k\n"
    stub = given + "    def forward(self, x):\n        raise NotImplementedError('write it')\n"
    answer = given + "    def forward(self, x):\n        return x * self.k\n"
    assert [s for _, _, s in graded_definitions(stub, graded)] == [True]
    assert [s for _, _, s in graded_definitions(answer, graded)] == [False]


def test_nothing_under_notebooks_imports_the_instructor_package():
    for path in (COURSE_ROOT / "notebooks").rglob("*"):
        if path.is_file() and path.suffix in (".py", ".ipynb"):
            assert not re.search(r"(from|import)\s+autograder", path.read_text()), path


@pytest.mark.parametrize("assignment,name", NOTEBOOKS)
def test_graded_cells_match_the_hidden_test_specs(assignment, name):
    notebook = nbformat.read(SOURCE / assignment / name, as_version=4)
    graded = {nbgrader_meta(c)["grade_id"]: c for c in notebook.cells
              if nbgrader_meta(c).get("grade") and c.cell_type == "code"}
    expected = {check.grade_id for check in checks_of(assignment, Path(name).stem)}
    assert set(graded) == expected
    for grade_id, cell in graded.items():
        assert nbgrader_meta(cell)["points"] > 0 and nbgrader_meta(cell)["locked"]
        assert f'run_hidden_test("{grade_id}", {CHECKS[grade_id].function})' in cell.source


@pytest.mark.parametrize("assignment,name", NOTEBOOKS)
def test_test_cells_end_in_an_assertion_or_a_print(assignment, name):
    # nbgrader reads a number on a test cell's last line as partial credit.
    for cell in nbformat.read(RELEASED / assignment / name, as_version=4).cells:
        if nbgrader_meta(cell).get("grade") and cell.cell_type == "code":
            last = [line for line in cell.source.splitlines() if line.strip() and not line.startswith("#")][-1]
            assert re.match(r"\s*(assert|print\()", last), f"{nbgrader_meta(cell)['grade_id']} ends in {last!r}"


@pytest.mark.parametrize("assignment,name", NOTEBOOKS)
def test_solutions_ran_without_errors(assignment, name):
    for cell in json.loads((SOLUTIONS / assignment / name).read_text())["cells"]:
        assert not [o for o in cell.get("outputs", []) if o["output_type"] == "error"]
        assert not [o for o in cell.get("outputs", []) if o.get("name") == "stderr"], cell["source"][:80]


class KeepingValidator(Validator):
    """nbgrader's own validator, as `nbgrader validate` runs it, keeping the notebook it executed."""
    executed = None

    def _preprocess(self, nb):
        self.executed = super()._preprocess(nb)
        return self.executed


@pytest.mark.parametrize("assignment,name", NOTEBOOKS)
def test_released_notebook_fails_every_test_at_its_stubs_and_nowhere_else(assignment, name):
    """One run of the released notebook, two checks. Its stubs fail every test: nbgrader's validator
    with --invert finds no test cell that passes (`nbgrader validate --invert` would say "Success! The
    notebook does not pass any tests."). And a student who runs every cell before writing anything
    sees only the stubs' errors."""
    validator = KeepingValidator(invert=True)
    results = validator.validate(str(RELEASED / assignment / name))
    assert results == {}, f"nbgrader validate --invert: {results}"     # nothing passed, nothing changed
    failed_sources = []
    for cell in (c for c in validator.executed.cells if c.cell_type == "code"):
        for error in (o for o in cell.outputs if o.output_type == "error"):
            missing = re.match(r"name '(\w+)' is not defined", error.evalue)
            # A NameError is fine only for a name an earlier, stub-broken cell would have defined.
            downstream = error.ename == "NameError" and missing and \
                any(re.search(rf"\b{missing.group(1)}\b", src) for src in failed_sources)
            assert error.ename == "NotImplementedError" or downstream, \
                f"{error.ename}: {error.evalue} in cell:\n{cell.source[:300]}"
            failed_sources.append(cell.source)
    assert failed_sources, "the stubs should raise NotImplementedError"


def bound_names(tree):
    """Names a cell (re)binds or changes in place: assignment targets (the variable under a subscript or an
    attribute too), augmented assignments, definitions, imports, loop and with targets."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
        elif isinstance(node, (ast.Name, ast.Subscript, ast.Attribute)) and isinstance(node.ctx, (ast.Store, ast.Del)):
            while isinstance(node, (ast.Subscript, ast.Attribute)):
                node = node.value
            if isinstance(node, ast.Name):
                names.add(node.id)
    return names


def read_names(tree):
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}


@pytest.mark.parametrize("assignment,name", NOTEBOOKS)
def test_a_cell_the_grader_skips_grades_nothing_and_feeds_nothing(assignment, name):
    """The grader does not run a cell tagged skip-when-grading (grading/autograde.py, RunWhatTheSourceRuns),
    which is only right if the grades are the same without it: it is no graded or solution cell, no later
    cell reads a name it binds, no solution cell (the student's own code) comes after it, and the release
    holds it as written (the grader recognises it by its source)."""
    from autograder.grading.autograde import SKIP_TAG, skipped_sources
    cells = nbformat.read(SOURCE / assignment / name, as_version=4).cells
    tagged = [i for i, cell in enumerate(cells) if SKIP_TAG in cell.metadata.get("tags", [])]
    released = {cell.source for cell in nbformat.read(RELEASED / assignment / name, as_version=4).cells}
    assert skipped_sources(SOURCE / assignment)[Path(name).stem] == [cells[i].source for i in tagged]
    for i in tagged:
        cell = cells[i]
        assert cell.cell_type == "code" and not any(nbgrader_meta(cell).get(k) for k in ("grade", "solution", "task"))
        assert cell.source in released, f"cell {i} is released changed: the grader would run it"
        later = [c for c in cells[i + 1:] if c.cell_type == "code" and SKIP_TAG not in c.metadata.get("tags", [])]
        fed = bound_names(ast.parse(cell.source)) & set().union(*(read_names(ast.parse(c.source)) for c in later))
        assert not fed, f"cell {i} is skipped when grading, but later cells read {sorted(fed)}"
        # nor could a student's own code read it: no code a student writes (a solution cell) comes after it
        assert not any(nbgrader_meta(c).get("solution") for c in later), f"a solution cell follows cell {i}"


def test_the_skip_check_sees_what_a_cell_sets():
    tree = ast.parse("a, b = 1, 2\nresults['x'] = 3\nobj.attr = 4\nimport numpy.linalg\ndef f(): pass\nfor i in []: pass")
    assert bound_names(tree) == {"a", "b", "results", "obj", "numpy", "f", "i"}
    assert read_names(ast.parse("print(results['x'] + a)")) == {"print", "results", "a"}
