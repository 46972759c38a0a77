"""Sizes and types at the door (issue 15, item 6).

* A network whose parameters cannot fit in memory is refused before anything is
  allocated, naming ``layer_sizes`` (it used to end in a bare MemoryError).
* Boolean options take only ``True``/``False`` (Python or NumPy bools): ``batch_norm="no"``
  used to mean True.
* Complex targets are refused like complex inputs (the imaginary part was dropped).
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pyneuron as pn
from pyneuron import validation


def parameter_bytes(sizes, dtype, batch_norm):
    """Worked out by hand: W (n_out × n_in) and b (n_out) per layer, four batch-norm
    vectors of n_out per hidden layer; a float32 model's weights are drawn in float64
    first, so the largest W is counted once more at 8 bytes."""
    itemsize = np.dtype(dtype).itemsize
    count = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    if batch_norm:
        count += 4 * sum(sizes[1:-1])
    extra = 8 * max(a * b for a, b in zip(sizes[:-1], sizes[1:])) if itemsize == 4 else 0
    return count, count * itemsize + extra


def test_issue_case_is_refused_naming_layer_sizes(monkeypatch):
    # 4,000,000,001 float64 parameters = 29.8 GiB; the limit is set so that the test does
    # not depend on this machine's memory
    monkeypatch.setattr(validation, "MAX_ARRAY_BYTES", 16 * 2**30)
    with pytest.raises(ValueError, match=r"layer_sizes: \[2, 1000000000, 1\] has 4,000,000,001 parameters "
                                         r"\(float64\), which would need 29.8 GiB, more than the 16 GiB"):
        pn.MLP([2, 10**9, 1])


def test_refused_before_allocating(monkeypatch):
    """With the limit at 1 MiB, [2, 10**6, 1] (32 MB of weights) is refused having allocated
    almost nothing (tracemalloc sees NumPy's allocations)."""
    import tracemalloc
    monkeypatch.setattr(validation, "MAX_ARRAY_BYTES", 2**20)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="layer_sizes"):
            pn.MLP([2, 10**6, 1])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2**20


@pytest.mark.parametrize("sizes", [[2, 10**12, 1], [10**7, 10**7], [3, 10**30, 10**30, 2]])
def test_sizes_beyond_any_memory_are_refused(sizes):
    with pytest.raises(ValueError, match="layer_sizes"):
        pn.MLP(sizes, dtype="float32")


@settings(max_examples=40, deadline=None, derandomize=True)
@given(sizes=st.lists(st.integers(1, 40), min_size=2, max_size=5), dtype=st.sampled_from(["float64", "float32"]),
       batch_norm=st.booleans())
def test_the_limit_is_exact(sizes, dtype, batch_norm):
    """At exactly the bytes the parameters need the model is built; one byte less refuses it."""
    count, needed = parameter_bytes(sizes, dtype, batch_norm)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(validation, "MAX_ARRAY_BYTES", needed)
        # bias=True: every layer has a bias here (by default a batch-normalized one has none)
        model = pn.MLP(sizes, dtype=dtype, batch_norm=batch_norm, output="sigmoid", bias=True)
        statistics = sum(layer.running_mean.size + layer.running_var.size
                         for layer in model.layers if layer.batch_norm)
        assert model.n_parameters + statistics == count
        patch.setattr(validation, "MAX_ARRAY_BYTES", needed - 1)
        with pytest.raises(ValueError, match=f"layer_sizes: .* has {count:,} parameters"):
            pn.MLP(sizes, dtype=dtype, batch_norm=batch_norm, output="sigmoid", bias=True)


NOT_BOOLS = ["no", "False", "", 1, 0, 1.0, None, [True], np.array([True]), np.int64(1)]


@pytest.mark.parametrize("value", NOT_BOOLS, ids=repr)
def test_batch_norm_takes_only_bools(value):
    with pytest.raises(TypeError, match=r"batch_norm: expected True or False, got"):
        pn.MLP([2, 3, 1], batch_norm=value)


@pytest.mark.parametrize("value", NOT_BOOLS, ids=repr)
def test_dense_batch_norm_takes_only_bools(value):
    from pyneuron.layers import Dense
    with pytest.raises(TypeError, match=r"batch_norm: expected True or False"):
        Dense(np.ones((2, 3)), np.zeros(2), "relu", batch_norm=value)


@pytest.mark.parametrize("value", [True, False, np.True_, np.False_])
def test_batch_norm_bools_accepted(value):
    model = pn.MLP([2, 3, 1], batch_norm=value)
    assert model.batch_norm is bool(value)
    assert model.layers[0].batch_norm is bool(value)


@pytest.mark.parametrize("value", NOT_BOOLS, ids=repr)
def test_forward_training_takes_only_bools(value):
    model = pn.MLP([2, 3, 1], seed=0, dropout=0.5)
    with pytest.raises(TypeError, match=r"training: expected True or False"):
        model.forward([[1.0, 2.0]], training=value)
    # np.bool_ works like bool: training mode draws a dropout mask
    np.testing.assert_array_equal(model.forward([[1.0, 2.0]], training=np.False_),
                                  model.forward([[1.0, 2.0]], training=False))


@pytest.mark.parametrize("output, y", [("sigmoid", [1 + 0j, 0j]), ("linear", [1.5 + 2j, 0.5 + 0j]),
                                       ("softmax", [[1 + 0j, 0j], [0j, 1 + 0j]])])
def test_complex_targets_are_refused(backend, output, y):
    model = pn.MLP([2, 2 if output == "softmax" else 1], output=output, backend=backend)
    X = [[0.0, 1.0], [1.0, 0.0]]
    y = np.array(y)
    for call in (lambda: model.fit(X, y, epochs=1), lambda: model.loss(X, y), lambda: model.score(X, y),
                 lambda: model.evaluate(X, y)):
        with pytest.raises(TypeError, match="y: expected real targets, got complex"):
            call()


@pytest.mark.parametrize("value", [[1 + 2j, 0.5], np.array([1 + 0j, 0.5]), np.array([1.0, 0.5], dtype=np.complex64)],
                         ids=["list", "zero-imaginary", "complex64"])
def test_neuron_refuses_complex_weights_and_inputs(backend, value):
    with pytest.raises(TypeError, match="weights: expected a 1-D array of real numbers"):
        pn.Neuron(value, 0.0, backend=backend)
    neuron = pn.Neuron([1.0, 1.0], 0.0, "linear", backend=backend)
    with pytest.raises(TypeError, match="x: expected a 1-D array of real numbers"):
        neuron(value)
    assert neuron(np.array([1.0, 0.5])) == 1.5


@pytest.mark.parametrize("z", [1 + 2j, np.array([0.5 + 0j]), "0.5", [[1.0], [2.0, 3.0]]],
                         ids=["complex", "zero-imaginary", "text", "ragged"])
@pytest.mark.parametrize("function", [pn.activations.apply, pn.activations.derivative])
def test_activation_functions_refuse_non_real_z(function, z):
    with pytest.raises(TypeError, match="z: expected a real number or an array of real numbers"):
        function("sigmoid", z)


def test_activation_functions_take_numbers_vectors_matrices():
    assert pn.activations.apply("sigmoid", 0.0) == 0.5
    np.testing.assert_array_equal(pn.activations.apply("relu", [-1.0, 2.0]), [0.0, 2.0])
    np.testing.assert_array_equal(pn.activations.derivative("relu", [[-1.0, 2.0]]), [[0.0, 1.0]])
    with pytest.raises(ValueError, match=r"z: expected a number, a vector or a matrix, got shape \(2, 2, 2\)"):
        pn.activations.apply("relu", np.zeros((2, 2, 2)))


@pytest.mark.parametrize("make", [
    lambda v: pn.optimizers.SGD(lr=0.1, momentum=0.9, nesterov=v),
    lambda v: pn.EarlyStopping(restore_best_weights=v),
], ids=["SGD(nesterov=)", "EarlyStopping(restore_best_weights=)"])
@pytest.mark.parametrize("value", ["no", 1, None, [True]])
def test_boolean_options_take_only_bools(make, value):
    """'no' is truthy: taken as a bool it switched the option on."""
    with pytest.raises(TypeError, match="expected True or False"):
        make(value)
    assert make(np.bool_(False)) is not None and make(True) is not None


@pytest.mark.parametrize("plot", ["plot_curves", "plot_speed"])
def test_plot_log_takes_only_bools(plot):
    pytest.importorskip("matplotlib")
    from pyneuron import plot as pn_plot
    with pytest.raises(TypeError, match="log: expected True or False"):
        getattr(pn_plot, plot)({"a": [1.0, 2.0]} if plot == "plot_curves" else {"a": 1.0}, log="no")
