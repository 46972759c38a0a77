"""Pictures of what a network does: training curves, decision boundaries,
activations, weight and gradient histograms, the network as a diagram, and
the speed chart.

Needs matplotlib (``pip install matplotlib``); importing this module
does not, only calling a plot function does. Every function builds a
:class:`matplotlib.figure.Figure` directly (no pyplot, so it works without a
display and leaves no global state), returns it, and with ``path=`` also
saves it as a PNG.
"""
from __future__ import annotations

import numpy as np

from .validation import check_bool

INSTALL_HINT = 'plotting needs matplotlib: pip install matplotlib'

#: Colours used throughout: positive / negative weights, and the two classes.
POSITIVE, NEGATIVE = "#1f77b4", "#d62728"


def require_matplotlib():
    """Raise ``ImportError`` with the install hint unless matplotlib can be imported
    (the command line calls it before training, so a missing extra costs no run)."""
    try:
        import matplotlib.figure  # noqa: F401
    except ImportError:
        raise ImportError(INSTALL_HINT) from None


_FIGURE_CLASS = None


def _figure_class():
    """matplotlib's ``Figure`` with a PNG rich display, so a figure that is a
    notebook cell's last value is drawn (no ``%matplotlib inline`` needed):
    these figures are built without pyplot, so no backend hook would show them."""
    global _FIGURE_CLASS
    if _FIGURE_CLASS is None:
        require_matplotlib()
        import io

        from matplotlib.figure import Figure as _Base

        class Figure(_Base):
            """A matplotlib ``Figure`` that Jupyter displays as a PNG."""

            def _repr_png_(self):
                buffer = io.BytesIO()
                self.savefig(buffer, format="png")
                return buffer.getvalue()

        Figure.__module__, Figure.__qualname__ = __name__, "Figure"
        globals()["Figure"] = _FIGURE_CLASS = Figure    # importable by name, so figures pickle

    return _FIGURE_CLASS


def _figure(width, height):
    return _figure_class()(figsize=(width, height), dpi=100, layout="constrained")


def _finish(fig, path):
    if path is not None:
        fig.savefig(path, format="png")
    return fig


# ---------------------------------------------------------------------------- training history
def _history_dict(history):
    if hasattr(history, "history"):
        return dict(history.history), getattr(history, "best_epoch", None), list(history.epoch)
    if isinstance(history, dict):
        values = {k: list(v) for k, v in history.items() if k != "best_epoch"}
        n = max((len(v) for v in values.values()), default=0)
        return values, history.get("best_epoch"), list(range(1, n + 1))
    raise TypeError(f"history: expected a pyneuron History or a dict of lists, got {type(history).__name__}")


def plot_history(history, path=None, title="Training history"):
    """Loss (and every other metric) per epoch, training and validation side by
    side; a dashed line marks ``history.best_epoch`` when early stopping set one."""
    values, best, epochs = _history_dict(history)
    if "loss" not in values or not values["loss"]:
        raise ValueError("history: expected a 'loss' entry with at least one epoch")
    metrics = [k for k in values if k not in ("loss", "val_loss", "lr") and not k.startswith("val_")]
    fig = _figure(6 + 4 * bool(metrics), 4)
    axes = fig.subplots(1, 1 + bool(metrics), squeeze=False)[0]
    fig.suptitle(title)
    panels = [("loss", axes[0])] + ([(metrics[0], axes[1])] if metrics else [])
    for key, ax in panels:
        ax.plot(epochs[:len(values[key])], values[key], label=f"training {key}")
        if f"val_{key}" in values:
            ax.plot(epochs[:len(values[f"val_{key}"])], values[f"val_{key}"], label=f"validation {key}")
        if best is not None:
            ax.axvline(best, color="grey", linestyle="--", label=f"best epoch ({best})")
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
        ax.legend()
    return _finish(fig, path)


def plot_curves(curves, path=None, title="", xlabel="epoch", ylabel="loss", log=False):
    """Several curves on one axis, e.g. ``{"lr=0.1": losses, "lr=0.5": losses}``."""
    log = check_bool(log, "log")
    if not isinstance(curves, dict) or not curves:
        raise ValueError("curves: expected a non-empty dict {label: values}")
    fig = _figure(7, 4)
    ax = fig.subplots()
    for label, values in curves.items():
        values = np.asarray(values, dtype=float)
        ax.plot(np.arange(1, values.size + 1), values, label=str(label))
    if log:
        ax.set_yscale("log")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.grid(alpha=0.3)
    ax.legend()
    return _finish(fig, path)


# ---------------------------------------------------------------------------- decision boundary
def plot_decision_boundary(model, X, y, path=None, resolution=200, title="Decision boundary", margin=0.5):
    """The classes a 2-input classifier assigns over the plane, with the data on top.

    Binary (one sigmoid output): the shading is P(class 1) and the line is
    where it crosses 0.5. Several classes: each region takes its class's colour.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X: expected shape (n, 2) — a decision boundary needs 2 inputs, got {X.shape}")
    if getattr(model, "n_features", 2) != 2:
        raise ValueError(f"model: expected a network with 2 inputs, got {model.n_features}")
    labels = np.argmax(y, axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(-1)
    fig = _figure(6, 5)
    ax = fig.subplots()
    (x0, y0), (x1, y1) = X.min(axis=0) - margin, X.max(axis=0) + margin
    xx, yy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    grid = np.c_[xx.ravel(), yy.ravel()]
    if model.n_outputs == 1 and model.output == "sigmoid":
        proba = model.predict_proba(grid).reshape(xx.shape)
        filled = ax.contourf(xx, yy, proba, levels=np.linspace(0, 1, 11), cmap="RdBu", alpha=0.6)
        ax.contour(xx, yy, proba, levels=[0.5], colors="black", linewidths=1.5)
        fig.colorbar(filled, ax=ax, label="P(class 1)")
    else:
        classes = np.asarray(model.predict(grid)).reshape(xx.shape)
        ax.contourf(xx, yy, classes, levels=np.arange(classes.max() + 2) - 0.5, cmap="tab10", alpha=0.4)
    ax.scatter(X[:, 0], X[:, 1], c=labels, cmap="RdBu" if labels.max() <= 1 else "tab10",
               edgecolors="black", linewidths=0.5, s=18)
    ax.set(title=title, xlabel="x₁", ylabel="x₂", xlim=(x0, x1), ylim=(y0, y1))
    return _finish(fig, path)


# ---------------------------------------------------------------------------- activations
def plot_activations(names=("sigmoid", "tanh", "relu", "leaky_relu"), path=None, z_range=(-5.0, 5.0),
                     negative_slope=None, *, alpha=None):
    """Each activation f(z) (solid) and its derivative f′(z) (dashed), computed
    by the current backend's kernels.

    ``negative_slope`` is leaky ReLU's slope for z <= 0 (default 0.1 here, steeper than the
    models' 0.01 so the kink shows); ``alpha=`` is its deprecated old name."""
    from . import activations
    from ._slope import slope_argument
    slope = slope_argument("plot_activations", negative_slope, alpha, default=0.1)
    names = [names] if isinstance(names, str) else list(names)
    if not names:
        raise ValueError("names: expected at least one activation name")
    for name in names:
        activations.check_activation(name, "names", activations.HIDDEN_ACTIVATIONS)
    z = np.linspace(z_range[0], z_range[1], 401)
    fig = _figure(3.2 * len(names), 3.2)
    axes = fig.subplots(1, len(names), squeeze=False)[0]
    for ax, name in zip(axes, names):
        ax.plot(z, activations.apply(name, z, slope), label="f(z)")
        ax.plot(z, activations.derivative(name, z, slope), "--", label="f′(z)")
        ax.axhline(0, color="grey", linewidth=0.5)
        ax.axvline(0, color="grey", linewidth=0.5)
        ax.set(title=name, xlabel="z")
        ax.grid(alpha=0.3)
        ax.legend()
    return _finish(fig, path)


# ---------------------------------------------------------------------------- weights and gradients
def plot_weight_histograms(model, X=None, y=None, path=None, bins=30):
    """One column per layer: a histogram of its weights and, when ``X, y`` are
    given, of their gradients on that data (``model.gradients``) below it."""
    weights = [layer.W for layer in model.layers]
    grads = None
    if X is not None:
        if y is None:
            raise ValueError("y: the gradient histograms need targets y together with X")
        everything = model.gradients(X, y)
        per_layer = [len(layer.parameters()) for layer in model.layers]
        starts = np.cumsum([0] + per_layer[:-1])
        grads = [everything[s] for s in starts]
    rows = 1 + (grads is not None)
    fig = _figure(3 * len(weights), 2.8 * rows)
    axes = fig.subplots(rows, len(weights), squeeze=False)
    for i, W in enumerate(weights):
        ax = axes[0][i]
        ax.hist(W.ravel(), bins=bins, color=POSITIVE)
        ax.set(title=f"layer {i + 1} weights ({W.shape[0]}×{W.shape[1]})", xlabel="W")
        if grads is not None:
            ax = axes[1][i]
            ax.hist(grads[i].ravel(), bins=bins, color=NEGATIVE)
            ax.set(title=f"layer {i + 1} gradients", xlabel="dW")
    return _finish(fig, path)


# ---------------------------------------------------------------------------- the network itself
def plot_network(model, path=None, max_neurons=16, title=None):
    """The network as a diagram: neurons as circles in columns, every weight a
    line — blue for positive, red for negative, wider for larger |w|. Layers
    wider than ``max_neurons`` show their first ``max_neurons`` neurons."""
    sizes = model.layer_sizes
    shown = [min(n, max_neurons) for n in sizes]
    fig = _figure(max(4, 2 * len(sizes)), max(3, 0.45 * max(shown) + 1.5))
    ax = fig.subplots()
    ax.set_axis_off()
    ax.set_aspect("equal")

    def position(layer, i):
        return 2.0 * layer, (shown[layer] - 1) / 2.0 - i

    biggest = max(float(np.max(np.abs(layer.W))) for layer in model.layers) or 1.0
    for l, layer in enumerate(model.layers):
        for i in range(shown[l + 1]):
            for j in range(shown[l]):
                w = float(layer.W[i, j])
                (xa, ya), (xb, yb) = position(l, j), position(l + 1, i)
                ax.plot([xa, xb], [ya, yb], color=POSITIVE if w >= 0 else NEGATIVE,
                        linewidth=0.3 + 3.5 * abs(w) / biggest, alpha=0.8, zorder=1)
    for l, n in enumerate(shown):
        for i in range(n):
            x, yv = position(l, i)
            face = "#dddddd" if l == 0 else "white"
            ax.add_patch(_circle((x, yv), 0.25, face))
        label = "input" if l == 0 else ("output" if l == len(sizes) - 1 else f"hidden {l}")
        extra = f"\n(+{sizes[l] - n} more)" if sizes[l] > n else ""
        ax.text(2.0 * l, (shown[l] - 1) / 2.0 + 0.7, f"{label}\n{sizes[l]}{extra}", ha="center", fontsize=9)
    ax.set_xlim(-0.6, 2.0 * (len(sizes) - 1) + 0.6)
    ax.set_ylim(-(max(shown) - 1) / 2.0 - 0.6, (max(shown) - 1) / 2.0 + 1.4)
    ax.set_title(title or "-".join(map(str, sizes)) + "  (blue +, red −, width |w|)")
    return _finish(fig, path)


def _circle(center, radius, face):
    from matplotlib.patches import Circle
    return Circle(center, radius, facecolor=face, edgecolor="black", zorder=2)


# ---------------------------------------------------------------------------- speed
def _speed_rows(data, value):
    if isinstance(data, dict):
        return [{"name": str(k), value: float(v)} for k, v in data.items()]
    if isinstance(data, (list, tuple)) and data and all(isinstance(r, dict) for r in data):
        return [dict(r) for r in data]
    raise TypeError("data: expected a dict {name: value} or a non-empty list of row dicts, "
                    f"got {type(data).__name__}")


def plot_speed(data, path=None, value="seconds", label="name", group=None, log=True,
               title="Speed", xlabel=None):
    """A bar chart of measured speeds: the matmul ladder or the backends compared.

    ``data`` is ``{name: value}`` or a list of rows (dicts) such as
    ``{"name": "blocked", "size": 256, "seconds": 0.004}``. ``value`` names the
    number to draw, ``label`` the bar's name; with ``group`` (e.g. ``"size"``)
    bars of the same label are drawn side by side, one colour per group value.
    """
    log = check_bool(log, "log")
    rows = _speed_rows(data, value)
    for r in rows:
        if label not in r or value not in r:
            raise ValueError(f"data: every row needs {label!r} and {value!r}, got keys {sorted(r)}")
    names = list(dict.fromkeys(str(r[label]) for r in rows))
    groups = list(dict.fromkeys(r[group] for r in rows)) if group else [None]
    fig = _figure(max(6, 0.9 * len(names) * max(1, len(groups) / 2)), 4)
    ax = fig.subplots()
    width = 0.8 / len(groups)
    for k, g in enumerate(groups):
        heights = []
        for name in names:
            match = [float(r[value]) for r in rows if str(r[label]) == name and (group is None or r[group] == g)]
            heights.append(match[0] if match else np.nan)
        positions = np.arange(len(names)) + (k - (len(groups) - 1) / 2) * width
        ax.bar(positions, heights, width=width, label=None if g is None else f"{group} {g}")
    ax.set_xticks(np.arange(len(names)), names, rotation=20, ha="right")
    if log:
        ax.set_yscale("log")
    ax.set(title=title, ylabel=xlabel or value)
    ax.grid(alpha=0.3, axis="y")
    if group:
        ax.legend()
    return _finish(fig, path)


__all__ = ["plot_history", "plot_curves", "plot_decision_boundary", "plot_activations",
           "plot_weight_histograms", "plot_network", "plot_speed", "ladder_rows", "INSTALL_HINT"]


def ladder_rows(results, dtype="float64"):
    """Rows for :func:`plot_speed` from the matmul ladder's figures as
    ``pyneuron.bench_report.ladder_section`` returns them
    (``{(dtype, n, rung): fraction of NumPy's speed}``), one dtype at a time:
    ``plot_speed(ladder_rows(results), value="of numpy", group="n")``."""
    return [{"name": rung, "n": n, "of numpy": float(value)}
            for (dt, n, rung), value in results.items() if dt == dtype]
