"""Lesson 06 (pyneuron.lessons.digits) beyond test_examples' accuracy floor, for the mutation
run (.ci/mutation.py pyneuron/lessons/digits.py, issue 15 item 10): the model is the one its
lines name (64-64-32-10, ReLU, softmax, Xavier, seed 3, SGD lr 0.01, batch 32, 80 epochs with
--fast, 500 without, on a stratified 80/20 split standardized by the training rows): its
predictions equal a model built and trained with those settings here, and every score it
returns and prints is scikit-learn's on those predictions."""
from __future__ import annotations

import numpy as np
import pytest

import pyneuron as pn
from pyneuron.lessons import digits

from lesson_oracle import record_fits

metrics = pytest.importorskip("sklearn.metrics")


@pytest.fixture
def figures(monkeypatch):
    saved = []
    monkeypatch.setattr(digits, "save", lambda args, name, draw: saved.append((name, draw("P"))))
    monkeypatch.setattr(digits.plot, "plot_history", lambda *a, **k: ("history", a, k))
    monkeypatch.setattr(digits.plot, "plot_weight_histograms", lambda *a, **k: ("weights", a, k))
    monkeypatch.setenv("PYNEURON_PROGRESS", "0")
    return saved


def reference(backend, epochs):
    from sklearn.datasets import load_digits
    data = load_digits()
    X_tr, X_te, y_tr, y_te = pn.datasets.train_test_split(data.data, data.target, test_size=0.2, seed=3,
                                                          stratify=True)
    mean, std = X_tr.mean(axis=0), X_tr.std(axis=0)
    std[std == 0] = 1.0
    X_tr, X_te = (X_tr - mean) / std, (X_te - mean) / std
    model = pn.MLP([64, 64, 32, 10], activation="relu", output="softmax", init="xavier_normal", seed=3,
                   backend=backend)
    history = model.fit(X_tr, y_tr, epochs=epochs, batch_size=32, lr=0.01)
    return model, history, X_te, y_te


def test_the_model_and_its_scores_are_the_ones_the_lesson_names(capsys, figures):
    backend = "c" if "c" in pn.backends.available() else "numpy"      # one backend: numpy takes seconds
    r = digits.main(["--fast", "--backend", backend])
    model, history, X_te, y_te = reference(backend, 80)
    predicted = model.predict(X_te)
    accuracy = metrics.accuracy_score(y_te, predicted)
    p, rc, f, support = metrics.precision_recall_fscore_support(y_te, predicted, labels=range(10), zero_division=0)
    assert r["accuracy"] == pytest.approx(accuracy, abs=1e-12)
    assert r["precision"] == pytest.approx(p.tolist(), abs=1e-12)
    assert r["recall"] == pytest.approx(rc.tolist(), abs=1e-12)
    assert r["f1"] == pytest.approx(f.tolist(), abs=1e-12)
    assert r["macro_f1"] == pytest.approx(f.mean(), abs=1e-12)

    out = capsys.readouterr().out.splitlines()
    assert f"Digits: {1797 - len(y_te)} training and {len(y_te)} test images of 8×8 pixels" in out
    assert "  network 64-64-32-10, ReLU then softmax, Xavier initialization, SGD lr 0.01, batch 32, 80 epochs" in out
    assert [line for line in out if line.startswith("  epoch")] == [
        f"  epoch {e:4d}  loss {history['loss'][e - 1]:.4f}" for e in (1, 10, 20, 30, 40, 50, 60, 70, 80)]
    assert f"Test accuracy {accuracy:.4f}" in out
    top = out.index(f"  {'digit':>5} {'precision':>10} {'recall':>8} {'F1':>8} {'support':>8}")
    assert out[top + 1:top + 12] == [
        f"  {d:>5} {p[d]:10.4f} {rc[d]:8.4f} {f[d]:8.4f} {support[d]:8d}" for d in range(10)] + [
        f"  {'macro':>5} {p.mean():10.4f} {rc.mean():8.4f} {f.mean():8.4f}"]
    confusion = metrics.confusion_matrix(y_te, predicted, labels=range(10))
    rows = out.index("  confusion matrix (rows: true digit, columns: predicted)")
    assert out[rows + 1:rows + 11] == [f"  {d}: " + " ".join(f"{v:3d}" for v in row) for d, row in enumerate(confusion)]

    (h_name, (_, (h,), h_kw)), (w_name, (_, (m, X200, y200), w_kw)) = figures
    assert (h_name, w_name) == ("digits_history.png", "digits_weights.png")
    assert h["loss"] == pytest.approx(history["loss"], rel=1e-12) and h_kw == {"path": "P", "title": "digits"}
    np.testing.assert_allclose(X200, X_te[:200], rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(y200, y_te[:200])
    assert w_kw == {"path": "P"} and m.predict(X_te).tolist() == predicted.tolist()


def test_the_full_setting_trains_500_epochs_and_prints_the_first_hundred_by_tens(capsys, figures, monkeypatch):
    pytest.importorskip("sklearn")
    calls = record_fits(monkeypatch, digits, epochs=1)
    digits.main(["--backend", "numpy"])
    [call] = calls
    assert call["progress"] == (500, "digits", [1, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 500])
    assert {k: call["fit"][k] for k in ("epochs", "batch_size", "lr")} == {"epochs": 500, "batch_size": 32, "lr": 0.01}
    assert "batch 32, 500 epochs" in capsys.readouterr().out
