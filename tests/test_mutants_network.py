"""pyneuron.network.MLP beyond test_model and test_trust_door: what the mutation run
(.ci/mutation.py pyneuron/network.py, issue 15 item 10) showed untested — the bias
argument, user dropout masks, the constructor's refusals on both sides of each bound,
repr's optional parts, frozen parameters and their names, set_weights' message, the
answering methods' shapes, thresholds and chunks, and loss with a penalty. Expected
values are worked out by hand or written out in NumPy."""
from __future__ import annotations

import math

import numpy as np
import pytest

import pyneuron as pn
from pyneuron import MLP
from pyneuron.network import MaskSource, _check_bias

from helpers import assert_close


# ---------------------------------------------------------------------------- bias
def test_bias_default_follows_batch_norm():
    assert _check_bias(None, 3, False) == [True, True, True]
    # a layer followed by batch norm has no bias; the output layer keeps its own
    assert _check_bias(None, 3, True) == [False, False, True]
    assert [layer.has_bias for layer in MLP([2, 3, 3, 1], batch_norm=True).layers] == [False, False, True]


@pytest.mark.parametrize("bias, expected", [(True, [True, True]), (False, [False, False]),
                                            ([True, False], [True, False]), ((False, True), [False, True]),
                                            ([np.bool_(True), np.bool_(False)], [True, False])])
def test_bias_one_bool_or_one_per_layer(bias, expected):
    flags = _check_bias(bias, 2, False)
    assert flags == expected and all(type(f) is bool for f in flags)
    model = MLP([2, 3, 1], bias=bias)
    assert [layer.has_bias for layer in model.layers] == expected
    assert model.bias == expected


@pytest.mark.parametrize("bias", [[True], [True, True, True], [True, 1], [1, 0], "yes", 1])
def test_bias_wrong_length_or_not_bools_is_refused(bias):
    with pytest.raises(ValueError, match=r"bias: expected None, True, False or a list of 2 bools "
                                         r"\(one per layer\), got "):
        MLP([2, 3, 1], bias=bias)


# ---------------------------------------------------------------------------- dropout masks
def test_mask_source_passes_the_layer_and_shape_and_returns_the_mask():
    calls = []

    def masks(index, shape):
        calls.append((index, shape))
        return [[1, 0, 1], [0, 1, 1]]

    source = MaskSource(masks, 4)
    mask = source(np.array([2, 3]))
    assert calls == [(4, (2, 3))] and isinstance(calls[0][1], tuple)
    assert np.array_equal(mask, [[1, 0, 1], [0, 1, 1]])
    given = np.ones((2, 3), dtype=bool)
    assert MaskSource(lambda i, s: given, 0)((2, 3)) is given


@pytest.mark.parametrize("mask, message", [
    (np.ones((3, 2)), r"dropout_masks: expected a 0/1 array of shape \(2, 3\) for layer 1, got float64 of "
                      r"shape \(3, 2\)"),
    (np.ones((2, 3), dtype=complex), r"expected a 0/1 array of shape \(2, 3\) for layer 1, got complex128"),
    (np.array([["1", "0", "1"]] * 2), r"expected a 0/1 array .* got <U1"),
    (np.array([[0.0, 0.5, 2.0], [3.0, 1.0, -1.0]]),
     r"dropout_masks: expected only 0 and 1 in layer 1's mask, got values such as \[0.5, 2.0, 3.0\]$"),
])
def test_mask_source_refuses_wrong_masks(mask, message):
    with pytest.raises(ValueError, match=message):
        MaskSource(lambda i, s: mask, 1)((2, 3))


@pytest.mark.parametrize("dtype", [bool, np.int8, np.uint8, np.float32])
def test_mask_source_accepts_every_real_kind(dtype):
    mask = np.array([[1, 0, 1], [0, 0, 1]], dtype=dtype)
    assert MaskSource(lambda i, s: mask, 0)((2, 3)) is mask


# ---------------------------------------------------------------------------- constructor
def test_layer_sizes_as_a_numpy_vector_and_the_smallest_sizes():
    model = MLP(np.array([3, 1, 2]), output="softmax")
    assert model.layer_sizes == [3, 1, 2] and all(type(n) is int for n in model.layer_sizes)
    assert MLP([1, 1]).layer_sizes == [1, 1]


@pytest.mark.parametrize("sizes", [np.array([[2, 1]]), [2], [], [2, 0, 1], [2, -1], [2, True], [2.0, 1],
                                   (3,), "21", None, 5])
def test_layer_sizes_refused(sizes):
    with pytest.raises(ValueError, match=r"layer_sizes: expected a list of at least two positive integers "
                                         r"\(inputs, \.\.\., outputs\), got "):
        MLP(sizes)


def test_activation_per_layer_and_wrong_count():
    model = MLP([2, 3, 4, 1], activation=("tanh", "relu"))
    assert model.hidden_activations == ["tanh", "relu"]
    with pytest.raises(ValueError, match=r"activation: expected a name or a list of 2 names \(one per hidden "
                                         r"layer\), got \['tanh'\]"):
        MLP([2, 3, 4, 1], activation=["tanh"])


def test_softmax_needs_two_units():
    with pytest.raises(ValueError, match=r"output: softmax over 1 unit is always 1 and cannot learn; use "
                                         r"output='sigmoid' for two classes, or one softmax unit per class, "
                                         r"got layer_sizes=\[2, 1\]"):
        MLP([2, 1], output="softmax")
    assert MLP([2, 2], output="softmax").n_outputs == 2


def test_dropout_per_layer_and_its_bounds():
    model = MLP([2, 3, 3, 1], dropout=[0.0, 0.25])
    assert model.dropout == [0.0, 0.25] and [layer.dropout for layer in model.layers] == [0.0, 0.25, 0.0]
    assert MLP([2, 3, 1], dropout=0.5).dropout == [0.5]
    with pytest.raises(ValueError, match=r"dropout: expected a rate or a list of 2 rates, got \[0\.1\]"):
        MLP([2, 3, 3, 1], dropout=[0.1])
    with pytest.raises(ValueError, match="dropout"):
        MLP([2, 3, 1], dropout=1.0)          # a rate of 1 drops everything: the interval is open at 1
    assert MLP([2, 3, 1], dropout=0.0).dropout == [0.0]


def test_backend_name_is_checked():
    with pytest.raises(ValueError, match="nope"):
        MLP([2, 1], backend="nope")
    assert MLP([2, 1], backend="numpy").backend == "numpy"


@pytest.mark.parametrize("seed, error", [(True, TypeError), (1.0, TypeError), ("1", TypeError), (-1, ValueError)])
def test_seed_refused(seed, error):
    with pytest.raises(error, match=r"seed: expected a non-negative integer or None, got "):
        MLP([2, 1], seed=seed)


def test_seed_zero_and_numpy_integers_are_seeds():
    a, b = MLP([3, 2], seed=0), MLP([3, 2], seed=np.int64(0))
    expected = np.random.default_rng(0)
    assert a.seed == 0 and np.array_equal(a.layers[0].W, b.layers[0].W)
    assert not np.array_equal(a.layers[0].W, MLP([3, 2], seed=1).layers[0].W)
    assert expected.bit_generator.state == np.random.default_rng(0).bit_generator.state


def test_only_hidden_layers_are_batch_normalized():
    model = MLP([2, 3, 1], batch_norm=True, dropout=0.5)
    assert [layer.batch_norm for layer in model.layers] == [True, False]
    assert [layer.dropout for layer in model.layers] == [0.5, 0.0]
    assert [layer.activation for layer in model.layers] == ["relu", "sigmoid"]
    assert MLP([2, 3, 1]).layers[0].batch_norm is False


# ---------------------------------------------------------------------------- repr
def test_repr_of_a_default_model():
    model = MLP([2, 3, 1], backend="numpy")
    assert repr(model) == ("MLP(2-3-1, activation='relu', output='sigmoid', loss='bce', backend='numpy', "
                           "parameters=13)")


def test_repr_names_every_setting_that_differs():
    model = MLP([2, 3, 4, 2], activation=["tanh", "leaky_relu"], output="softmax", negative_slope=0.2,
                dropout=[0.1, 0.2], batch_norm=True, dtype="float32", bias=True, backend="numpy")
    assert repr(model) == ("MLP(2-3-4-2, activation=['tanh', 'leaky_relu'], output='softmax', loss='cce', "
                           "negative_slope=0.2, dropout=[0.1, 0.2], batch_norm=True, dtype='float32', "
                           "bias=[True, True, True], backend='numpy', parameters=49)")


def test_repr_one_rate_frozen_and_trained():
    model = MLP([2, 3, 3, 1], dropout=0.25, bias=[True, False, True], backend="numpy")
    model.freeze("layer0/b")
    text = repr(model)
    assert "activation='relu'" in text and "dropout=0.25" in text and "bias=[True, False, True]" in text
    assert "frozen=['layer0/b']" in text and "negative_slope" not in text and "epochs_trained" not in text
    model.fit(np.zeros((2, 2)), [0, 1], epochs=2, lr=0.1)
    text = repr(model)
    assert text.endswith("frozen=['layer0/b'], epochs_trained=2, optimizer=" + repr(model.optimizer) + ")")


def test_repr_of_one_hidden_layer_with_dropout():
    assert "activation='relu', output='sigmoid', loss='bce', dropout=0.5, backend=" in repr(MLP([2, 3, 1], dropout=0.5))


def test_repr_without_backend_names_the_global_flag():
    pn.set_backend("scalar")
    assert "backend='scalar'" in repr(MLP([2, 1]))


# ---------------------------------------------------------------------------- epochs, parameters, names
def test_epochs_trained_of_a_history_without_epochs():
    model = MLP([2, 1])
    assert model.epochs_trained == 0
    model.epochs_loaded = 7
    assert model.epochs_trained == 7

    class Empty:
        epoch = []
        initial_epoch = 5

    model.history = Empty()
    assert model.epochs_trained == 5
    Empty.epoch = [6, 9]
    assert model.epochs_trained == 9


def test_alpha_attribute_warns_and_reads_the_slope():
    model = MLP([2, 1], negative_slope=0.3)
    with pytest.warns(DeprecationWarning, match="MLP.alpha is deprecated"):
        assert model.alpha == 0.3


def test_parameter_names_full_layer_and_kind():
    model = MLP([2, 3, 1], batch_norm=True)
    assert model.parameter_names("layer0/W") == ["layer0/W"]
    assert model.parameter_names("layer0") == ["layer0/W", "layer0/gamma", "layer0/beta"]
    assert model.parameter_names("W") == ["layer0/W", "layer1/W"]
    assert model.parameter_names("gamma") == ["layer0/gamma"]


@pytest.mark.parametrize("name", ["layer", "layer2", "ayer0/W", "0/W", "layer0/", "w", 0, None])
def test_parameter_names_refused(name):
    model = MLP([2, 3, 1])
    with pytest.raises(ValueError, match=r"^freeze: expected parameter names of this model \(layer0/W, layer0/b, "
                                         r"layer1/W, layer1/b\), a layer \('layer0' \.\.\. 'layer1'\) or 'W', 'b'; "
                                         r"got "):
        model.parameter_names(name, "freeze")


def test_parameter_names_of_a_kind_the_model_lacks():
    model = MLP([2, 3, 1])
    with pytest.raises(ValueError, match=r"names: expected .*'W', 'b'; got 'gamma'"):
        model.parameter_names("gamma")
    bn = MLP([2, 3, 1], batch_norm=True)
    with pytest.raises(ValueError, match=r"or 'W', 'b', gamma, beta; got 'x'"):
        bn.parameter_names("x")


def test_freeze_and_unfreeze_reset_the_optimizer_only_on_a_change():
    model = MLP([2, 3, 1], seed=0)
    X, y = np.array([[0.0, 1.0], [1.0, 0.0]]), [1, 0]
    model.fit(X, y, epochs=1, optimizer="adam", lr=0.01)
    assert model.optimizer.state and model.optimizer.t == 1
    model.unfreeze("b")                  # nothing was frozen: no change, state kept
    assert model.optimizer.t == 1 and model.optimizer.state
    assert model.freeze("b") is model and model.frozen == ["layer0/b", "layer1/b"]
    assert model.optimizer.t == 0 and not model.optimizer.state
    trainable = model.trainable_parameters()
    assert len(trainable) == 2 and trainable[0] is model.layers[0].W and trainable[1] is model.layers[1].W
    model.freeze("b")                    # already frozen: no change
    model.fit(X, y, epochs=1, optimizer="adam", lr=0.01)
    model.freeze("layer0/b")
    assert model.optimizer.t == 1
    assert model.unfreeze() is model and model.frozen == []
    assert model.optimizer.t == 0


def test_freeze_without_an_optimizer_or_with_an_empty_state():
    model = MLP([2, 3, 1])
    model.freeze("W")
    assert model.frozen == ["layer0/W", "layer1/W"]
    model.unfreeze("layer1")
    assert model.frozen == ["layer0/W"]


# ---------------------------------------------------------------------------- set_weights
@pytest.mark.parametrize("sizes, bias, weights, message", [
    ([2, 3, 1], None, [np.zeros((3, 2))], r"weights: expected a list of 4 arrays \[W1, b1, \.\.\.\], got 1$"),
    ([2, 1], None, [np.zeros((1, 2))], r"weights: expected a list of 2 arrays \[W1, b1\], got 1$"),
    ([2, 3, 1], [True, False], [], r"weights: expected a list of 3 arrays \[W1, b1, \.\.\.\], got 0$"),
    ([2, 3, 1], False, [np.zeros((3, 2))], r"weights: expected a list of 2 arrays \[W1, W2\], got 1$"),
    ([2, 1], False, [], r"weights: expected a list of 1 arrays \[W1\], got 0$"),
    ([2, 1], None, np.zeros((1, 2)), r"weights: expected a list of 2 arrays \[W1, b1\], got ndarray$"),
])
def test_set_weights_count_message(sizes, bias, weights, message):
    model = MLP(sizes, bias=bias)
    with pytest.raises(ValueError, match=message):
        model.set_weights(weights)


def test_set_weights_names_the_bad_array_and_changes_nothing():
    model = MLP([2, 3, 1], seed=0)
    before = model.get_weights()
    bad = [np.ones((3, 2)), np.ones(3), np.ones((1, 3)), np.ones(2)]
    with pytest.raises(ValueError, match=r"weights\[3\] \(b2\)"):
        model.set_weights(bad)
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), before))
    model.set_weights((np.ones((3, 2)), np.ones(3), np.ones((1, 3)), np.ones(1)))
    assert np.array_equal(model.layers[1].b, [1.0])


# ---------------------------------------------------------------------------- answering
def sigmoid_model(n_out=1, backend="numpy"):
    model = MLP([2, n_out], output="sigmoid", backend=backend)
    W = np.array([[1.0, -1.0], [2.0, 0.5]])[:n_out]
    model.set_weights([W, np.zeros(n_out)])
    return model


def test_encode_y_counts_the_targets():
    model = MLP([2, 1])
    assert model.encode_y([0, 1], 2).shape == (2, 1)
    with pytest.raises(ValueError, match=r"^labels: expected 3 targets \(one per row of X\), got 2$"):
        model.encode_y([0, 1], 3, name="labels")


def test_forward_training_draws_dropout_masks_from_the_model_generator():
    model = MLP([3, 50, 1], dropout=0.5, seed=0, output="linear")
    X = np.ones((4, 3))
    a = model.forward(X)
    assert np.array_equal(a, model.forward(X))            # inference: no dropout
    assert "mask" not in model.layers[0].cache
    twin = np.random.default_rng()
    twin.bit_generator.state = model.rng.bit_generator.state
    model.forward(X, training=True)
    mask = twin.random((4, 50)) < 0.5                       # the model's next draw, kept with p = 0.5
    cache = model.layers[0].cache
    assert np.array_equal(cache["mask"], mask)
    assert_close(cache["out"], cache["A"] * mask / 0.5, rtol=0)


@pytest.mark.parametrize("backend_name", ["numpy", "scalar"])
def test_predict_proba_and_decision_function_shapes(backend_name):
    X = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    one = sigmoid_model(1, backend_name)
    z = X @ np.array([1.0, -1.0])
    assert one.predict_proba(X).shape == (3,) and one.decision_function(X).shape == (3,)
    assert_close(one.decision_function(X), z, rtol=0)
    assert_close(one.predict_proba(X), 1 / (1 + np.exp(-z)), rtol=1e-15)
    two = sigmoid_model(2, backend_name)
    Z = X @ np.array([[1.0, -1.0], [2.0, 0.5]]).T
    assert two.predict_proba(X).shape == (3, 2) and two.decision_function(X).shape == (3, 2)
    assert_close(two.decision_function(X), Z, rtol=0)
    assert_close(two.predict_proba(X), 1 / (1 + np.exp(-Z)), rtol=1e-15)
    assert two.predict(X).tolist() == [[1, 1], [0, 1], [1, 1]]
    # a linear model with two outputs predicts its (m, 2) output; with one, a vector
    reg = MLP([2, 2], output="linear", backend=backend_name)
    reg.set_weights([np.array([[1.0, -1.0], [2.0, 0.5]]), np.array([0.5, 0.0])])
    assert_close(reg.predict(X), Z + [0.5, 0.0], rtol=0)
    assert_close(reg.decision_function(X), Z + [0.5, 0.0], rtol=0)


def test_predict_proba_of_a_one_unit_tanh_output_stays_2d():
    model = MLP([2, 1], output="tanh")
    model.set_weights([np.array([[1.0, 0.0]]), np.zeros(1)])
    assert model.predict_proba(np.array([[0.5, 0.0]])).shape == (1, 1)


def test_predict_threshold_is_one_half_inclusive():
    model = sigmoid_model(1)
    # z = 0 gives probability exactly 0.5: class 1; the smallest negative z: class 0
    X = np.array([[0.0, 0.0], [0.0, 1e-300], [1e-300, 0.0]])
    assert model.predict(X).tolist() == [1, 1, 1]
    assert model.predict(np.array([[0.0, 1e-9]])).tolist() == [0]
    assert model.predict(X).dtype == np.int64


def test_score_regression_is_the_mean_squared_error():
    model = MLP([2, 2], output="linear")
    model.set_weights([np.array([[1.0, 0.0], [0.0, 1.0]]), np.zeros(2)])
    X = np.array([[1.0, 2.0], [3.0, 4.0]])
    Y = np.array([[1.0, 0.0], [0.0, 4.0]])
    assert model.score(X, Y) == pytest.approx(np.mean((X - Y) ** 2), rel=1e-15)   # (0 + 4 + 9 + 0) / 4


def test_loss_adds_the_penalty():
    model = MLP([2, 1], output="linear")
    model.set_weights([np.array([[1.0, -2.0]]), np.array([0.5])])
    X, y = np.array([[1.0, 1.0], [0.0, 2.0], [2.0, 0.0]]), np.array([0.0, 1.0, 3.0])
    data = np.mean((X @ np.array([1.0, -2.0]) + 0.5 - y) ** 2)          # (0.25 + 20.25 + 0.25) / 3
    assert model.loss(X, y) == pytest.approx(data, rel=1e-15)
    # mean scaling, m = 3 rows: l2 / (2m) * sum(W**2) (biases are not penalized), l1 / m * sum|W|
    assert model.loss(X, y, l2=0.5) == pytest.approx(data + 0.5 / 6 * 5.0, rel=1e-15)
    assert model.loss(X, y, l1=0.5) == pytest.approx(data + 0.5 / 3 * 3.0, rel=1e-15)


def test_fit_publishes_its_verbose_levels():
    import inspect
    assert inspect.signature(MLP.fit).parameters["verbose"].annotation == "Literal[0, 1, 2]"


def test_data_loss_refuses_an_output_that_is_not_the_last_forward_pass():
    model = MLP([2, 1])
    A = model.forward(np.ones((2, 2)))
    Y = np.array([[1.0], [0.0]])
    z = model.layers[-1].cache["Z"][:, 0]
    expected = np.mean(np.logaddexp(0, -z) * Y[:, 0] + np.logaddexp(0, z) * (1 - Y[:, 0]))
    assert model._data_loss(A, Y) == pytest.approx(expected, rel=1e-14)
    with pytest.raises(ValueError, match=r"A: expected the output of this model's last forward pass"):
        model._data_loss(A.copy(), Y)
    assert model._data_loss(A.copy(), Y, Z=model.layers[-1].cache["Z"]) == pytest.approx(expected, rel=1e-14)
    w = np.array([3.0, 1.0])
    each = np.logaddexp(0, -z) * Y[:, 0] + np.logaddexp(0, z) * (1 - Y[:, 0])
    assert model._data_loss(A, Y, weights=w) == pytest.approx(np.sum(w * each) / 4, rel=1e-14)


def test_answers_are_forwarded_in_chunks_of_2_to_the_20_values():
    """rows per chunk = 2**20 // the widest layer (4096): 256, rounded down to 240 (a multiple
    of 48); 481 rows are two chunks, 240 and 241 (the lone last row joins the one before)."""
    model = MLP([2, 4096, 1], seed=0)
    sizes = []
    forward = model._forward

    def counting(A, *args, **kw):
        sizes.append(A.shape[0])
        return forward(A, *args, **kw)

    model._forward = counting
    model.predict(np.zeros((481, 2)))
    assert sizes == [240, 241]


# ---------------------------------------------------------------------------- second run's survivors
def test_a_new_model_has_no_history_optimizer_or_stop_request():
    model = MLP([2, 3, 1])
    assert model.history is None and model.optimizer is None and model.standardizer is None
    assert model.epochs_loaded == 0 and model.epochs_trained == 0 and model.stop_training is False


def test_summary_prints_or_returns_the_text():
    model = MLP([2, 3, 1])
    text = model.summary(print_fn=None)
    assert text.endswith("Total params: 13\nTrainable params: 13\nFrozen params: 0")
    printed = []
    assert model.summary(print_fn=printed.append) is None
    assert printed == [text]


def batch_norm_model():
    model = MLP([2, 2, 1], activation="linear", output="linear", batch_norm=True)
    layer = model.layers[0]
    layer.W[...] = [[1.0, 2.0], [-1.0, 0.5]]
    layer.running_mean[...] = [0.5, -1.0]
    layer.running_var[...] = [4.0, 0.25]
    layer.gamma[...] = [2.0, 1.0]
    layer.beta[...] = [0.0, 1.0]
    model.layers[1].W[...] = [[1.0, -1.0]]
    return model


def test_answers_use_the_running_statistics():
    model = batch_norm_model()
    X = np.array([[1.0, 1.0], [0.0, 2.0], [-1.0, 3.0]])
    Z = X @ np.array([[1.0, 2.0], [-1.0, 0.5]]).T
    eps = model.layers[0].bn_eps
    H = np.array([2.0, 1.0]) * (Z - [0.5, -1.0]) / np.sqrt(np.array([4.0, 0.25]) + eps) + [0.0, 1.0]
    assert_close(model.predict(X), H @ [1.0, -1.0], rtol=1e-14)
    assert np.array_equal(model.layers[0].running_mean, [0.5, -1.0])          # answering leaves them


def test_forward_in_training_mode_updates_the_running_mean():
    model = batch_norm_model()
    X = np.array([[1.0, 1.0], [0.0, 2.0], [-1.0, 3.0]])
    Z = X @ np.array([[1.0, 2.0], [-1.0, 0.5]]).T
    model.forward(X, training=True)
    # momentum 0.1: new = 0.9 · old + 0.1 · the batch mean
    assert_close(model.layers[0].running_mean, 0.9 * np.array([0.5, -1.0]) + 0.1 * Z.mean(axis=0), rtol=1e-14)


def test_answers_refuse_a_non_finite_parameter():
    model = MLP([2, 1], seed=0)
    model.layers[0].W[0, 0] = np.nan
    with pytest.raises(pn.nonfinite.NonFiniteOutputError, match="predict"):
        model.predict(np.ones((2, 2)))


def test_fit_defaults(capsys):
    """fit(X, y) is fit with epochs=100, batch_size=32, shuffling, silent, no penalty."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 2)), rng.integers(0, 2, 40)
    a, b = MLP([2, 3, 1], seed=0), MLP([2, 3, 1], seed=0)
    history = a.fit(X, y)
    b.fit(X, y, epochs=100, batch_size=32, shuffle=True, verbose=0, l2=0.0, l1=0.0)
    printed = capsys.readouterr()
    assert printed.out == printed.err == "" and len(history["loss"]) == 100
    assert all(np.array_equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_load_state_dict_is_strict_by_default():
    model = MLP([2, 1])
    state = dict(model.state_dict(), extra=np.zeros(1))
    with pytest.raises(Exception, match="extra"):
        model.load_state_dict(state)
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert list(unexpected) == ["extra"] and list(missing) == []


def test_gradients_use_the_batch_statistics_and_leave_the_running_ones():
    model = batch_norm_model()
    X, y = np.array([[1.0, 1.0], [0.0, 2.0], [-1.0, 3.0]]), np.array([0.5, -1.0, 2.0])
    grads = model.gradients(X, y)
    assert np.array_equal(model.layers[0].running_mean, [0.5, -1.0])
    assert np.array_equal(model.layers[0].running_var, [4.0, 0.25])
    # with batch statistics each normalized column has mean 0, so d(loss)/d(beta) of the
    # hidden layer is W2 · mean(dL/dA2) summed per unit: check dbeta against the output error
    W2 = np.array([1.0, -1.0])
    Z = X @ np.array([[1.0, 2.0], [-1.0, 0.5]]).T
    H = np.array([2.0, 1.0]) * (Z - Z.mean(axis=0)) / np.sqrt(Z.var(axis=0) + model.layers[0].bn_eps) + [0.0, 1.0]
    error = 2 * (H @ W2 - y) / 3                       # d(mean squared error)/d(output)
    dbeta = grads[2]
    assert_close(dbeta, error.sum() * W2, rtol=1e-12)
