"""Lesson 02 (pyneuron.lessons.hand_calculations) beyond test_examples' four figures, for the
mutation run (.ci/mutation.py pyneuron/lessons/hand_calculations.py, issue 15 item 10): each
worked example is the tutorial's network (its weights, input, label and step size typed in
from seeds 003 and 004), every returned explanation's forward pass, gradients and update
equal the formulas written out in NumPy, and the lines the lesson prints itself (the tanh
exercise, the ReLU forward pass, W1 in the tutorial's layout, the notes) are the true figures."""
from __future__ import annotations

import numpy as np
import pytest

from pyneuron.lessons import hand_calculations

from helpers import require_backend
from lesson_oracle import act, act_slope

# (key, hidden activation, [W1 (out, in), b1, W2, b2], x, y, lr): the tutorials' examples.
CASES = [
    ("seed003", "sigmoid", [[[0.1, 0.2], [0.3, 0.4]], [0.1, 0.2], [[0.5, 0.6]], [0.3]], [1.0, 2.0], 1, 0.1),
    ("seed003_tanh", "tanh", [[[0.2, 0.4], [0.6, 0.1]], [0.0, 0.1], [[0.3, 0.7]], [0.2]], [0.5, 0.8], 1, 0.1),
    ("seed004_forward", "relu", [[[0.1, 0.4], [0.3, -0.5], [-0.2, 0.6]], [0.1, -0.1, 0.2], [[0.7, -0.3, 0.5]], [0.1]],
     [0.5, 0.8], 1, 0.1),
    ("seed004_backward", "relu", [[[0.3, 0.5], [0.7, -0.2]], [0.1, -0.1], [[0.6, -0.4]], [0.2]], [1.0, 0.5], 1, 0.1),
]

PRINTED = [
    "  z[1] = [0.42, 0.48]   a[1] = [0.3969, 0.4462]",
    "  z[2] = [0.6314]   a[2] = [0.6528]",
    "  note: the tutorial's solution gives z2 = 0.5312 and a2 = 0.6298; its inputs give z2 = 0.6314 and "
    "a2 = 0.6528 (z1 and a1 agree).",
    "  z[1]_1 = 0.1000·0.5000 + 0.4000·0.8000 + 0.1000 = 0.4700   a[1]_1 = relu = 0.4700",
    "  z[1]_2 = 0.3000·0.5000 + -0.5000·0.8000 + -0.1000 = -0.3500   a[1]_2 = relu = 0.0000",
    "  z[1]_3 = -0.2000·0.5000 + 0.6000·0.8000 + 0.2000 = 0.5800   a[1]_3 = relu = 0.5800",
    "  z[2] = 0.7000·0.4700 + -0.3000·0.0000 + 0.5000·0.5800 + 0.1000 = 0.7190   ŷ = sigmoid(z[2]) = 0.6724",
    "  W1 after, in the tutorial's (inputs, neurons) layout: [[0.3242, 0.6839], [0.5121, -0.2081]]",
    "  note: the tutorial prints a loss of 0.5173 and W1[0][1] = 0.6838 after the step; its inputs give "
    "0.5170 and 0.6839. Its gradients and other weights match.",
]


def one_step(hidden, weights, x, y, lr):
    """Forward, BCE loss, backward and one gradient step of a 2-layer network, by the formulas."""
    W1, b1, W2, b2 = (np.array(w, dtype=float) for w in weights)
    x = np.array([x])
    Z1 = x @ W1.T + b1
    A1 = act(hidden, Z1)
    Z2 = A1 @ W2.T + b2
    A2 = act("sigmoid", Z2)
    loss = -np.log(A2[0, 0]) if y == 1 else -np.log(1 - A2[0, 0])
    dZ2 = A2 - y
    dW2, db2 = dZ2.T @ A1, dZ2.sum(axis=0)
    dZ1 = (dZ2 @ W2) * act_slope(hidden, Z1, A1)
    dW1, db1 = dZ1.T @ x, dZ1.sum(axis=0)
    return loss, [(W1, b1, Z1, A1, W1 - lr * dW1, b1 - lr * db1), (W2, b2, Z2, A2, W2 - lr * dW2, b2 - lr * db2)]


@pytest.mark.parametrize("backend", ["scalar", "numpy", "c"])
def test_each_worked_example_is_the_tutorials_network_and_its_arithmetic(backend, capsys, monkeypatch):
    require_backend(backend)
    figures = []
    monkeypatch.setattr(hand_calculations, "save", lambda args, name, draw: figures.append((name, draw("P"))))
    monkeypatch.setattr(hand_calculations.plot, "plot_network", lambda *a, **k: (a, k))
    r = hand_calculations.main(["--backend", backend])
    out = capsys.readouterr().out.splitlines()
    assert list(r) == [case[0] for case in CASES]
    for key, hidden, weights, x, y, lr in CASES:
        e = r[key]
        loss, layers = one_step(hidden, weights, x, y, lr)
        assert e.backend == backend and e.lr == lr
        np.testing.assert_array_equal(e.X, [x])
        assert np.ravel(e.Y).tolist() == [y]
        assert e.loss == pytest.approx(loss, rel=1e-12)
        assert [layer.activation for layer in e.layers] == [hidden, "sigmoid"]
        for got, want in zip(e.layers, layers):
            for name, value in zip(("W", "b", "Z", "A", "W_new", "b_new"), want):
                np.testing.assert_allclose(getattr(got, name), value, rtol=1e-12, atol=1e-15, err_msg=f"{key} {name}")
    for line in PRINTED:
        assert line in out
    assert out.index(PRINTED[0]) < out.index(PRINTED[3]) < out.index(PRINTED[7])
    [(name, ((net,), kwargs))] = figures
    assert name == "seed003_network.png" and kwargs == {"path": "P"}
    assert [layer.W.tolist() for layer in net.layers] == [CASES[0][2][0], CASES[0][2][2]]
    assert [layer.b.tolist() for layer in net.layers] == [CASES[0][2][1], CASES[0][2][3]]
