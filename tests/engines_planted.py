"""Backends with one planted mistake each, the kinds a learner makes (issue 12's list).

Each is the numpy backend with one kernel rewritten wrongly. ``PLANTED`` maps a name to
``(backend object, the kernel that is wrong, a network that exercises it)``; the tests
of the conformance kit and of ``compare_backends`` both use it."""
from __future__ import annotations

import numpy as np

from pyneuron.backends.numpy_backend import NumpyBackend


class SignBug(NumpyBackend):
    """activation_backward of tanh with the derivative's sign flipped: dA·(a² − 1)."""

    def activation_backward(self, name, dA, Z, A, alpha=0.01):
        if name == "tanh":
            return dA * (A * A - 1)
        return super().activation_backward(name, dA, Z, A, alpha)


class TransposeBug(NumpyBackend):
    """linear_forward as loops with the weight's indices swapped: W[j][i] for W[i][j]."""

    def linear_forward(self, X, W, b):
        m, n_in = X.shape
        Z = np.empty((m, W.shape[0]), dtype=X.dtype)
        for s in range(m):
            for i in range(W.shape[0]):
                Z[s, i] = b[i] + sum(W[j, i] * X[s, j] for j in range(n_in))
        return Z


class OffByOneBug(NumpyBackend):
    """linear_backward's bias gradient sums rows 0 … m−2 (the loop stops one short)."""

    def linear_backward(self, dZ, X, W):
        dX, dW, _ = super().linear_backward(dZ, X, W)
        db = np.zeros(dZ.shape[1], dtype=dZ.dtype)
        for s in range(dZ.shape[0] - 1):
            db += dZ[s]
        return dX, dW, db


class SoftmaxNoMaxBug(NumpyBackend):
    """softmax without subtracting the row maximum: overflows for large logits."""

    def _softmax(self, Z):
        e = np.exp(Z)
        return e / e.sum(axis=1, keepdims=True)

    def softmax(self, Z):
        return self._softmax(Z)

    def activation_forward(self, name, Z, alpha=0.01):
        if name == "softmax":
            return self._softmax(Z)
        return super().activation_forward(name, Z, alpha)


class UnbiasedVarianceBug(NumpyBackend):
    """batchnorm_forward with the unbiased variance (÷ m−1) where the biased one (÷ m) belongs."""

    def batchnorm_forward(self, Z, gamma, beta, eps):
        mean = Z.mean(axis=0)
        var = Z.var(axis=0, ddof=1) if Z.shape[0] > 1 else np.zeros_like(mean)
        Zhat = (Z - mean) / np.sqrt(var + eps)
        return gamma * Zhat + beta, Zhat, mean, var


class Float32AccumulationBug(NumpyBackend):
    """matmul accumulating float64 products in float32."""

    def matmul(self, A, B, trans_a=False, trans_b=False):
        A = A.T if trans_a else A
        B = B.T if trans_b else B
        return (A.astype(np.float32) @ B.astype(np.float32)).astype(A.dtype)

    def linear_forward(self, X, W, b):
        return self.matmul(X, W, trans_b=True) + b


PLANTED = {
    "sign": (SignBug(), "activation_backward",
             dict(layer_sizes=[3, 4, 1], activation="tanh", output="sigmoid")),
    "transpose": (TransposeBug(), "linear_forward",
                  dict(layer_sizes=[3, 3, 3, 1], activation="tanh", output="sigmoid")),
    "off_by_one": (OffByOneBug(), "linear_backward",
                   dict(layer_sizes=[3, 4, 1], activation="tanh", output="sigmoid")),
    "softmax_no_max": (SoftmaxNoMaxBug(), "activation_forward",
                       dict(layer_sizes=[3, 4, 3], activation="relu", output="softmax")),
    "unbiased_variance": (UnbiasedVarianceBug(), "batchnorm_forward",
                          dict(layer_sizes=[3, 4, 1], activation="tanh", output="sigmoid", batch_norm=True)),
    "float32_accumulation": (Float32AccumulationBug(), "matmul",
                             dict(layer_sizes=[3, 4, 1], activation="tanh", output="sigmoid")),
}

#: The kernels each bug is expected to fail in the conformance kit.
KIT_FAILS = {
    "sign": {"activation_backward"},
    "transpose": {"linear_forward"},
    "off_by_one": {"linear_backward"},
    "softmax_no_max": {"softmax", "activation_forward"},
    "unbiased_variance": {"batchnorm_forward"},
    "float32_accumulation": {"matmul", "linear_forward"},
}
