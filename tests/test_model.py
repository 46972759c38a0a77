"""The MLP's public surface: construction, parameters, initializers,
get/set_weights, forward / predict / predict_proba / score, target formats."""
from __future__ import annotations

import math

import numpy as np
import pytest

from pyneuron import MLP
from pyneuron import initializers as inits

from helpers import assert_close


def test_layers_and_shapes(backend):
    model = MLP([4, 8, 5, 3], activation=["relu", "tanh"], output="softmax", seed=0, backend=backend)
    assert [(l.W.shape, l.b.shape) for l in model.layers] == [((8, 4), (8,)), ((5, 8), (5,)), ((3, 5), (3,))]
    assert model.activations == ["relu", "tanh", "softmax"]
    assert model.loss_name == "cce" and model.is_classifier
    assert model.n_parameters == 8 * 4 + 8 + 5 * 8 + 5 + 3 * 5 + 3
    assert all(np.array_equal(l.b, np.zeros(l.n_out)) for l in model.layers)
    assert "4-8-5-3" in repr(model)


@pytest.mark.parametrize("output, expected", [("sigmoid", "bce"), ("softmax", "cce"), ("linear", "mse"),
                                              ("tanh", "mse")])
def test_default_loss_for_output(output, expected):
    assert MLP([2, 2], output=output).loss_name == expected


def test_loss_aliases():
    assert MLP([2, 3], output="softmax", loss="categorical_crossentropy").loss_name == "cce"
    assert MLP([2, 1], output="sigmoid", loss="binary_crossentropy").loss_name == "bce"


def test_get_weights_are_copies(backend):
    model = MLP([2, 3, 1], seed=0, backend=backend)
    weights = model.get_weights()
    assert len(weights) == 4
    weights[0][...] = 99.0
    assert not np.any(model.layers[0].W == 99.0)


def test_set_weights_round_trip_and_in_place(backend):
    model = MLP([2, 3, 1], seed=0, backend=backend)
    W_obj = model.layers[0].W
    new = [np.arange(6.0).reshape(3, 2), np.array([1.0, 2.0, 3.0]), np.array([[0.5, -0.5, 1.0]]), [0.25]]
    model.set_weights(new)
    assert model.layers[0].W is W_obj                  # loaded into the existing arrays
    for got, want in zip(model.get_weights(), new):
        assert np.array_equal(got, np.asarray(want, dtype=float))
    # forward by hand: Z1 = X W1ᵀ + b1, relu, then sigmoid(A1 W2ᵀ + b2)
    x = np.array([[1.0, -1.0]])
    z1 = [1 * 0 - 1 * 1 + 1, 1 * 2 - 1 * 3 + 2, 1 * 4 - 1 * 5 + 3]      # [0, 1, 2]
    a1 = [max(v, 0.0) for v in z1]
    z2 = 0.5 * a1[0] - 0.5 * a1[1] + 1.0 * a1[2] + 0.25
    assert_close(model.forward(x), [[1 / (1 + math.exp(-z2))]], rtol=1e-14)


def test_same_seed_same_weights_on_every_backend(backend):
    ref = MLP([3, 7, 2], seed=123, backend="numpy").get_weights()
    for a, b in zip(MLP([3, 7, 2], seed=123, backend=backend).get_weights(), ref):
        assert np.array_equal(a, b)
    other = MLP([3, 7, 2], seed=124, backend=backend).get_weights()
    assert not np.array_equal(other[0], ref[0])


@pytest.mark.parametrize("init, check", [
    ("he_normal", lambda W, n_in, n_out: abs(W.std() - math.sqrt(2 / n_in)) < 0.05 * math.sqrt(2 / n_in)),
    ("xavier_normal", lambda W, n_in, n_out: abs(W.std() - math.sqrt(2 / (n_in + n_out))) < 0.05 * math.sqrt(2 / (n_in + n_out))),
    ("he_uniform", lambda W, n_in, n_out: abs(W).max() <= math.sqrt(6 / n_in) and abs(W).max() > 0.95 * math.sqrt(6 / n_in)),
    ("xavier_uniform", lambda W, n_in, n_out: abs(W).max() <= math.sqrt(6 / (n_in + n_out))
     and abs(W).max() > 0.95 * math.sqrt(6 / (n_in + n_out))),
    ("small_random", lambda W, n_in, n_out: abs(W.std() - 0.01) < 0.0005),
    ("zeros", lambda W, n_in, n_out: not W.any()),
])
def test_initializers_distribution(init, check):
    n_in, n_out = 400, 300
    W = MLP([n_in, n_out], init=init, output="linear", seed=0).layers[0].W
    assert W.shape == (n_out, n_in)
    assert abs(W.mean()) < 0.01
    assert check(W, n_in, n_out)


def test_initializers_auto_and_aliases():
    assert inits.resolve("auto", "relu") == "he_normal"
    assert inits.resolve("auto", "leaky_relu") == "he_normal"
    assert inits.resolve("auto", "tanh") == "xavier_normal"
    assert inits.resolve("glorot_uniform", "tanh") == "xavier_uniform"
    # "auto" draws He for relu layers: same numbers as asking for he_normal explicitly
    a = MLP([50, 40, 1], activation="relu", output="linear", seed=3).layers[0].W
    b = MLP([50, 40, 1], activation="relu", output="linear", init="he_normal", seed=3).layers[0].W
    assert np.array_equal(a, b)


def test_float32_model():
    model = MLP([2, 3, 1], seed=0, dtype="float32")
    assert all(p.dtype == np.float32 for p in model.parameters())
    assert model.forward(np.ones((2, 2))).dtype == np.float32


def test_forward_caches_for_backprop(backend):
    model = MLP([2, 3, 2], activation="tanh", output="softmax", seed=0, backend=backend)
    X = np.array([[0.5, -1.0], [2.0, 0.0], [0.0, 0.0]])
    out = model.forward(X)
    c0, c1 = model.layers[0].cache, model.layers[1].cache
    assert np.array_equal(c0["X"], X)
    assert_close(c0["Z"], X @ model.layers[0].W.T + model.layers[0].b, rtol=1e-13)
    assert_close(c0["A"], np.tanh(c0["Z"]), rtol=1e-13)
    assert_close(c1["X"], c0["A"], rtol=0)
    assert_close(out, c1["A"], rtol=0)


def test_predict_and_proba_binary(backend):
    model = MLP([2, 1], output="sigmoid", backend=backend)
    model.set_weights([np.array([[1.0, 0.0]]), np.array([0.0])])
    X = np.array([[-2.0, 5.0], [0.0, 1.0], [3.0, -1.0]])
    p = model.predict_proba(X)
    assert p.shape == (3,)
    assert_close(p, [1 / (1 + math.exp(2)), 0.5, 1 / (1 + math.exp(-3))], rtol=1e-14)
    assert model.predict(X).tolist() == [0, 1, 1]                # threshold 0.5 inclusive
    assert model.score(X, [0, 1, 0]) == pytest.approx(2 / 3)


def test_predict_and_proba_softmax(backend):
    model = MLP([2, 3], output="softmax", backend=backend)
    model.set_weights([np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]), np.zeros(3)])
    X = np.array([[3.0, 0.0], [0.0, 3.0], [-3.0, -3.0], [1.0, 2.0]])
    P = model.predict_proba(X)
    assert P.shape == (4, 3)
    assert model.predict(X).tolist() == [0, 1, 2, 1]
    assert model.score(X, [0, 1, 2, 0]) == 0.75
    # integer labels and one-hot rows are the same targets
    assert model.loss(X, [0, 1, 2, 0]) == pytest.approx(model.loss(X, np.eye(3)[[0, 1, 2, 0]]), rel=1e-15)
    # loss by hand: -mean log P[true]
    expected = -np.mean(np.log(P[np.arange(4), [0, 1, 2, 0]]))
    assert model.loss(X, [0, 1, 2, 0]) == pytest.approx(expected, rel=1e-12)


def test_regression_predict_and_score(backend):
    model = MLP([1, 1], output="linear", backend=backend)
    model.set_weights([np.array([[2.0]]), np.array([1.0])])
    X = np.array([[0.0], [1.0], [2.0]])
    assert model.predict(X).tolist() == [1.0, 3.0, 5.0]
    assert model.loss_name == "mse"
    assert model.score(X, [1.0, 3.0, 4.0]) == pytest.approx(1 / 3)
    assert model.loss(X, [[1.0], [3.0], [4.0]]) == pytest.approx(1 / 3)


def test_multilabel_sigmoid():
    model = MLP([2, 4, 2], output="sigmoid", seed=0)
    X = np.array([[0.0, 1.0], [1.0, 0.0]])
    Y = np.array([[1, 0], [1, 1]])
    assert model.predict_proba(X).shape == (2, 2)
    assert model.predict(X).shape == (2, 2)
    assert np.isfinite(model.loss(X, Y))


def test_gradients_shapes_and_no_side_effects(backend):
    model = MLP([3, 4, 2], activation="relu", output="softmax", seed=0, backend=backend)
    before = model.get_weights()
    X, y = np.random.default_rng(0).standard_normal((5, 3)), np.array([0, 1, 1, 0, 1])
    grads = model.gradients(X, y)
    assert [g.shape for g in grads] == [w.shape for w in before]
    for a, b in zip(model.get_weights(), before):
        assert np.array_equal(a, b)                 # gradients() does not train
    grads2 = model.gradients(X, y)
    for a, b in zip(grads, grads2):
        assert np.array_equal(a, b)


def test_fit_returns_history_and_moves_weights(backend):
    X, y = np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([1, 0])
    model = MLP([2, 2, 1], activation="tanh", seed=0, backend=backend)
    before = model.get_weights()
    history = model.fit(X, y, epochs=3, batch_size=None, lr=0.1)
    assert model.history is history and len(history["loss"]) == 3
    assert history["loss"][-1] < history["loss"][0]
    assert not np.array_equal(model.get_weights()[0], before[0])


def test_multilabel_score_is_elementwise(backend):
    """Regression: score() used to argmax multi-label rows, so predicting [1, 0]
    for the truth [1, 1] counted as fully right (1.0)."""
    model = MLP([2, 2], output="sigmoid", backend=backend)
    model.set_weights([np.array([[10.0, 0.0], [-10.0, 0.0]]), np.zeros(2)])
    X = np.array([[1.0, 0.0], [1.0, 0.0]])
    assert model.predict(X).tolist() == [[1, 0], [1, 0]]
    assert model.score(X, np.array([[1, 1], [1, 0]])) == 0.75
    assert model.score(X, np.array([[0, 1], [0, 1]])) == 0.0
