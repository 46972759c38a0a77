"""Whole-model checks of the C backend: a forward pass, the gradients, and 20 fused
``sgd_train_step`` calls agree with the numpy backend's composed default from the same
initial weights."""

import numpy as np
import pytest

from helpers import c_backend_module

cb = c_backend_module()  # skip the file, or fail under PYNEURON_REQUIRE_C

from pyneuron import backends  # noqa: E402
from pyneuron.backends.base import Backend  # noqa: E402

C = backends.get("c")
NP = backends.get("numpy")

NETS = {
    "relu/sigmoid+bce": ([2, 16, 8, 1], ["relu", "relu", "sigmoid"], "bce"),
    "tanh/softmax+cce": ([12, 10, 7, 4], ["tanh", "tanh", "softmax"], "cce"),
    "relu/linear+mse": ([5, 9, 3], ["relu", "linear"], "mse"),
    "leaky/sigmoid+mse": ([3, 6, 2], ["leaky_relu", "sigmoid"], "mse"),
    "sigmoid/tanh+bce": ([4, 5, 3], ["sigmoid", "sigmoid"], "bce"),
    "relu/softmax+mse": ([6, 8, 5], ["relu", "softmax"], "mse"),
}


def make_problem(sizes, loss, m, dtype, seed=0):
    rng = np.random.default_rng(seed)
    weights = [(rng.standard_normal((o, i)) * np.sqrt(2.0 / i)).astype(dtype)
               for i, o in zip(sizes[:-1], sizes[1:])]
    biases = [(0.1 * rng.standard_normal(o)).astype(dtype) for o in sizes[1:]]
    X = rng.standard_normal((m, sizes[0])).astype(dtype)
    k = sizes[-1]
    if loss == "cce":
        Y = np.eye(k, dtype=dtype)[rng.integers(0, k, m)]
    elif loss == "bce":
        Y = rng.integers(0, 2, (m, k)).astype(dtype)
    else:
        Y = rng.standard_normal((m, k)).astype(dtype)
    return X, Y, weights, biases


def copy(arrays):
    return [a.copy() for a in arrays]


def assert_same_params(got, want, tol):
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol * max(1.0, np.abs(w).max()))


@pytest.mark.parametrize("net", NETS)
@pytest.mark.parametrize("m", [1, 7, 32, 300])
def test_twenty_steps_match_numpy_float64(net, m):
    sizes, acts, loss = NETS[net]
    X, Y, W, b = make_problem(sizes, loss, m, np.float64)
    Wc, bc, Wn, bn = copy(W), copy(b), copy(W), copy(b)
    for _ in range(20):
        lc = C.sgd_train_step(X, Y, Wc, bc, acts, loss, 0.1)
        ln = NP.sgd_train_step(X, Y, Wn, bn, acts, loss, 0.1)
        assert lc == pytest.approx(ln, rel=1e-10)
    assert_same_params(Wc + bc, Wn + bn, 1e-10)
    assert any(not np.array_equal(w, w0) for w, w0 in zip(Wc, W)), "the step did not update"


@pytest.mark.parametrize("net", ["relu/sigmoid+bce", "tanh/softmax+cce", "relu/linear+mse"])
def test_twenty_steps_match_numpy_float32(net):
    sizes, acts, loss = NETS[net]
    X, Y, W, b = make_problem(sizes, loss, 32, np.float32, seed=1)
    Wc, bc, Wn, bn = copy(W), copy(b), copy(W), copy(b)
    for _ in range(20):
        lc = C.sgd_train_step(X, Y, Wc, bc, acts, loss, 0.05)
        ln = NP.sgd_train_step(X, Y, Wn, bn, acts, loss, 0.05)
        assert lc == pytest.approx(ln, rel=1e-4)
    assert all(w.dtype == np.float32 for w in Wc + bc)
    assert_same_params(Wc + bc, Wn + bn, 1e-4)


@pytest.mark.parametrize("simd", [True, False], ids=["simd", "portable"])
def test_minibatch_epochs_with_a_short_last_batch(simd):
    """Batches of 32 over 100 samples (last batch 4 rows), on both code paths."""
    if simd and not cb.simd_available():
        pytest.skip("this CPU has no AVX2+FMA")
    sizes, acts, loss = NETS["tanh/softmax+cce"]
    X, Y, W, b = make_problem(sizes, loss, 100, np.float64, seed=2)
    Wc, bc, Wn, bn = copy(W), copy(b), copy(W), copy(b)
    cb.lib.pyn_set_simd_enabled(simd)
    try:
        for _ in range(5):
            for s in range(0, 100, 32):
                C.sgd_train_step(X[s:s + 32], Y[s:s + 32], Wc, bc, acts, loss, 0.1)
                NP.sgd_train_step(X[s:s + 32], Y[s:s + 32], Wn, bn, acts, loss, 0.1)
    finally:
        cb.lib.pyn_set_simd_enabled(1)
    assert_same_params(Wc + bc, Wn + bn, 1e-10)


def test_large_layers_cross_the_blocking_edges():
    """Layers wider than one packed block, and a batch longer than KC."""
    sizes, acts, loss = [130, 150, 10], ["relu", "softmax"], "cce"
    X, Y, W, b = make_problem(sizes, loss, 270, np.float64, seed=3)
    Wc, bc, Wn, bn = copy(W), copy(b), copy(W), copy(b)
    for _ in range(3):
        assert C.sgd_train_step(X, Y, Wc, bc, acts, loss, 0.05) == pytest.approx(
            NP.sgd_train_step(X, Y, Wn, bn, acts, loss, 0.05), rel=1e-10)
    assert_same_params(Wc + bc, Wn + bn, 1e-10)


@pytest.mark.parametrize("net", ["relu/sigmoid+bce", "tanh/softmax+cce", "relu/linear+mse"])
def test_forward_and_gradients_match_numpy(net):
    """The composed path (dense_forward, output_gradient, dense_backward) on C kernels."""
    sizes, acts, loss = NETS[net]
    X, Y, W, b = make_problem(sizes, loss, 17, np.float64, seed=4)

    def grads(k):
        inputs, zs, outs, A = [], [], [], X
        for Wl, bl, act in zip(W, b, acts):
            inputs.append(A)
            Z, A = k.dense_forward(A, Wl, bl, act)
            zs.append(Z)
            outs.append(A)
        dZ = k.output_gradient(loss, acts[-1], A, Y, zs[-1])
        result = [A]
        for i in range(len(W) - 1, -1, -1):
            dX, dW, db = k.linear_backward(dZ, inputs[i], W[i])
            result += [dW, db]
            if i:
                dZ = k.activation_backward(acts[i - 1], dX, zs[i - 1], outs[i - 1])
        return result

    for got, want in zip(grads(C), grads(NP)):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-13)


def test_step_cache_follows_new_arrays_and_batch_sizes():
    """Replacing the weight arrays, or changing the batch size, must not use stale state."""
    sizes, acts, loss = NETS["relu/linear+mse"]
    X, Y, W, b = make_problem(sizes, loss, 50, np.float64, seed=5)
    for m in (5, 50, 3):
        Wc, bc, Wn, bn = copy(W), copy(b), copy(W), copy(b)
        for _ in range(3):
            C.sgd_train_step(X[:m], Y[:m], Wc, bc, acts, loss, 0.1)
            Backend.sgd_train_step(NP, X[:m], Y[:m], Wn, bn, acts, loss, 0.1)
        assert_same_params(Wc + bc, Wn + bn, 1e-10)
    # the same arrays, but a different activation list, must rebuild the plan
    Wc, bc, Wn, bn = copy(W), copy(b), copy(W), copy(b)
    C.sgd_train_step(X, Y, Wc, bc, acts, loss, 0.1)
    NP.sgd_train_step(X, Y, Wn, bn, acts, loss, 0.1)
    C.sgd_train_step(X, Y, Wc, bc, ["tanh", "linear"], loss, 0.1)
    NP.sgd_train_step(X, Y, Wn, bn, ["tanh", "linear"], loss, 0.1)
    assert_same_params(Wc + bc, Wn + bn, 1e-10)


def test_step_through_the_model_if_present():
    """If the MLP of pyneuron is importable, fitting on c and numpy gives the same weights."""
    import pyneuron as pn
    if not hasattr(pn, "MLP"):
        pytest.skip("pyneuron.MLP not available")
    rng = np.random.default_rng(6)
    X = rng.standard_normal((64, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(float)
    fitted = []
    for name in ("numpy", "c"):
        try:
            model = pn.MLP([2, 8, 1], activation="relu", output="sigmoid", seed=0, backend=name)
            model.fit(X, y, epochs=3, batch_size=16, verbose=False) if _accepts_verbose(model) \
                else model.fit(X, y, epochs=3, batch_size=16)
        except TypeError as exc:  # a different signature than this test assumes
            pytest.skip(f"MLP API differs: {exc}")
        fitted.append(model.predict_proba(X))
    np.testing.assert_allclose(fitted[1], fitted[0], rtol=1e-9, atol=1e-12)


def _accepts_verbose(model):
    import inspect
    return "verbose" in inspect.signature(model.fit).parameters
