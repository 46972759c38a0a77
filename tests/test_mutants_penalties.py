"""pyneuron.penalties directly: which parameters a configuration penalizes (the most
specific name wins, whatever the mapping's order), when it is the classic one a fused plan
knows (``uniform``), and the value and gradient of each scaling on every backend, by hand
(issue 15 item 10: the mutation run of pyneuron/penalties.py)."""
import numpy as np
import pytest

import pyneuron as pn
from pyneuron.penalties import Penalty


def three_layers(backend="numpy"):
    return pn.MLP([2, 3, 2, 1], seed=0, backend=backend)


def test_a_float_penalizes_every_weight_matrix_and_nothing_else():
    model = three_layers()
    assert Penalty(model, l2=0.1).terms == [(0, "W", 0.0, 0.1), (1, "W", 0.0, 0.1), (2, "W", 0.0, 0.1)]
    assert Penalty(model, l1=0.2).terms == [(0, "W", 0.2, 0.0), (1, "W", 0.2, 0.0), (2, "W", 0.2, 0.0)]
    assert Penalty(model, l1=0.2, l2=0.5).terms[1] == (1, "W", 0.2, 0.5)
    assert Penalty(model, l2=0.1) and Penalty(model, l1=0.1)


def test_zero_strengths_are_no_penalty():
    model = three_layers()
    for p in (Penalty(model), Penalty(model, l1=0.0, l2=0.0), Penalty(model, l2={"W": 0.0, "b": 0.0})):
        assert p.terms == [] and not p


@pytest.mark.parametrize("name", ["l1", "l2"])
def test_strengths_are_checked(name):
    model = three_layers()
    with pytest.raises(ValueError, match=fr"{name}: expected a number >= 0.0, got -0.1"):
        Penalty(model, **{name: -0.1})
    with pytest.raises(ValueError, match=fr"{name}: expected a finite number, got nan"):
        Penalty(model, **{name: float("nan")})
    with pytest.raises(ValueError, match=fr"{name}\['W'\]: expected a number >= 0.0, got -1"):
        Penalty(model, **{name: {"W": -1}})
    for bad in (True, [0.1], "0.1", None):
        with pytest.raises(TypeError, match=fr"{name}: expected a number >= 0 or a mapping from parameter names "
                                            fr"to numbers, got {type(bad).__name__}"):
            Penalty(model, **{name: bad})
    with pytest.raises(ValueError, match=f"{name}: expected parameter names of this model"):
        Penalty(model, **{name: {"layer7": 0.1}})
    with pytest.raises(ValueError, match="penalty: expected one of 'mean', 'sum', got 'max'"):
        Penalty(model, l2=0.1, scaling="max")
    assert Penalty(model, **{name: 0.5}).terms[0][1] == "W"        # strengths below 1 are allowed
    assert Penalty(model, **{name: 2}).terms                         # an int is a number


@pytest.mark.parametrize("mapping, expected", [
    # a full name over a layer over a kind, whichever comes first in the mapping
    ({"layer0/W": 0.0, "layer0": 0.2, "W": 0.1},
     {"layer0/b": 0.2, "layer1/W": 0.1, "layer2/W": 0.1}),
    ({"W": 0.1, "layer0": 0.2, "layer0/W": 0.0},
     {"layer0/b": 0.2, "layer1/W": 0.1, "layer2/W": 0.1}),
    ({"layer1": 0.0, "W": 0.3}, {"layer0/W": 0.3, "layer2/W": 0.3}),
    ({"layer1/b": 0.4, "b": 0.0}, {"layer1/b": 0.4}),
    ({"layer2/b": 0.4, "layer2": 0.1}, {"layer2/W": 0.1, "layer2/b": 0.4}),
    ({"b": 0.5, "layer1/W": 0.25}, {"layer0/b": 0.5, "layer1/W": 0.25, "layer1/b": 0.5, "layer2/b": 0.5}),
])
def test_the_most_specific_name_wins(mapping, expected):
    terms = Penalty(three_layers(), l2=mapping).terms
    assert terms == [(int(n[5]), n.split("/")[1], 0.0, s) for n, s in expected.items()]   # model order


def test_l1_and_l2_mappings_combine_per_parameter():
    terms = Penalty(three_layers(), l1={"layer0/W": 0.1}, l2={"layer2/W": 0.2, "layer0/W": 0.3}).terms
    assert terms == [(0, "W", 0.1, 0.3), (2, "W", 0.0, 0.2)]


def test_uniform_is_only_the_classic_configuration():
    model = three_layers()
    assert Penalty(model).uniform() == (0.0, 0.0)
    assert Penalty(model, l2=0.1).uniform() == (0.0, 0.1)
    assert Penalty(model, l1=0.2, l2=0.1).uniform() == (0.2, 0.1)
    assert Penalty(model, l2={"W": 0.1}).uniform() == (0.0, 0.1)
    assert Penalty(model, l2=0.1, scaling="sum").uniform() is None
    assert Penalty(model, l2={"layer0/W": 0.1}).uniform() is None                  # not every layer
    assert Penalty(model, l2={"W": 0.1, "layer1/W": 0.2}).uniform() is None       # two strengths
    assert Penalty(model, l2={"W": 0.1, "b": 0.1}).uniform() is None              # biases too
    two = pn.MLP([2, 2, 1], seed=0)
    # as many terms as layers, one strength, but one is a bias
    assert Penalty(two, l2={"layer0/W": 0.1, "layer0/b": 0.1}).uniform() is None
    assert Penalty(two, l2={"layer0/b": 0.1, "layer1/b": 0.1}).uniform() is None


def one_layer(backend):
    model = pn.MLP([2, 1], output="linear", backend=backend)
    model.set_weights([np.array([[1.0, -2.0]]), np.array([0.5])])
    return model


# by hand: ΣW² = 5, Σ|W| = 3, b² = 0.25, |b| = 0.5
@pytest.mark.parametrize("m", [1, 4])
def test_value_of_each_scaling_by_hand(backend, kernels, m):
    model = one_layer(backend)
    assert Penalty(model, l1=0.3, l2=0.1).value(kernels, m) == pytest.approx(0.1 / (2 * m) * 5 + 0.3 / m * 3,
                                                                              rel=1e-14)
    assert Penalty(model, l1=0.3, l2=0.1, scaling="sum").value(kernels, m) == pytest.approx(0.1 * 5 + 0.3 * 3,
                                                                                             rel=1e-14)
    both = Penalty(model, l2={"W": 0.1, "b": 0.2}, scaling="sum").value(kernels, m)
    assert both == pytest.approx(0.1 * 5 + 0.2 * 0.25, rel=1e-14)
    assert Penalty(model, l2={"b": 0.2}).value(kernels, m) == pytest.approx(0.2 / (2 * m) * 0.25, rel=1e-14)


@pytest.mark.parametrize("m", [1, 4])
def test_gradients_are_added_by_hand(backend, kernels, m):
    model = one_layer(backend)
    layer = model.layers[0]
    layer.grads = {"dW": np.array([[0.5, 0.25]]), "db": np.array([1.0])}
    Penalty(model, l1=0.3, l2={"W": 0.1, "b": 0.2}).add_gradients(kernels, m)
    # "mean": λ2/m·W + λ1/m·sign(W) on W, λ2/m·b on b
    np.testing.assert_allclose(layer.grads["dW"], [[0.5 + (0.1 * 1 + 0.3) / m, 0.25 + (0.1 * -2 - 0.3) / m]],
                               rtol=1e-14)
    np.testing.assert_allclose(layer.grads["db"], [1.0 + 0.2 * 0.5 / m], rtol=1e-14)
    layer.grads = {"dW": np.array([[0.5, 0.25]]), "db": np.array([1.0])}
    Penalty(model, l1=0.3, l2=0.1, scaling="sum").add_gradients(kernels, m)
    # "sum": 2λ2·W + λ1·sign(W), whatever m
    np.testing.assert_allclose(layer.grads["dW"], [[0.5 + 0.2 + 0.3, 0.25 - 0.4 - 0.3]], rtol=1e-14)
    np.testing.assert_allclose(layer.grads["db"], [1.0])
