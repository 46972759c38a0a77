"""pyneuron.explain written out by hand (issue 15 item 10: the mutation run of pyneuron/explain.py):
the whole text of a 1-1-1 ReLU/linear step on every backend, the loss and δ lines of softmax +
cce and of two-output sigmoid + bce, the summaries of what is too big to write out (weights,
neurons, terms, samples, rows), the batch-norm lines, the number formats, and the refusals.

Every figure was worked out by hand before it was written here: e.g. the 1-1-1 net (W1 = 2,
b1 = −1, W2 = 3, b2 = 0.5, x = 1, y = 2): z1 = 1, a1 = 1, ŷ = 3.5, L = 1.5² = 2.25,
δ2 = 2(ŷ − y) = 3, dW2 = 3·a1 = 3, da1 = 3·3 = 9, dW1 = 9·x = 9, and at α = 0.1
W2 = 2.7, b2 = 0.2, W1 = 1.1, b1 = −1.9."""
from __future__ import annotations

import math

import numpy as np
import pytest

import pyneuron as pn
from pyneuron.explain import LayerExplanation, _softplus, explain, fmt, fmt_matrix, fmt_vector

MSE_TEXT = """\
Hand calculation of one training step ({backend} backend, 1 sample, learning rate α = 0.1)

FORWARD PASS
  x = [1.0000]

  Layer 1: 1 → 1, activation relu
  W[1] (row i = neuron i's weights) =
    [2.0000]
  b[1] = [-1.0000]
    z[1]_1 = 2.0000·1.0000 + -1.0000 = 1.0000
    a[1]_1 = relu(1.0000) = 1.0000

  Layer 2: 1 → 1, activation linear
  W[2] (row i = neuron i's weights) =
    [3.0000]
  b[2] = [0.5000]
    z[2]_1 = 3.0000·1.0000 + 0.5000 = 3.5000
    a[2]_1 = linear(3.5000) = 3.5000

LOSS
  L = mean of (ŷ − y)² over samples and outputs
    (3.5000 − 2.0000)² = 2.2500
  L = 2.2500

BACKWARD PASS

  da[2] = ∂L/∂a[2] = [3.0000]
  linear′(z[2]) = [1.0000]
  δ[2] = da[2] ⊙ linear′(z[2]) = [3.0000×1.0000]
  δ[2] = [3.0000]
  dW[2] = (δ[2])ᵀ·a[1]   (dW[2][i, j] = Σ over samples of δ_i·a[1]_j) =
    [3.0000]
  db[2] = Σ over samples of δ[2] = [3.0000]

  da[1] = (W[2])ᵀ·δ[2] = [9.0000]
  relu′(z[1]) = [1.0000]
  δ[1] = da[1] ⊙ relu′(z[1]) = [9.0000×1.0000]
  δ[1] = [9.0000]
  dW[1] = (δ[1])ᵀ·x   (dW[1][i, j] = Σ over samples of δ_i·x_j) =
    [9.0000]
  db[1] = Σ over samples of δ[1] = [9.0000]

UPDATE (plain gradient descent, θ ← θ − α·∂L/∂θ, α = 0.1)
  W[2]_new = W[2] − α·dW[2] =
    [2.7000]
  b[2]_new = b[2] − α·db[2] = [0.2000]
  W[1]_new = W[1] − α·dW[1] =
    [1.1000]
  b[1]_new = b[1] − α·db[1] = [-1.9000]"""


def _mse_net(backend):
    model = pn.MLP([1, 1, 1], activation="relu", output="linear", backend=backend)
    model.set_weights([np.array([[2.0]]), np.array([-1.0]), np.array([[3.0]]), np.array([0.5])])
    return model


def test_the_whole_text_of_a_relu_linear_mse_step(backend):
    e = explain(_mse_net(backend), [[1.0]], [2.0])
    assert e.text() == MSE_TEXT.format(backend=backend)
    assert str(e) == e.text() and not e.fused
    assert e.loss == 2.25 and e.lr == 0.1 and e.backend == backend
    np.testing.assert_allclose(np.concatenate([w.ravel() for w in e.updated_weights()]),
                               [1.1, -1.9, 2.7, 0.2], rtol=1e-14)
    np.testing.assert_array_equal(e.output, [[3.5]])


def test_ipython_shows_the_text():
    e = explain(_mse_net("numpy"), [[1.0]], [2.0])
    shown = []

    class Printer:
        def text(self, s):
            shown.append(s)

    e._repr_pretty_(Printer(), False)
    assert shown == [e.text()]


def _two_outputs(output):
    model = pn.MLP([1, 2], output=output, backend="numpy")
    model.set_weights([np.zeros((2, 1)), np.array([0.0, math.log(3.0)])])   # ŷ from z = [0, ln 3]
    return model


def test_softmax_cce_lines():
    # softmax(0, ln 3) = (1/4, 3/4); −log(1/4) = 1.3863, −log(3/4) = 0.2877, mean 0.8370;
    # δ = (ŷ − y)/2; dW = Σ δ·x over x = 1, 2; db = Σ δ
    e = explain(_two_outputs("softmax"), [[1.0], [2.0]], [0, 1])
    lines = e.text().splitlines()
    assert e.fused
    for line in ["Hand calculation of one training step (numpy backend, 2 samples, learning rate α = 0.1)",
                 "  x (sample 1) = [1.0000]",
                 "    a[1] (sample 1) = softmax(z[1]) = [0.2500, 0.7500]",
                 "  L = −Σ_k y_k·log(ŷ_k) per sample, averaged over samples",
                 "    true class 0: −log(0.2500) = 1.3863",
                 "    true class 1: −log(0.7500) = 0.2877",
                 "  L = 0.8370",
                 "  δ[1] = ∂L/∂z[1] = (ŷ − y)/2   (the softmax derivative cancels against the cce loss's)",
                 "    δ[1] (sample 1) = (0.2500 − 1.0000)/2, (0.7500 − 0.0000)/2 = [-0.3750, 0.3750]",
                 "    δ[1] (sample 2) = (0.2500 − 0.0000)/2, (0.7500 − 1.0000)/2 = [0.1250, -0.1250]",
                 "    [-0.1250]", "    [0.1250]",
                 "  db[1] = Σ over samples of δ[1] = [-0.2500, 0.2500]"]:
        assert line in lines, line
    assert not any(line.startswith("    a[1]_") for line in lines)      # softmax: one line per sample
    assert not any(line.startswith("(terms written out") for line in lines)


def test_two_output_sigmoid_bce_lines():
    # σ(0) = 1/2, σ(ln 3) = 3/4; the mean is over all 4 terms: (2·0.6931 + 2·0.2877)/4 = 0.4904
    e = explain(_two_outputs("sigmoid"), [[1.0], [2.0]], [[0, 1], [1, 1]])
    lines = e.text().splitlines()
    for line in ["    a[1]_1 (sample 1) = sigmoid(0.0000) = 0.5000",
                 "    a[1]_2 (sample 1) = sigmoid(1.0986) = 0.7500",
                 "  (each term from z: −log σ(z) = softplus(−z), −log(1 − σ(z)) = softplus(z), exact even "
                 "where ŷ rounds to 0 or 1)",
                 "    y = 0, ŷ = 0.5000: −log(0.5000) = 0.6931",
                 "    y = 1, ŷ = 0.7500: −log(0.7500) = 0.2877",
                 "  L = 0.4904",
                 "  δ[1] = ∂L/∂z[1] = (ŷ − y)/4   (the sigmoid derivative cancels against the bce loss's)",
                 "    δ[1] (sample 2) = (0.5000 − 1.0000)/4, (0.7500 − 1.0000)/4 = [-0.1250, -0.0625]",
                 "    [-0.1875]",
                 "  db[1] = Σ over samples of δ[1] = [0.0000, -0.1250]"]:
        assert line in lines, line


def test_bce_without_the_fused_delta_takes_the_clipped_probability():
    # an Explanation whose δ is not the fused one writes −log of the clipped probability
    e = explain(_two_outputs("sigmoid"), [[1.0]], [[0, 1]])
    e.fused = False
    e.layers[0].A = np.array([[1.0, 0.25]])         # ŷ = 1 for y = 0: log(1 − 1) clipped at 1e-12
    lines = e.text().splitlines()
    assert "    y = 0, ŷ = 1.0000: −log(0.0000) = 27.6310" in lines      # −log(1e-12) = 27.631
    assert "    y = 1, ŷ = 0.2500: −log(0.2500) = 1.3863" in lines
    assert not any(line.startswith("  (each term from z") for line in lines)


def _seed003(**kw):
    model = pn.MLP([2, 2, 1], activation="sigmoid", output="sigmoid", backend="numpy", **kw)
    model.set_weights([np.array([[0.1, 0.2], [0.3, 0.4]]), np.array([0.1, 0.2]),
                       np.array([[0.5, 0.6]]), np.array([0.3])])
    return model


def test_what_is_too_big_is_summarized():
    # two samples, one written out; one neuron of two written out; W (4 values) > 1 × 3
    e = explain(_seed003(), [[1.0, 2.0], [0.0, 1.0]], [1, 0], max_samples=1, max_neurons=1, max_terms=3)
    lines = e.text().splitlines()
    for line in ["(terms written out for the first 1 samples; every array in the record holds all of them)",
                 "  x (sample 1) = [1.0000, 2.0000]",
                 "  W[1]: 2×2 weights, from 0.1000 to 0.4000 (mean 0.2500)",
                 "  b[1] = [0.1000, … (1 more)]",
                 "    z[1]_1 (sample 1) = 0.1000·1.0000 + 0.2000·2.0000 + 0.1000 = 0.6000",
                 "    … 1 more neurons: z from 1.3000 to 1.3000",       # 0.3 + 0.8 + 0.2
                 "    a[1]_1 (sample 1) = sigmoid(0.6000) = 0.6457",
                 "    … 1 more neurons: a from 0.7858 to 0.7858",       # σ(1.3)
                 "  W[2] (row i = neuron i's weights) =",                 # 2 values <= 1 × 3
                 "    [0.5000, … (1 more)]",
                 # da1 = W2ᵀ·δ2 = (0.5, 0.6)·(σ(1.0943) − 1)/2 = (−0.0627, −0.0752); σ′(0.6) = 0.2288
                 "  δ[1] (sample 1) = da[1] ⊙ sigmoid′(z[1]) = [-0.0627×0.2288] …",
                 "    … (1 more rows)"]:
        assert line in lines, line
    assert "  x (sample 2) = [0.0000, 1.0000]" not in lines
    assert not any("(sample 2)" in line for line in lines)


def test_batch_norm_lines():
    # z1 per sample: (0.5, 1.1) and (0.2, 0.4); over two samples ẑ = ±d/√(d² + ε), d = half the gap:
    # 0.15/√(0.0225 + 1e-5) = 0.9998, 0.35/√(0.1225 + 1e-5) = 1.0000
    model = pn.MLP([2, 2, 1], activation="sigmoid", batch_norm=True, backend="numpy")
    model.set_weights([np.array([[0.1, 0.2], [0.3, 0.4]]), np.array([[0.5, 0.6]]), np.array([0.3])])
    e = explain(model, [[1.0, 2.0], [0.0, 1.0]], [1, 0])
    lines = e.text().splitlines()
    for line in ["    batch norm: ẑ[1] (sample 1) = γ·(z − μ)/√(σ² + ε) + β = [0.9998, 1.0000]",
                 "    a[1]_1 (sample 1) = sigmoid(0.9998) = 0.7310",
                 "    a[1]_2 (sample 2) = sigmoid(-1.0000) = 0.2689",
                 "  (that is ∂L/∂ẑ; back through batch norm, ∂L/∂z[1] =)"]:
        assert line in lines, line
    assert e.layers[0].Z_normalized is not None and e.layers[1].Z_normalized is None
    assert lines.count("  (that is ∂L/∂ẑ; back through batch norm, ∂L/∂z[1] =)") == 2
    np.testing.assert_allclose(e.layers[0].Z, [[0.5, 1.1], [0.2, 0.4]], rtol=1e-14)   # the linear part


def test_a_layer_without_bias_keeps_b_zero():
    model = pn.MLP([2, 2, 1], activation="tanh", bias=False, seed=0, backend="numpy")
    e = explain(model, [[1.0, 2.0]], [1])
    for layer in e.layers:
        assert not layer.b.any() and not layer.db.any() and not layer.b_new.any()
    np.testing.assert_allclose(e.layers[0].W_new, e.layers[0].W - 0.1 * e.layers[0].dW, rtol=1e-14)


# ------------------------------------------------------------------ formats
def test_number_formats():
    assert fmt(-1e-9) == "0.0000" and fmt(-0.00005) == "-0.0001" and fmt(2.5) == "2.5000"
    assert fmt_vector([1, 2, 3], limit=3) == "[1.0000, 2.0000, 3.0000]"
    assert fmt_vector([1, 2, 3], limit=2) == "[1.0000, 2.0000, … (1 more)]"
    assert fmt_matrix([[1, 2], [3, 4], [5, 6]], indent="  ", limit=2) == (
        "  [1.0000, 2.0000]\n  [3.0000, 4.0000]\n  … (1 more rows)")
    assert fmt_matrix([1, 2]) == "    [1.0000, 2.0000]"


@pytest.mark.parametrize("z", [-800.0, -3.0, 0.0, 2.0, 800.0])
def test_softplus(z):
    expected = z + math.log1p(math.exp(-z)) if z > 0 else math.log1p(math.exp(z))
    assert _softplus(z) == pytest.approx(expected, rel=1e-15, abs=1e-300)


def _layer(W, x, b):
    W, x = np.array([W], float), np.array([x], float)
    Z = x @ W.T + b
    return LayerExplanation(1, "linear", x, W, np.array([b]), Z, Z, None, None, Z, W, np.array([b]), W,
                            np.array([b]))


def test_z_equation_sums_the_middle_terms_beyond_max_terms():
    layer = _layer([1.0] * 10, list(range(1, 11)), 0.5)           # products 1, 2, …, 10; z = 55.5
    assert layer.z_equation(0, 0, max_terms=4) == (
        "1.0000·1.0000 + 1.0000·2.0000 + (42.0000 from 7 more terms) + 1.0000·10.0000 + 0.5000 = 55.5000")
    assert layer.z_equation(0, 0, max_terms=10).count("·") == 10
    assert layer.z_equation(0, 0, max_terms=9).count("from 2 more terms") == 1   # 3..9: 7 shown, 8+9 summed
    assert (layer.n_in, layer.n_out) == (10, 1)


# ------------------------------------------------------------------ refusals
def _tiny():
    return _mse_net("numpy"), np.array([[1.0], [2.0], [3.0]]), np.array([1.0, 2.0, 3.0])


@pytest.mark.parametrize("sample, rows", [(-3, [1.0]), (2, [3.0]), (np.int64(1), [2.0]), (slice(1, None), [2.0, 3.0])])
def test_sample_selects_rows(sample, rows):
    model, X, y = _tiny()
    assert explain(model, X, y, sample=sample).X.ravel().tolist() == rows


@pytest.mark.parametrize("sample, error, message", [
    (3, ValueError, r"sample: expected a row index below 3, got 3"),
    (-4, ValueError, r"sample: expected a row index below 3, got -4"),
    (slice(5, 9), ValueError, r"sample: the slice slice\(5, 9, None\) selects no rows of X"),
    ("first", TypeError, r"sample: expected None, an int or a slice, got str")])
def test_bad_sample(sample, error, message):
    model, X, y = _tiny()
    with pytest.raises(error, match=message):
        explain(model, X, y, sample=sample)


@pytest.mark.parametrize("kwargs, name", [({"lr": 0.0}, "lr"), ({"max_samples": 0}, "max_samples"),
                                          ({"max_neurons": 0}, "max_neurons"), ({"max_terms": 2}, "max_terms")])
def test_bad_limits(kwargs, name):
    model, X, y = _tiny()
    with pytest.raises(ValueError, match=name):
        explain(model, X, y, **kwargs)


def test_smallest_limits_accepted():
    model, X, y = _tiny()
    e = explain(model, X, y, lr=1e-9, max_samples=1, max_neurons=1, max_terms=3)
    assert (e.max_samples, e.max_neurons, e.max_terms, e.lr) == (1, 1, 3, 1e-9)


def test_the_default_limits_are_four_samples_eight_neurons_eight_terms():
    model = pn.MLP([9, 9, 1], activation="tanh", seed=0, backend="numpy")
    X = np.arange(45.0).reshape(5, 9) / 45
    text = explain(model, X, [0, 1, 0, 1, 0]).text()
    assert "(terms written out for the first 4 samples; every array in the record holds all of them)" in text
    assert "(sample 4)" in text and "(sample 5)" not in text
    assert "    z[1]_8 (sample 1) = " in text and "    z[1]_9 (sample 1)" not in text
    assert "    … 1 more neurons: z from " in text
    assert "from 2 more terms)" in text                      # 9 products: 6 + (2 summed) + the last
    assert "  W[1]: 9×9 weights, from " in text              # 81 > 8 × 8
    fits = pn.MLP([8, 8, 1], activation="tanh", seed=0, backend="numpy")
    text = explain(fits, np.ones((4, 8)), [0, 1, 0, 1]).text()
    assert "terms written out" not in text and "more neurons" not in text and "more terms" not in text
    assert "  W[1] (row i = neuron i's weights) =" in text    # 64 = 8 × 8 values: written out


def test_a_matrix_of_exactly_limit_rows_is_written_whole():
    assert fmt_matrix([[1], [2]], limit=2) == "    [1.0000]\n    [2.0000]"


def test_weights_of_exactly_max_neurons_times_max_terms_are_written_out():
    model = pn.MLP([3, 2, 1], activation="tanh", seed=0, backend="numpy")
    text = explain(model, [[1.0, 2.0, 3.0]], [1], max_neurons=2, max_terms=3).text()
    assert "  W[1] (row i = neuron i's weights) =" in text      # 6 = 2 × 3 values
    text = explain(model, [[1.0, 2.0, 3.0]], [1], max_neurons=1, max_terms=3).text()
    assert "  W[1]: 2×3 weights, from " in text                 # 6 > 1 × 3


def test_one_softmax_sample_is_not_divided():
    # cce averages over samples only: one sample of two classes -> δ = ŷ − y, no "/2"
    lines = explain(_two_outputs("softmax"), [[1.0]], [1]).text().splitlines()
    assert "  δ[1] = ∂L/∂z[1] = (ŷ − y)   (the softmax derivative cancels against the cce loss's)" in lines
    assert "    δ[1] = (0.2500 − 0.0000), (0.7500 − 1.0000) = [0.2500, -0.2500]" in lines


def test_a_layer_of_exactly_max_neurons_has_no_ellipsis():
    lines = explain(_mse_net("numpy"), [[1.0]], [2.0], max_neurons=1).text().splitlines()
    assert "  δ[2] = da[2] ⊙ linear′(z[2]) = [3.0000×1.0000]" in lines
    assert "  δ[1] = da[1] ⊙ relu′(z[1]) = [9.0000×1.0000]" in lines
