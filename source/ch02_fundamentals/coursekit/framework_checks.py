"""Chapter 3's visible tests: small cases worked out by hand, numerical gradient checks of one class
at a time, and notebook 2's check of the classes brought from notebook 1.

The hand-worked cases are exact arithmetic written out in their docstrings (the test cells repeat
it). The numerical checks compare a class's backward pass with float64 centred differences of its
own forward pass, or of the kit's probes (framework.py) around it, never with another of your
exercises, so a slip in one class never fails the test of another.

Each case function returns fresh arrays, so a class that changes its inputs cannot spoil the next
check.
"""
import textwrap

import numpy as np

from .checks import numerical_gradient, relative_error
from .framework import ProbeLayer, ProbeLoss, ProbeNetwork, ProbeScale, ProbeSetup, ProbeSquare

TOLERANCE = 1e-6
WIDTH = 100
LN3 = float(np.log(3.0))   # sigma(ln 3) = 3/4, sigma(-ln 3) = 1/4, sigma(2 ln 3) = 9/10


def _fail(text):
    raise AssertionError("\n".join(textwrap.fill(line, WIDTH, break_long_words=False, break_on_hyphens=False)
                                   for line in text.split("\n")))


# ---------------------------------------------------------------- hand-worked cases

def weight_multiply_case():
    """W (3, 2), X (2, 3), output_grad G (2, 2), and what WeightMultiply(W) must give.

    X = [[1, 2, 0], [0, 1, -1]], W = [[1, 0], [2, 1], [0, 3]], G = [[1, -1], [2, 0]]
    output       X W   = [[1 + 4 + 0, 0 + 2 + 0], [0 + 2 + 0, 0 + 1 - 3]] = [[5, 2], [2, -2]]
    input grad   G W^T = [[1 - 0, 2 - 1, 0 - 3], [2, 4, 0]]             = [[1, 1, -3], [2, 4, 0]]
    param_grad   X^T G = [[1, -1], [2 + 2, -2], [0 - 2, 0]]              = [[1, -1], [4, -2], [-2, 0]]
    """
    W = np.array([[1.0, 0.0], [2.0, 1.0], [0.0, 3.0]])
    X = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, -1.0]])
    G = np.array([[1.0, -1.0], [2.0, 0.0]])
    expected = {"output": np.array([[5.0, 2.0], [2.0, -2.0]]),
                "input_grad": np.array([[1.0, 1.0, -3.0], [2.0, 4.0, 0.0]]),
                "param_grad": np.array([[1.0, -1.0], [4.0, -2.0], [-2.0, 0.0]])}
    return W, X, G, expected


def bias_add_case():
    """B (1, 2), X (3, 2), output_grad G (3, 2), and what BiasAdd(B) must give.

    X = [[1, 2], [3, 4], [5, 6]], B = [[10, -10]], G = [[1, 2], [3, 4], [-1, 0]]
    output       X + B (B added to every row) = [[11, -8], [13, -6], [15, -4]]
    input grad   G (adding B does not change how the output moves with X)
    param_grad   B reached all 3 rows, so its gradient adds theirs: [[1 + 3 - 1, 2 + 4 + 0]] = [[3, 6]]
    """
    B = np.array([[10.0, -10.0]])
    X = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    G = np.array([[1.0, 2.0], [3.0, 4.0], [-1.0, 0.0]])
    expected = {"output": np.array([[11.0, -8.0], [13.0, -6.0], [15.0, -4.0]]),
                "input_grad": G.copy(), "param_grad": np.array([[3.0, 6.0]])}
    return B, X, G, expected


def sigmoid_case():
    """X (2, 2), output_grad G (2, 2), and what Sigmoid() must give.

    X = [[0, ln 3], [-ln 3, 2 ln 3]]  ->  output = [[1/2, 3/4], [1/4, 9/10]]
    local slopes output (1 - output) = [[1/4, 3/16], [3/16, 9/100]]
    G = [[4, 16], [-16, 100]]  ->  input grad = slopes * G = [[1, 3], [-3, 9]]
    """
    X = np.array([[0.0, LN3], [-LN3, 2 * LN3]])
    G = np.array([[4.0, 16.0], [-16.0, 100.0]])
    expected = {"output": np.array([[0.5, 0.75], [0.25, 0.9]]), "input_grad": np.array([[1.0, 3.0], [-3.0, 9.0]])}
    return X, G, expected


def linear_case():
    """X (2, 2), output_grad G (2, 2): Linear() gives X back, and G back as the input gradient."""
    X = np.array([[1.0, -2.0], [3.0, 0.5]])
    G = np.array([[2.0, 1.0], [0.0, -1.0]])
    return X, G, {"output": X.copy(), "input_grad": G.copy()}


def layer_case():
    """A layer of three probe operations, ProbeScale(2), ProbeSquare(), ProbeScale(3), on X (2, 2).

    In order: u = 2 x, v = u**2 = 4 x**2, output = 3 v = 12 x**2.
    X = [[1, -2], [0, 1]]  ->  output = [[12, 48], [0, 12]]
    G = [[1, 1], [1, -1]], backwards, last operation first:
      ProbeScale(3):  dL/dv = 3 G;       param_grad = sum(G * v) = 4 + 16 + 0 - 4 = 16
      ProbeSquare:    dL/du = 2 u dL/dv = 12 x G = [[12, -24], [0, -12]]
      ProbeScale(2):  dL/dx = 2 dL/du = [[24, -48], [0, -24]];  param_grad = sum(dL/du * x) = 12 + 48 + 0 - 12 = 48
    params (forward order): [[2]], [[3]];  param_grads (the same order): [[48]], [[16]]
    """
    operations = [ProbeScale(np.array([[2.0]])), ProbeSquare(), ProbeScale(np.array([[3.0]]))]
    X = np.array([[1.0, -2.0], [0.0, 1.0]])
    G = np.array([[1.0, 1.0], [1.0, -1.0]])
    expected = {"output": np.array([[12.0, 48.0], [0.0, 12.0]]),
                "input_grad": np.array([[24.0, -48.0], [0.0, -24.0]]),
                "params": [np.array([[2.0]]), np.array([[3.0]])],
                "param_grads": [np.array([[48.0]]), np.array([[16.0]])]}
    return operations, X, G, expected


def mse_case():
    """Predictions P (3, 1), targets y (3, 1), and what MeanSquaredError() must give.

    P - y = [0, -1, 2]: loss = (0 + 1 + 4) / 3 = 5/3; gradient 2 (P - y) / 3 = [[0], [-2/3], [4/3]].
    """
    P = np.array([[1.0], [2.0], [4.0]])
    y = np.array([[1.0], [3.0], [2.0]])
    return P, y, {"loss": 5.0 / 3.0, "input_grad": np.array([[0.0], [-2.0 / 3.0], [4.0 / 3.0]])}


def network_case():
    """Two probe layers (scales 1 and -1) and a probe loss (weights w) around a network, on X (2, 2).

    A probe layer gives x * scale + x**2 / 2 and passes back output_grad * (scale + x).
    X = [[2, 0], [-1, 1]]  ->  layer 1: h = [[4, 0], [-0.5, 1.5]]  ->  layer 2: P = [[4, 0], [0.625, -0.375]]
    y = [[1, 0], [0, 1]], w = [[1, 1], [2, -1]]: loss = sum(w (P - y)) = 3 + 0 + 1.25 + 1.375 = 5.625
    backward: layer 2 gets dL/dP = w and passes back w (-1 + h) = [[3, -1], [-3, -0.5]] to layer 1.
    """
    layers = [ProbeLayer(np.array([[1.0]])), ProbeLayer(np.array([[-1.0]]))]
    loss = ProbeLoss(np.array([[1.0, 1.0], [2.0, -1.0]]))
    X = np.array([[2.0, 0.0], [-1.0, 1.0]])
    y = np.array([[1.0, 0.0], [0.0, 1.0]])
    expected = {"loss": 5.625, "hidden": np.array([[4.0, 0.0], [-0.5, 1.5]]),
                "prediction": np.array([[4.0, 0.0], [0.625, -0.375]]),
                "grad_to_layer_2": np.array([[1.0, 1.0], [2.0, -1.0]]),
                "grad_to_layer_1": np.array([[3.0, -1.0], [-3.0, -0.5]])}
    return layers, loss, X, y, expected


def sgd_case():
    """A probe network with parameters [[1, 2]] and [[0.5]], gradients [[10, -20]] and [[5]], and the
    learning rate 0.1: one step gives [[1 - 1, 2 + 2]] = [[0, 4]] and [[0.5 - 0.5]] = [[0]]."""
    net = ProbeNetwork([np.array([[1.0, 2.0]]), np.array([[0.5]])], [np.array([[10.0, -20.0]]), np.array([[5.0]])])
    return net, 0.1, [np.array([[0.0, 4.0]]), np.array([[0.0]])]


# ---------------------------------------------------------------- numerical checks

def _pattern(got, want, rows):
    """Which simple relation ties a wrong gradient to the right one, in a sentence, or ''."""
    if got.shape != want.shape or not np.all(np.isfinite(got)):
        return ""
    ratios = {-1.0: "It has the wrong sign.", 2.0: "It is twice the right one.", 0.5: "It is half the right one."}
    if rows and rows > 2:
        ratios[float(rows)] = f"It is {rows} times the right one: the batch has {rows} rows; is a division by n missing?"
        ratios[1.0 / rows] = f"It is the right one divided by {rows}, the number of rows: is there one division too many?"
    for ratio, text in ratios.items():
        if np.allclose(got, ratio * want, rtol=1e-5, atol=1e-8) and not np.allclose(got, want, rtol=1e-5, atol=1e-8):
            return text
    return ""


def agree(analytic, numeric, what, rows=None, tolerance=TOLERANCE):
    """An analytic gradient must match its centred-difference estimate; returns the relative error."""
    if not isinstance(analytic, np.ndarray):
        _fail(f"{what} should be a NumPy array, got {type(analytic).__name__}.")
    if analytic.shape != numeric.shape:
        _fail(f"{what} has shape {analytic.shape}, expected {numeric.shape}.")
    error = relative_error(analytic, numeric)
    if error > tolerance:
        _fail(f"{what} disagrees with the centred-difference gradient (relative error {error:.2e} > "
              f"{tolerance:.0e}).\n{_pattern(analytic, numeric, rows) or 'Recheck each factor of the chain rule.'}\n"
              f"yours:\n{np.array2string(analytic, precision=6)}\n"
              f"centred differences:\n{np.array2string(numeric, precision=6)}")
    return error


def check_operation_numerically(make, X, output_grad, name):
    """Compare an operation's backward pass with centred differences of its own forward pass.

    make() returns a fresh operation (a ParamOperation holding its own copy of its parameter). With
    the scalar s = sum(output_grad * forward(X)), whose gradient with respect to the output is
    output_grad, backward(output_grad) must be ds/dX and, for an operation with a parameter,
    param_grad must be ds/dparam. Returns the largest relative error.
    """
    X = np.array(X, dtype=np.float64)
    G = np.array(output_grad, dtype=np.float64)
    operation = make()
    operation.forward(X.copy())
    input_grad = operation.backward(G.copy())
    param_grad = getattr(operation, "param_grad", None)
    nudged = make()
    X_work = X.copy()
    errors = [agree(input_grad, numerical_gradient(lambda: float(np.sum(G * nudged.forward(X_work))), X_work),
                    f"{name}'s input gradient", rows=len(X))]
    if param_grad is not None:
        errors.append(agree(param_grad, numerical_gradient(lambda: float(np.sum(G * nudged.forward(X))),
                                                           nudged.param), f"{name}'s param_grad", rows=len(X)))
    return max(errors)


def check_loss_numerically(make, prediction, target, name):
    """Compare a loss's backward() with centred differences of its forward(prediction, target)."""
    P = np.array(prediction, dtype=np.float64)
    y = np.array(target, dtype=np.float64)
    loss = make()
    loss.forward(P.copy(), y)
    gradient = loss.backward()
    probe, P_work = make(), P.copy()
    return agree(gradient, numerical_gradient(lambda: float(probe.forward(P_work, y)), P_work),
                 f"the gradient {name}.backward returns", rows=len(P))


def check_layer_numerically(layer, X, output_grad):
    """Compare a set-up layer's backward (its input gradient and its param_grads) with centred
    differences of its own forward, through the scalar sum(output_grad * forward(X)); the layer's
    parameters are nudged where they are, in the layer's params list."""
    X = np.array(X, dtype=np.float64)
    G = np.array(output_grad, dtype=np.float64)
    layer.forward(X.copy())
    input_grad = layer.backward(G.copy())
    param_grads = list(layer.param_grads)
    X_work = X.copy()
    errors = [agree(input_grad, numerical_gradient(lambda: float(np.sum(G * layer.forward(X_work))), X_work),
                    "the layer's input gradient", rows=len(X))]
    if len(param_grads) != len(layer.params):
        _fail(f"the layer has {len(layer.params)} params but {len(param_grads)} param_grads.")
    for i, (param, grad) in enumerate(zip(layer.params, param_grads)):
        errors.append(agree(grad, numerical_gradient(lambda: float(np.sum(G * layer.forward(X))), param),
                            f"param_grads[{i}]", rows=len(X)))
    return max(errors)


def check_network_numerically(net, X, y):
    """After net.train_batch(X, y), each layer's param_grads must match centred differences of the
    network's loss, net.loss.forward(net.forward(X), y), with respect to that layer's params."""
    net.train_batch(X, y)
    errors = []
    for l, layer in enumerate(net.layers):
        grads = list(layer.param_grads)
        for i, (param, grad) in enumerate(zip(layer.params, grads)):
            numeric = numerical_gradient(lambda: float(net.loss.forward(net.forward(X), y)), param)
            errors.append(agree(grad, numeric, f"layer {l}'s param_grads[{i}]", rows=len(X)))
    return max(errors) if errors else 0.0


# ---------------------------------------------------------------- notebook 1's classes, in notebook 2

PART_ONE = ("WeightMultiply", "BiasAdd", "Sigmoid", "Linear", "Layer", "MeanSquaredError")


def _close(got, want):
    return isinstance(got, np.ndarray) and got.shape == np.shape(want) and np.allclose(got, want)


def _try_operation(cls, param, X, G, expected):
    op = cls(param) if param is not None else cls()
    if not _close(op.forward(X), expected["output"]):
        return "its forward pass does not give notebook 1's hand-worked output"
    if not _close(op.backward(G), expected["input_grad"]):
        return "its input gradient is not notebook 1's hand-worked one"
    if "param_grad" in expected and not _close(getattr(op, "param_grad", None), expected["param_grad"]):
        return "its param_grad is not notebook 1's hand-worked one"
    return None


def _try_part_one(name, cls):
    """None if `cls` gives notebook 1's hand-worked answers, else what is wrong, in a sentence."""
    try:
        if name == "WeightMultiply":
            W, X, G, expected = weight_multiply_case()
            return _try_operation(cls, W, X, G, expected)
        if name == "BiasAdd":
            B, X, G, expected = bias_add_case()
            return _try_operation(cls, B, X, G, expected)
        if name == "Sigmoid":
            X, G, expected = sigmoid_case()
            return _try_operation(cls, None, X, G, expected)
        if name == "Linear":
            X, G, expected = linear_case()
            return _try_operation(cls, None, X, G, expected)
        if name == "Layer":
            operations, X, G, expected = layer_case()
            layer = type("LayerWithProbes", (ProbeSetup, cls), {})(2)
            layer.probe_operations = operations
            ok = _close(layer.forward(X), expected["output"]) and _close(layer.backward(G), expected["input_grad"])
            ok = ok and len(layer.param_grads) == 2 and all(
                _close(g, w) for g, w in zip(layer.param_grads, expected["param_grads"]))
            return None if ok else "it does not give notebook 1's hand-worked layer of probes"
        P, y, expected = mse_case()
        loss = cls()
        ok = np.isclose(float(loss.forward(P, y)), expected["loss"]) and _close(loss.backward(), expected["input_grad"])
        return None if ok else "it does not give notebook 1's hand-worked loss and gradient"
    except NotImplementedError:
        return "it is still the stub (it raises NotImplementedError): copy in what you wrote in notebook 1"
    except Exception as error:   # report, never stop the notebook
        return f"it raised {type(error).__name__}: {error}"


def report_part_one(namespace):
    """Print whether notebook 1's classes in `namespace` (pass globals()) give notebook 1's
    hand-worked answers. Never raises; returns the names that are missing or wrong.

    The exercises of notebook 2 do not need these classes (their tests use probes); the training
    from section 4 on does.
    """
    problems = {}
    for name in PART_ONE:
        cls = namespace.get(name)
        if not isinstance(cls, type):
            problems[name] = "it is not defined as a class: run the cell above (or paste your class into it)"
        else:
            why = _try_part_one(name, cls)
            if why:
                problems[name] = why
    if not problems:
        print("Your notebook-1 classes give notebook 1's hand-worked answers: ready to build and train networks.")
        return []
    for name, why in problems.items():
        print(f"{name}: {why}.")
    print("Until these work, sections 1 and 2 (the exercises) run as usual, but the training from section 4 on "
          "will stop with an error.")
    return list(problems)
