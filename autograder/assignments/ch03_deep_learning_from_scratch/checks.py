"""Chapter 3's hidden tests: the operations, the layer and the loss (notebook 1), the network and the
optimizer (notebook 2).

Every graded thing is a class, exercised by a script (autograder/_sandbox_child.py, run_script)
through its public methods only, so a student's own helper methods and private names are free. A
class is judged on its own: the layer runs on the kit's probe operations, the network on probe
layers and a probe loss, the optimizer on a probe network (coursekit/framework.py), never on the
student's other classes. The expected result is the same script run on the reference class.

Shapes: n (batch), k and m (widths) are drawn different from each other, with n >= 2, so that a
transposed or mis-summed gradient cannot pass.
"""
import copy
import re

import numpy as np

from ...check import Check, Raises, compare, distinct_sizes
from ...compare import call
from ...coursekit import framework
from ..._sandbox_child import run_script
from . import mistakes
from .reference import classes as ref

OPERATIONS = "01_operations_and_layers"
NETWORKS = "02_networks_and_training"

# ---------------------------------------------------------------- scripts

PARAM_OPERATION = (("new", (0,)), ("call", "forward", (1,)), ("call", "backward", (2,)), ("get", "param_grad"))
OPERATION = (("new", ()), ("call", "forward", (0,)), ("call", "backward", (1,)))
LOSS = (("new", ()), ("call", "forward", (0, 1)), ("call", "backward", ()))
LAYER = (("kit", "ProbeScale", (3,)), ("kit", "ProbeSquare", ()), ("kit", "ProbeScale", (4,)),
         ("new_with", "ProbeSetup", (5,)), ("set", "probe_operations", ("@0", "@1", "@2")),
         ("call", "forward", (0,)), ("call", "forward", (1,)), ("call", "backward", (2,)),
         ("items", "params"), ("items", "param_grads"), ("get", "probe_setups"))
NETWORK = (("kit", "ProbeLayer", (2,)), ("kit", "ProbeLayer", (3,)), ("kit", "ProbeLoss", (4,)),
           ("new", (("@0", "@1"), "@2")), ("call", "train_batch", (0, 1)),
           ("report", "@0"), ("report", "@1"), ("call", "forward", (5,)))
OPTIMIZER = (("new", (0,)), ("kit", "ProbeNetwork", (1, 2)), ("set", "net", "@0"),
             ("do", "step", ()), ("do", "step", ()), ("report", "@0"))


def run(cls, script, args):
    """The script's result for `cls` on a copy of `args`, probes from the package's kit."""
    return run_script(cls, script, copy.deepcopy(args), kit=framework)


# ---------------------------------------------------------------- cases

def weight_multiply_cases(rng):
    n, k, m = distinct_sizes(rng, hidden=True)
    return [(rng.standard_normal((k, m)), rng.standard_normal((n, k)), rng.standard_normal((n, m)))]


def bias_add_cases(rng):
    n, m = distinct_sizes(rng)
    return [(rng.standard_normal((1, m)), rng.standard_normal((n, m)), rng.standard_normal((n, m)))]


def sigmoid_cases(rng):
    n, m = distinct_sizes(rng)
    return [(rng.uniform(-30.0, 30.0, size=(n, m)), rng.standard_normal((n, m))),
            (rng.standard_normal((n, m)), rng.standard_normal((n, m)))]


def elementwise_cases(rng):
    n, m = distinct_sizes(rng)
    return [(rng.standard_normal((n, m)), rng.standard_normal((n, m)))]


def loss_cases(rng):
    n, _ = distinct_sizes(rng)
    P, y = rng.standard_normal((n, 1)), rng.standard_normal((n, 1))
    return [(P, y), (P, y[:, 0])]


def layer_cases(rng):
    n1, n2, d = distinct_sizes(rng, hidden=True)
    scale = lambda: rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 2.0, size=(1, 1))
    return [(rng.standard_normal((n1, d)), rng.standard_normal((n2, d)), rng.standard_normal((n2, d)),
             scale(), scale(), int(d))]


def network_cases(rng):
    n, n2, d = distinct_sizes(rng, hidden=True)
    scale = lambda: rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 2.0, size=(1, 1))
    return [(rng.standard_normal((n, d)), rng.standard_normal((n, d)), scale(), scale(),
             rng.standard_normal((n, d)), rng.standard_normal((n2, d)))]


def optimizer_cases(rng):
    k, m = distinct_sizes(rng)
    shapes = [(k, m), (1, m), (m, 1)]
    return [(float(rng.uniform(0.001, 0.1)), tuple(rng.standard_normal(s) for s in shapes),
             tuple(rng.standard_normal(s) for s in shapes))]


# ---------------------------------------------------------------- expected results and diagnoses

def expect_run(cls, script, name=None):
    def expect(args):
        if script is LOSS and np.ndim(args[1]) == 1:
            return Raises(f"{name} accepted a target of shape {np.shape(args[1])} for predictions of shape "
                          f"{np.shape(args[0])} instead of raising an error: {mistakes.FLAT_TARGET[1]} "
                          f"[{mistakes.FLAT_TARGET[0]}]")
        return run(cls, script, args)
    return expect


def catalogue(grade_id, script):
    """args -> [(slip name, message, wrong result)] for the slips its check tells apart by value."""
    def slips(args):
        if script is LOSS and np.ndim(args[1]) == 1:
            return []
        return [(name, message, run(cls, script, args)) for (name, message), cls in mistakes.SLIPS[grade_id]]
    return slips


def explain_with(function, grade_id, script):
    """A wrong result that is exactly one slip's result gets that slip's message and name."""
    slips = catalogue(grade_id, script)

    def explain(args, result):
        for name, message, wrong in slips(args):
            try:
                compare(function, wrong, result)
            except Exception:   # not this slip (or not comparable at all)
                continue
            return f"{function}: {message} [{name}]"
        return None
    return explain


# The kit's messages name the class ("BiasAdd's param_grad has shape ..."), and wrap at 100 characters.
CLASS_NAME = re.compile(r"[A-Za-z_]\w*(?='s |\.backward\b)")


def same_error(ours, theirs):
    """The same exception and message, whatever the two classes are called."""
    def plain(message):
        return CLASS_NAME.sub("<class>", " ".join(message.split()))
    return ours[0] == theirs[0] and plain(ours[1]) == plain(theirs[1])


def explain_error_with(function, grade_id, script):
    """An error that is exactly what a slip the kit's shape checks stop raises, on the same case, gets that
    slip's name (mistakes.STOPPED); its message is the kit's, which the student's code raised."""
    stopped = mistakes.STOPPED.get(grade_id, [])

    def explain_error(args, error):
        for (name, _), cls in stopped:
            _, slip_error = call(lambda *given: run(cls, script, given), args)
            if slip_error is not None and same_error(slip_error, error):   # one paragraph, not the kit's lines
                return f"{function} failed the kit's shape check: {' '.join(error[1].split())} [{name}]"
        return None
    return explain_error


def wrong_results(grade_id, script):
    slips = catalogue(grade_id, script)
    return lambda args: [wrong for _, _, wrong in slips(args)]


def check(grade_id, notebook, cls, cases, script):
    name = cls.__name__
    return Check(grade_id, notebook, name, cases, expect_run(cls, script, name),
                 explain_with(name, grade_id, script), wrong_results(grade_id, script), script=script,
                 explain_error=explain_error_with(name, grade_id, script))


CHECKS = [
    check("op_weight_multiply", OPERATIONS, ref.WeightMultiply, weight_multiply_cases, PARAM_OPERATION),
    check("op_bias_add", OPERATIONS, ref.BiasAdd, bias_add_cases, PARAM_OPERATION),
    check("op_sigmoid", OPERATIONS, ref.Sigmoid, sigmoid_cases, OPERATION),
    check("op_linear", OPERATIONS, ref.Linear, elementwise_cases, OPERATION),
    check("layer_forward_backward", OPERATIONS, ref.Layer, layer_cases, LAYER),
    check("loss_mse", OPERATIONS, ref.MeanSquaredError, loss_cases, LOSS),
    check("nn_network", NETWORKS, ref.NeuralNetwork, network_cases, NETWORK),
    check("sgd_step", NETWORKS, ref.SGD, optimizer_cases, OPTIMIZER),
]
