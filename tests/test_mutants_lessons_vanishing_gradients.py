"""Lesson 09 (pyneuron.lessons.vanishing_gradients) beyond test_examples' ratios, for the
mutation run (.ci/mutation.py pyneuron/lessons/vanishing_gradients.py, issue 15 item 10):
the stack is the one its heading names (10 layers of 64 on 64 samples with --fast, 256
without, 20 features, label x₀ + x₁ > 0), each layer's ‖dW‖ equals backpropagation written
out in NumPy from the same initial weights, and the table, ratios and figure show them."""
from __future__ import annotations

import numpy as np
import pytest

import pyneuron as pn
from pyneuron.lessons import vanishing_gradients

from helpers import require_backend
from lesson_oracle import gradients, initial_weights

SIZES = [20, 64, 64, 64, 64, 64, 64, 64, 64, 64, 1]


def norms(n):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 20))
    y = (X[:, 0] + X[:, 1] > 0).astype(float)[:, None]
    out = {}
    for key, hidden, init in (("sigmoid (Xavier)", "sigmoid", "xavier_normal"), ("ReLU (He)", "relu", "he_normal")):
        start = initial_weights(pn.MLP(SIZES, activation=hidden, output="sigmoid", init=init, seed=0))
        _, grads = gradients(start, [hidden] * 9 + ["sigmoid"], "bce", X, y)
        out[key] = [float(np.linalg.norm(dW)) for dW, _ in grads]
    return out


@pytest.fixture
def figures(monkeypatch):
    saved = []
    monkeypatch.setattr(vanishing_gradients, "save", lambda args, name, draw: saved.append((name, draw("P"))))
    monkeypatch.setattr(vanishing_gradients.plot, "plot_curves", lambda *a, **k: (a, k))
    return saved


@pytest.mark.parametrize("backend", ["numpy", "c"])
def test_each_layers_gradient_norm_is_backpropagation_by_the_formulas(backend, capsys, figures):
    require_backend(backend)
    r = vanishing_gradients.main(["--fast", "--backend", backend])
    want = norms(64)
    s, rl = want["sigmoid (Xavier)"], want["ReLU (He)"]
    assert r["sigmoid"] == pytest.approx(s, rel=1e-9) and r["relu"] == pytest.approx(rl, rel=1e-9)
    out = capsys.readouterr().out.splitlines()
    assert "10 layers of 64: gradient norm ‖dW‖ per layer on 64 random samples" in out
    header = out.index(f"  {'layer':>5} {'sigmoid (Xavier)':>18} {'ReLU (He)':>18}")
    assert out[header + 1:header + 11] == [f"  {i + 1:>5} {s[i]:18.3e} {rl[i]:18.3e}" for i in range(10)]
    assert out[header + 11] == ""
    assert out[header + 12] == f"  first layer / last layer: sigmoid {s[0] / s[-1]:.1e}, ReLU {rl[0] / rl[-1]:.1e}"
    assert out[header + 13] == f"  the first layer's gradient is {rl[0] / s[0]:.0f}× larger with ReLU and He initialization"
    [(name, ((curves,), kwargs))] = figures
    assert name == "gradient_norms.png"
    assert curves == {"sigmoid (Xavier)": r["sigmoid"], "ReLU (He)": r["relu"]}
    assert kwargs == {"path": "P", "log": True, "xlabel": "layer", "ylabel": "‖dW‖", "title": "gradient norm by layer"}


def test_the_full_setting_uses_256_samples(capsys, figures):
    r = vanishing_gradients.main(["--backend", "c" if "c" in pn.backends.available() else "numpy"])
    assert "on 256 random samples" in capsys.readouterr().out
    want = norms(256)
    assert r["sigmoid"] == pytest.approx(want["sigmoid (Xavier)"], rel=1e-9)
    assert r["relu"] == pytest.approx(want["ReLU (He)"], rel=1e-9)


def test_the_ratios_printed_are_first_over_last_and_relu_over_sigmoid(capsys, figures, monkeypatch):
    # made-up norms whose every ratio differs, so a ratio of the wrong layers shows
    made_up = iter([[1e-6 * 3 ** i for i in range(10)], [0.5 + 0.25 * i for i in range(10)]])
    monkeypatch.setattr(vanishing_gradients, "layer_gradient_norms", lambda model, X, y: next(made_up))
    r = vanishing_gradients.main(["--fast", "--backend", "numpy"])
    s, rl = r["sigmoid"], r["relu"]
    assert (s[0], s[-1], rl[0], rl[-1]) == (1e-6, 1e-6 * 3 ** 9, 0.5, 2.75)
    out = capsys.readouterr().out.splitlines()
    assert f"  first layer / last layer: sigmoid {1 / 3 ** 9:.1e}, ReLU {0.5 / 2.75:.1e}" in out
    assert f"  the first layer's gradient is {0.5 / 1e-6:.0f}× larger with ReLU and He initialization" in out
