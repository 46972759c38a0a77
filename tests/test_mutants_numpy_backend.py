"""The kernels of pyneuron.backends.numpy_backend (and, through the ``kernels`` fixture, of
scalar and c) beyond tests/test_kernels.py: what the mutation run (issue 15 item 10) showed
untested. Unknown names refused by every kernel that takes one; float32 kept float32; the
per-row losses of every (activation, loss) branch; the two course updates (momentum in the
courses' form, Adagrad) by hand; losses from logits at saturation; which training plan the
numpy backend chooses. Expected values are written out here with ``math``, never computed by
pyneuron."""
from __future__ import annotations

import math

import numpy as np
import pytest

from helpers import assert_close


def arr(x, dtype=np.float64):
    return np.array(x, dtype=dtype)


def needs(kernels, dtype):
    if np.dtype(dtype) not in [np.dtype(d) for d in kernels.dtypes]:
        pytest.skip(f"{kernels.name} computes in {[np.dtype(d).name for d in kernels.dtypes]} only")


def softplus(z):
    return max(z, 0.0) + math.log1p(math.exp(-abs(z)))


def cross_entropy_row(z, y):
    """logsumexp(z) - sum_i y_i z_i written as (top - sum y z) + log1p(sum of the others' e^(z - top))."""
    k = z.index(max(z))
    others = sum(math.exp(v - z[k]) for i, v in enumerate(z) if i != k)
    return (z[k] - sum(a * b for a, b in zip(y, z))) + math.log1p(others)


# ---------------------------------------------------------------- unknown names
def test_unknown_activation_is_refused(kernels):
    Z = arr([[0.5, -0.5]])
    with pytest.raises(ValueError, match=r"^activation: .*'swish'"):
        kernels.activation_forward("swish", Z)
    with pytest.raises(ValueError, match=r"^activation: .*'swish'"):
        kernels.activation_backward("swish", Z, Z, Z)


@pytest.mark.parametrize("kernel", ["loss_value", "loss_gradient"])
def test_unknown_loss_is_refused(kernels, kernel):
    A = arr([[0.5, 0.25]])
    with pytest.raises(ValueError, match=r"^loss: .*'hinge'"):
        getattr(kernels, kernel)("hinge", A, A)


def test_unknown_loss_from_logits_is_refused(kernels):
    Z = arr([[0.5, 0.25]])
    for bad in ("mse", "hinge"):
        with pytest.raises(ValueError, match=rf"^loss: loss_from_logits computes 'bce' or 'cce', got '{bad}'$"):
            kernels.loss_from_logits(bad, Z, Z)


def test_unknown_loss_in_sample_losses_is_refused(kernels):
    A = arr([[0.5, 0.25]])
    with pytest.raises(ValueError, match=r"^loss: .*'hinge'"):
        kernels.sample_losses("hinge", "linear", A, A, A)


# ---------------------------------------------------------------- float32 stays float32
ACTS = ["sigmoid", "tanh", "relu", "leaky_relu", "softmax", "linear"]


@pytest.mark.parametrize("name", ACTS)
def test_activations_keep_float32(kernels, name):
    needs(kernels, np.float32)
    Z = arr([[-2.0, 0.0, 1.5], [3.0, -0.5, 0.25]], np.float32)
    A = kernels.activation_forward(name, Z, 0.2)
    dZ = kernels.activation_backward(name, np.ones_like(Z), Z, A, 0.2)
    assert A.dtype == np.float32 and dZ.dtype == np.float32
    assert A.shape == dZ.shape == Z.shape


@pytest.mark.parametrize("loss", ["mse", "bce", "cce"])
def test_loss_gradient_keeps_float32(kernels, loss):
    needs(kernels, np.float32)
    A = arr([[0.25, 0.75], [0.5, 0.5]], np.float32)
    Y = arr([[0, 1], [1, 0]], np.float32)
    G = kernels.loss_gradient(loss, A, Y)
    assert G.dtype == np.float32
    N = A.size if loss != "cce" else A.shape[0]
    expected = {"mse": 2 * (A.astype(np.float64) - Y) / N,
                "bce": (A.astype(np.float64) - Y) / (A * (1.0 - A.astype(np.float64))) / N,
                "cce": -Y / A.astype(np.float64) / N}[loss]
    assert_close(G, expected, rtol=1e-6)


def test_float32_saturated_probabilities_give_float64_clipped_losses(kernels):
    """In float32, 1 - 1e-12 rounds to 1: clipping in float32 would take log(0)."""
    needs(kernels, np.float32)
    A, Y = arr([[1.0], [1.0]], np.float32), arr([[1.0], [0.0]], np.float32)
    value = kernels.loss_value("bce", A, Y)
    assert value == pytest.approx(-math.log(1e-12) / 2, rel=1e-6)
    ce = kernels.loss_value("cce", arr([[1.0, 0.0]], np.float32), arr([[0.0, 1.0]], np.float32))
    assert ce == pytest.approx(-math.log(1e-12), rel=1e-6)
    G = kernels.loss_gradient("bce", A, Y)
    # (p - y) / (p (1 - p)) / 2 with p = 1 - 1e-12 (float64): y = 1 -> -1/(2p) ~ -0.5, y = 0 -> 1/(2 (1-p))
    assert G[0, 0] == pytest.approx(-0.5, rel=1e-6)
    assert G[1, 0] == pytest.approx(0.5e12, rel=1e-3)
    Gc = kernels.loss_gradient("cce", arr([[1.0, 0.0]], np.float32), arr([[0.0, 1.0]], np.float32))
    assert Gc[0, 1] == pytest.approx(-1e12, rel=1e-6) and Gc[0, 0] == 0.0


# ---------------------------------------------------------------- losses from logits, at saturation
def test_loss_from_logits_at_saturation(kernels):
    # issue 15's cases: sigmoid z = 30, label 0: softplus(30) = 30.0000000000000936
    assert kernels.loss_from_logits("bce", arr([[30.0]]), arr([[0.0]])) == pytest.approx(softplus(30.0), rel=1e-15)
    assert kernels.loss_from_logits("bce", arr([[-30.0]]), arr([[1.0]])) == pytest.approx(softplus(30.0), rel=1e-15)
    # a confident right answer keeps its digits: softplus(-40) = log1p(e^-40) = 4.248e-18
    assert kernels.loss_from_logits("bce", arr([[40.0]]), arr([[1.0]])) == pytest.approx(math.exp(-40), rel=1e-12)
    # softmax logits [0, 40], class 0: logsumexp - 0 = 40 + log1p(e^-40)
    assert kernels.loss_from_logits("cce", arr([[0.0, 40.0]]), arr([[1.0, 0.0]])) == pytest.approx(40.0, rel=1e-15)
    right = kernels.loss_from_logits("cce", arr([[0.0, 40.0]]), arr([[0.0, 1.0]]))
    assert right == pytest.approx(math.exp(-40), rel=1e-12)


def test_loss_from_logits_cce_rows_with_the_max_anywhere(kernels):
    Z = arr([[3.0, -1.0, 0.5], [-2.0, 4.0, 1.0], [0.0, 0.5, 2.5]])
    Y = arr([[0, 1, 0], [0, 1, 0], [1, 0, 0]])
    expected = sum(cross_entropy_row(z, yr) for z, yr in zip(Z.tolist(), Y.tolist())) / 3
    assert kernels.loss_from_logits("cce", Z, Y) == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_loss_from_logits_in_float32_is_summed_in_float64(kernels, dtype):
    needs(kernels, dtype)
    # issue 15: float32 z = 17, label 0: 17.0000000414 (a clipped float32 sigmoid says 16.64 or 27.63)
    got = kernels.loss_from_logits("bce", arr([[17.0]], dtype), arr([[0.0]], dtype))
    assert type(got) is float and got == pytest.approx(softplus(17.0), rel=1e-14)


# ---------------------------------------------------------------- per-row losses
Z3 = [[2.0, -1.0], [-30.0, 0.5], [0.25, 35.0]]
Y3 = [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]


def test_sample_losses_sigmoid_bce_from_logits(kernels):
    Z, Y = arr(Z3), arr(Y3)
    A = kernels.activation_forward("sigmoid", Z)
    expected = [sum(softplus(z) - y * z for z, y in zip(zr, yr)) / 2 for zr, yr in zip(Z3, Y3)]
    got = kernels.sample_losses("bce", "sigmoid", A, Y, Z)
    assert got.dtype == np.float64 and got.shape == (3,)
    assert_close(got, expected, rtol=1e-13)
    assert got[1] > 15.0           # -30 with label 1: 30/2 + ..., not the clipped 27.63/2


def test_sample_losses_softmax_cce_from_logits(kernels):
    Z, Y = arr(Z3), arr(Y3)
    A = kernels.softmax(Z)
    expected = [cross_entropy_row(zr, yr) for zr, yr in zip(Z3, Y3)]
    assert_close(kernels.sample_losses("cce", "softmax", A, Y, Z), expected, rtol=1e-13)


def test_sample_losses_of_probabilities_clip(kernels):
    A = arr([[0.9, 0.2], [0.0, 1.0], [0.5, 0.25]])
    Y = arr([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    Z = np.zeros_like(A)          # not read: these pairs take the probabilities

    def clip(p):
        return min(max(p, 1e-12), 1 - 1e-12)
    bce = [-sum(y * math.log(clip(a)) + (1 - y) * math.log(1 - clip(a)) for a, y in zip(ar, yr)) / 2
           for ar, yr in zip(A.tolist(), Y.tolist())]
    cce = [-sum(y * math.log(clip(a)) for a, y in zip(ar, yr)) for ar, yr in zip(A.tolist(), Y.tolist())]
    assert_close(kernels.sample_losses("bce", "tanh", A, Y, Z), bce, rtol=1e-12)
    assert_close(kernels.sample_losses("cce", "sigmoid", A, Y, Z), cce, rtol=1e-12)
    # sigmoid + cce and softmax + bce are not the logit pairs
    assert_close(kernels.sample_losses("bce", "softmax", A, Y, Z), bce, rtol=1e-12)


def test_sample_losses_mse_is_the_row_mean(kernels):
    A, Y = arr([[1.0, 3.0], [0.5, 0.5]]), arr([[0.0, 1.0], [0.5, -0.5]])
    got = kernels.sample_losses("mse", "linear", A, Y, A)
    assert_close(got, [(1 + 4) / 2, (0 + 1) / 2], rtol=1e-15)
    assert got.dtype == np.float64


def test_sample_losses_mse_of_float32_is_float64(kernels):
    needs(kernels, np.float32)
    A, Y = arr([[0.1, 0.2]], np.float32), arr([[0.0, 0.0]], np.float32)
    got = kernels.sample_losses("mse", "linear", A, Y, A)
    a = A.astype(np.float64)[0]
    assert got.dtype == np.float64 and got[0] == pytest.approx((a[0] ** 2 + a[1] ** 2) / 2, rel=1e-15)


# ---------------------------------------------------------------- the course updates, by hand
def test_momentum_course_step_two_steps(kernels):
    # v = mu v - lr g ; p = p + v ; mu = 0.9, lr = 0.1, g = 1 then 0.5
    # v1 = -0.1, p1 = 0.9 ; v2 = -0.09 - 0.05 = -0.14, p2 = 0.76
    p, v = arr([1.0, -3.0]), arr([0.0, 0.0])
    kernels.momentum_course_step(p, arr([1.0, 0.0]), v, 0.1, 0.9)
    assert_close(v, [-0.1, 0.0], rtol=1e-15)
    assert_close(p, [0.9, -3.0], rtol=1e-15)
    kernels.momentum_course_step(p, arr([0.5, 0.0]), v, 0.1, 0.9)
    assert_close(v, [-0.14, 0.0], rtol=1e-14)
    assert_close(p, [0.76, -3.0], rtol=1e-14)


def test_adagrad_step_two_steps(kernels):
    # G = G + g^2 ; p = p - lr g / (sqrt(G) + eps): g = 2: G = 4, p = 1 - 0.5*2/(2+0.1)
    # g = -1: G = 5, p = p1 + 0.5/(sqrt 5 + 0.1)
    p, G = arr([1.0]), arr([0.0])
    kernels.adagrad_step(p, arr([2.0]), G, 0.5, 0.1)
    p1 = 1.0 - 0.5 * 2.0 / (2.0 + 0.1)
    assert_close(G, [4.0], rtol=1e-15)
    assert_close(p, [p1], rtol=1e-15)
    kernels.adagrad_step(p, arr([-1.0]), G, 0.5, 0.1)
    assert_close(G, [5.0], rtol=1e-15)
    assert_close(p, [p1 + 0.5 / (math.sqrt(5.0) + 0.1)], rtol=1e-15)


def test_rmsprop_eps_is_outside_the_root(kernels):
    p, s = arr([0.0]), arr([0.0])
    kernels.rmsprop_step(p, arr([1.0]), s, 1.0, 0.75, 0.5)
    # s = 0.25, p = -1 / (0.5 + 0.5) = -1
    assert_close(s, [0.25], rtol=1e-15)
    assert_close(p, [-1.0], rtol=1e-15)


def test_adam_first_step_with_weight_decay_by_hand(kernels):
    # p = 2 (1 - 0.5*0.1) = 1.9 ; m = 0.5*4 = 2, v = 0.75*16 = 12 ; m^ = 4, v^ = 16
    # p = 1.9 - 0.5 * 4 / (4 + 1) = 1.5
    p, m, v = arr([2.0]), arr([0.0]), arr([0.0])
    kernels.adam_step(p, arr([4.0]), m, v, 0.5, 0.5, 0.25, 1.0, 1, 0.1)
    assert_close(m, [2.0], rtol=1e-15)
    assert_close(v, [12.0], rtol=1e-15)
    assert_close(p, [1.5], rtol=1e-15)


# ---------------------------------------------------------------- odd corners of the kernels
def test_linear_activation_returns_a_new_array(kernels):
    Z = arr([[1.0, -2.0]])
    A = kernels.activation_forward("linear", Z)
    dZ = kernels.activation_backward("linear", Z, Z, A)
    assert not np.shares_memory(A, Z) and not np.shares_memory(dZ, Z)
    A[0, 0] = dZ[0, 0] = 99.0
    assert Z.tolist() == [[1.0, -2.0]]


def test_penalty_is_a_python_float_and_l1_l2_each_count(kernels):
    Wp = arr([[3.0, -4.0]])
    # l2/(2m) * 25 and l1/m * 7
    assert kernels.penalty(Wp, 0.0, 1.0, 5) == pytest.approx(25 / 10, rel=1e-15)
    assert kernels.penalty(Wp, 1.0, 0.0, 5) == pytest.approx(7 / 5, rel=1e-15)
    assert type(kernels.penalty(Wp, 1.0, 1.0, 5)) is float


def test_batchnorm_eps_enters_under_the_root(kernels):
    Zb = arr([[0.0], [2.0]])              # mean 1, variance 1
    Yb, Zhat, mean, var = kernels.batchnorm_forward(Zb, arr([1.0]), arr([0.0]), 3.0)
    assert_close(Zhat, [[-0.5], [0.5]], rtol=1e-15)           # (z - 1) / sqrt(1 + 3)
    out = kernels.batchnorm_inference(Zb, arr([2.0]), arr([1.0]), arr([1.0]), arr([1.0]), 3.0)
    assert_close(out, [[0.0], [2.0]], rtol=1e-15)             # 2 (z - 1)/2 + 1
    dZ, dg, db = kernels.batchnorm_backward(arr([[1.0], [0.0]]), Zhat, arr([2.0]), var, 3.0)
    # dbeta = 1, dgamma = -0.5, dZ = 2/(2*2) (2 dY - 1 - Zhat*(-0.5))
    assert_close(db, [1.0]) and assert_close(dg, [-0.5])
    assert_close(dZ, [[0.5 * (2 - 1 - 0.25)], [0.5 * (0 - 1 + 0.25)]], rtol=1e-15)


# ---------------------------------------------------------------- which plan fit runs
def _model_and_optimizer():
    import pyneuron as pn
    from pyneuron.optimizers import SGD
    model = pn.MLP([2, 3, 1], seed=0, backend="numpy")
    return model, SGD(lr=0.1)


def test_numpy_backend_runs_its_vectorized_plan():
    from pyneuron.backends import get
    from pyneuron.backends.numpy_plan import NumpyTrainPlan
    model, opt = _model_and_optimizer()
    plan = get("numpy").train_plan(model, opt)
    assert type(plan) is NumpyTrainPlan
    # the defaults: no penalty, no clipping, no accuracy counted
    assert (plan.l1, plan.l2, plan.clip_value, plan.clip_norm, plan.track_accuracy) == (0.0, 0.0, None, None, False)
    assert not plan.penalty


def test_a_subclass_of_the_numpy_backend_gets_the_per_operation_plan():
    from pyneuron.backends.numpy_backend import NumpyBackend
    from pyneuron.training_plan import TrainPlan

    class Mine(NumpyBackend):
        name = "mine"

    model, opt = _model_and_optimizer()
    plan = Mine().train_plan(model, opt, 0.0, 0.5)
    assert type(plan) is TrainPlan and plan.l2 == 0.5 and plan.kernels.name == "mine"
    plan = Mine().train_plan(model, opt)
    assert (plan.l1, plan.l2, plan.clip_value, plan.clip_norm, plan.track_accuracy) == (0.0, 0.0, None, None, False)


def test_adam_without_weight_decay_by_default(kernels):
    # no decay: m = 2, v = 12, m^ = 4, v^ = 16, p = 2 - 0.5 * 4 / (4 + 1) = 1.6
    p, m, v = arr([2.0]), arr([0.0]), arr([0.0])
    kernels.adam_step(p, arr([4.0]), m, v, 0.5, 0.5, 0.25, 1.0, 1)
    assert_close(p, [1.6], rtol=1e-15)
