"""A single neuron — the first lesson: ``z = w·x + b``, then ``a = f(z)``."""
from __future__ import annotations

import numpy as np

from . import _config
from .activations import HIDDEN_ACTIVATIONS, check_activation
from .validation import as_vector, check_number


class Neuron:
    """One neuron with ``weights`` (one per input), a ``bias`` and an ``activation``.

    >>> n = Neuron([0.2, 0.8, -0.5], 2.0, "sigmoid")
    >>> round(n.pre_activation([1, 2, 3]), 4), round(n.output([1, 2, 3]), 4)
    (2.3, 0.9089)
    """

    def __init__(self, weights, bias, activation="sigmoid", alpha=0.01, backend=None):
        self.weights = as_vector(weights, "weights")
        if self.weights.size == 0:
            raise ValueError("weights: expected at least one weight, got none")
        self.bias = check_number(bias, "bias")
        self.activation = check_activation(activation, "activation", HIDDEN_ACTIVATIONS)
        self.alpha = check_number(alpha, "alpha")
        self.backend = backend

    def __repr__(self):
        return f"Neuron(weights={self.weights.tolist()}, bias={self.bias}, activation={self.activation!r})"

    def _x(self, x):
        return as_vector(x, "x", length=self.weights.size).reshape(1, -1)

    def pre_activation(self, x):
        """``z = Σ_j w_j x_j + b`` for one input vector ``x``."""
        kernels = _config.resolve(self.backend)
        Z = kernels.linear_forward(self._x(x), self.weights.reshape(1, -1), np.array([self.bias]))
        return float(Z[0, 0])

    def output(self, x):
        """``a = f(z)``."""
        kernels = _config.resolve(self.backend)
        Z, A = kernels.dense_forward(self._x(x), self.weights.reshape(1, -1), np.array([self.bias]),
                                     self.activation, self.alpha)
        return float(A[0, 0])

    __call__ = output
