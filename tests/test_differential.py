"""Differential tests: the ``scalar`` backend (the textbook loops) is the
reference; ``numpy`` and ``c`` must agree with it kernel by kernel on
hypothesis-generated shapes and values (batch of 1, one feature, narrow and
wide layers, |z| up to ~700), to a relative 1e-12 in float64.

For kernels that *sum* terms which can cancel (matmul, linear layers, batch
norm's centring), a relative tolerance on the result is meaningless when the
result is near 0 although the terms are large: a different summation order
legitimately changes the rounding by ~1e-16 × (size of the terms). There we use
``atol = 1e-12 × magnitude of the summed terms`` (e.g. ``(|A| @ |B|).max()``).

Then whole models: forward, loss, gradients and 5 training steps agree across
backends from the same seed; float32 agrees with float64 to ~1e-5.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pyneuron
from pyneuron import MLP, backends
from pyneuron.optimizers import Adam

from helpers import assert_close, require_backend

OTHERS = ["numpy", "c"]
RTOL = 1e-12
SETTINGS = settings(max_examples=50, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

dims = st.one_of(st.integers(1, 4), st.integers(5, 12), st.sampled_from([17, 40]))
batch = st.one_of(st.just(1), st.integers(2, 9), st.just(25))
scales = st.sampled_from([1e-3, 1.0, 10.0, 100.0])


@st.composite
def matrix(draw, shape, scale=None, zeros=True):
    """A float64 array: Gaussian values times a drawn scale, with some exact zeros."""
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    s = draw(scales) if scale is None else scale
    a = rng.standard_normal(shape) * s
    if zeros and draw(st.booleans()):
        a[rng.random(shape) < 0.2] = 0.0
    return a


def other_kernels(name):
    require_backend(name)
    return backends.get(name)


REF = backends.get("scalar")


def both(name, kernel, *args, **kwargs):
    """Run ``kernel`` on the scalar reference and on backend ``name``."""
    return getattr(REF, kernel)(*args, **kwargs), getattr(other_kernels(name), kernel)(*args, **kwargs)


# ---------------------------------------------------------------- linear algebra
@pytest.mark.parametrize("name", OTHERS)
@pytest.mark.parametrize("trans_a, trans_b", [(False, False), (True, False), (False, True)])
@SETTINGS
@given(data=st.data(), m=batch, k=dims, n=dims)
def test_matmul(name, trans_a, trans_b, data, m, k, n):
    A = data.draw(matrix((k, m) if trans_a else (m, k)))
    B = data.draw(matrix((n, k) if trans_b else (k, n)))
    ref, got = both(name, "matmul", A, B, trans_a=trans_a, trans_b=trans_b)
    opA, opB = (A.T if trans_a else A), (B.T if trans_b else B)
    scale = (np.abs(opA) @ np.abs(opB)).max()        # size of the summed terms (cancellation)
    assert_close(got, ref, rtol=RTOL, atol=1e-12 * scale, what="matmul")


@pytest.mark.parametrize("name", OTHERS)
@SETTINGS
@given(data=st.data(), m=batch, n_in=dims, n_out=dims)
def test_linear_forward_backward(name, data, m, n_in, n_out):
    X = data.draw(matrix((m, n_in)))
    W = data.draw(matrix((n_out, n_in)))
    b = data.draw(matrix((n_out,)))
    ref, got = both(name, "linear_forward", X, W, b)
    assert_close(got, ref, rtol=RTOL, atol=1e-12 * ((np.abs(X) @ np.abs(W).T).max() + np.abs(b).max()), what="Z")
    dZ = data.draw(matrix((m, n_out)))
    (rdX, rdW, rdb), (dX, dW, db) = both(name, "linear_backward", dZ, X, W)
    assert_close(dX, rdX, rtol=RTOL, atol=1e-12 * (np.abs(dZ) @ np.abs(W)).max(), what="dX")
    assert_close(dW, rdW, rtol=RTOL, atol=1e-12 * (np.abs(dZ).T @ np.abs(X)).max(), what="dW")
    assert_close(db, rdb, rtol=RTOL, atol=1e-12 * np.abs(dZ).sum(axis=0).max(), what="db")


# ---------------------------------------------------------------- activations
@pytest.mark.parametrize("name", OTHERS)
@pytest.mark.parametrize("act", ["sigmoid", "tanh", "relu", "leaky_relu", "linear", "softmax"])
@SETTINGS
@given(data=st.data(), m=batch, n=dims, scale=st.sampled_from([1e-3, 1.0, 30.0, 700.0]),
       alpha=st.sampled_from([0.01, 0.2]))
def test_activation_forward_backward(name, act, data, m, n, scale, alpha):
    Z = data.draw(matrix((m, n), scale=scale))
    Z = np.clip(Z, -700.0, 700.0)                       # large |z| up to ~700
    rA, A = both(name, "activation_forward", act, Z, alpha)
    assert_close(A, rA, rtol=RTOL, atol=1e-300, what=f"{act} forward")
    dA = data.draw(matrix((m, n)))
    rdZ, dZ = both(name, "activation_backward", act, dA, Z, rA, alpha)
    if act == "softmax":
        # a_i (da_i - Σ_k da_k a_k): the inner sum can cancel against da_i
        atol = 1e-12 * (rA * (np.abs(dA) + (np.abs(dA) * rA).sum(axis=1, keepdims=True))).max()
    else:
        atol = 1e-300
    assert_close(dZ, rdZ, rtol=RTOL, atol=atol, what=f"{act} backward")


@pytest.mark.parametrize("name", OTHERS)
@SETTINGS
@given(data=st.data(), m=batch, n=dims, scale=st.sampled_from([1.0, 50.0, 700.0]))
def test_softmax(name, data, m, n, scale):
    Z = np.clip(data.draw(matrix((m, n), scale=scale)), -700.0, 700.0)
    ref, got = both(name, "softmax", Z)
    assert_close(got, ref, rtol=RTOL, atol=1e-300, what="softmax")
    assert_close(got.sum(axis=1), np.ones(m), rtol=1e-13)


# ---------------------------------------------------------------- losses
@st.composite
def predictions(draw, m, k, loss):
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    if loss == "cce":
        Z = rng.standard_normal((m, k)) * draw(st.sampled_from([0.5, 3.0, 40.0]))
        E = np.exp(Z - Z.max(axis=1, keepdims=True))
        A = E / E.sum(axis=1, keepdims=True)
        Y = np.eye(k)[rng.integers(0, k, m)]
    elif loss == "bce":
        A = rng.random((m, k))
        if draw(st.booleans()):                      # exact 0s and 1s: clipping must hold
            A[rng.random((m, k)) < 0.2] = 0.0
            A[rng.random((m, k)) < 0.2] = 1.0
        Y = (rng.random((m, k)) < 0.5).astype(float)
    else:
        A = rng.standard_normal((m, k)) * 10
        Y = rng.standard_normal((m, k)) * 10
    return A, Y


@pytest.mark.parametrize("name", OTHERS)
@pytest.mark.parametrize("loss", ["bce", "cce"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@SETTINGS
@given(data=st.data(), m=batch, k=st.integers(2, 12), scale=st.sampled_from([1e-3, 1.0, 30.0, 700.0]))
def test_loss_from_logits(name, loss, dtype, data, m, k, scale):
    """The logits' loss, from |z| tiny to far past saturation (where probabilities round)."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1)))
    Z = (rng.standard_normal((m, k)) * scale).astype(dtype)
    Y = (rng.random((m, k)) < 0.5).astype(dtype) if loss == "bce" else np.eye(k, dtype=dtype)[rng.integers(0, k, m)]
    rv, v = both(name, "loss_from_logits", loss, Z, Y)
    assert np.isfinite(rv) and rv >= 0
    assert abs(v - rv) <= RTOL * abs(rv) + 1e-300, (v, rv)   # a sum of non-negative terms: no cancellation


@pytest.mark.parametrize("name", OTHERS)
@pytest.mark.parametrize("loss", ["mse", "bce", "cce"])
@SETTINGS
@given(data=st.data(), m=batch, k=dims)
def test_loss_value_and_gradient(name, loss, data, m, k):
    A, Y = data.draw(predictions(m, k, loss))
    rv, v = both(name, "loss_value", loss, A, Y)
    assert np.isfinite(rv)
    assert abs(v - rv) <= RTOL * abs(rv) + 1e-300, (v, rv)   # a sum of non-negative terms: no cancellation
    rg, g = both(name, "loss_gradient", loss, A, Y)
    assert np.all(np.isfinite(rg))
    assert_close(g, rg, rtol=RTOL, what=f"{loss} gradient")
    n_terms = A.size if loss != "cce" else m
    rd, d = both(name, "output_delta", A, Y, n_terms)
    assert_close(d, rd, rtol=RTOL, atol=1e-300, what="output_delta")


# ---------------------------------------------------------------- regularization
@pytest.mark.parametrize("name", OTHERS)
@SETTINGS
@given(data=st.data(), n_out=dims, n_in=dims, l1=st.sampled_from([0.0, 0.3]),
       l2=st.sampled_from([0.0, 0.01, 2.0]), m=st.integers(1, 64))
def test_penalty(name, data, n_out, n_in, l1, l2, m):
    W = data.draw(matrix((n_out, n_in)))
    rp, p = both(name, "penalty", W, l1, l2, m)
    assert abs(p - rp) <= RTOL * abs(rp), (p, rp)
    rg, g = both(name, "penalty_gradient", W, l1, l2, m)
    # l2/m w + l1/m sign(w): two terms of possibly opposite sign
    assert_close(g, rg, rtol=RTOL, atol=1e-12 * (l2 / m * np.abs(W) + l1 / m).max(), what="penalty gradient")


@pytest.mark.parametrize("name", OTHERS)
@SETTINGS
@given(data=st.data(), m=batch, n=dims, keep=st.sampled_from([0.1, 0.5, 0.8, 1.0]))
def test_dropout(name, data, m, n, keep):
    A = data.draw(matrix((m, n)))
    mask = (np.random.default_rng(m * 100 + n).random((m, n)) < keep).astype(float)
    ref, got = both(name, "dropout_forward", A, mask, keep)
    assert_close(got, ref, rtol=RTOL, what="dropout forward")
    ref, got = both(name, "dropout_backward", A, mask, keep)
    assert_close(got, ref, rtol=RTOL, what="dropout backward")


@pytest.mark.parametrize("name", OTHERS)
@SETTINGS
@given(data=st.data(), m=st.integers(2, 25), n=dims, eps=st.sampled_from([1e-5, 1e-3]))
def test_batchnorm(name, data, m, n, eps):
    Z = data.draw(matrix((m, n), zeros=False)) + data.draw(matrix((n,)))   # columns with offsets
    gamma = data.draw(matrix((n,), scale=1.0)) + 1.0
    beta = data.draw(matrix((n,), scale=1.0))
    (rY, rZh, rmu, rvar), (Yb, Zh, mu, var) = both(name, "batchnorm_forward", Z, gamma, beta, eps)
    big = np.abs(Z).max(axis=0)                       # size of the terms summed into mean / var
    assert_close(mu, rmu, rtol=RTOL, atol=1e-12 * big, what="mean")
    assert_close(var, rvar, rtol=1e-11, atol=1e-12 * big ** 2, what="var")
    # Ẑ = (z - μ)/√(σ²+ε): z - μ cancels; its error is ~ulp(|z|)/√(σ²+ε)
    zh_atol = 1e-12 * (big / np.sqrt(rvar + eps)).max()
    assert_close(Zh, rZh, rtol=1e-11, atol=zh_atol, what="Zhat")
    assert_close(Yb, rY, rtol=1e-11, atol=zh_atol * np.abs(gamma).max() + 1e-12 * np.abs(beta).max(), what="Y")
    rm, rv = data.draw(matrix((n,))), np.abs(data.draw(matrix((n,)))) + 0.1
    ref, got = both(name, "batchnorm_inference", Z, gamma, beta, rm, rv, eps)
    inf_atol = 1e-12 * ((np.abs(Z) + np.abs(rm)) * np.abs(gamma) / np.sqrt(rv + eps) + np.abs(beta)).max()
    assert_close(got, ref, rtol=RTOL, atol=inf_atol, what="batchnorm inference")
    dY = data.draw(matrix((m, n), scale=1.0))
    (rdZ, rdg, rdb), (dZ, dg, db) = both(name, "batchnorm_backward", dY, rZh, gamma, rvar, eps)
    # m dY - Σ dY - Ẑ Σ dY Ẑ cancels by design (the gradient is orthogonal to 1 and Ẑ)
    terms = m * np.abs(dY) + np.abs(dY).sum(axis=0) + np.abs(rZh) * np.abs(dY * rZh).sum(axis=0)
    dz_atol = 1e-12 * (np.abs(gamma) / (m * np.sqrt(rvar + eps)) * terms).max()
    assert_close(dZ, rdZ, rtol=1e-11, atol=dz_atol, what="dZ")
    assert_close(dg, rdg, rtol=RTOL, atol=1e-12 * np.abs(dY * rZh).sum(axis=0).max(), what="dgamma")
    assert_close(db, rdb, rtol=RTOL, atol=1e-12 * np.abs(dY).sum(axis=0).max(), what="dbeta")


# ---------------------------------------------------------------- optimizer steps
@pytest.mark.parametrize("name", OTHERS)
@pytest.mark.parametrize("opt", ["sgd", "momentum", "nesterov", "ema", "rmsprop", "adam", "adamw"])
@SETTINGS
@given(data=st.data(), shape=st.sampled_from([(1,), (7,), (3, 4), (40, 17)]), lr=st.sampled_from([1e-3, 0.1, 1.0]))
def test_optimizer_steps(name, opt, data, shape, lr):
    kernels = other_kernels(name)
    p0 = data.draw(matrix(shape))
    grads = [data.draw(matrix(shape)) for _ in range(3)]
    results = []
    for k in (REF, kernels):
        p = p0.copy()
        s1, s2 = np.zeros(shape), np.zeros(shape)
        for t, g in enumerate(grads, start=1):
            if opt == "sgd":
                k.sgd_step(p, g, lr)
            elif opt in ("momentum", "nesterov", "ema"):
                k.momentum_step(p, g, s1, lr, 0.9, 0.9 if opt == "ema" else 0.0, opt == "nesterov")
            elif opt == "rmsprop":
                k.rmsprop_step(p, g, s1, lr, 0.9, 1e-8)
            else:
                k.adam_step(p, g, s1, s2, lr, 0.9, 0.999, 1e-8, t, 0.01 if opt == "adamw" else 0.0)
        results.append((p, s1, s2))
    (rp, rs1, rs2), (p, s1, s2) = results
    # p - lr*u subtracts: compare against the size of the terms involved
    step_scale = np.abs(p0).max() + 3 * lr * max(np.abs(g).max() for g in grads) * (30 if "m" in opt else 1)
    assert_close(p, rp, rtol=RTOL, atol=1e-12 * step_scale + 1e-12 * lr * 3, what=f"{opt} param")
    assert_close(s1, rs1, rtol=RTOL, atol=1e-12 * 3 * max(np.abs(g).max() for g in grads) ** 2 + 1e-300,
                 what=f"{opt} state")
    assert_close(s2, rs2, rtol=RTOL, atol=1e-300, what=f"{opt} second state")


# ---------------------------------------------------------------- whole models
PAIRS = [("relu", "sigmoid"), ("tanh", "softmax"), ("sigmoid", "linear"), ("leaky_relu", "softmax"),
         ("tanh", "tanh"), (["relu", "tanh"], "sigmoid")]


def _problem(output, n_out, m=40, n_in=3, seed=7):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n_in))
    if output == "softmax":
        y = rng.integers(0, n_out, m)
    elif output == "sigmoid":
        y = rng.integers(0, 2, (m, n_out)) if n_out > 1 else rng.integers(0, 2, m)
    else:
        y = rng.standard_normal((m, n_out)) * 0.5
    return X, y


def _sizes(hidden, n_out):
    return [3, 6, 5, n_out] if isinstance(hidden, list) else [3, 7, n_out]


def _close_lists(got, ref, rtol, what):
    assert len(got) == len(ref)
    for i, (g, r) in enumerate(zip(got, ref)):
        assert_close(g, r, rtol=rtol, atol=rtol * max(1.0, np.abs(r).max()) * 1e-2, what=f"{what}[{i}]")


@pytest.mark.parametrize("name", OTHERS)
@pytest.mark.parametrize("hidden, output", PAIRS)
def test_model_forward_loss_gradients_agree(name, hidden, output):
    require_backend(name)
    n_out = 3 if output == "softmax" else (2 if output == "tanh" else 1)
    X, y = _problem(output, n_out)
    ref = MLP(_sizes(hidden, n_out), activation=hidden, output=output, seed=3, backend="scalar")
    other = MLP(_sizes(hidden, n_out), activation=hidden, output=output, seed=3, backend=name)
    _close_lists(other.get_weights(), ref.get_weights(), 0.0, "initial weights")   # same seed, same draw
    assert_close(other.forward(X), ref.forward(X), rtol=1e-12, atol=1e-14, what="forward")
    assert abs(other.loss(X, y) - ref.loss(X, y)) <= 1e-12 * abs(ref.loss(X, y))
    _close_lists(other.gradients(X, y), ref.gradients(X, y), 1e-10, "gradients")


@pytest.mark.parametrize("name", OTHERS)
@pytest.mark.parametrize("hidden, output", PAIRS[:4])
@pytest.mark.parametrize("optimizer", [None, "adam"])
def test_model_training_steps_agree(name, hidden, output, optimizer):
    """5 steps: 40 samples in batches of 8, shuffled from the model's generator."""
    require_backend(name)
    n_out = 3 if output == "softmax" else 1
    X, y = _problem(output, n_out)
    histories, weights = [], []
    for backend in ("scalar", name):
        model = MLP(_sizes(hidden, n_out), activation=hidden, output=output, seed=11, backend=backend)
        kwargs = {"optimizer": Adam(lr=0.01)} if optimizer else {"lr": 0.1}
        h = model.fit(X, y, epochs=1, batch_size=8, shuffle=True, **kwargs)
        histories.append(h["loss"])
        weights.append(model.get_weights())
    assert_close(histories[1], histories[0], rtol=1e-11, what="history loss")
    _close_lists(weights[1], weights[0], 1e-10, "weights after 5 steps")
    assert not np.allclose(weights[0][0], MLP(_sizes(hidden, n_out), activation=hidden, output=output,
                                               seed=11).get_weights()[0])   # training moved them


@pytest.mark.parametrize("name", ["numpy", "c"])
@pytest.mark.parametrize("hidden, output", PAIRS[:3])
def test_float32_agrees_with_float64(name, hidden, output):
    require_backend(name)
    n_out = 3 if output == "softmax" else 1
    X, y = _problem(output, n_out)
    m64 = MLP(_sizes(hidden, n_out), activation=hidden, output=output, seed=5, backend=name)
    m32 = MLP(_sizes(hidden, n_out), activation=hidden, output=output, seed=5, backend=name, dtype="float32")
    m32.set_weights(m64.get_weights())
    out32 = m32.forward(X)
    assert out32.dtype == np.float32
    assert_close(out32, m64.forward(X), rtol=1e-5, atol=1e-6, what="float32 forward")
    assert abs(m32.loss(X, y) - m64.loss(X, y)) <= 1e-5 * max(1.0, abs(m64.loss(X, y)))
    for g32, g64 in zip(m32.gradients(X, y), m64.gradients(X, y)):
        assert g32.dtype == np.float32
        assert_close(g32, g64, rtol=1e-4, atol=1e-5 * max(1.0, np.abs(g64).max()), what="float32 gradient")
    h32 = m32.fit(X, y, epochs=3, batch_size=8, lr=0.05, shuffle=True)
    h64 = m64.fit(X, y, epochs=3, batch_size=8, lr=0.05, shuffle=True)
    assert_close(h32["loss"], h64["loss"], rtol=1e-4, what="float32 history")
    for w32, w64 in zip(m32.get_weights(), m64.get_weights()):
        assert w32.dtype == np.float32
        assert_close(w32, w64, rtol=1e-4, atol=1e-5, what="float32 weights")


def test_global_flag_does_not_change_results():
    """A model that follows the global flag gives the same numbers under each backend."""
    X, y = _problem("sigmoid", 1)
    outs = []
    for name in pyneuron.available_backends():
        with pyneuron.use_backend(name):
            outs.append(MLP([3, 4, 1], seed=1).forward(X))
    for o in outs[1:]:
        assert_close(o, outs[0], rtol=1e-12, atol=1e-15)
