"""Drawing helpers for the chapter 2 notebooks, so that a notebook reads like a chapter.

Every function draws one figure (or one table of text) and returns what it drew; none
calls `plt.show()`, so the notebook decides when a figure appears. Nothing here computes
a graded answer: the helpers take predictions, residuals or weights that the notebook
computed with the student's own functions.

    from coursekit import plots
    plots.linear_regression_graph("forward"); plt.show()
    plots.predicted_vs_actual({"our model": preds}, y_test); plt.show()
    print(plots.residual_table(X_test[:, top], {"ours": y_test - preds}, "LSTAT"))

Conventions, the same in both notebooks: predicted values on the x axis and actual values
on the y axis (as in Weidman 2019, ch. 2); residual = actual - predicted, so a positive
residual means the model predicted too low; the batch size is n.
"""
from typing import NamedTuple

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

FORWARD = "#24588a"     # arrows of the forward pass
BACKWARD = "#b0302a"    # arrows of the backward pass
DATA_ONLY = "#9a9a9a"   # inputs that need no gradient (X, y)
OP_FILL, OP_EDGE = "#fde6c4", "#b35c00"
DATA_FILL, DATA_EDGE = "#dbe8f5", "#24588a"
MODEL_COLOURS = ("#24588a", "#d17a22", "#3a923a", "#8c4fa0")


# ---------------------------------------------------------------- computational graphs

class Node(NamedTuple):
    """One node of a computational graph: an array ("data", a rounded box) or a function ("op", a circle)."""
    x: float
    y: float
    kind: str            # "data" or "op"
    label: str           # may use $LaTeX$
    note: str = ""       # small grey text beside the node, e.g. its shape


class Edge(NamedTuple):
    """An arrow from node `start` to node `end`, optionally labelled.

    The label sits beside the arrow's middle: at `offset` (dx, dy) from it if given, otherwise
    above a horizontal arrow or right of a vertical one.
    """
    start: str
    end: str
    label: str = ""
    colour: str = FORWARD
    style: str = "-"
    offset: tuple | None = None


RADIUS, HALF_W, HALF_H = 0.36, 0.40, 0.28


def _outline(node, unit):
    """Distance from a node's centre to its outline along the unit vector `unit`, plus a small gap."""
    if node.kind == "op":
        return RADIUS + 0.04
    dx, dy = abs(unit[0]) + 1e-12, abs(unit[1]) + 1e-12
    return min(HALF_W / dx, HALF_H / dy) + 0.04


def draw_graph(nodes, edges, title="", ax=None, size=(13, 3.8), label_offset=0.3, fontsize=17,
               label_fontsize=14):
    """Draw a small computational graph; returns (fig, ax).

    nodes: {key: Node}; edges: [Edge]. Arrays are drawn as blue boxes, functions as orange
    circles, each edge as an arrow between the two outlines.
    """
    if ax is None:
        fig, ax = plt.subplots(figsize=size)
    else:
        fig = ax.figure
    for node in nodes.values():
        if node.kind == "op":
            ax.add_patch(Circle((node.x, node.y), RADIUS, facecolor=OP_FILL, edgecolor=OP_EDGE, lw=2))
        elif node.kind == "data":
            ax.add_patch(FancyBboxPatch((node.x - HALF_W, node.y - HALF_H), 2 * HALF_W, 2 * HALF_H,
                                        boxstyle="round,pad=0,rounding_size=0.08",
                                        facecolor=DATA_FILL, edgecolor=DATA_EDGE, lw=2))
        else:
            raise ValueError(f"node kind must be 'op' or 'data', not {node.kind!r}")
        ax.text(node.x, node.y, node.label, ha="center", va="center", fontsize=fontsize)
        if node.note:   # under the node, or over it for a node above the main line
            above = node.y > 0
            ax.text(node.x, node.y + (1 if above else -1) * (HALF_H + 0.08), node.note, ha="center",
                    va="bottom" if above else "top", fontsize=10, color="#555555")

    for edge in edges:
        a, b = nodes[edge.start], nodes[edge.end]
        vector = np.array([b.x - a.x, b.y - a.y], dtype=float)
        unit = vector / np.linalg.norm(vector)
        tail = np.array([a.x, a.y]) + unit * _outline(a, unit)
        head = np.array([b.x, b.y]) - unit * _outline(b, unit)
        ax.add_patch(FancyArrowPatch(tuple(tail), tuple(head), arrowstyle="-|>", mutation_scale=20,
                                     color=edge.colour, lw=2, linestyle=edge.style))
        if not edge.label:
            continue
        middle = (tail + head) / 2
        if edge.offset is not None:
            spot, align = middle + np.asarray(edge.offset, dtype=float), "center"
        else:
            normal = np.array([-unit[1], unit[0]])
            if normal[1] < 0 or (normal[1] == 0 and normal[0] < 0):
                normal = -normal                       # above a horizontal arrow, right of a vertical one
            if abs(normal[0]) > abs(normal[1]):
                spot, align = middle + 0.15 * normal, "left"
            else:
                spot, align = middle + label_offset * normal, "center"
        ax.text(spot[0], spot[1], edge.label, ha=align, va="center", fontsize=label_fontsize,
                color=edge.colour)

    xs = [node.x for node in nodes.values()]
    ys = [node.y for node in nodes.values()]
    ax.set_xlim(min(xs) - 0.8, max(xs) + 0.8)
    ax.set_ylim(min(ys) - 0.7, max(ys) + 0.7)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=14)
    return fig, ax


# Linear regression, part 1: N = nu(X, W) = XW, P = alpha(N, B) = N + B, L = Lambda(P, y) = sum (y - P)^2,
# and the reported MSE = L / n beside the chain.
LINEAR_NODES = {
    "X": Node(0.0, 1.0, "data", "$X$"),
    "W": Node(0.0, -1.0, "data", "$W$"),
    "nu": Node(2.0, 0.0, "op", r"$\nu$"),
    "N": Node(4.0, 0.0, "data", "$N$"),
    "alpha": Node(6.0, 0.0, "op", r"$\alpha$"),
    "B": Node(6.0, -1.6, "data", "$B$"),
    "P": Node(8.0, 0.0, "data", "$P$"),
    "Lambda": Node(10.0, 0.0, "op", r"$\Lambda$"),
    "y": Node(10.0, -1.6, "data", "$y$"),
    "L": Node(12.0, 0.0, "data", "$L$"),
    "MSE": Node(12.0, -1.6, "data", "MSE"),
}


def linear_regression_graph(direction="forward", ax=None):
    """Part 1's graph. "forward": data flowing to the loss L (the sum of squared errors), with the
    reported MSE = L / n beside it; "backward": the same graph, arrows reversed, each labelled
    with its local partial derivative. Returns (fig, ax)."""
    if direction == "forward":
        edges = [
            Edge("X", "nu"), Edge("W", "nu"), Edge("nu", "N", "$XW$"), Edge("N", "alpha"), Edge("B", "alpha"),
            Edge("alpha", "P", "$N+B$"), Edge("P", "Lambda"), Edge("y", "Lambda"),
            Edge("Lambda", "L", r"$\sum_i (y_i-P_i)^2$", offset=(0.0, 0.5)),
            Edge("L", "MSE", r"$\div\, n$", DATA_ONLY, "--"),
        ]
        title = "Forward pass: from a batch X to the loss L (the MSE = L / n is only reported)"
        return draw_graph(LINEAR_NODES, edges, title, ax=ax, size=(13, 4.0))
    if direction != "backward":
        raise ValueError(f"direction must be 'forward' or 'backward', not {direction!r}")
    nodes = {key: node for key, node in LINEAR_NODES.items() if key != "MSE"}
    edges = [
        Edge("L", "Lambda", "", BACKWARD),
        Edge("Lambda", "P", r"$\dfrac{\partial\Lambda}{\partial P} = -2(y-P)$", BACKWARD),
        Edge("P", "alpha", "", BACKWARD),
        Edge("alpha", "N", r"$\dfrac{\partial\alpha}{\partial N} = \mathbf{1}$", BACKWARD),
        Edge("alpha", "B", r"$\dfrac{\partial\alpha}{\partial B} = 1$", BACKWARD),
        Edge("N", "nu", "", BACKWARD),
        Edge("nu", "W", r"$\dfrac{\partial\nu}{\partial W} = X^{\top}$", BACKWARD),
        Edge("X", "nu", "", DATA_ONLY, "--"),
        Edge("y", "Lambda", "", DATA_ONLY, "--"),
    ]
    return draw_graph(nodes, edges, "Backward pass: from the loss L back to W and B", ax=ax,
                      size=(13, 4.4), label_offset=0.6)


def _network_nodes(n="n", step=1.5):
    """The one-hidden-layer network's graph, left to right, weights above their operations."""
    x = lambda i: i * step
    return {
        "X": Node(x(0), 0, "data", "$X$", f"{n}×k"),
        "mul1": Node(x(1), 0, "op", r"$\times$"),
        "W1": Node(x(1), 1.5, "data", "$W_1$", "k×h"),
        "M1": Node(x(2), 0, "data", "$M_1$", f"{n}×h"),
        "add1": Node(x(3), 0, "op", "$+$"),
        "B1": Node(x(3), 1.5, "data", "$B_1$", "1×h"),
        "N1": Node(x(4), 0, "data", "$N_1$", f"{n}×h"),
        "sig": Node(x(5), 0, "op", r"$\sigma$"),
        "O1": Node(x(6), 0, "data", "$O_1$", f"{n}×h"),
        "mul2": Node(x(7), 0, "op", r"$\times$"),
        "W2": Node(x(7), 1.5, "data", "$W_2$", "h×1"),
        "M2": Node(x(8), 0, "data", "$M_2$", f"{n}×1"),
        "add2": Node(x(9), 0, "op", "$+$"),
        "B2": Node(x(9), 1.5, "data", "$B_2$", "1×1"),
        "P": Node(x(10), 0, "data", "$P$", f"{n}×1"),
        "loss": Node(x(11), 0, "op", r"$\Lambda$"),
        "y": Node(x(11), -1.5, "data", "$y$", f"{n}×1"),
        "L": Node(x(12), 0, "data", "$L$", r"$\sum_i (y_i - P_i)^2$"),
    }


NETWORK_FORWARD = [("X", "mul1"), ("W1", "mul1"), ("mul1", "M1"), ("M1", "add1"), ("B1", "add1"),
                   ("add1", "N1"), ("N1", "sig"), ("sig", "O1"), ("O1", "mul2"), ("W2", "mul2"),
                   ("mul2", "M2"), ("M2", "add2"), ("B2", "add2"), ("add2", "P"), ("P", "loss"),
                   ("y", "loss"), ("loss", "L")]

# Backward: what the incoming gradient is multiplied by on each arrow. "·" marks where the incoming
# gradient stands: X^T· means X^T on the left, ·W2^T means W2^T on the right; ⊙ is entry by entry.
NETWORK_BACKWARD = [
    ("L", "loss", ""),
    ("loss", "P", r"$-2(y-P)$"),
    ("P", "add2", ""),
    ("add2", "B2", r"$\sum$ over rows"),
    ("add2", "M2", r"$\odot\,\mathbf{1}$"),
    ("M2", "mul2", ""),
    ("mul2", "W2", r"$O_1^{\top}\cdot$"),
    ("mul2", "O1", r"$\cdot\,W_2^{\top}$"),
    ("O1", "sig", ""),
    ("sig", "N1", r"$\odot\,\sigma'(N_1)$"),
    ("N1", "add1", ""),
    ("add1", "B1", r"$\sum$ over rows"),
    ("add1", "M1", r"$\odot\,\mathbf{1}$"),
    ("M1", "mul1", ""),
    ("mul1", "W1", r"$X^{\top}\cdot$"),
]


def network_graph(direction="forward", ax=None):
    """Part 2's graph, shapes under each array (n rows, k inputs, h hidden units). "backward" reverses
    the arrows and labels each with the local derivative the gradient is multiplied by. Returns (fig, ax)."""
    nodes = _network_nodes()
    if direction == "forward":
        edges = [Edge(a, b) for a, b in NETWORK_FORWARD]
        title = "Forward pass: every operation and every array"
    elif direction == "backward":
        edges = []
        for a, b, label in NETWORK_BACKWARD:
            vertical = nodes[a].x == nodes[b].x
            edges.append(Edge(a, b, label, BACKWARD, offset=None if vertical else (0.0, 0.42)))
        edges += [Edge("X", "mul1", "", DATA_ONLY, "--"), Edge("y", "loss", "", DATA_ONLY, "--")]
        title = "Backward pass: from L back to the four weight arrays"
    else:
        raise ValueError(f"direction must be 'forward' or 'backward', not {direction!r}")
    return draw_graph(nodes, edges, title, ax=ax, size=(17, 4.6), fontsize=15, label_fontsize=12)


def draw_network(layer_sizes, layer_names, ax=None):
    """The usual circles-and-lines picture: one circle per unit, one line per weight. Returns (fig, ax)."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(4, 4.6))
    else:
        fig = ax.figure
    positions = []
    for i, size in enumerate(layer_sizes):
        ys = np.linspace(-1, 1, size) if size > 1 else np.zeros(1)
        positions.append([(float(i), float(y)) for y in ys])
    for left, right in zip(positions, positions[1:]):
        for a in left:
            for b in right:
                ax.plot([a[0], b[0]], [a[1], b[1]], color="#999999", lw=0.4, zorder=1)
    for i, layer in enumerate(positions):
        for x, y in layer:
            ax.add_patch(Circle((x, y), 0.055, facecolor="white", edgecolor=DATA_EDGE, lw=1.2, zorder=2))
        ax.text(i, -1.2, layer_names[i], ha="center", va="top", fontsize=10)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_xlim(-0.4, len(layer_sizes) - 0.6)
    ax.set_ylim(-1.55, 1.15)
    return fig, ax


# ---------------------------------------------------------------- data and training

def target_histogram(y, ax=None, bins=30):
    """Histogram of the targets (a column or a flat array), with their mean. Returns (fig, ax)."""
    y = np.asarray(y, dtype=float).ravel()
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 3.2))
    else:
        fig = ax.figure
    ax.hist(y, bins=bins, color=FORWARD, edgecolor="white")
    ax.axvline(y.mean(), color="black", linestyle="--", label=f"mean {y.mean():.1f}")
    ax.set_xlabel("median home value, MEDV ($1000s)")
    ax.set_ylabel("tracts")
    ax.set_title("The target: note the pile-up at the 50.0 cap")
    ax.legend()
    return fig, ax


def running_mean(values, window):
    """Mean of each `window` consecutive values (len(values) - window + 1 of them)."""
    values = np.asarray(values, dtype=float)
    if not 1 <= window <= len(values):
        raise ValueError(f"window must be between 1 and {len(values)}, got {window}")
    return np.convolve(values, np.ones(window) / window, mode="valid")


def loss_curve(losses, window, ax=None, title="Training", label="MSE of each batch"):
    """Per-batch losses and their running mean over `window` batches, on a log scale. Returns (fig, ax)."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 3.8))
    else:
        fig = ax.figure
    ax.plot(losses, color="#9fbfdf", lw=0.8, label=label)
    ax.plot(np.arange(window - 1, len(losses)), running_mean(losses, window), color=FORWARD, lw=2,
            label=f"running mean over {window} batches")
    ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel("mean squared error (log scale)")
    ax.set_title(title)
    ax.legend()
    return fig, ax


# ---------------------------------------------------------------- comparing models

def predicted_vs_actual(predictions, actuals, limits=(-7, 55)):
    """One panel per model: predicted value (x) against actual value (y), with the 45° line.

    predictions: {model name: (n, 1) or (n,) predictions}; actuals: the matching targets.
    Panels share their axes, so the models compare at a glance. Returns (fig, axes).
    """
    actuals = np.asarray(actuals, dtype=float).ravel()
    fig, axes = plt.subplots(1, len(predictions), figsize=(5.2 * len(predictions), 5.0),
                             sharex=True, sharey=True, squeeze=False)
    axes = axes[0]
    for ax, (name, preds), colour in zip(axes, predictions.items(), MODEL_COLOURS):
        preds = np.asarray(preds, dtype=float).ravel()
        if preds.shape != actuals.shape:
            raise ValueError(f"{name}: {preds.shape[0]} predictions for {actuals.shape[0]} targets")
        ax.scatter(preds, actuals, s=16, alpha=0.7, color=colour)
        ax.plot(limits, limits, color="#555555", lw=1, ls="--", label="perfect prediction (45° line)")
        ax.axvline(0, color="grey", lw=0.6, ls=":")
        ax.set_xlim(*limits)
        ax.set_ylim(*limits)
        ax.set_aspect("equal")
        ax.set_xlabel("predicted value ($1000s)")
        ax.set_title(name)
        ax.legend(loc="upper left", fontsize=9)
    axes[0].set_ylabel("actual value ($1000s)")
    fig.tight_layout()
    return fig, axes


def feature_sweep(feature, targets, sweep, curves, feature_name, held="the others at their mean",
                  points_label="test tracts", ax=None):
    """Data (feature, target) as grey points and each model's predictions along `sweep`.

    curves: {model name: predictions for the rows of the sweep} (may be empty, then `sweep` is
    unused and only the data are drawn). Returns (fig, ax).
    """
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.5, 4.5))
    else:
        fig = ax.figure
    ax.scatter(np.ravel(feature), np.ravel(targets), s=14, alpha=0.45, color="grey", label=points_label)
    for (name, values), colour in zip(curves.items(), MODEL_COLOURS):
        ax.plot(np.ravel(sweep), np.ravel(values), lw=2.5, color=colour, label=name)
    ax.set_xlabel(f"{feature_name} (standardised)" + (f"; {held}" if curves and held else ""))
    ax.set_ylabel("value ($1000s)")
    ax.set_title(f"Predicted value as {feature_name} varies" if curves else f"Value against {feature_name}")
    ax.legend()
    return fig, ax


class Bin(NamedTuple):
    low: float          # smallest feature value in the bin
    high: float         # largest feature value in the bin
    count: int
    means: dict         # model name -> mean residual in the bin
    errors: dict        # model name -> standard error of that mean


def binned_residuals(feature, residuals, bins=5):
    """Sort the rows by `feature`, cut them into `bins` groups of (nearly) equal size, and give, per group,
    each model's mean residual and its standard error (sample standard deviation / sqrt(count)).

    residuals: {model name: actual - predicted, one per row}. Returns a list of Bin.
    """
    feature = np.asarray(feature, dtype=float).ravel()
    residuals = {name: np.asarray(values, dtype=float).ravel() for name, values in residuals.items()}
    for name, values in residuals.items():
        if values.shape != feature.shape:
            raise ValueError(f"{name}: {values.size} residuals for {feature.size} feature values")
    if not 1 <= bins <= feature.size // 2:
        raise ValueError(f"bins must be between 1 and {feature.size // 2}, got {bins}")
    groups = np.array_split(np.argsort(feature, kind="stable"), bins)
    return [Bin(float(feature[g].min()), float(feature[g].max()), len(g),
                {name: float(values[g].mean()) for name, values in residuals.items()},
                {name: float(values[g].std(ddof=1) / np.sqrt(len(g))) for name, values in residuals.items()})
            for g in groups]


def residual_table(feature, residuals, feature_name, bins=5):
    """binned_residuals as a printable table: one row per bin, 'mean ± standard error' per model."""
    rows = binned_residuals(feature, residuals, bins)
    names = list(residuals)
    width = max(16, *(len(name) + 2 for name in names))
    head = f"{feature_name + ' from':>15} {'to':>6} {'tracts':>7}" + "".join(f"{name:>{width}}" for name in names)
    lines = [head, "-" * len(head)]
    for row in rows:
        cells = "".join(f"{f'{row.means[n]:+.2f} ± {row.errors[n]:.2f}':>{width}}" for n in names)
        lines.append(f"{row.low:>15.2f} {row.high:>6.2f} {row.count:>7d}{cells}")
    return "\n".join(lines)


# ---------------------------------------------------------------- inside the network

def sigmoid_and_slope(ax=None, limit=6.0):
    """The logistic function and its derivative on [-limit, limit] (SciPy's expit). Returns (fig, ax)."""
    from scipy.special import expit

    z = np.linspace(-limit, limit, 241)
    s = expit(z)
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 4))
    else:
        fig = ax.figure
    ax.plot(z, s, color=FORWARD, lw=2, label=r"$\sigma(x)$")
    ax.plot(z, s * (1 - s), color=BACKWARD, lw=2, label=r"$\sigma'(x) = \sigma(x)\,(1 - \sigma(x))$")
    ax.axhline(0, color="grey", lw=0.5)
    ax.axvline(0, color="grey", lw=0.5)
    ax.set_xlabel("x")
    ax.legend(loc="center right")
    ax.set_title("The sigmoid and its derivative")
    return fig, ax


def hidden_unit_recipes(W1, W2, feature_names, units):
    """For each hidden unit in `units`, a bar chart of its column of W1 (the weights from every input
    into it), titled with its outgoing weight W2. Returns (fig, axes)."""
    W1, W2 = np.asarray(W1, dtype=float), np.asarray(W2, dtype=float).ravel()
    fig, axes = plt.subplots(1, len(units), figsize=(4.7 * len(units), 4.8), sharey=True, squeeze=False)
    axes = axes[0]
    positions = np.arange(len(feature_names))
    for ax, j in zip(axes, units):
        recipe = W1[:, j]
        ax.barh(positions, recipe, color=np.where(recipe >= 0, "#2a7fbf", "#d1495b"))
        ax.axvline(0, color="black", lw=0.7)
        ax.set_title(f"hidden unit {j} ($W_2$ = {W2[j]:+.2f})")
        ax.set_xlabel("weight in its column of $W_1$")
    axes[0].set_yticks(positions)
    axes[0].set_yticklabels(feature_names)
    axes[0].invert_yaxis()
    fig.suptitle("The input recipes of the hidden units the prediction leans on most")
    fig.tight_layout()
    return fig, axes
