"""The decision boundary of a 2-input classifier: every region in its class's colour,
the data on top in the same colours, a legend naming the classes."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from ._figure import REGION_ALPHA, PathLike, class_colours, finish, new_figure
from ._models import classifier_view

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def plot_decision_boundary(model: object, X: ArrayLike, y: ArrayLike, path: PathLike | None = None,
                           resolution: int = 200, title: str = "Decision boundary", margin: float = 0.5,
                           class_names: Sequence[object] | None = None) -> Figure:
    """The class a 2-input classifier assigns to each point of the plane, with the data on top.

    Parameters
    ----------
    model : pyneuron.MLP or fitted pyneuron.sklearn.MLPClassifier
        A classifier: one sigmoid output (binary) or a softmax over k classes.
    X : array, shape (n, 2)
    y : array, shape (n,) or one-hot (n, k)
        The labels, numbers or strings (a wrapper's labels are its ``classes_``; for an MLP,
        numbers are its class codes 0 … k−1 and strings are encoded in sorted order, as
        ``numpy.unique`` does, unless ``class_names`` says otherwise).
    resolution : int
        Grid points per axis.
    class_names : list of str, optional
        The name shown for each class, in output order.

    Each region is filled with its class's colour (lighter, ``REGION_ALPHA``) and each point
    has the colour of its true class, so a point on a region of another colour is
    misclassified; the legend names every class the model has. For two classes the
    boundary P(class 1) = 0.5 is drawn as a line, with dashed lines where it is 0.1 and 0.9
    (each only where the plane crosses it).

    Raises ``ValueError`` for X not of shape (n, 2), a model without 2 inputs, a regressor
    or multilabel model, and labels the model does not know; ``TypeError`` for a model that
    is neither an MLP nor a pyneuron estimator.
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X: expected shape (n, 2) — a decision boundary needs 2 inputs, got {X.shape}")
    if X.shape[0] == 0:
        raise ValueError("X: expected at least one sample, got none")
    net, view = classifier_view(model, y, class_names)
    if net.n_features != 2:
        raise ValueError(f"model: expected a network with 2 inputs, got {net.n_features}")
    codes = view.codes(y, X.shape[0])
    colours = class_colours(len(view.labels))

    (x0, y0), (x1, y1) = X.min(axis=0) - margin, X.max(axis=0) + margin
    xx, yy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    grid = np.c_[xx.ravel(), yy.ravel()]
    regions = view.predict_codes(grid).reshape(xx.shape)

    fig = new_figure(6.8, 5)
    ax = fig.subplots()
    # band k of the filled contour is [k − ½, k + ½): exactly the points assigned class k
    ax.contourf(xx, yy, regions, levels=np.arange(len(colours) + 1) - 0.5, colors=colours, alpha=REGION_ALPHA)
    if view.probability is not None:
        proba = np.asarray(view.probability(grid), dtype=float).reshape(xx.shape)
        low, high = float(proba.min()), float(proba.max())
        lines: dict[tuple[float, str], list[str]] = {}
        for level, width, style in ((0.5, 1.5, "solid"), (0.1, 0.6, "dashed"), (0.9, 0.6, "dashed")):
            # a level the grid never clearly crosses has no line: on a flat P = 0.5 (an untrained
            # or XOR-stuck neuron) a contour would trace rounding noise, not a boundary
            if low < level - 1e-6 and level + 1e-6 < high:
                ax.contour(xx, yy, proba, levels=[level], colors="black", linewidths=width, linestyles=style)
                lines.setdefault((width, style), []).append(f"{level:g}")
        for (width, style), levels in lines.items():       # legend entries for the lines drawn
            ax.plot([], [], color="black", linewidth=width, linestyle=style,
                    label=f"P({view.names[1]}) = {' and '.join(levels)}")
    for k, (name, colour) in enumerate(zip(view.names, colours)):
        mine = codes == k           # every class gets a legend entry, even without points here
        ax.scatter(X[mine, 0], X[mine, 1], color=colour, edgecolors="black", linewidths=0.5, s=18,
                   label=name, zorder=3)
    handles, names = ax.get_legend_handles_labels()
    order = sorted(range(len(names)), key=lambda i: names[i] not in view.names)     # classes first
    ax.legend([handles[i] for i in order], [names[i] for i in order], title="class", loc="upper left",
              bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
    ax.set(title=title, xlabel="x₁", ylabel="x₂", xlim=(x0, x1), ylim=(y0, y1))
    return finish(fig, path)
