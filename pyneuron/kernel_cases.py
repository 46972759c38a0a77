"""The inputs the conformance kit (:mod:`pyneuron.testing`) runs each kernel on.

``kernel_cases()`` maps each kernel of the interface to its variants (an activation, a
loss, an optimizer setting), each with a builder of random arguments of given sizes and
dtype, the positions of the arguments it updates in place, and whether it sums terms
(which widens the tolerance, see :mod:`pyneuron.testing`). ``edge_cases()`` lists the
inputs the project learned to test by hand: saturation, huge softmax rows, the kinks of
relu at exactly 0, probabilities of exactly 0 and 1, a one-sample batch.
"""
from __future__ import annotations

import numpy as np


def kernel_cases():
    """kernel -> list of (variant, builder, mutated argument positions, sums terms?).

    A builder takes ``(rng, dims, dtype, big)`` and returns ``(args, kwargs)``."""
    from .backends.base import ACTIVATIONS

    def arr(rng, shape, dtype, scale=2.0, zeros=True):
        a = rng.standard_normal(shape) * scale
        if zeros:
            a[rng.random(shape) < 0.15] = 0.0
        return a.astype(dtype)

    def probs(rng, shape, dtype, edges=True):
        p = rng.random(shape)
        if edges:
            p[rng.random(shape) < 0.1] = 0.0
            p[rng.random(shape) < 0.1] = 1.0
        return p.astype(dtype)

    def onehot(rng, m, k, dtype):
        Y = np.zeros((m, k), dtype)
        Y[np.arange(m), rng.integers(0, k, m)] = 1
        return Y

    def softmax(Z):
        e = np.exp(Z - Z.max(axis=1, keepdims=True))
        return (e / e.sum(axis=1, keepdims=True)).astype(Z.dtype)

    cases = {}

    def add(kernel, variant, build, mutated=(), sums=False):
        cases.setdefault(kernel, []).append((variant, build, mutated, sums))

    for ta, tb in ((False, False), (True, False), (False, True)):
        add("matmul", f"trans_a={ta}, trans_b={tb}",
            lambda r, d, t, big, ta=ta, tb=tb: (
                (arr(r, (d[1], d[0]) if ta else (d[0], d[1]), t), arr(r, (d[2], d[1]) if tb else (d[1], d[2]), t)),
                {"trans_a": ta, "trans_b": tb}), sums=True)
    add("linear_forward", "", lambda r, d, t, big: (
        (arr(r, (d[0], d[1]), t), arr(r, (d[2], d[1]), t), arr(r, (d[2],), t)), {}), sums=True)
    add("linear_backward", "", lambda r, d, t, big: (
        (arr(r, (d[0], d[2]), t), arr(r, (d[0], d[1]), t), arr(r, (d[2],d[1]), t)), {}), sums=True)
    for act in ACTIVATIONS:
        add("activation_forward", act, lambda r, d, t, big, act=act: (
            (act, arr(r, (d[0], d[2]), t, big if act == "softmax" else big / 3)), {"alpha": 0.01}))
        add("activation_backward", act, lambda r, d, t, big, act=act: _act_backward_args(
            act, arr(r, (d[0], d[2]), t), arr(r, (d[0], d[2]), t, 3.0), softmax))
    add("softmax", "", lambda r, d, t, big: ((arr(r, (d[0], d[2]), t, big),), {}))
    for loss in ("mse", "bce", "cce"):
        add("loss_value", loss, lambda r, d, t, big, loss=loss: _loss_args(
            loss, r, d, t, probs, onehot, softmax, arr), sums=True)
        add("loss_gradient", loss, lambda r, d, t, big, loss=loss: _loss_args(
            loss, r, d, t, probs, onehot, softmax, arr))
    add("loss_from_logits", "bce", lambda r, d, t, big: (
        ("bce", arr(r, (d[0], d[2]), t, big / 3), (r.random((d[0], d[2])) < 0.5).astype(t)), {}), sums=True)
    add("loss_from_logits", "cce", lambda r, d, t, big: (
        ("cce", arr(r, (d[0], d[2]), t, big / 3), onehot(r, d[0], d[2], t)), {}), sums=True)
    add("output_delta", "", lambda r, d, t, big: (
        (probs(r, (d[0], d[2]), t), (r.random((d[0], d[2])) < 0.5).astype(t), d[0] * d[2]), {}))
    add("penalty", "", lambda r, d, t, big: ((arr(r, (d[2], d[1]), t), 0.3, 0.7, d[0]), {}), sums=True)
    add("penalty_gradient", "", lambda r, d, t, big: ((arr(r, (d[2], d[1]), t), 0.3, 0.7, d[0]), {}))
    for kernel in ("dropout_forward", "dropout_backward"):
        add(kernel, "", lambda r, d, t, big: (
            (arr(r, (d[0], d[2]), t), (r.random((d[0], d[2])) < 0.7).astype(t), 0.7), {}))
    add("batchnorm_forward", "", lambda r, d, t, big: (
        (arr(r, (d[0], d[2]), t, 3.0) + t(1.5), arr(r, (d[2],), t) + t(1), arr(r, (d[2],), t), 1e-5), {}),
        sums=True)
    add("batchnorm_inference", "", lambda r, d, t, big: (
        (arr(r, (d[0], d[2]), t), arr(r, (d[2],), t), arr(r, (d[2],), t), arr(r, (d[2],), t),
         np.abs(arr(r, (d[2],), t)) + t(0.1), 1e-5), {}))
    add("batchnorm_backward", "", lambda r, d, t, big: _bn_backward_args(r, d, t, arr), sums=True)
    add("sgd_step", "", lambda r, d, t, big: ((arr(r, (d[2], d[1]), t), arr(r, (d[2], d[1]), t), 0.1), {}),
        mutated=(0,))
    for nesterov, damp in ((False, 0.0), (True, 0.0), (False, 0.9)):
        add("momentum_step", f"nesterov={nesterov}, dampening={damp}", lambda r, d, t, big, n=nesterov, dp=damp: (
            (arr(r, (d[2],), t), arr(r, (d[2],), t), arr(r, (d[2],), t), 0.1, 0.9, dp, n), {}), mutated=(0, 2))
    add("rmsprop_step", "", lambda r, d, t, big: (
        (arr(r, (d[2],), t), arr(r, (d[2],), t), np.abs(arr(r, (d[2],), t)), 0.01, 0.9, 1e-8), {}), mutated=(0, 2))
    for wd in (0.0, 0.01):
        add("adam_step", f"weight_decay={wd}", lambda r, d, t, big, wd=wd: (
            (arr(r, (d[2],), t), arr(r, (d[2],), t), arr(r, (d[2],), t), np.abs(arr(r, (d[2],), t)),
             0.01, 0.9, 0.999, 1e-8, int(r.integers(1, 20))), {"weight_decay": wd}), mutated=(0, 2, 3))
    add("momentum_course_step", "", lambda r, d, t, big: (
        (arr(r, (d[2],), t), arr(r, (d[2],), t), arr(r, (d[2],), t), 0.1, 0.9), {}), mutated=(0, 2))
    add("adagrad_step", "", lambda r, d, t, big: (
        (arr(r, (d[2],), t), arr(r, (d[2],), t), np.abs(arr(r, (d[2],), t)), 0.1, 1e-10), {}), mutated=(0, 2))
    return cases


def _act_backward_args(act, Z, dA, softmax):
    A = {"sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh, "relu": lambda z: np.maximum(z, 0),
         "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z), "linear": lambda z: z.copy(),
         "softmax": softmax}[act](Z.astype(np.float64)).astype(Z.dtype)
    return (act, dA, Z, A), {"alpha": 0.01}


def _loss_args(loss, r, d, t, probs, onehot, softmax, arr):
    m, k = d[0], d[2]
    if loss == "cce":
        return (loss, softmax(arr(r, (m, k), t)), onehot(r, m, k, t)), {}
    if loss == "bce":
        return (loss, probs(r, (m, k), t), (r.random((m, k)) < 0.5).astype(t)), {}
    return (loss, arr(r, (m, k), t), arr(r, (m, k), t)), {}


def _bn_backward_args(r, d, t, arr):
    Z = arr(r, (d[0], d[2]), t, 3.0)
    mean, var = Z.mean(axis=0), Z.var(axis=0)
    Zhat = ((Z - mean) / np.sqrt(var + 1e-5)).astype(t)
    return (arr(r, (d[0], d[2]), t), Zhat, arr(r, (d[2],), t) + t(1), var.astype(t), 1e-5), {}


def edge_cases():
    """(kernel, variant, args, kwargs) the project learned the hard way (float64)."""
    big = np.array([[1000.0, 1000.0, -1000.0], [-745.0, 0.0, 745.0]])
    z = np.array([[-700.0, -40.0, -1e-300, 0.0, 40.0, 700.0]])
    kink = np.array([[-1.0, 0.0, -0.0, 1e-300, 1.0]])
    return [
        ("activation_forward", "sigmoid saturation", ("sigmoid", z), {"alpha": 0.01}),
        ("activation_forward", "tanh saturation", ("tanh", z), {"alpha": 0.01}),
        ("softmax", "rows with a huge offset", (big,), {}),
        ("activation_forward", "softmax rows with a huge offset", ("softmax", big), {"alpha": 0.01}),
        ("activation_backward", "relu kink at 0", ("relu", np.ones_like(kink), kink, np.maximum(kink, 0)),
         {"alpha": 0.01}),
        ("activation_backward", "leaky_relu kink at 0", ("leaky_relu", np.ones_like(kink), kink,
                                                         np.where(kink > 0, kink, 0.01 * kink)), {"alpha": 0.01}),
        ("loss_from_logits", "bce confident", ("bce", np.array([[40.0, -40.0, 30.0]]), np.array([[1.0, 0.0, 0.0]])), {}),
        ("loss_from_logits", "cce huge logits", ("cce", big, np.array([[1.0, 0, 0], [0, 0, 1.0]])), {}),
        ("loss_value", "bce at exactly 0 and 1", ("bce", np.array([[0.0, 1.0]]), np.array([[1.0, 0.0]])), {}),
        ("batchnorm_forward", "one sample", (np.array([[3.0, -2.0]]), np.ones(2), np.zeros(2), 1e-5), {}),
        ("linear_forward", "batch of 1, one feature", (np.array([[2.0]]), np.array([[3.0]]), np.array([0.5])), {}),
    ]
