"""Chapter 3's common slips, each written as a student would write it, and the message it gets.

The buggy classes here are written independently of the catalogue (mistakes.py), so a catalogue
entry that drifts from the slip it names fails these tests. Three slips never reach a comparison: the
kit's shape checks stop them as they happen, and the student reads the kit's message (the hidden test
reports it as "<Class> failed the kit's shape check: ..." and names the slip in brackets when the
error is exactly the catalogue's slip's on the same case); the others are told apart by value and
named in brackets at the end of the message. The class report counts both.
"""
import sys

import numpy as np
import pytest

import autograder.coursekit as kit
from autograder.assignments import slip_names
from autograder.coursekit import framework
from autograder.coursekit.framework import Loss, Operation, Optimizer, ParamOperation, assert_same_shape
from autograder.grading.class_report import diagnosis_parts, known_slips
from autograder.hidden import run_hidden_test


@pytest.fixture(autouse=True)
def kit_importable(monkeypatch):
    monkeypatch.setitem(sys.modules, "coursekit", kit)
    monkeypatch.setitem(sys.modules, "coursekit.framework", framework)


def failure(grade_id, cls):
    with pytest.raises(AssertionError) as info:
        run_hidden_test(grade_id, cls)
    return str(info.value)


# ---------------------------------------------------------------- students' classes, right and wrong

class WeightMultiply(ParamOperation):
    def _output(self):
        return self.input_ @ self.param

    def _input_grad(self, output_grad):
        return output_grad @ self.param.T

    def _param_grad(self, output_grad):
        return self.input_.T @ output_grad


class WeightMultiplyTransposedParamGrad(WeightMultiply):
    def _param_grad(self, output_grad):
        return output_grad.T @ self.input_


class WeightMultiplyNoTranspose(WeightMultiply):
    def _input_grad(self, output_grad):
        return output_grad @ self.param


class BiasAdd(ParamOperation):
    def _output(self):
        return self.input_ + self.param

    def _input_grad(self, output_grad):
        return output_grad

    def _param_grad(self, output_grad):
        return output_grad.sum(axis=0, keepdims=True)


class BiasAddNotSummed(BiasAdd):
    def _param_grad(self, output_grad):
        return output_grad * np.ones_like(self.input_)


class BiasAddLostAxis(BiasAdd):
    def _param_grad(self, output_grad):
        return np.sum(output_grad, axis=0)


class BiasAddOnes(BiasAdd):
    def _input_grad(self, output_grad):
        return np.ones_like(output_grad)


class BiasAddMean(BiasAdd):
    def _param_grad(self, output_grad):
        return output_grad.mean(axis=0).reshape(1, -1)


def sig(x):
    return 1 / (1 + np.exp(-x))


class SigmoidWithInput(Operation):
    def _output(self):
        return sig(self.input_)

    def _input_grad(self, output_grad):
        return sig(self.input_) * (1 - self.input_) * output_grad


class SigmoidOfOutput(SigmoidWithInput):
    def _input_grad(self, output_grad):
        return sig(self.output) * (1 - sig(self.output)) * output_grad


class SigmoidSlopeOnly(SigmoidWithInput):
    def _input_grad(self, output_grad):
        return self.output * (1 - self.output)


class LinearOnes(Operation):
    def _output(self):
        return self.input_

    def _input_grad(self, output_grad):
        return np.ones_like(self.input_)


class Layer:
    def __init__(self, neurons):
        self.neurons, self.first, self.seed = neurons, True, None
        self.operations, self.params, self.param_grads = [], [], []

    def _setup_layer(self, input_):
        raise NotImplementedError

    def forward(self, input_):
        if self.first:
            self._setup_layer(input_)
            self.params = [op.param for op in self.operations if isinstance(op, ParamOperation)]
            self.first = False
        for op in self.operations:
            input_ = op.forward(input_)
        self.output = input_
        return input_

    def backward(self, output_grad):
        for op in reversed(self.operations):
            output_grad = op.backward(output_grad)
        self.param_grads = [op.param_grad for op in self.operations if isinstance(op, ParamOperation)]
        return output_grad


class LayerForwardOrder(Layer):
    def backward(self, output_grad):
        for op in self.operations:
            output_grad = op.backward(output_grad)
        self.param_grads = [op.param_grad for op in self.operations if isinstance(op, ParamOperation)]
        return output_grad


class LayerOnlyParamOperations(Layer):
    def backward(self, output_grad):
        grad = output_grad
        for op in self.operations[::-1]:
            if hasattr(op, "param"):
                grad = op.backward(grad)
        self.param_grads = [op.param_grad for op in self.operations if hasattr(op, "param")]
        return grad


class LayerEverySetup(Layer):
    def forward(self, input_):
        self._setup_layer(input_)
        self.params = [op.param for op in self.operations if isinstance(op, ParamOperation)]
        for op in self.operations:
            input_ = op.forward(input_)
        self.output = input_
        return input_


class LayerGradsOnTheWayBack(Layer):
    def backward(self, output_grad):
        self.param_grads = []
        for op in reversed(self.operations):
            output_grad = op.backward(output_grad)
            if isinstance(op, ParamOperation):
                self.param_grads.append(op.param_grad)
        return output_grad


class LayerNoLists(Layer):
    def forward(self, input_):
        if self.first:
            self._setup_layer(input_)
            self.first = False
        for op in self.operations:
            input_ = op.forward(input_)
        self.output = input_
        return input_

    def backward(self, output_grad):
        for op in reversed(self.operations):
            output_grad = op.backward(output_grad)
        return output_grad


class MSE(Loss):
    def _output(self):
        return float(np.mean((self.prediction - self.target) ** 2))

    def _input_grad(self):
        return 2 * (self.prediction - self.target) / len(self.prediction)


class MSESumGradient(MSE):
    def _input_grad(self):
        return 2 * (self.prediction - self.target)


class MSEHalf(MSE):
    def _input_grad(self):
        return (self.prediction - self.target) / len(self.prediction)


class MSEFlipped(MSE):
    def _input_grad(self):
        return -2 * (self.prediction - self.target) / len(self.prediction)


class MSESum(MSE):
    def _output(self):
        return float(((self.prediction - self.target) ** 2).sum())


class MSENoCheck(MSE):   # the given Loss's checks replaced by methods of its own, without them
    def forward(self, prediction, target):
        self.prediction, self.target = prediction, target
        return self._output()

    def backward(self):
        return self._input_grad()


class Network:
    def __init__(self, layers, loss, seed=1):
        self.layers, self.loss, self.seed = layers, loss, seed
        for layer in layers:
            layer.seed = seed

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, grad):
        for layer in reversed(self.layers):
            grad = layer.backward(grad)

    def train_batch(self, x, y):
        loss = self.loss.forward(self.forward(x), y)
        self.backward(self.loss.backward())
        return loss


class NetworkForwardOrder(Network):
    def backward(self, grad):
        for layer in self.layers:
            grad = layer.backward(grad)


class NetworkReturnsPredictions(Network):
    def train_batch(self, x, y):
        predictions = self.forward(x)
        self.loss.forward(predictions, y)
        self.backward(self.loss.backward())
        return predictions


class NetworkBackwardFromTheLoss(Network):
    def train_batch(self, x, y):
        loss = self.loss.forward(self.forward(x), y)
        self.backward(loss)
        return loss


class SGDRebinding(Optimizer):
    def step(self):
        for param, grad in zip(self.net.params(), self.net.param_grads()):
            param = param - self.lr * grad   # noqa: F841


class SGDUphill(Optimizer):
    def step(self):
        for param, grad in zip(self.net.params(), self.net.param_grads()):
            param += self.lr * grad


# ---------------------------------------------------------------- slips the kit's shape checks stop

def test_a_transposed_parameter_gradient_is_stopped_by_the_kits_check_which_names_it():
    message = failure("op_weight_multiply", WeightMultiplyTransposedParamGrad)
    assert message.startswith("WeightMultiply failed the kit's shape check: WeightMultiplyTransposedParamGrad's "
                              "param_grad has shape")
    assert "It is transposed" in message
    assert [name for name, _ in diagnosis_parts(message, known_slips())] == ["param gradient transposed"]


def test_an_input_gradient_without_its_transpose_does_not_fit():
    message = failure("op_weight_multiply", WeightMultiplyNoTranspose)
    assert "WeightMultiply raised ValueError" in message and "do not fit" in message


@pytest.mark.parametrize("cls, phrase", [(BiasAddNotSummed, "one row per observation"),
                                         (BiasAddLostAxis, "lost its axis: keep the result 2-D")])
def test_a_bias_gradient_not_summed_or_without_its_axis_is_stopped_and_named(cls, phrase):
    message = failure("op_bias_add", cls)
    assert message.startswith("BiasAdd failed the kit's shape check: BiasAdd") and phrase in message
    slip = "bias gradient not summed" if cls is BiasAddNotSummed else "bias gradient lost its axis"
    assert [name for name, _ in diagnosis_parts(message, known_slips())] == [slip]


def test_only_the_kits_own_error_on_the_same_case_gets_a_slips_name():
    # The kit's hint raised by the student's own code, with other shapes: the message is theirs, no slip named.
    class BiasAddForged(BiasAdd):
        def _param_grad(self, output_grad):
            raise AssertionError(f"BiasAdd's param_grad has shape (9, 9), expected {self.param.shape}.\n"
                                 + framework.shape_hint((1, 4), (6, 4)))
    message = failure("op_bias_add", BiasAddForged)
    assert message.startswith("BiasAdd raised AssertionError:")
    assert diagnosis_parts(message, known_slips()) is None


def test_backward_in_forward_order_in_a_real_dense_layer_is_stopped_by_the_shape_check():
    from autograder.assignments.ch03_deep_learning_from_scratch.reference import classes as ref

    class Dense(LayerForwardOrder):
        def _setup_layer(self, input_):
            np.random.seed(0)
            self.operations = [ref.WeightMultiply(np.random.randn(input_.shape[1], self.neurons)),
                               ref.BiasAdd(np.random.randn(1, self.neurons)), ref.Sigmoid()]
    layer = Dense(5)
    layer.forward(np.ones((4, 3)))
    with pytest.raises(AssertionError, match="reverse of their forward order") as info:
        layer.backward(np.ones((4, 5)))
    assert "the output_grad given to BiasAdd.backward has shape (4, 3), expected (4, 5)" in str(info.value)


# ---------------------------------------------------------------- slips told apart by value, and named

VALUE_SLIPS = [
    ("op_bias_add", BiasAddOnes, "output_grad ignored"),
    ("op_bias_add", BiasAddMean, "bias gradient averaged"),
    ("op_sigmoid", SigmoidWithInput, "sigmoid derivative as s(1 - x)"),
    ("op_sigmoid", SigmoidOfOutput, "sigmoid derivative on the output"),
    ("op_sigmoid", SigmoidSlopeOnly, "output_grad ignored"),
    ("op_linear", LinearOnes, "output_grad ignored"),
    ("layer_forward_backward", LayerForwardOrder, "backward in forward order"),
    ("layer_forward_backward", LayerOnlyParamOperations, "activation backward skipped"),
    ("layer_forward_backward", LayerEverySetup, "set-up on every batch"),
    ("layer_forward_backward", LayerGradsOnTheWayBack, "param_grads in reverse order"),
    ("layer_forward_backward", LayerNoLists, "parameters not collected"),
    ("loss_mse", MSESumGradient, "loss gradient not divided by n"),
    ("loss_mse", MSEHalf, "loss gradient missing factor 2"),
    ("loss_mse", MSEFlipped, "loss gradient with the wrong sign"),
    ("loss_mse", MSESum, "loss summed, not averaged"),
    ("loss_mse", MSENoCheck, "flat target accepted"),
    ("nn_network", NetworkForwardOrder, "backward in forward order"),
    ("nn_network", NetworkReturnsPredictions, "train_batch does not return the loss"),
    ("sgd_step", SGDRebinding, "rebinding, not updating in place"),
    ("sgd_step", SGDUphill, "up the gradient"),
]


@pytest.mark.parametrize("grade_id, cls, slip", VALUE_SLIPS, ids=[f"{g}-{s}" for g, _, s in VALUE_SLIPS])
def test_each_value_slip_is_named_and_the_class_report_counts_it(grade_id, cls, slip):
    message = failure(grade_id, cls)
    assert message.endswith(f"[{slip}]"), message
    assert slip in slip_names()
    assert [name for name, _ in diagnosis_parts(message, known_slips())] == [slip]


def test_the_messages_say_what_to_do():
    assert "2 (P - y) / n" in failure("loss_mse", MSESumGradient)
    assert "param -= lr * grad" in failure("sgd_step", SGDRebinding)
    assert "reversed(...)" in failure("layer_forward_backward", LayerForwardOrder)
    assert "n x n matrix" in failure("loss_mse", MSENoCheck)


def test_a_network_that_passes_back_the_loss_value_is_told_what_the_layer_expected():
    message = failure("nn_network", NetworkBackwardFromTheLoss)
    assert message.startswith("NeuralNetwork raised AssertionError: the output_grad given to ProbeLayer.backward "
                              "should be a NumPy array, got float")


def test_the_right_classes_written_another_way_pass():
    for grade_id, cls in (("op_weight_multiply", WeightMultiply), ("op_bias_add", BiasAdd), ("loss_mse", MSE),
                          ("layer_forward_backward", Layer), ("nn_network", Network)):
        run_hidden_test(grade_id, cls)
