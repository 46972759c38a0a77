"""pyneuron.layers.Dense on its own, every option on both sides (issue 15 item 10: the
mutation run of pyneuron/layers.py): forward and backward with and without bias, batch
norm (batch and running statistics, the running update and its one-sample rule) and
dropout, on every backend, against the formulas written out in NumPy; its kinds, order
and repr."""
import numpy as np
import pytest

from pyneuron.layers import Dense

X = np.array([[1.0, -2.0], [0.5, 3.0], [-1.5, 0.25]])
W = np.array([[0.4, -0.3], [0.2, 0.6], [-0.5, 0.1]])
B = np.array([0.1, -0.2, 0.3])
DA = np.array([[0.2, -0.1, 0.5], [1.0, 0.3, -0.4], [-0.6, 0.8, 0.1]])


def dense(**kw):
    return Dense(W.copy(), None if kw.pop("no_bias", False) else B.copy(), kw.pop("activation", "tanh"), **kw)


def test_defaults_and_state():
    layer = dense()
    assert (layer.negative_slope, layer.dropout, layer.batch_norm, layer.bn_momentum, layer.bn_eps) == \
        (0.01, 0.0, False, 0.1, 1e-5)
    assert (layer.n_in, layer.n_out, layer.has_bias, layer.frozen, layer.mask_source) == (2, 3, True, set(), None)
    assert not hasattr(layer, "gamma")
    bn = dense(batch_norm=True)
    for name, value in [("gamma", 1.0), ("beta", 0.0), ("running_mean", 0.0), ("running_var", 1.0)]:
        assert np.array_equal(getattr(bn, name), np.full(3, value)), name
    with pytest.raises(TypeError, match="batch_norm: expected True or False"):
        dense(batch_norm="no")


def test_no_bias_is_a_read_only_zero():
    layer = dense(no_bias=True)
    assert not layer.has_bias and np.array_equal(layer.b, np.zeros(3)) and not layer.b.flags.writeable
    assert layer.b.dtype == W.dtype


@pytest.mark.parametrize("kw, kinds", [({}, ["W", "b"]), ({"no_bias": True}, ["W"]),
                                       ({"batch_norm": True}, ["W", "b", "gamma", "beta"]),
                                       ({"batch_norm": True, "no_bias": True}, ["W", "gamma", "beta"])])
def test_kinds_parameters_and_gradients_in_one_order(kernels, kw, kinds):
    layer = dense(**kw)
    assert layer.parameter_kinds() == kinds
    assert all(p is getattr(layer, k) for p, k in zip(layer.parameters(), kinds))
    assert len(layer.parameters()) == len(kinds)
    layer.forward(kernels, X, batch_stats=True)
    layer.backward(kernels, dA=DA)
    assert all(g is layer.grads["d" + k] for g, k in zip(layer.gradients(), kinds))
    assert ("db" in layer.grads) == ("b" in kinds)


@pytest.mark.parametrize("kw, text", [
    ({}, "Dense(2 -> 3, activation='tanh')"),
    ({"activation": "leaky_relu", "negative_slope": 0.2}, "Dense(2 -> 3, activation='leaky_relu', negative_slope=0.2)"),
    ({"batch_norm": True, "dropout": 0.5, "no_bias": True},
     "Dense(2 -> 3, activation='tanh', batch_norm=True, dropout=0.5, bias=False)"),
])
def test_repr(kw, text):
    assert repr(dense(**kw)) == text


def test_repr_names_frozen_kinds():
    layer = dense()
    layer.frozen |= {"b", "W"}
    assert repr(layer) == "Dense(2 -> 3, activation='tanh', frozen=['W', 'b'])"


def test_forward_and_backward_without_batch_norm(kernels):
    layer = dense(activation="leaky_relu", negative_slope=0.2)
    Z = X @ W.T + B
    A = np.where(Z > 0, Z, 0.2 * Z)
    out = layer.forward(kernels, X)
    np.testing.assert_allclose(out, A, rtol=1e-14)
    assert sorted(layer.cache) == ["A", "X", "Z", "out"]
    dZ = DA * np.where(Z > 0, 1.0, 0.2)
    dX = layer.backward(kernels, dA=DA)
    np.testing.assert_allclose(layer.grads["dZ"], dZ, rtol=1e-14)
    np.testing.assert_allclose(layer.grads["dW"], dZ.T @ X, rtol=1e-13)
    np.testing.assert_allclose(layer.grads["db"], dZ.sum(axis=0), rtol=1e-13)
    np.testing.assert_allclose(dX, dZ @ W, rtol=1e-13)


def test_backward_from_dz_skips_the_activation(kernels):
    layer = dense(activation="sigmoid", dropout=0.5)
    layer.forward(kernels, X, rng=np.random.default_rng(0))
    dZ = DA.copy()
    dX = layer.backward(kernels, dZ=dZ)
    np.testing.assert_allclose(layer.grads["dW"], DA.T @ X, rtol=1e-13)
    np.testing.assert_allclose(dX, DA @ W, rtol=1e-13)


def test_a_bias_free_layer_drops_an_old_db(kernels):
    layer = dense(no_bias=True)
    layer.grads["db"] = np.ones(3)
    layer.forward(kernels, X)
    layer.backward(kernels, dA=DA)
    assert "db" not in layer.grads
    np.testing.assert_allclose(layer.cache["Z"], X @ W.T, rtol=1e-14)


def test_dropout_draws_its_mask_from_the_generator_only_when_given_one(kernels):
    layer = dense(activation="linear", dropout=0.25)
    Z = X @ W.T + B
    np.testing.assert_allclose(layer.forward(kernels, X), Z, rtol=1e-14)          # no rng: inference
    assert "mask" not in layer.cache
    out = layer.forward(kernels, X, rng=np.random.default_rng(5))
    mask = (np.random.default_rng(5).random(Z.shape) < 0.75).astype(float)
    assert np.array_equal(layer.cache["mask"], mask) and 0 < mask.sum() < mask.size
    np.testing.assert_allclose(out, Z * mask / 0.75, rtol=1e-14)
    np.testing.assert_allclose(layer.cache["A"], Z, rtol=1e-14)
    layer.backward(kernels, dA=DA)
    np.testing.assert_allclose(layer.grads["dZ"], DA * mask / 0.75, rtol=1e-14)
    no_dropout = dense(activation="linear")
    no_dropout.forward(kernels, X, rng=np.random.default_rng(5))
    assert "mask" not in no_dropout.cache


def test_a_mask_source_replaces_the_draw(kernels):
    mask = np.array([[1, 0, 1], [0, 1, 1], [1, 1, 0]])
    layer = dense(activation="linear", dropout=0.5, mask_source=lambda shape: mask[:shape[0], :shape[1]])
    out = layer.forward(kernels, X, rng=np.random.default_rng(0))
    np.testing.assert_allclose(out, (X @ W.T + B) * mask / 0.5, rtol=1e-14)
    assert layer.cache["mask"].dtype == np.float64


def batch_norm_reference(Z_lin, gamma, beta, eps):
    mean, var = Z_lin.mean(axis=0), Z_lin.var(axis=0)
    Zhat = (Z_lin - mean) / np.sqrt(var + eps)
    return gamma * Zhat + beta, Zhat, mean, var


def test_batch_norm_training_forward_backward_and_running_statistics(kernels):
    layer = dense(batch_norm=True, bn_momentum=0.3, bn_eps=0.01)
    layer.gamma[...] = [1.5, 0.5, -1.0]
    layer.beta[...] = [0.1, 0.2, 0.3]
    layer.running_mean[...] = [1.0, -2.0, 0.5]
    layer.running_var[...] = [4.0, 0.25, 2.0]
    Z_lin = X @ W.T + B
    Z, Zhat, mean, var = batch_norm_reference(Z_lin, layer.gamma, layer.beta, 0.01)
    out = layer.forward(kernels, X, batch_stats=True)
    np.testing.assert_allclose(layer.cache["Z_lin"], Z_lin, rtol=1e-14)
    np.testing.assert_allclose(layer.cache["Z"], Z, rtol=1e-13)
    np.testing.assert_allclose(out, np.tanh(Z), rtol=1e-13)
    # running statistics: PyTorch's rule, with the unbiased variance (m = 3)
    np.testing.assert_allclose(layer.running_mean, 0.7 * np.array([1.0, -2.0, 0.5]) + 0.3 * mean, rtol=1e-13)
    np.testing.assert_allclose(layer.running_var, 0.7 * np.array([4.0, 0.25, 2.0]) + 0.3 * var * 3 / 2, rtol=1e-13)
    # backward through tanh and batch norm, written out
    dZ = DA * (1 - np.tanh(Z) ** 2)
    dgamma, dbeta = (dZ * Zhat).sum(axis=0), dZ.sum(axis=0)
    dZhat = dZ * layer.gamma
    m = X.shape[0]
    dZ_lin = (m * dZhat - dZhat.sum(axis=0) - Zhat * (dZhat * Zhat).sum(axis=0)) / (m * np.sqrt(var + 0.01))
    dX = layer.backward(kernels, dA=DA)
    np.testing.assert_allclose(layer.grads["dgamma"], dgamma, rtol=1e-12)
    np.testing.assert_allclose(layer.grads["dbeta"], dbeta, rtol=1e-12)
    np.testing.assert_allclose(layer.grads["dW"], dZ_lin.T @ X, rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(dX, dZ_lin @ W, rtol=1e-11, atol=1e-14)


def test_running_statistics_are_updated_only_when_asked_and_from_two_samples(kernels):
    layer = dense(batch_norm=True)
    layer.forward(kernels, X, batch_stats=True, update_stats=False)
    assert not layer.running_mean.any() and np.array_equal(layer.running_var, np.ones(3))
    layer.forward(kernels, X[:1], batch_stats=True)             # one sample: no variance to mix in
    assert not layer.running_mean.any() and np.array_equal(layer.running_var, np.ones(3))
    layer.forward(kernels, X[:2], batch_stats=True)             # two: var · 2/1, default momentum 0.1
    Z_lin = X[:2] @ W.T + B
    np.testing.assert_allclose(layer.running_mean, 0.1 * Z_lin.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(layer.running_var, 0.9 + 0.1 * Z_lin.var(axis=0) * 2, rtol=1e-13)


def test_batch_norm_inference_uses_the_running_statistics(kernels):
    layer = dense(batch_norm=True, bn_eps=0.5)
    layer.running_mean[...] = [0.5, -0.5, 1.0]
    layer.running_var[...] = [2.0, 0.5, 1.5]
    layer.gamma[...] = [2.0, 1.0, 0.5]
    layer.beta[...] = [0.0, 1.0, -1.0]
    Z = layer.gamma * (X @ W.T + B - layer.running_mean) / np.sqrt(layer.running_var + 0.5) + layer.beta
    out = layer.forward(kernels, X)
    np.testing.assert_allclose(layer.cache["Z"], Z, rtol=1e-13)
    np.testing.assert_allclose(out, np.tanh(Z), rtol=1e-13)
    np.testing.assert_allclose(layer.running_var, [2.0, 0.5, 1.5])          # untouched
