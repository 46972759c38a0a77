"""Curves: the training history, several runs on one axis, and the activation functions."""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from ..validation import check_bool
from ._figure import PathLike, finish, new_figure, readable_log_axis

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..training import History


def _history_dict(history):
    if hasattr(history, "history"):
        return dict(history.history), getattr(history, "best_epoch", None), list(history.epoch)
    if isinstance(history, dict):
        values = {k: list(v) for k, v in history.items() if k != "best_epoch"}
        n = max((len(v) for v in values.values()), default=0)
        return values, history.get("best_epoch"), list(range(1, n + 1))
    raise TypeError(f"history: expected a pyneuron History or a dict of lists, got {type(history).__name__}")


def plot_history(history: History | Mapping[str, Sequence[float]], path: PathLike | None = None,
                 title: str = "Training history") -> Figure:
    """Loss (and every other metric) per epoch, training and validation side by
    side; a dashed line marks ``history.best_epoch`` when early stopping set one."""
    values, best, epochs = _history_dict(history)
    if "loss" not in values or not values["loss"]:
        raise ValueError("history: expected a 'loss' entry with at least one epoch")
    metrics = [k for k in values if k not in ("loss", "val_loss", "lr") and not k.startswith("val_")]
    fig = new_figure(6 + 4 * bool(metrics), 4)
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
    return finish(fig, path)


def plot_curves(curves: Mapping[Any, ArrayLike], path: PathLike | None = None, title: str = "",
                xlabel: str = "epoch", ylabel: str = "loss", log: bool = False) -> Figure:
    """Several curves on one axis, e.g. ``{"lr=0.1": losses, "lr=0.5": losses}``.
    ``log=True``: a log y axis whose ticks read as plain numbers (0.05, 0.1, 0.2, …)."""
    log = check_bool(log, "log")
    if not isinstance(curves, dict) or not curves:
        raise ValueError("curves: expected a non-empty dict {label: values}")
    fig = new_figure(7, 4)
    ax = fig.subplots()
    for label, values in curves.items():
        values = np.asarray(values, dtype=float)
        ax.plot(np.arange(1, values.size + 1), values, label=str(label))
    if log:
        ax.set_yscale("log")
        readable_log_axis(ax.yaxis)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.grid(alpha=0.3)
    ax.legend()
    return finish(fig, path)


def plot_activations(names: str | Iterable[str] = ("sigmoid", "tanh", "relu", "leaky_relu"),
                     path: PathLike | None = None, z_range: tuple[float, float] = (-5.0, 5.0),
                     negative_slope: float | None = None, *, alpha: float | None = None) -> Figure:
    """Each activation f(z) (solid) and its derivative f′(z) (dashed), computed
    by the current backend's kernels.

    ``negative_slope`` is leaky ReLU's slope for z <= 0 (default 0.1 here, steeper than the
    models' 0.01 so the kink shows); ``alpha=`` is its deprecated old name."""
    from .. import activations
    from .._slope import slope_argument
    slope = slope_argument("plot_activations", negative_slope, alpha, default=0.1)
    names = [names] if isinstance(names, str) else list(names)
    if not names:
        raise ValueError("names: expected at least one activation name")
    for name in names:
        activations.check_activation(name, "names", activations.HIDDEN_ACTIVATIONS)
    z = np.linspace(z_range[0], z_range[1], 401)
    fig = new_figure(3.2 * len(names), 3.2)
    axes = fig.subplots(1, len(names), squeeze=False)[0]
    for ax, name in zip(axes, names):
        ax.plot(z, activations.apply(name, z, slope), label="f(z)")
        ax.plot(z, activations.derivative(name, z, slope), "--", label="f′(z)")
        ax.axhline(0, color="grey", linewidth=0.5)
        ax.axvline(0, color="grey", linewidth=0.5)
        ax.set(title=name if name != "leaky_relu" else f"leaky_relu (slope {slope:g})", xlabel="z")
        ax.grid(alpha=0.3)
        ax.legend()
    return finish(fig, path)
