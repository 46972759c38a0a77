"""Issue 14, item 2: L1/L2 per parameter and in either scaling (``penalty="mean"|"sum"``),
``model.loss`` with the penalty, and the history's ``data_loss`` / ``penalty``.

Oracles: hand calculations, and PyTorch's per-parameter ``weight_decay`` (param groups)
on whole runs."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pyneuron as pn
from pyneuron import optimizers as O
from pyneuron.penalties import Penalty

from helpers import assert_close

X1 = np.array([[1.0, 0.0], [0.0, 1.0]])
Y1 = np.array([0.0, 0.0])


def one_layer(backend):
    model = pn.MLP([2, 1], output="linear", backend=backend)
    model.set_weights([np.array([[1.0, -2.0]]), np.array([0.5])])
    return model


# by hand: Z = [1.5, −1.5], mse = 2.25; ΣW² = 5, Σ|W| = 3, b² = 0.25, m = 2
@pytest.mark.parametrize("kwargs, expected", [
    ({}, 2.25),
    ({"l2": 0.1, "penalty": "sum"}, 2.25 + 0.1 * 5),
    ({"l2": 0.1}, 2.25 + 0.1 / (2 * 2) * 5),
    ({"l1": 0.1, "penalty": "sum"}, 2.25 + 0.1 * 3),
    ({"l1": 0.1, "penalty": "mean"}, 2.25 + 0.1 / 2 * 3),
    ({"l2": {"b": 0.2}, "penalty": "sum"}, 2.25 + 0.2 * 0.25),
    ({"l2": {"layer0": 0.2}, "penalty": "sum"}, 2.25 + 0.2 * 5.25),
    ({"l2": {"layer0": 0.2, "layer0/b": 0.0}, "penalty": "sum"}, 2.25 + 0.2 * 5),
])
def test_model_loss_includes_the_penalty_by_hand(backend, kwargs, expected):
    assert one_layer(backend).loss(X1, Y1, **kwargs) == pytest.approx(expected, rel=1e-14)


def test_one_step_of_sum_scaling_by_hand(backend):
    """dZ = 2(A − Y)/m = [1.5, −1.5], dW = [1.5, −1.5], db = 0; "sum" adds 2λW (and 2λ_b·b):
    W ← [1, −2] − 0.1·([1.5, −1.5] + [0.2, −0.4]) = [0.83, −1.81], b ← 0.5 − 0.1·0.2 = 0.48."""
    model = one_layer(backend)
    h = model.fit(X1, Y1, epochs=1, batch_size=None, lr=0.1, l2={"W": 0.1, "b": 0.2}, penalty="sum")
    assert_close(model.layers[0].W, [[0.83, -1.81]], rtol=1e-14)
    assert model.layers[0].b[0] == pytest.approx(0.48, rel=1e-14)
    assert h["penalty"][0] == pytest.approx(0.1 * 5 + 0.2 * 0.25, rel=1e-14)
    assert h["data_loss"][0] == pytest.approx(2.25, rel=1e-14)
    assert h["loss"][0] == pytest.approx(2.25 + 0.55, rel=1e-14)


def test_one_step_of_mean_scaling_with_l1_by_hand(backend):
    """"mean", l1 = 0.2, m = 2: gradient λ/m·sign(W) = [0.1, −0.1];
    W ← [1, −2] − 0.1·([1.5, −1.5] + [0.1, −0.1]) = [0.84, −1.84]."""
    model = one_layer(backend)
    model.fit(X1, Y1, epochs=1, batch_size=None, lr=0.1, l1=0.2)
    assert_close(model.layers[0].W, [[0.84, -1.84]], rtol=1e-14)


def test_the_most_specific_name_wins():
    model = pn.MLP([2, 3, 1], bias=[True, True])
    terms = Penalty(model, l2={"W": 0.1, "layer0/W": 0.0, "layer1": 0.3}, scaling="sum").terms
    assert terms == [(1, "W", 0.0, 0.3), (1, "b", 0.0, 0.3)]
    assert Penalty(model, l2=0.1).uniform() == (0.0, 0.1)
    assert Penalty(model, l2={"W": 0.1}).uniform() == (0.0, 0.1)
    assert Penalty(model, l2={"layer0/W": 0.1}).uniform() is None
    assert Penalty(model, l2=0.1, scaling="sum").uniform() is None


@pytest.mark.parametrize("kwargs, error, match", [
    ({"l2": -0.1}, ValueError, "l2"),
    ({"l1": {"W": float("nan")}}, ValueError, r"l1\['W'\]"),
    ({"l2": {"layer5/W": 0.1}}, ValueError, "l2"),
    ({"l2": {"gamma": 0.1}}, ValueError, "l2"),
    ({"l2": [0.1]}, TypeError, "l2"),
    ({"l2": 0.1, "penalty": "avg"}, ValueError, "penalty"),
])
def test_bad_penalties_are_refused_naming_the_argument(kwargs, error, match):
    model = pn.MLP([2, 3, 1])
    with pytest.raises(error, match=match):
        model.fit(X1, Y1, epochs=1, **kwargs)
    with pytest.raises(error, match=match):
        model.loss(X1, Y1, **kwargs)


@pytest.mark.parametrize("scaling", ["sum", "mean"])
@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_per_parameter_l2_matches_torch_weight_decay(backend, scaling, kind):
    """torch's weight_decay=wd adds wd·θ to θ's gradient: "sum" with λ = wd/2, or "mean"
    with λ = wd·m for batches of m."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    X = rng.normal(size=(24, 3))
    y = (X[:, 0] * X[:, 1] > 0).astype(float)
    model = pn.MLP([3, 5, 1], activation="tanh", seed=9, backend=backend)
    model.layers[0].b[...] = rng.normal(size=5)
    model.layers[1].b[...] = 0.7
    strengths = {"layer0/W": 0.05, "layer1/b": 0.4}
    m = 6
    wd = {k: (2 * v if scaling == "sum" else v / m) for k, v in strengths.items()}
    lin0, lin1 = torch.nn.Linear(3, 5).double(), torch.nn.Linear(5, 1).double()
    with torch.no_grad():
        for lin, layer in ((lin0, model.layers[0]), (lin1, model.layers[1])):
            lin.weight.copy_(torch.from_numpy(layer.W))
            lin.bias.copy_(torch.from_numpy(layer.b))
    net = torch.nn.Sequential(lin0, torch.nn.Tanh(), lin1)
    groups = [{"params": [lin0.weight], "weight_decay": wd["layer0/W"]},
              {"params": [lin1.bias], "weight_decay": wd["layer1/b"]},
              {"params": [lin0.bias, lin1.weight], "weight_decay": 0.0}]
    if kind == "adam":
        topt, opt = torch.optim.Adam(groups, lr=0.01), O.Adam(0.01)
    else:
        topt, opt = torch.optim.SGD(groups, lr=0.1, momentum=0.9), O.SGD(0.1, momentum=0.9)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y[:, None])
    for _ in range(3):
        for s in range(0, 24, m):
            topt.zero_grad()
            torch.nn.functional.binary_cross_entropy_with_logits(net(Xt[s:s + m]), yt[s:s + m]).backward()
            topt.step()
    model.fit(X, y, epochs=3, batch_size=m, shuffle=False, optimizer=opt, l2=strengths, penalty=scaling)
    for ours, theirs in ((model.layers[0].W, lin0.weight), (model.layers[0].b, lin0.bias),
                         (model.layers[1].W, lin1.weight), (model.layers[1].b, lin1.bias)):
        assert_close(ours, theirs.detach().numpy(), rtol=1e-10, atol=1e-13)


def test_history_splits_data_loss_and_penalty_on_every_backend():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 2))
    y = (X[:, 0] > 0).astype(int)
    runs = {}
    for name in pn.available_backends():
        for l2, scaling in ((0.3, "mean"), ({"layer0/W": 0.3, "b": 0.1}, "sum")):
            model = pn.MLP([2, 4, 1], seed=2, backend=name)
            h = model.fit(X, y, epochs=3, batch_size=7, optimizer=O.Adam(0.01), l2=l2, l1=0.01,
                          penalty=scaling)
            assert_close(np.add(h["data_loss"], h["penalty"]), h["loss"], rtol=1e-14)
            assert min(h["penalty"]) > 0
            runs[name, scaling] = h
    for (name, scaling), h in runs.items():
        ref = runs["numpy", scaling]
        for key in ("loss", "data_loss", "penalty"):
            assert_close(h[key], ref[key], rtol=1e-12, what=f"{name} {scaling} {key}")


def test_no_penalty_keeps_the_history_as_it_was():
    model = pn.MLP([2, 3, 1], seed=0)
    h = model.fit(X1, [0, 1], epochs=1)
    assert "penalty" not in h and "data_loss" not in h


def test_first_epoch_penalty_is_the_initial_weights_penalty_by_hand(backend):
    """Full batch: the epoch's one step is taken with the initial weights, so its penalty
    is λ·ΣW² of them ("sum"), computed here with math.fsum."""
    import math
    model = pn.MLP([2, 3, 1], seed=3, backend=backend)
    squares = math.fsum(float(w) ** 2 for layer in model.layers for w in layer.W.ravel())
    h = model.fit(X1, [0, 1], epochs=1, batch_size=None, l2=0.25, penalty="sum")
    assert h["penalty"][0] == pytest.approx(0.25 * squares, rel=1e-13)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-3, 3), min_size=6, max_size=6), st.floats(0, 2), st.floats(0, 2),
       st.integers(1, 6), st.sampled_from(["W", "b", "layer0", "layer0/W"]))
def test_both_scalings_against_fsum(values, l1, l2, m, name):
    """A family: the penalty ``model.loss`` adds equals the published formula, summed with
    math.fsum over the named arrays: λ₂·Σθ² + λ₁·Σ|θ| ("sum"), λ₂/(2m)·Σθ² + λ₁/m·Σ|θ| ("mean")."""
    import math
    model = pn.MLP([2, 2], output="linear")
    model.set_weights([np.array(values[:4]).reshape(2, 2), np.array(values[4:])])
    named = {"W": values[:4], "b": values[4:], "layer0": values, "layer0/W": values[:4]}[name]
    squares, absolutes = math.fsum(v * v for v in named), math.fsum(abs(v) for v in named)
    Xm, ym = np.ones((m, 2)), np.zeros((m, 2))
    data = model.loss(Xm, ym)
    got_sum = model.loss(Xm, ym, l1={name: l1}, l2={name: l2}, penalty="sum") - data
    got_mean = model.loss(Xm, ym, l1={name: l1}, l2={name: l2}, penalty="mean") - data
    assert got_sum == pytest.approx(l2 * squares + l1 * absolutes, rel=1e-9, abs=1e-9)
    assert got_mean == pytest.approx(l2 / (2 * m) * squares + l1 / m * absolutes, rel=1e-9, abs=1e-9)
