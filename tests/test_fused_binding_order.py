"""The C plan checks the model's arrays after everything that runs Python before its C
call — the per-step learning-rate schedule, the dropout-mask source, batch callbacks — so
an array one of them made read-only or replaced is refused (or bound afresh), never
written behind the user's back."""
import numpy as np
import pytest

import pyneuron as pn
from pyneuron import optimizers as O
from pyneuron.backends import get as get_backend

from helpers import require_backend

X = np.random.default_rng(0).standard_normal((8, 3))
y = np.arange(8) % 2


@pytest.mark.parametrize("by_steps", [False, True])
def test_a_schedule_that_freezes_a_weight_is_refused_before_c_writes(by_steps):
    require_backend("c")
    model = pn.MLP([3, 2, 1], seed=0, backend="c")
    plan = get_backend("c").train_plan(model, O.SGD(0.1))
    Y = model.encode_y(y, 8)
    before = model.layers[0].W.copy()

    def rate(t):
        model.layers[0].W.flags.writeable = False
        return 0.1

    callbacks = [type("Hook", (), {"on_batch_begin": lambda *a: None, "on_batch_end": lambda *a: None})()] \
        if by_steps else ()
    with pytest.raises(ValueError, match="W1.*read-only"):
        plan.epoch(X, Y, None, 4, lr_for_step=rate, callbacks=callbacks)
    np.testing.assert_array_equal(model.layers[0].W, before)


def test_a_mask_source_that_freezes_a_weight_is_refused_before_c_writes():
    require_backend("c")
    model = pn.MLP([3, 4, 1], seed=0, backend="c", dropout=0.5)
    before = model.layers[1].W.copy()

    def masks(layer, shape):
        model.layers[1].W.flags.writeable = False
        return np.ones(shape)

    with pytest.raises(ValueError, match="W2.*read-only"):
        model.fit(X, y, epochs=1, batch_size=4, lr=0.1, dropout_masks=masks)
    np.testing.assert_array_equal(model.layers[1].W, before)


def test_a_schedule_that_replaces_a_weight_trains_the_new_array():
    require_backend("c")
    model = pn.MLP([3, 2, 1], seed=0, backend="c")
    plan = get_backend("c").train_plan(model, O.SGD(0.1))
    Y = model.encode_y(y, 8)
    old = model.layers[0].W
    kept = old.copy()

    def rate(t):
        if model.layers[0].W is old:
            model.layers[0].W = old * 0.5
        return 0.1

    plan.epoch(X, Y, None, 4, lr_for_step=rate)
    np.testing.assert_array_equal(old, kept)                 # the replaced array is not written
    twin = pn.MLP([3, 2, 1], seed=0, backend="c")
    twin.layers[0].W = twin.layers[0].W * 0.5
    get_backend("c").train_plan(twin, O.SGD(0.1)).epoch(X, Y, None, 4, lr_for_step=lambda t: 0.1)
    for a, b in zip(model.parameters(), twin.parameters()):
        np.testing.assert_array_equal(a, b)
