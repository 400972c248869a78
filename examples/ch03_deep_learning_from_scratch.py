"""Chapter 3's example students: who wrote what, and what grading each must give.

examples/build.py turns these into submissions; see its docstring for the interface. Four students:
one correct in a style of their own (forward and backward overridden outright, helper methods and
private names of their own, other NumPy calls), one who stopped after three operations, and two with
a typical Chapter 3 slip each: s18's optimizer rebinds its loop variable and so updates nothing, s19's
loss gradient is not divided by the batch size (Chapter 2's convention carried over). Each slip costs
its own exercise and nothing else: the other classes are judged on the kit's probes, not on the
student's own classes.
"""
import re
from pathlib import Path

import nbformat

OPS, NETS = "01_operations_and_layers", "02_networks_and_training"
STEMS = (OPS, NETS)
SOURCE = Path(__file__).resolve().parents[1] / "source" / "ch03_deep_learning_from_scratch"


def _as_written(source):
    """A solution cell as a student who wrote the reference's answer would hand it in: the markers gone."""
    return re.sub(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n", "", source, flags=re.MULTILINE)


def _plain():
    solutions = {}
    for stem in STEMS:
        for cell in nbformat.read(str(SOURCE / f"{stem}.ipynb"), as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("solution") and cell.cell_type == "code":
                solutions[(stem, meta["grade_id"])] = _as_written(cell.source)
    return solutions


PLAIN = _plain()

# ---------------------------------------------------------------- correct, in another style

STYLED_OPERATIONS = '''import numpy as np
from coursekit.framework import Loss, Operation, ParamOperation


class WeightMultiply(ParamOperation):
    @staticmethod
    def _times(a, b):
        return np.einsum("ij,jk->ik", a, b)

    def _output(self):
        return self._times(self.input_, self.param)

    def _input_grad(self, output_grad):
        return self._times(output_grad, self.param.T)

    def _param_grad(self, output_grad):
        return self._times(self.input_.T, output_grad)


class BiasAdd(ParamOperation):
    def _output(self):
        return np.add(self.input_, self.param)

    def _input_grad(self, output_grad):
        return output_grad.copy()

    def _param_grad(self, output_grad):
        return np.add.reduce(output_grad, axis=0)[np.newaxis, :]


class Sigmoid(Operation):
    def forward(self, input_):
        self.input_ = input_
        self.output = np.exp(-np.logaddexp(0.0, -input_))   # no overflow at any size
        return self.output

    def _input_grad(self, output_grad):
        return output_grad * self.output * (1.0 - self.output)


class Linear(Operation):
    def _output(self):
        return self.input_.copy()

    def _input_grad(self, output_grad):
        return output_grad * 1.0
'''

STYLED_LAYER = '''import numpy as np
from functools import reduce
from coursekit.framework import ParamOperation, assert_same_shape


class Layer:
    def __init__(self, neurons):
        self.neurons = neurons
        self.first = True
        self.seed = None
        self.operations = []
        self.params = []
        self.param_grads = []

    def _setup_layer(self, input_):
        raise NotImplementedError(f"{type(self).__name__} must define _setup_layer(input_)")

    def _learnable(self):
        return [op for op in self.operations if isinstance(op, ParamOperation)]

    def forward(self, input_):
        if self.first:
            self._setup_layer(input_)
            self.params = [op.param for op in self._learnable()]
            self.first = False
        self.input_ = input_
        self.output = reduce(lambda value, op: op.forward(value), self.operations, input_)
        return self.output

    def backward(self, output_grad):
        assert_same_shape(self.output, output_grad, "the layer's output_grad")
        position = len(self.operations)
        while position > 0:
            position -= 1
            output_grad = self.operations[position].backward(output_grad)
        self.param_grads = [op.param_grad for op in self._learnable()]
        return output_grad
'''

STYLED_LOSS = '''import numpy as np
from coursekit.framework import Loss


class MeanSquaredError(Loss):
    def _miss(self):
        return self.prediction - self.target

    def _output(self):
        miss = self._miss()
        return float(np.square(miss).sum() / miss.shape[0])

    def _input_grad(self):
        miss = self._miss()
        return miss * (2.0 / miss.shape[0])
'''

STYLED_NETWORK = '''import numpy as np
from functools import reduce


class NeuralNetwork:
    def __init__(self, layers, loss, seed=1):
        self.layers = layers
        self.loss = loss
        self.seed = seed
        if seed:
            for layer in self.layers:
                layer.seed = seed

    def forward(self, x_batch):
        return reduce(lambda value, layer: layer.forward(value), self.layers, x_batch)

    def backward(self, loss_grad):
        for layer in self.layers[::-1]:
            loss_grad = layer.backward(loss_grad)

    def train_batch(self, x_batch, y_batch):
        value = self.loss.forward(self.forward(x_batch), y_batch)
        self.backward(self.loss.backward())
        return value

    def params(self):
        for layer in self.layers:
            yield from layer.params

    def param_grads(self):
        for layer in self.layers:
            yield from layer.param_grads
'''

STYLED_SGD = '''import numpy as np
from coursekit.framework import Optimizer


class SGD(Optimizer):
    def __init__(self, lr=0.01):
        super().__init__(lr)

    def step(self):
        for param, grad in zip(self.net.params(), self.net.param_grads()):
            np.subtract(param, self.lr * grad, out=param)
'''


def _only(source, name):
    """The part of a module-like source that defines `name`, with the source's imports."""
    imports = [line for line in source.splitlines() if line.startswith(("import ", "from "))]
    body = source.split(f"\nclass {name}")[1]
    body = f"class {name}" + body.split("\nclass ")[0]
    return "\n".join(imports) + "\n\n\n" + body.rstrip() + "\n"


STYLED = {
    (OPS, "op_weight_multiply_solution"): _only(STYLED_OPERATIONS, "WeightMultiply"),
    (OPS, "op_bias_add_solution"): _only(STYLED_OPERATIONS, "BiasAdd"),
    (OPS, "op_sigmoid_solution"): _only(STYLED_OPERATIONS, "Sigmoid"),
    (OPS, "op_linear_solution"): _only(STYLED_OPERATIONS, "Linear"),
    (OPS, "layer_forward_backward_solution"): STYLED_LAYER,
    (OPS, "loss_mse_solution"): STYLED_LOSS,
    (OPS, "q_reverse_order"): "Each operation needs the gradient of its own output, which exists only after the "
                               "operations after it have run backward. In forward order WeightMultiply would get "
                               "dL/dO as if it were dL/dN and return an (n, k) array; BiasAdd's shape check then "
                               "fails, unless k = m, when the gradients are silently wrong.",
    (NETS, "nn_part1_classes"): "\n\n".join((STYLED_OPERATIONS, STYLED_LAYER, STYLED_LOSS)),
    (NETS, "nn_network_solution"): STYLED_NETWORK,
    (NETS, "sgd_step_solution"): STYLED_SGD,
    (NETS, "q_twin_layers"): "No: the second layer's input is the first layer's output, not X, and each receives a "
                              "different gradient, so their weight gradients differ from the first step on. Chapter "
                              "2's trap was units of one layer sharing one input.",
}

# ---------------------------------------------------------------- two typical slips

REBINDING_SGD = {(NETS, "sgd_step_solution"): '''import numpy as np
from coursekit.framework import Optimizer


class SGD(Optimizer):
    """Stochastic gradient descent: every parameter moves lr times its gradient downhill."""

    def __init__(self, lr=0.01):
        super().__init__(lr)

    def step(self):
        """Update every parameter of self.net in place, one step against its gradient."""
        for param, param_grad in zip(self.net.params(), self.net.param_grads()):
            param = param - self.lr * param_grad
'''}

NOT_DIVIDED = "        return 2.0 * (self.prediction - self.target)\n"


def not_divided(source):
    """The student's loss with Chapter 2's gradient of the sum: no division by n."""
    fixed = source.replace("        n_rows = self.prediction.shape[0]\n"
                           "        return 2.0 * (self.prediction - self.target) / n_rows\n", NOT_DIVIDED)
    assert fixed != source, "the loss's gradient lines moved: update examples/ch03_deep_learning_from_scratch.py"
    return fixed


MSE_NOT_DIVIDED = {(OPS, "loss_mse_solution"): not_divided(PLAIN[(OPS, "loss_mse_solution")]),
                   (NETS, "nn_part1_classes"): not_divided(PLAIN[(NETS, "nn_part1_classes")])}

EVERY = ["op_weight_multiply", "op_bias_add", "op_sigmoid", "op_linear", "layer_forward_backward", "loss_mse",
         "nn_network", "sgd_step"]


def but(*failing):
    """Expected: every autograded cell earns its points except `failing`."""
    return [cell for cell in EVERY if cell not in failing]


# student id -> (solutions, earned autograded cells, flag words, extra)
EXAMPLES = {
    "s01_correct_style": (STYLED, EVERY, [], None),
    "s02_partial": ({key: PLAIN[key] for key in ((OPS, "op_weight_multiply_solution"), (OPS, "op_bias_add_solution"),
                                                 (OPS, "op_sigmoid_solution"))},
                    ["op_weight_multiply", "op_bias_add", "op_sigmoid"], [], None),
    "s18_sgd_rebinds": ({**PLAIN, **REBINDING_SGD}, but("sgd_step"), [], None),
    "s19_mse_not_divided": ({**PLAIN, **MSE_NOT_DIVIDED}, but("loss_mse"), [], None),
}
