"""The kernel interface's composed defaults (pyneuron.backends.base) beyond
tests/test_kernels.py: what the mutation run (issue 15 item 10) showed untested. A whole
SGD step of a three-layer net written out in NumPy here; the output gradient off the fused
pairs; the loss from logits or from probabilities; weighted losses and gradients (zero,
subnormal and huge weights); the deprecated ``alpha=`` keyword of each default; the
defaults of ``train_plan``; the two optional kernels' NotImplementedError. On every backend
(scalar and numpy run these defaults; c overrides some, held to the same numbers)."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from helpers import assert_close
from pyneuron.backends.base import Backend


def arr(x, dtype=np.float64):
    return np.array(x, dtype=dtype)


def softplus(z):
    return max(z, 0.0) + math.log1p(math.exp(-abs(z)))


# ---------------------------------------------------------------- a whole SGD step, written out
def _leaky(z, s):
    return np.where(z > 0, z, s * z)


def _leaky_grad(z, s):
    return np.where(z > 0, 1.0, s)


def _reference_step(X, Y, Ws, bs, lr, s):
    """leaky_relu -> tanh -> linear with mse, by the textbook equations."""
    Z1 = X @ Ws[0].T + bs[0]
    A1 = _leaky(Z1, s)
    Z2 = A1 @ Ws[1].T + bs[1]
    A2 = np.tanh(Z2)
    Z3 = A2 @ Ws[2].T + bs[2]
    loss = np.mean((Z3 - Y) ** 2)
    dZ3 = 2 * (Z3 - Y) / Y.size
    dZ2 = (dZ3 @ Ws[2]) * (1 - A2 ** 2)
    dZ1 = (dZ2 @ Ws[1]) * _leaky_grad(Z1, s)
    grads = [(dZ1.T @ X, dZ1.sum(0)), (dZ2.T @ A1, dZ2.sum(0)), (dZ3.T @ A2, dZ3.sum(0))]
    return loss, [W - lr * g for W, (g, _) in zip(Ws, grads)], [b - lr * g for b, (_, g) in zip(bs, grads)]


def _three_layers():
    r = np.random.default_rng(5)
    X = r.standard_normal((4, 3))
    Y = r.standard_normal((4, 2))
    Ws = [r.standard_normal((5, 3)), r.standard_normal((4, 5)), r.standard_normal((2, 4))]
    bs = [r.standard_normal(5), r.standard_normal(4), r.standard_normal(2)]
    return X, Y, Ws, bs


def test_sgd_train_step_updates_every_layer(kernels):
    X, Y, Ws, bs = _three_layers()
    loss, W_ref, b_ref = _reference_step(X, Y, Ws, bs, 0.05, 0.2)
    got = kernels.sgd_train_step(X, Y, Ws, bs, ["leaky_relu", "tanh", "linear"], "mse", 0.05, 0.2)
    assert got == pytest.approx(loss, rel=1e-12)
    for i in range(3):
        assert_close(Ws[i], W_ref[i], rtol=1e-12, atol=1e-15, what=f"W{i}")
        assert_close(bs[i], b_ref[i], rtol=1e-12, atol=1e-15, what=f"b{i}")


def test_sgd_train_step_takes_the_old_alpha_keyword(kernels):
    X, Y, Ws, bs = _three_layers()
    loss, W_ref, _ = _reference_step(X, Y, Ws, bs, 0.05, 0.2)
    with pytest.warns(DeprecationWarning, match="negative_slope"):
        got = kernels.sgd_train_step(X, Y, Ws, bs, ["leaky_relu", "tanh", "linear"], "mse", 0.05, alpha=0.2)
    assert got == pytest.approx(loss, rel=1e-12)
    assert_close(Ws[0], W_ref[0], rtol=1e-12, atol=1e-15)
    with pytest.raises(TypeError, match="twice"):
        kernels.sgd_train_step(X, Y, Ws, bs, ["leaky_relu", "tanh", "linear"], "mse", 0.05, 0.2, alpha=0.2)


# ---------------------------------------------------------------- dense layer with a slope
XD = arr([[1.0, -2.0], [0.5, 0.5]])
WD = arr([[1.0, 1.0], [-1.0, 2.0]])
BD = arr([0.0, -1.0])
# Z = X W^T + b: row 1 [-1, -6], row 2 [1, -0.5]; leaky 0.2: [-0.2, -1.2], [1, -0.1]
ZD = [[-1.0, -6.0], [1.0, -0.5]]
AD = [[-0.2, -1.2], [1.0, -0.1]]


def test_dense_forward_and_backward_pass_the_slope_on(kernels):
    Z, A = kernels.dense_forward(XD, WD, BD, "leaky_relu", 0.2)
    assert_close(Z, ZD) and assert_close(A, AD, rtol=1e-15)
    dA = arr([[1.0, 1.0], [1.0, 1.0]])
    dX, dW, db = kernels.dense_backward(dA, XD, WD, Z, A, "leaky_relu", 0.2)
    dZ = arr([[0.2, 0.2], [1.0, 0.2]])
    assert_close(dX, dZ @ WD, rtol=1e-15)
    assert_close(dW, dZ.T @ XD, rtol=1e-15)
    assert_close(db, dZ.sum(0), rtol=1e-15)


@pytest.mark.parametrize("kernel", ["dense_forward", "dense_backward"])
def test_dense_defaults_take_the_old_alpha_keyword(kernels, kernel):
    if kernel == "dense_forward":
        call = lambda **kw: kernels.dense_forward(XD, WD, BD, "leaky_relu", **kw)[1]  # noqa: E731
        expected = AD
    else:
        call = lambda **kw: kernels.dense_backward(np.ones((2, 2)), XD, WD, arr(ZD), arr(AD),  # noqa: E731
                                                   "leaky_relu", **kw)[2]
        expected = [1.2, 0.4]
    with pytest.warns(DeprecationWarning, match="negative_slope"):
        assert_close(call(alpha=0.2), expected, rtol=1e-15)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_close(call(negative_slope=0.2), expected, rtol=1e-15)
    with pytest.raises(TypeError, match="twice"):
        call(negative_slope=0.2, alpha=0.2)


# ---------------------------------------------------------------- data_loss and output_gradient
def test_data_loss_takes_logits_for_the_two_logit_pairs_only(kernels):
    # sigmoid + bce at z = 30, label 0: softplus(30); the clipped probability would give 27.63
    Z, Y = arr([[30.0]]), arr([[0.0]])
    A = kernels.activation_forward("sigmoid", Z)
    assert kernels.data_loss("bce", "sigmoid", A, Y, Z) == pytest.approx(softplus(30.0), rel=1e-15)
    Zs, Ys = arr([[0.0, 40.0]]), arr([[1.0, 0.0]])
    assert kernels.data_loss("cce", "softmax", kernels.softmax(Zs), Ys, Zs) == pytest.approx(40.0, rel=1e-15)
    # any other pair: the loss of the probabilities (here clipped at 1 - 1e-12)
    assert kernels.data_loss("bce", "linear", A, Y, Z) == pytest.approx(-math.log(1e-12), rel=1e-3)
    Am, Ym = arr([[0.5, 2.0]]), arr([[0.0, 0.0]])
    assert kernels.data_loss("mse", "linear", Am, Ym, Am) == pytest.approx((0.25 + 4.0) / 2, rel=1e-15)


def test_output_gradient_off_the_fused_pairs_chains_the_loss_gradient(kernels):
    A, Y = arr([[0.5, -0.25], [0.75, 0.0]]), arr([[0.0, 0.5], [1.0, -1.0]])
    # mse through tanh: 2 (a - y) / 4 * (1 - a^2)
    expected = 2 * (A - Y) / 4 * (1 - A ** 2)
    assert_close(kernels.output_gradient("mse", "tanh", A, Y, np.arctanh(A)), expected, rtol=1e-14)
    # mse through leaky_relu with slope 0.2: z <= 0 rows take the slope
    Z = arr([[0.5, -1.25], [0.75, -5.0]])
    Al = np.where(Z > 0, Z, 0.2 * Z)
    expected = 2 * (Al - Y) / 4 * np.where(Z > 0, 1.0, 0.2)
    assert_close(kernels.output_gradient("mse", "leaky_relu", Al, Y, Z, 0.2), expected, rtol=1e-14)
    with pytest.warns(DeprecationWarning, match="negative_slope"):
        got = kernels.output_gradient("mse", "leaky_relu", Al, Y, Z, alpha=0.2)
    assert_close(got, expected, rtol=1e-14)
    # sigmoid + mse is not fused: the sigmoid's derivative a (1 - a) stays in
    As = arr([[0.25], [0.5]])
    Ys = arr([[1.0], [0.0]])
    assert_close(kernels.output_gradient("mse", "sigmoid", As, Ys, np.zeros((2, 1))),
                 2 * (As - Ys) / 2 * As * (1 - As), rtol=1e-14)


def test_output_gradient_fused_divides_by_elements_or_rows(kernels):
    A, Y = arr([[0.25, 0.75], [0.5, 0.5], [1.0, 0.0]]), arr([[0, 1], [1, 0], [1, 0]])
    assert_close(kernels.output_gradient("bce", "sigmoid", A, Y, A), (A - Y) / 6, rtol=1e-15)
    assert_close(kernels.output_gradient("cce", "softmax", A, Y, A), (A - Y) / 3, rtol=1e-15)


# ---------------------------------------------------------------- weighted losses
AW = arr([[0.5, 2.0], [1.0, 1.0], [0.0, -1.0]])
YW = arr([[0.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
ROW_MSE = [(0.25 + 4.0) / 2, 0.5, 0.5]


@pytest.mark.parametrize("weights", [[1.0, 2.0, 0.0], [3.0, 3.0, 3.0], [0.0, 0.0, 0.5], [1e308, 1e308, 0.0],
                                     [5e-324, 0.0, 0.0]])
def test_weighted_data_loss_is_the_weighted_average(kernels, weights):
    w = arr(weights)
    # written with fractions of the largest weight so that huge and subnormal ones stay exact
    top = max(weights)
    rel = [x / top for x in weights]
    expected = sum(r * l for r, l in zip(rel, ROW_MSE)) / sum(rel)
    got = kernels.weighted_data_loss("mse", "linear", AW, YW, AW, w)
    assert type(got) is float and got == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("weights", [[0.0, 0.0, 0.0], []])
def test_weighted_data_loss_of_no_weight_is_zero(kernels, weights):
    n = len(weights)
    assert kernels.weighted_data_loss("mse", "linear", AW[:n], YW[:n], AW[:n], arr(weights)) == 0.0


def test_weighted_output_gradient_scales_each_row(kernels):
    w = arr([1.0, 2.0, 0.0])
    # unweighted row gradient 2 (a - y) / (m k), scaled by m w_s / sum w = 3 w_s / 3 = w_s
    expected = 2 * (AW - YW) / 6 * w[:, None]
    got = kernels.weighted_output_gradient("mse", "linear", AW, YW, AW, w)
    assert_close(got, expected, rtol=1e-15)
    tiny = kernels.weighted_output_gradient("mse", "linear", AW, YW, AW, arr([5e-324, 0.0, 0.0]))
    # one row of all the weight: that row's gradient times m = 3, the others 0
    assert_close(tiny, np.vstack([2 * (AW[0] - YW[0]) / 6 * 3, [0, 0], [0, 0]]), rtol=1e-15)
    zero = kernels.weighted_output_gradient("mse", "linear", AW, YW, AW, arr([0.0, 0.0, 0.0]))
    assert zero.shape == AW.shape and not zero.any()


def test_weighted_output_gradient_passes_the_slope_on(kernels):
    Z = arr([[-1.0, 2.0]])
    A = np.where(Z > 0, Z, 0.2 * Z)
    Y = arr([[0.0, 0.0]])
    expected = 2 * (A - Y) / 2 * np.where(Z > 0, 1.0, 0.2) * 2.0 / 2.0
    assert_close(kernels.weighted_output_gradient("mse", "leaky_relu", A, Y, Z, arr([2.0]), 0.2),
                 expected, rtol=1e-15)
    with pytest.warns(DeprecationWarning, match="negative_slope"):
        got = kernels.weighted_output_gradient("mse", "leaky_relu", A, Y, Z, arr([2.0]), alpha=0.2)
    assert_close(got, expected, rtol=1e-15)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_scale_rows(kernels, dtype):
    if np.dtype(dtype) not in [np.dtype(d) for d in kernels.dtypes]:
        pytest.skip("float64 only")
    M = arr([[1.0, -2.0], [3.0, 4.0]], dtype)
    got = kernels.scale_rows(M, arr([0.5, -2.0]))
    assert got.dtype == np.dtype(dtype) and not np.shares_memory(got, M)
    assert got.tolist() == [[0.5, -1.0], [-6.0, -8.0]]


# ---------------------------------------------------------------- the rest of the interface
def test_train_plan_defaults(backend):
    import pyneuron as pn
    from pyneuron.backends import get
    from pyneuron.backends.scalar import ScalarBackend
    from pyneuron.optimizers import SGD
    model = pn.MLP([2, 3, 1], seed=0, backend="scalar")
    plan = ScalarBackend().train_plan(model, SGD(lr=0.1))          # Backend.train_plan itself
    assert (plan.l1, plan.l2, plan.clip_value, plan.clip_norm, plan.track_accuracy) == (0.0, 0.0, None, None, False)
    assert plan.sample_weight is None and not plan.penalty
    plan = get(backend).train_plan(model, SGD(lr=0.1), 0.0, 0.0, None, None, True)
    assert plan.track_accuracy is True


@pytest.mark.parametrize("kernel,args", [("momentum_course_step", (0.1, 0.9)), ("adagrad_step", (0.1, 1e-8))])
def test_the_optional_kernels_say_which_backend_lacks_them(kernels, kernel, args):
    p, g, s = arr([1.0]), arr([1.0]), arr([0.0])
    with pytest.raises(NotImplementedError, match=rf"^backend '{kernels.name}' has no {kernel} kernel$"):
        getattr(Backend, kernel)(kernels, p, g, s, *args)


def test_repr_names_the_backend(kernels):
    assert repr(kernels) == f"<pyneuron backend '{kernels.name}'>"


def test_the_interfaces_defaults_are_what_a_learner_reads():
    """register_backend shows these in its signature errors; the built-ins share them."""
    import inspect

    from pyneuron.backends.slope_name import DEFAULT_NEGATIVE_SLOPE
    sig = {name: inspect.signature(getattr(Backend, name)).parameters for name in ("matmul", "adam_step")}
    assert sig["matmul"]["trans_a"].default is False and sig["matmul"]["trans_b"].default is False
    assert sig["adam_step"]["weight_decay"].default == 0.0
    for name in ("activation_forward", "activation_backward", "dense_forward", "output_gradient"):
        assert inspect.signature(getattr(Backend, name)).parameters["negative_slope"].default == 0.01
    assert DEFAULT_NEGATIVE_SLOPE == 0.01


def test_sgd_train_step_reads_the_output_layers_own_activation_and_logits(kernels):
    """A tanh hidden layer under a sigmoid + bce output: the loss comes from the output's
    logits (softplus(z) - y z; z = 40 with label 0 costs 40, where a clipped probability
    says 27.63), and the output gradient is (a - y)/(m k)."""
    X = arr([[1.0, 2.0]])
    W1, b1 = arr([[0.5, 0.25], [-1.0, 0.5], [0.0, 1.0]]), arr([0.0, 0.0, 0.0])
    W2, b2 = arr([[1.0, 1.0, 1.0]]), arr([40.0])
    Y = arr([[0.0]])
    A1 = np.tanh(X @ W1.T + b1)
    z = float((A1 @ W2.T + b2)[0, 0])
    a = 1.0 / (1.0 + math.exp(-z))
    Ws, bs = [W1.copy(), W2.copy()], [b1.copy(), b2.copy()]
    loss = kernels.sgd_train_step(X, Y, Ws, bs, ["tanh", "sigmoid"], "bce", 0.5)
    assert loss == pytest.approx(softplus(z), rel=1e-14) and loss > 40.0
    assert_close(bs[1], [40.0 - 0.5 * (a - 0.0)], rtol=1e-15)
    assert_close(Ws[1], W2 - 0.5 * (a - 0.0) * A1, rtol=1e-14)


def test_sgd_train_step_chains_the_output_activation_with_its_own_z(kernels):
    """A leaky_relu output (slope 0.1) with mse: its derivative reads the output's Z."""
    X = arr([[1.0, -1.0], [2.0, 0.5]])
    W1, b1 = arr([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), arr([0.0, 0.0, 0.0])
    W2, b2 = arr([[1.0, -1.0, 0.5], [-1.0, 1.0, -2.0]]), arr([0.0, 0.0])
    Y = arr([[0.0, 0.0], [0.0, 0.0]])
    Z1 = X @ W1.T + b1
    A1 = np.tanh(Z1)
    Z2 = A1 @ W2.T + b2
    A2 = np.where(Z2 > 0, Z2, 0.1 * Z2)
    dZ2 = 2 * (A2 - Y) / 4 * np.where(Z2 > 0, 1.0, 0.1)
    Ws, bs = [W1.copy(), W2.copy()], [b1.copy(), b2.copy()]
    loss = kernels.sgd_train_step(X, Y, Ws, bs, ["tanh", "leaky_relu"], "mse", 1.0, 0.1)
    assert loss == pytest.approx(float(np.mean(A2 ** 2)), rel=1e-14)
    assert_close(bs[1], b2 - dZ2.sum(0), rtol=1e-14, atol=1e-16)
    assert_close(Ws[1], W2 - dZ2.T @ A1, rtol=1e-14, atol=1e-16)


def test_the_default_per_row_losses_over_a_learners_numpy_kernels():
    """A registered backend gets Backend.sample_losses (one data_loss per one-row slice)
    composed of its kernels, here numpy's: each row's own loss, written out."""
    import pyneuron as pn
    from pyneuron import backends

    class OneKernel:
        def output_delta(self, A, Y, n_terms):
            return (A - Y) / n_terms

    made = pn.register_backend("mine_rows", OneKernel())
    try:
        Z = arr([[2.0, -1.0], [-30.0, 0.5], [0.25, 35.0]])
        Y = arr([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]])
        A = 1.0 / (1.0 + np.exp(-Z))
        expected = [sum(softplus(z) - y * z for z, y in zip(zr, yr)) / 2 for zr, yr in zip(Z.tolist(), Y.tolist())]
        got = Backend.sample_losses(made, "bce", "sigmoid", A, Y, Z)
        assert got.dtype == np.float64 and got.shape == (3,)
        assert_close(got, expected, rtol=1e-14)
        mse = Backend.sample_losses(made, "mse", "linear", Z, Y, Z)
        assert_close(mse, [((zr[0] - yr[0]) ** 2 + (zr[1] - yr[1]) ** 2) / 2
                           for zr, yr in zip(Z.tolist(), Y.tolist())], rtol=1e-15)
    finally:
        backends.unregister_backend("mine_rows")
