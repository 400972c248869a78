"""Second check of a submission, outside the student's kernel.

    from autograder.verify import verify_notebook
    result = verify_notebook(path, "01_linear_regression", seed=seed)   # never raises for a bad submission
    result["lin_forward"]   # Verdict(passed=..., message=...), one per grade_id of that notebook in specs.CHECKS
    result.flags            # tuple of problems, e.g. ("timeout",); empty when the run was clean
    result.isolation        # "bubblewrap" or "rlimits" (see autograder/sandbox.py)
    result.output           # the start of what the student's code printed

`verify_notebook` returns a `Verification`, which is also a read-only mapping
grade_id -> Verdict. Flags: "invalid notebook", "timeout", "memory limit",
"output limit", "crash" (the process died or exited: sys.exit, os._exit, a
signal), "invalid result" (what came back was not well-formed plain data). Every
flag but "memory limit" fails all verdicts; a MemoryError fails the check it
happened in. Use a seed different from autograder.hidden.SEEDS, e.g. a fresh one
per submission, so that the cases are not those the hidden tests used.

How: the parent reads the notebook, takes the code of its solution cells (plus
the definitions from other non-test code cells that they use), makes fresh cases with
np.random.default_rng(seed) for each Check, and runs autograder/_sandbox_child.py
in a sandbox (autograder/sandbox.py) with nothing but the standard library and
site-packages on its path: not the repository, so not the reference solutions.
The child sends back results as JSON + .npz (no pickle); the parent re-validates
them and judges them with Check.judge, using its own NumPy and the reference.
"""
import ast
import json
import os
import re
import shutil
import signal
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import numpy as np

from . import _sandbox_child as wire
from . import sandbox
from .specs import CHECKS

ROUNDS = 3                        # make_cases calls per Check: 3 to 6 cases each
MAX_NOTEBOOK_BYTES = 20 << 20
MAX_RESULT_JSON_BYTES = 4 << 20
CHILD = Path(wire.__file__)
PACKAGE = Path(__file__).resolve().parent    # autograder: hidden in the sandbox, should site-packages hold it
COURSEKIT = PACKAGE / "coursekit"


@dataclass(frozen=True)
class Verdict:
    passed: bool
    message: str
    kind: str = ""   # "passed", "wrong" (it ran and was wrong), "undefined" (never defined here), or a run flag


@dataclass(frozen=True, eq=False)
class Verification(Mapping):
    verdicts: dict = field(default_factory=dict)   # grade_id -> Verdict
    flags: tuple = ()
    isolation: str = ""
    output: str = ""

    def __getitem__(self, grade_id):
        return self.verdicts[grade_id]

    def __iter__(self):
        return iter(self.verdicts)

    def __len__(self):
        return len(self.verdicts)

    @property
    def passed(self):
        return not self.flags and all(v.passed for v in self.verdicts.values())


def checks_for(notebook_stem, assignment=None):
    """The Checks of one notebook; without `assignment` its stem must name one notebook of the course."""
    checks = [check for check in CHECKS.values() if check.notebook == notebook_stem
              and assignment in (None, check.assignment)]
    if not checks:
        raise ValueError(f"no graded functions for notebook {notebook_stem!r}"
                         + (f" of {assignment}" if assignment else ""))
    if len({check.assignment for check in checks}) > 1:
        raise ValueError(f"notebook {notebook_stem!r} is in several assignments: say which")
    return checks


def verify_notebook(notebook_path: Path, notebook_stem: str, *, seed: int, timeout_s: float = 60,
                    limits: sandbox.Limits | None = None, isolation: str = "auto",
                    assignment: str | None = None) -> Verification:
    """Verdicts for every Check of `notebook_stem`, from running the notebook's solutions in a sandbox.

    isolation: "auto" (bubblewrap where it works, else rlimits), "bubblewrap" or "rlimits".
    """
    checks = checks_for(notebook_stem, assignment)
    limits = limits or sandbox.Limits()
    cells = solution_code(notebook_path, {check.function for check in checks})
    if cells is None:
        return failed(checks, "invalid notebook", "the notebook could not be read as a valid notebook")
    cases = {check.grade_id: make_cases(check, seed) for check in checks}
    mode = choose_isolation(isolation)
    box = Path(tempfile.mkdtemp(prefix="verify-"))
    try:
        write_job(box, cells, checks, cases)
        readable = sandbox.readable_paths(*interpreter())
        hidden = [PACKAGE] if any(PACKAGE.is_relative_to(path) for path in readable) else []
        # The child writes its results into descriptors opened here, never into a path it could relink.
        with open(box / "results.json", "w+b") as tree, open(box / "results.npz", "w+b") as arrays:
            outcome = sandbox.run(child_command(box, tree.fileno(), arrays.fileno()), box, readable=readable,
                                  hidden=hidden, timeout_s=timeout_s, limits=limits, isolation=mode,
                                  pass_fds=(tree.fileno(), arrays.fileno()))
            return judge_outcome(outcome, (tree, arrays), checks, cases, timeout_s, limits)
    finally:
        shutil.rmtree(box, ignore_errors=True)


# ---------------------------------------------------------------- the parent's side, before the run

def solution_code(notebook_path, graded=()):
    """The sources to run, or None for an invalid notebook.

    The solution cells run whole, in notebook order. Before them run the definitions
    (imports, functions, classes, literal constants) from the other code cells that
    are not test cells, but only those the solutions use, directly or through another
    kept definition, and none named in `graded`: a helper or an import the solutions
    rely on is there, but no training loop, plot, or slow import nobody needs.
    """
    try:
        if Path(notebook_path).stat().st_size > MAX_NOTEBOOK_BYTES:
            return None
        notebook = nbformat.read(str(notebook_path), as_version=4)
        nbformat.validate(notebook)
    except Exception:   # any unreadable, non-JSON or malformed notebook
        return None
    definitions, solutions = [], []
    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        meta = meta if isinstance(meta, dict) else {}
        if cell.get("cell_type") != "code" or not isinstance(cell.get("source"), str):
            continue
        if meta.get("solution") is True:
            solutions.append(without_magics(cell.source))
        elif not meta.get("grade"):
            definitions += definitions_of(cell.source, graded)
    return ["import numpy as np"] + used_by(definitions, solutions) + [s for s in solutions if s.strip()]


def definitions_of(source, graded=()):
    """(names it defines, source) for each top-level import, function, class and literal constant of a cell."""
    try:
        tree = ast.parse(without_magics(source))
        return [(defined_names(node), ast.unparse(node)) for node in tree.body
                if is_definition(node) and defined_names(node).isdisjoint(graded)]
    except (SyntaxError, ValueError, RecursionError, MemoryError):   # a cell we cannot read contributes nothing
        return []


def used_by(definitions, solutions):
    """The sources of the definitions the solutions need, in their order, found by following names."""
    wanted, kept = identifiers("\n".join(solutions)), set()
    while True:
        more = {i for i, (names, source) in enumerate(definitions) if i not in kept and names & wanted}
        if not more:
            return [definitions[i][1] for i in sorted(kept)]
        kept |= more
        for i in more:
            wanted |= identifiers(definitions[i][1])


def identifiers(source):
    return set(re.findall(r"[A-Za-z_]\w*", source))


def defined_names(node):
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(alias.asname or alias.name).split(".")[0] for alias in node.names}
    return {name.id for target in node.targets for name in ast.walk(target) if isinstance(name, ast.Name)}


def is_definition(node):
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return True
    if isinstance(node, ast.Assign):
        try:
            ast.literal_eval(node.value)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return False
        return True
    return isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))


def without_magics(source):
    """IPython magics and shell escapes (%..., !...) become `pass`: there is no IPython in the sandbox."""
    return re.sub(r"^(\s*)[%!].*$", r"\1pass", source, flags=re.MULTILINE)


def make_cases(check, seed):
    rng = np.random.default_rng(seed)
    return [args for _ in range(ROUNDS) for args in check.cases(rng)]


def choose_isolation(isolation):
    if isolation == "auto":
        return sandbox.BUBBLEWRAP if sandbox.bubblewrap_works(*interpreter()) else sandbox.RLIMITS
    if isolation not in (sandbox.BUBBLEWRAP, sandbox.RLIMITS):
        raise ValueError(f"unknown isolation {isolation!r}")
    return isolation


def interpreter():
    """The real interpreter (not the venv's launcher) and the site-packages that hold numpy."""
    python = Path(getattr(sys, "_base_executable", None) or sys.executable).resolve()
    return str(python), str(Path(np.__file__).resolve().parent.parent)


def child_command(box, tree_fd, arrays_fd):
    python, site_packages = interpreter()
    return [python, "-I", "-S", "-B", str(box / "child.py"), str(box), site_packages, str(tree_fd), str(arrays_fd)]


def write_job(box, cells, checks, cases):
    arrays = {}
    calls = [{"grade_id": check.grade_id, "function": check.function, "script": check.script,
              "cases": [wire.encode(args, arrays) for args in cases[check.grade_id]]} for check in checks]
    np.savez(box / "cases.npz", **arrays)
    (box / "job.json").write_text(json.dumps({"cells": cells, "calls": calls}))
    shutil.copy(CHILD, box / "child.py")
    shutil.copytree(COURSEKIT, box / "lib" / "coursekit", ignore=shutil.ignore_patterns("__pycache__"))


# ---------------------------------------------------------------- the parent's side, after the run

def failed(checks, flag, why, isolation="", output=""):
    message = f"not verified: {why}"
    return Verification({check.grade_id: Verdict(False, message, flag) for check in checks}, (flag,), isolation,
                        output)


def judge_outcome(outcome, files, checks, cases, timeout_s, limits):
    crash = run_failure(outcome, timeout_s, limits, finished=os.fstat(files[0].fileno()).st_size > 0)
    if crash:
        return failed(checks, *crash, outcome.isolation, outcome.output)
    try:
        report = read_results(files, limits)
        results = {check.grade_id: decode_check(report["checks"][check.grade_id], len(cases[check.grade_id]),
                                                report["arrays"]) for check in checks}
    except Exception as exc:   # the child is untrusted: anything malformed is its fault, never ours to raise
        return failed(checks, "invalid result", f"the results sent back were not plain data ({exc})",
                      outcome.isolation, outcome.output)
    cause = first_cell_error(report.get("cells"))
    verdicts = {check.grade_id: judge_check(check, cases[check.grade_id], results[check.grade_id], cause)
                for check in checks}
    flags = ("memory limit",) if report.get("memory_error") is True else ()
    return Verification(verdicts, flags, outcome.isolation, outcome.output)


def run_failure(outcome, timeout_s, limits, finished):
    """(flag, explanation) if the run itself went wrong, else None."""
    if outcome.timed_out:
        return "timeout", f"the notebook's code ran longer than {timeout_s:g} s"
    if outcome.signal == signal.SIGXCPU:
        return "timeout", f"the notebook's code used more than {timeout_s:g} s of CPU time"
    if (outcome.signal == signal.SIGXFSZ or outcome.output_bytes > limits.output_bytes
            or outcome.output_bytes >= limits.file_bytes):   # Python ignores SIGXFSZ: its writes just fail
        return "output limit", f"the notebook's code printed or wrote more than {limits.output_bytes} bytes"
    if outcome.returncode != 0 or not finished:
        how = f"signal {outcome.signal}" if outcome.signal else f"exit status {outcome.returncode}"
        return "crash", (f"the process running the notebook's code ended early ({how}): sys.exit, os._exit "
                         "or a kill in a solution cell or graded function, or running out of memory")
    return None


def read_results(files, limits):
    tree, arrays = files
    report = json.loads(wire.read_open(tree, MAX_RESULT_JSON_BYTES))
    if not isinstance(report, dict) or not isinstance(report.get("checks"), dict):
        raise ValueError("results.json has the wrong layout")
    report["arrays"] = wire.load_arrays(wire.read_open(arrays, limits.file_bytes), limits.file_bytes)
    return report


def decode_check(node, n_cases, arrays):
    """A plain summary of one check's results: {"defined", "callable", "type", "cases": [(result, error, modified)]}."""
    if not isinstance(node, dict) or type(node.get("defined")) is not bool:
        raise ValueError("bad check entry")
    if not node["defined"]:
        return {"defined": False}
    if node.get("callable") is not True:
        return {"defined": True, "callable": False, "type": str(node.get("type"))[:100]}
    raw = node.get("cases")
    if not isinstance(raw, list) or len(raw) != n_cases:
        raise ValueError("wrong number of cases")
    return {"defined": True, "callable": True, "cases": [decode_case(case, arrays) for case in raw]}


def decode_case(case, arrays):
    if not isinstance(case, dict) or type(case.get("modified")) is not bool:
        raise ValueError("bad case entry")
    error = case.get("error")
    if error is not None:
        if not (isinstance(error, list) and len(error) == 2 and all(type(e) is str for e in error)):
            raise ValueError("bad error entry")
        return None, (error[0][:100], error[1][:wire.MAX_TEXT]), case["modified"]
    return wire.decode(case.get("result"), arrays), None, case["modified"]


def first_cell_error(errors):
    """The first error a cell of the child reported, as text, or "" (the child is untrusted: any shape)."""
    for error in errors if isinstance(errors, list) else []:
        if isinstance(error, list) and len(error) == 2 and all(type(e) is str for e in error):
            return f"{error[0][:100]}: {error[1][:300]}"
    return ""


def judge_check(check, cases, summary, cause=""):
    name = check.function
    if not summary["defined"]:
        because = f" (a cell of the notebook raised {cause})" if cause else ""
        return Verdict(False, f"function {name} is not defined when the notebook's solution cells run on their "
                              f"own{because}", "undefined")
    if not summary["callable"]:
        return Verdict(False, f"{name} should be a function, got {summary['type']}", "wrong")
    for args, (result, error, modified) in zip(cases, summary["cases"]):
        if modified:
            return Verdict(False, f"{name} modified its inputs in place: compute new arrays instead.", "wrong")
        try:
            check.judge(args, result, error)
        except AssertionError as exc:
            return Verdict(False, str(exc), "wrong")
        except Exception as exc:   # a strange result can trip the judge itself: still a failure, never a crash
            return Verdict(False, f"{name} returned a result that could not be judged ({type(exc).__name__}: {exc})",
                           "wrong")
    return Verdict(True, f"{name}: matches the reference on {len(cases)} fresh random cases, outside the notebook.",
                   "passed")
