"""pyneuron.neuron.Neuron on its own (issue 15 item 10: the mutation run of pyneuron/neuron.py):
z and a for every activation on every backend against the formulas written out with math,
the one-weight and the empty-weights edges, the repr's slope on both sides, the deprecated
``alpha`` attribute, and the overflow error when z overflows and when only z does."""
import math
import warnings

import pytest

from pyneuron.neuron import Neuron
from pyneuron.nonfinite import NonFiniteOutputError

W, B, X = [0.2, 0.8, -0.5], -2.0, [1.0, 2.0, 3.0]
Z = 0.2 * 1.0 + 0.8 * 2.0 - 0.5 * 3.0 - 2.0          # = -1.7, negative so relu and leaky_relu differ


def by_hand(activation, z, slope=0.01):
    return {"sigmoid": 1.0 / (1.0 + math.exp(-z)), "tanh": math.tanh(z), "relu": max(z, 0.0),
            "leaky_relu": z if z > 0 else slope * z, "linear": z}[activation]


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "leaky_relu", "linear"])
def test_z_and_a_against_the_formula(backend, activation):
    n = Neuron(W, B, activation, backend=backend)
    z, a = n.pre_activation(X), n.output(X)
    assert type(z) is float and type(a) is float
    assert z == pytest.approx(-1.7, abs=1e-14)
    assert a == pytest.approx(by_hand(activation, Z), rel=1e-14, abs=1e-16)
    assert n(X) == a


@pytest.mark.parametrize("slope", [0.0, 0.3])
def test_leaky_relu_uses_its_slope(backend, slope):
    n = Neuron(W, B, "leaky_relu", negative_slope=slope, backend=backend)
    assert n.negative_slope == slope
    assert n.output(X) == pytest.approx(slope * Z, abs=1e-15)
    assert Neuron([1.0], 0.5, "leaky_relu", slope, backend=backend).output([2.0]) == 2.5


def test_defaults():
    n = Neuron([1.0, -1.0], 0.5)
    assert (n.activation, n.negative_slope, n.backend, n.bias) == ("sigmoid", 0.01, None, 0.5)
    assert n.output([2.0, 1.0]) == pytest.approx(1.0 / (1.0 + math.exp(-1.5)), rel=1e-15)


@pytest.mark.parametrize("weights, x", [([0.5], [4.0]), ([0.5, -1.0], [4.0, 1.0]),
                                        ([1.0, 2.0, 3.0, 4.0], [1.0, 1.0, 1.0, 1.0])])
def test_any_number_of_weights(backend, weights, x):
    n = Neuron(weights, 0.25, "linear", backend=backend)
    assert n.pre_activation(x) == pytest.approx(sum(w * v for w, v in zip(weights, x)) + 0.25, rel=1e-15)


def test_empty_weights_refused():
    with pytest.raises(ValueError, match=r"^weights: expected at least one weight, got none$"):
        Neuron([], 0.0)


def test_x_of_the_wrong_length_refused():
    with pytest.raises(ValueError, match=r"^x: expected length 3, got 2$"):
        Neuron(W, B).output([1.0, 2.0])


def test_repr_shows_the_slope_only_for_leaky_relu():
    assert repr(Neuron([0.5, -1.0], 2.0, "tanh")) == "Neuron(weights=[0.5, -1.0], bias=2.0, activation='tanh')"
    assert repr(Neuron([0.5], 2.0, "leaky_relu", 0.2)) == \
        "Neuron(weights=[0.5], bias=2.0, activation='leaky_relu', negative_slope=0.2)"


def test_alpha_attribute_warns_and_reads_the_slope():
    n = Neuron([1.0], 0.0, "leaky_relu", 0.3)
    with pytest.warns(DeprecationWarning, match=r"^Neuron\.alpha is deprecated") as rec:
        assert n.alpha == 0.3
    assert rec[0].filename == __file__
    with pytest.warns(DeprecationWarning, match=r"^Neuron\(alpha=\.\.\.\)") as rec:
        assert Neuron([1.0], 0.0, "leaky_relu", alpha=0.4).negative_slope == 0.4
    assert rec[0].filename == __file__


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "linear"])
def test_overflowing_z_is_an_error_even_when_a_is_finite(backend, activation):
    # z = 1e308 + 1e308 overflows to inf; sigmoid(inf) = 1 and tanh(inf) = 1 are finite, so
    # the check must look at z as well as at a.
    n = Neuron([1e308, 1e308], 0.0, activation, backend=backend)
    with pytest.raises(NonFiniteOutputError, match=r"^x: the neuron's output is not finite") as err:
        n.output([1.0, 1.0])
    assert err.value.rows == [0]
    assert "z = w·x + b = inf overflowed" in err.value.source
    assert "|x| = 1" in err.value.source and "|w| = 1e+308" in err.value.source
    with pytest.raises(NonFiniteOutputError):
        n.pre_activation([1.0, 1.0])


def test_negative_overflow_with_relu_is_an_error_too(backend):
    # z = -inf, relu(z) = 0 is finite: still an error, z is not a number one can use
    n = Neuron([-1e308, -1e308], 0.0, "relu", backend=backend)
    with pytest.raises(NonFiniteOutputError, match="= -inf overflowed"):
        n.output([1.0, 1.0])


def test_large_but_finite_is_not_an_error(backend):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        n = Neuron([1e307, 1e307], 0.0, "sigmoid", backend=backend)
        assert n.pre_activation([1.0, 1.0]) == 2e307 and n.output([1.0, 1.0]) == 1.0
