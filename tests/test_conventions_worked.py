"""Issue 14: a course's worked example reproduced through the public API, with the
course's convention (biases that stay fixed while the weights train).

The classic step-by-step backpropagation post: inputs (0.05, 0.10), targets (0.01, 0.99),
weights w1..w8 = 0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55, one bias 0.35 shared by
the hidden units and 0.60 by the outputs, sigmoid everywhere, E = ½Σ(t − o)², learning
rate 0.5, the biases never updated. Every expected value is computed below with ``math``
from those formulas (E over two outputs is pyneuron's mean squared error, and
∂E/∂o = o − t is its gradient, so lr 0.5 is the post's rate)."""
from __future__ import annotations

import math

import numpy as np
import pytest

import pyneuron as pn


def sig(z):
    return 1.0 / (1.0 + math.exp(-z))


I1, I2, T1, T2 = 0.05, 0.10, 0.01, 0.99
w = dict(zip(range(1, 9), (0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55)))
B1, B2, LR = 0.35, 0.60, 0.5


def hand():
    """Forward, E and one update of every weight, by the chain rule written out."""
    h1, h2 = sig(w[1] * I1 + w[2] * I2 + B1), sig(w[3] * I1 + w[4] * I2 + B1)
    o1, o2 = sig(w[5] * h1 + w[6] * h2 + B2), sig(w[7] * h1 + w[8] * h2 + B2)
    E = 0.5 * (T1 - o1) ** 2 + 0.5 * (T2 - o2) ** 2
    d1, d2 = (o1 - T1) * o1 * (1 - o1), (o2 - T2) * o2 * (1 - o2)        # ∂E/∂net_o
    e1 = (d1 * w[5] + d2 * w[7]) * h1 * (1 - h1)                          # ∂E/∂net_h1
    e2 = (d1 * w[6] + d2 * w[8]) * h2 * (1 - h2)
    grads = {1: e1 * I1, 2: e1 * I2, 3: e2 * I1, 4: e2 * I2,
             5: d1 * h1, 6: d1 * h2, 7: d2 * h1, 8: d2 * h2}
    return (o1, o2), E, {k: w[k] - LR * g for k, g in grads.items()}


def blog_model(backend):
    model = pn.MLP([2, 2, 2], activation="sigmoid", output="sigmoid", loss="mse", backend=backend)
    model.set_weights([np.array([[w[1], w[2]], [w[3], w[4]]]), np.array([B1, B1]),
                       np.array([[w[5], w[6]], [w[7], w[8]]]), np.array([B2, B2])])
    return model.freeze("b")


def test_the_step_by_step_post_is_reproduced_with_frozen_biases(backend):
    (o1, o2), E, updated = hand()
    # the post prints these (rounded): outputs 0.75136507 and 0.772928465, E = 0.298371109,
    # w5 → 0.35891648, w1 → 0.149780716 — the hand values above agree with them
    assert (round(o1, 8), round(o2, 9), round(E, 9)) == (0.75136507, 0.772928465, 0.298371109)
    assert (round(updated[5], 8), round(updated[1], 9)) == (0.35891648, 0.149780716)
    model = blog_model(backend)
    X, Y = np.array([[I1, I2]]), np.array([[T1, T2]])
    np.testing.assert_allclose(model.predict_proba(X)[0], [o1, o2], rtol=1e-14)
    assert model.loss(X, Y) == pytest.approx(E, rel=1e-14)
    h = model.fit(X, Y, epochs=1, batch_size=None, lr=LR)
    assert h["loss"][0] == pytest.approx(E, rel=1e-14)
    W1, W2 = model.layers[0].W, model.layers[1].W
    np.testing.assert_allclose(W1, [[updated[1], updated[2]], [updated[3], updated[4]]], rtol=1e-13)
    np.testing.assert_allclose(W2, [[updated[5], updated[6]], [updated[7], updated[8]]], rtol=1e-13)
    assert model.layers[0].b.tolist() == [B1, B1] and model.layers[1].b.tolist() == [B2, B2]


def test_the_post_after_many_steps_keeps_its_biases(backend):
    """The post trains 10,000 steps; its biases never move, its error keeps falling."""
    model = blog_model(backend)
    X, Y = np.array([[I1, I2]]), np.array([[T1, T2]])
    h = model.fit(X, Y, epochs=200, batch_size=None, lr=LR)
    assert all(a > b for a, b in zip(h["loss"], h["loss"][1:]))
    assert model.layers[0].b.tolist() == [B1, B1] and model.layers[1].b.tolist() == [B2, B2]
