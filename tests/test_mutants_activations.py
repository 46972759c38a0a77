"""pyneuron.activations.apply / derivative on numbers, vectors and matrices, on every
backend, against the formulas of the module's table written out with NumPy; the name and
input checks on both sides (issue 15 item 10: the mutation run of pyneuron/activations.py)."""
import numpy as np
import pytest

import pyneuron as pn
from pyneuron import activations
from pyneuron.backends.base import ACTIVATIONS

Z = np.array([[-2.0, -0.5, 0.0, 0.25, 3.0], [1.0, -1.0, 2.0, -3.0, 0.5]])


def forward(name, z, slope=0.01):
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.where(z > 0, z, 0.0)
    if name == "leaky_relu":
        return np.where(z > 0, z, slope * z)
    if name == "linear":
        return z
    e = np.exp(z - z.max(axis=-1, keepdims=True))          # softmax, per row
    return e / e.sum(axis=-1, keepdims=True)


def slope_of(name, z, slope=0.01):
    a = forward(name, z, slope)
    return {"sigmoid": a * (1 - a), "tanh": 1 - a ** 2, "relu": np.where(z > 0, 1.0, 0.0),
            "leaky_relu": np.where(z > 0, 1.0, slope), "linear": np.ones_like(z),
            "softmax": a * (1 - a)}[name]


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_apply_and_derivative_of_a_matrix(backend, name):
    with pn.use_backend(backend):
        np.testing.assert_allclose(activations.apply(name, Z), forward(name, Z), rtol=1e-14, atol=1e-300)
        np.testing.assert_allclose(activations.derivative(name, Z), slope_of(name, Z), rtol=1e-13, atol=1e-300)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "leaky_relu", "linear"])
def test_numbers_and_vectors_keep_their_shape(backend, name):
    with pn.use_backend(backend):
        a = activations.apply(name, -0.5)
        assert a.shape == () and a == pytest.approx(forward(name, np.float64(-0.5)), rel=1e-14)
        d = activations.derivative(name, 0.25)
        assert d.shape == () and d == pytest.approx(slope_of(name, np.float64(0.25)), rel=1e-14)
        v = activations.apply(name, [-1.0, 2.0, 0.5])
        assert v.shape == (3,)
        np.testing.assert_allclose(v, forward(name, np.array([-1.0, 2.0, 0.5])), rtol=1e-14)
        assert activations.derivative(name, [1.0, -1.0]).shape == (2,)


def test_softmax_of_a_vector_is_one_row(backend):
    with pn.use_backend(backend):
        a = activations.apply("softmax", [0.0, np.log(3.0)])
        np.testing.assert_allclose(a, [0.25, 0.75], rtol=1e-14)
        np.testing.assert_allclose(activations.derivative("softmax", [0.0, np.log(3.0)]),
                                   [0.1875, 0.1875], rtol=1e-14)          # a (1 − a) by hand


def test_leaky_relu_slope(backend):
    with pn.use_backend(backend):
        assert activations.apply("leaky_relu", -2.0) == pytest.approx(-0.02)             # default 0.01
        assert activations.apply("leaky_relu", -2.0, negative_slope=0.3) == pytest.approx(-0.6)
        assert activations.derivative("leaky_relu", -2.0, negative_slope=0.3) == pytest.approx(0.3)
        assert activations.derivative("leaky_relu", 2.0, negative_slope=0.3) == 1.0


def test_integers_and_booleans_are_numbers():
    np.testing.assert_allclose(activations.apply("relu", [[-1, 2]]), [[0.0, 2.0]])
    np.testing.assert_allclose(activations.apply("linear", [True, False]), [1.0, 0.0])
    assert activations.apply("linear", np.array([[3]], dtype=np.int8)).dtype == np.float64


@pytest.mark.parametrize("bad", ["sigmod", "Sigmoid", None, 3, ["relu"]])
def test_unknown_names_are_refused(bad):
    for fn in (activations.apply, activations.derivative):
        with pytest.raises(ValueError, match=r"name: expected one of 'sigmoid', .*, got " + repr(repr(bad))[1:-1]
                           .replace("[", r"\[").replace("]", r"\]")):
            fn(bad, 1.0)


def test_check_activation_with_a_narrower_choice():
    assert activations.check_activation("relu", "hidden", activations.HIDDEN_ACTIVATIONS) == "relu"
    with pytest.raises(ValueError, match="hidden: expected one of 'sigmoid', 'tanh', 'relu', 'leaky_relu', "
                                         "'linear', got 'softmax'"):
        activations.check_activation("softmax", "hidden", activations.HIDDEN_ACTIVATIONS)
    assert activations.check_activation("softmax") == "softmax"


@pytest.mark.parametrize("bad", [1 + 2j, np.array([1.0, 2j]), "1.0", ["a", "b"], [[1.0, 2.0], [3.0]], {"z": 1},
                                 np.array([1, "x"], dtype=object)])
def test_non_numbers_are_refused(bad):
    for fn in (activations.apply, activations.derivative):
        with pytest.raises(TypeError, match="z: expected a real number or an array of real numbers, got "):
            fn("relu", bad)


def test_more_than_two_dimensions_are_refused():
    for fn in (activations.apply, activations.derivative):
        with pytest.raises(ValueError, match=r"z: expected a number, a vector or a matrix, got shape \(1, 2, 2\)"):
            fn("relu", np.zeros((1, 2, 2)))
