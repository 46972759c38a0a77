"""Issue 11: the leaky-ReLU slope has one name everywhere, ``negative_slope`` (torch's), not
only in ``MLP``: ``Neuron(negative_slope=)``, the layers' and models' attribute, the
training plans. The old ``alpha`` is a deprecated alias that warns (naming the new name);
giving both names is an error."""
import inspect
import warnings

import numpy as np
import pytest

import pyneuron as pn


@pytest.mark.parametrize("slope", [0.0, 0.01, 0.3])
@pytest.mark.parametrize("z", [-2.0, 1.5])
def test_neuron_negative_slope_is_the_leaky_slope(backend, slope, z):
    # one input, weight 1, bias 0: the output is leaky(z) = z for z > 0, slope · z otherwise
    by_keyword = pn.Neuron([1.0], 0.0, "leaky_relu", negative_slope=slope, backend=backend)
    by_position = pn.Neuron([1.0], 0.0, "leaky_relu", slope, backend=backend)
    expected = z if z > 0 else slope * z
    assert by_keyword.output([z]) == pytest.approx(expected, abs=1e-15)
    assert by_position.output([z]) == pytest.approx(expected, abs=1e-15)
    assert by_keyword.negative_slope == slope
    assert f"negative_slope={slope}" in repr(by_keyword)


def test_neuron_default_slope_is_001_silently():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        neuron = pn.Neuron([2.0], 0.0, "leaky_relu")
    assert neuron.output([-1.0]) == pytest.approx(-0.02)     # 0.01 · (2 · -1)


def test_neuron_alpha_warns_naming_negative_slope_and_still_works():
    with pytest.warns(DeprecationWarning, match="negative_slope") as record:
        neuron = pn.Neuron([1.0], 0.0, "leaky_relu", alpha=0.25)
    assert record[0].filename == __file__              # the caller's line, not pyneuron's
    assert neuron.output([-4.0]) == pytest.approx(-1.0)


def test_neuron_both_names_is_an_error():
    with pytest.raises(ValueError, match="negative_slope and alpha"):
        pn.Neuron([1.0], 0.0, "leaky_relu", negative_slope=0.1, alpha=0.1)


@pytest.mark.parametrize("bad", [-0.5, float("nan"), float("inf"), "0.1", True])
def test_neuron_bad_slope_names_the_argument(bad):
    with pytest.raises(ValueError, match="negative_slope"):
        pn.Neuron([1.0], 0.0, "leaky_relu", negative_slope=bad)
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="alpha"):
        pn.Neuron([1.0], 0.0, "leaky_relu", alpha=bad)


def test_alpha_is_keyword_only_and_negative_slope_is_the_named_parameter():
    from pyneuron.plot import plot_activations
    for fn in (pn.Neuron, pn.MLP, plot_activations, pn.activations.apply, pn.activations.derivative):
        params = inspect.signature(fn).parameters
        assert "negative_slope" in params, fn
        assert params["alpha"].kind is inspect.Parameter.KEYWORD_ONLY, fn
        assert params["alpha"].default is None, fn


def test_the_old_attributes_warn_and_read_the_slope():
    model = pn.MLP([2, 3, 1], activation="leaky_relu", negative_slope=0.2, seed=0)
    neuron = pn.Neuron([1.0], 0.0, "leaky_relu", negative_slope=0.2)
    for owner, obj in (("MLP", model), ("Dense", model.layers[0]), ("Neuron", neuron)):
        with pytest.warns(DeprecationWarning, match=rf"{owner}\.alpha .*{owner}\.negative_slope") as record:
            assert obj.alpha == 0.2
        assert record[0].filename == __file__
        with pytest.raises(AttributeError):
            obj.alpha = 0.5                              # read-only: the slope has one name to set


@pytest.mark.parametrize("batch_norm", [False, True])
def test_training_reads_no_deprecated_name(backend, batch_norm):
    """Every backend's training path (fused plans included) reads ``negative_slope``, so a fit
    raises no DeprecationWarning, and the slope it trains with is the one given: at slope 0
    (plain ReLU) and 0.5 the fits differ."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(32, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(float)
    weights = []
    for slope in (0.0, 0.5):
        model = pn.MLP([2, 5, 1], activation="leaky_relu", negative_slope=slope, batch_norm=batch_norm,
                       seed=1, backend=backend)
        with warnings.catch_warnings():
            warnings.simplefilter("error", DeprecationWarning)
            model.fit(X, y, epochs=3, batch_size=8, lr=0.1, verbose=0)
        weights.append(model.get_weights()[0])
    assert not np.array_equal(weights[0], weights[1])


@pytest.mark.parametrize("slope", [0.0, 0.2])
def test_activation_functions_take_negative_slope(slope):
    z = np.array([-3.0, -0.5, 2.0])
    # leaky(z) = z for z > 0, slope · z otherwise; its derivative 1 or slope
    np.testing.assert_allclose(pn.activations.apply("leaky_relu", z, negative_slope=slope),
                               [-3.0 * slope, -0.5 * slope, 2.0], rtol=0, atol=1e-15)
    np.testing.assert_allclose(pn.activations.derivative("leaky_relu", z, slope), [slope, slope, 1.0],
                               rtol=0, atol=1e-15)
    with pytest.warns(DeprecationWarning, match="negative_slope"):
        old = pn.activations.apply("leaky_relu", z, alpha=slope)
    np.testing.assert_array_equal(old, pn.activations.apply("leaky_relu", z, slope))
    with pytest.raises(ValueError, match="negative_slope and alpha"):
        pn.activations.derivative("leaky_relu", z, negative_slope=slope, alpha=slope)
    with pytest.raises(ValueError, match="negative_slope"):
        pn.activations.apply("leaky_relu", z, negative_slope=-1.0)
