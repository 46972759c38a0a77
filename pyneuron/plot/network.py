"""The network itself: a diagram of its neurons and weights, and histograms of the
weights and gradients per layer."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from ._figure import NEGATIVE, POSITIVE, PathLike, finish, new_figure
from ._models import classifier_view, network_of

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Horizontal room per layer column, in inches: enough for a caption such as "hidden 12".
COLUMN_WIDTH = 1.35


def plot_weight_histograms(model: object, X: ArrayLike | None = None, y: ArrayLike | None = None,
                           path: PathLike | None = None, bins: int = 30) -> Figure:
    """One column per layer: a histogram of its weights and, when ``X, y`` are
    given, of their gradients on that data (``model.gradients``) below it.
    ``model`` is an MLP or a fitted pyneuron.sklearn estimator (its ``model_``; a
    classifier's labels ``y``, strings too, are encoded by its ``classes_``)."""
    net = network_of(model)
    weights = [layer.W for layer in net.layers]
    grads = None
    if X is not None:
        if y is None:
            raise ValueError("y: the gradient histograms need targets y together with X")
        classes = getattr(model, "classes_", None) if model is not net else None
        if classes is not None and np.ndim(classes) == 1:
            X = np.asarray(X)
            y = classifier_view(model, y)[1].codes(y, X.shape[0])   # the network's own class codes
        everything = net.gradients(X, y)
        per_layer = [len(layer.parameters()) for layer in net.layers]
        starts = np.cumsum([0] + per_layer[:-1])
        grads = [everything[s] for s in starts]
    rows = 1 + (grads is not None)
    fig = new_figure(3 * len(weights), 2.8 * rows)
    axes = fig.subplots(rows, len(weights), squeeze=False)
    for i, W in enumerate(weights):
        ax = axes[0][i]
        ax.hist(W.ravel(), bins=bins, color=POSITIVE)
        ax.set(title=f"layer {i + 1} weights ({W.shape[0]}×{W.shape[1]})", xlabel="W")
        if grads is not None:
            ax = axes[1][i]
            ax.hist(grads[i].ravel(), bins=bins, color=NEGATIVE)
            ax.set(title=f"layer {i + 1} gradients", xlabel="dW")
    return finish(fig, path)


def _output_names(model, net, output_names):
    if output_names is not None:
        return [str(name) for name in output_names]
    classes = getattr(model, "classes_", None) if model is not net else None
    if classes is None or np.asarray(classes).ndim != 1:
        return None
    classes = [str(c) for c in np.asarray(classes).tolist()]
    if net.n_outputs == len(classes):
        return classes
    if net.n_outputs == 1 and len(classes) == 2:
        return [f"P({classes[1]})"]
    return None


def _input_names(model, net, input_names):
    if input_names is not None:
        return [str(name) for name in input_names]
    names = getattr(model, "feature_names_in_", None) if model is not net else None
    return None if names is None else [str(n) for n in names]


def _check_names(names, count, argument):
    if names is not None and len(names) != count:
        raise ValueError(f"{argument}: expected {count} names (one per neuron), got {len(names)}")


def plot_network(model: object, path: PathLike | None = None, max_neurons: int = 16, title: str | None = None,
                 input_names: Sequence[object] | None = None,
                 output_names: Sequence[object] | None = None) -> Figure:
    """The network as a diagram: neurons as circles in columns, every weight a
    line — blue for positive, red for negative, wider for larger ``|w|``.

    ``model`` is an MLP or a fitted pyneuron.sklearn estimator. Layers wider than
    ``max_neurons`` show their first ``max_neurons`` neurons and a "⋮" (the caption says
    how many more). ``input_names`` / ``output_names`` label the input and output neurons
    (a wrapper's defaults: ``feature_names_in_`` if fitted on named columns, and its
    ``classes_``: one name per softmax output, or "P(class)" for a single sigmoid).

    Each layer's caption sits under its column as a tick label and the title above the
    axes, so constrained layout keeps them apart however many layers there are; the
    figure grows by ``COLUMN_WIDTH`` inches per layer. Raises ``ValueError`` if a list of
    names does not have one name per neuron.
    """
    net = network_of(model)
    sizes = net.layer_sizes
    inputs, outputs = _input_names(model, net, input_names), _output_names(model, net, output_names)
    _check_names(inputs, sizes[0], "input_names")
    _check_names(outputs, sizes[-1], "output_names")
    shown = [min(n, max_neurons) for n in sizes]
    tallest = max(shown)
    named = 1.2 * bool(inputs) + 1.2 * bool(outputs)
    fig = new_figure(max(4.5, COLUMN_WIDTH * len(sizes) + 1.0 + named), max(3.0, 0.42 * tallest + 1.6))
    ax = fig.subplots()

    def position(layer, i):
        return float(layer), (shown[layer] - 1) / 2.0 - i

    biggest = max(float(np.max(np.abs(layer.W))) for layer in net.layers) or 1.0
    for l, layer in enumerate(net.layers):
        for i in range(shown[l + 1]):
            for j in range(shown[l]):
                w = float(layer.W[i, j])
                (xa, ya), (xb, yb) = position(l, j), position(l + 1, i)
                ax.plot([xa, xb], [ya, yb], color=POSITIVE if w >= 0 else NEGATIVE,
                        linewidth=0.3 + 3.5 * abs(w) / biggest, alpha=0.8, zorder=1)
    for l, n in enumerate(shown):
        centres = np.array([position(l, i) for i in range(n)])
        # scatter markers stay round whatever the axes' aspect, so the columns can use all the width
        ax.scatter(centres[:, 0], centres[:, 1], s=180, facecolors="#dddddd" if l == 0 else "white",
                   edgecolors="black", linewidths=1.0, zorder=2)
        if sizes[l] > n:
            ax.text(l, centres[-1, 1] - 0.75, "⋮", ha="center", va="center", fontsize=12)
    for names, l, side in ((inputs, 0, "right"), (outputs, len(sizes) - 1, "left")):
        for i, name in enumerate((names or [])[:shown[l]]):
            x, yv = position(l, i)
            offset = -0.14 if side == "right" else 0.14
            ax.text(x + offset, yv, name, ha=side, va="center", fontsize=8)

    captions = []
    for l, n in enumerate(sizes):
        kind = "input" if l == 0 else ("output" if l == len(sizes) - 1 else f"hidden {l}")
        more = f"\n(+{n - shown[l]} more)" if n > shown[l] else ""
        captions.append(f"{kind}\n{n}{more}")
    ax.set_xticks(range(len(sizes)), captions, fontsize=9)
    ax.tick_params(axis="x", length=0)
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    left = 0.45 + 1.0 * bool(inputs)
    right = 0.45 + 1.0 * bool(outputs)
    ax.set_xlim(-left, len(sizes) - 1 + right)
    below = 1.1 if any(n > m for n, m in zip(sizes, shown)) else 0.6      # room for the "⋮"
    ax.set_ylim(-(tallest - 1) / 2.0 - below, (tallest - 1) / 2.0 + 0.6)
    ax.set_title(title or "-".join(map(str, sizes)) + "  (blue +, red −, width |w|)")
    return finish(fig, path)
