"""Lesson 01 (pyneuron.lessons.single_neuron) beyond test_examples' spot checks, for the
mutation run (.ci/mutation.py pyneuron/lessons/single_neuron.py, issue 15 item 10): every
printed line is seed 004's worked neuron and activation table (its figures typed in by hand,
relu(−3) and relu(−1) as 0.0, as its own code prints), and every returned number is the
formula written out with math."""
from __future__ import annotations

import math

import pytest

import pyneuron as pn
from pyneuron.lessons import single_neuron

from helpers import require_backend

# Seed 004's printed output (its worked neuron, its table, its softmax), in the lesson's layout.
PRINTED = """\
A single neuron with three inputs
---------------------------------
  z = 0.2·1.0 + 0.8·2.0 + -0.5·3.0 + 2.0
    = 0.2 + 1.6 + -1.5 + 2.0 = 2.3000
  with z = 2.3:  sigmoid(2.3) = 0.9089   relu(2.3) = 2.3000   tanh(2.3) = 0.9801
  with z = -2:  sigmoid(-2) = 0.1192   relu(-2) = 0.0000   tanh(-2) = -0.9640

Activations and their derivatives
---------------------------------
      z | sigmoid | sigmoid′ | relu | relu′ | leaky relu | leaky′
   -3.0 |  0.0474 |   0.0452 |  0.0 |   0.0 |    -0.0300 |   0.01
   -1.0 |  0.2689 |   0.1966 |  0.0 |   0.0 |    -0.0100 |   0.01
    0.0 |  0.5000 |   0.2500 |  0.0 |   0.0 |     0.0000 |   0.01
    1.0 |  0.7311 |   0.1966 |  1.0 |   1.0 |     1.0000 |   1.00
    3.0 |  0.9526 |   0.0452 |  3.0 |   1.0 |     3.0000 |   1.00
  softmax([2.0, 1.0, 0.1]) = [0.6590, 0.2424, 0.0986]  (sum 1.0000)
"""


def sigmoid(z):
    return 1 / (1 + math.exp(-z))


@pytest.mark.parametrize("backend", ["scalar", "numpy", "c"])
def test_the_printed_neuron_and_table_are_seed_004s(backend, capsys, monkeypatch):
    require_backend(backend)
    figures = []
    monkeypatch.setattr(single_neuron, "save", lambda args, filename, draw: figures.append((filename, draw("P"))))
    monkeypatch.setattr(single_neuron.plot, "plot_activations", lambda **k: (pn.get_backend(), k))
    pn.set_backend("scalar" if backend != "scalar" else "numpy")
    r = single_neuron.main(["--backend", backend])
    out = capsys.readouterr().out
    assert PRINTED in out
    assert figures == [("activations.png", (backend, {"path": "P"}))]      # drawn on the lesson's backend

    assert r["z"] == pytest.approx(0.2 * 1 + 0.8 * 2 - 0.5 * 3 + 2, rel=1e-15)
    expected = {}
    for z in (2.3, -2.0):
        expected[("sigmoid", z)], expected[("relu", z)], expected[("tanh", z)] = sigmoid(z), max(z, 0.0), math.tanh(z)
    assert sorted((name, round(z, 12)) for name, z in r["outputs"]) == sorted(expected)
    for (name, z), value in r["outputs"].items():
        assert value == pytest.approx(expected[(name, round(z, 12))], rel=1e-12)
    zs = [-3.0, -1.0, 0.0, 1.0, 3.0]
    table = {"sigmoid": ([sigmoid(z) for z in zs], [sigmoid(z) * (1 - sigmoid(z)) for z in zs]),
             "relu": ([max(z, 0.0) for z in zs], [float(z > 0) for z in zs]),
             "leaky_relu": ([z if z > 0 else 0.01 * z for z in zs], [1.0 if z > 0 else 0.01 for z in zs])}
    assert list(r["table"]) == list(table)
    for name, (values, slopes) in table.items():
        assert r["table"][name][0] == pytest.approx(values, rel=1e-12)
        assert r["table"][name][1] == pytest.approx(slopes, rel=1e-12)
    e = [math.exp(v) for v in (2.0, 1.0, 0.1)]
    assert r["softmax"] == pytest.approx([v / sum(e) for v in e], rel=1e-12)


def test_without_a_backend_flag_the_global_backend_is_used(capsys, monkeypatch):
    monkeypatch.setattr(single_neuron, "save", lambda args, filename, draw: draw(None))
    monkeypatch.setattr(single_neuron.plot, "plot_activations", lambda **k: seen.append(pn.get_backend()))
    seen = []
    pn.set_backend("scalar")
    r = single_neuron.main([])
    assert seen == ["scalar"]
    assert PRINTED in capsys.readouterr().out and r["z"] == pytest.approx(2.3)
