"""Optimizers and learning-rate schedules (issue 5).

Expected values are written out from each optimizer's update equations in the
test itself, never computed by the code under test; PyTorch, when installed,
is the second oracle.
"""
import math

import numpy as np
import pytest

import pyneuron as pn
from pyneuron import backends
from pyneuron import optimizers as opt
from pyneuron import schedules

from helpers import assert_close


def run_steps(optimizer, kernels, p0, grads):
    p = np.array(p0, dtype=float)
    for g in grads:
        optimizer.step(kernels, [p], [np.array(g, dtype=float)])
    return p


P0 = [1.0, -2.0]
GRADS = [[0.5, -1.0], [0.25, 2.0]]


def test_sgd_closed_form(kernels):
    p = run_steps(opt.SGD(lr=0.1), kernels, P0, GRADS)
    assert_close(p, [1.0 - 0.1 * 0.5 - 0.1 * 0.25, -2.0 + 0.1 * 1.0 - 0.1 * 2.0])


def test_sgd_momentum_and_nesterov_closed_form(kernels):
    # PyTorch form: v1 = g1, v2 = 0.9 v1 + g2 ; p -= lr v (Nesterov: p -= lr (g + 0.9 v))
    g1, g2 = np.array(GRADS[0]), np.array(GRADS[1])
    v1 = g1
    v2 = 0.9 * v1 + g2
    expected = np.array(P0) - 0.1 * v1 - 0.1 * v2
    assert_close(run_steps(opt.SGD(lr=0.1, momentum=0.9), kernels, P0, GRADS), expected)
    expected_nesterov = np.array(P0) - 0.1 * (g1 + 0.9 * v1) - 0.1 * (g2 + 0.9 * v2)
    assert_close(run_steps(opt.SGD(lr=0.1, momentum=0.9, nesterov=True), kernels, P0, GRADS),
                 expected_nesterov)


def test_tutorial_momentum_closed_form(kernels):
    # v = β v + (1 − β) g with β = 0.9: v1 = 0.1 g1, v2 = 0.09 g1 + 0.1 g2
    g1, g2 = np.array(GRADS[0]), np.array(GRADS[1])
    v1 = 0.1 * g1
    v2 = 0.9 * v1 + 0.1 * g2
    optimizer = opt.Momentum(lr=0.5, beta=0.9)
    p = run_steps(optimizer, kernels, P0, GRADS)
    assert_close(p, np.array(P0) - 0.5 * v1 - 0.5 * v2)
    assert_close(optimizer.state[0]["velocity"], v2)  # state lives in the optimizer


def test_rmsprop_closed_form(kernels):
    g1, g2 = np.array(GRADS[0]), np.array(GRADS[1])
    s1 = 0.1 * g1 ** 2
    p1 = np.array(P0) - 0.01 * g1 / (np.sqrt(s1) + 1e-8)
    s2 = 0.9 * s1 + 0.1 * g2 ** 2
    p2 = p1 - 0.01 * g2 / (np.sqrt(s2) + 1e-8)
    assert_close(run_steps(opt.RMSprop(lr=0.01, rho=0.9), kernels, P0, GRADS), p2)


def adam_by_hand(p, grads, lr, b1=0.9, b2=0.999, eps=1e-8, wd=0.0, corrected=True):
    p = np.array(p, dtype=float)
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    for t, g in enumerate(grads, start=1):
        g = np.array(g, dtype=float)
        p = p * (1 - lr * wd)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1 ** t) if corrected else m
        v_hat = v / (1 - b2 ** t) if corrected else v
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p


def test_adam_and_adamw_closed_form(kernels):
    optimizer = opt.Adam(lr=0.01)
    assert_close(run_steps(optimizer, kernels, P0, GRADS), adam_by_hand(P0, GRADS, 0.01))
    assert optimizer.t == 2
    assert_close(run_steps(opt.AdamW(lr=0.01, weight_decay=0.1), kernels, P0, GRADS),
                 adam_by_hand(P0, GRADS, 0.01, wd=0.1))


def test_adam_bias_correction_uses_step_count(kernels):
    # With correction the first step moves each parameter by ~lr whatever |g| is;
    # the uncorrected form (m, v used as they are) moves it by lr·0.1/√0.001 ≈ 3.16·lr.
    p = run_steps(opt.Adam(lr=0.01), kernels, P0, GRADS[:1])
    assert_close(np.abs(p - np.array(P0)), [0.01, 0.01], rtol=1e-6)
    wrong = adam_by_hand(P0, GRADS[:1], 0.01, corrected=False)
    assert np.all(np.abs(wrong - np.array(P0)) > 0.03)
    # and after many steps the corrected and uncorrected forms stay apart
    grads = [[0.5, -1.0]] * 5
    assert not np.allclose(run_steps(opt.Adam(lr=0.01), kernels, P0, grads),
                           adam_by_hand(P0, grads, 0.01, corrected=False), rtol=1e-3)


def test_biases_are_updated_like_weights(backend):
    X, y = pn.datasets.make_moons(40, noise=0.1, seed=0)
    for optimizer in (opt.SGD(0.1), opt.Momentum(0.1), opt.RMSprop(0.01), opt.Adam(0.01), opt.AdamW(0.01)):
        model = pn.MLP([2, 3, 1], activation="tanh", seed=1, backend=backend)
        model.fit(X, y, epochs=1, batch_size=None, optimizer=optimizer)
        assert all(np.any(layer.b != 0) for layer in model.layers), type(optimizer).__name__


# ---------------------------------------------------------------- x² + 3y² from (4, 3)
def race(optimizer, steps, kernels):
    p = np.array([4.0, 3.0])
    for _ in range(steps):
        grad = np.array([2 * p[0], 6 * p[1]])
        optimizer.step(kernels, [p], [grad])
    return p, p[0] ** 2 + 3 * p[1] ** 2


def test_gradient_descent_first_step_on_the_bowl(kernels):
    # (4, 3) - 0.1·(8, 18) = (3.2, 1.2): f = 10.24 + 4.32 = 14.56 (seed 004 prints 13.6)
    p, f = race(opt.SGD(lr=0.1), 1, kernels)
    assert_close(p, [3.2, 1.2])
    assert round(f, 2) == 14.56


@pytest.mark.parametrize("make, steps", [
    (lambda: opt.SGD(lr=0.1), 100),
    (lambda: opt.SGD(lr=0.05, momentum=0.9), 300),
    (lambda: opt.SGD(lr=0.05, momentum=0.9, nesterov=True), 300),
    (lambda: opt.Momentum(lr=0.1, beta=0.9), 300),
    (lambda: opt.RMSprop(lr=0.01), 1000),
    (lambda: opt.Adam(lr=0.1), 500),
    (lambda: opt.AdamW(lr=0.1, weight_decay=0.01), 500),
])
def test_every_optimizer_minimizes_the_bowl(make, steps):
    _, f = race(make(), steps, backends.get("numpy"))
    assert f < 1e-3, f


@pytest.mark.parametrize("optimizer", [opt.SGD(lr=0.1), opt.SGD(lr=0.05, momentum=0.9),
                                       opt.Momentum(lr=0.3), opt.RMSprop(lr=0.005), opt.Adam(lr=0.01),
                                       opt.AdamW(lr=0.01)], ids=repr)
def test_every_optimizer_trains_moons(optimizer):
    X, y = pn.datasets.make_moons(400, noise=0.15, seed=3)
    X_tr, X_te, y_tr, y_te = pn.datasets.train_test_split(X, y, test_size=0.25, seed=3)
    optimizer.reset()
    model = pn.MLP([2, 16, 8, 1], activation="relu", seed=4)
    model.fit(X_tr, y_tr, epochs=150, batch_size=32, optimizer=optimizer)
    assert model.score(X_te, y_te) >= 0.93


def test_optimizer_argument_errors():
    with pytest.raises(ValueError, match="lr"):
        opt.Adam(lr=-1)
    with pytest.raises(ValueError, match="momentum"):
        opt.SGD(momentum=1.5)
    with pytest.raises(ValueError, match="nesterov"):
        opt.SGD(nesterov=True)
    with pytest.raises(ValueError, match="optimizer"):
        opt.get("adadelta")
    X, y = pn.datasets.make_xor()
    with pytest.raises(ValueError, match="lr: give the learning rate to the optimizer"):
        pn.MLP([2, 2, 1]).fit(X, y, epochs=1, lr=0.1, optimizer=opt.Adam())
    assert "Adam(lr=0.001" in repr(opt.Adam())


# ---------------------------------------------------------------- PyTorch as the oracle
def _torch_run(torch_opt_factory, p0, grad_fn, steps):
    torch = pytest.importorskip("torch")
    p = torch.tensor(p0, dtype=torch.float64, requires_grad=True)
    o = torch_opt_factory([p])
    for _ in range(steps):
        o.zero_grad()
        p.grad = torch.tensor(grad_fn(p.detach().numpy()), dtype=torch.float64)
        o.step()
    return p.detach().numpy()


def _ours(optimizer, p0, grad_fn, steps, kernels):
    p = np.array(p0, dtype=float)
    for _ in range(steps):
        optimizer.step(kernels, [p], [grad_fn(p)])
    return p


def _grad_fn(p):
    # a non-linear gradient field, so a wrong update sends the trajectory elsewhere
    return p ** 3 - 0.5 * p + np.sin(3 * p)


CASES = [
    ("SGD", lambda: opt.SGD(lr=0.05), lambda t, ps: t.optim.SGD(ps, lr=0.05)),
    ("SGD-momentum", lambda: opt.SGD(lr=0.05, momentum=0.8),
     lambda t, ps: t.optim.SGD(ps, lr=0.05, momentum=0.8)),
    ("SGD-nesterov", lambda: opt.SGD(lr=0.05, momentum=0.8, nesterov=True),
     lambda t, ps: t.optim.SGD(ps, lr=0.05, momentum=0.8, nesterov=True)),
    ("RMSprop", lambda: opt.RMSprop(lr=0.01, rho=0.95, eps=1e-8),
     lambda t, ps: t.optim.RMSprop(ps, lr=0.01, alpha=0.95, eps=1e-8)),
    ("Adam", lambda: opt.Adam(lr=0.02, beta1=0.85, beta2=0.99),
     lambda t, ps: t.optim.Adam(ps, lr=0.02, betas=(0.85, 0.99))),
    ("AdamW", lambda: opt.AdamW(lr=0.02, weight_decay=0.05),
     lambda t, ps: t.optim.AdamW(ps, lr=0.02, weight_decay=0.05)),
]


@pytest.mark.parametrize("name, ours, theirs", CASES, ids=[c[0] for c in CASES])
def test_matches_pytorch_step_for_step(name, ours, theirs, kernels):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    p0 = rng.normal(size=6)
    steps = 5 if kernels.name == "scalar" else 25
    expected = _torch_run(lambda ps: theirs(torch, ps), p0, _grad_fn, steps)
    assert_close(_ours(ours(), p0, _grad_fn, steps, kernels), expected, rtol=1e-10, atol=1e-12)


def test_tutorial_momentum_equals_pytorch_momentum_with_scaled_lr():
    # v_tut = (1−β)·v_torch, so lr·v_tut = (lr·(1−β))·v_torch: the same trajectory.
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(8)
    p0 = rng.normal(size=5)
    beta, lr = 0.9, 0.3
    expected = _torch_run(lambda ps: torch.optim.SGD(ps, lr=lr * (1 - beta), momentum=beta), p0, _grad_fn, 30)
    assert_close(_ours(opt.Momentum(lr=lr, beta=beta), p0, _grad_fn, 30, backends.get("numpy")),
                 expected, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------- schedules
def test_schedule_values():
    assert schedules.Constant()(0.1, 50) == 0.1
    assert schedules.InverseTimeDecay(decay=0.5)(0.1, 4) == pytest.approx(0.1 / 3)
    assert schedules.StepDecay(step_size=10, gamma=0.5)(0.1, 25) == pytest.approx(0.025)
    assert schedules.ExponentialDecay(gamma=0.9)(0.1, 2) == pytest.approx(0.081)
    cosine = schedules.CosineDecay(total=10, min_lr=0.01)
    assert cosine(0.1, 0) == pytest.approx(0.1)
    assert cosine(0.1, 5) == pytest.approx(0.055)
    assert cosine(0.1, 10) == pytest.approx(0.01) and cosine(0.1, 20) == pytest.approx(0.01)
    with pytest.raises(ValueError, match="per"):
        schedules.Constant(per="batch")


def test_schedule_applies_per_epoch_and_per_step():
    X, y = pn.datasets.make_moons(64, noise=0.1, seed=0)
    model = pn.MLP([2, 4, 1], seed=0)
    history = model.fit(X, y, epochs=4, batch_size=None, lr=0.2,
                        lr_schedule=schedules.InverseTimeDecay(decay=1.0))
    assert_close(history["lr"], [0.2, 0.1, 0.2 / 3, 0.05])
    model = pn.MLP([2, 4, 1], seed=0)
    history = model.fit(X, y, epochs=2, batch_size=16, lr=0.2,
                        lr_schedule=schedules.ExponentialDecay(gamma=0.5, per="step"))
    # 4 steps per epoch; the lr recorded is the one used at the epoch's last step (t = 3, 7)
    assert_close(history["lr"], [0.2 * 0.5 ** 3, 0.2 * 0.5 ** 7])
