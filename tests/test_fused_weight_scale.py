"""The fused weighted fit (c's C epoch, numpy's plan) at the ends of float64: equal weights
that are subnormal, or so large that their sum overflows, train exactly as no weights do,
since only the weights' ratios enter the loss and the gradient (pyneuron.sample_weights).
Before the weights were scaled by a power of two, C's loss became inf at a subnormal sum."""
import numpy as np
import pytest

import pyneuron as pn

X = np.linspace(-1.0, 1.0, 12).reshape(6, 2)
y = np.array([0, 1, 1, 0, 1, 0])


@pytest.mark.parametrize("weight", [5e-324, 1e-310, 1.5e308])
@pytest.mark.parametrize("batch_size", [1, 4, None])
def test_equal_extreme_weights_train_as_no_weights(backend, weight, batch_size):
    plain = pn.MLP([2, 3, 1], seed=1, backend=backend)
    weighted = pn.MLP([2, 3, 1], seed=1, backend=backend)
    hp = plain.fit(X, y, epochs=3, batch_size=batch_size, lr=0.5)
    hw = weighted.fit(X, y, epochs=3, batch_size=batch_size, lr=0.5, sample_weight=np.full(6, weight))
    assert hw["loss"] == pytest.approx(hp["loss"], rel=1e-12)
    for a, b in zip(weighted.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def test_a_subnormal_row_among_ordinary_ones_counts_for_nothing(backend):
    """Weights 1, 5e-324, 1 in one batch of 3: the middle row's share is 5e-324 / 2, below
    every rounding of the other two — the same steps as a batch of the two others twice."""
    rows = np.array([0, 1, 2])
    a = pn.MLP([2, 3, 1], seed=2, backend=backend)
    b = pn.MLP([2, 3, 1], seed=2, backend=backend)
    ha = a.fit(X[rows], y[rows], epochs=2, batch_size=None, lr=0.5, sample_weight=[1.0, 5e-324, 1.0])
    hb = b.fit(X[rows], y[rows], epochs=2, batch_size=None, lr=0.5, sample_weight=[1.0, 0.0, 1.0])
    assert ha["loss"] == pytest.approx(hb["loss"], rel=1e-14)
    for p, q in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(p, q, rtol=1e-14, atol=1e-16)
