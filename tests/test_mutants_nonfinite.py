"""pyneuron.nonfinite: which source a NonFiniteOutputError names (first layer's inputs, a
later layer's inputs, batch normalization, an activation), the running_var bound at exactly
-eps, and how many rows the message lists (issue 15 item 10: the mutation run of
pyneuron/nonfinite.py). Values by hand."""
import numpy as np
import pytest

import pyneuron as pn
from pyneuron import NonFiniteOutputError
from pyneuron.nonfinite import SHOWN_ROWS, check_output


def test_ten_rows_are_listed():
    assert SHOWN_ROWS == 10


@pytest.mark.parametrize("n_bad, listed", [(10, "rows 0, 1, 2, 3, 4, 5, 6, 7, 8, 9)"),
                                           (11, "rows 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, ...)")])
def test_the_message_lists_at_most_ten_rows(backend, n_bad, listed):
    model = pn.MLP([1, 1], output="linear", backend=backend)
    model.set_weights([[[4.0]], [0.0]])
    X = np.array([[1e308]] * n_bad + [[1.0]])
    with pytest.raises(NonFiniteOutputError) as info:
        model.predict(X)
    assert f"for {n_bad} of {n_bad + 1} rows ({listed}, so no value" in str(info.value)
    assert info.value.rows == list(range(n_bad))


def two_layers(backend, W1, W2, batch_norm=False):
    model = pn.MLP([1, 1, 1], activation="linear", output="linear", backend=backend, batch_norm=batch_norm)
    model.layers[0].W[...] = W1
    model.layers[1].W[...] = W2
    return model


def test_overflow_in_the_first_layer_names_its_inputs(backend):
    model = two_layers(backend, 4.0, 0.5)
    with pytest.raises(NonFiniteOutputError) as info:
        model.predict([[1.0], [-1e308]])
    assert info.value.source == ("layer 1's pre-activation Z = X·Wᵀ + b overflowed: the inputs are too large for "
                                 "float64 arithmetic (largest |x| in those rows is 1e+308, largest |w| 4); "
                                 "scale them, e.g. with pyneuron.datasets.Standardizer")
    assert info.value.rows == [1]


def test_overflow_in_a_later_layer_names_the_previous_outputs(backend):
    model = two_layers(backend, 1e300, 1e10)
    with pytest.raises(NonFiniteOutputError) as info:
        model.predict([[0.0], [2.0]])
    assert info.value.source == ("layer 2's pre-activation Z = X·Wᵀ + b overflowed: its inputs (layer 1's outputs) "
                                 "reach |x| = 2e+300 and its weights |w| = 1e+10")
    assert info.value.rows == [1]


def test_overflow_before_batch_norm_is_the_pre_activation(backend):
    model = two_layers(backend, 4.0, 0.5, batch_norm=True)
    with pytest.raises(NonFiniteOutputError) as info:
        model.predict([[1e308]])
    assert info.value.source.startswith("layer 1's pre-activation Z = X·Wᵀ + b overflowed: the inputs are too large")


def test_overflow_in_batch_norm_is_named(backend):
    """Z_lin = 10 is finite; (10 − 0)/√(1 + 1e-5) · 1e308 is not."""
    model = two_layers(backend, 1.0, 0.5, batch_norm=True)
    model.layers[0].gamma[...] = 1e308
    with pytest.raises(NonFiniteOutputError) as info:
        model.predict([[10.0], [0.0]])
    assert info.value.source == "layer 1's batch normalization (running statistics) gave a non-finite value"
    assert info.value.rows == [0]


def test_a_non_finite_activation_is_named():
    """No built-in activation turns a finite Z into NaN, so the cache a forward pass
    would leave is written here: layer 2's Z is finite, its A is not."""
    model = pn.MLP([1, 2, 1], seed=0)
    model.layers[0].cache = {"X": np.zeros((2, 1)), "Z": np.zeros((2, 2)), "A": np.zeros((2, 2)),
                             "out": np.zeros((2, 2))}
    model.layers[1].cache = {"X": np.zeros((2, 2)), "Z": np.zeros((2, 1)), "A": np.array([[0.5], [np.nan]]),
                             "out": np.array([[0.5], [np.nan]])}
    with pytest.raises(NonFiniteOutputError) as info:
        check_output(model, "predict")
    assert info.value.source == "layer 2's sigmoid activation gave a non-finite value"
    assert info.value.rows == [1]
    model.layers[1].cache["A"] = model.layers[1].cache["out"] = np.array([[0.5], [0.25]])
    assert check_output(model, "predict") is None


@pytest.mark.parametrize("running_var, index", [([2.0, 1e-6, -1e-5, 3.0], 2), ([-4.0, 1.0, 1.0, 1.0], 0),
                                                ([1.0, 1.0, 1.0, -1.0], 3)])
def test_running_var_at_or_below_minus_eps_is_refused(backend, running_var, index):
    model = pn.MLP([2, 4, 1], seed=0, backend=backend, batch_norm=True)
    model.layers[0].running_var[...] = running_var
    value = running_var[index]
    with pytest.raises(NonFiniteOutputError, match=f"layer 1's batch-norm running_var is {value} at index {index}, "
                                                   r"at or below -eps = -1e-05: sqrt\(running_var \+ eps\) is NaN or 0"):
        model.predict_proba([[0.0, 1.0]])


@pytest.mark.parametrize("running_var", [[1e-6, 0.5, 0.0, -0.5e-5], [0.9, 0.9, 0.9, 0.9]])
def test_running_var_above_minus_eps_is_answered(backend, running_var):
    """√(v + 1e-5) > 0 for every v > −1e-5: a small, zero or slightly negative variance is finite."""
    model = pn.MLP([2, 4, 1], seed=0, backend=backend, batch_norm=True)
    model.layers[0].running_var[...] = running_var
    assert np.all(np.isfinite(model.predict_proba([[0.0, 1.0], [1.0, -1.0]])))
