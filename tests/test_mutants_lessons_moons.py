"""Lesson 04 (pyneuron.lessons.moons) beyond test_examples' accuracy floor, for the mutation
run (.ci/mutation.py pyneuron/lessons/moons.py, issue 15 item 10): seed 003's 500 moons
(pyneuron.datasets.make_tutorial_moons, 500 points, noise 0.2, seed 42) and its split (training classes [201, 199]);
each network the lesson trains (ReLU, sigmoid output, seed 42, full-batch gradient descent)
ends where gradient descent written out in NumPy ends, for the main run, the five
architectures and the five learning rates; the tables and figures show those runs."""
from __future__ import annotations

import numpy as np
import pytest

import pyneuron as pn
from pyneuron.lessons import moons

from lesson_oracle import forward, gradient_descent, initial_weights, record_fits

ARCHITECTURES = [([2, 4, 1], "shallow"), ([2, 8, 1], "medium"), ([2, 16, 1], "wide"), ([2, 8, 8, 1], "deep"),
                 ([2, 16, 8, 1], "wide-deep")]
RATES = [0.001, 0.01, 0.1, 0.5, 1.0]


@pytest.fixture(scope="module")
def data():
    X, y = pn.datasets.make_tutorial_moons(500, noise=0.2, seed=42)
    order = np.random.RandomState(42).permutation(500)
    test, train = order[:100], order[100:]
    mean, std = X[train].mean(axis=0), X[train].std(axis=0)
    return (X[train] - mean) / std, (X[test] - mean) / std, y[train], y[test]


def run(sizes, lr, epochs, data):
    X_tr, X_te, y_tr, y_te = data
    start = initial_weights(pn.MLP(sizes, activation="relu", output="sigmoid", seed=42))
    activations = ["relu"] * (len(sizes) - 2) + ["sigmoid"]
    weights, losses, proba = gradient_descent(start, activations, "bce", X_tr, y_tr[:, None], lr, epochs)
    test_proba = forward(weights, activations, X_te)[-1][1]
    return (np.mean((proba[:, 0] >= 0.5) == y_tr), np.mean((test_proba[:, 0] >= 0.5) == y_te), losses, proba[:, 0])


@pytest.fixture
def figures(monkeypatch):
    saved = []
    monkeypatch.setattr(moons, "save", lambda args, name, draw: saved.append((name, draw("P"))))
    for name in ("plot_decision_boundary", "plot_history", "plot_curves"):
        monkeypatch.setattr(moons.plot, name, lambda *a, **k: (a, k))
    monkeypatch.setenv("PYNEURON_PROGRESS", "0")
    return saved


def test_every_run_is_gradient_descent_on_seed_003s_moons(data, capsys, figures):
    backend = "c" if "c" in pn.backends.available() else "numpy"
    r = moons.main(["--fast", "--backend", backend])
    out = capsys.readouterr().out.splitlines()
    assert "  400 training and 100 test points; training classes [201, 199] (the tutorial's [201 199]: these are " \
           "its exact points and split)" in out
    assert np.bincount(data[2]).tolist() == [201, 199]

    train, test, losses, proba = run([2, 16, 8, 1], 0.1, 1000, data)
    assert (r["train_accuracy"], r["test_accuracy"]) == (train, test)
    assert "2-16-8-1 ReLU network, full-batch gradient descent at 0.1, 1000 epochs" in out
    assert f"  training accuracy {train:.2%}, test accuracy {test:.2%} (the tutorial reports 98.50 % and " \
           "96.00 % with its own initial weights)" in out
    (b_name, ((model, X_drawn, y_drawn), b_kw)), (h_name, ((history,), h_kw)), (c_name, ((curves,), c_kw)) = figures
    assert (b_name, h_name, c_name) == ("moons_boundary.png", "moons_history.png", "moons_learning_rates.png")
    np.testing.assert_allclose(model.predict_proba(data[0]), proba, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(X_drawn, data[0], rtol=1e-12)
    np.testing.assert_array_equal(y_drawn, data[2])
    assert b_kw == {"path": "P", "title": "two moons (standardized)"}
    assert history["loss"] == pytest.approx(losses, rel=1e-8) and h_kw == {"path": "P", "title": "two moons"}

    assert "Architectures (600 epochs each, lr 0.1)" in out
    top = out.index(f"  {'architecture':<22} {'train':>8} {'test':>8} {'final loss':>11}")
    rows, expected = out[top + 1:top + 6], {}
    for (sizes, label), row in zip(ARCHITECTURES, rows):
        train, test, losses, _ = run(sizes, 0.1, 600, data)
        name = f"{label} ({'-'.join(map(str, sizes))})"
        expected[name] = {"train": train, "test": test}
        assert row == f"  {name:<22} {train:8.2%} {test:8.2%} {losses[-1]:11.6f}"
    assert r["architectures"] == expected

    assert "Learning rates (2-16-8-1, 400 epochs each)" in out
    top = out.index("Learning rates (2-16-8-1, 400 epochs each)")
    expected, curves_expected = {}, {}
    for lr, row in zip(RATES, out[top + 2:top + 7]):
        _, test, losses, _ = run([2, 16, 8, 1], lr, 400, data)
        expected[lr], curves_expected[f"lr={lr}"] = test, losses
        assert row == f"  lr = {lr:<6} test accuracy {test:.2%}   final loss {losses[-1]:.4f}"
    assert r["learning_rates"] == expected
    assert list(curves) == list(curves_expected)
    for key, losses in curves_expected.items():
        assert curves[key] == pytest.approx(losses, rel=1e-8)
    assert c_kw == {"path": "P", "log": True, "title": "loss by learning rate"}


def test_the_full_setting_trains_2000_1500_and_1000_epochs(capsys, figures, monkeypatch):
    calls = record_fits(monkeypatch, moons, epochs=1)
    moons.main(["--backend", "numpy"])
    assert [call["fit"]["epochs"] for call in calls] == [2000] + [1500] * 5 + [1000] * 5
    assert [call["fit"]["lr"] for call in calls] == [0.1] * 6 + RATES
    assert all(call["fit"]["batch_size"] is None for call in calls)
    assert [call["progress"][:2] for call in calls] == [(2000, "2-16-8-1 lr 0.1")] + [
        (1500, f"{'-'.join(map(str, sizes))} lr 0.1") for sizes, _ in ARCHITECTURES] + [
        (1000, f"2-16-8-1 lr {lr}") for lr in RATES]
    out = capsys.readouterr().out
    assert "0.1, 2000 epochs" in out and "(1500 epochs each" in out and "1000 epochs each)" in out
