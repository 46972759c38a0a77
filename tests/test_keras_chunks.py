"""predict / predict_proba / decision_function / score / loss / evaluate forward large inputs
in chunks of rows: the answers equal one whole pass, NaN rows are named by their row in the
whole input, and no layer keeps a data set's activations afterwards."""
from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import pyneuron as pn

RNG = np.random.default_rng(0)
X = RNG.normal(size=(145, 4))          # 3 x 48 + 1 rows
LABELS = {"sigmoid": RNG.integers(0, 2, 145), "softmax": RNG.integers(0, 3, 145),
          "linear": RNG.normal(size=(145, 3))}


def model(backend, output, chunk_rows):
    net = pn.MLP([4, 7, 3 if output != "sigmoid" else 1], output=output, seed=2, backend=backend,
                 dropout=0.3, batch_norm=True)
    net.fit(X, LABELS[output], epochs=2, batch_size=32)
    net.answer_chunk_values = chunk_rows * 7          # 7 = the widest layer
    return net


def answers(net, output):
    y = LABELS[output]
    return [net.predict(X), net.predict_proba(X), net.decision_function(X), net.score(X, y), net.loss(X, y),
            net.evaluate(X, y)]


@pytest.mark.parametrize("output", ["sigmoid", "softmax", "linear"])
def test_chunked_answers_equal_one_pass(backend, output):
    whole = answers(model(backend, output, chunk_rows=1000), output)
    # chunks of 48, 48 and 49 rows (the lone last row joins the chunk before), of 96 and
    # 49, and of 48 again (fewer rows asked for: 48 at least)
    for rows in (48, 100, 5):
        net = model(backend, output, chunk_rows=rows)
        for got, expected in zip(answers(net, output), whole):
            if isinstance(expected, dict):
                assert got == expected
            else:
                np.testing.assert_array_equal(got, expected)
        assert all(layer.cache == {} for layer in net.layers)


def test_nonfinite_rows_are_numbered_in_the_whole_input():
    Xbad = X.copy()
    Xbad[[3, 57, 140]] = 1e308
    errors = []
    for rows in (1000, 48):
        net = pn.MLP([4, 7, 1], seed=2, activation="relu")
        net.answer_chunk_values = rows * 7
        with pytest.raises(pn.NonFiniteOutputError) as err:
            net.predict(Xbad)
        errors.append(err.value)
        assert all(layer.cache == {} for layer in net.layers)
    assert errors[0].rows == errors[1].rows == [3, 57, 140]
    assert str(errors[0]) == str(errors[1]) and "3 of 145 rows" in str(errors[1])


def test_memory_of_predict_stays_bounded():
    Xbig = np.random.default_rng(1).normal(size=(20000, 20))
    net = pn.MLP([20, 256, 256, 2], output="softmax", seed=0, backend="numpy")

    def peak(chunk_values):
        net.answer_chunk_values = chunk_values
        tracemalloc.start()
        net.predict_proba(Xbig)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    whole, chunked = peak(1 << 40), peak(1 << 16)
    assert whole > 2 * 20000 * 256 * 8          # at least two hidden activations of every row
    assert chunked < whole / 5
