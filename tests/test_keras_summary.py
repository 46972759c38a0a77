"""model.summary() and repr(MLP): counts computed by hand from the layer sizes."""
from __future__ import annotations

import re

import numpy as np

import pyneuron as pn


def table(model):
    text = model.summary(print_fn=None)
    rows = {m.group(1): tuple(int(v.replace(",", "")) for v in m.groups()[1:])
            for m in re.finditer(r"^(layer\d+)\s.*?\s([\d,]+)\s+([\d,]+)\s+([\d,]+)$", text, re.M)}
    totals = {k: int(v.replace(",", "")) for k, v in re.findall(r"^(Total|Trainable|Frozen) params: ([\d,]+)$",
                                                                  text, re.M)}
    return text, rows, totals


def test_counts_per_layer_and_totals():
    model = pn.MLP([784, 256, 128, 10], output="softmax", seed=0)
    text, rows, totals = table(model)
    assert rows == {"layer0": (784 * 256 + 256, 784 * 256 + 256, 0),
                    "layer1": (256 * 128 + 128, 256 * 128 + 128, 0),
                    "layer2": (128 * 10 + 10, 128 * 10 + 10, 0)}
    assert totals == {"Total": 235146, "Trainable": 235146, "Frozen": 0}
    assert "(None, 784)" in text and "(None, 10)" in text and "Dense 128->10, softmax" in text
    assert "235,146" in text and "Optimizer" not in text


def test_frozen_batch_norm_dropout_and_no_bias_rows():
    model = pn.MLP([3, 5, 2], dropout=0.25, batch_norm=True, seed=0).freeze("layer1/b", "gamma")
    text, rows, totals = table(model)
    # layer0: W 15, no bias (batch norm), gamma 5 (frozen), beta 5; layer1: W 10, b 2 (frozen)
    assert rows == {"layer0": (25, 20, 5), "layer1": (12, 10, 2)}
    assert totals == {"Total": 37, "Trainable": 30, "Frozen": 7}
    assert "batch norm, dropout 0.25, no bias" in text
    assert "Batch-norm running statistics: 10 values" in text


def test_summary_prints_by_default_and_reports_training(capsys):
    model = pn.MLP([2, 3, 1], seed=0)
    model.fit(np.zeros((4, 2)), [0, 1, 0, 1], epochs=3, batch_size=2, optimizer="adam")
    assert model.summary() is None
    out = capsys.readouterr().out
    assert out.startswith('MLP "2-3-1"') and "Adam(lr=0.001" in out and "6 steps; epochs trained: 3" in out


def test_repr_names_what_differs_from_the_defaults():
    plain = repr(pn.MLP([4, 8, 5, 3], output="softmax", backend="numpy"))
    assert plain == ("MLP(4-8-5-3, activation='relu', output='softmax', loss='cce', backend='numpy', "
                     "parameters=103)")   # 4·8+8 + 8·5+5 + 5·3+3
    model = pn.MLP([2, 4, 1], activation="leaky_relu", negative_slope=0.2, dropout=0.1, dtype="float32",
                   bias=[False, True], backend="numpy").freeze("layer1/W")
    model.fit(np.zeros((4, 2)), [0, 1, 0, 1], epochs=2)
    text = repr(model)
    for piece in ["activation='leaky_relu'", "negative_slope=0.2", "dropout=0.1", "dtype='float32'",
                  "bias=[False, True]", "parameters=13", "frozen=['layer1/W']", "epochs_trained=2",
                  "optimizer=SGD(lr=0.01"]:
        assert piece in text, (piece, text)
    assert "batch_norm" not in text
    mixed = repr(pn.MLP([2, 3, 3, 1], activation=["tanh", "relu"], dropout=[0.0, 0.5]))
    assert "activation=['tanh', 'relu']" in mixed and "dropout=[0.0, 0.5]" in mixed
