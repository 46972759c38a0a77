"""Invalid input raises a clear ValueError / TypeError that names the argument
(and says what was expected and what was given)."""
from __future__ import annotations

import numpy as np
import pytest

from pyneuron import MLP, Neuron, activations

X4 = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Y4 = np.array([0, 1, 1, 0])


@pytest.fixture
def model(backend):
    return MLP([2, 3, 1], activation="tanh", output="sigmoid", seed=0, backend=backend)


@pytest.fixture
def softmax_model(backend):
    return MLP([2, 3, 3], activation="relu", output="softmax", seed=0, backend=backend)


# ---------------------------------------------------------------- X
@pytest.mark.parametrize("method", ["forward", "predict", "predict_proba"])
def test_wrong_number_of_features(model, method):
    with pytest.raises(ValueError, match=r"X: expected 2 features \(columns\), got 3"):
        getattr(model, method)(np.ones((4, 3)))


@pytest.mark.parametrize("method", ["fit", "loss", "gradients", "score"])
def test_wrong_number_of_features_with_targets(model, method):
    with pytest.raises(ValueError, match="X: expected 2 features"):
        getattr(model, method)(np.ones((4, 3)), Y4)


@pytest.mark.parametrize("bad", [np.array([[np.nan, 1.0]]), np.array([[1.0, np.inf]]), np.array([[-np.inf, 0.0]])])
@pytest.mark.parametrize("method", ["forward", "fit"])
def test_nan_or_inf_in_X(model, bad, method):
    args = (bad,) if method == "forward" else (bad, [1])
    with pytest.raises(ValueError, match=r"X: expected finite values, got (nan|inf|-inf) at index"):
        getattr(model, method)(*args)


@pytest.mark.parametrize("bad", [[["a", "b"]], np.array([[1, None]], dtype=object), "1, 2", np.array([["1", "2"]])])
@pytest.mark.parametrize("method", ["forward", "fit"])
def test_non_numeric_X(model, bad, method):
    args = (bad,) if method == "forward" else (bad, [1])
    with pytest.raises(TypeError, match="X: expected"):
        getattr(model, method)(*args)


def test_ragged_X(model):
    with pytest.raises((TypeError, ValueError), match="X"):
        model.forward([[1.0, 2.0], [3.0]])


def test_empty_X(model):
    with pytest.raises(ValueError, match=r"X: expected at least one sample, got shape \(0, 2\)"):
        model.forward(np.empty((0, 2)))
    with pytest.raises(ValueError, match="X: expected at least one sample"):
        model.fit(np.empty((0, 2)), np.array([]))


def test_one_dimensional_X(model):
    with pytest.raises(ValueError, match=r"X: expected a 2-D array.*got a 1-D array.*reshape\(1, -1\)"):
        model.forward(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"X: expected a 2-D array.*got shape \(5,\)"):
        model.forward(np.arange(5.0))
    with pytest.raises(ValueError, match=r"X: expected a 2-D array.*got shape \(2, 2, 1\)"):
        model.forward(np.ones((2, 2, 1)))


# ---------------------------------------------------------------- y
def test_y_length_mismatch(model):
    with pytest.raises(ValueError, match=r"y: expected 4 targets \(one per row of X\), got 3"):
        model.fit(X4, Y4[:3], epochs=1)


def test_label_out_of_range_for_softmax(softmax_model):
    with pytest.raises(ValueError, match=r"y: expected integer class labels in 0\.\.2 .*3 units.*got values \[0 1 3\]"):
        softmax_model.fit(X4, np.array([0, 1, 3, 1]), epochs=1)
    with pytest.raises(ValueError, match="y: expected integer class labels"):
        softmax_model.loss(X4, np.array([0, 1, -1, 1]))
    with pytest.raises(ValueError, match="y: expected integer class labels"):
        softmax_model.fit(X4, np.array([0, 1, 1.5, 1]), epochs=1)


def test_bad_one_hot_for_softmax(softmax_model):
    with pytest.raises(ValueError, match=r"y: expected one-hot rows of length 3, got shape \(4, 2\)"):
        softmax_model.fit(X4, np.eye(2)[[0, 1, 1, 0]], epochs=1)
    with pytest.raises(ValueError, match="y: expected one-hot rows"):
        softmax_model.fit(X4, np.full((4, 3), 1 / 3), epochs=1)


def test_non_binary_labels_for_sigmoid(model):
    with pytest.raises(ValueError, match=r"y: expected 0/1 labels for a sigmoid output, got values \[0\.  0\.5 1\. \]"):
        model.fit(X4, np.array([0, 0.5, 1, 0]), epochs=1)
    with pytest.raises(ValueError, match="y: expected 0/1 labels"):
        model.score(X4, np.array([0, 2, 1, 0]))


def test_wrong_target_columns(model):
    with pytest.raises(ValueError, match=r"y: expected 1 target column\(s\) for 1 output unit\(s\), got shape \(4, 2\)"):
        model.fit(X4, np.zeros((4, 2)), epochs=1)


@pytest.mark.parametrize("bad, error, pattern", [
    (np.array(["a", "b", "a", "b"]), TypeError, "y: expected numeric targets"),
    (np.array([0, 1, None, 0], dtype=object), TypeError, "y: expected numeric targets"),
    (np.array([0.0, np.nan, 1.0, 0.0]), ValueError, "y: expected finite targets"),
    (np.array([]), ValueError, "y: expected"),
])
def test_bad_y_values(model, bad, error, pattern):
    with pytest.raises(error, match=pattern):
        model.fit(X4, bad, epochs=1)


# ---------------------------------------------------------------- names
@pytest.mark.parametrize("kwargs, pattern", [
    ({"activation": "swish"}, r"activation: expected one of 'sigmoid', 'tanh', 'relu', 'leaky_relu', 'linear', got 'swish'"),
    ({"activation": "softmax"}, r"activation: expected one of .*got 'softmax'"),
    ({"activation": ["relu"]}, r"activation: expected a name or a list of 2 names"),
    ({"output": "gelu"}, r"output: expected one of .*'softmax'.*got 'gelu'"),
    ({"loss": "hinge"}, r"loss: expected one of 'mse', 'bce', 'cce' or None, got 'hinge'"),
    ({"output": "linear", "loss": "cce"}, r"loss: 'cce' needs output='softmax'"),
    ({"output": "linear", "loss": "bce"}, r"loss: 'bce' needs probabilities"),
    ({"init": "orthogonal"}, r"init: expected 'auto' or one of 'he_normal'.*got 'orthogonal'"),
    ({"backend": "gpu"}, r"backend: expected one of 'scalar', 'numpy', 'c', got 'gpu'"),
    ({"dtype": "float16"}, r"dtype: expected 'float64' or 'float32', got float16"),
    ({"dropout": 1.0}, r"dropout: expected a number < 1.0"),
])
def test_bad_constructor_arguments(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        MLP([2, 3, 3, 1], **kwargs)


@pytest.mark.parametrize("sizes", [[2], [], [2, 0, 1], [2, -3, 1], [2.0, 3], "2-3-1", [2, True]])
def test_bad_layer_sizes(sizes):
    with pytest.raises(ValueError, match="layer_sizes: expected a list of at least two positive integers"):
        MLP(sizes)


def test_activation_functions_unknown_name():
    with pytest.raises(ValueError, match="name: expected one of .*got 'elu'"):
        activations.apply("elu", 1.0)
    with pytest.raises(ValueError, match="name: expected one of"):
        activations.derivative("elu", 1.0)


def test_neuron_arguments():
    with pytest.raises(ValueError, match="x: expected length 3, got 2"):
        Neuron([1.0, 2.0, 3.0], 0.0).output([1.0, 2.0])
    with pytest.raises(ValueError, match="activation: expected one of"):
        Neuron([1.0], 0.0, "softmax")
    with pytest.raises(TypeError, match="weights: expected a 1-D array of real numbers"):
        Neuron(["a"], 0.0)
    with pytest.raises(ValueError, match="bias: expected a finite number"):
        Neuron([1.0], float("nan"))
    with pytest.raises(ValueError, match="x: expected finite values"):
        Neuron([1.0], 0.0).output([float("inf")])


# ---------------------------------------------------------------- set_weights
def test_set_weights_wrong_count(model):
    with pytest.raises(ValueError, match=r"weights: expected a list of 4 arrays \[W1, b1, \.\.\.\], got 3"):
        model.set_weights(model.get_weights()[:3])
    with pytest.raises(ValueError, match="weights: expected a list of 4 arrays"):
        model.set_weights(np.zeros(4))


def test_set_weights_wrong_shape_changes_nothing(model):
    before = model.get_weights()
    bad = model.get_weights()
    bad[0] = np.zeros((2, 3))          # transposed: (n_in, n_out) instead of (n_out, n_in)
    with pytest.raises(ValueError, match=r"weights\[0\] \(W1\): expected shape \(3, 2\), got \(2, 3\)"):
        model.set_weights(bad)
    bad = model.get_weights()
    bad[0] = np.ones((3, 2)) * 7
    bad[3] = np.zeros(2)
    with pytest.raises(ValueError, match=r"weights\[3\] \(b2\): expected shape \(1,\), got \(2,\)"):
        model.set_weights(bad)
    for a, b in zip(model.get_weights(), before):   # validated before anything changed
        assert np.array_equal(a, b)


def test_set_weights_bad_values(model):
    bad = model.get_weights()
    bad[1] = np.array([0.0, np.nan, 0.0])
    with pytest.raises(ValueError, match=r"weights\[1\] \(b1\): expected finite values"):
        model.set_weights(bad)
    bad = model.get_weights()
    bad[2] = [["a", "b", "c"]]
    with pytest.raises(TypeError, match=r"weights\[2\] \(W2\): expected an array of real numbers"):
        model.set_weights(bad)


# ---------------------------------------------------------------- fit options
@pytest.mark.parametrize("kwargs, pattern", [
    ({"epochs": 0}, r"epochs: expected an integer >= 1, got 0"),
    ({"epochs": -5}, r"epochs: expected an integer >= 1, got -5"),
    ({"epochs": 2.5}, r"epochs: expected an integer >= 1, got 2.5"),
    ({"epochs": "10"}, r"epochs: expected an integer >= 1, got '10'"),
    ({"batch_size": 0}, r"batch_size: expected an integer >= 1, got 0"),
    ({"batch_size": -1}, r"batch_size: expected an integer >= 1, got -1"),
    ({"batch_size": 1.5}, r"batch_size: expected an integer >= 1, got 1.5"),
    ({"lr": 0}, r"lr: expected a number > 0.0, got 0.0"),
    ({"lr": -0.1}, r"lr: expected a number > 0.0, got -0.1"),
    ({"lr": float("nan")}, r"lr: expected a finite number, got nan"),
    ({"lr": "fast"}, r"lr: expected a finite number, got 'fast'"),
    ({"verbose": 3}, r"verbose: expected 0, 1 or 2, got 3"),
    ({"optimizer": "lbfgs"}, r"optimizer: expected an Optimizer or one of"),
])
def test_bad_fit_options(model, kwargs, pattern):
    before = model.get_weights()
    with pytest.raises(ValueError, match=pattern):
        model.fit(X4, Y4, **kwargs)
    for a, b in zip(model.get_weights(), before):
        assert np.array_equal(a, b)
