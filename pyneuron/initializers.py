"""Weight initializers. Each draws an ``(n_out, n_in)`` matrix from the model's
seeded ``numpy.random.Generator``, so a seed gives the same weights on every
backend. Biases start at zero.

==============  ============================================================
name            distribution of each weight
==============  ============================================================
he_normal       N(0, σ²),  σ = √(2 / n_in)           (for ReLU-family layers)
he_uniform      U(-r, r),  r = √(6 / n_in)
xavier_normal   N(0, σ²),  σ = √(2 / (n_in + n_out))  (Glorot; sigmoid / tanh)
xavier_uniform  U(-r, r),  r = √(6 / (n_in + n_out))
small_random    N(0, 1) × 0.01                       (the tutorials' first try)
zeros           0 (every neuron stays identical: shown to fail, for the lesson)
==============  ============================================================

``"auto"`` picks ``he_normal`` before ReLU / leaky ReLU and ``xavier_normal``
otherwise.
"""
from __future__ import annotations

import numpy as np

INITIALIZERS = ("he_normal", "he_uniform", "xavier_normal", "xavier_uniform", "small_random", "zeros")
glorot_aliases = {"glorot_normal": "xavier_normal", "glorot_uniform": "xavier_uniform", "he": "he_normal",
                  "xavier": "xavier_normal", "glorot": "xavier_normal"}


def resolve(name: str, activation: str) -> str:
    """The concrete initializer name for a layer with ``activation``."""
    name = glorot_aliases.get(name, name)
    if name == "auto":
        return "he_normal" if activation in ("relu", "leaky_relu") else "xavier_normal"
    if name not in INITIALIZERS:
        raise ValueError(f"init: expected 'auto' or one of {', '.join(map(repr, INITIALIZERS))}, got {name!r}")
    return name


def initial_weights(name: str, n_in: int, n_out: int, rng: np.random.Generator,
                    dtype: np.typing.DTypeLike = np.float64) -> np.ndarray:
    """Draw the ``(n_out, n_in)`` weight matrix for one layer."""
    shape = (n_out, n_in)
    if name == "he_normal":
        W = rng.normal(0.0, np.sqrt(2.0 / n_in), size=shape)
    elif name == "he_uniform":
        r = np.sqrt(6.0 / n_in)
        W = rng.uniform(-r, r, size=shape)
    elif name == "xavier_normal":
        W = rng.normal(0.0, np.sqrt(2.0 / (n_in + n_out)), size=shape)
    elif name == "xavier_uniform":
        r = np.sqrt(6.0 / (n_in + n_out))
        W = rng.uniform(-r, r, size=shape)
    elif name == "small_random":
        W = rng.standard_normal(size=shape) * 0.01
    elif name == "zeros":
        W = np.zeros(shape)
    else:
        raise ValueError(f"init: expected one of {', '.join(map(repr, INITIALIZERS))}, got {name!r}")
    return np.ascontiguousarray(W, dtype=dtype)
