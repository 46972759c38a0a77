"""Lesson 07 (pyneuron.lessons.optimizer_race) beyond test_examples' spot checks, for the
mutation run (.ci/mutation.py pyneuron/lessons/optimizer_race.py, issue 15 item 10): the race
is seed 004's — f(x, y) = x² + 3y² from (4, 3), 20 steps at lr 0.1 — and each contender's
every loss and final point equal plain gradient descent, heavy-ball momentum 0.9 and Adam
(β 0.9, 0.999, ε 1e-8, bias-corrected) written out here; the tables print them and the
tutorial's own printed figures (typed in from seed 004) are shown as such."""
from __future__ import annotations

import math

import pytest

import pyneuron as pn
from pyneuron.lessons import optimizer_race

from helpers import require_backend

# Seed 004's printed losses after steps 1, 5, 10 and 20.
TUTORIAL = {"SGD": "13.6000 -> 2.1760 -> 0.0555 -> 0.0000", "SGD+Momentum": "13.6000 -> 0.5432 -> 0.0034 -> 0.0000",
            "Adam": "10.2345 -> 0.3456 -> 0.0012 -> 0.0000"}


def f(x, y):
    return x * x + 3 * y * y


def race(kind):
    x, y = 4.0, 3.0
    losses, vx, vy, mx, my, sx, sy = [f(x, y)], 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
    for t in range(1, 21):
        gx, gy = 2 * x, 6 * y
        if kind == "SGD":
            x, y = x - 0.1 * gx, y - 0.1 * gy
        elif kind == "SGD+Momentum":
            vx, vy = 0.9 * vx + gx, 0.9 * vy + gy
            x, y = x - 0.1 * vx, y - 0.1 * vy
        else:
            mx, my = 0.9 * mx + 0.1 * gx, 0.9 * my + 0.1 * gy
            sx, sy = 0.999 * sx + 0.001 * gx * gx, 0.999 * sy + 0.001 * gy * gy
            c1, c2 = 1 - 0.9 ** t, 1 - 0.999 ** t
            x -= 0.1 * (mx / c1) / (math.sqrt(sx / c2) + 1e-8)
            y -= 0.1 * (my / c1) / (math.sqrt(sy / c2) + 1e-8)
        losses.append(f(x, y))
    return losses, [x, y]


@pytest.mark.parametrize("backend", ["scalar", "numpy", "c"])
def test_each_contender_is_its_textbook_update(backend, capsys, monkeypatch):
    require_backend(backend)
    figures = []
    monkeypatch.setattr(optimizer_race, "save", lambda args, name, draw: figures.append((name, draw("P"))))
    monkeypatch.setattr(optimizer_race.plot, "plot_curves", lambda *a, **k: (a, k))
    r = optimizer_race.main(["--backend", backend])
    out = capsys.readouterr().out.splitlines()
    assert list(r) == ["SGD", "SGD+Momentum", "Adam"]
    assert f"f(x, y) = x² + 3y² from (4.0, 3.0), 20 steps at lr 0.1 ({backend} backend)" in out
    top = out.index(f"  {'optimizer':<14} {'final loss':>12} {'final point':>22}")
    steps = out.index("  loss after steps 1, 5, 10, 20:")
    for i, name in enumerate(r):
        losses, point = race(name)
        assert r[name]["losses"] == pytest.approx(losses, rel=1e-12, abs=1e-300)
        assert r[name]["point"] == pytest.approx(point, rel=1e-12, abs=1e-300)
        assert out[top + 1 + i] == f"  {name:<14} {losses[-1]:12.6f}   ({point[0]:.4f}, {point[1]:.4f})"
        assert out[steps + 1 + i] == f"  {name:<14} {losses[1]:.4f} -> {losses[5]:.4f} -> {losses[10]:.4f} " \
                                     f"-> {losses[20]:.4f}"
        assert f"  {name:<14} printed {TUTORIAL[name]}" in out
    assert "  note: one plain step from (4, 3) lands on (3.2, 1.2), where f = 10.24 + 4.32 = 14.56, not 13.6. " \
           "Its printed" in "\n".join(out)
    [(name, ((curves,), kwargs))] = figures
    assert name == "optimizer_race.png" and curves == {k: v["losses"] for k, v in r.items()}
    assert kwargs == {"path": "P", "log": True, "xlabel": "step (1 = start)", "ylabel": "x² + 3y²",
                      "title": "the optimizer race of tutorial seed 004 (the textbook chapter)"}


def test_without_a_backend_flag_the_global_backend_races(capsys, monkeypatch):
    monkeypatch.setattr(optimizer_race, "save", lambda args, name, draw: None)
    pn.set_backend("scalar")
    optimizer_race.main([])
    assert "(scalar backend)" in capsys.readouterr().out
