"""Plain SGD in the C epoch: the update folded into the weight-gradient product, and the
first layer's weights kept transposed from the epoch's first step to its last.

With no momentum, penalty or clipping, the C step adds ``-lr dZᵀ X`` straight into ``W``
(``typed_fit_pass.c``: sgd_folds_into_product), and a whole C epoch keeps the first
layer's ``W`` as ``Wᵀ`` (``typed_fit.c``: first_layer_transposed), writing it back at the
epoch's end. Both sum the same terms in the same order as the step-by-step path (one C
call per step, which a per-batch callback forces and which never keeps ``Wᵀ``), so the
two must agree bit for bit when the products are wider than the narrow rung's 16 columns.
The step-by-step path is the reference here; tests/test_fused_training.py holds every
fused path to the per-operation path and to the numpy backend.
"""
import numpy as np
import pytest

import pyneuron as pn
from pyneuron.callbacks import Callback
from pyneuron.schedules import Schedule

from helpers import require_backend

RNG = np.random.default_rng(7)
X = RNG.standard_normal((200, 20))   # 13 steps an epoch: enough to keep Wᵀ
LABELS = RNG.integers(0, 5, 200)
SIZES = [20, 24, 18, 5]     # first layer 24 x 20: both layouts wider than 16 columns


class BatchHook(Callback):
    """Acts between batches, so fit makes one C call per step."""

    def on_batch_end(self, model, batch, logs=None):
        pass


class StepDecay(Schedule):
    """lr 0.9^t: a new learning rate at every step, which the fold must take."""

    per = "step"

    def __call__(self, initial_lr, t):
        return initial_lr * 0.9 ** t


def _fit(steps_apart, dtype="float64", freeze=False, **fit_kw):
    require_backend("c")
    model = pn.MLP(SIZES, activation="relu", output="softmax", seed=3, backend="c", dtype=dtype)
    if freeze:
        model.freeze("layer0")
    history = model.fit(X.astype(dtype), LABELS, epochs=3, batch_size=16, optimizer=pn.optimizers.SGD(0.05),
                        callbacks=[BatchHook()] if steps_apart else None, **fit_kw)
    return model, history


def _assert_same(a, b):
    (ma, ha), (mb, hb) = a, b
    assert ha["loss"] == hb["loss"] and ha["accuracy"] == hb["accuracy"]
    for la, lb in zip(ma.layers, mb.layers):
        np.testing.assert_array_equal(la.W, lb.W)
        np.testing.assert_array_equal(la.b, lb.b)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_whole_epoch_equals_one_call_per_step_bit_for_bit(dtype):
    _assert_same(_fit(False, dtype), _fit(True, dtype))


def test_the_weights_move_and_agree_with_numpy():
    # the folded update is an update: W changes, by what the numpy backend computes
    start = pn.MLP(SIZES, activation="relu", output="softmax", seed=3, backend="c")
    model, _ = _fit(False)
    ref = pn.MLP(SIZES, activation="relu", output="softmax", seed=3, backend="numpy")
    ref.fit(X, LABELS, epochs=3, batch_size=16, optimizer=pn.optimizers.SGD(0.05))
    for got, want, before in zip(model.layers, ref.layers, start.layers):
        assert not np.array_equal(got.W, before.W)
        np.testing.assert_allclose(got.W, want.W, rtol=1e-10, atol=1e-12)


def test_a_frozen_first_layer_stays_put():
    start = pn.MLP(SIZES, activation="relu", output="softmax", seed=3, backend="c")
    model, _ = _fit(False, freeze=True)
    np.testing.assert_array_equal(model.layers[0].W, start.layers[0].W)
    assert not np.array_equal(model.layers[1].W, start.layers[1].W)
    _assert_same((model, _fit(False, freeze=True)[1]), _fit(True, freeze=True))


def test_a_learning_rate_per_step_is_folded_at_each_step():
    _assert_same(_fit(False, lr_schedule=StepDecay()), _fit(True, lr_schedule=StepDecay()))
    assert not np.array_equal(_fit(False, lr_schedule=StepDecay())[0].layers[0].W, _fit(False)[0].layers[0].W)


def test_divergence_mid_epoch_leaves_the_epochs_starting_weights():
    require_backend("c")
    model = pn.MLP(SIZES, activation="relu", output="softmax", seed=3, backend="c")
    model.fit(X, LABELS, epochs=1, batch_size=16, optimizer=pn.optimizers.SGD(0.05))
    before = [layer.W.copy() for layer in model.layers]
    with pytest.raises(pn.TrainingDivergedError):
        model.fit(X * 1e150, LABELS, epochs=1, batch_size=16, optimizer=pn.optimizers.SGD(1e10))
    for layer, W in zip(model.layers, before):
        np.testing.assert_array_equal(layer.W, W)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_folded_update_equals_the_gradient_then_the_step_bit_for_bit(dtype):
    # a clip_norm no gradient reaches turns the fold off (clipping reads dW) and changes
    # nothing else: W - lr dW from the stored gradient, rounded as the fold rounds it
    _assert_same(_fit(False, dtype), _fit(False, dtype, clip_norm=1e30))
