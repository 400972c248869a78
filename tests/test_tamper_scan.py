"""tamper.ScanForTampering: each rule flags its attempt, with its reason, whether or not it could work;
correct work, and the course's own notebooks, raise nothing."""
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder.grading import tamper
from autograder.grading.tamper import TAMPERING_ATTEMPTED, ScanForTampering

REPO = Path(__file__).resolve().parent.parent
PATCHES, HOOK, MODULES, GRADER, PATH, PROCESS, CTYPES, SOCKET = (rule.reason for rule in tamper.RULES)


class FakeContext(SimpleNamespace):
    def flag(self, word, detail=""):
        self.flags.append((word, detail))


def scan(tmp_path, *cells, stem="01_linear_regression"):
    """The flags ScanForTampering raises for one notebook made of these cells (str: code cell)."""
    nb = new_notebook(cells=[new_code_cell(c) if isinstance(c, str) else c for c in cells])
    path = tmp_path / f"{stem}.ipynb"
    nbformat.write(nb, str(path))
    ctx = FakeContext(staged={stem: path}, flags=[])
    ScanForTampering()(ctx)
    return ctx.flags


def reasons(flags):
    return {detail.split(": ")[1] for _, detail in flags}


ATTEMPTS = [
    # replaces part of numpy, builtins or the course kit
    ("import numpy as np\nnp.allclose = lambda *a, **k: True", PATCHES),
    ("np.testing.assert_allclose = lambda *a, **k: None", PATCHES),
    ("import numpy\nsetattr(numpy, 'allclose', lambda *a, **k: True)", PATCHES),
    ("import builtins\nbuiltins.print = lambda *a: None", PATCHES),
    ("__builtins__.len = lambda x: 3", PATCHES),
    ("__builtins__['abs'] = lambda x: 0", PATCHES),
    ("import numpy as xp\nxp.isclose = xp.equal", PATCHES),
    ("vars(np)['allclose'] = lambda *a: True", PATCHES),
    ("np.__dict__.update(allclose=lambda *a: True)", PATCHES),
    ("import sys\nsys.modules['numpy'].allclose = lambda *a: True", PATCHES),
    ("__import__('numpy').allclose = lambda *a: True", PATCHES),
    ("from unittest import mock\nmock.patch.object(np, 'allclose', return_value=True).start()", PATCHES),
    ("from unittest.mock import patch\npatch('numpy.allclose', return_value=True).start()", PATCHES),
    ("import coursekit.checks as checks\nchecks.check_close = lambda *a, **k: None", PATCHES),
    ("from coursekit.checks import check_close\ndef check_close(*a, **k):\n    pass", PATCHES),
    ("from coursekit.checks import check_array\ncheck_array = print", PATCHES),
    ("import numpy as np\nnp = None", PATCHES),
    # installs an IPython or interpreter hook
    ("get_ipython().input_transformers_cleanup.append(lambda lines: lines)", HOOK),
    ("ip = get_ipython()\nip.input_transformers_post.append(str)", HOOK),
    ("get_ipython().ast_transformers.append(object())", HOOK),
    ("get_ipython().events.register('pre_run_cell', print)", HOOK),
    ("get_ipython().set_custom_exc((AssertionError,), lambda *a, **k: None)", HOOK),
    ("get_ipython().register_magic_function(print, 'cell', 'x')", HOOK),
    ("from IPython.core.magic import register_cell_magic\n@register_cell_magic\ndef x(line, cell):\n    pass", HOOK),
    ("getattr(get_ipython(), 'ast_transformers').append(1)", HOOK),
    ("import sys\nsys.settrace(lambda *a: None)", HOOK),
    # edits sys.modules or the import machinery
    ("import sys, types\nsys.modules['autograder.hidden'] = types.ModuleType('x')", MODULES),
    ("import sys\ndel sys.modules['numpy']", MODULES),
    ("import sys\nsys.modules.pop('coursekit.checks', None)", MODULES),
    ("import sys\nsys.modules.update({'autograder': None})", MODULES),
    ("import sys\nsys.modules.__setitem__('autograder', None)", MODULES),
    ("import sys\nsys.meta_path.insert(0, object())", MODULES),
    # imports the grader's package
    ("import autograder", GRADER),
    ("from autograder.assignments.ch02_fundamentals.reference.linear_regression import mae", GRADER),
    ("import autograder.hidden as h", GRADER),
    ("import importlib\nref = importlib.import_module('autograder.assignments.ch02_fundamentals.reference')", GRADER),
    ("ref = __import__('autograder')", GRADER),
    # uses a path outside its folder
    ("open('/etc/passwd').read()", PATH),
    ("open('/tmp/answers.txt', 'w').write('x')", PATH),
    ("import os\nos.listdir('/proc')", PATH),
    ("from pathlib import Path\nPath('/root/.ssh').exists()", PATH),
    ("import sys\nsys.path.insert(0, '/work/main')", PATH),
    ("import os\nos.path.expanduser('~/x')", PATH),
    ("open('../results.npz', 'wb')", PATH),
    ("open(f'/work/{1}/x')", PATH),
    ("open('data/../../other/x.ipynb')", PATH),
    ("%cd ..\nx = 1", PATH),
    ("!cat /etc/passwd", PATH),
    # changes directory or starts processes
    ("import os\nos.chdir('data')", PROCESS),
    ("import os\nif os.fork() == 0:\n    pass", PROCESS),
    ("import subprocess\nsubprocess.run(['ls'])", PROCESS),
    ("from subprocess import check_output", PROCESS),
    ("import os\nos.system('ls')", PROCESS),
    ("from os import system as run\nrun('ls')", PROCESS),
    ("exec(\"import subprocess\")", PROCESS),
    ("eval(\"__import__('os').system('ls')\")", PROCESS),
    # uses ctypes or ptrace
    ("import ctypes\nctypes.CDLL(None)", CTYPES),
    ("libc.ptrace(16, 1, 0, 0)", CTYPES),
    ("from ctypes import CDLL", CTYPES),
    # opens a network socket
    ("import socket\nsocket.create_connection(('localhost', 80))", SOCKET),
    ("from socket import socket", SOCKET),
]


@pytest.mark.parametrize("code, reason", ATTEMPTS, ids=[f"{r.split()[0]}-{i}" for i, (_, r) in enumerate(ATTEMPTS)])
def test_each_attempt_is_flagged_with_its_reason(tmp_path, code, reason):
    flags = scan(tmp_path, "import numpy as np\n", code)
    assert flags and all(word == TAMPERING_ATTEMPTED for word, _ in flags)
    assert reason in reasons(flags), flags
    assert all(detail.startswith("01_linear_regression: ") for _, detail in flags)


def test_every_rule_has_an_attempt():
    assert {reason for _, reason in ATTEMPTS} == {rule.reason for rule in tamper.RULES}


BENIGN = '''\
"""A docstring may name /etc/passwd, ../x and subprocess."""
import os
import sys

import matplotlib.pyplot as plt
import numpy as np
from coursekit.checks import check_close
from coursekit.data import book_split

%matplotlib inline
!pip list
np.random.seed(0)
rng = np.random.default_rng(1)
rng.bit_generator.state = rng.bit_generator.state
X = np.zeros((3, 2))
X[0] = 1
np.zeros(3)[0] = 1
X.shape = (2, 3)
weights = {"W": np.ones((2, 1))}
weights["W"] -= 0.1
data = book_split()
data.X_train[0] = 0
np.set_printoptions(precision=3)
np.append(X, 1)
plt.rcParams["figure.dpi"] = 100
total, work = 6.0, 2.0
ratio = total /work
sum = 0
print("loss / batch", f"{total:>7.2f}/{work}", "...", "Loading..", "a/b", "/")
path = os.path.join("data", "boston.csv")
sys.path.append("lib")
os.makedirs("figures", exist_ok=True)
with open("figures/notes.txt", "w") as notes:
    notes.write(f"{os.getcwd()}/figures")
assert np.allclose(X, X) and np.isclose(1.0, 1.0)
np.testing.assert_allclose(X, X)
check_close(1.0, 1.0, "one")
'''


def test_correct_work_raises_nothing(tmp_path):
    assert scan(tmp_path, BENIGN, new_markdown_cell("Written: `np.allclose = ...` would be /etc cheating")) == []


@pytest.mark.parametrize("path", sorted((REPO / "notebooks").glob("*/*.ipynb")) + sorted((REPO / "solutions").glob("*/*.ipynb")),
                         ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_the_course_notebooks_raise_nothing(path):
    ctx = FakeContext(staged={path.stem: path}, flags=[])
    ScanForTampering()(ctx)
    assert ctx.flags == []


def test_a_test_cells_hidden_region_is_the_instructors_but_a_students_is_not(tmp_path):
    hidden = "check()\n### BEGIN HIDDEN TESTS\nfrom autograder.hidden import run_hidden_test\n### END HIDDEN TESTS\n"
    test_cell = new_code_cell(hidden, metadata={"nbgrader": {"grade": True, "solution": False, "grade_id": "t",
                                                             "locked": True, "points": 1}})
    assert scan(tmp_path, test_cell) == []
    assert reasons(scan(tmp_path, hidden)) == {GRADER}
    edited = new_code_cell("np.allclose = lambda *a: True\n" + hidden, metadata=test_cell.metadata)
    assert reasons(scan(tmp_path, edited)) == {PATCHES}       # an edited test cell: overwritten, still an attempt


def test_code_that_does_not_parse_is_searched_by_regex(tmp_path):
    broken = "def f(:\n    pass\nnp.allclose = lambda *a: True\nimport autograder.hidden\nopen('/etc/passwd')\n"
    assert reasons(scan(tmp_path, broken)) == {PATCHES, GRADER, PATH}
    assert scan(tmp_path, "def f(:\n    pass  # subprocess, ../x\nx = 'a /b'") == []


def test_each_reason_is_flagged_once_per_notebook_with_its_first_evidence(tmp_path):
    flags = scan(tmp_path, "np.allclose = 1", "np.isclose = 2\nimport socket", stem="02_neural_network")
    assert flags == [(TAMPERING_ATTEMPTED, f"02_neural_network: {PATCHES}: np.allclose"),
                     (TAMPERING_ATTEMPTED, f"02_neural_network: {SOCKET}: import socket")]


def test_notebooks_are_scanned_separately_and_a_broken_file_is_skipped(tmp_path):
    good, bad = tmp_path / "a.ipynb", tmp_path / "b.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("import ctypes")]), str(good))
    bad.write_text("not a notebook")
    ctx = FakeContext(staged={"a": good, "b": bad, "c": tmp_path / "missing.ipynb"}, flags=[])
    ScanForTampering()(ctx)
    assert ctx.flags == [(TAMPERING_ATTEMPTED, f"a: {CTYPES}: import ctypes")]


def test_cell_magics_whose_body_is_not_python_are_searched_as_text(tmp_path):
    assert reasons(scan(tmp_path, "%%bash\ncat /etc/passwd > out.txt")) == {PATH}
    assert reasons(scan(tmp_path, "%%time\nimport subprocess")) == {PROCESS}
    assert scan(tmp_path, "%%time\nx = sum(range(10))") == []


def test_the_rules_regexes_compile():
    import re
    for rule in tamper.RULES:
        re.compile(rule.pattern, re.M)


@pytest.mark.parametrize("text", ["~5 points", "~", "/ 2", "/2 = ", "m/s", "a/b/c", "...", "Loading..", "x..y",
                                  "https://example.org/a", "%Y/%m/%d", "/"])
def test_strings_that_are_not_paths_outside(tmp_path, text):
    assert scan(tmp_path, f"print({text!r}, f{text!r}, f'{{1}}{text}')") == []


@pytest.mark.parametrize("text", ["~/notes", "~root/x", "/etc", "/tmp/x y", "..", "../x", "a/../../b", "..\\\\x"])
def test_strings_that_are_paths_outside(tmp_path, text):
    assert reasons(scan(tmp_path, f"open({text!r})")) == {PATH}
