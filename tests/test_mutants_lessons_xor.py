"""Lesson 03 (pyneuron.lessons.xor) beyond test_examples' 100 % check, for the mutation run
(.ci/mutation.py pyneuron/lessons/xor.py, issue 15 item 10): its 2-4-1 tanh/sigmoid network,
seed, learning rate and epoch count are the ones its heading names — the returned loss and
probabilities equal full-batch gradient descent written out in NumPy from the same initial
weights — and it prints the epochs, the table and the figures it promises."""
from __future__ import annotations

import numpy as np
import pytest

import pyneuron as pn
from pyneuron.lessons import xor

from helpers import require_backend
from lesson_oracle import gradient_descent, initial_weights

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
Y = np.array([0, 1, 1, 0])


@pytest.fixture(scope="module")
def oracle():
    start = initial_weights(pn.MLP([2, 4, 1], activation="tanh", output="sigmoid", seed=42))
    _, losses, proba = gradient_descent(start, ["tanh", "sigmoid"], "bce", X, Y[:, None], 0.5, 2000)
    return losses, proba[:, 0]


@pytest.fixture
def figures(monkeypatch):
    """The figures the lesson saves: (filename, plot function, its arguments)."""
    saved = []

    def save(args, filename, draw):
        draw("PATH")
        return None

    def recorder(name):
        return lambda *a, **k: saved.append((name, a, k))

    monkeypatch.setattr(xor, "save", save)
    monkeypatch.setattr(xor.plot, "plot_decision_boundary", recorder("boundary"))
    monkeypatch.setattr(xor.plot, "plot_history", recorder("history"))
    return saved


@pytest.mark.parametrize("backend", ["numpy", "c"])
def test_xor_is_seed_003s_network_trained_as_its_heading_says(backend, oracle, capsys, figures, monkeypatch):
    monkeypatch.setenv("PYNEURON_PROGRESS", "0")
    require_backend(backend)
    losses, proba = oracle
    r = xor.main(["--fast", "--backend", backend])
    np.testing.assert_allclose(r["proba"], proba, rtol=1e-9, atol=1e-12)
    assert r["final_loss"] == pytest.approx(losses[-1], rel=1e-9)
    assert r["accuracy"] == 1.0
    out = capsys.readouterr().out.splitlines()
    epochs = [line for line in out if line.startswith("  epoch")]
    assert epochs == [f"  epoch {e:5d}  loss {losses[e - 1]:.6f}  accuracy {acc}"
                      for e, acc in ((1, "25%"), (1000, "100%"), (2000, "100%"))]
    table = out[out.index("  input    true  predicted  rounded") + 1:][:4]
    assert table == [f"  {xi}   {yi}     {p:.4f}      {yi}"
                     for xi, yi, p in zip(X.astype(int).tolist(), Y.tolist(), proba)]
    assert "  accuracy 100%  (the tutorial's own run also reaches 100 %" in "\n".join(out)
    (b_name, b_args, b_kw), (h_name, h_args, h_kw) = figures
    assert (b_name, h_name) == ("boundary", "history")
    assert b_args[0].predict_proba(X).tolist() == pytest.approx(proba, rel=1e-9)
    np.testing.assert_array_equal(b_args[1], X)
    np.testing.assert_array_equal(b_args[2], Y)
    assert b_kw == {"path": "PATH", "title": "XOR"}
    assert h_args[0]["loss"] == pytest.approx(losses, rel=1e-9) and h_kw == {"path": "PATH", "title": "XOR"}


def test_the_full_setting_trains_5000_epochs_and_prints_every_thousandth(monkeypatch, capsys, figures):
    monkeypatch.setenv("PYNEURON_PROGRESS", "0")
    r = xor.main(["--backend", "c" if "c" in pn.backends.available() else "numpy"])
    out = capsys.readouterr().out
    assert "lr 0.5, 5000 full-batch epochs" in out
    assert [line.split()[1] for line in out.splitlines() if line.startswith("  epoch")] == \
        ["1", "1000", "2000", "3000", "4000", "5000"]
    assert len(figures[1][1][0]["loss"]) == 5000
    assert r["final_loss"] == figures[1][1][0]["loss"][-1]
