"""Outside verification (autograder/verify.py): verdicts, flags and the plain-data wire format."""
import inspect
import json
import zipfile

import nbformat
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder import _sandbox_child as wire
from autograder import sandbox, verify
from autograder.assignments.ch02_fundamentals.reference import linear_regression as lin
from autograder.assignments.ch02_fundamentals.reference import neural_network as net
from autograder.specs import checks_of
from autograder.verify import Verdict, verify_notebook

LINEAR, NETWORK = "01_linear_regression", "02_neural_network"
FAST = dict(timeout_s=20, limits=sandbox.Limits(memory_bytes=1 << 30, file_bytes=16 << 20))
BWRAP = sandbox.bubblewrap_works(*verify.interpreter())
MODES = [sandbox.RLIMITS,
         pytest.param(sandbox.BUBBLEWRAP, marks=pytest.mark.skipif(not BWRAP, reason="bubblewrap does not work here"))]


def cell(source, solution=True, grade=False, grade_id="cell"):
    meta = {"nbgrader": {"solution": solution, "grade": grade, "grade_id": grade_id, "locked": not solution,
                         "schema_version": 3}}
    return nbformat.v4.new_code_cell(source, metadata=meta)


def write_notebook(path, *solutions, setup=("import numpy as np",)):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = ([nbformat.v4.new_code_cell(source) for source in setup]
                      + [cell(source, grade_id=f"solution_{i}") for i, source in enumerate(solutions)])
    path.write_text(nbformat.writes(notebook))
    return path


def check(path, stem=LINEAR, mode=sandbox.RLIMITS, seed=2024):
    return verify_notebook(path, stem, seed=seed, isolation=mode, **FAST)


def replaced(source, name, body):
    """`source` with function `name` swapped for `body` (a whole def)."""
    start = source.index(f"def {name}(")
    end = source.find("\ndef ", start + 1)
    return source[:start] + body + ("\n" + source[end:] if end != -1 else "\n")


LINEAR_SOURCE = inspect.getsource(lin)
NETWORK_SOURCE = LINEAR_SOURCE + "\n".join(line for line in inspect.getsource(net).splitlines()
                                          if not line.startswith("from ."))


@pytest.mark.parametrize("mode", MODES)
def test_correct_solutions_pass_every_check(tmp_path, mode):
    result = check(write_notebook(tmp_path / "a.ipynb", LINEAR_SOURCE), mode=mode)
    assert sorted(result) == sorted(check.grade_id for check in checks_of("ch02_fundamentals", LINEAR))
    assert all(v.passed for v in result.values()), result.verdicts
    assert result.flags == () and result.passed and result.isolation == mode


def test_network_notebook(tmp_path):
    result = check(write_notebook(tmp_path / "n.ipynb", NETWORK_SOURCE), NETWORK)
    assert sorted(result) == sorted(check.grade_id for check in checks_of("ch02_fundamentals", NETWORK))
    assert result.passed, result.verdicts


def test_a_wrong_function_fails_with_the_judges_diagnosis(tmp_path):
    source = replaced(LINEAR_SOURCE, "update_weights", "def update_weights(weights, grads, learning_rate):\n"
                      "    return {k: weights[k] + learning_rate * grads[k] for k in weights}\n")
    result = check(write_notebook(tmp_path / "a.ipynb", source))
    assert not result["lin_update"].passed
    assert "moved 'W' up the gradient" in result["lin_update"].message
    assert result["lin_mae"].passed and not result.passed and result.flags == ()


def test_a_missing_or_non_callable_function_fails(tmp_path):
    source = replaced(LINEAR_SOURCE, "mae", "mae = 3.0\n")
    source = replaced(source, "rmse", "pass\n")
    result = check(write_notebook(tmp_path / "a.ipynb", source))
    assert result["lin_rmse"] == Verdict(False, "function rmse is not defined when the notebook's solution cells "
                                                "run on their own", "undefined")
    assert result["lin_mae"] == Verdict(False, "mae should be a function, got float", "wrong")
    assert result["lin_predict"].passed


def test_a_definition_outside_the_solution_cells_does_not_count_for_a_graded_function(tmp_path):
    setup = ("import numpy as np\ndef mae(a, b):\n    return float(np.mean(np.abs(a - b)))\n",)
    result = check(write_notebook(tmp_path / "a.ipynb", "import numpy as np", setup=setup))
    assert not result["lin_mae"].passed and result["lin_mae"].kind == "undefined"


def test_helpers_from_setup_cells_are_defined_but_their_statements_do_not_run(tmp_path):
    setup = ("import numpy as np\nSCALE = 2.0\ndef absolute(x):\n    return np.abs(x) * SCALE / 2\n"
             "raise SystemExit('a statement in a setup cell must not run')\n",)
    solution = "def mae(preds, actuals):\n    return float(np.mean(absolute(preds - actuals)))\n"
    result = check(write_notebook(tmp_path / "a.ipynb", solution, setup=setup))
    assert result["lin_mae"].passed and result.flags == ()


def test_a_broken_cell_does_not_hide_the_others(tmp_path):
    result = check(write_notebook(tmp_path / "a.ipynb", "raise RuntimeError('oops')", "def broken(:",
                                   "%matplotlib inline\n!ls\n" + LINEAR_SOURCE))
    assert result.passed, result.verdicts


def test_an_exception_is_judged_like_in_the_kernel(tmp_path):
    source = replaced(LINEAR_SOURCE, "predict", "def predict(X, weights):\n    raise KeyError('W2')\n")
    result = check(write_notebook(tmp_path / "a.ipynb", source))
    assert result["lin_predict"] == Verdict(False, "predict raised KeyError: 'W2'", "wrong")


def test_a_failing_exploratory_line_before_a_def_does_not_hide_it(tmp_path):
    """A student tried their function on the notebook's data above its def: outside, that data is
    not there, the line fails, and the def after it must still count (issue 17)."""
    source = "forward_linear_regression(X_train[:4], y_train[:4], weights)\n" + LINEAR_SOURCE
    result = check(write_notebook(tmp_path / "a.ipynb", source))
    assert result.passed, result.verdicts


def test_a_function_never_defined_outside_says_why(tmp_path):
    source = replaced(LINEAR_SOURCE, "mae", "if X_train is not None:\n    def mae(p, a):\n        return 0.0\n")
    verdict = check(write_notebook(tmp_path / "a.ipynb", source))["lin_mae"]
    assert verdict.kind == "undefined" and "NameError" in verdict.message and "X_train" in verdict.message


def test_a_warning_is_judged_like_in_the_kernel(tmp_path):
    source = replaced(LINEAR_SOURCE, "mae", "def mae(p, a):\n    return float(np.mean(np.abs(p - a)) + np.log(-1.0) * 0)\n")
    verdict = check(write_notebook(tmp_path / "a.ipynb", source))["lin_mae"]
    assert not verdict.passed and "RuntimeWarning" in verdict.message


def test_results_that_are_not_plain_arrays_are_reported_by_type(tmp_path):
    source = replaced(LINEAR_SOURCE, "predict", "class Thing:\n    pass\n\ndef predict(X, weights):\n"
                      "    return Thing()\n")
    source = replaced(source, "mae", "def mae(preds, actuals):\n    return [float(np.mean(np.abs(preds - actuals)))]\n")
    result = check(write_notebook(tmp_path / "a.ipynb", source))
    assert result["lin_predict"] == Verdict(False, "predict(...) should be a plain NumPy array, got Thing", "wrong")
    assert result["lin_mae"] == Verdict(False, "mae(...) should be a float, got list", "wrong")


def test_modifying_the_inputs_fails(tmp_path):
    source = replaced(LINEAR_SOURCE, "update_weights", "def update_weights(weights, grads, learning_rate):\n"
                      "    for k in weights:\n        weights[k] -= learning_rate * grads[k]\n    return weights\n")
    result = check(write_notebook(tmp_path / "a.ipynb", source))
    assert "modified its inputs in place" in result["lin_update"].message


@pytest.mark.parametrize("content", [b"not json", b'{"cells": 3}', b"", json.dumps({"nbformat": 4}).encode()])
def test_an_invalid_notebook_fails_every_check_with_a_flag(tmp_path, content):
    path = tmp_path / "bad.ipynb"
    path.write_bytes(content)
    result = check(path)
    assert result.flags == ("invalid notebook",) and len(result) == len(checks_of("ch02_fundamentals", LINEAR))
    assert not any(v.passed for v in result.values())


def test_a_missing_notebook_is_an_invalid_notebook(tmp_path):
    assert check(tmp_path / "nothing.ipynb").flags == ("invalid notebook",)


def test_an_unknown_notebook_stem_is_the_callers_error(tmp_path):
    with pytest.raises(ValueError):
        check(write_notebook(tmp_path / "a.ipynb", LINEAR_SOURCE), "03_nothing")


def test_the_cases_are_fresh_and_depend_on_the_seed():
    check = verify.CHECKS["lin_predict"]
    first, again, other = (verify.make_cases(check, s) for s in (5, 5, 6))
    assert len(first) == verify.ROUNDS and np.array_equal(first[0][0], again[0][0])
    assert first[0][0].shape != other[0][0].shape or not np.array_equal(first[0][0], other[0][0])


def test_solution_code_takes_the_definitions_the_solutions_use_and_solutions_whole(tmp_path):
    setup = ("import matplotlib.pyplot as plt\nimport numpy as np\nN = 3\nM = 4\nlosses = train()\n"
             "def predict(X, w):\n    pass\ndef helper():\n    return np.ones(N)\ndef unused():\n    return M\n",)
    path = write_notebook(tmp_path / "a.ipynb", "def predict(X, w):\n    return helper()", setup=setup)
    assert verify.solution_code(path, {"predict"}) == [
        "import numpy as np", "import numpy as np", "N = 3", "def helper():\n    return np.ones(N)",
        "def predict(X, w):\n    return helper()"]


# ---------------------------------------------------------------- the wire format

def test_encode_then_decode_gives_plain_data():
    class Sub(np.ndarray):
        pass

    value = (np.float64(1.5), {"W": np.arange(3.0).view(Sub), "n": 2}, [True, None, "s"], object())
    arrays = {}
    node = json.loads(json.dumps(wire.encode(value, arrays)))
    back = wire.decode(node, arrays)
    assert back[0] == 1.5 and type(back[0]) is float
    assert type(back[1]["W"]) is np.ndarray and back[1]["W"].tolist() == [0.0, 1.0, 2.0]
    assert back[1]["n"] == 2 and back[2] == [True, None, "s"]
    assert type(back[3]).__name__ == "object" and isinstance(back[3], wire.Opaque)


def test_encode_refuses_object_arrays_deep_nesting_and_odd_keys():
    arrays = {}
    assert wire.encode(np.array([None]), arrays)["t"] == "other"
    deep = []
    for _ in range(50):
        deep = [deep]
    assert "too large" in json.dumps(wire.encode(deep, arrays))
    assert wire.encode({1: np.zeros(1)}, arrays)["t"] == "other" and arrays == {}


@pytest.mark.parametrize("node", [
    [], {"t": "float", "v": "1"}, {"t": "array", "ref": "missing"}, {"t": "dict", "items": [[1, {"t": "none"}]]},
    {"t": "eval", "v": "__import__('os')"}, {"t": "tuple", "items": "abc"},
    json.loads("[" * 0 + '{"t": "list", "items": [' * 20 + "]}" * 20),
])
def test_decode_rejects_malformed_nodes(node):
    with pytest.raises(ValueError):
        wire.decode(node, {})


def test_load_arrays_refuses_pickles_compression_and_odd_dtypes(tmp_path):
    np.savez(tmp_path / "ok.npz", a=np.zeros(3))
    assert wire.load_arrays(tmp_path / "ok.npz", 1 << 20)["a"].tolist() == [0, 0, 0]
    np.savez(tmp_path / "pickle.npz", a=np.array([{"x": 1}], dtype=object))
    np.savez_compressed(tmp_path / "compressed.npz", a=np.zeros(3))
    np.savez(tmp_path / "strings.npz", a=np.array(["x"]))
    with zipfile.ZipFile(tmp_path / "other.npz", "w") as archive:
        archive.writestr("evil.pkl", b"x")
    for name in ("pickle", "compressed", "strings", "other"):
        with pytest.raises(ValueError):
            wire.load_arrays(tmp_path / f"{name}.npz", 1 << 20)
    with pytest.raises(ValueError):
        wire.load_arrays(tmp_path / "ok.npz", 10)


# ---------------------------------------------------------------- the sandbox itself

def test_seccomp_program_is_whole_instructions_or_none(monkeypatch):
    program = sandbox.seccomp_program(own_pid=1234)
    assert program is None or len(program) % 8 == 0
    monkeypatch.setattr(sandbox, "MACHINE", "sparc")
    assert sandbox.seccomp_program() is None


@pytest.mark.parametrize("mode", MODES)
def test_the_sandbox_sees_neither_the_repository_nor_the_autograder_package(tmp_path, mode):
    repo = str(verify.Path(verify.__file__).resolve().parent.parent)
    solution = (f"import sys\nprint('path:', sys.path)\ntry:\n    import autograder\n    print('IMPORTED')\n"
                f"except ImportError:\n    print('no autograder')\n")
    result = check(write_notebook(tmp_path / "a.ipynb", solution), mode=mode)
    assert "no autograder" in result.output and "IMPORTED" not in result.output
    path_line = next(line for line in result.output.splitlines() if line.startswith("path:"))
    assert repo + "'" not in path_line and "/autograder" not in path_line


COURSE = verify.Path(verify.__file__).resolve().parent.parent
SOURCE_NOTEBOOKS = sorted((path.parent.name, path.stem) for path in (COURSE / "source").glob("*/*.ipynb"))


@pytest.mark.parametrize("assignment,stem", SOURCE_NOTEBOOKS)
def test_the_source_notebooks_solutions_pass(assignment, stem):
    result = verify_notebook(COURSE / "source" / assignment / f"{stem}.ipynb", stem, seed=31, assignment=assignment,
                             **FAST)
    assert result.passed, (result.verdicts, result.flags, result.output)


RELEASED_NOTEBOOKS = sorted((path.parent.name, path.stem) for path in (COURSE / "notebooks").glob("*/*.ipynb"))


@pytest.mark.parametrize("assignment,stem", RELEASED_NOTEBOOKS)
def test_the_released_stubs_pass_nothing(assignment, stem):
    """Not even a check whose every case asks for a refusal: a stub's NotImplementedError is not
    the ValueError asked for."""
    path = COURSE / "notebooks" / assignment / f"{stem}.ipynb"
    result = verify_notebook(path, stem, seed=31, assignment=assignment, **FAST)
    assert result.flags == () and not any(v.passed for v in result.values()), result.verdicts


def test_a_refusal_must_be_the_exception_asked_for():
    from autograder.compare import Raises, judge_expected
    want = Raises("f accepted a flat y", exception="ValueError")
    judge_expected("f", want, None, ("ValueError", "y must be a column"))
    with pytest.raises(AssertionError, match="f raised NotImplementedError: write it; it should raise a ValueError"):
        judge_expected("f", want, None, ("NotImplementedError", "write it"))
    with pytest.raises(AssertionError, match="f accepted a flat y"):
        judge_expected("f", want, 1.0, None)
    judge_expected("f", Raises("any refusal will do"), None, ("KeyError", "'W'"))


# ---------------------------------------------------------------- the sandbox's process handling

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("code, signal_number, returncode", [
    ("import os; os.kill(os.getpid(), 9)", 9, None), ("import sys; sys.exit(3)", None, 3),
    ("import os\nfor _ in range(3): os.write(1, b'x' * (1 << 20))", None, None), ("print('fine')", None, 0)])
def test_run_reports_how_the_process_ended(tmp_path, mode, code, signal_number, returncode):
    python, site_packages = verify.interpreter()
    outcome = sandbox.run([python, "-I", "-S", "-c", code], tmp_path, readable=sandbox.readable_paths(
        python, site_packages), timeout_s=10, limits=sandbox.Limits(file_bytes=1 << 20), isolation=mode)
    assert outcome.signal == signal_number and not outcome.timed_out
    assert returncode is None or outcome.returncode == returncode
    assert outcome.output_bytes <= 1 << 20   # Python ignores SIGXFSZ: writes past the limit fail with EFBIG


@pytest.mark.parametrize("mode", MODES)
def test_a_timeout_kills_the_process_promptly(tmp_path, mode):
    import time
    python, site_packages = verify.interpreter()
    started = time.monotonic()
    outcome = sandbox.run([python, "-I", "-S", "-c", "import time; print('up', flush=True); time.sleep(60)"],
                          tmp_path, readable=sandbox.readable_paths(python, site_packages), timeout_s=1.5,
                          limits=sandbox.Limits(), isolation=mode)
    assert outcome.timed_out and outcome.returncode is None and outcome.output == "up\n"
    assert time.monotonic() - started < 10


def test_verification_can_run_from_several_threads_at_once(tmp_path):
    """The grading pipeline verifies each notebook in its own thread."""
    from concurrent.futures import ThreadPoolExecutor
    good = write_notebook(tmp_path / "good.ipynb", LINEAR_SOURCE)
    bad = write_notebook(tmp_path / "bad.ipynb", replaced(LINEAR_SOURCE, "mae", "def mae(p, a):\n    return 0.0\n"))
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda p: verify_notebook(p, LINEAR, seed=1, **FAST), [good, bad] * 3))
    assert [r["lin_mae"].passed for r in results] == [True, False] * 3
    assert all(r.flags == () for r in results)


@pytest.mark.parametrize("mode", MODES)
def test_autograder_stays_unimportable_even_with_the_repository_on_the_path(tmp_path, mode):
    repo = verify.PACKAGE.parent
    solution = (f"import sys\nsys.path.insert(0, {str(repo)!r})\ntry:\n    import autograder.assignments.ch02_fundamentals.reference\n"
                f"    print('IMPORTED')\nexcept ImportError as exc:\n    print('refused', type(exc).__name__)\n")
    result = check(write_notebook(tmp_path / "a.ipynb", solution), mode=mode)
    assert "refused ModuleNotFoundError" in result.output, result.output


@pytest.mark.skipif(not BWRAP, reason="bubblewrap does not work here")
def test_bubblewrap_hides_a_directory_inside_a_readable_one(tmp_path):
    python, site_packages = verify.interpreter()
    shared = tmp_path / "shared"
    (shared / "secret").mkdir(parents=True)
    (shared / "secret" / "answers.txt").write_text("42")
    (shared / "open.txt").write_text("fine")
    box = tmp_path / "box"
    box.mkdir()
    code = f"import os; print(sorted(os.listdir({str(shared)!r})), os.listdir({str(shared / 'secret')!r}))"
    outcome = sandbox.run([python, "-I", "-S", "-c", code], box, readable=sandbox.readable_paths(python, site_packages)
                          + [shared], hidden=[shared / "secret"], timeout_s=10, limits=sandbox.Limits(),
                          isolation=sandbox.BUBBLEWRAP)
    assert outcome.output.strip() == "['open.txt', 'secret'] []", outcome.output


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
                    max_leaves=30)
NODES = st.recursive(
    st.sampled_from([{"t": "none"}, {"t": "array", "ref": "a0"}, {"t": "array", "ref": "zz"}])
    | st.builds(lambda t, v: {"t": t, "v": v}, st.sampled_from(["bool", "int", "float", "str"]), JSON)
    | st.builds(lambda name: {"t": "other", "type": name}, st.text(max_size=8)),
    lambda inner: st.builds(lambda t, items: {"t": t, "items": items}, st.sampled_from(["tuple", "list"]),
                            st.lists(inner, max_size=3))
    | st.builds(lambda pairs: {"t": "dict", "items": pairs}, st.lists(st.lists(st.text(max_size=3) | inner,
                                                                                 min_size=2, max_size=2), max_size=3)),
    max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(st.one_of(JSON, NODES))
def test_decode_accepts_or_raises_value_error_on_anything(node):
    try:
        wire.decode(node, {"a0": np.zeros(2)})
    except ValueError:
        pass


@settings(max_examples=100, deadline=None)
@given(st.recursive(st.floats() | st.integers(-2 ** 70, 2 ** 70) | st.none() | st.booleans() | st.text(max_size=4)
                    | st.builds(np.asarray, st.lists(st.floats(), max_size=4)),
                    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner)
                    | st.dictionaries(st.text(max_size=3), inner, max_size=3), max_leaves=15))
def test_encode_then_decode_round_trips_plain_values(value):
    arrays = {}
    back = wire.decode(json.loads(json.dumps(wire.encode(value, arrays))), arrays)

    def same(a, b):
        if isinstance(a, np.ndarray):
            return type(b) is np.ndarray and np.array_equal(a, b, equal_nan=True)
        if isinstance(a, (list, tuple)):
            return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
        if isinstance(a, dict):
            return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
        if isinstance(a, int) and not isinstance(a, bool) and abs(a) >= 2 ** 63:
            return isinstance(b, wire.Opaque)
        return a == b or (a != a and b != b)

    assert same(value, back)
