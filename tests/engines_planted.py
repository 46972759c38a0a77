"""Backends with one planted mistake each, the kinds a learner makes (issue 12's list).

Each is the numpy backend with one kernel rewritten wrongly. ``PLANTED`` maps a name to
``(backend object, the kernel that is wrong, a network that exercises it)``; the tests
of the conformance kit and of ``compare_backends`` both use it.

``STRICT_PLANTED`` adds one mistake for each kind of private differential test the kit
replaced (tests/test_differential.py): each must fail the kit at the project's strict
settings in the kernels listed (the blocked matmul's lost tail only there: it needs
sizes above 16)."""
from __future__ import annotations

import numpy as np

from pyneuron.backends.numpy_backend import NumpyBackend


class SignBug(NumpyBackend):
    """activation_backward of tanh with the derivative's sign flipped: dA·(a² − 1)."""

    def activation_backward(self, name, dA, Z, A, negative_slope=0.01):
        if name == "tanh":
            return dA * (A * A - 1)
        return super().activation_backward(name, dA, Z, A, negative_slope)


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

    def activation_forward(self, name, Z, negative_slope=0.01):
        if name == "softmax":
            return self._softmax(Z)
        return super().activation_forward(name, Z, negative_slope)


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


class BlockedTailBug(NumpyBackend):
    """matmul summing the inner dimension in blocks of 16 and dropping the last, partial
    block once there is more than one block (a blocked loop's bound off by one block)."""

    def matmul(self, A, B, trans_a=False, trans_b=False):
        A = A.T if trans_a else A
        B = B.T if trans_b else B
        k = A.shape[1]
        blocks = k // 16 if k > 16 else 1
        stop = min(k, 16 * blocks)
        return A[:, :stop] @ B[:stop, :]


class LeakySlopeBug(NumpyBackend):
    """leaky relu with the slope 0.01 written in, ignoring ``negative_slope``."""

    def activation_forward(self, name, Z, negative_slope=0.01):
        return super().activation_forward(name, Z, 0.01 if name == "leaky_relu" else negative_slope)


class TanhFormulaBug(NumpyBackend):
    """tanh by its textbook formula (e^2z − 1)/(e^2z + 1): e^2z − 1 cancels near z = 0,
    keeping ~1e-16/|z| of relative accuracy and nothing of a z below 1e-16 (saturated
    |z| > 20 is left to np.tanh, so nothing overflows)."""

    def activation_forward(self, name, Z, negative_slope=0.01):
        if name == "tanh":
            with np.errstate(over="ignore", invalid="ignore"):
                e = np.exp(2 * Z)
                return np.where(np.abs(Z) > 20, np.tanh(Z), (e - 1) / (e + 1))
        return super().activation_forward(name, Z, negative_slope)


class LogsumexpNoMaxBug(NumpyBackend):
    """cross-entropy from logits with log(Σ e^z) taken without the row max: overflows."""

    def loss_from_logits(self, loss, Z, Y):
        if loss == "cce":
            Z64 = Z.astype(np.float64)
            return float(np.mean(np.log(np.exp(Z64).sum(axis=1)) - (Y * Z64).sum(axis=1)))
        return super().loss_from_logits(loss, Z, Y)


class MseGradientBug(NumpyBackend):
    """mse's gradient without its factor 2 (the derivative of a square)."""

    def loss_gradient(self, loss, A, Y):
        if loss == "mse":
            return (A - Y) / A.size
        return super().loss_gradient(loss, A, Y)


class PenaltyHalfBug(NumpyBackend):
    """the L2 penalty without its ½ (so its gradient is no longer the gradient kernel's)."""

    def penalty(self, W, l1, l2, m):
        return float(l2 / m * np.sum(W * W) + l1 / m * np.sum(np.abs(W)))


class DropoutScaleBug(NumpyBackend):
    """dropout's backward without the division by the keep probability."""

    def dropout_backward(self, dA, mask, keep_prob):
        return dA * mask


class BatchnormBackwardBug(NumpyBackend):
    """batch norm's dZ without the Ẑ·dγ term (the variance's path is forgotten)."""

    def batchnorm_backward(self, dY, Zhat, gamma, var, eps):
        dZ, dgamma, dbeta = super().batchnorm_backward(dY, Zhat, gamma, var, eps)
        m = dY.shape[0]
        return gamma / (m * np.sqrt(var + eps)) * (m * dY - dbeta), dgamma, dbeta


class AdamBiasCorrectionBug(NumpyBackend):
    """Adam without its bias correction (m and v used as they are)."""

    def adam_step(self, param, grad, m, v, lr, beta1, beta2, eps, t, weight_decay=0.0):
        if weight_decay:
            param *= 1.0 - lr * weight_decay
        m *= beta1
        m += (1.0 - beta1) * grad
        v *= beta2
        v += (1.0 - beta2) * grad * grad
        param -= lr * m / (np.sqrt(v) + eps)


class DenseForwardBiasBug(NumpyBackend):
    """the fused dense_forward forgetting the bias (its primitives are right: the kit sees it
    in its own dense_forward's cases and in whole training runs, which use it)."""

    def dense_forward(self, X, W, b, activation, negative_slope=0.01):
        Z = X @ W.T
        return Z, self.activation_forward(activation, Z, negative_slope)


#: kind of deleted private test -> (backend, kernels the strict kit must fail in)
STRICT_PLANTED = {
    "matmul, blocked tail": (BlockedTailBug(), {"matmul"}),
    "matmul, float32 accumulation": (Float32AccumulationBug(), {"matmul", "linear_forward"}),
    "linear, transpose": (TransposeBug(), {"linear_forward"}),
    "linear, off by one": (OffByOneBug(), {"linear_backward"}),
    "activation, sign": (SignBug(), {"activation_backward"}),
    "activation, leaky slope": (LeakySlopeBug(), {"activation_forward"}),
    "activation, tanh near 0": (TanhFormulaBug(), {"activation_forward"}),
    "softmax, no row max": (SoftmaxNoMaxBug(), {"softmax", "activation_forward"}),
    "loss from logits, no row max": (LogsumexpNoMaxBug(), {"loss_from_logits"}),
    "loss gradient, missing 2": (MseGradientBug(), {"loss_gradient"}),
    "penalty, missing half": (PenaltyHalfBug(), {"penalty"}),
    "dropout, missing scale": (DropoutScaleBug(), {"dropout_backward"}),
    "batch norm forward, unbiased variance": (UnbiasedVarianceBug(), {"batchnorm_forward"}),
    "batch norm backward, missing term": (BatchnormBackwardBug(), {"batchnorm_backward"}),
    "optimizer, no bias correction": (AdamBiasCorrectionBug(), {"adam_step"}),
    "training, fused kernel": (DenseForwardBiasBug(), {"dense_forward", "training"}),
}


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
