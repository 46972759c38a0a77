"""Training works, the history means what it says, and backprop's gradients
match central finite differences for every hidden activation × output/loss
pair the model accepts, on every backend."""
from __future__ import annotations

import numpy as np
import pytest

import pyneuron
from pyneuron import MLP, Callback
from pyneuron import datasets as ds
from pyneuron.optimizers import Adam

from helpers import assert_close, require_backend

FAST = ["numpy", "c"]   # the scalar backend trains only the tiny XOR case (it is slow on purpose)


# ---------------------------------------------------------------- learning real problems
@pytest.mark.parametrize("seed", [0, 3])
def test_xor_full_batch(backend, seed):
    X, y = ds.make_xor()
    model = MLP([2, 4, 1], activation="tanh", output="sigmoid", seed=seed, backend=backend)
    history = model.fit(X, y, epochs=600, batch_size=None, lr=1.0)
    assert model.score(X, y) == 1.0
    assert list(model.predict(X)) == [0, 1, 1, 0]
    assert history["loss"][-1] < 0.1 * history["loss"][0]


def test_xor_stochastic(backend):
    """batch_size=1: one update per sample, four per epoch."""
    X, y = ds.make_xor()
    model = MLP([2, 4, 1], activation="tanh", output="sigmoid", seed=0, backend=backend)
    steps = []

    class Count(Callback):
        def on_batch_end(self, model, batch, logs=None):
            steps.append(batch)

    history = model.fit(X, y, epochs=600, batch_size=1, lr=0.1, callbacks=[Count()])
    assert len(steps) == 4 * 600 and len(history["loss"]) == 600
    assert model.score(X, y) == 1.0


@pytest.fixture(scope="module")
def moons():
    X, y = ds.make_moons(500, noise=0.2, seed=42)
    Xtr, Xte, ytr, yte = ds.train_test_split(X, y, test_size=0.2, seed=0)
    scaler = ds.Standardizer().fit(Xtr)
    return scaler.transform(Xtr), scaler.transform(Xte), ytr, yte


@pytest.mark.parametrize("name", FAST)
def test_two_moons(name, moons):
    require_backend(name)
    Xtr, Xte, ytr, yte = moons
    assert Xtr.shape == (400, 2) and Xte.shape == (100, 2)
    model = MLP([2, 16, 16, 1], activation="relu", output="sigmoid", seed=0, backend=name)
    model.fit(Xtr, ytr, epochs=150, batch_size=32, optimizer=Adam(lr=0.01))
    assert model.score(Xte, yte) >= 0.95


@pytest.mark.parametrize("name", FAST)
def test_two_moons_plain_sgd_full_batch(name, moons):
    require_backend(name)
    Xtr, Xte, ytr, yte = moons
    model = MLP([2, 16, 1], activation="tanh", output="sigmoid", seed=2, backend=name)
    model.fit(Xtr, ytr, epochs=1500, batch_size=None, lr=1.0)
    assert model.score(Xte, yte) >= 0.95


@pytest.mark.parametrize("name", FAST)
def test_softmax_blobs_four_classes(name):
    require_backend(name)
    X, y = ds.make_blobs(300, centers=4, std=1.0, seed=1)
    Xtr, Xte, ytr, yte = ds.train_test_split(X, y, test_size=0.2, seed=0)
    scaler = ds.Standardizer().fit(Xtr)
    model = MLP([2, 16, 4], activation="relu", output="softmax", seed=0, backend=name)
    model.fit(scaler.transform(Xtr), ytr, epochs=100, batch_size=32, optimizer=Adam(lr=0.01))
    assert model.score(scaler.transform(Xte), yte) >= 0.95
    proba = model.predict_proba(scaler.transform(Xte))
    assert proba.shape == (60, 4)
    assert_close(proba.sum(axis=1), np.ones(60), rtol=1e-12)


@pytest.mark.parametrize("name", FAST)
def test_softmax_spiral_three_classes(name):
    require_backend(name)
    X, y = ds.make_spiral(300, n_classes=3, noise=0.2, seed=0)
    model = MLP([2, 32, 32, 3], activation="relu", output="softmax", seed=0, backend=name)
    model.fit(X, y, epochs=300, batch_size=32, optimizer=Adam(lr=0.01))
    assert model.score(X, y) >= 0.95


@pytest.mark.parametrize("name", FAST)
def test_regression_mse_drops_90_percent(name):
    require_backend(name)
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, (200, 2))
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1] ** 2
    model = MLP([2, 16, 1], activation="tanh", output="linear", seed=0, backend=name)
    assert model.loss_name == "mse"
    before = model.score(X, y)
    model.fit(X, y, epochs=200, batch_size=32, optimizer=Adam(lr=0.01))
    after = model.score(X, y)
    assert after <= 0.1 * before
    assert model.predict(X).shape == (200,)


# ---------------------------------------------------------------- history
def test_history_full_batch_is_loss_before_each_step(backend):
    X, y = ds.make_xor()
    model = MLP([2, 3, 1], activation="tanh", output="sigmoid", seed=0, backend=backend)
    twin = MLP([2, 3, 1], activation="tanh", output="sigmoid", seed=0, backend=backend)
    history = model.fit(X, y, epochs=4, batch_size=None, lr=0.5, shuffle=False)
    assert len(history["loss"]) == 4 and history.epoch == [1, 2, 3, 4]
    for k in range(4):
        expected = twin.loss(X, y)        # loss before the epoch's single step
        assert history["loss"][k] == pytest.approx(expected, rel=1e-12)
        twin.fit(X, y, epochs=1, batch_size=None, lr=0.5, shuffle=False)
    assert_close(model.get_weights()[0], twin.get_weights()[0], rtol=1e-12)


def test_history_minibatch_is_mean_of_batch_losses():
    X, y = ds.make_moons(50, noise=0.1, seed=0)
    batch_losses = []

    class Record(Callback):
        def on_epoch_begin(self, model, epoch, logs=None):
            batch_losses.append([])

        def on_batch_end(self, model, batch, logs=None):
            batch_losses[-1].append(logs["loss"])

    model = MLP([2, 5, 1], activation="relu", output="sigmoid", seed=0)
    history = model.fit(X, y, epochs=3, batch_size=16, lr=0.1, callbacks=[Record()])
    assert [len(b) for b in batch_losses] == [4, 4, 4]          # 16 + 16 + 16 + 2
    assert_close(history["loss"], [np.mean(b) for b in batch_losses], rtol=1e-14)
    assert "accuracy" in history and len(history["accuracy"]) == 3


def test_fit_is_reproducible_with_a_seed():
    X, y = ds.make_moons(60, noise=0.2, seed=1)
    runs = []
    for _ in range(2):
        model = MLP([2, 6, 1], seed=9)
        runs.append((model.fit(X, y, epochs=3, batch_size=8, lr=0.1)["loss"], model.get_weights()))
    assert runs[0][0] == runs[1][0]
    for a, b in zip(runs[0][1], runs[1][1]):
        assert np.array_equal(a, b)


def test_shuffle_changes_the_order():
    X, y = ds.make_moons(60, noise=0.2, seed=1)
    a = MLP([2, 6, 1], seed=9)
    b = MLP([2, 6, 1], seed=9)
    a.fit(X, y, epochs=1, batch_size=8, lr=0.1, shuffle=True)
    b.fit(X, y, epochs=1, batch_size=8, lr=0.1, shuffle=False)
    assert not np.allclose(a.get_weights()[0], b.get_weights()[0])


# ---------------------------------------------------------------- gradient check
HIDDEN = ["sigmoid", "tanh", "relu", "leaky_relu", "linear"]
OUTPUTS = [("sigmoid", "bce", 1), ("sigmoid", "bce", 2), ("softmax", "cce", 3), ("linear", "mse", 2),
           ("tanh", "mse", 1), ("sigmoid", "mse", 1), ("softmax", "bce", 3), ("relu", "mse", 1),
           ("leaky_relu", "mse", 2)]


def _targets(rng, output, loss, k, m):
    if loss == "cce":
        return rng.integers(0, k, m)
    if loss == "bce":
        if output == "softmax":
            return np.eye(k)[rng.integers(0, k, m)]
        return rng.integers(0, 2, (m, k)) if k > 1 else rng.integers(0, 2, m)
    return rng.standard_normal((m, k))


def _far_from_kinks(model, X):
    model.forward(X)
    return all(np.abs(layer.cache["Z"]).min() > 1e-3 for layer in model.layers)


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("output, loss, k", OUTPUTS)
def test_gradients_match_finite_differences(backend, hidden, output, loss, k):
    m = 5
    for seed in range(50):   # the first data/weight seed with no pre-activation within 1e-3 of a kink
        rng = np.random.default_rng(seed)
        model = MLP([3, 4, 3, k], activation=hidden, output=output, loss=loss, seed=seed, backend=backend)
        for layer in model.layers:       # non-zero biases so every term of db is exercised
            layer.b[...] = rng.normal(0, 0.3, layer.b.shape)
        X = rng.standard_normal((m, 3))
        y = _targets(rng, output, loss, k, m)
        if _far_from_kinks(model, X):
            break
    else:
        pytest.fail("no kink-free seed found")
    analytic = model.gradients(X, y)
    params = model.parameters()
    h = 1e-6
    for i, (p, g) in enumerate(zip(params, analytic)):
        assert g.shape == p.shape
        numeric = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + h
            up = model.loss(X, y)
            p[idx] = old - h
            down = model.loss(X, y)
            p[idx] = old
            numeric[idx] = (up - down) / (2 * h)
        err = np.linalg.norm(numeric - g) / max(np.linalg.norm(numeric) + np.linalg.norm(g), 1e-8)
        assert err < 1e-6, (f"parameter {i} ({hidden} -> {output}/{loss}): relative error {err:.2e}\n"
                            f"analytic {g}\nnumeric {numeric}")


def test_gradient_check_notices_a_wrong_gradient():
    """The check above can fail: a deliberately wrong gradient is caught."""
    rng = np.random.default_rng(0)
    model = MLP([3, 4, 1], activation="tanh", output="sigmoid", seed=0)
    X, y = rng.standard_normal((5, 3)), rng.integers(0, 2, 5)
    g = model.gradients(X, y)[0] * 1.001
    p = model.layers[0].W
    numeric = np.zeros_like(p)
    for idx in np.ndindex(p.shape):
        old = p[idx]
        p[idx] = old + 1e-6
        up = model.loss(X, y)
        p[idx] = old - 1e-6
        down = model.loss(X, y)
        p[idx] = old
        numeric[idx] = (up - down) / 2e-6
    assert np.linalg.norm(numeric - g) / (np.linalg.norm(numeric) + np.linalg.norm(g)) > 1e-6
