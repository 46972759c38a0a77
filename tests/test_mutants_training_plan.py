"""pyneuron.training_plan's per-operation path on its own (issue 15 item 10: the mutation
run of pyneuron/training_plan.py): one step and one epoch of a 1 -> 1 linear unit on every
backend by hand (mse: L = mean (w x + b − y)², dZ = 2 (a − y) / m), each option on both
sides (penalty, clipping by value and by norm above and below the threshold, frozen
parameters, accuracy counting, the step's learning rate, the batch order, sample weights),
divergence, the loss after the epoch, and the helpers' edges."""
import math

import numpy as np
import pytest

import pyneuron as pn
from pyneuron import optimizers as O
from pyneuron.penalties import Penalty
from pyneuron.training_plan import (EpochResult, TrainPlan, clip_gradients, counted_items, plan_extras,
                                    right_answers)


def unit(backend, w=0.5, b=0.0):
    model = pn.MLP([1, 1], output="linear", backend=backend)
    model.set_weights([np.array([[w]]), np.array([b])])
    return model


def plan(model, lr=0.1, **kw):
    return TrainPlan(model.kernels, model, O.SGD(lr=lr), **kw)


XB, YB = np.array([[1.0], [2.0]]), np.array([[1.0], [0.0]])
# w = 0.5, b = 0: a = [0.5, 1.0], r = a − y = [−0.5, 1.0], L = (0.25 + 1)/2 = 0.625,
# dZ = 2r/2 = r, dW = Σ r x = 1.5, db = Σ r = 0.5


def params(model):
    return float(model.layers[0].W[0, 0]), float(model.layers[0].b[0])


def test_one_step_by_hand(backend):
    model = unit(backend)
    p = plan(model)
    assert p.path == "per-operation" and p.records_penalties and not p.penalty
    assert p.step(XB, YB) == (pytest.approx(0.625, rel=1e-15), 0)      # accuracy not tracked
    assert params(model) == pytest.approx((0.5 - 0.15, -0.05), rel=1e-14)


def test_accuracy_is_counted_when_tracked(backend):
    # a >= 0.5 → [T, T]; y >= 0.5 → [T, F]: one right
    assert plan(unit(backend), track_accuracy=True).step(XB, YB)[1] == 1


def test_l2_from_the_arguments_or_a_penalty(backend):
    """"mean", m = 2: P = 0.2/(2·2)·0.25 = 0.0125; ∂P/∂w = 0.2/2·0.5 = 0.05."""
    model = unit(backend)
    p = plan(model, l2=0.2)
    assert p.penalty and (p.l1, p.l2) == (0.0, 0.2)
    assert p.step(XB, YB)[0] == pytest.approx(0.6375, rel=1e-14)
    assert p.last_penalty == pytest.approx(0.0125, rel=1e-14)
    assert params(model) == pytest.approx((0.5 - 0.1 * 1.55, -0.05), rel=1e-14)
    model = unit(backend)
    given = Penalty(model, l1=0.4, scaling="sum")     # wins over l1/l2: ∂P/∂w = 0.4 sign(w)
    p = plan(model, l2=5.0, penalty=given)
    assert p.penalty is given
    assert p.step(XB, YB)[0] == pytest.approx(0.625 + 0.4 * 0.5, rel=1e-14)
    assert params(model) == pytest.approx((0.5 - 0.1 * 1.9, -0.05), rel=1e-14)


@pytest.mark.parametrize("kw, grads", [
    ({"clip_value": 1.0}, (1.0, 0.5)),                       # only dW is above 1
    ({"clip_value": 0.25}, (0.25, 0.25)),
    ({"clip_value": 2.0}, (1.5, 0.5)),                       # nothing above: unchanged
    ({"clip_norm": 1.0}, (1.5 / math.sqrt(2.5), 0.5 / math.sqrt(2.5))),   # ‖g‖ = √2.5 > 1
    ({"clip_norm": 10.0}, (1.5, 0.5)),                       # below: never scaled up
    ({"clip_value": 1.0, "clip_norm": 0.5}, (0.5 / math.sqrt(1.25), 0.5 * 0.5 / math.sqrt(1.25))),
])
def test_clipping_in_a_step(backend, kw, grads):
    model = unit(backend)
    plan(model, **kw).step(XB, YB)
    assert params(model) == pytest.approx((0.5 - 0.1 * grads[0], -0.1 * grads[1]), rel=1e-13)
    assert model.layers[0].grads["dW"][0, 0] == pytest.approx(1.5)     # the model's own gradient is kept


def test_a_frozen_parameter_is_not_updated(backend):
    model = unit(backend)
    model.freeze("b")
    plan(model).step(XB, YB)
    assert params(model) == pytest.approx((0.35, 0.0), rel=1e-14)
    model = unit(backend)
    model.freeze("W")
    plan(model).step(XB, YB)
    assert params(model) == pytest.approx((0.5, -0.05), rel=1e-14)


def test_a_non_finite_loss_skips_the_update(backend):
    model = unit(backend, w=1e200)
    loss, correct = plan(model, track_accuracy=True)._guarded_step(np.array([[1e200]]), np.array([[0.0]]))
    assert loss == math.inf and correct == 0
    assert params(model) == (1e200, 0.0)


class Recorder:
    def __init__(self):
        self.events = []

    def on_batch_begin(self, model, batch):
        self.events.append(("begin", batch))

    def on_batch_end(self, model, batch, logs=None):
        self.events.append(("end", batch, logs["loss"]))


def sgd_by_hand(rows_per_batch, X, Y, lrs, w=0.5, b=0.0):
    losses = []
    for rows, lr in zip(rows_per_batch, lrs):
        x, y = X[rows, 0], Y[rows, 0]
        r = w * x + b - y
        losses.append(float(np.mean(r * r)))
        dZ = 2 * r / len(rows)
        w, b = w - lr * float(np.sum(dZ * x)), b - lr * float(np.sum(dZ))
    return losses, w, b


X3, Y3 = np.array([[1.0], [2.0], [3.0]]), np.array([[1.0], [0.0], [2.0]])


@pytest.mark.parametrize("order, batches", [(None, [[0, 1], [2]]), (np.array([2, 0, 1]), [[2, 0], [1]])])
def test_an_epoch_by_hand(backend, order, batches):
    model = unit(backend)
    p = plan(model, track_accuracy=True)
    rec = Recorder()
    lrs = []

    def lr_for_step(t):
        lrs.append(t)
        return 0.1 / (t + 1)
    result = p.epoch(X3, Y3, order, 2, lr_for_step=lr_for_step, callbacks=[rec])
    losses, w, b = sgd_by_hand(batches, X3, Y3, [0.1, 0.05])
    assert result.losses == pytest.approx(losses, rel=1e-14)
    assert params(model) == pytest.approx((w, b), rel=1e-13)
    assert lrs == [0, 1] and result.penalties == []
    assert rec.events == [("begin", 0), ("end", 0, result.losses[0]), ("begin", 1), ("end", 1, result.losses[1])]
    assert result.diverged_batch is None and result.counted == 3
    A = np.array([w * X3[i, 0] + b for i in range(3)])
    assert result.correct == int(np.sum((np.array([0.5, 1.0, 0.5 * 3]) >= 0.5) == (Y3[:, 0] >= 0.5)))  # pre-update
    last = batches[-1]
    assert result.after_loss == pytest.approx(float(np.mean((A[last] - Y3[last, 0]) ** 2)), rel=1e-13)
    assert result.mean_loss == pytest.approx(sum(losses) / 2)


def test_an_epoch_without_a_rate_per_step_keeps_the_rate(backend):
    model = unit(backend)
    result = plan(model).epoch(X3, Y3, None, 1)
    losses, w, b = sgd_by_hand([[0], [1], [2]], X3, Y3, [0.1] * 3)
    assert result.losses == pytest.approx(losses, rel=1e-14) and params(model) == pytest.approx((w, b), rel=1e-13)
    assert result.correct == 0 and result.counted == 3


def test_an_epoch_records_each_batch_penalty(backend):
    model = unit(backend)
    result = plan(model, lr=1e-9, l2=0.2).epoch(X3, Y3, None, 2)
    # m = 2 then 1; w ≈ 0.5 throughout (lr 1e-9)
    assert result.penalties == pytest.approx([0.2 / 4 * 0.25, 0.2 / 2 * 0.25], rel=1e-6)


def test_an_epoch_stops_at_the_first_non_finite_loss(backend):
    model = unit(backend, w=1.0)
    rec = Recorder()
    X = np.array([[2.0], [1e200], [1.0]])             # batch 1: a = 2, y = 1: loss 1, right
    result = plan(model, lr=1e-3, track_accuracy=True).epoch(X, np.ones((3, 1)), None, 1, callbacks=[rec])
    assert result.diverged_batch == 2 and len(result.losses) == 2 and result.losses[1] == math.inf
    assert result.after_loss is None and result.counted == 1 and result.correct == 1
    assert rec.events == [("begin", 0), ("end", 0, 1.0), ("begin", 1)]
    assert result.mean_loss == 1.0


def test_loss_after_is_nan_when_a_parameter_or_statistic_is_not_finite(backend):
    model = unit(backend)
    p = plan(model)
    assert p.loss_after(XB, YB) == pytest.approx(0.625, rel=1e-15)
    model.layers[0].b[0] = np.inf
    assert math.isnan(p.loss_after(XB, YB))
    bn = pn.MLP([1, 2, 1], output="linear", backend=backend, batch_norm=True, seed=0)
    q = plan(bn)
    assert math.isfinite(q.loss_after(XB, YB))
    bn.layers[0].running_mean[1] = np.nan
    assert math.isnan(q.loss_after(XB, YB))


def test_sample_weights_weight_the_loss_and_the_penalty(backend):
    """w = [3, 1]: L = (3·0.25 + 1·1)/4 = 0.4375; the penalty's m is Σw = 4: 0.2/8·0.25."""
    model = unit(backend)
    p = plan(model, l2=0.2, sample_weight=np.array([3.0, 1.0, 5.0]))
    result = p.epoch(np.vstack([XB, [[0.0]]]), np.vstack([YB, [[0.0]]]), None, 2)
    assert result.losses[0] == pytest.approx(0.4375 + 0.2 / 8 * 0.25, rel=1e-14)
    assert result.penalties[0] == pytest.approx(0.2 / 8 * 0.25, rel=1e-14)


def test_epoch_result():
    r = EpochResult()
    assert (r.losses, r.penalties, r.correct, r.counted, r.diverged_batch, r.after_loss) == ([], [], 0, 0, None, None)
    assert math.isnan(r.mean_loss) and math.isnan(r.accuracy)
    assert EpochResult(losses=[1.0, 2.0, 6.0]).mean_loss == 3.0
    assert EpochResult(losses=[1.0, 2.0, math.inf], diverged_batch=3).mean_loss == 1.5
    assert math.isnan(EpochResult(losses=[math.nan], diverged_batch=1).mean_loss)
    assert EpochResult(correct=3, counted=4).accuracy == 0.75


def test_clip_gradients_by_hand():
    g = [np.array([3.0, -4.0]), np.array([0.5])]
    clip_gradients(g, None, None)
    assert g[0].tolist() == [3.0, -4.0] and g[1].tolist() == [0.5]
    clip_gradients(g, 2.0, None)
    assert g[0].tolist() == [2.0, -2.0] and g[1].tolist() == [0.5]
    g = [np.array([3.0, -4.0])]
    clip_gradients(g, None, 5.0)                     # ‖g‖ = 5: at the threshold, unchanged
    assert g[0].tolist() == [3.0, -4.0]
    clip_gradients(g, None, 2.5)
    np.testing.assert_allclose(g[0], [1.5, -2.0], rtol=1e-15)
    g = [np.array([0.3, 0.4])]
    clip_gradients(g, None, 1.0)                     # ‖g‖ = 0.5 < 1: never scaled up
    assert g[0].tolist() == [0.3, 0.4]


def test_clip_norm_of_huge_float32_gradients():
    """Issue 15 item 2c: 1.5e19² overflows float32; the norm is summed in float64."""
    g = [np.array([[1.5e19]], dtype=np.float32), np.array([1.5e19], dtype=np.float32)]
    clip_gradients(g, None, 1.0)
    np.testing.assert_allclose([g[0][0, 0], g[1][0]], [1 / math.sqrt(2)] * 2, rtol=1e-6)
    assert g[0].dtype == np.float32


def test_right_answers_and_counted_items():
    A = np.array([[0.5, 0.49], [0.9, 0.1]])
    Y = np.array([[1.0, 0.0], [0.5, 1.0]])
    # A >= 0.5: [T F; T F]; Y >= 0.5: [T F; T T] → 3 right
    assert right_answers(A, Y, "bce") == 3 and right_answers(A, Y, "mse") == 3
    # cce: argmax per row: A → [0, 0, 1], Y → [0, 1, 1]: two right, one wrong
    A3, Y3 = np.vstack([A, [[0.2, 0.8]]]), np.vstack([Y, [[0.0, 1.0]]])
    assert right_answers(A3, Y3, "cce") == 2
    assert counted_items(Y3, "cce") == 3 and counted_items(Y3, "bce") == 6 and counted_items(np.zeros((3, 5)), "mse") == 15


def test_plan_extras():
    assert plan_extras() == (None, None)
    assert plan_extras(penalty="p", sample_weight="w") == ("p", "w")
    with pytest.raises(TypeError):
        plan_extras(dropout=0.5)


def test_a_plan_with_its_own_epoch_does_not_record_penalties(backend):
    class Own(TrainPlan):
        def epoch(self, *args, **kwargs):
            return EpochResult()
    model = unit(backend)
    assert not Own(model.kernels, model, O.SGD()).records_penalties


def test_an_overflow_error_is_a_non_finite_step(backend):
    """Python floats raise OverflowError where NumPy gives inf: the guard turns it into
    the loss inf with no right answers, and the epoch stops there."""
    class Overflowing(TrainPlan):
        def step(self, Xb, Yb):
            raise OverflowError("math range error")
    model = unit(backend)
    p = Overflowing(model.kernels, model, O.SGD(), track_accuracy=True)
    assert p._guarded_step(XB, YB) == (math.inf, 0)
    result = p.epoch(XB, YB, None, 1)
    assert result.diverged_batch == 1 and result.losses == [math.inf] and result.counted == 0
