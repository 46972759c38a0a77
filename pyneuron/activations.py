"""Activation functions by name, for users and lessons.

The arithmetic lives in the backends (``activation_forward`` /
``activation_backward``); this module names what exists, validates names,
and offers :func:`apply` / :func:`derivative` on plain numbers or arrays
through whichever backend is current.

=============  ===============================  =================================
name           f(z)                             f'(z)
=============  ===============================  =================================
sigmoid        1 / (1 + e^(-z))                 f(z) (1 - f(z))
tanh           tanh z                           1 - tanh² z
relu           max(0, z)                        1 if z > 0 else 0
leaky_relu     z if z > 0 else α z              1 if z > 0 else α
softmax        e^(z_i - max z) / Σ e^(z_j - max z)   Jacobian diag(a) - a aᵀ (per row)
linear         z                                1
=============  ===============================  =================================
"""
from __future__ import annotations

import numpy as np

from . import _config
from .backends.base import ACTIVATIONS
from .validation import check_number

#: Activations that may be used in hidden layers (softmax only makes sense at the output).
HIDDEN_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "linear")


def check_activation(name, argument="activation", allowed=ACTIVATIONS):
    if not isinstance(name, str) or name not in allowed:
        raise ValueError(f"{argument}: expected one of {', '.join(map(repr, allowed))}, got {name!r}")
    return name


def _as_rows(z):
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


def apply(name, z, alpha=0.01):
    """``f(z)`` for a number, vector or matrix (softmax works per row)."""
    check_activation(name, "name")
    check_number(alpha, "alpha")
    original, Z = _as_rows(z)
    A = _config.resolve(None).activation_forward(name, Z, alpha)
    return A.reshape(original.shape) if original.ndim < 2 else A


def derivative(name, z, alpha=0.01):
    """``f'(z)`` element-wise (for softmax: the diagonal term a(1-a))."""
    check_activation(name, "name")
    original, Z = _as_rows(z)
    kernels = _config.resolve(None)
    A = kernels.activation_forward(name, Z, alpha)
    if name == "softmax":
        D = A * (1.0 - A)
    else:
        D = kernels.activation_backward(name, np.ones_like(Z), Z, A, alpha)
    return D.reshape(original.shape) if original.ndim < 2 else D
