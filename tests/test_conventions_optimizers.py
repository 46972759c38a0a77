"""Issue 14, item 4: Adagrad, momentum in the courses' form, per-step learning-rate decay.

Oracles: kernels by hand; whole runs against an independent NumPy loop written here from
the published update rules (a linear model, whose gradient is written out by hand), and
against ``torch.optim.Adagrad`` (``lr_decay``)."""
from __future__ import annotations

import math

import numpy as np
import pytest

import pyneuron as pn
from pyneuron import backends
from pyneuron import optimizers as O

from helpers import assert_close
from test_files_roundtrip import assert_same_state


# ---------------------------------------------------------------- kernels by hand
def test_adagrad_kernel_by_hand(kernels):
    p, g, G = np.array([1.0, -2.0]), np.array([0.5, -1.0]), np.array([0.0, 0.25])
    kernels.adagrad_step(p, g, G, 0.1, 1e-10)
    # G = [0.25, 1.25]; p = 1 − 0.1·0.5/(0.5 + ε), −2 + 0.1·1/(√1.25 + ε)
    assert_close(G, [0.25, 1.25], rtol=0)
    assert_close(p, [1 - 0.05 / (0.5 + 1e-10), -2 + 0.1 / (math.sqrt(1.25) + 1e-10)], rtol=1e-15)


def test_course_momentum_kernel_by_hand(kernels):
    p, g, v = np.array([1.0, 0.0]), np.array([0.5, -2.0]), np.array([0.2, 0.0])
    kernels.momentum_course_step(p, g, v, 0.1, 0.9)
    # v = 0.9·0.2 − 0.1·0.5 = 0.13, 0 + 0.2 = 0.2; p = p + v
    assert_close(v, [0.13, 0.2], rtol=1e-15)
    assert_close(p, [1.13, 0.2], rtol=1e-15)


def test_new_kernels_agree_across_backends(kernels):
    ref = backends.get("numpy")
    rng = np.random.default_rng(7)
    for shape in ((5,), (4, 3)):
        p, g, s = rng.normal(size=shape), rng.normal(size=shape), rng.uniform(0, 2, shape)
        a = [x.copy() for x in (p, g, s)]
        b = [x.copy() for x in (p, g, s)]
        kernels.adagrad_step(a[0], a[1], a[2], 0.05, 1e-7)
        ref.adagrad_step(b[0], b[1], b[2], 0.05, 1e-7)
        assert_close(a[0], b[0], rtol=1e-15) and assert_close(a[2], b[2], rtol=1e-15)
        a = [x.copy() for x in (p, g, s)]
        b = [x.copy() for x in (p, g, s)]
        kernels.momentum_course_step(a[0], a[1], a[2], 0.05, 0.8)
        ref.momentum_course_step(b[0], b[1], b[2], 0.05, 0.8)
        assert_close(a[0], b[0], rtol=1e-15) and assert_close(a[2], b[2], rtol=1e-15)


# ---------------------------------------------------------------- whole runs vs a loop written here
X = np.array([[1.0, 2.0], [-1.0, 0.5], [0.3, -1.2], [2.0, 0.1]])
Y = np.array([[1.0], [-0.5], [0.2], [1.5]])
W0, B0 = np.array([[0.4, -0.3]]), np.array([0.1])


def reference_run(rule, steps, lr0, decay=0.0, mu=0.9, eps=1e-10):
    """Full-batch steps on ``Z = X Wᵀ + b``, mse: dZ = 2(Z − Y)/m, dW = dZᵀX, db = ΣdZ."""
    params = [W0.copy(), B0.copy()]
    state = [np.zeros_like(q) for q in params]
    for t in range(steps):
        lr = lr0 / (1 + decay * t)
        dZ = 2 * (X @ params[0].T + params[1] - Y) / X.shape[0]
        grads = [dZ.T @ X, dZ.sum(axis=0)]
        for q, g, s in zip(params, grads, state):
            if rule == "torch":
                s[...] = mu * s + g
                q -= lr * s
            elif rule == "course":
                s[...] = mu * s - lr * g
                q += s
            elif rule == "adagrad":
                s += g * g
                q -= lr * g / (np.sqrt(s) + eps)
            else:
                q -= lr * g
    return params


def run(backend, optimizer, steps):
    model = pn.MLP([2, 1], output="linear", backend=backend)
    model.set_weights([W0, B0])
    model.fit(X, Y, epochs=steps, batch_size=None, optimizer=optimizer)
    return model


@pytest.mark.parametrize("rule, make", [
    ("torch", lambda: O.SGD(0.05, momentum=0.9, decay=0.1)),
    ("course", lambda: O.SGD(0.05, momentum=0.9, decay=0.1, form="course")),
    ("course", lambda: O.Momentum(0.05, beta=0.9, decay=0.1, form="course")),
    ("adagrad", lambda: O.Adagrad(0.3, decay=0.1)),
    ("sgd", lambda: O.SGD(0.05, decay=0.2)),
])
def test_runs_follow_the_published_rules(backend, rule, make):
    model = run(backend, make(), 25)
    W, b = reference_run(rule, 25, model.optimizer.initial_lr, decay=0.1 if rule != "sgd" else 0.2)
    assert_close(model.layers[0].W, W, rtol=1e-12)
    assert_close(model.layers[0].b, b, rtol=1e-12)
    # the rate of the last step: η₀/(1 + k·24)
    assert model.optimizer.lr == pytest.approx(model.optimizer.initial_lr / (1 + model.optimizer.decay * 24))


def test_the_two_momentum_forms_agree_at_constant_rate_and_differ_when_it_decays(backend):
    same = [run(backend, O.SGD(0.05, momentum=0.9, form=f), 25).layers[0].W for f in ("torch", "course")]
    assert_close(same[0], same[1], rtol=1e-12)
    decayed = [run(backend, O.SGD(0.05, momentum=0.9, form=f, decay=0.5), 25).layers[0].W
               for f in ("torch", "course")]
    assert np.max(np.abs(decayed[0] - decayed[1])) > 1e-4


def test_decay_counts_steps_not_epochs(backend):
    model = pn.MLP([2, 1], output="linear", backend=backend)
    model.set_weights([W0, B0])
    h = model.fit(X, Y, epochs=3, batch_size=2, optimizer=O.SGD(0.1, decay=0.5), shuffle=False)
    # 2 steps per epoch: each epoch ends with step t = 1, 3, 5
    assert_close(h["lr"], [0.1 / 1.5, 0.1 / 2.5, 0.1 / 3.5], rtol=1e-15)


def test_decay_runs_fused_on_c_and_agrees_with_numpy():
    if "c" not in pn.available_backends():
        pytest.skip("no c backend")
    rng = np.random.default_rng(3)
    Xr, yr = rng.normal(size=(40, 3)), rng.integers(0, 2, 40)
    out = {}
    for name in ("numpy", "c"):
        model = pn.MLP([3, 6, 1], seed=1, backend=name)
        h = model.fit(Xr, yr, epochs=4, batch_size=8, optimizer=O.Adam(0.02, decay=0.05))
        out[name] = (h["loss"], model.get_weights())
    c_model = pn.MLP([3, 6, 1], seed=1, backend="c")
    assert c_model.kernels.train_plan(c_model, O.Adam(0.02, decay=0.05)).path == "fused"
    assert_close(out["c"][0], out["numpy"][0], rtol=1e-12)
    for a, b in zip(out["c"][1], out["numpy"][1]):
        assert_close(a, b, rtol=1e-10, atol=1e-14)


def test_adagrad_matches_torch_on_a_whole_run(backend):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    Xr = rng.normal(size=(24, 3))
    yr = (Xr[:, 0] - Xr[:, 2] > 0).astype(float)
    model = pn.MLP([3, 5, 1], activation="tanh", seed=4, backend=backend)
    lins = [torch.nn.Linear(3, 5).double(), torch.nn.Linear(5, 1).double()]
    with torch.no_grad():
        for lin, layer in zip(lins, model.layers):
            lin.weight.copy_(torch.from_numpy(layer.W))
            lin.bias.copy_(torch.from_numpy(layer.b))
    net = torch.nn.Sequential(lins[0], torch.nn.Tanh(), lins[1])
    topt = torch.optim.Adagrad(net.parameters(), lr=0.1, lr_decay=0.05, eps=1e-10)
    Xt, yt = torch.from_numpy(Xr), torch.from_numpy(yr[:, None])
    for _ in range(3):
        for s in range(0, 24, 6):
            topt.zero_grad()
            torch.nn.functional.binary_cross_entropy_with_logits(net(Xt[s:s + 6]), yt[s:s + 6]).backward()
            topt.step()
    model.fit(Xr, yr, epochs=3, batch_size=6, shuffle=False, optimizer=O.Adagrad(0.1, eps=1e-10, decay=0.05))
    for lin, layer in zip(lins, model.layers):
        assert_close(layer.W, lin.weight.detach().numpy(), rtol=1e-10, atol=1e-13)
        assert_close(layer.b, lin.bias.detach().numpy(), rtol=1e-10, atol=1e-13)


# ---------------------------------------------------------------- settings, files
def test_bad_settings_are_refused_naming_the_argument():
    with pytest.raises(ValueError, match="form"):
        O.SGD(0.1, momentum=0.9, form="book")
    with pytest.raises(ValueError, match="form"):
        O.Momentum(0.1, form="torch")
    with pytest.raises(ValueError, match="nesterov"):
        O.SGD(0.1, momentum=0.9, nesterov=True, form="course")
    with pytest.raises(ValueError, match="decay"):
        O.Adagrad(0.1, decay=-1)
    with pytest.raises(ValueError, match="eps"):
        O.Adagrad(0.1, eps=0)
    with pytest.raises(ValueError, match="lr_schedule"):
        pn.MLP([2, 1], output="linear").fit(X, Y, optimizer=O.SGD(0.1, decay=0.1), lr_schedule=pn.schedules.StepDecay())
    assert isinstance(O.get("adagrad"), O.Adagrad)
    assert repr(O.SGD(0.1)) == "SGD(lr=0.1, momentum=0.0, nesterov=False)"      # unchanged by default


@pytest.mark.parametrize("optimizer", [O.Adagrad(0.1, eps=1e-7, decay=0.01), O.SGD(0.1, momentum=0.8, form="course"),
                                       O.Momentum(0.1, form="course", decay=0.3), O.RMSprop(0.01, decay=0.2)],
                         ids=repr)
def test_new_optimizers_round_trip_bitwise(backend, optimizer, tmp_path):
    rng = np.random.default_rng(0)
    Xr, yr = rng.normal(size=(20, 2)), rng.integers(0, 2, 20)
    model = pn.MLP([2, 4, 1], seed=1, backend=backend, dropout=0.2)
    model.fit(Xr, yr, epochs=2, batch_size=5, optimizer=type(optimizer)(**optimizer.get_config()))
    model.save(tmp_path / "m")
    loaded = pn.load(tmp_path / "m")
    assert_same_state(model, loaded)
    for m in (model, loaded):
        m.fit(Xr, yr, epochs=2, batch_size=5, optimizer=m.optimizer)
    assert_same_state(model, loaded)
