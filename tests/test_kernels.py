"""Every kernel of the interface (pyneuron/backends/base.py) against values
worked out independently: by hand in the comments, or by the kernel's
equation written out here with ``math`` — never by calling pyneuron to
produce the expected value. Runs on every available backend."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from helpers import assert_close


def arr(x):
    return np.array(x, dtype=np.float64)


def sig(z):
    return 1.0 / (1.0 + math.exp(-z))


# ---------------------------------------------------------------- linear algebra
A2 = arr([[1, 2], [3, 4]])
B2 = arr([[5, 6], [7, 8]])


@pytest.mark.parametrize("trans_a, trans_b, expected", [
    (False, False, [[19, 22], [43, 50]]),   # A B   = [[1*5+2*7, 1*6+2*8], [3*5+4*7, 3*6+4*8]]
    (True, False, [[26, 30], [38, 44]]),    # Aᵀ B  = [[1*5+3*7, 1*6+3*8], [2*5+4*7, 2*6+4*8]]
    (False, True, [[17, 23], [39, 53]]),    # A Bᵀ  = [[1*5+2*6, 1*7+2*8], [3*5+4*6, 3*7+4*8]]
])
def test_matmul_three_forms(kernels, trans_a, trans_b, expected):
    assert_close(kernels.matmul(A2, B2, trans_a=trans_a, trans_b=trans_b), arr(expected), what="C")


def test_matmul_rectangular(kernels):
    A = arr([[1, 0, -1], [2, 1, 0.5]])          # (2, 3)
    B = arr([[1], [2], [3]])                    # (3, 1)
    assert_close(kernels.matmul(A, B), arr([[1 - 3], [2 + 2 + 1.5]]))
    # Aᵀ (3,2) @ C (2,2)
    C = arr([[1, 1], [0, 2]])
    assert_close(kernels.matmul(A, C, trans_a=True), arr([[1, 5], [0, 2], [-1, 0]]))
    # A (2,3) @ Dᵀ with D (1,3)
    D = arr([[2, -1, 4]])
    assert_close(kernels.matmul(A, D, trans_b=True), arr([[2 - 4], [4 - 1 + 2]]))


X = arr([[1, 2], [-1, 0.5]])
W = arr([[1, 0], [0, 1], [2, -1]])              # (n_out=3, n_in=2)
b = arr([0.5, -0.5, 1])


def test_linear_forward(kernels):
    # row 1: [1+0.5, 2-0.5, 2-2+1] ; row 2: [-1+0.5, 0.5-0.5, -2-0.5+1]
    assert_close(kernels.linear_forward(X, W, b), arr([[1.5, 1.5, 1.0], [-0.5, 0.0, -1.5]]), what="Z")


def test_linear_backward(kernels):
    dZ = arr([[1, 0, 2], [0, -1, 1]])
    dX, dW, db = kernels.linear_backward(dZ, X, W)
    # dX = dZ W : row1 = 1*[1,0] + 2*[2,-1] = [5,-2]; row2 = -1*[0,1] + 1*[2,-1] = [2,-2]
    assert_close(dX, arr([[5, -2], [2, -2]]), what="dX")
    # dW[i] = sum_s dZ[s,i] X[s]: [1,2]; -(-1,0.5)=[1,-0.5]; 2*[1,2]+[-1,0.5]=[1,4.5]
    assert_close(dW, arr([[1, 2], [1, -0.5], [1, 4.5]]), what="dW")
    assert_close(db, arr([1, -1, 3]), what="db")


# ---------------------------------------------------------------- activations
ZS = [-3.0, -1.0, 0.0, 0.5, 2.0]
FORMULAS = {
    "sigmoid": sig,
    "tanh": math.tanh,
    "relu": lambda z: max(z, 0.0),
    "leaky_relu": lambda z: z if z > 0 else 0.01 * z,
    "linear": lambda z: z,
}
DERIVATIVES = {
    "sigmoid": lambda z: sig(z) * (1 - sig(z)),
    "tanh": lambda z: 1 - math.tanh(z) ** 2,
    "relu": lambda z: 1.0 if z > 0 else 0.0,          # f'(0) taken as 0
    "leaky_relu": lambda z: 1.0 if z > 0 else 0.01,   # f'(0) taken as negative_slope
    "linear": lambda z: 1.0,
}


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_activation_forward(kernels, name):
    Z = arr([ZS, [z / 2 for z in ZS]])
    expected = arr([[FORMULAS[name](z) for z in row] for row in Z.tolist()])
    assert_close(kernels.activation_forward(name, Z), expected, rtol=1e-14, what=name)


@pytest.mark.parametrize("name", sorted(DERIVATIVES))
def test_activation_backward(kernels, name):
    Z = arr([ZS, [z / 2 for z in ZS]])
    A = arr([[FORMULAS[name](z) for z in row] for row in Z.tolist()])
    dA = arr([[1, -2, 3, 0.5, -1], [2, 1, -1, 4, 0.25]])
    expected = arr([[da * DERIVATIVES[name](z) for da, z in zip(r1, r2)]
                    for r1, r2 in zip(dA.tolist(), Z.tolist())])
    assert_close(kernels.activation_backward(name, dA, Z, A), expected, rtol=1e-14, what=name)


def test_leaky_relu_negative_slope_is_used(kernels):
    Z = arr([[-2.0, 3.0]])
    assert_close(kernels.activation_forward("leaky_relu", Z, negative_slope=0.2), arr([[-0.4, 3.0]]))
    dZ = kernels.activation_backward("leaky_relu", arr([[1.0, 1.0]]), Z, arr([[-0.4, 3.0]]), negative_slope=0.2)
    assert_close(dZ, arr([[0.2, 1.0]]))


def _strict_floats():
    """Turn Python warnings and NumPy overflow / invalid / divide into errors.
    Underflow stays allowed: e^-1000 rounding to 0 is the right answer
    (σ(-1000) is 0 in float64), not a defect."""
    return np.errstate(over="raise", invalid="raise", divide="raise", under="ignore")


def test_sigmoid_large_z_no_overflow(kernels):
    Z = arr([[1000.0, -1000.0, 709.0, -709.0, 40.0, -40.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with _strict_floats():
            A = kernels.activation_forward("sigmoid", Z)
    assert A[0, 0] == 1.0 and A[0, 1] == 0.0
    assert A[0, 2] == 1.0 and 0.0 < A[0, 3] < 1e-300
    assert_close(A[0, 4:], arr([1 / (1 + math.exp(-40)), math.exp(-40) / (1 + math.exp(-40))]), rtol=1e-14)


def test_softmax_rowwise_max_subtracted(kernels):
    # Row maxima differ wildly; each row must be normalised on its own.
    Z = arr([[1000.0, 1000.0], [0.0, math.log(3.0)], [-1000.0, -1000.0], [1000.0, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with _strict_floats():
            A = kernels.softmax(Z)
            A2_ = kernels.activation_forward("softmax", Z)
    expected = arr([[0.5, 0.5], [0.25, 0.75], [0.5, 0.5], [1.0, 0.0]])
    assert_close(A, expected, rtol=1e-14, atol=1e-300, what="softmax")
    assert_close(A2_, expected, rtol=1e-14, atol=1e-300, what="activation_forward softmax")


def test_softmax_three_values(kernels):
    z = [2.0, 1.0, 0.1]
    e = [math.exp(v) for v in z]
    assert_close(kernels.softmax(arr([z])), arr([[v / sum(e) for v in e]]), rtol=1e-14)


def test_softmax_backward(kernels):
    # dz_i = a_i (da_i - Σ_k da_k a_k); row 1: Σ = 0.2 -> [0.2*0.8, 0.3*-0.2, 0.5*-0.2]
    # row 2: Σ = 0.5*1 + 0.5*3 = 2 -> [0.5*(1-2), 0.5*(3-2)]... written for 3 columns:
    A = arr([[0.2, 0.3, 0.5], [0.5, 0.0, 0.5]])
    dA = arr([[1, 0, 0], [1, 7, 3]])
    Z = np.log(np.where(A > 0, A, 1e-300))  # any Z with softmax(Z) ≈ A; only A is used
    expected = arr([[0.16, -0.06, -0.1], [0.5 * (1 - 2), 0.0, 0.5 * (3 - 2)]])
    assert_close(kernels.activation_backward("softmax", dA, Z, A), expected, rtol=1e-14, atol=1e-16)


# ---------------------------------------------------------------- losses
def test_mse(kernels):
    A, Y = arr([[0.5], [1.0]]), arr([[1.0], [0.0]])
    assert kernels.loss_value("mse", A, Y) == pytest.approx((0.25 + 1.0) / 2, rel=1e-14)
    assert_close(kernels.loss_gradient("mse", A, Y), arr([[2 * -0.5 / 2], [2 * 1.0 / 2]]))
    # mean over every element (m*k = 4 terms)
    A, Y = arr([[1, 2], [3, 4]]), arr([[0, 0], [0, 0]])
    assert kernels.loss_value("mse", A, Y) == pytest.approx(30 / 4, rel=1e-14)
    assert_close(kernels.loss_gradient("mse", A, Y), 2 * A / 4)


def test_bce(kernels):
    A, Y = arr([[0.8], [0.4]]), arr([[1.0], [0.0]])
    assert kernels.loss_value("bce", A, Y) == pytest.approx(-(math.log(0.8) + math.log(0.6)) / 2, rel=1e-14)
    # (a - y) / (a (1 - a)) / N
    assert_close(kernels.loss_gradient("bce", A, Y),
                 arr([[(0.8 - 1) / (0.8 * 0.2) / 2], [0.4 / (0.4 * 0.6) / 2]]), rtol=1e-14)


def test_cce(kernels):
    A = arr([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    Y = arr([[1, 0, 0], [0, 0, 1]])
    assert kernels.loss_value("cce", A, Y) == pytest.approx(-(math.log(0.7) + math.log(0.8)) / 2, rel=1e-14)
    assert_close(kernels.loss_gradient("cce", A, Y),
                 arr([[-1 / 0.7 / 2, 0, 0], [0, 0, -1 / 0.8 / 2]]), rtol=1e-14)


def test_loss_from_logits_by_hand(kernels):
    """bce: softplus(z) − y z. z = 0 costs log 2 whatever the label; z = ln 3, y = 1:
    softplus(ln 3) − ln 3 = ln 4 − ln 3. cce: logsumexp(z) − z_y; equal logits over
    three classes cost ln 3; logits (ln 1, ln 3), class 0: ln 4 − 0."""
    ln = math.log
    assert kernels.loss_from_logits("bce", arr([[0.0, ln(3)]]), arr([[0.0, 1.0]])) == \
        pytest.approx((ln(2) + ln(4) - ln(3)) / 2, rel=1e-14)
    assert kernels.loss_from_logits("cce", arr([[5.0, 5.0, 5.0], [0.0, ln(3), -700.0]]),
                                    arr([[0, 1, 0], [1, 0, 0]])) == pytest.approx((ln(3) + ln(4)) / 2, rel=1e-14)


def test_losses_clip_probabilities(kernels):
    """A exactly 0 or 1: log(0) must never happen; the loss is finite and
    equals the clipped value -log(1e-12) ≈ 27.631 per wrong term."""
    big = -math.log(1e-12)
    A, Y = arr([[0.0], [1.0]]), arr([[1.0], [0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            value = kernels.loss_value("bce", A, Y)
            grad = kernels.loss_gradient("bce", A, Y)
            right = kernels.loss_value("bce", arr([[1.0], [0.0]]), arr([[1.0], [0.0]]))
            ce = kernels.loss_value("cce", arr([[0.0, 1.0]]), arr([[1.0, 0.0]]))
            ce_grad = kernels.loss_gradient("cce", arr([[0.0, 1.0]]), arr([[1.0, 0.0]]))
    assert math.isfinite(value) and value == pytest.approx(big, rel=1e-3)
    assert np.all(np.isfinite(grad))
    assert 0.0 <= right < 1e-10
    assert ce == pytest.approx(big, rel=1e-9)
    assert np.all(np.isfinite(ce_grad)) and ce_grad[0, 0] == pytest.approx(-1e12, rel=1e-9)


def test_output_delta(kernels):
    A, Y = arr([[0.9, 0.1], [0.3, 0.7]]), arr([[1, 0], [0, 1]])
    assert_close(kernels.output_delta(A, Y, 2), arr([[-0.05, 0.05], [0.15, -0.15]]), rtol=1e-13)


@pytest.mark.parametrize("activation, loss, n_terms", [("sigmoid", "bce", "size"), ("softmax", "cce", "rows")])
def test_output_gradient_fused(kernels, activation, loss, n_terms):
    A, Y = arr([[0.2, 0.8], [0.6, 0.4], [0.5, 0.5]]), arr([[0, 1], [1, 0], [1, 0]])
    n = A.size if n_terms == "size" else A.shape[0]
    assert_close(kernels.output_gradient(loss, activation, A, Y, np.zeros_like(A)), (A - Y) / n, rtol=1e-14)


# ---------------------------------------------------------------- regularization
def test_penalty(kernels):
    Wp = arr([[1, -2], [0, 3]])
    # l2/(2m) ΣW² + l1/m Σ|W| = 0.2/8 * 14 + 0.5/4 * 6 = 0.35 + 0.75
    assert kernels.penalty(Wp, 0.5, 0.2, 4) == pytest.approx(1.1, rel=1e-14)
    # (l2/m) W + (l1/m) sign(W) = 0.05 W + 0.125 sign(W); sign(0) = 0
    assert_close(kernels.penalty_gradient(Wp, 0.5, 0.2, 4), arr([[0.175, -0.225], [0.0, 0.275]]), rtol=1e-14)


def test_dropout(kernels):
    A = arr([[1, 2], [3, 4]])
    mask = arr([[1, 0], [0, 1]])
    assert_close(kernels.dropout_forward(A, mask, 0.5), arr([[2, 0], [0, 8]]))
    assert_close(kernels.dropout_backward(arr([[1, 1], [-1, 2]]), mask, 0.8), arr([[1.25, 0], [0, 2.5]]))


# ---------------------------------------------------------------- batch norm
ZB = arr([[1.0, 10.0], [3.0, 10.0], [5.0, 13.0]])  # column means 3, 11; variances 8/3, 2
GAMMA, BETA, EPS = arr([2.0, 0.5]), arr([1.0, -1.0]), 1e-5


def _bn_reference(Z, gamma, beta, eps):
    """Batch norm written out column by column (independent of pyneuron)."""
    m, n = Z.shape
    out = np.empty_like(Z)
    for j in range(n):
        col = [Z[s, j] for s in range(m)]
        mu = sum(col) / m
        var = sum((c - mu) ** 2 for c in col) / m
        for s in range(m):
            out[s, j] = gamma[j] * (col[s] - mu) / math.sqrt(var + eps) + beta[j]
    return out


def test_batchnorm_forward(kernels):
    Yb, Zhat, mean, var = kernels.batchnorm_forward(ZB, GAMMA, BETA, EPS)
    assert_close(mean, arr([3.0, 11.0]), rtol=1e-14)
    assert_close(var, arr([8 / 3, 2.0]), rtol=1e-14)
    s0, s1 = math.sqrt(8 / 3 + EPS), math.sqrt(2 + EPS)
    zhat = arr([[-2 / s0, -1 / s1], [0.0, -1 / s1], [2 / s0, 2 / s1]])
    assert_close(Zhat, zhat, rtol=1e-13, atol=1e-15)
    assert_close(Yb, GAMMA * zhat + BETA, rtol=1e-13, atol=1e-15)


def test_batchnorm_inference(kernels):
    rm, rv = arr([2.0, 10.0]), arr([4.0, 0.25])
    out = kernels.batchnorm_inference(ZB, GAMMA, BETA, rm, rv, EPS)
    expected = arr([[2 * (z0 - 2) / math.sqrt(4 + EPS) + 1, 0.5 * (z1 - 10) / math.sqrt(0.25 + EPS) - 1]
                    for z0, z1 in ZB.tolist()])
    assert_close(out, expected, rtol=1e-13)


def test_batchnorm_backward_matches_finite_differences(kernels):
    """dZ, dgamma, dbeta of L = Σ dY ⊙ BN(Z) by central differences of the
    reference batch norm above."""
    dY = arr([[0.3, -1.0], [1.2, 0.5], [-0.7, 2.0]])
    _, Zhat, _, var = kernels.batchnorm_forward(ZB, GAMMA, BETA, EPS)
    dZ, dgamma, dbeta = kernels.batchnorm_backward(dY, Zhat, GAMMA, var, EPS)

    def L(Z=ZB, g=GAMMA, bt=BETA):
        return float(np.sum(dY * _bn_reference(Z, g, bt, EPS)))

    h = 1e-6

    def numeric(which, base):
        grad = np.zeros_like(base)
        for idx in np.ndindex(base.shape):
            plus, minus = base.copy(), base.copy()
            plus[idx] += h
            minus[idx] -= h
            grad[idx] = (L(**{which: plus}) - L(**{which: minus})) / (2 * h)
        return grad

    assert_close(dZ, numeric("Z", ZB), rtol=1e-6, atol=1e-8, what="dZ")
    assert_close(dgamma, numeric("g", GAMMA), rtol=1e-6, atol=1e-8, what="dgamma")
    assert_close(dbeta, dY.sum(axis=0), rtol=1e-14, what="dbeta")


# ---------------------------------------------------------------- optimizer steps
def test_sgd_step_in_place(kernels):
    p = arr([[1.0, 2.0]])
    ref = p
    kernels.sgd_step(p, arr([[0.5, -1.0]]), 0.1)
    assert p is ref
    assert_close(p, arr([[0.95, 2.1]]), rtol=1e-15)


@pytest.mark.parametrize("nesterov, dampening, expected", [
    # PyTorch form, β=0.9, lr=0.1, g1=1, g2=0.5:  v=1, p=0.9;  v=0.9+0.5=1.4, p=0.9-0.14
    (False, 0.0, [0.9, 0.76]),
    # Nesterov: u = g + βv:  u=1+0.9=1.9, p=0.81;  u=0.5+0.9*1.4=1.76, p=0.81-0.176
    (True, 0.0, [0.81, 0.634]),
    # Tutorials' EMA (dampening=β): v=0.1, p=0.99;  v=0.09+0.05=0.14, p=0.99-0.014
    (False, 0.9, [0.99, 0.976]),
])
def test_momentum_two_steps(kernels, nesterov, dampening, expected):
    p, v = arr([1.0, -3.0]), arr([0.0, 0.0])
    got = []
    for g in (1.0, 0.5):
        kernels.momentum_step(p, arr([g, 0.0]), v, 0.1, 0.9, dampening, nesterov)
        got.append(p[0])
    assert_close(got, expected, rtol=1e-14)
    assert p[1] == -3.0  # zero gradient, zero velocity: untouched


def test_rmsprop_two_steps(kernels):
    p, s = arr([1.0]), arr([0.0])
    lr, rho, eps = 0.01, 0.9, 1e-8
    kernels.rmsprop_step(p, arr([2.0]), s, lr, rho, eps)
    s1 = 0.1 * 4.0
    p1 = 1.0 - lr * 2.0 / (math.sqrt(s1) + eps)
    assert_close(s, [s1], rtol=1e-15)
    assert_close(p, [p1], rtol=1e-15)
    kernels.rmsprop_step(p, arr([-1.0]), s, lr, rho, eps)
    s2 = 0.9 * s1 + 0.1 * 1.0
    assert_close(s, [s2], rtol=1e-15)
    assert_close(p, [p1 + lr * 1.0 / (math.sqrt(s2) + eps)], rtol=1e-15)


@pytest.mark.parametrize("wd", [0.0, 0.1])
def test_adam_two_steps(kernels, wd):
    p, m, v = arr([1.0, 0.5]), arr([0.0, 0.0]), arr([0.0, 0.0])
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8
    expected_p = 1.0
    em = ev = 0.0
    for t, g in ((1, 2.0), (2, -1.0)):
        kernels.adam_step(p, arr([g, 0.0]), m, v, lr, b1, b2, eps, t, wd)
        expected_p *= 1 - lr * wd
        em = b1 * em + (1 - b1) * g
        ev = b2 * ev + (1 - b2) * g * g
        expected_p -= lr * (em / (1 - b1 ** t)) / (math.sqrt(ev / (1 - b2 ** t)) + eps)
        assert_close(m[0], em, rtol=1e-15, what=f"m at t={t}")
        assert_close(v[0], ev, rtol=1e-15, what=f"v at t={t}")
        assert_close(p[0], expected_p, rtol=1e-14, what=f"param at t={t}")
    # first step with bias correction is ±lr (≈): m̂ = g, v̂ = g²
    if wd == 0.0:
        assert abs((1.0 - 0.1 * 2.0 / (2.0 + 1e-8)) - 0.9) < 1e-8
    # numbers: t=2, m = 0.08, v = 0.004996
    assert m[0] == pytest.approx(0.08, rel=1e-12) and v[0] == pytest.approx(0.004996, rel=1e-12)
    assert p[1] == pytest.approx(0.5 * (1 - lr * wd) ** 2, rel=1e-15)


# ---------------------------------------------------------------- fused kernels
def test_dense_forward_and_backward(kernels):
    Z, A = kernels.dense_forward(X, W, b, "relu")
    assert_close(Z, arr([[1.5, 1.5, 1.0], [-0.5, 0.0, -1.5]]))
    assert_close(A, arr([[1.5, 1.5, 1.0], [0.0, 0.0, 0.0]]))
    dX, dW, db = kernels.dense_backward(arr([[1, 0, 2], [5, 5, 5]]), X, W, Z, A, "relu")
    # relu' kills row 2 entirely: dZ = [[1,0,2],[0,0,0]]
    assert_close(dX, arr([[5, -2], [0, 0]]))
    assert_close(dW, arr([[1, 2], [0, 0], [2, 4]]))
    assert_close(db, arr([1, 0, 2]))


def test_sgd_train_step_one_step(kernels):
    """Seed 003's 2-2-1 sigmoid net, one step: the fused kernel returns the loss
    before the update and updates in place. Values by hand in test_worked_examples."""
    Ws = [arr([[0.1, 0.2], [0.3, 0.4]]), arr([[0.5, 0.6]])]
    bs = [arr([0.1, 0.2]), arr([0.3])]
    loss = kernels.sgd_train_step(arr([[1.0, 2.0]]), arr([[1.0]]), Ws, bs, ["sigmoid", "sigmoid"], "bce", 0.1)
    a1 = [sig(0.6), sig(1.3)]
    a2 = sig(0.5 * a1[0] + 0.6 * a1[1] + 0.3)
    assert loss == pytest.approx(-math.log(a2), rel=1e-13)
    dz2 = a2 - 1.0
    assert_close(Ws[1], arr([[0.5 - 0.1 * dz2 * a1[0], 0.6 - 0.1 * dz2 * a1[1]]]), rtol=1e-13)
    assert_close(bs[1], arr([0.3 - 0.1 * dz2]), rtol=1e-13)
    dz1 = [dz2 * 0.5 * a1[0] * (1 - a1[0]), dz2 * 0.6 * a1[1] * (1 - a1[1])]
    assert_close(Ws[0], arr([[0.1 - 0.1 * dz1[0], 0.2 - 0.2 * dz1[0]],
                             [0.3 - 0.1 * dz1[1], 0.4 - 0.2 * dz1[1]]]), rtol=1e-13)
    assert_close(bs[0], arr([0.1 - 0.1 * dz1[0], 0.2 - 0.1 * dz1[1]]), rtol=1e-13)
