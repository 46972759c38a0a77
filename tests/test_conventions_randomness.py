"""Issue 14, item 3: shuffle orders and dropout masks handed in from outside the model's
generator, so a course drawing from NumPy's legacy global generator is reproduced draw
for draw, on every backend.

Oracle: a NumPy training loop written here from the textbook equations, drawing its
orders and masks with ``np.random.seed`` / ``np.random.permutation`` /
``np.random.binomial`` in the order a course does."""
from __future__ import annotations

import numpy as np
import pytest

import pyneuron as pn

from helpers import assert_close

RNG = np.random.default_rng(2)
X = RNG.normal(size=(10, 2))
y = (X[:, 0] * X[:, 1] > 0).astype(float)
KEEP, LR, BATCH, EPOCHS = 0.8, 0.5, 4, 3


def course_loop(W1, b1, W2, b2):
    """relu hidden layer with inverted dropout, sigmoid + bce output, SGD."""
    W1, b1, W2, b2 = (a.copy() for a in (W1, b1, W2, b2))
    np.random.seed(0)
    for _ in range(EPOCHS):
        order = np.random.permutation(len(X))
        for s in range(0, len(X), BATCH):
            idx = order[s:s + BATCH]
            x, t = X[idx], y[idx][:, None]
            m = len(idx)
            z1 = x @ W1.T + b1
            a1 = np.maximum(z1, 0)
            D = np.random.binomial(1, KEEP, size=a1.shape)
            a1d = a1 * D / KEEP
            a2 = 1 / (1 + np.exp(-(a1d @ W2.T + b2)))
            dz2 = (a2 - t) / m                      # sigmoid + mean bce
            dW2, db2 = dz2.T @ a1d, dz2.sum(axis=0)
            dz1 = (dz2 @ W2) * D / KEEP * (z1 > 0)
            dW1, db1 = dz1.T @ x, dz1.sum(axis=0)
            W1, b1, W2, b2 = W1 - LR * dW1, b1 - LR * db1, W2 - LR * dW2, b2 - LR * db2
    return [W1, b1, W2, b2]


def test_a_global_generator_course_is_reproduced_draw_for_draw(backend):
    model = pn.MLP([2, 3, 1], activation="relu", dropout=1 - KEEP, seed=1, backend=backend)
    for layer in model.layers:
        layer.b[...] = 0.1
    expected = course_loop(*model.get_weights())
    generator_before = model.rng.bit_generator.state
    np.random.seed(0)
    model.fit(X, y, epochs=EPOCHS, batch_size=BATCH, lr=LR,
              shuffle=lambda epoch, n: np.random.permutation(n),
              dropout_masks=lambda i, shape: np.random.binomial(1, KEEP, size=shape))
    for got, want in zip(model.get_weights(), expected):
        assert_close(got, want, rtol=1e-12, atol=1e-15)
    assert model.rng.bit_generator.state == generator_before   # nothing drawn from the model's
    assert all(layer.mask_source is None for layer in model.layers)   # only for that fit


def test_shuffle_gets_the_epoch_and_the_count_and_its_order_is_used(backend):
    seen = []

    def reverse(epoch, n):
        seen.append((epoch, n))
        return np.arange(n)[::-1]

    a = pn.MLP([2, 3, 1], seed=5, backend=backend)
    b = pn.MLP([2, 3, 1], seed=5, backend=backend)
    a.fit(X, y, epochs=3, batch_size=3, shuffle=reverse)
    b.fit(X[::-1], y[::-1], epochs=3, batch_size=3, shuffle=False)
    assert seen == [(1, 10), (2, 10), (3, 10)]
    for p, q in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(p, q)


@pytest.mark.parametrize("order, match", [
    (lambda e, n: np.arange(n - 1), "permutation of range"),
    (lambda e, n: np.zeros(n, dtype=int), "repeated or outside"),
    (lambda e, n: np.arange(n) + 1, "repeated or outside"),
    (lambda e, n: np.arange(n, dtype=float), "integers"),
    (lambda e, n: None, "permutation"),
])
def test_a_bad_order_is_refused_naming_shuffle(order, match):
    with pytest.raises(ValueError, match=f"shuffle: .*{match}"):
        pn.MLP([2, 3, 1]).fit(X, y, epochs=1, shuffle=order)


def test_shuffle_must_be_a_bool_or_callable():
    with pytest.raises(TypeError, match="shuffle"):
        pn.MLP([2, 3, 1]).fit(X, y, epochs=1, shuffle="yes")
    with pytest.raises(TypeError, match="dropout_masks"):
        pn.MLP([2, 3, 1], dropout=0.5).fit(X, y, epochs=1, dropout_masks=0.5)


@pytest.mark.parametrize("mask, match", [
    (lambda i, s: np.ones((s[0], s[1] + 1)), "shape"),
    (lambda i, s: np.full(s, 0.5), "only 0 and 1"),
    (lambda i, s: "ones", "shape"),
])
def test_a_bad_mask_is_refused_naming_dropout_masks(mask, match):
    model = pn.MLP([2, 3, 1], dropout=0.5)
    with pytest.raises(ValueError, match=f"dropout_masks: .*{match}"):
        model.fit(X, y, epochs=1, dropout_masks=mask)
    assert all(layer.mask_source is None for layer in model.layers)


def test_masks_are_asked_for_each_dropout_layer_with_its_index_and_shape():
    calls = []

    def masks(i, shape):
        calls.append((i, shape))
        return np.ones(shape, dtype=bool)

    model = pn.MLP([2, 4, 3, 1], dropout=[0.5, 0.0], seed=0)
    model.fit(X, y, epochs=1, batch_size=6, dropout_masks=masks, shuffle=False)
    assert calls == [(0, (6, 4)), (0, (4, 4))]


def test_all_ones_masks_equal_no_dropout_scaled(backend):
    """A mask of ones keeps every unit, scaled by 1/keep: with keep = 1/2 that doubles the
    hidden layer's output; the same net with W2 doubled and no dropout gives the same run
    of the first step's loss."""
    a = pn.MLP([2, 3, 1], dropout=0.5, seed=3, backend=backend, activation="relu")
    b = pn.MLP([2, 3, 1], seed=3, backend=backend, activation="relu")
    b.layers[1].W[...] *= 2
    ha = a.fit(X, y, epochs=1, batch_size=None, dropout_masks=lambda i, s: np.ones(s), shuffle=False)
    hb = b.fit(X, y, epochs=1, batch_size=None, shuffle=False)
    assert ha["loss"][0] == pytest.approx(hb["loss"][0], rel=1e-14)
