"""compare_backends and ``pyneuron compare`` (issue 12, item 4): each planted mistake is
localized to its kernel, layer and index; pyneuron's own engines agree; float32 drift is
measured step by step.

Oracles: the planted mistakes are known by construction (tests/engines_planted.py); the
first differing values are recomputed here with NumPy from the model's weights and the
batch rows (drawn from the same seed), and batch norm's ratio sqrt((m-1)/m) by hand."""
from __future__ import annotations

import copy
import math

import numpy as np
import pytest

import pyneuron as pn
from pyneuron import backends
from pyneuron.cli import main
from pyneuron.compare import compare_backends

from engines_planted import PLANTED
from helpers import require_backend

M = 12


def _data(scale=1.0):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(M, 3)) * scale
    return X, (X[:, 0] > 0).astype(int), rng.integers(0, 3, M)


@pytest.fixture
def planted():
    def register(bug):
        backend, _, arch = PLANTED[bug]
        pn.register_backend("planted", backend)
        return pn.MLP(seed=0, **arch)
    yield register
    if "planted" in backends.names():
        backends.unregister_backend("planted")


# (kernel, layer, output) each mistake must be found in, at step 0
WHERE = {
    "sign": ("activation_backward", 0, 0),
    "transpose": ("linear_forward", 0, 0),
    "off_by_one": ("linear_backward", 1, 2),
    "unbiased_variance": ("batchnorm_forward", 0, 0),
    "float32_accumulation": ("linear_forward", 0, 0),
}


@pytest.mark.parametrize("bug", sorted(WHERE))
def test_each_planted_mistake_is_localized(planted, bug):
    model = planted(bug)
    X, y, _ = _data()
    result = compare_backends(model, X, y, backends=("numpy", "planted"), steps=3, batch_size=6)
    d = result.divergences["planted"]
    assert (d.kernel, d.layer, d.output, d.step) == (*WHERE[bug], 0)
    assert not d.inputs_differed
    assert result.first is d
    assert f"first differs at step 0, layer {d.layer}, kernel {d.kernel}" in str(result)


def _first_batch(X, batch=6, seed=0):
    return X[np.random.default_rng(seed).permutation(len(X))[:batch]]


def _first_index(expected, actual, rtol=1e-10):
    """The first (row-major) index where ``actual`` is not within ``rtol`` of ``expected``."""
    bad = ~np.isclose(actual, expected, rtol=rtol, atol=rtol * np.abs(expected).max())
    return tuple(int(i) for i in np.argwhere(bad)[0])


def _index_by_hand(bug, model, X, y):
    """The array index of the first difference at step 0, recomputed with NumPy: the right
    formula and the planted one on the first batch (rows drawn from seed 0, as compare does)."""
    rows = np.random.default_rng(0).permutation(len(X))[:6]
    Xb, yb = X[rows], y[rows].reshape(-1, 1).astype(float)
    W0, b0 = model.layers[0].W, model.layers[0].b
    Z0 = Xb @ W0.T + b0
    if bug == "transpose":
        return _first_index(Z0, Xb @ W0 + b0)
    if bug == "float32_accumulation":
        return _first_index(Z0, (Xb.astype(np.float32) @ W0.T.astype(np.float32)).astype(float) + b0)
    if bug == "unbiased_variance":
        centred = Z0 - Z0.mean(axis=0)
        eps = model.layers[0].bn_eps
        return _first_index(centred / np.sqrt(Z0.var(axis=0) + eps), centred / np.sqrt(Z0.var(axis=0, ddof=1) + eps))
    A0 = np.tanh(Z0)
    W1, b1 = model.layers[1].W, model.layers[1].b
    out = 1 / (1 + np.exp(-(A0 @ W1.T + b1)))
    dZ1 = (out - yb) / out.size                      # sigmoid + bce: (A - Y)/N
    if bug == "off_by_one":
        return _first_index(dZ1.sum(axis=0), dZ1[:-1].sum(axis=0))
    dA0 = dZ1 @ W1                                   # sign: tanh' = 1 - a², planted a² - 1
    return _first_index(dA0 * (1 - A0 ** 2), dA0 * (A0 ** 2 - 1))


@pytest.mark.parametrize("bug", sorted(WHERE))
def test_each_planted_mistake_is_localized_to_its_index(planted, bug):
    model = planted(bug)
    X, y, _ = _data()
    d = compare_backends(model, X, y, backends=("numpy", "planted"), steps=1, batch_size=6).divergences["planted"]
    assert d.index == _index_by_hand(bug, model, X, y)


def test_softmax_without_the_row_max_is_localized_to_an_overflowing_logit(planted):
    """exp(z) overflows past z = log(max float) ≈ 709.78: that row's probabilities become nan."""
    model = planted("softmax_no_max")
    X, _, labels = _data(scale=1000.0)              # logits past 709.78 from the first step
    d = compare_backends(model, X, labels, backends=("numpy", "planted"), steps=1).divergences["planted"]
    assert (d.step, d.layer, d.kernel) == (0, 1, "activation_forward")
    rows = np.random.default_rng(0).permutation(len(X))
    L0, L1 = model.layers
    Z1 = np.maximum(X[rows] @ L0.W.T + L0.b, 0) @ L1.W.T + L1.b       # relu hidden layer, then logits
    overflowing = np.flatnonzero(Z1.max(axis=1) > np.log(np.finfo(np.float64).max))
    assert d.index[0] == overflowing[0]
    assert Z1[d.index] > np.log(np.finfo(np.float64).max)              # its own exp overflowed


def test_sign_values(planted):
    model = planted("sign")
    X, y, _ = _data()
    d = compare_backends(model, X, y, backends=("numpy", "planted"), steps=1).divergences["planted"]
    assert d.actual == -d.expected != 0.0 and d.index == (0, 0)


def test_transpose_values_are_the_two_index_orders(planted):
    model = planted("transpose")
    X, y, _ = _data()
    d = compare_backends(model, X, y, backends=("numpy", "planted"), steps=1, batch_size=6).divergences["planted"]
    W, b, x = model.layers[0].W, model.layers[0].b, _first_batch(X)[0]
    s, i = d.index
    assert d.expected == pytest.approx(math.fsum(W[i, j] * x[j] for j in range(3)) + b[i], rel=1e-14)
    assert d.actual == pytest.approx(math.fsum(W[j, i] * x[j] for j in range(3)) + b[i], rel=1e-14)


def test_unbiased_variance_scales_by_sqrt_m_minus_1_over_m(planted):
    model = planted("unbiased_variance")
    X, y, _ = _data()
    d = compare_backends(model, X, y, backends=("numpy", "planted"), steps=1, batch_size=6).divergences["planted"]
    # gamma = 1, beta = 0 at the start, so Y = Zhat = (z - mean)/sqrt(var + eps)
    assert d.actual / d.expected == pytest.approx(math.sqrt(5 / 6), rel=1e-3)


def test_float32_accumulation_is_a_float32_sized_difference(planted):
    model = planted("float32_accumulation")
    X, y, _ = _data()
    d = compare_backends(model, X, y, backends=("numpy", "planted"), steps=1).divergences["planted"]
    assert 0 < abs(d.actual - d.expected) <= 1e-6 * abs(d.expected) + 1e-7
    assert 2 ** 20 < d.ulps < 2 ** 40                  # far beyond float64 rounding, float32's size


def test_softmax_without_the_row_max_overflows_at_the_output(planted):
    model = planted("softmax_no_max")
    X, _, labels = _data(scale=300.0)
    d = compare_backends(model, X, labels, backends=("numpy", "planted"), steps=3).divergences["planted"]
    assert (d.kernel, d.layer) == ("activation_forward", 1)
    assert math.isnan(d.actual) and math.isfinite(d.expected) and d.ulps is None


def test_a_kernel_that_raises_is_reported_where_it_raised(planted):
    model = planted("transpose")
    model = pn.MLP([3, 2, 1], activation="tanh", seed=0)     # a 2x3 W: the swapped index overruns
    X, y, _ = _data()
    d = compare_backends(model, X, y, backends=("numpy", "planted"), steps=2).divergences["planted"]
    assert d.kernel == "linear_forward" and d.layer == 0
    assert d.error.startswith("IndexError")


@pytest.mark.parametrize("kw", [dict(), dict(batch_norm=True, dropout=0.3), dict(output="softmax")])
def test_pyneurons_engines_agree(kw):
    names = [n for n in ("scalar", "numpy", "c") if n in pn.available_backends()]
    require_backend("c")
    X, y, labels = _data()
    model = pn.MLP([3, 5, 3 if kw.get("output") == "softmax" else 1], activation="tanh", seed=1, **kw)
    result = compare_backends(model, X, labels if kw.get("output") == "softmax" else y, backends=names,
                              steps=3, batch_size=6, optimizer="adam", lr=0.01)
    assert result.first is None
    for name in names[1:]:
        assert len(result.growth[name]) == 3
        assert all(rel < 1e-12 for _, _, rel, _ in result.growth[name])
        assert "agrees with scalar at every kernel call" in str(result)


def test_float32_drift_is_measured_and_starts_at_the_first_product():
    X, y, _ = _data()
    model = pn.MLP([3, 4, 1], activation="tanh", seed=0)
    before = copy.deepcopy(model.get_weights())
    result = compare_backends(model, X, y, backends=("numpy", "numpy:float32"), steps=3)
    assert result.rtol == 1e-4 and result.first is None
    rels = [rel for _, _, rel, _ in result.growth["numpy:float32"]]
    assert all(1e-9 < r < 1e-4 for r in rels)          # float32's rounding, nothing worse
    strict = compare_backends(model, X, y, backends=("numpy", "numpy:float32"), steps=1, rtol=1e-12)
    d = strict.divergences["numpy:float32"]
    assert (d.step, d.layer, d.kernel) == (0, 0, "linear_forward") and d.inputs_differed
    for a, b in zip(before, model.get_weights()):      # the model given is not trained
        np.testing.assert_array_equal(a, b)


def test_bad_arguments():
    model = pn.MLP([3, 2, 1], seed=0)
    X, y, _ = _data()
    with pytest.raises(ValueError, match="backends: expected two or more distinct backend names"):
        compare_backends(model, X, y, backends=("numpy",))
    with pytest.raises(ValueError, match="backends: expected two or more distinct"):
        compare_backends(model, X, y, backends=("numpy", "numpy"))
    with pytest.raises(ValueError, match="backend: expected one of .*got 'gpu'"):
        compare_backends(model, X, y, backends=("numpy", "gpu"))
    with pytest.raises(ValueError, match="steps"):
        compare_backends(model, X, y, backends=("numpy", "scalar"), steps=0)
    with pytest.raises(ValueError, match="dtype"):
        compare_backends(model, X, y, backends=("numpy", "numpy:float16"))


def test_the_command(capsys):
    assert main(["compare", "--backends", "scalar,numpy", "--steps", "2", "--samples", "20"]) == 0
    out = capsys.readouterr().out
    assert "numpy: agrees with scalar at every kernel call" in out and "after step 1" in out
    try:
        status = main(["compare", "--plugin", "engines_planted:SignBug=planted", "--backends", "numpy,planted",
                       "--steps", "1", "--samples", "20"])
    finally:
        backends.unregister_backend("planted")
    assert status == 1
    assert "planted: first differs at step 0, layer 0, kernel activation_backward" in capsys.readouterr().out
    assert main(["compare", "--backends", "numpy,gpu"]) == 2
    assert "pyneuron compare: error: backend: expected one of" in capsys.readouterr().err
    assert main(["compare", "--plugin", "nothing"]) == 2
    assert "--plugin: expected MODULE:ATTR" in capsys.readouterr().err


def test_a_plugin_backend_is_usable_by_name_on_every_command(capsys):
    try:
        status = main(["--plugin", "engines_planted:OffByOneBug=mine", "train", "--backend", "mine",
                       "--epochs", "2", "--samples", "40"])
        assert status == 0
        assert "backend mine" in capsys.readouterr().out
        assert pn.backend_report("mine").own == ["linear_backward"]
    finally:
        backends.unregister_backend("mine")
    assert main(["--plugin", "engines_planted:Nope", "train"]) == 2
    assert "pyneuron: error: --plugin: module 'engines_planted' has no attribute 'Nope'" in capsys.readouterr().err


def test_a_plugin_backend_runs_a_lesson(capsys):
    """`pyneuron lessons N --backend mine`: the lesson's own parser accepts registered names
    (it listed only the three built-ins). With the planted sign bug XOR does not learn."""
    try:
        status = main(["--plugin", "engines_planted:SignBug=mine", "lessons", "03", "--backend", "mine",
                       "--fast"])
        out = capsys.readouterr().out
    finally:
        backends.unregister_backend("mine")
    assert status == 0
    assert "accuracy 50%" in out
