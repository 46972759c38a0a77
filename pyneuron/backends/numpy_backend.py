"""The ``numpy`` backend: every kernel of :mod:`pyneuron.backends.base`, vectorized.

Each function is the scalar backend's loop written as array expressions, kernel
for kernel; see the base class for the equations. Inputs keep their dtype
(float32 stays float32).
"""
from __future__ import annotations

import numpy as np

from .base import PROB_EPS, Backend, check_loss_inputs, check_targets
from .kernel_checks import (check_activation_backward, check_activation_name, check_batchnorm, check_dropout,
                            check_linear_backward, check_linear_forward, check_matmul, check_output_delta,
                            check_penalty_args, check_softmax_input, check_step, check_step_count)
from .slope_name import DEFAULT_NEGATIVE_SLOPE, old_slope_keyword


def _sigmoid(Z):
    # exp(-|z|) never overflows; pick the algebraically equal form per sign.
    e = np.exp(-np.abs(Z))
    return np.where(Z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(Z.dtype, copy=False)


class NumpyBackend(Backend):
    """The kernels of :class:`~pyneuron.backends.base.Backend`, vectorized with NumPy
    (float64 and float32); fit runs its fused plan (:mod:`pyneuron.backends.numpy_plan`)."""

    name = "numpy"
    dtypes = (np.float64, np.float32)

    def train_plan(self, model, optimizer, l1=0.0, l2=0.0, clip_value=None, clip_norm=None,
                   track_accuracy=False, **extras):
        """The vectorized plan (:class:`~pyneuron.backends.numpy_plan.NumpyTrainPlan`: a
        whole step in NumPy, in buffers reused between steps) for every model it supports;
        the per-operation plan otherwise. A subclass (the ``c`` backend, a backend with
        kernels of its own) gets the per-operation plan over its kernels unless it makes
        its own: the vectorized plan does not call the kernels it would override. It runs
        every :class:`~pyneuron.penalties.Penalty` and weighted samples (the ``sample_weight``
        extra, see :meth:`Backend.train_plan`)."""
        from ..training_plan import plan_extras
        from .numpy_plan import NumpyTrainPlan, supports
        penalty, sample_weight = plan_extras(**extras)
        if type(self) is NumpyBackend and supports(model):
            return NumpyTrainPlan(self, model, optimizer, l1, l2, clip_value, clip_norm, track_accuracy,
                                  penalty=penalty, sample_weight=sample_weight)
        return super().train_plan(model, optimizer, l1, l2, clip_value, clip_norm, track_accuracy, **extras)

    # linear algebra
    def matmul(self, A, B, trans_a=False, trans_b=False):
        check_matmul(A, B, trans_a, trans_b)
        return (A.T if trans_a else A) @ (B.T if trans_b else B)

    def linear_forward(self, X, W, b):
        check_linear_forward(X, W, b)
        return X @ W.T + b

    def linear_backward(self, dZ, X, W):
        check_linear_backward(dZ, X, W)
        return dZ @ W, dZ.T @ X, dZ.sum(axis=0)

    # activations
    def activation_forward(self, name, Z, negative_slope=DEFAULT_NEGATIVE_SLOPE, *, alpha=None):
        if alpha is not None:       # the slope's old name, deprecated (see slope_name)
            negative_slope = old_slope_keyword(f"{type(self).__name__}.activation_forward", negative_slope, alpha)
        check_activation_name(name)
        if name == "sigmoid":
            return _sigmoid(Z)
        if name == "tanh":
            return np.tanh(Z)
        if name == "relu":
            return np.maximum(Z, 0.0).astype(Z.dtype, copy=False)
        if name == "leaky_relu":
            return np.where(Z > 0, Z, Z * Z.dtype.type(negative_slope))
        if name == "softmax":
            return self.softmax(Z)
        return Z.copy()                 # linear, the one name left

    def activation_backward(self, name, dA, Z, A, negative_slope=DEFAULT_NEGATIVE_SLOPE, *, alpha=None):
        if alpha is not None:       # the slope's old name, deprecated (see slope_name)
            negative_slope = old_slope_keyword(f"{type(self).__name__}.activation_backward", negative_slope, alpha)
        check_activation_backward(name, dA, Z, A)
        if name == "sigmoid":
            return dA * A * (1.0 - A)
        if name == "tanh":
            return dA * (1.0 - A * A)
        if name == "relu":
            return np.where(Z > 0, dA, 0.0).astype(dA.dtype, copy=False)
        if name == "leaky_relu":
            return np.where(Z > 0, dA, dA * dA.dtype.type(negative_slope))
        if name == "softmax":
            return A * (dA - np.sum(dA * A, axis=1, keepdims=True))
        return dA.copy()                # linear, the one name left

    def softmax(self, Z):
        check_softmax_input(Z)
        E = np.exp(Z - Z.max(axis=1, keepdims=True))
        return E / E.sum(axis=1, keepdims=True)

    # losses
    def loss_value(self, loss, A, Y):
        check_loss_inputs(Y, A)
        if loss == "mse":
            return float(np.mean((A - Y) ** 2))
        # The value is clipped and summed in float64, as the scalar backend's Python
        # floats are: in float32, 1 − 1e-12 rounds to 1.0, and a saturated sigmoid
        # (a = 1.0) would give log(0) = −inf, or 0·log(0) = NaN for a right answer.
        P = np.clip(A.astype(np.float64, copy=False), PROB_EPS, 1.0 - PROB_EPS)
        if loss == "bce":
            return float(-np.mean(Y * np.log(P) + (1.0 - Y) * np.log(1.0 - P)))
        if loss == "cce":
            return float(-np.sum(Y * np.log(P)) / A.shape[0])
        raise ValueError(f"loss: unknown name {loss!r}")

    def loss_from_logits(self, loss, Z, Y):
        check_loss_inputs(Y, Z, "Z")
        Z64, Y64 = Z.astype(np.float64, copy=False), Y.astype(np.float64, copy=False)
        if loss == "bce":
            # (max(z, 0) − y z) first: it is exactly 0 for a right answer, so the small
            # log1p term is not lost against a large z
            return float(np.mean((np.maximum(Z64, 0.0) - Y64 * Z64) + np.log1p(np.exp(-np.abs(Z64)))))
        if loss == "cce":
            rows = np.arange(Z64.shape[0])
            top_index = Z64.argmax(axis=1)
            top = Z64[rows, top_index]
            E = np.exp(Z64 - top[:, None])
            E[rows, top_index] = 0.0            # the max's own e^0 = 1 is the "1 +" of log1p
            return float(np.mean((top - (Y64 * Z64).sum(axis=1)) + np.log1p(E.sum(axis=1))))
        raise ValueError(f"loss: loss_from_logits computes 'bce' or 'cce', got {loss!r}")

    def loss_gradient(self, loss, A, Y):
        check_targets(Y, A)
        if loss == "mse":
            return 2.0 * (A - Y) / A.size
        # in float64 (then rounded to A's dtype), for the reason given in loss_value
        P = np.clip(A.astype(np.float64, copy=False), PROB_EPS, 1.0 - PROB_EPS)
        Y64 = Y.astype(np.float64, copy=False)
        if loss == "bce":
            return ((P - Y64) / (P * (1.0 - P)) / A.size).astype(A.dtype, copy=False)
        if loss == "cce":
            return (-Y64 / P / A.shape[0]).astype(A.dtype, copy=False)
        raise ValueError(f"loss: unknown name {loss!r}")

    def sample_losses(self, loss, activation, A, Y, Z):
        """Each row's loss at once (see :meth:`Backend.sample_losses`), in float64."""
        check_targets(Y, A)
        if (activation, loss) == ("sigmoid", "bce"):
            Z64, Y64 = Z.astype(np.float64, copy=False), Y.astype(np.float64, copy=False)
            return ((np.maximum(Z64, 0.0) - Y64 * Z64) + np.log1p(np.exp(-np.abs(Z64)))).mean(axis=1)
        if (activation, loss) == ("softmax", "cce"):
            Z64, Y64 = Z.astype(np.float64, copy=False), Y.astype(np.float64, copy=False)
            rows = np.arange(Z64.shape[0])
            top_index = Z64.argmax(axis=1)
            top = Z64[rows, top_index]
            E = np.exp(Z64 - top[:, None])
            E[rows, top_index] = 0.0
            return (top - (Y64 * Z64).sum(axis=1)) + np.log1p(E.sum(axis=1))
        if loss == "mse":
            D = A.astype(np.float64) - Y
            return (D * D).mean(axis=1)
        P = np.clip(A.astype(np.float64, copy=False), PROB_EPS, 1.0 - PROB_EPS)
        if loss == "bce":
            return -(Y * np.log(P) + (1.0 - Y) * np.log(1.0 - P)).mean(axis=1)
        if loss == "cce":
            return -(Y * np.log(P)).sum(axis=1)
        raise ValueError(f"loss: unknown name {loss!r}")

    def output_delta(self, A, Y, n_terms):
        check_output_delta(A, Y, n_terms)
        return (A - Y) / n_terms

    # regularization
    def penalty(self, W, l1, l2, m):
        check_penalty_args(l1, l2, m)
        return float(l2 / (2.0 * m) * np.sum(W * W) + l1 / m * np.sum(np.abs(W)))

    def penalty_gradient(self, W, l1, l2, m):
        check_penalty_args(l1, l2, m)
        return (l2 / m) * W + (l1 / m) * np.sign(W)

    def dropout_forward(self, A, mask, keep_prob):
        check_dropout(A, mask, keep_prob)
        return A * mask / keep_prob

    def dropout_backward(self, dA, mask, keep_prob):
        check_dropout(dA, mask, keep_prob)
        return dA * mask / keep_prob

    def batchnorm_forward(self, Z, gamma, beta, eps):
        check_batchnorm(eps, {"Z": Z}, {"gamma": gamma, "beta": beta})
        mean = Z.mean(axis=0)
        var = ((Z - mean) ** 2).mean(axis=0)
        Zhat = (Z - mean) / np.sqrt(var + eps)
        return gamma * Zhat + beta, Zhat, mean, var

    def batchnorm_inference(self, Z, gamma, beta, running_mean, running_var, eps):
        check_batchnorm(eps, {"Z": Z}, {"gamma": gamma, "beta": beta, "running_mean": running_mean,
                                        "running_var": running_var})
        return gamma * (Z - running_mean) / np.sqrt(running_var + eps) + beta

    def batchnorm_backward(self, dY, Zhat, gamma, var, eps):
        check_batchnorm(eps, {"dY": dY, "Zhat": Zhat}, {"gamma": gamma, "var": var})
        m = dY.shape[0]
        dbeta = dY.sum(axis=0)
        dgamma = (dY * Zhat).sum(axis=0)
        dZ = gamma / (m * np.sqrt(var + eps)) * (m * dY - dbeta - Zhat * dgamma)
        return dZ, dgamma, dbeta

    # optimizer steps, in place
    def sgd_step(self, param, grad, lr):
        check_step(grad, {"param": param}, lr=lr)
        param -= lr * grad

    def momentum_step(self, param, grad, velocity, lr, beta, dampening, nesterov):
        check_step(grad, {"param": param, "velocity": velocity}, lr=lr, beta=beta, dampening=dampening)
        velocity *= beta
        velocity += (1.0 - dampening) * grad
        param -= lr * (grad + beta * velocity if nesterov else velocity)

    def rmsprop_step(self, param, grad, square_avg, lr, rho, eps):
        check_step(grad, {"param": param, "square_avg": square_avg}, lr=lr, rho=rho, eps=eps)
        square_avg *= rho
        square_avg += (1.0 - rho) * grad * grad
        param -= lr * grad / (np.sqrt(square_avg) + eps)

    def momentum_course_step(self, param, grad, velocity, lr, mu):
        check_step(grad, {"param": param, "velocity": velocity}, lr=lr, mu=mu)
        velocity *= mu
        velocity -= lr * grad
        param += velocity

    def adagrad_step(self, param, grad, square_sum, lr, eps):
        check_step(grad, {"param": param, "square_sum": square_sum}, lr=lr, eps=eps)
        square_sum += grad * grad
        param -= lr * grad / (np.sqrt(square_sum) + eps)

    def adam_step(self, param, grad, m, v, lr, beta1, beta2, eps, t, weight_decay=0.0):
        check_step(grad, {"param": param, "m": m, "v": v}, lr=lr, eps=eps, beta1=beta1, beta2=beta2,
                   weight_decay=weight_decay)
        check_step_count(t)
        if weight_decay:
            param *= 1.0 - lr * weight_decay
        m *= beta1
        m += (1.0 - beta1) * grad
        v *= beta2
        v += (1.0 - beta2) * grad * grad
        m_hat = m / (1.0 - beta1 ** t)
        v_hat = v / (1.0 - beta2 ** t)
        param -= lr * m_hat / (np.sqrt(v_hat) + eps)
