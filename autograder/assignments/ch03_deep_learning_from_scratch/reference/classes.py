"""The graded classes of Chapter 3, as the reference solutions, and the given Dense layer.

Each class is built on the kit's given half (coursekit/framework.py): operations write _output,
_input_grad and _param_grad; the loss writes _output and _input_grad; the layer, the network and
the optimizer write their public methods.
"""
import numpy as np

from ....coursekit.framework import Loss, Operation, Optimizer, ParamOperation, assert_same_shape


# ---------------------------------------------------------------- operations (notebook 1)

class WeightMultiply(ParamOperation):
    """N = X W: the input (n, k) times the weights (k, m)."""

    def _output(self):
        return self.input_ @ self.param

    def _input_grad(self, output_grad):
        return output_grad @ self.param.T

    def _param_grad(self, output_grad):
        return self.input_.T @ output_grad


class BiasAdd(ParamOperation):
    """P = N + B: the bias row (1, m) added to every row of the input (n, m)."""

    def _output(self):
        return self.input_ + self.param

    def _input_grad(self, output_grad):
        return output_grad * np.ones_like(self.input_)

    def _param_grad(self, output_grad):
        return np.sum(output_grad, axis=0, keepdims=True)


class Sigmoid(Operation):
    """The logistic function, entry by entry."""

    def _output(self):
        return 1.0 / (1.0 + np.exp(-self.input_))

    def _input_grad(self, output_grad):
        return self.output * (1.0 - self.output) * output_grad


class Linear(Operation):
    """The identity: the activation of a layer that applies none."""

    def _output(self):
        return self.input_

    def _input_grad(self, output_grad):
        return output_grad


# ---------------------------------------------------------------- layers (notebook 1)

class Layer:
    """Operations in a row; a kind of layer says in _setup_layer which, on the first batch."""

    def __init__(self, neurons):
        self.neurons = neurons
        self.first = True
        self.seed = None
        self.operations, self.params, self.param_grads = [], [], []

    def _setup_layer(self, input_):
        raise NotImplementedError("each kind of layer makes its own operations in _setup_layer")

    def forward(self, input_):
        if self.first:
            self._setup_layer(input_)
            self.params = [op.param for op in self.operations if isinstance(op, ParamOperation)]
            self.first = False
        self.input_ = input_
        for operation in self.operations:
            input_ = operation.forward(input_)
        self.output = input_
        return self.output

    def backward(self, output_grad):
        assert_same_shape(self.output, output_grad, f"the output_grad given to {type(self).__name__}.backward")
        for operation in reversed(self.operations):
            output_grad = operation.backward(output_grad)
        self.param_grads = [op.param_grad for op in self.operations if isinstance(op, ParamOperation)]
        return output_grad


class Dense(Layer):
    """The book's fully connected layer, quirks included: if the network gave it a seed, it re-seeds
    NumPy's global generator before drawing its weights (so every layer of a network starts from the
    same draws), and its default activation is one Sigmoid shared by every Dense made without one."""

    def __init__(self, neurons, activation=Sigmoid()):
        super().__init__(neurons)
        self.activation = activation

    def _setup_layer(self, input_):
        if self.seed:
            np.random.seed(self.seed)
        weights = np.random.randn(input_.shape[1], self.neurons)
        bias = np.random.randn(1, self.neurons)
        self.operations = [WeightMultiply(weights), BiasAdd(bias), self.activation]


# ---------------------------------------------------------------- loss (notebook 1)

class MeanSquaredError(Loss):
    """L = sum((P - y)**2) / n, n the number of rows of the batch."""

    def _output(self):
        return float(np.sum((self.prediction - self.target) ** 2) / self.prediction.shape[0])

    def _input_grad(self):
        return 2.0 * (self.prediction - self.target) / self.prediction.shape[0]


# ---------------------------------------------------------------- network and optimizer (notebook 2)

class NeuralNetwork:
    """Layers and a loss. Like the book, it gives every layer its seed (see Dense)."""

    def __init__(self, layers, loss, seed=1):
        self.layers = layers
        self.loss = loss
        self.seed = seed
        if seed:
            for layer in self.layers:
                layer.seed = seed

    def forward(self, x_batch):
        for layer in self.layers:
            x_batch = layer.forward(x_batch)
        return x_batch

    def backward(self, loss_grad):
        for layer in reversed(self.layers):
            loss_grad = layer.backward(loss_grad)

    def train_batch(self, x_batch, y_batch):
        predictions = self.forward(x_batch)
        loss = self.loss.forward(predictions, y_batch)
        self.backward(self.loss.backward())
        return loss

    def params(self):
        for layer in self.layers:
            yield from layer.params

    def param_grads(self):
        for layer in self.layers:
            yield from layer.param_grads


class SGD(Optimizer):
    """Plain stochastic gradient descent: every parameter moves lr times its gradient downhill, in place."""

    def __init__(self, lr=0.01):
        super().__init__(lr)

    def step(self):
        for param, grad in zip(self.net.params(), self.net.param_grads()):
            param -= self.lr * grad
