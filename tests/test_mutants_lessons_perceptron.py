"""Lesson 08 (pyneuron.lessons.perceptron) beyond test_examples' accuracies, for the mutation
run (.ci/mutation.py pyneuron/lessons/perceptron.py, issue 15 item 10): each gate's neuron is
the one its heading names (one sigmoid unit, seed 0, full-batch gradient descent at lr 1.0 for
1000 epochs with --fast, 5000 without) — its weights and bias equal gradient descent written
out in NumPy from the same start — and the lines and figures it prints show them."""
from __future__ import annotations

import numpy as np
import pytest

import pyneuron as pn
from pyneuron.lessons import perceptron

from helpers import require_backend
from lesson_oracle import gradient_descent, initial_weights

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
GATES = {"AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1], "XOR": [0, 1, 1, 0]}


def trained(targets, epochs):
    start = initial_weights(pn.MLP([2, 1], output="sigmoid", seed=0))
    [(W, b)], _, proba = gradient_descent(start, ["sigmoid"], "bce", X, np.array(targets)[:, None], 1.0, epochs)
    return W[0], b[0], proba[:, 0]


@pytest.fixture
def figures(monkeypatch):
    saved = []
    monkeypatch.setattr(perceptron, "save", lambda args, filename, draw: saved.append((filename, draw("PATH"))))
    monkeypatch.setattr(perceptron.plot, "plot_decision_boundary", lambda *a, **k: (a, k))
    monkeypatch.setenv("PYNEURON_PROGRESS", "0")
    return saved


@pytest.mark.parametrize("backend", ["numpy", "c"])
def test_each_gate_is_one_sigmoid_neuron_trained_as_the_heading_says(backend, figures, capsys):
    require_backend(backend)
    r = perceptron.main(["--fast", "--backend", backend])
    out = capsys.readouterr().out
    assert "One sigmoid neuron, full-batch gradient descent at lr 1.0, 1000 epochs" in out
    assert list(r) == list(GATES)
    for (gate, targets), (filename, (args, kwargs)) in zip(GATES.items(), figures):
        w, b, proba = trained(targets, 1000)
        np.testing.assert_allclose(r[gate]["weights"], w, rtol=1e-9, atol=1e-12)
        assert r[gate]["bias"] == pytest.approx(b, rel=1e-9, abs=1e-12)
        predicted = (proba >= 0.5).astype(int)
        assert r[gate]["accuracy"] == np.mean(predicted == targets)
        line = f"  {gate:<4} targets {targets}  predicts "
        assert line in out
        if gate != "XOR":       # XOR's weights end within rounding of 0: only its accuracy is sure
            assert f"{line}{predicted.tolist()}  accuracy {r[gate]['accuracy']:.0%}   " \
                   f"z = {w[0]:.2f}·x₁ + {w[1]:.2f}·x₂ + {b:.2f}" in out
        assert filename == f"perceptron_{gate.lower()}.png"
        model, X_drawn, y_drawn = args
        np.testing.assert_allclose(model.predict_proba(X), proba, rtol=1e-9, atol=1e-12)
        np.testing.assert_array_equal(X_drawn, X)
        np.testing.assert_array_equal(y_drawn, targets)
        assert kwargs == {"path": "PATH", "resolution": 80, "title": f"one neuron on {gate}"}
    assert r["AND"]["accuracy"] == r["OR"]["accuracy"] == 1.0 and r["XOR"]["accuracy"] == 0.5


def test_the_full_setting_trains_5000_epochs(figures, capsys):
    r = perceptron.main(["--backend", "c" if "c" in pn.backends.available() else "numpy"])
    assert "lr 1.0, 5000 epochs" in capsys.readouterr().out
    w, b, _ = trained(GATES["AND"], 5000)
    np.testing.assert_allclose(r["AND"]["weights"], w, rtol=1e-9)
    assert r["AND"]["bias"] == pytest.approx(b, rel=1e-9)
