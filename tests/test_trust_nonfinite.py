"""No class or number from NaN (issue 15, item 2b), and decision_function (issue 14, item 5).

``argmax`` of a NaN row is 0 and ``NaN >= 0.5`` is False: a model whose output is
NaN used to answer "class 0". Every answering method now raises
``NonFiniteOutputError`` (a ``ValueError``) naming the rows and the source.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pyneuron as pn
from pyneuron import NonFiniteOutputError

DTYPES = ["float64", "float32"]
SETTINGS = settings(max_examples=30, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
ANSWERS = {
    "predict": lambda model, X, y: model.predict(X),
    "predict_proba": lambda model, X, y: model.predict_proba(X),
    "decision_function": lambda model, X, y: model.decision_function(X),
    "score": lambda model, X, y: model.score(X, y),
    "evaluate": lambda model, X, y: model.evaluate(X, y),
    "loss": lambda model, X, y: model.loss(X, y),
}


def linear_unit(backend, dtype, weights, bias=0.0, output="sigmoid"):
    model = pn.MLP([len(weights), 1], output=output, backend=backend, dtype=dtype)
    model.set_weights([[weights], [bias]])
    return model


def test_is_a_value_error():
    assert issubclass(NonFiniteOutputError, ValueError)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("method", sorted(ANSWERS))
def test_huge_inputs_never_give_class_0(backend, dtype, method):
    """The issue's case: inputs of ±1e308 (float32: ±3e38) overflow w·x; nothing is answered."""
    big = float(np.finfo(dtype).max) / 2
    model = linear_unit(backend, dtype, [4.0, 4.0])
    X = np.array([[0.5, -0.5], [big, big], [1.0, 1.0], [-big, -big]], dtype=dtype)
    with pytest.raises(NonFiniteOutputError, match=r"for 2 of 4 rows \(rows 1, 3\)") as info:
        ANSWERS[method](model, X, [0, 1, 1, 0])
    assert info.value.rows == [1, 3]
    assert "layer 1's pre-activation" in info.value.source and "inputs are too large" in info.value.source
    assert method in str(info.value)
    # the finite rows alone are answered
    assert np.all(np.isfinite(np.asarray(model.predict_proba(X[[0, 2]]))))


def test_softmax_nan_row_is_refused(backend):
    """inf − inf = NaN in the logits: argmax would have said class 0."""
    model = pn.MLP([2, 3], output="softmax", backend=backend)
    model.set_weights([[[2.0, -2.0], [1.0, 1.0], [0.0, 0.0]], [0.0, 0.0, 0.0]])
    with pytest.raises(NonFiniteOutputError, match="rows 0"):
        model.predict([[1e308, 1e308]])


@pytest.mark.parametrize("parameter", ["W", "b"])
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_parameter_is_named(backend, parameter, value):
    model = pn.MLP([2, 3, 1], seed=0, backend=backend)
    getattr(model.layers[1], parameter)[0] = value   # set directly: set_weights would refuse it
    for method in sorted(ANSWERS):
        with pytest.raises(NonFiniteOutputError, match=f"{method}: .* 2 of 2 rows .*layer 2's {parameter} "
                                                       f"holds {value}") as info:
            ANSWERS[method](model, [[0.0, 0.0], [1.0, 1.0]], [0, 1])
        assert info.value.rows == [0, 1]


def test_broken_batch_norm_statistics_are_named(backend):
    model = pn.MLP([2, 3, 1], seed=0, backend=backend, batch_norm=True)
    model.layers[0].running_var[1] = -1.0                 # as in a corrupted model file
    with pytest.raises(NonFiniteOutputError, match="layer 1's batch-norm running_var is -1.0 at index 1"):
        model.predict_proba([[0.0, 0.0]])


def test_overflow_in_a_hidden_layer_names_that_layer(backend):
    """Finite first layer (1e300), the second multiplies by 1e10: layer 2 overflows."""
    model = pn.MLP([1, 1, 1], activation="relu", output="linear", backend=backend)
    model.set_weights([[[1e150]], [0.0], [[1e10]], [0.0]])
    assert model.predict([[1e140]])[0] == pytest.approx(1e300)
    with pytest.raises(NonFiniteOutputError, match="layer 2's pre-activation .*layer 1's outputs"):
        model.predict([[1e150]])


@SETTINGS
@given(data=st.data(), dtype=st.sampled_from(DTYPES), n_in=st.integers(1, 4), m=st.integers(1, 8))
def test_exactly_the_rows_with_huge_inputs_are_refused(backend, data, dtype, n_in, m):
    """Weights with |w| >= 3 turn any input of size >= max/2 into ±inf or NaN (also where the
    scalar backend sums float32 data in Python floats); inputs up to 10 with weights up to 8
    stay finite. The error lists exactly the rows with a huge input."""
    top = float(np.finfo(dtype).max)
    weights = data.draw(st.lists(st.floats(3, 8) | st.floats(-8, -3),
                                 min_size=n_in, max_size=n_in))
    model = linear_unit(backend, dtype, weights, output=data.draw(st.sampled_from(["sigmoid", "linear"])))
    X = np.array(data.draw(st.lists(st.lists(st.floats(-10, 10), min_size=n_in, max_size=n_in),
                                    min_size=m, max_size=m)))
    huge = data.draw(st.lists(st.booleans(), min_size=m, max_size=m))
    for row, is_huge in enumerate(huge):
        if is_huge:
            column = data.draw(st.integers(0, n_in - 1))
            X[row, column] = data.draw(st.sampled_from([top / 2, -top / 2, top, -top]))
    expected = [row for row, is_huge in enumerate(huge) if is_huge]
    if expected:
        with pytest.raises(NonFiniteOutputError) as info:
            model.predict(X.astype(dtype))
        assert info.value.rows == expected
    else:
        assert np.all(np.isfinite(model.predict(X.astype(dtype))))


def test_neuron_refuses_an_overflowing_output(backend):
    neuron = pn.Neuron([2.0, -2.0], 0.0, "sigmoid", backend=backend)
    assert neuron([1.0, 2.0]) == pytest.approx(1 / (1 + np.exp(2.0)), rel=1e-15)
    with pytest.raises(NonFiniteOutputError, match="overflowed"):
        neuron([1e308, -1e308])
    with pytest.raises(NonFiniteOutputError):
        neuron.pre_activation([1e308, -1e308])


# ---------------------------------------------------------------- decision_function
@pytest.mark.parametrize("dtype", DTYPES)
def test_decision_function_by_hand(backend, dtype):
    """2 → 2 relu → 1 sigmoid: z2 = w2·relu(W1 x + b1) + b2, worked out below."""
    model = pn.MLP([2, 2, 1], activation="relu", backend=backend, dtype=dtype)
    model.set_weights([[[1.0, -1.0], [0.5, 2.0]], [0.0, -1.0], [[1.5, -2.0]], [0.25]])
    # x = (2, 1): hidden z = (1, 2), relu = (1, 2), output z = 1.5 − 4 + 0.25 = −2.25
    # x = (0, 3): hidden z = (−3, 5), relu = (0, 5), output z = −10 + 0.25 = −9.75
    # x = (4, 0): hidden z = (4, 1),  relu = (4, 1), output z = 6 − 2 + 0.25 = 4.25
    Z = model.decision_function([[2.0, 1.0], [0.0, 3.0], [4.0, 0.0]])
    assert Z.shape == (3,) and Z.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(Z, np.array([-2.25, -9.75, 4.25], dtype=dtype))
    np.testing.assert_array_equal(model.predict([[2.0, 1.0], [0.0, 3.0], [4.0, 0.0]]), [0, 0, 1])


@SETTINGS
@given(seed=st.integers(0, 2**31 - 1), dtype=st.sampled_from(DTYPES), k=st.integers(2, 4))
def test_decision_function_is_the_softmax_logits(backend, seed, dtype, k):
    """Against a forward pass written here in NumPy float64 from the model's weights:
    the logits, and argmax of the logits is predict; softmax of them is predict_proba."""
    rng = np.random.default_rng(seed)
    model = pn.MLP([3, 4, k], activation="tanh", output="softmax", seed=seed, backend=backend, dtype=dtype)
    X = rng.standard_normal((5, 3)) * 3
    W1, b1, W2, b2 = (w.astype(np.float64) for w in model.get_weights())
    expected = np.tanh(X.astype(dtype).astype(np.float64) @ W1.T + b1) @ W2.T + b2
    Z = model.decision_function(X)
    tolerance = 1e-12 if dtype == "float64" else 1e-5
    assert Z.shape == (5, k) and Z.dtype == np.dtype(dtype)
    np.testing.assert_allclose(Z, expected, rtol=tolerance, atol=tolerance)
    np.testing.assert_array_equal(np.argmax(Z, axis=1), model.predict(X))
    P = np.exp(expected - expected.max(axis=1, keepdims=True))
    np.testing.assert_allclose(model.predict_proba(X), P / P.sum(axis=1, keepdims=True), rtol=tolerance, atol=tolerance)


def test_decision_function_regression_and_multilabel_shapes(backend):
    model = pn.MLP([2, 3], output="sigmoid", seed=1, backend=backend)        # multi-label
    assert model.decision_function(np.ones((4, 2))).shape == (4, 3)
    model = pn.MLP([2, 1], output="linear", seed=1, backend=backend)         # regression: Z is the value
    X = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(model.decision_function(X), model.predict(X))


def test_decision_function_checks_its_input(backend):
    model = pn.MLP([2, 1], backend=backend)
    with pytest.raises(ValueError, match="X: expected 2 features"):
        model.decision_function(np.ones((3, 5)))
