"""Random cases never cost a correct Chapter 3 student a point, in the kernel or outside it, and a
slip never passes by luck.

The classes here are correct and written independently of the reference, in another style: other
NumPy calls (so other rounding), helper methods and private names of their own, forward or backward
overridden outright where the reference writes the kit's hooks. For each of many student ids, the
cases that the confined kernel and the outside verification draw for that student are judged on them,
the kernel's way (compare.py against the expected results alone) and the grader's (Check.judge); every
slip of the catalogue is judged wrong on the same cases.
"""
import os
import sys
from functools import reduce

import numpy as np
import pytest

import autograder.coursekit as kit
from autograder import _sandbox_child as wire
from autograder.compare import VIEWS, Raises, judge_expected
from autograder.coursekit import framework
from autograder.coursekit.framework import Loss, Operation, Optimizer, ParamOperation
from autograder.grading.verification import student_seed
from autograder.specs import CHECKS
from autograder.verify import ROUNDS

STUDENTS = int(os.environ.get("CH3_FAIRNESS_STUDENTS", 200))


class WeightMultiply(ParamOperation):
    @staticmethod
    def _product(a, b):
        return np.einsum("ij,jk->ik", a, b)

    def _output(self):
        return self._product(self.input_, self.param)

    def _input_grad(self, output_grad):
        return np.einsum("nm,km->nk", output_grad, self.param)

    def _param_grad(self, output_grad):
        return self._product(self.input_.T, output_grad)


class BiasAdd(ParamOperation):
    def _output(self):
        return np.add(self.input_, self.param)

    def _input_grad(self, output_grad):
        return output_grad.copy()

    def _param_grad(self, output_grad):
        return np.add.reduce(output_grad, axis=0)[np.newaxis, :]


class Sigmoid(Operation):
    def forward(self, input_):                      # forward written out, not the kit's hook
        self.input_ = input_
        self.output = np.exp(-np.logaddexp(0.0, -input_))
        return self.output

    def _input_grad(self, output_grad):
        return output_grad * self.output - output_grad * self.output ** 2


class Linear(Operation):
    def _output(self):
        return np.array(self.input_, copy=True)

    def _input_grad(self, output_grad):
        return np.multiply(output_grad, 1.0)


class Layer:
    def __init__(self, neurons):
        self.neurons, self.first, self.seed = neurons, True, None
        self.operations, self.params, self.param_grads = [], [], []

    def _setup_layer(self, input_):
        raise NotImplementedError

    def _with_parameters(self):
        return [op for op in self.operations if isinstance(op, ParamOperation)]

    def forward(self, input_):
        if self.first:
            self._setup_layer(input_)
            self.params = [op.param for op in self._with_parameters()]
            self.first = False
        self.input_ = input_
        self.output = reduce(lambda flowing, op: op.forward(flowing), self.operations, input_)
        return self.output

    def backward(self, output_grad):
        index = len(self.operations)
        while index:
            index -= 1
            output_grad = self.operations[index].backward(output_grad)
        self.param_grads = [op.param_grad for op in self._with_parameters()]
        return output_grad


class MeanSquaredError(Loss):
    def _difference(self):
        return self.prediction - self.target

    def _output(self):
        difference = self._difference()
        return float(np.square(difference).sum() / difference.shape[0])

    def _input_grad(self):
        difference = self._difference()
        return difference * (2.0 / difference.shape[0])


class NeuralNetwork:
    def __init__(self, layers, loss, seed=1):
        self.layers, self.loss, self.seed = layers, loss, seed
        if seed:
            for layer in self.layers:
                layer.seed = seed

    def forward(self, x_batch):
        return reduce(lambda flowing, layer: layer.forward(flowing), self.layers, x_batch)

    def backward(self, loss_grad):
        for layer in self.layers[::-1]:
            loss_grad = layer.backward(loss_grad)
        return None

    def train_batch(self, x_batch, y_batch):
        value = self.loss.forward(self.forward(x_batch), y_batch)
        self.backward(self.loss.backward())
        return value


class SGD(Optimizer):
    def __init__(self, lr=0.01):
        super().__init__(lr)

    def step(self):
        for param, grad in zip(self.net.params(), self.net.param_grads()):
            np.subtract(param, self.lr * grad, out=param)


CORRECT = {"op_weight_multiply": WeightMultiply, "op_bias_add": BiasAdd, "op_sigmoid": Sigmoid, "op_linear": Linear,
           "layer_forward_backward": Layer, "loss_mse": MeanSquaredError, "nn_network": NeuralNetwork, "sgd_step": SGD}


@pytest.fixture(autouse=True)
def kit_importable(monkeypatch):
    monkeypatch.setitem(sys.modules, "coursekit", kit)
    monkeypatch.setitem(sys.modules, "coursekit.framework", framework)


def test_every_check_of_chapter_3_has_an_independent_correct_class():
    assert set(CORRECT) == {gid for gid, check in CHECKS.items() if check.assignment == "ch03_deep_learning_from_scratch"}


def outcome(function, args):
    try:
        return function(*args), None
    except Exception as exc:
        return None, (type(exc).__name__, str(exc))


@pytest.mark.parametrize("grade_id", sorted(CORRECT))
def test_correct_classes_pass_for_every_student_and_slips_never_do(grade_id):
    check = CHECKS[grade_id]
    correct = wire.scripted(CORRECT[grade_id], check.script)
    for i in range(STUDENTS):
        student = f"student{i:05d}"
        rngs = {"outside": np.random.default_rng(student_seed(0, student)),
                "kernel": np.random.default_rng(student_seed(0, "kernel:" + student))}
        for where, rng in rngs.items():
            for args in [a for _ in range(ROUNDS if where == "outside" else 1) for a in check.cases(rng)]:
                result, error = outcome(correct, args)
                want = check.wanted(args)
                judge_expected(check.function, want, VIEWS[check.view](result) if error is None else result, error)
                check.judge(args, result, error)
                for wrong in check.mistakes(args) if not isinstance(want, Raises) else []:
                    with pytest.raises(AssertionError):
                        check.judge(args, wrong, None)
