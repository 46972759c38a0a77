"""The C plan refuses parameters that share memory, however they share it (the very same
array in two places, or overlapping views of one buffer), and takes views of one buffer
that do not overlap -- the binding's quick path for arrays owning their memory must not
let a shared one through."""
from __future__ import annotations

import numpy as np
import pytest

import pyneuron as pn

from helpers import require_backend

X = np.random.default_rng(0).standard_normal((6, 3))
y = np.arange(6) % 2


def _model():
    require_backend("c")
    return pn.MLP([3, 4, 4, 1], seed=0, backend="c", bias=True)


def test_one_array_as_two_biases_is_refused():
    model = _model()
    model.layers[1].b = model.layers[0].b
    with pytest.raises(ValueError, match="share memory"):
        model.fit(X, y, epochs=1, batch_size=3)


def test_overlapping_views_of_one_buffer_are_refused():
    model = _model()
    buf = np.zeros(6)
    model.layers[0].b, model.layers[1].b = buf[:4], buf[2:]
    with pytest.raises(ValueError, match="share memory"):
        model.fit(X, y, epochs=1, batch_size=3)


def test_separate_views_of_one_buffer_train_as_separate_arrays():
    model, twin = _model(), _model()
    buf = np.zeros(8)
    model.layers[0].b, model.layers[1].b = buf[:4], buf[4:]
    twin.layers[0].b, twin.layers[1].b = np.zeros(4), np.zeros(4)
    model.fit(X, y, epochs=2, batch_size=3)
    twin.fit(X, y, epochs=2, batch_size=3)
    for a, b in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert np.shares_memory(model.layers[0].b, buf)     # trained in place, in the buffer
