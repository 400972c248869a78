"""The three things a Check can ask of the judging rule beyond "call and compare", each the same
in the instructor's notebooks (hidden.py), in the student's confined kernel (kernel_hidden.py,
from the cases the grader writes) and in the outside verification (the sandbox child):

- function-valued arguments (`Fn`), which cross the wire as their names;
- views: the values of a result whatever their shape, or only its shapes and dtypes;
- scripts: the method calls that exercise a graded class.
"""
import copy
import json
import subprocess
import sys
import warnings

import numpy as np
import pytest

from autograder import _sandbox_child as wire
from autograder.check import Check, Fn
from autograder.compare import VIEWS, Raises, run_cases
from autograder.grading.confine import write_grading_folder


# ---------------------------------------------------------------- Fn

def test_every_elementary_function_is_elementwise_and_quiet_at_large_magnitude():
    x = np.array([[-1000.0, -1.5, 0.0], [0.5, 2.0, 700.0]])
    for name in wire.ELEMENTARY:
        if name in ("exp", "cube", "square"):
            continue      # these overflow honestly; no case draws such inputs for them
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = Fn(name)(x)
        assert out.shape == x.shape and np.isfinite(out).all(), name
    assert Fn("sigmoid")(np.array([-1000.0, 0.0, 1000.0])).tolist() == [0.0, 0.5, 1.0]
    assert Fn("leaky_relu")(np.array([-2.0, 3.0])).tolist() == [-0.4, 3.0]   # the book's slope 0.2


def test_fn_crosses_the_wire_by_name_and_stays_immutable():
    arrays = {}
    node = wire.encode(([Fn("sin"), Fn("square")], np.ones(3)), arrays)
    back = wire.decode(json.loads(json.dumps(node)), arrays)
    assert back[0] == [Fn("sin"), Fn("square")] and back[0][0].__name__ == "sin"
    assert copy.deepcopy(back[0][0]) is back[0][0]
    with pytest.raises(AttributeError):
        back[0][0].name = "exp"
    with pytest.raises(ValueError):
        wire.decode({"t": "fn", "name": "os.system"}, {})
    with pytest.raises(ValueError):
        Fn("eval")


# ---------------------------------------------------------------- views

def gradients(B):
    return {"W": np.ones((3, 1)), "B": B}


def test_values_view_forgives_the_shape_and_nothing_else():
    values = VIEWS["values"]
    want = values(gradients(np.array([[2.0]])))
    for same_numbers in (np.array([2.0]), np.float64(2.0), 2.0, np.array([[2.0]])):
        assert [a.tolist() for a in values(gradients(same_numbers)).values()] == [a.tolist() for a in want.values()]
    check = Check("g", "nb", "grads", lambda rng: [()], lambda args: gradients(np.array([[2.0]])), view="values")
    check.judge((), gradients(np.array([2.0])), None)       # keepdims forgotten: the values are right
    with pytest.raises(AssertionError, match=r"grads\(\.\.\.\)\['B'\] is wrong"):
        check.judge((), gradients(np.array([3.0])), None)
    with pytest.raises(AssertionError, match="dtype float32"):
        check.judge((), gradients(np.array([2.0], dtype=np.float32)), None)


def test_shapes_view_judges_only_shape_and_dtype_and_says_which():
    check = Check("g", "nb", "grads", lambda rng: [()], lambda args: gradients(np.array([[2.0]])), view="shapes")
    check.judge((), gradients(np.array([[99.0]])), None)    # wrong numbers are another cell's business
    with pytest.raises(AssertionError) as info:
        check.judge((), gradients(np.array([2.0])), None)
    assert str(info.value) == ("grads(...)['B'] is an array of shape (1,) and dtype float64, "
                               "expected an array of shape (1, 1) and dtype float64")
    with pytest.raises(AssertionError, match=r"\['B'\] is a float64, not an array"):
        check.judge((), gradients(np.float64(2.0)), None)


def test_a_view_leaves_raises_alone():
    check = Check("g", "nb", "f", lambda rng: [()], lambda args: Raises("should have raised"), view="values")
    assert check.wanted(()) == Raises("should have raised")


# ---------------------------------------------------------------- scripts

class Scale:
    """A graded class as a student might write it: keeps its input, gives two gradients."""

    def __init__(self, factor):
        self.factor = factor

    def forward(self, x):
        self.x = x
        return x * self.factor

    def backward(self, grad):
        self.factor_grad = np.array(float(np.sum(grad * self.x)))
        return grad * self.factor


SCRIPT = (("new", (0,)), ("call", "forward", (1,)), ("call", "backward", (2,)), ("get", "factor_grad"))


def scale_expect(args):
    factor, x, grad = args
    return x * factor, grad * factor, np.array(float(np.sum(grad * x)))


def scale_cases(rng):
    return [(float(rng.uniform(1, 2)), rng.standard_normal(4), rng.standard_normal(4))]


def test_a_script_runs_the_steps_and_keeps_what_calls_and_gets_return():
    check = Check("s", "nb", "Scale", scale_cases, scale_expect, script=SCRIPT)
    cases = check.cases(np.random.default_rng(0))
    run_cases("Scale", check.bind(Scale), cases, check.judge)
    with pytest.raises(ValueError, match="unknown script step"):
        wire.run_script(Scale, [("delete", ())], ())


# ---------------------------------------------------------------- the kernel's side and the sandbox's side

KERNEL_PROGRAM = """
import numpy as np
from autograder.hidden import run_hidden_test

class Scale:
    def __init__(self, factor): self.factor = factor
    def forward(self, x):
        self.x = x
        return x * self.factor
    def backward(self, grad):
        self.factor_grad = np.array(float(np.sum(grad * self.x)))
        return grad * self.factor

def deriv(func, x, delta=0.001):
    return (func(x + delta) - func(x - delta)) / (2 * delta)

def grads_without_keepdims():
    return {"W": np.ones((3, 1)), "B": np.array([2.0])}

for grade_id, function in (("scale", Scale), ("deriv", deriv), ("values", grads_without_keepdims),
                           ("shapes", grads_without_keepdims)):
    try:
        run_hidden_test(grade_id, function)
    except AssertionError as exc:
        print(grade_id, "failed:", exc)
"""


def deriv_expect(args):
    func, x, delta = args
    return (func(x + delta) - func(x - delta)) / (2 * delta)


def test_the_confined_kernels_stand_in_applies_fn_views_and_scripts(tmp_path):
    checks = {
        "scale": Check("scale", "nb", "Scale", scale_cases, scale_expect, script=SCRIPT),
        "deriv": Check("deriv", "nb", "deriv", lambda rng: [(Fn("sigmoid"), rng.standard_normal(5), 0.001)],
                       deriv_expect),
        "values": Check("values", "nb", "grads", lambda rng: [()], lambda args: gradients(np.array([[2.0]])),
                        view="values"),
        "shapes": Check("shapes", "nb", "grads", lambda rng: [()], lambda args: gradients(np.array([[2.0]])),
                        view="shapes"),
    }
    rng = np.random.default_rng(1)
    write_grading_folder(tmp_path, {gid: (check, [(args, check.wanted(args)) for args in check.cases(rng)])
                                    for gid, check in checks.items()})
    done = subprocess.run([sys.executable, "-c", KERNEL_PROGRAM], cwd=tmp_path, capture_output=True, text=True,
                          env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"}, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "Scale: matches the reference on 1 random cases." in lines
    assert "deriv: matches the reference on 1 random cases." in lines
    assert "grads: matches the reference on 1 random cases." in lines          # the values view
    assert ("shapes failed: grads(...)['B'] is an array of shape (1,) and dtype float64, "
            "expected an array of shape (1, 1) and dtype float64") in lines


def test_the_sandbox_child_runs_scripts_on_decoded_fn_arguments():
    arrays_in, arrays_out = {}, {}
    namespace = {}
    exec(KERNEL_PROGRAM.split("for grade_id")[0].replace("from autograder.hidden import run_hidden_test", ""),
         namespace)
    script_call = {"function": "Scale", "script": json.loads(json.dumps(SCRIPT)),
                   "cases": [wire.encode((2.0, np.arange(3.0), np.ones(3)), arrays_in)]}
    fn_call = {"function": "deriv", "cases": [wire.encode((Fn("square"), np.arange(3.0), 0.001), arrays_in)]}
    scripted = wire.run_check(namespace, script_call, arrays_in, arrays_out)["cases"][0]
    assert scripted["error"] is None and not scripted["modified"]
    output, input_grad, factor_grad = wire.decode(scripted["result"], arrays_out)
    assert output.tolist() == [0.0, 2.0, 4.0] and input_grad.tolist() == [2.0, 2.0, 2.0] and factor_grad == 3.0
    derived = wire.run_check(namespace, fn_call, arrays_in, arrays_out)["cases"][0]
    assert np.allclose(wire.decode(derived["result"], arrays_out), [0.0, 2.0, 4.0])


# ---------------------------------------------------------------- scripts with the kit's probes (Chapter 3)

from autograder.coursekit import framework  # noqa: E402


class Halver(framework.Optimizer):
    """An optimizer as a student might write one: halves every parameter's gradient step, in place."""

    def step(self):
        for param, grad in zip(self.net.params(), self.net.param_grads()):
            param -= 0.5 * self.lr * grad


class Chain:
    """A layer as a student might write one: its set-up comes from the kit's ProbeSetup under test."""

    def __init__(self, neurons):
        self.neurons, self.first = neurons, True

    def forward(self, x):
        if self.first:
            self._setup_layer(x)
            self.params = [op.param for op in self.operations if isinstance(op, framework.ParamOperation)]
            self.first = False
        for op in self.operations:
            x = op.forward(x)
        return x

    def backward(self, grad):
        for op in reversed(self.operations):
            grad = op.backward(grad)
        self.param_grads = [op.param_grad for op in self.operations if isinstance(op, framework.ParamOperation)]
        return grad


OPTIMIZER_SCRIPT = (("new", (0,)), ("kit", "ProbeNetwork", (1, 2)), ("set", "net", "@0"), ("do", "step", ()),
                    ("report", "@0"))
LAYER_SCRIPT = (("kit", "ProbeScale", (2,)), ("kit", "ProbeSquare", ()), ("new_with", "ProbeSetup", (3,)),
                ("set", "probe_operations", ("@0", "@1")), ("call", "forward", (0,)), ("call", "backward", (1,)),
                ("items", "params"), ("items", "param_grads"), ("get", "probe_setups"))


def halver_expect(args):
    lr, params, grads = args
    return tuple(p - 0.5 * lr * g for p, g in zip(params, grads))


def halver_cases(rng):
    shapes = [(3, 2), (1, 2)]
    return [(0.1, tuple(rng.standard_normal(s) for s in shapes), tuple(rng.standard_normal(s) for s in shapes))]


def chain_expect(args):
    x, grad, c, _ = args
    c = c[0, 0]
    return ((c * x) ** 2, 2 * c * c * x * grad, (np.array([[c]]),), (np.array([[np.sum(2 * c * x * x * grad)]]),), 1.0)


def chain_cases(rng):
    return [(rng.standard_normal((4, 3)), rng.standard_normal((4, 3)), rng.uniform(1, 2, size=(1, 1)), 3)]


@pytest.fixture
def kit_importable(monkeypatch):
    """`coursekit.framework` importable by name, as it is beside a notebook and in the sandbox's lib/."""
    import autograder.coursekit as kit
    monkeypatch.setitem(sys.modules, "coursekit", kit)
    monkeypatch.setitem(sys.modules, "coursekit.framework", framework)


def test_a_script_makes_kit_probes_sets_attributes_and_reports_what_they_saw(kit_importable):
    optimizer = Check("o", "nb", "Halver", halver_cases, halver_expect, script=OPTIMIZER_SCRIPT)
    run_cases("Halver", optimizer.bind(Halver), optimizer.cases(np.random.default_rng(0)), optimizer.judge)
    layer = Check("l", "nb", "Chain", chain_cases, chain_expect, script=LAYER_SCRIPT)
    run_cases("Chain", layer.bind(Chain), layer.cases(np.random.default_rng(0)), layer.judge)
    # The probes hold copies: an optimizer updating in place never touches the case's own arrays.
    args = halver_cases(np.random.default_rng(1))[0]
    before = copy.deepcopy(args)
    wire.run_script(Halver, OPTIMIZER_SCRIPT, args, kit=framework)
    assert all(np.array_equal(a, b) for a, b in zip(before[1], args[1]))


def test_a_script_stays_data(kit_importable):
    with pytest.raises(ValueError, match="may not"):
        wire.run_script(Halver, [("kit", "Trainer", [])], ())
    with pytest.raises(ValueError, match="may not"):
        wire.run_script(Chain, [("new_with", "ProbeLayer", [0])], (3,))
    with pytest.raises(ValueError, match="may not"):
        wire.run_script(Halver, [("new", [0]), ("get", "__class__")], (0.1,))
    with pytest.raises(ValueError, match="may not"):
        wire.run_script(Halver, [("new", [0]), ("call", "__init__", [0])], (0.1,))
    with pytest.raises(ValueError, match="a report is of a kit object"):
        wire.run_script(Halver, [("new", [0]), ("report", 0)], (0.1,))
    with pytest.raises(ValueError, match="bad script reference"):
        wire.run_script(Halver, [("new", ["0"])], (0.1,))
    # JSON turns tuples into lists: the same script, as the kernel and the sandbox receive it.
    as_json = json.loads(json.dumps(OPTIMIZER_SCRIPT))
    args = halver_cases(np.random.default_rng(2))[0]
    got = wire.run_script(Halver, as_json, copy.deepcopy(args))
    assert all(np.allclose(g, w) for g, w in zip(got, halver_expect(args)))


KIT_KERNEL_PROGRAM = """
import numpy as np
from coursekit import framework
from autograder.hidden import run_hidden_test

class Halver(framework.Optimizer):
    def step(self):
        for param, grad in zip(self.net.params(), self.net.param_grads()):
            param -= 0.5 * self.lr * grad

class Rebinder(framework.Optimizer):
    def step(self):
        for param, grad in zip(self.net.params(), self.net.param_grads()):
            param = param - 0.5 * self.lr * grad

for function in (Halver, Rebinder):
    try:
        run_hidden_test("halver", function)
    except AssertionError as exc:
        print(function.__name__, "failed:", exc)
"""


def test_the_confined_kernels_stand_in_runs_scripts_with_the_kit_beside_the_notebook(tmp_path):
    import shutil
    from autograder.release import KIT
    check = Check("halver", "nb", "Halver", halver_cases, halver_expect, script=OPTIMIZER_SCRIPT)
    rng = np.random.default_rng(3)
    write_grading_folder(tmp_path, {"halver": (check, [(args, check.wanted(args)) for args in check.cases(rng)])})
    shutil.copytree(KIT, tmp_path / "coursekit", ignore=shutil.ignore_patterns("__pycache__"))
    done = subprocess.run([sys.executable, "-c", KIT_KERNEL_PROGRAM], cwd=tmp_path, capture_output=True, text=True,
                          env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"}, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "Halver: matches the reference on 1 random cases." in lines
    assert any(line.startswith("Rebinder failed: Halver(...)[0] is wrong") for line in lines), lines


def test_the_sandbox_child_runs_kit_scripts_on_the_students_classes(kit_importable):
    namespace = {}
    exec(KIT_KERNEL_PROGRAM.split("for function")[0].replace("from autograder.hidden import run_hidden_test", ""),
         namespace)
    arrays_in, arrays_out = {}, {}
    args = halver_cases(np.random.default_rng(4))[0]
    call = {"function": "Halver", "script": json.loads(json.dumps(OPTIMIZER_SCRIPT)),
            "cases": [wire.encode(args, arrays_in)]}
    outcome = wire.run_check(namespace, call, arrays_in, arrays_out)["cases"][0]
    assert outcome["error"] is None and not outcome["modified"]
    got = wire.decode(outcome["result"], arrays_out)
    assert all(np.allclose(g, w) for g, w in zip(got, halver_expect(args)))
