"""Chapter 3's framework, the given half: what the exercises build on, the trainer, and the probes.

The design follows Weidman 2019, ch. 3 (the book's official notebook, `03_dlfs/Code.ipynb`); the
code and the messages are the course's own. You use these classes; the exercises are the classes
built on them (the operations, the layer, the loss, the network and the optimizer), which you
write in the notebooks.

Given, to build on
- `Operation`: `forward(input_)` keeps the input, computes `output = self._output()`;
  `backward(output_grad)` checks the gradient's shape, computes `input_grad =
  self._input_grad(output_grad)` and checks its shape. A subclass writes `_output` and
  `_input_grad`.
- `ParamOperation(param)`: an operation with a parameter; its `backward` also sets `param_grad =
  self._param_grad(output_grad)`, checked against the parameter's shape.
- `Loss`: `forward(prediction, target)` checks both shapes agree, keeps them and returns
  `self._output()`, a float; `backward()` returns `self._input_grad()`, the gradient with respect
  to the prediction, checked against its shape.
- `Optimizer(lr)`: holds the learning rate; a subclass writes `step()`, which moves the parameters
  of `self.net` (the trainer sets that attribute).
- `Trainer(net, optim)`: the book's training loop, `fit(...)`, with the book's early stopping
  and a corrected one (`stopping="book"` or `"best"`); `permute_data` and `batches` are its
  helpers.
- `assert_same_shape`: the check behind every shape assertion above; when the two shapes show a
  known slip (a transpose, a bias gradient not summed over the batch, a sum that lost its axis...),
  the message says so.

Probes, used by the tests to check one of your classes at a time (they are not part of any network
you train): `ProbeScale` and `ProbeSquare` (two small operations), `ProbeSetup` (makes a layer set
itself up with given operations), `ProbeLayer`, `ProbeLoss` and `ProbeNetwork` (stand-ins for a
layer, a loss and a network). Each records what it was given; `report()` returns that as plain data.
Because the tests run your class on probes, a slip in one of your other classes never costs points
in this one.

This module imports nothing but NumPy and the standard library.
"""
import textwrap
from copy import deepcopy

import numpy as np

WIDTH = 100   # longest line of a message


def _wrapped(text):
    return "\n".join(textwrap.fill(line, WIDTH, break_long_words=False, break_on_hyphens=False)
                     for line in text.split("\n"))


# ---------------------------------------------------------------- shape checks

def shape_hint(expected, got):
    """What a wrong gradient shape `got` (where `expected` was due) suggests, in a sentence."""
    expected, got = tuple(expected), tuple(got)
    if len(expected) == 2 == len(got) and got == expected[::-1]:
        return ("It is transposed: check which factor of the matrix product is transposed, and "
                "the order of the two factors.")
    if len(expected) == 2 and expected[0] == 1:
        if len(got) == 2 and got[0] > 1 and got[1] == expected[1]:
            return ("It has one row per observation: the parameter was added to every row of the "
                    "batch, so its gradient is summed over the batch axis (axis=0, keepdims=True).")
        if got == (expected[1],):
            return "The sum over the batch lost its axis: keep the result 2-D with keepdims=True."
        if expected[1] > 1 and got in ((), (1,), (1, 1)):
            return ("It was summed over every axis: sum over the batch axis only (axis=0), so "
                    "each column keeps its own gradient.")
    return "A gradient always has the shape of the array it is the gradient of."


def assert_same_shape(reference, array, what, hint=None):
    """`array` (described by `what`) must be a NumPy array of `reference`'s shape.

    Raises AssertionError whose message names both shapes and, if none is given, a hint from
    shape_hint(). Returns None.
    """
    if not isinstance(array, np.ndarray):
        raise AssertionError(_wrapped(f"{what} should be a NumPy array, got {type(array).__name__}."))
    if array.shape != np.shape(reference):
        hint = hint if hint is not None else shape_hint(np.shape(reference), array.shape)
        raise AssertionError(_wrapped(f"{what} has shape {array.shape}, expected {np.shape(reference)}.\n"
                                      f"{hint}"))


ORDER_HINT = ("An operation's backward takes the gradient of its own output: a layer calls its "
              "operations' backward in the reverse of their forward order, each on what the one "
              "after it returned (and a network does the same with its layers).")


# ---------------------------------------------------------------- operations

class Operation:
    """One step of a network: `forward` turns an input into an output, `backward` turns the
    gradient of the loss with respect to that output into the gradient with respect to the input.

    A subclass writes `_output()` (it may read `self.input_`) and `_input_grad(output_grad)` (it
    may read `self.input_` and `self.output`).
    """

    def forward(self, input_):
        """Keep `input_`, compute and keep `self.output`, and return it."""
        self.input_ = input_
        self.output = self._output()
        return self.output

    def backward(self, output_grad):
        """The gradient of the loss with respect to this operation's input, given the one with
        respect to its output; both are checked against the shapes of what they are gradients of."""
        name = type(self).__name__
        assert_same_shape(self.output, output_grad, f"the output_grad given to {name}.backward", ORDER_HINT)
        self.input_grad = self._input_grad(output_grad)
        assert_same_shape(self.input_, self.input_grad, f"{name}'s input gradient (what backward returns)")
        return self.input_grad

    def _output(self):
        raise NotImplementedError(f"{type(self).__name__} must define _output()")

    def _input_grad(self, output_grad):
        raise NotImplementedError(f"{type(self).__name__} must define _input_grad(output_grad)")


class ParamOperation(Operation):
    """An operation with a parameter, `self.param` (a weight matrix, a bias row...).

    Its backward also sets `self.param_grad`, the gradient of the loss with respect to the
    parameter, from `_param_grad(output_grad)`, which a subclass writes.
    """

    def __init__(self, param):
        self.param = param

    def backward(self, output_grad):
        """As Operation.backward, and also sets (and checks) `self.param_grad`."""
        name = type(self).__name__
        assert_same_shape(self.output, output_grad, f"the output_grad given to {name}.backward", ORDER_HINT)
        self.input_grad = self._input_grad(output_grad)
        self.param_grad = self._param_grad(output_grad)
        assert_same_shape(self.input_, self.input_grad, f"{name}'s input gradient (what backward returns)")
        assert_same_shape(self.param, self.param_grad, f"{name}'s param_grad")
        return self.input_grad

    def _param_grad(self, output_grad):
        raise NotImplementedError(f"{type(self).__name__} must define _param_grad(output_grad)")


# ---------------------------------------------------------------- loss and optimizer

class Loss:
    """A loss: `forward(prediction, target)` returns a float; `backward()` returns the gradient of
    that float with respect to the prediction. A subclass writes `_output()` and `_input_grad()`,
    which may read `self.prediction` and `self.target`."""

    def forward(self, prediction, target):
        """Check that the target has the prediction's shape, keep both, return the loss (a float)."""
        name = type(self).__name__
        flat = (np.ndim(target) == 1 and np.ndim(prediction) == 2 and np.shape(prediction)[1] == 1)
        assert_same_shape(prediction, target, f"the target given to {name}.forward",
                          "A flat target would broadcast against a column of predictions into an n x n "
                          "matrix (Chapter 2): make it a column, y.reshape(-1, 1)." if flat
                          else "The target must have the prediction's shape.")
        self.prediction, self.target = prediction, target
        self.output = self._output()
        return self.output

    def backward(self):
        """The gradient of the loss with respect to the prediction, checked against its shape."""
        self.input_grad = self._input_grad()
        assert_same_shape(self.prediction, self.input_grad,
                          f"the gradient {type(self).__name__}.backward returns (with respect to the prediction)")
        return self.input_grad

    def _output(self):
        raise NotImplementedError(f"{type(self).__name__} must define _output()")

    def _input_grad(self):
        raise NotImplementedError(f"{type(self).__name__} must define _input_grad()")


class Optimizer:
    """Holds the learning rate; a subclass's `step()` updates the parameters of `self.net`, a network
    whose `params()` and `param_grads()` give its parameters and their gradients in the same order
    (the Trainer sets `self.net`)."""

    def __init__(self, lr=0.01):
        self.lr = lr

    def step(self):
        raise NotImplementedError(f"{type(self).__name__} must define step()")


# ---------------------------------------------------------------- training

def permute_data(X, y):
    """X and y with their rows in one shared random order (NumPy's global generator, as the book)."""
    order = np.random.permutation(X.shape[0])
    return X[order], y[order]


def batches(X, y, size=32):
    """(X_batch, y_batch) for rows 0..size-1, size..2 size-1, ...; the last batch may be smaller."""
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]}")
    for start in range(0, X.shape[0], size):
        yield X[start:start + size], y[start:start + size]


STOPPING = ("book", "best", "off")


class Trainer:
    """Trains `net` with `optim`: the book's loop (Weidman 2019, ch. 3), its early stopping included.

    `fit` seeds NumPy's global generator, (by default) makes every layer set itself up again on the
    next batch, and then, for each epoch, shuffles the training rows, trains on them batch by batch
    (`net.train_batch`, then `optim.step()`), and every `eval_every` epochs computes the loss on the
    validation rows with the network's own loss. When that loss is not below the best one so far,
    training stops:

    - stopping="book" (the book's rule): a copy of the network is taken at the start of every epoch
      that ends with an evaluation, so before that epoch's training; on stopping, that copy, which
      was never evaluated, becomes `trainer.net` (and the optimizer's). The network you passed in is
      left as it was after the last epoch.
    - stopping="best" (corrected): the parameters are saved at each evaluation that improves; on
      stopping, they are copied back into the network's own arrays, so the network you passed in
      holds the best evaluated model.
    - stopping="off": every evaluation is recorded, training never stops.

    After `fit`: `history` is the list of (epoch, validation loss); `best_loss` and `best_epoch` the
    lowest and when; `stopped_at` the epoch training stopped after (None if it ran to the end);
    `restored` a sentence saying what `trainer.net` and your network now hold.
    """

    def __init__(self, net, optim):
        self.net = net
        self.optim = optim
        self.best_loss = 1e9
        self.best_epoch = None
        self.optim.net = self.net          # the optimizer reaches the parameters through the network

    def fit(self, X_train, y_train, X_val, y_val, epochs=100, eval_every=10, batch_size=32, seed=1,
            restart=True, stopping="book", verbose=True):
        """Train for up to `epochs` epochs; print the validation loss at each evaluation if verbose."""
        if stopping not in STOPPING:
            raise ValueError(f"stopping must be one of {STOPPING}, got {stopping!r}")
        np.random.seed(seed)
        if restart:
            for layer in self.net.layers:
                layer.first = True
            self.best_loss, self.best_epoch = 1e9, None
        self.history, self.stopped_at, self.restored = [], None, "nothing: training ran to the end"
        saved = snapshot = None
        for epoch in range(1, epochs + 1):
            evaluating = epoch % eval_every == 0
            if evaluating and stopping == "book":
                snapshot = deepcopy(self.net)          # the book's copy: before this epoch's training
            X_train, y_train = permute_data(X_train, y_train)
            for X_batch, y_batch in batches(X_train, y_train, batch_size):
                self.net.train_batch(X_batch, y_batch)
                self.optim.step()
            if not evaluating:
                continue
            loss = float(self.net.loss.forward(self.net.forward(X_val), y_val))
            self.history.append((epoch, loss))
            if loss < self.best_loss:
                self.best_loss, self.best_epoch = loss, epoch
                if stopping == "best":
                    saved = [np.array(param, copy=True) for param in self.net.params()]
                self._say(verbose, f"epoch {epoch:3d}: validation loss {loss:.3f}")
                continue
            if stopping == "off":
                self._say(verbose, f"epoch {epoch:3d}: validation loss {loss:.3f} (best so far {self.best_loss:.3f}, "
                                   f"after {self.best_epoch} epochs)")
                continue
            self.stopped_at = epoch
            if stopping == "book":
                self.net = snapshot
                self.optim.net = self.net
                self.restored = (f"trainer.net is the copy taken after {epoch - 1} epochs (never evaluated); "
                                 f"the network passed in is as trained after {epoch} epochs")
            else:
                for param, best in zip(self.net.params(), saved):
                    param[...] = best
                self.restored = (f"the network passed in holds the parameters it had after {self.best_epoch} "
                                 f"epochs (validation loss {self.best_loss:.3f})")
            self._say(verbose, f"epoch {epoch:3d}: validation loss {loss:.3f}, not below {self.best_loss:.3f}: "
                               f"stopped; {self.restored}")
            break
        return self

    @staticmethod
    def _say(verbose, line):
        if verbose:
            print(line)


# ---------------------------------------------------------------- probes: the tests' stand-ins

def _plain(array):
    return np.array(array, dtype=np.float64, copy=True)


class ProbeScale(ParamOperation):
    """A test operation with a parameter: multiplies its input by one number, `param`, a (1, 1) array.

    output = param * input; the input gradient is param * output_grad; the parameter gradient is the
    sum of output_grad * input over every entry, as a (1, 1) array.
    """

    def __init__(self, param):
        super().__init__(_plain(param).reshape(1, 1))

    def _output(self):
        return self.input_ * self.param

    def _input_grad(self, output_grad):
        return output_grad * self.param

    def _param_grad(self, output_grad):
        return np.array([[float(np.sum(output_grad * self.input_))]])


class ProbeSquare(Operation):
    """A test operation without a parameter: squares every entry. The input gradient is
    2 * input * output_grad."""

    def _output(self):
        return self.input_ ** 2

    def _input_grad(self, output_grad):
        return 2.0 * self.input_ * output_grad


class ProbeSetup:
    """Put in front of a Layer to test it: its `_setup_layer` installs the operations listed in
    `self.probe_operations` (set them before the first forward) and counts its calls in
    `self.probe_setups` (a float: 1.0 after the first batch, and it should stay 1.0).

        class LayerUnderTest(ProbeSetup, Layer):
            pass
    """

    probe_setups = 0.0

    def _setup_layer(self, input_):
        self.probe_setups = self.probe_setups + 1.0
        self.operations = list(self.probe_operations)


class ProbeLayer:
    """A test layer (for testing a network): out = input * scale + input**2 / 2, entry by entry,
    with `scale` a (1, 1) parameter. It records every input its forward gets and every gradient its
    backward gets; `params` and `param_grads` are lists of one array, as a layer's are."""

    def __init__(self, scale):
        self.scale = _plain(scale).reshape(1, 1)
        self.params, self.param_grads = [self.scale], []
        self.first, self.seed = True, None
        self.seen_inputs, self.seen_grads = [], []

    def forward(self, input_):
        self.seen_inputs.append(_plain(input_))
        self.input_ = input_
        self.output = input_ * self.scale + input_ ** 2 / 2.0
        return self.output

    def backward(self, output_grad):
        self.seen_grads.append(output_grad if not isinstance(output_grad, np.ndarray) else _plain(output_grad))
        assert_same_shape(self.output, output_grad, "the output_grad given to ProbeLayer.backward", ORDER_HINT)
        self.param_grads = [np.array([[float(np.sum(output_grad * self.input_))]])]
        return output_grad * (self.scale + self.input_)

    def report(self):
        """(the inputs its forward got, the gradients its backward got): two tuples, oldest first."""
        return tuple(self.seen_inputs), tuple(self.seen_grads)


class ProbeLoss(Loss):
    """A test loss (for testing a network): the sum of weights * (prediction - target), with
    `weights` an array of the prediction's shape; its gradient with respect to the prediction is
    `weights`. It records the predictions and targets it was given."""

    def __init__(self, weights):
        self.weights = _plain(weights)
        self.seen = []

    def _output(self):
        self.seen.append((_plain(self.prediction), _plain(self.target)))
        return float(np.sum(self.weights * (self.prediction - self.target)))

    def _input_grad(self):
        return self.weights.copy()

    def report(self):
        """The (prediction, target) pairs its forward got, oldest first, as a tuple."""
        return tuple(self.seen)


class ProbeNetwork:
    """A test network (for testing an optimizer): it holds copies of `params` and `grads` (lists of
    arrays) and gives them out, as a network does, through the generators `params()` and
    `param_grads()`. `report()` returns copies of its parameters as they are now."""

    def __init__(self, params, grads):
        self._params = [_plain(p) for p in params]
        self._grads = [_plain(g) for g in grads]
        self.layers = []

    def params(self):
        yield from self._params

    def param_grads(self):
        yield from self._grads

    def report(self):
        """Copies of the parameters, in order, as a tuple."""
        return tuple(_plain(p) for p in self._params)
