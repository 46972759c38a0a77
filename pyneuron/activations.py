"""Activation functions by name, for users and lessons.

The arithmetic lives in the backends (``activation_forward`` /
``activation_backward``); this module names what exists, validates names,
and offers :func:`apply` / :func:`derivative` on plain numbers or arrays
through whichever backend is current.

=============  =====================================  =================================
name           f(z)                                   f'(z)
=============  =====================================  =================================
sigmoid        1 / (1 + e^(-z))                       f(z) (1 - f(z))
tanh           tanh z                                 1 - tanh² z
relu           max(0, z)                              1 if z > 0 else 0
leaky_relu     z if z > 0 else α z                    1 if z > 0 else α
softmax        e^(z_i - max z) / Σ e^(z_j - max z)    Jacobian diag(a) - a aᵀ (per row)
linear         z                                      1
=============  =====================================  =================================
"""
from __future__ import annotations

import numpy as np

from . import _config
from ._slope import slope_argument
from .backends.base import ACTIVATIONS

#: Activations that may be used in hidden layers (softmax only makes sense at the output).
HIDDEN_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "linear")


def check_activation(name: object, argument: str = "activation", allowed: tuple[str, ...] = ACTIVATIONS) -> str:
    """``name`` if it is one of ``allowed`` (a string); else a ``ValueError`` naming
    ``argument``, the allowed names and what was given."""
    if not isinstance(name, str) or name not in allowed:
        raise ValueError(f"{argument}: expected one of {', '.join(map(repr, allowed))}, got {name!r}")
    return name


def _as_rows(z: np.typing.ArrayLike) -> tuple[np.typing.NDArray[np.float64], np.typing.NDArray[np.float64]]:
    try:
        raw = np.asarray(z)
    except ValueError:          # ragged nested lists
        raw = np.asarray(None)
    if np.iscomplexobj(raw) or not (np.issubdtype(raw.dtype, np.number) or raw.dtype == bool):
        # complex would lose its imaginary part in the cast; text and objects are not numbers
        raise TypeError(f"z: expected a real number or an array of real numbers, got {z!r}")
    if raw.ndim > 2:
        raise ValueError(f"z: expected a number, a vector or a matrix, got shape {raw.shape}")
    arr = raw.astype(np.float64)
    return arr, np.ascontiguousarray(np.atleast_2d(arr) if arr.ndim < 2 else arr)


def apply(name: str, z: np.typing.ArrayLike, negative_slope: float | None = None, *, alpha: float | None = None) -> np.typing.NDArray[np.float64]:
    """``f(z)`` for a number, vector or matrix (softmax works per row). ``negative_slope``:
    leaky ReLU's slope for z <= 0 (default 0.01; ``alpha=`` is its deprecated old name)."""
    check_activation(name, "name")
    slope = slope_argument("activations.apply", negative_slope, alpha)
    original, Z = _as_rows(z)
    A = _config.resolve(None).activation_forward(name, Z, slope)
    return A.reshape(original.shape) if original.ndim < 2 else A


def derivative(name: str, z: np.typing.ArrayLike, negative_slope: float | None = None, *, alpha: float | None = None) -> np.typing.NDArray[np.float64]:
    """``f'(z)`` element-wise (for softmax: the diagonal term a(1-a)). ``negative_slope`` as
    in :func:`apply`."""
    check_activation(name, "name")
    slope = slope_argument("activations.derivative", negative_slope, alpha)
    original, Z = _as_rows(z)
    kernels = _config.resolve(None)
    A = kernels.activation_forward(name, Z, slope)
    if name == "softmax":
        D = A * (1.0 - A)
    else:
        D = kernels.activation_backward(name, np.ones_like(Z), Z, A, slope)
    return D.reshape(original.shape) if original.ndim < 2 else D
