"""Lesson 05 (pyneuron.lessons.training_toolkit) beyond test_examples' accuracy floors, for the
mutation run (.ci/mutation.py pyneuron/lessons/training_toolkit.py, issue 15 item 10): each of
its runs is the one its headings name — seed 000's circles (1,000 and 2,000 points, noise 0.1),
the 2-16-8-1 race at batch 32 (SGD 0.5, momentum β 0.9 at 0.5, Adam 0.01), early stopping on
val_loss with patience 20 and the best weights restored, the 2-32-16-8-1 pipeline with dropout
0.2, L2 0.01, Adam 0.001 and patience 30 — so its results, losses and final weights equal the
same runs set up here by hand, and the lines and figures report those runs."""
from __future__ import annotations

import numpy as np
import pytest

import pyneuron as pn
from pyneuron.lessons import training_toolkit

from lesson_oracle import record_fits

BACKEND = "c" if "c" in pn.backends.available() else "numpy"
RACE = {"gradient descent (lr 0.5)": lambda: pn.optimizers.SGD(lr=0.5),
        "momentum β=0.9 (lr 0.5)": lambda: pn.optimizers.Momentum(lr=0.5, beta=0.9),
        "Adam (lr 0.01)": lambda: pn.optimizers.Adam(lr=0.01)}


def reference(race_epochs, early_epochs, pipeline_epochs):
    X, y = pn.datasets.make_tutorial_circles(1000, noise=0.1, seed=42)
    race = {}
    for name, make in RACE.items():
        model = pn.MLP([2, 16, 8, 1], activation="relu", output="sigmoid", seed=1, backend=BACKEND)
        history = model.fit(X, y, epochs=race_epochs, batch_size=32, optimizer=make())
        race[name] = (model.score(X, y), history["loss"])
    X_tr, X_val, y_tr, y_val = pn.datasets.train_test_split(X, y, test_size=0.2, seed=0)
    early = pn.MLP([2, 16, 8, 1], activation="relu", output="sigmoid", seed=2, backend=BACKEND)
    h = early.fit(X_tr, y_tr, epochs=early_epochs, batch_size=32, optimizer=pn.optimizers.Adam(lr=0.01),
                  validation_data=(X_val, y_val),
                  early_stopping=pn.EarlyStopping(monitor="val_loss", patience=20, restore_best_weights=True))
    early_result = {"best_epoch": h.best_epoch, "epochs_run": len(h.epoch), "val_accuracy": early.score(X_val, y_val)}
    X, y = pn.datasets.make_tutorial_circles(2000, noise=0.1, seed=42)
    X_tr, X_val, y_tr, y_val = pn.datasets.train_test_split(X, y, test_size=0.2, seed=0)
    pipe = pn.MLP([2, 32, 16, 8, 1], activation="relu", output="sigmoid", dropout=0.2, seed=0, backend=BACKEND)
    ph = pipe.fit(X_tr, y_tr, epochs=pipeline_epochs, batch_size=32, l2=0.01, optimizer=pn.optimizers.Adam(lr=0.001),
                  validation_data=(X_val, y_val), early_stopping=pn.EarlyStopping(patience=30))
    pipeline = {"train_accuracy": pipe.score(X_tr, y_tr), "val_accuracy": pipe.score(X_val, y_val),
                "best_epoch": ph.best_epoch, "epochs_run": len(ph.epoch)}
    return race, (early, early_result), (pipe, ph, pipeline, X_val, y_val)


@pytest.fixture
def figures(monkeypatch):
    saved = []
    monkeypatch.setattr(training_toolkit, "save", lambda args, name, draw: saved.append((name, draw("P"))))
    for name in ("plot_curves", "plot_history", "plot_decision_boundary"):
        monkeypatch.setattr(training_toolkit.plot, name, lambda *a, **k: (a, k))
    monkeypatch.setenv("PYNEURON_PROGRESS", "0")
    return saved


def weights(model):
    return [np.array(w) for w in model.get_weights()]


def test_every_run_is_the_one_its_heading_names(capsys, figures, monkeypatch):
    calls = record_fits(monkeypatch, training_toolkit)
    r = training_toolkit.main(["--fast", "--backend", BACKEND])
    calls = list(calls)                     # the lesson's fits, not the reference's below
    race, (early, early_result), (pipe, ph, pipeline, X_val, y_val) = reference(30, 100, 150)
    out = capsys.readouterr().out.splitlines()

    assert r["optimizers"] == {name: acc for name, (acc, _) in race.items()}
    assert "Optimizers on the circles (1000 points, 30 epochs, batch 32)" in out
    for name, (acc, losses) in race.items():
        assert f"  {name:<28} accuracy {acc:.2%}   final loss {losses[-1]:.4f}" in out
    (c_name, ((curves,), c_kw)), (h_name, ((history,), h_kw)), (b_name, ((model, Xb, yb), b_kw)) = figures
    assert c_name == "optimizers.png" and c_kw == {"path": "P", "log": True, "title": "training loss by optimizer"}
    assert list(curves) == list(race)
    for name, (_, losses) in race.items():
        assert curves[name] == pytest.approx(losses, rel=1e-12)

    assert r["early_stopping"] == early_result
    for got, want in zip(weights(calls[3]["model"]), weights(early)):       # restored from the best epoch
        np.testing.assert_array_equal(got, want)
    assert f"  ran {early_result['epochs_run']} epochs, best validation loss at epoch {early_result['best_epoch']} " \
           f"(weights restored from it); validation accuracy {early_result['val_accuracy']:.2%}" in out

    assert r["pipeline"] == pipeline
    assert "  1600 training and 400 validation points; early stopping patience 30" in out
    assert f"  training accuracy {pipeline['train_accuracy']:.2%}, validation accuracy " \
           f"{pipeline['val_accuracy']:.2%}; best epoch {pipeline['best_epoch']} of {pipeline['epochs_run']} run" in out
    assert h_name == "pipeline_history.png" and h_kw == {"path": "P", "title": "complete pipeline"}
    assert history["loss"] == pytest.approx(ph["loss"], rel=1e-12)
    assert history["val_loss"] == pytest.approx(ph["val_loss"], rel=1e-12)
    assert b_name == "pipeline_boundary.png" and b_kw == {"path": "P", "title": "complete pipeline (validation points)"}
    for got, want in zip(weights(model), weights(pipe)):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(Xb, X_val)
    np.testing.assert_array_equal(yb, y_val)
    assert [call["progress"][:2] for call in calls] == [(30, name) for name in RACE] + [
        (100, "early stopping"), (150, "pipeline")]


def test_the_full_setting_trains_100_500_and_500_epochs(capsys, figures, monkeypatch):
    calls = record_fits(monkeypatch, training_toolkit, epochs=1)
    training_toolkit.main(["--backend", "numpy"])
    assert [call["fit"]["epochs"] for call in calls] == [100, 100, 100, 500, 500]
    assert [call["progress"][0] for call in calls] == [100, 100, 100, 500, 500]
    assert "(1000 points, 100 epochs, batch 32)" in capsys.readouterr().out
