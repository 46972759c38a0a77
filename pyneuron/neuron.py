"""A single neuron — the first lesson: ``z = w·x + b``, then ``a = f(z)``."""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from . import _config
from ._slope import slope_argument, warn_alpha_attribute
from .activations import HIDDEN_ACTIVATIONS, check_activation
from .nonfinite import NonFiniteOutputError
from .validation import as_vector, check_number


class Neuron:
    """One neuron with ``weights`` (one per input), a ``bias`` and an ``activation``.

    ``negative_slope`` is leaky ReLU's slope for ``z <= 0`` (``f(z) = negative_slope · z``
    there, torch's ``LeakyReLU(negative_slope)``; >= 0, default 0.01). ``alpha=`` is its old
    name, accepted for one release with a ``DeprecationWarning``; giving both is a ``ValueError``.

    >>> n = Neuron([0.2, 0.8, -0.5], 2.0, "sigmoid")
    >>> round(n.pre_activation([1, 2, 3]), 4), round(n.output([1, 2, 3]), 4)
    (2.3, 0.9089)
    """

    def __init__(self, weights: ArrayLike, bias: float, activation: str = "sigmoid",
                 negative_slope: float | None = None, backend: str | None = None, *,
                 alpha: float | None = None) -> None:
        self.weights = as_vector(weights, "weights")
        if self.weights.size == 0:
            raise ValueError("weights: expected at least one weight, got none")
        self.bias = check_number(bias, "bias")
        self.activation = check_activation(activation, "activation", HIDDEN_ACTIVATIONS)
        self.negative_slope = slope_argument("Neuron", negative_slope, alpha)
        self.backend = backend

    @property
    def alpha(self) -> float:
        """Deprecated read-only name of ``negative_slope`` (warns)."""
        warn_alpha_attribute("Neuron")
        return self.negative_slope

    def __repr__(self) -> str:
        slope = f", negative_slope={self.negative_slope}" if self.activation == "leaky_relu" else ""
        return (f"Neuron(weights={self.weights.tolist()}, bias={self.bias}, "
                f"activation={self.activation!r}{slope})")

    def _x(self, x):
        return as_vector(x, "x", length=self.weights.size).reshape(1, -1)

    def pre_activation(self, x: ArrayLike) -> float:
        """``z = Σ_j w_j x_j + b`` for one input vector ``x``.

        Raises :class:`~pyneuron.nonfinite.NonFiniteOutputError` if ``z`` overflows."""
        return self._forward(x)[0]

    def output(self, x: ArrayLike) -> float:
        """``a = f(z)``. Raises :class:`~pyneuron.nonfinite.NonFiniteOutputError`
        if ``z`` overflows (the inputs or weights are too large)."""
        return self._forward(x)[1]

    def _forward(self, x):
        kernels = _config.resolve(self.backend)
        X = self._x(x)
        with np.errstate(over="ignore", invalid="ignore"):   # reported below
            Z, A = kernels.dense_forward(X, self.weights.reshape(1, -1), np.array([self.bias]),
                                         self.activation, self.negative_slope)
        z, a = float(Z[0, 0]), float(A[0, 0])
        if not (np.isfinite(z) and np.isfinite(a)):
            source = (f"z = w·x + b = {z} overflowed: the inputs reach |x| = {np.max(np.abs(X)):.3g} "
                      f"and the weights |w| = {np.max(np.abs(self.weights)):.3g}")
            raise NonFiniteOutputError(f"x: the neuron's output is not finite, so no value is given "
                                       f"from it; {source}", [0], source)
        return z, a

    __call__ = output
