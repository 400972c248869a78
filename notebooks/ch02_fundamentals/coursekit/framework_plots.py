"""Drawing helpers for the Chapter 3 notebooks: the framework's pieces as pictures, training curves,
and the plain-text tables the notebooks print.

Every function draws one figure (or returns one table as a string); none calls `plt.show()`. Nothing
here computes a graded answer: the helpers take losses, weights and errors that a notebook computed
with the student's own classes. The graphs use the conventions of Chapter 2's pictures (plots.py):
arrays are blue boxes, operations orange circles, the forward pass blue, the backward pass red.

    from coursekit import framework_plots as fplots
    fplots.operation_diagram(); plt.show()
    fplots.validation_curves({"two hidden layers": trainer.history}); plt.show()
    print(fplots.text_table(["model", "MAE"], [["linear", 3.52]]))
"""
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from .plots import BACKWARD, DATA_EDGE, FORWARD, MODEL_COLOURS, Edge, Node, draw_graph

# ---------------------------------------------------------------- the framework's pieces

OPERATION_NODES = {   # one operation with a parameter, forward on the top row, backward below
    "X": Node(0.0, 1.4, "data", "input_"),
    "op": Node(3.5, 1.4, "op", "op"),
    "W": Node(3.5, 3.0, "data", "param"),
    "Y": Node(7.0, 1.4, "data", "output"),
    "dY": Node(7.0, -0.4, "data", "output\ngrad"),
    "back": Node(3.5, -0.4, "op", "op"),
    "dX": Node(0.0, -0.4, "data", "input\ngrad"),
    "dW": Node(3.5, -2.0, "data", "param\ngrad"),
}
OPERATION_EDGES = [
    Edge("X", "op", "forward(input_)"), Edge("W", "op"), Edge("op", "Y", "self._output()"),
    Edge("dY", "back", "backward(output_grad)", BACKWARD), Edge("back", "dX", "self._input_grad(...)", BACKWARD),
    Edge("back", "dW", "self._param_grad(...)", BACKWARD, offset=(1.25, 0.0)),
]


def operation_diagram(ax=None):
    """One operation with a parameter: forward (top, blue) and backward (bottom, red). Returns (fig, ax)."""
    fig, ax = draw_graph(OPERATION_NODES, OPERATION_EDGES, ax=ax, size=(10, 6.2), fontsize=11, label_fontsize=10)
    ax.text(-0.75, 2.4, "forward pass", color=FORWARD, fontsize=12, ha="left")
    ax.text(-0.75, -1.6, "backward pass", color=BACKWARD, fontsize=12, ha="left")
    return fig, ax


def _dense_nodes(activation):
    return {
        "X": Node(0.0, 0.0, "data", "$X$", "(n, k)"),
        "mul": Node(2.0, 0.0, "op", r"$\times$"),
        "W": Node(2.0, 1.5, "data", "$W$", "(k, m)"),
        "N": Node(4.0, 0.0, "data", "$N$", "(n, m)"),
        "add": Node(6.0, 0.0, "op", "$+$"),
        "B": Node(6.0, 1.5, "data", "$B$", "(1, m)"),
        "P": Node(8.0, 0.0, "data", "$M$", "(n, m)"),
        "act": Node(10.0, 0.0, "op", activation),
        "O": Node(12.0, 0.0, "data", "$O$", "(n, m)"),
    }


def dense_layer_diagram(direction="forward", activation=r"$\sigma$", ax=None):
    """A Dense layer as its three operations, WeightMultiply, BiasAdd and the activation, with the
    shapes for a batch of n rows, k inputs and m neurons. direction: "forward" or "backward" (the
    same chain, every arrow reversed, labelled with the gradient it carries). Returns (fig, ax)."""
    if direction not in ("forward", "backward"):
        raise ValueError(f"direction must be 'forward' or 'backward', not {direction!r}")
    nodes = _dense_nodes(activation)
    if direction == "forward":
        edges = [Edge("X", "mul", "WeightMultiply"), Edge("W", "mul"), Edge("mul", "N"),
                 Edge("N", "add", "BiasAdd"), Edge("B", "add"), Edge("add", "P"),
                 Edge("P", "act", "activation"), Edge("act", "O")]
    else:
        edges = [Edge("O", "act", r"$\partial L/\partial O$", BACKWARD), Edge("act", "P", "", BACKWARD),
                 Edge("P", "add", r"$\partial L/\partial M$", BACKWARD), Edge("add", "B", "", BACKWARD),
                 Edge("add", "N", "", BACKWARD), Edge("N", "mul", r"$\partial L/\partial N$", BACKWARD),
                 Edge("mul", "W", "", BACKWARD), Edge("mul", "X", "", BACKWARD)]
    title = ("Dense: three operations, forward in order" if direction == "forward"
             else "Dense, backward: the same operations in reverse order")
    return draw_graph(nodes, edges, title=title, ax=ax, size=(13, 3.6), fontsize=15, label_fontsize=11)


def network_diagram(layer_labels, loss_label="MeanSquaredError", ax=None):
    """A network as the book builds it: its layers in a row, then the loss; forward arrows above,
    backward arrows below. layer_labels: one string per layer, e.g. "Dense(13, Sigmoid)". Returns (fig, ax)."""
    labels = ["X"] + list(layer_labels) + [loss_label]
    if ax is None:
        fig, ax = plt.subplots(figsize=(2.6 * len(labels), 2.4))
    else:
        fig = ax.figure
    width, gap = 2.0, 0.6
    for i, label in enumerate(labels):
        x = i * (width + gap)
        colour = "#dbe8f5" if 0 < i < len(labels) - 1 else ("#f2f2f2" if i == 0 else "#fde6c4")
        ax.add_patch(FancyBboxPatch((x, 0), width, 1, boxstyle="round,pad=0,rounding_size=0.1",
                                    facecolor=colour, edgecolor=DATA_EDGE, lw=1.5))
        ax.text(x + width / 2, 0.5, label, ha="center", va="center", fontsize=10)
        if i:
            ax.add_patch(FancyArrowPatch((x - gap, 0.75), (x, 0.75), arrowstyle="-|>", mutation_scale=14,
                                         color=FORWARD, lw=1.8))
            ax.add_patch(FancyArrowPatch((x, 0.25), (x - gap, 0.25), arrowstyle="-|>", mutation_scale=14,
                                         color=BACKWARD, lw=1.8))
    total = len(labels) * (width + gap) - gap
    ax.text(0, 1.25, "forward: each layer's output is the next one's input", color=FORWARD, fontsize=10)
    ax.text(0, -0.35, "backward: each layer gets the gradient of its output from the one after it",
            color=BACKWARD, fontsize=10, va="top")
    ax.set_xlim(-0.2, total + 0.2)
    ax.set_ylim(-0.7, 1.6)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig, ax


# ---------------------------------------------------------------- training and results

def validation_curves(histories, ax=None, title="Validation loss at each evaluation", marks=None):
    """One line per model: its validation loss at each evaluation.

    histories: {model name: [(epoch, loss), ...]}; marks: optional {model name: (epoch, label)}
    to annotate one evaluation per model (e.g. where training stopped). Returns (fig, ax)."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 4))
    else:
        fig = ax.figure
    for (name, history), colour in zip(histories.items(), MODEL_COLOURS * 3):
        epochs, losses = zip(*history) if history else ((), ())
        ax.plot(epochs, losses, marker="o", color=colour, lw=2, label=name)
        if marks and name in marks:
            epoch, label = marks[name]
            loss = dict(history)[epoch]
            ax.annotate(label, (epoch, loss), xytext=(8, 12), textcoords="offset points", fontsize=9, color=colour,
                        arrowprops={"arrowstyle": "-", "color": colour})
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation loss (MSE)")
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    return fig, ax


def weight_pictures(arrays, titles, suptitle=""):
    """Weight matrices side by side as heat maps on one colour scale (the same colour is the same
    number in every panel). Returns (fig, axes)."""
    if len(arrays) != len(titles):
        raise ValueError(f"{len(arrays)} arrays but {len(titles)} titles")
    arrays = [np.asarray(a, dtype=float) for a in arrays]
    limit = max(float(np.max(np.abs(a))) for a in arrays) or 1.0
    fig, axes = plt.subplots(1, len(arrays), figsize=(3.6 * len(arrays), 3.4), squeeze=False)
    axes = axes[0]
    for ax, array, title in zip(axes, arrays, titles):
        image = ax.imshow(array, cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("neuron")
    axes[0].set_ylabel("input")
    fig.colorbar(image, ax=list(axes), shrink=0.8)
    if suptitle:
        fig.suptitle(suptitle)
    return fig, axes


def spread_plot(samples, marks=None, xlabel="test RMSE", title=""):
    """One row of dots per label: a figure for each seed, say; marks: {label: (value, text)} draws a
    larger marker for one value of that row (the book's seed, for instance). Returns (fig, ax)."""
    fig, ax = plt.subplots(figsize=(8, 1.0 + 0.7 * len(samples)))
    for row, ((label, values), colour) in enumerate(zip(samples.items(), MODEL_COLOURS * 3)):
        values = np.asarray(values, dtype=float)
        ax.scatter(values, np.full(values.shape, row), color=colour, alpha=0.7, s=36)
        ax.plot([np.median(values)] * 2, [row - 0.25, row + 0.25], color=colour, lw=2)
        if marks and label in marks:
            value, text = marks[label]
            ax.scatter([value], [row], marker="D", s=90, facecolor="none", edgecolor="black", lw=1.5)
            ax.annotate(text, (value, row), xytext=(0, 12), textcoords="offset points", ha="center", fontsize=9)
    ax.set_yticks(range(len(samples)))
    ax.set_yticklabels(list(samples))
    ax.set_ylim(-0.7, len(samples) - 0.3)
    ax.set_xlabel(xlabel + " (a bar marks each row's median)")
    if title:
        ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig, ax


def text_table(headers, rows, decimals=3):
    """A plain-text table: a column per header, floats with `decimals` decimals, numbers right-aligned."""
    def cell(value):
        if isinstance(value, (float, np.floating)):
            return f"{value:.{decimals}f}"
        return "" if value is None else str(value)
    cells = [[cell(v) for v in row] for row in rows]
    if any(len(row) != len(headers) for row in cells):
        raise ValueError("every row needs one value per header")
    widths = [max(len(str(h)), *(len(row[i]) for row in cells)) for i, h in enumerate(headers)]
    numeric = [all(isinstance(row[i], (int, float, np.number)) or row[i] is None for row in rows)
               for i in range(len(headers))]
    def line(values):
        return "  ".join(v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)).rstrip()
    return "\n".join([line([str(h) for h in headers]), line(["-" * w for w in widths])] + [line(r) for r in cells])


def function_and_slope(x, values, slopes, name, ax=None):
    """A function of one variable and its slope, side by side on one axis: `values` and `slopes` as an
    operation's forward and backward (with output_grad 1) computed them at the points `x`. Returns (fig, ax)."""
    x, values, slopes = (np.asarray(a, dtype=float).ravel() for a in (x, values, slopes))
    if not x.shape == values.shape == slopes.shape:
        raise ValueError(f"x, values and slopes must have the same size, got {x.size}, {values.size}, {slopes.size}")
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.5, 3.4))
    else:
        fig = ax.figure
    ax.plot(x, values, color=FORWARD, lw=2, label=f"{name}: forward")
    ax.plot(x, slopes, color=BACKWARD, lw=2, ls="--", label=f"{name}: backward with output_grad = 1 (the slope)")
    ax.axhline(0, color="grey", lw=0.6)
    ax.set_xlabel("input")
    ax.legend(loc="upper left", fontsize=9)
    ax.grid(alpha=0.3)
    return fig, ax
