"""Lesson 10 (pyneuron.lessons.common_mistakes) beyond test_examples' figures, for the mutation
run (.ci/mutation.py pyneuron/lessons/common_mistakes.py, issue 15 item 10): seed 001's
untrained 3-3-1 house-price net (legacy generator, seed 42, zero biases) predicts −1401.69
for (1200, 3, 8) and its input shares are |W·x| by the formula; the houses are the recipe its
docstring gives (200 with --fast, 1,000 without); each 3-8-1 ReLU run (seed 0, SGD 0.01,
batch 32, 30 or 200 epochs) ends where the same run set up here ends, its R² the formula on
its predictions; seed 004's losses and the two slopes are the formulas. Both outcomes of the
raw run (divergence, or an R² on either side of 0.5) print what they should."""
from __future__ import annotations

import math

import numpy as np
import pytest

import pyneuron as pn
from pyneuron.lessons import common_mistakes

from helpers import require_backend
from lesson_oracle import record_fits

BACKEND = "c" if "c" in pn.backends.available() else "numpy"


def houses(n):
    rng = np.random.default_rng(0)
    size = rng.uniform(600, 3500, n)
    bedrooms = rng.integers(1, 6, n).astype(float)
    location = rng.integers(1, 11, n).astype(float)
    price = 0.12 * size + 15 * bedrooms + 20 * location + rng.normal(0, 20, n)
    return np.c_[size, bedrooms, location], price


def trained(X, y, epochs):
    model = pn.MLP([3, 8, 1], activation="relu", output="linear", seed=0, backend=BACKEND)
    try:
        model.fit(X, y, epochs=epochs, batch_size=32, lr=0.01)
    except pn.TrainingDivergedError as exc:
        return None, exc.epoch
    return model, None


def r2(model, X, y):
    residual = y - np.ravel(model.predict(X))
    return 1 - np.sum(residual ** 2) / np.sum((y - y.mean()) ** 2)


@pytest.fixture(autouse=True)
def quiet(monkeypatch):
    monkeypatch.setenv("PYNEURON_PROGRESS", "0")


@pytest.mark.parametrize("backend", ["scalar", "numpy", "c"])
def test_mistake_1_the_untrained_net_and_its_input_shares(backend, capsys, monkeypatch):
    require_backend(backend)
    monkeypatch.setattr(common_mistakes, "train_houses", lambda X, y, epochs, b: (None, 3))
    with pytest.raises(AttributeError):      # the stub has no model for the standardized run: stop there
        common_mistakes.main(["--fast", "--backend", backend])
    out = capsys.readouterr().out.splitlines()
    rs = np.random.RandomState(42)
    W1, W2 = rs.randn(3, 3), rs.randn(1, 3)
    x = np.array([1200.0, 3.0, 8.0])
    prediction = float((W2 @ np.maximum(W1 @ x, 0.0))[0])
    assert round(prediction, 2) == -1401.69                                   # seed 001's figure
    assert f"  seed 001's untrained 3-3-1 net on (size 1200, 3 bedrooms, location 8): {prediction:.2f}" in out
    shares = np.abs(W1 * x).sum(axis=0) / np.abs(W1 * x).sum()
    assert "  share of the hidden layer's weighted sums coming from each input: " \
           f"size {shares[0]:.1%}, bedrooms {shares[1]:.1%}, location {shares[2]:.1%}" in out
    assert "  training a 3-8-1 net on raw inputs (SGD 0.01): the loss overflowed at epoch 3" in out


def test_the_runs_the_losses_and_the_slopes_are_the_formulas(capsys):
    r = common_mistakes.main(["--fast", "--backend", BACKEND])
    out = capsys.readouterr().out.splitlines()
    rs = np.random.RandomState(42)
    W1, W2 = rs.randn(3, 3), rs.randn(1, 3)
    x = np.array([1200.0, 3.0, 8.0])
    assert r["house_prediction"] == pytest.approx(float((W2 @ np.maximum(W1 @ x, 0.0))[0]), rel=1e-12)
    assert r["size_share"] == pytest.approx(np.abs(W1[:, 0] * 1200).sum() / np.abs(W1 * x).sum(), rel=1e-12)

    X, y = houses(200)
    raw, diverged = trained(X, y, 30)
    assert diverged is None and r["raw_diverged_epoch"] is None
    assert r["raw_r2"] == pytest.approx(r2(raw, X, y), rel=1e-9)
    assert f"  training a 3-8-1 net on raw inputs (SGD 0.01, 30 epochs): R² {r['raw_r2']:.3g} — " \
           "no better than always guessing the average price" in out
    Xs = (X - X.mean(axis=0)) / X.std(axis=0)
    ys = (y - y.mean()) / y.std()
    scaled, _ = trained(Xs, ys, 30)
    assert r["scaled_r2"] == pytest.approx(r2(scaled, Xs, ys), rel=1e-9)
    assert f"  the same net on standardized inputs and targets: R² {r['scaled_r2']:.3f}" in out

    p, t = np.array([0.9, 0.1, 0.8, 0.3]), np.array([1.0, 0.0, 1.0, 0.0])
    mse = float(np.mean((p - t) ** 2))
    bce = float(-np.mean(t * np.log(p) + (1 - t) * np.log(1 - p)))
    assert (round(mse, 4), round(bce, 4)) == (0.0375, 0.1976)                # seed 004's figures
    assert r["mse"] == pytest.approx(mse, rel=1e-12) and r["bce"] == pytest.approx(bce, rel=1e-12)
    assert "  seed 004's predictions [0.9, 0.1, 0.8, 0.3] for labels [1, 0, 1, 0]: " \
           f"MSE {mse:.4f}, cross-entropy {bce:.4f}" in out
    a = 0.01
    assert r["mse_slope"] == pytest.approx(2 * (a - 1) * a * (1 - a), rel=1e-9)
    assert r["bce_slope"] == pytest.approx(a - 1, rel=1e-9)
    assert f"    MSE: ∂L/∂z = 2(a − y)·a(1 − a) = {2 * (a - 1) * a * (1 - a):.4f}  (the sigmoid's flat tail " \
           "smothers it)" in out
    assert f"    cross-entropy: ∂L/∂z = a − y = {a - 1:.4f}  (51× stronger)" in out


@pytest.mark.parametrize("raw_r2, verdict", [(0.49, "no better than always guessing the average price"),
                                             (0.5, "usable"),
                                             (1.4, "usable")])
def test_the_raw_runs_verdict_on_both_sides_of_one_half(raw_r2, verdict, capsys, monkeypatch):
    real = common_mistakes.train_houses
    runs = []

    class Raw:
        def evaluate(self, X, y):
            return {"r2": raw_r2}

    def train(X, y, epochs, backend):
        runs.append(epochs)
        return (Raw(), None) if len(runs) == 1 else real(X, y, epochs, backend)

    monkeypatch.setattr(common_mistakes, "train_houses", train)
    r = common_mistakes.main(["--fast", "--backend", BACKEND])
    assert r["raw_r2"] == raw_r2 and r["raw_diverged_epoch"] is None
    assert f"(SGD 0.01, 30 epochs): R² {raw_r2:.3g} — {verdict}" in capsys.readouterr().out


def test_the_training_helper_reports_a_divergence_by_its_epoch():
    X, y = houses(200)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    model, epoch = common_mistakes.train_houses(X, y * 1e100, 30, BACKEND)     # the first step overflows
    want, want_epoch = trained(X, y * 1e100, 30)
    assert model is None and want is None and epoch == want_epoch is not None


def test_the_full_setting_uses_1000_houses_and_200_epochs(capsys, monkeypatch):
    calls = record_fits(monkeypatch, common_mistakes, epochs=1)
    common_mistakes.main(["--backend", "numpy"])
    assert [call["fit"]["epochs"] for call in calls[:2]] == [200, 200]
    assert [call["n"] for call in calls[:2]] == [1000, 1000]
    assert [call["progress"][:2] for call in calls[:2]] == [(200, "houses")] * 2
    assert "(SGD 0.01, 200 epochs)" in capsys.readouterr().out


@pytest.mark.parametrize("global_flag, flag, expected", [("scalar", ["--backend", "numpy"], "numpy"),
                                                          ("numpy", [], "numpy")])
def test_mistake_2s_losses_are_computed_on_the_chosen_backend(global_flag, flag, expected, monkeypatch):
    pn.set_backend(global_flag)             # --backend wins over the global flag
    real_get, asked = pn.backends.get, []
    monkeypatch.setattr(common_mistakes.backends, "get", lambda name: asked.append(name) or real_get(name))
    r = common_mistakes.main(["--fast", *flag])
    assert set(asked) == {expected}         # every engine asked for, the losses' too, is the chosen one
    assert (round(r["mse"], 4), round(r["bce"], 4)) == (0.0375, 0.1976)
