"""The common slips of Chapter 3, each named, worded, and written as the class a student would write.

Every slip is a module-level (name, what to tell the student) pair. SLIPS maps each grade_id to the
slips whose wrong results its check can tell apart by value: (pair, the class with the slip, built
on the reference). checks.py runs each such class through the check's script to get its wrong result
(the check's `mistakes`) and to word a wrong answer (its `explain`).

Three slips never give a result to compare: the kit's shape checks stop them as they happen
(coursekit/framework.py, assert_same_shape), and the student reads the kit's message, which names
the slip (tests/test_ch03_diagnoses.py asserts it). Their pairs below carry that same text, and
STOPPED holds the classes that make them: an error that is exactly the one such a class raises on
the same case gets the slip's name too (checks.py's `explain_error`), so the class report counts it.
"""
import numpy as np

from ...coursekit.framework import ORDER_HINT, ParamOperation, shape_hint
from .reference import classes as ref

# ---------------------------------------------------------------- stopped by the kit's shape checks

PARAM_GRAD_TRANSPOSED = ("param gradient transposed", shape_hint((3, 5), (5, 3)))
BIAS_NOT_SUMMED = ("bias gradient not summed", shape_hint((1, 4), (6, 4)))
BIAS_AXIS_LOST = ("bias gradient lost its axis", shape_hint((1, 4), (4,)))
BACKWARD_GRADIENT_MISMATCH = ("gradient of another operation's output", ORDER_HINT)

# ---------------------------------------------------------------- told apart by value

OUTPUT_GRAD_IGNORED = ("output_grad ignored", "the input gradient is the operation's local derivative alone: "
                       "multiply it by output_grad, the gradient arriving from the operations after this one "
                       "(the chain rule).")
BIAS_AVERAGED = ("bias gradient averaged", "the bias gradient is the mean over the batch: the bias was added to "
                 "every row, so every row's gradient counts in full: sum over the batch axis.")
SIGMOID_ONE_MINUS_INPUT = ("sigmoid derivative as s(1 - x)", "the sigmoid's derivative was written "
                           "sigma(x) * (1 - x): the second factor is 1 - sigma(x), that is output * (1 - output).")
SIGMOID_ON_OUTPUT = ("sigmoid derivative on the output", "the sigmoid's derivative was evaluated at the output: "
                     "sigma'(x) = sigma(x) (1 - sigma(x)) is output * (1 - output), not "
                     "sigma(output) * (1 - sigma(output)).")
NOT_DIVIDED_BY_N = ("loss gradient not divided by n", "the gradient is n times too large: the loss is the mean "
                    "over the n rows of the batch, so its gradient is 2 (P - y) / n. Without the division it is "
                    "the gradient of the sum of squared errors, Chapter 2's convention, and every step of the "
                    "optimizer would be n times longer.")
MISSING_FACTOR_2 = ("loss gradient missing factor 2", "the gradient is half the right one: the derivative of "
                    "(P - y)**2 is 2 (P - y).")
WRONG_SIGN = ("loss gradient with the wrong sign", "the gradient points the wrong way: the derivative of "
              "(P - y)**2 with respect to P is +2 (P - y), so a prediction above its target has a positive "
              "gradient.")
LOSS_SUMMED = ("loss summed, not averaged", "the loss is the sum of the squared errors: divide it by n, the "
               "number of rows of the batch, as its gradient is divided.")
FLAT_TARGET = ("flat target accepted", "a flat target of shape (n,) was accepted for a column of predictions: "
               "P - y then broadcasts to an n x n matrix (Chapter 2). Keep the shape check of the given Loss.forward.")
BACKWARD_IN_FORWARD_ORDER = ("backward in forward order", "backward went through its parts in their forward "
                             "order: the gradient flows from the last part to the first, each part getting the "
                             "gradient of its own output (reversed(...)).")
ACTIVATION_SKIPPED = ("activation backward skipped", "backward skipped the operations that have no parameter, such "
                      "as the activation: every operation's backward must run, or the chain loses that "
                      "operation's factor.")
SETUP_EVERY_BATCH = ("set-up on every batch", "the layer set itself up again on a later batch: set up on the first "
                     "batch only (self.first), or every batch would start from new random weights.")
GRADS_REVERSED = ("param_grads in reverse order", "param_grads lists the gradients in reverse order (collected on the "
                  "way back): list them in the operations' forward order, the order of params, so that the "
                  "optimizer pairs each parameter with its own gradient.")
NOT_COLLECTED = ("parameters not collected", "params or param_grads is empty: after the set-up, collect the "
                 "parameter of every operation that has one (a ParamOperation), and after backward their "
                 "gradients, in the same order.")
LOSS_NOT_RETURNED = ("train_batch does not return the loss", "train_batch should return the loss of the batch, "
                     "the float the loss's forward gives, not the predictions.")
REBINDS = ("rebinding, not updating in place", "step left the parameters as they were: `param = param - ...` makes "
           "a new array and points the loop's name at it; the network still holds the old one. Change the array "
           "itself: param -= lr * grad.")
UP_THE_GRADIENT = ("up the gradient", "the parameters moved up the gradient: subtract lr * grad.")


# ---------------------------------------------------------------- the slips, written as a student would

class LinearIgnoresOutputGrad(ref.Linear):
    def _input_grad(self, output_grad):
        return np.ones_like(self.input_)


class BiasAddIgnoresOutputGrad(ref.BiasAdd):
    def _input_grad(self, output_grad):
        return np.ones_like(self.input_)


class BiasAddAveraged(ref.BiasAdd):
    def _param_grad(self, output_grad):
        return np.mean(output_grad, axis=0, keepdims=True)


class SigmoidOneMinusInput(ref.Sigmoid):
    def _input_grad(self, output_grad):
        return self.output * (1.0 - self.input_) * output_grad


class SigmoidOnOutput(ref.Sigmoid):
    def _input_grad(self, output_grad):
        s = 1.0 / (1.0 + np.exp(-self.output))
        return s * (1.0 - s) * output_grad


class SigmoidIgnoresOutputGrad(ref.Sigmoid):
    def _input_grad(self, output_grad):
        return self.output * (1.0 - self.output)


class MSENotDivided(ref.MeanSquaredError):
    def _input_grad(self):
        return 2.0 * (self.prediction - self.target)


class MSEMissingFactor2(ref.MeanSquaredError):
    def _input_grad(self):
        return (self.prediction - self.target) / self.prediction.shape[0]


class MSEWrongSign(ref.MeanSquaredError):
    def _input_grad(self):
        return 2.0 * (self.target - self.prediction) / self.prediction.shape[0]


class MSESummed(ref.MeanSquaredError):
    def _output(self):
        return float(np.sum((self.prediction - self.target) ** 2))


class LayerForwardOrder(ref.Layer):
    def backward(self, output_grad):
        for operation in self.operations:
            output_grad = operation.backward(output_grad)
        self.param_grads = [op.param_grad for op in self.operations if isinstance(op, ParamOperation)]
        return output_grad


class LayerSkipsActivation(ref.Layer):
    def backward(self, output_grad):
        for operation in reversed(self.operations):
            if isinstance(operation, ParamOperation):
                output_grad = operation.backward(output_grad)
        self.param_grads = [op.param_grad for op in self.operations if isinstance(op, ParamOperation)]
        return output_grad


class LayerSetupEveryBatch(ref.Layer):
    def forward(self, input_):
        self._setup_layer(input_)
        self.params = [op.param for op in self.operations if isinstance(op, ParamOperation)]
        for operation in self.operations:
            input_ = operation.forward(input_)
        self.output = input_
        return input_


class LayerGradsReversed(ref.Layer):
    def backward(self, output_grad):
        self.param_grads = []
        for operation in reversed(self.operations):
            output_grad = operation.backward(output_grad)
            if isinstance(operation, ParamOperation):
                self.param_grads.append(operation.param_grad)
        return output_grad


class LayerNotCollected(ref.Layer):
    def forward(self, input_):
        if self.first:
            self._setup_layer(input_)
            self.first = False
        for operation in self.operations:
            input_ = operation.forward(input_)
        self.output = input_
        return input_

    def backward(self, output_grad):
        for operation in reversed(self.operations):
            output_grad = operation.backward(output_grad)
        return output_grad


class NetworkForwardOrder(ref.NeuralNetwork):
    def backward(self, loss_grad):
        for layer in self.layers:
            loss_grad = layer.backward(loss_grad)


class NetworkReturnsPredictions(ref.NeuralNetwork):
    def train_batch(self, x_batch, y_batch):
        predictions = self.forward(x_batch)
        self.loss.forward(predictions, y_batch)
        self.backward(self.loss.backward())
        return predictions


class SGDRebinds(ref.SGD):
    def step(self):
        for param, grad in zip(self.net.params(), self.net.param_grads()):
            param = param - self.lr * grad   # noqa: F841  (the slip: rebinding the name)


class SGDUpTheGradient(ref.SGD):
    def step(self):
        for param, grad in zip(self.net.params(), self.net.param_grads()):
            param += self.lr * grad


SLIPS = {   # grade_id -> [(slip, the class that makes it)]: the slips its check tells apart by value
    "op_weight_multiply": [],
    "op_bias_add": [(OUTPUT_GRAD_IGNORED, BiasAddIgnoresOutputGrad), (BIAS_AVERAGED, BiasAddAveraged)],
    "op_sigmoid": [(SIGMOID_ONE_MINUS_INPUT, SigmoidOneMinusInput), (SIGMOID_ON_OUTPUT, SigmoidOnOutput),
                   (OUTPUT_GRAD_IGNORED, SigmoidIgnoresOutputGrad)],
    "op_linear": [(OUTPUT_GRAD_IGNORED, LinearIgnoresOutputGrad)],
    "layer_forward_backward": [(BACKWARD_IN_FORWARD_ORDER, LayerForwardOrder), (ACTIVATION_SKIPPED, LayerSkipsActivation),
                               (SETUP_EVERY_BATCH, LayerSetupEveryBatch), (GRADS_REVERSED, LayerGradsReversed),
                               (NOT_COLLECTED, LayerNotCollected)],
    "loss_mse": [(NOT_DIVIDED_BY_N, MSENotDivided), (MISSING_FACTOR_2, MSEMissingFactor2), (WRONG_SIGN, MSEWrongSign),
                 (LOSS_SUMMED, MSESummed)],
    "nn_network": [(BACKWARD_IN_FORWARD_ORDER, NetworkForwardOrder), (LOSS_NOT_RETURNED, NetworkReturnsPredictions)],
    "sgd_step": [(REBINDS, SGDRebinds), (UP_THE_GRADIENT, SGDUpTheGradient)],
}


# ---------------------------------------------------------------- the slips the kit's shape checks stop

class WeightMultiplyParamGradTransposed(ref.WeightMultiply):
    def _param_grad(self, output_grad):
        return output_grad.T @ self.input_          # (m, k): W's gradient transposed


class BiasAddNotSummed(ref.BiasAdd):
    def _param_grad(self, output_grad):
        return output_grad                          # (n, m): one row per observation


class BiasAddLostAxis(ref.BiasAdd):
    def _param_grad(self, output_grad):
        return output_grad.sum(axis=0)              # (m,): summed, but no longer a row


STOPPED = {   # grade_id -> [(slip, the class that makes it)]: the slips its check sees as the kit's error
    "op_weight_multiply": [(PARAM_GRAD_TRANSPOSED, WeightMultiplyParamGradTransposed)],
    "op_bias_add": [(BIAS_NOT_SUMMED, BiasAddNotSummed), (BIAS_AXIS_LOST, BiasAddLostAxis)],
}
