"""Dropout, batch normalization and L1/L2 (issue 5)."""
import numpy as np
import pytest

import pyneuron as pn
from pyneuron import backends

from helpers import assert_close


def test_dropout_preserves_expected_activation(kernels):
    rng = np.random.default_rng(0)
    A = rng.uniform(0.5, 1.5, size=(1, 20))
    keep = 0.8
    total = np.zeros_like(A)
    n = 300 if kernels.name == "scalar" else 4000
    for _ in range(n):
        mask = (rng.random(A.shape) < keep).astype(float)
        out = kernels.dropout_forward(A, mask, keep)
        # each kept unit is scaled by 1/keep, each dropped one is 0
        assert_close(out, np.where(mask == 1, A / keep, 0.0))
        total += out
    assert_close(total / n, A, rtol=0.1 if kernels.name == "scalar" else 0.03)


def test_dropout_is_identity_at_inference(backend):
    X, y = pn.datasets.make_moons(50, noise=0.1, seed=0)
    with_dropout = pn.MLP([2, 8, 8, 1], dropout=0.5, seed=3, backend=backend)
    without = pn.MLP([2, 8, 8, 1], seed=3, backend=backend)
    without.set_weights(with_dropout.get_weights())
    assert_close(with_dropout.predict_proba(X), without.predict_proba(X), rtol=0, atol=0)
    # but the training graph does drop units
    out = with_dropout.forward(X, training=True)
    assert not np.allclose(out, without.predict_proba(X).reshape(-1, 1))


def test_dropout_backward_uses_the_same_mask(kernels):
    mask = np.array([[1.0, 0.0, 1.0]])
    assert_close(kernels.dropout_backward(np.array([[2.0, 3.0, 4.0]]), mask, 0.5), [[4.0, 0.0, 8.0]])


def test_training_with_dropout_agrees_across_backends(backend):
    X, y = pn.datasets.make_moons(24, noise=0.1, seed=1)
    def run(name):
        model = pn.MLP([2, 6, 5, 1], activation="relu", dropout=[0.3, 0.2], seed=11, backend=name)
        h = model.fit(X, y, epochs=3, batch_size=8, optimizer=pn.optimizers.Adam(0.01))
        return model.get_weights(), h["loss"]
    ref_w, ref_loss = run("numpy")
    w, loss = run(backend)
    assert_close(loss, ref_loss, rtol=1e-10)
    for a, b in zip(w, ref_w):
        assert_close(a, b, rtol=1e-9, atol=1e-12)


def test_batchnorm_training_forward_by_hand(kernels):
    Z = np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 16.0]])
    gamma, beta = np.array([2.0, 1.0]), np.array([0.5, -1.0])
    Y, Zhat, mean, var = kernels.batchnorm_forward(Z, gamma, beta, 1e-5)
    assert_close(mean, [3.0, 12.0])
    assert_close(var, [8 / 3, 8.0])
    expected_hat = np.array([[-2.0, -2.0], [0.0, -2.0], [2.0, 4.0]]) / np.sqrt(np.array([8 / 3, 8.0]) + 1e-5)
    assert_close(Zhat, expected_hat)
    assert_close(Y, gamma * expected_hat + beta)


def test_batchnorm_matches_torch_in_both_modes(backend):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    X = rng.normal(size=(16, 3))
    y = rng.integers(0, 3, 16)
    model = pn.MLP([3, 4, 3], activation="tanh", output="softmax", batch_norm=True, seed=2, backend=backend,
                   bias=True)
    layer = model.layers[0]
    layer.gamma[...] = rng.uniform(0.5, 1.5, 4)
    layer.beta[...] = rng.normal(size=4)
    W1, b1, W2, b2 = model.get_weights()
    lin1 = torch.nn.Linear(3, 4).double()
    bn = torch.nn.BatchNorm1d(4, eps=layer.bn_eps, momentum=layer.bn_momentum).double()
    lin2 = torch.nn.Linear(4, 3).double()
    with torch.no_grad():
        lin1.weight.copy_(torch.from_numpy(W1)); lin1.bias.copy_(torch.from_numpy(b1))
        lin2.weight.copy_(torch.from_numpy(W2)); lin2.bias.copy_(torch.from_numpy(b2))
        bn.weight.copy_(torch.from_numpy(layer.gamma)); bn.bias.copy_(torch.from_numpy(layer.beta))
    net = torch.nn.Sequential(lin1, bn, torch.nn.Tanh(), lin2)
    Xt = torch.from_numpy(X)
    # training mode: outputs, gradients, and running statistics after one pass
    net.train()
    logits = net(Xt)
    loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(y))
    loss.backward()
    ours = model.forward(X, training=True)
    assert_close(ours, torch.softmax(logits, 1).detach().numpy(), rtol=1e-10, atol=1e-12)
    assert_close(layer.running_mean, bn.running_mean.numpy(), rtol=1e-10, atol=1e-14)
    assert_close(layer.running_var, bn.running_var.numpy(), rtol=1e-10)
    grads = model.gradients(X, y)   # [dW1, db1, dgamma1, dbeta1, dW2, db2]
    for ours_g, p in zip(grads, [lin1.weight, lin1.bias, bn.weight, bn.bias, lin2.weight, lin2.bias]):
        assert_close(ours_g, p.grad.numpy(), rtol=1e-8, atol=1e-11)
    # inference mode uses the running statistics
    net.eval()
    assert_close(model.predict_proba(X), torch.softmax(net(Xt), 1).detach().numpy(), rtol=1e-10, atol=1e-12)


def test_batchnorm_passes_finite_differences(backend):
    X, y = pn.datasets.make_blobs(12, centers=3, seed=4)
    model = pn.MLP([2, 5, 4, 3], activation=["relu", "tanh"], output="softmax", batch_norm=True,
                   seed=6, backend=backend)
    assert pn.gradient_check(model, X, y).passed


def test_batchnorm_kernels_agree_across_backends(kernels):
    ref = backends.get("numpy")
    rng = np.random.default_rng(9)
    Z, dY = rng.normal(size=(7, 5)) * 3, rng.normal(size=(7, 5))
    gamma, beta = rng.uniform(0.5, 2, 5), rng.normal(size=5)
    got, exp = kernels.batchnorm_forward(Z, gamma, beta, 1e-5), ref.batchnorm_forward(Z, gamma, beta, 1e-5)
    for a, b in zip(got, exp):
        assert_close(a, b, rtol=1e-12, atol=1e-13)
    Zhat, var = exp[1], exp[3]
    for a, b in zip(kernels.batchnorm_backward(dY, Zhat, gamma, var, 1e-5),
                    ref.batchnorm_backward(dY, Zhat, gamma, var, 1e-5)):
        assert_close(a, b, rtol=1e-11, atol=1e-13)
    rm, rv = rng.normal(size=5), rng.uniform(0.5, 2, 5)
    assert_close(kernels.batchnorm_inference(Z, gamma, beta, rm, rv, 1e-5),
                 ref.batchnorm_inference(Z, gamma, beta, rm, rv, 1e-5))


def test_l2_penalty_follows_the_tutorials_convention(kernels):
    W = np.array([[1.0, -2.0], [3.0, 0.5]])
    # λ/(2m)·ΣW² with λ = 0.1, m = 4: 0.1/8 · 14.25
    assert kernels.penalty(W, 0.0, 0.1, 4) == pytest.approx(0.1 / 8 * 14.25, rel=1e-12)
    assert_close(kernels.penalty_gradient(W, 0.0, 0.1, 4), 0.1 / 4 * W)
    # L1: λ/m·Σ|W|, gradient λ/m·sign(W)
    assert kernels.penalty(W, 0.2, 0.0, 4) == pytest.approx(0.2 / 4 * 6.5, rel=1e-12)
    assert_close(kernels.penalty_gradient(W, 0.2, 0.0, 4), 0.05 * np.sign(W))


def test_l2_enters_the_loss_and_shrinks_the_weights():
    X, y = pn.datasets.make_moons(200, noise=0.2, seed=0)
    plain = pn.MLP([2, 16, 1], seed=1)
    h_plain = plain.fit(X, y, epochs=50, batch_size=None, lr=0.5)
    regular = pn.MLP([2, 16, 1], seed=1)
    h_reg = regular.fit(X, y, epochs=50, batch_size=None, lr=0.5, l2=5.0)
    # epoch 1: same weights, so the reported loss differs by exactly the penalty
    W0 = pn.MLP([2, 16, 1], seed=1).get_weights()
    penalty = 5.0 / (2 * 200) * (np.sum(W0[0] ** 2) + np.sum(W0[2] ** 2))
    assert h_reg["loss"][0] - h_plain["loss"][0] == pytest.approx(penalty, rel=1e-9)
    norm = lambda m: sum(np.sum(l.W ** 2) for l in m.layers)
    assert norm(regular) < 0.8 * norm(plain)


def test_l2_gradient_passes_finite_differences():
    # the generic step adds λ/m·W to dW; check that equals d(penalty)/dW numerically
    k = backends.get("numpy")
    W = np.random.default_rng(1).normal(size=(3, 4))
    eps = 1e-6
    num = np.zeros_like(W)
    for idx in np.ndindex(W.shape):
        up, down = W.copy(), W.copy()
        up[idx] += eps
        down[idx] -= eps
        num[idx] = (k.penalty(up, 0.0, 0.3, 5) - k.penalty(down, 0.0, 0.3, 5)) / (2 * eps)
    assert_close(k.penalty_gradient(W, 0.0, 0.3, 5), num, rtol=1e-6, atol=1e-9)
