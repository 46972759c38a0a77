"""The C epoch reads each step's learning rate from a buffer it keeps between epochs and
refills only when the rate changes: a rate changed between epochs (a callback, as
ReduceLROnPlateau does) is used from the next epoch on, as on the per-operation path, and
a rate that is not positive and finite is refused even when the buffer holds the last one."""
from __future__ import annotations

import contextlib
import math

import numpy as np
import pytest

import pyneuron as pn
from pyneuron.training import Callback

from helpers import require_backend
from test_fused_training import per_operation

X = np.random.default_rng(4).standard_normal((20, 3))
y = (X[:, 0] > 0).astype(int)


class SetLR(Callback):
    """Sets the optimizer's learning rate at the end of chosen epochs (no batch hooks, so
    the fused plans keep running one call per epoch)."""

    def __init__(self, rates):
        self.rates = rates

    def on_epoch_end(self, epoch, logs=None):
        if epoch in self.rates:
            self.model.optimizer.lr = self.rates[epoch]


def _fit(backend, per_op, rates):
    require_backend(backend)
    model = pn.MLP([3, 5, 1], seed=1, backend=backend)
    with per_operation(backend) if per_op else contextlib.nullcontext():
        history = model.fit(X, y, epochs=4, batch_size=6, optimizer=pn.optimizers.SGD(0.5),
                            callbacks=[SetLR(rates)])
    return model, history


@pytest.mark.parametrize("backend", ["numpy", "c"])
def test_a_rate_changed_between_epochs_is_used_from_the_next_epoch(backend):
    rates = {1: 0.05, 2: 0.05, 3: 2.0}
    model, history = _fit(backend, False, rates)
    ref, ref_history = _fit("numpy", True, rates)
    assert history["lr"] == [0.5, 0.05, 0.05, 2.0]     # logged before on_epoch_end sets the next
    np.testing.assert_allclose(history["loss"], ref_history["loss"], rtol=1e-12)
    for a, b in zip(model.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    unchanged, _ = _fit(backend, False, {})    # and a different run than without the changes
    assert not np.allclose(unchanged.get_weights()[0], model.get_weights()[0])


@pytest.mark.parametrize("bad", [0.0, -0.1, math.nan, math.inf])
def test_a_bad_rate_set_between_epochs_is_refused_by_the_c_plan(bad):
    with pytest.raises(ValueError, match="lr: expected a positive finite learning rate"):
        _fit("c", False, {2: bad})
