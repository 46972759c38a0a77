"""pyneuron.backends.c_plan (the fused C training plan) beyond the fused tests (issue 15 item 10:
what the mutation run showed untested). Each check of an epoch's arguments on its own, with
its message: X and Y (type, dtype, dimensions, widths, row counts, no rows), an order or a
block of orders of the wrong shape, sample weights of the wrong shape; which models the plan
runs (1 to 64 layers); new data in the same plan trains on the new data. Expected values
are written out here or come from a fresh plan, never from the plan under test."""
from __future__ import annotations

import math

import numpy as np
import pytest

import pyneuron as pn
from pyneuron import optimizers as O

from helpers import c_backend_module

c_backend_module()  # skip the file, or fail under PYNEURON_REQUIRE_C

from pyneuron.backends import get as get_backend  # noqa: E402
from pyneuron.backends.c_plan import CTrainPlan, supports  # noqa: E402
from pyneuron.training_plan import TrainPlan  # noqa: E402

X = np.random.default_rng(0).standard_normal((6, 3))
Y = np.eye(2)[np.arange(6) % 2]


def plan(**extras):
    net = pn.MLP([3, 4, 2], output="softmax", seed=0, backend="c")
    return get_backend("c").train_plan(net, O.SGD(0.1), **extras)


SHAPES = r"^X, Y: expected shapes \(m, 3\) and \(m, 2\) with m >= 1, got "
BAD_EPOCH = {
    "X 1-D": (lambda p: p.epoch(X[0], Y, None, 3), TypeError,
              r"^X: expected a 2-D numpy array of float64, got float64 of shape \(3,\)$"),
    "X float32": (lambda p: p.epoch(X.astype(np.float32), Y, None, 3), TypeError,
                  r"^X: expected a 2-D numpy array of float64, got float32 of shape \(6, 3\)$"),
    "X list": (lambda p: p.epoch(X.tolist(), Y, None, 3), TypeError,
               r"^X: expected a 2-D numpy array of float64, got list of shape None$"),
    "Y list": (lambda p: p.epoch(X, Y.tolist(), None, 3), TypeError,
               r"^Y: expected a 2-D numpy array of float64, got list of shape None$"),
    "X width": (lambda p: p.epoch(np.ones((6, 4)), Y, None, 3), ValueError, SHAPES + r"\(6, 4\) and \(6, 2\)$"),
    "Y rows": (lambda p: p.epoch(X, Y[:5], None, 3), ValueError, SHAPES + r"\(6, 3\) and \(5, 2\)$"),
    "Y columns": (lambda p: p.epoch(X, np.ones((6, 3)), None, 3), ValueError, SHAPES + r"\(6, 3\) and \(6, 3\)$"),
    "no rows": (lambda p: p.epoch(X[:0], Y[:0], None, 3), ValueError, SHAPES + r"\(0, 3\) and \(0, 2\)$"),
    "epochs X width": (lambda p: p.epochs(np.ones((6, 4)), Y, None, 3, 2), ValueError,
                       SHAPES + r"\(6, 4\) and \(6, 2\)$"),
    "order short": (lambda p: p.epoch(X, Y, np.arange(5), 3), ValueError,
                    r"^order: expected a permutation of range\(6\), got shape \(5,\)$"),
    "order 2-D": (lambda p: p.epoch(X, Y, np.arange(6).reshape(2, 3), 3), ValueError,
                  r"^order: expected a permutation of range\(6\), got shape \(2, 3\)$"),
    "order outside": (lambda p: p.epoch(X, Y, np.array([0, 1, 2, 3, 4, 6]), 3), ValueError,
                      r"^order: expected row indices in range\(n\), got one outside it$"),
    "orders outside": (lambda p: p.epochs(X, Y, np.array([[0, 1, 2, 3, 4, 5], [0, 1, 2, 3, -1, 5]]), 3, 2),
                       ValueError, r"^order: expected row indices in range\(n\), got one outside it$"),
    "orders short": (lambda p: p.epochs(X, Y, np.tile(np.arange(6), (2, 1)), 3, 3), ValueError,
                     r"^orders: expected 3 permutations of range\(6\), shape \(3, 6\), got shape \(2, 6\)$"),
}


@pytest.mark.parametrize("case", BAD_EPOCH)
def test_each_bad_epoch_argument_is_refused_before_any_update(case):
    p = plan()
    before = p.model.get_weights()
    call, exc, message = BAD_EPOCH[case]
    with pytest.raises(exc, match=message):
        call(p)
    for a, b in zip(p.model.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def test_sample_weights_of_the_wrong_shape_are_refused():
    with pytest.raises(ValueError, match=r"^sample_weight: expected one weight per training row, shape \(m,\), "
                                         r"got shape \(6, 1\)$"):
        plan(sample_weight=np.ones((6, 1)))
    with pytest.raises(ValueError, match=r"^sample_weight: expected one weight per training row, shape \(6,\), "
                                         r"got shape \(5,\)$"):
        plan(sample_weight=np.ones(5)).epoch(X, Y, None, 3)


@pytest.mark.parametrize("n_layers, fused", [(1, True), (2, True), (64, True), (65, False)])
def test_the_fused_plan_runs_1_to_64_layers(n_layers, fused):
    net = pn.MLP([2] * n_layers + [1], seed=0, backend="c")
    assert len(net.layers) == n_layers
    assert supports(net, O.SGD(0.1)) is fused
    assert type(get_backend("c").train_plan(net, O.SGD(0.1))) is (CTrainPlan if fused else TrainPlan)


@pytest.mark.parametrize("change", ["X", "Y", "both"])
def test_new_data_in_the_same_plan_trains_on_the_new_data(change):
    X2, Y2 = X[::-1].copy(), Y[[1, 1, 0, 0, 1, 0]]
    X2, Y2 = (X2 if change != "Y" else X), (Y2 if change != "X" else Y)
    same = plan()
    same.epoch(X, Y, None, 3)
    same.epoch(X2, Y2, None, 3)
    fresh = plan()
    fresh.epoch(X, Y, None, 3)
    fresh = get_backend("c").train_plan(fresh.model, fresh.optimizer)   # a new plan: nothing cached
    fresh.epoch(X2.copy(), Y2.copy(), None, 3)
    for a, b in zip(same.model.get_weights(), fresh.model.get_weights()):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------- defaults, workspace, restore points
def test_the_plans_defaults_are_no_penalty_no_clipping_no_accuracy():
    net = pn.MLP([3, 4, 2], output="softmax", seed=0, backend="c")
    p = CTrainPlan(get_backend("c"), net, O.SGD(0.1))
    assert (p.l1, p.l2, p.clip_value, p.clip_norm, p.track_accuracy) == (0.0, 0.0, None, None, False)
    assert not p.penalty and p.sample_weight is None
    result = p.epoch(X, Y, None, 3)
    assert result.correct == 0 and result.penalties == []        # nothing counted, no penalty


def test_the_workspace_is_made_once_per_batch_size_and_grown_for_a_bigger_one():
    p = plan()
    p.epoch(X, Y, None, 2)
    work = p._work_array
    for batch in (2, 1, 2):                   # the same or a smaller batch: the same workspace
        p.epoch(X, Y, None, batch)
        assert p._work_array is work
    p.epoch(X, Y, None, 3)
    assert p._work_array is not work


def per_operation(net, optimizer):
    """The per-operation plan (composing the C kernels): the reference for the fused one."""
    return TrainPlan(get_backend("c"), net, optimizer)


def test_go_back_after_epochs_and_an_epoch_returns_to_the_start_of_the_last_of_the_epochs():
    """epochs() keeps a restore point before each epoch; a following epoch() without
    keep_restore_point keeps none, so go_back returns to the start of epochs()' last epoch."""
    weights = []
    for make in (per_operation, lambda net, opt: get_backend("c").train_plan(net, opt)):
        net = pn.MLP([3, 4, 2], output="softmax", seed=0, backend="c")
        p = make(net, O.SGD(0.1))
        assert len(p.epochs(X, Y, None, 3, 2)) == 2
        p.epoch(X, Y, None, 3)
        p.go_back()
        weights.append(net.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    # and that is not where the epoch() left them: go_back really moved them
    net = pn.MLP([3, 4, 2], output="softmax", seed=0, backend="c")
    p = get_backend("c").train_plan(net, O.SGD(0.1))
    p.epochs(X, Y, None, 3, 2)
    p.epoch(X, Y, None, 3)
    assert any(not np.allclose(a, b) for a, b in zip(net.get_weights(), weights[1]))


def test_go_back_without_a_restore_point_fails_as_on_the_per_operation_plan():
    for make in (per_operation, lambda net, opt: get_backend("c").train_plan(net, opt)):
        net = pn.MLP([3, 4, 2], output="softmax", seed=0, backend="c")
        p = make(net, O.SGD(0.1))
        p.epoch(X, Y, None, 3)
        trained = net.get_weights()
        with pytest.raises(RuntimeError, match=r"^go_back: no restore point was kept \(call keep_restore_point "
                                               r"before the epoch\)$"):
            p.go_back()
        for a, b in zip(net.get_weights(), trained):
            np.testing.assert_array_equal(a, b)


def test_go_back_after_two_epochs_returns_to_the_point_kept_before_the_first():
    weights = []
    for make in (per_operation, lambda net, opt: get_backend("c").train_plan(net, opt)):
        net = pn.MLP([3, 4, 2], output="softmax", seed=0, backend="c")
        p = make(net, O.SGD(0.1))
        start = net.get_weights()
        p.keep_restore_point()
        p.epoch(X, Y, None, 3)
        p.epoch(X, Y, None, 3)                # no restore point asked for this one
        p.go_back()
        weights.append(net.get_weights())
        for a, b in zip(weights[-1], start):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("track_accuracy", [False, True])
@pytest.mark.parametrize("output, batch", [("softmax", 3), ("softmax", 4), ("sigmoid", 4)])
def test_epochs_report_what_the_per_operation_plan_reports(track_accuracy, output, batch):
    labels = np.arange(6) % 2
    runs = []
    for make in (per_operation, lambda net, opt: get_backend("c").train_plan(net, opt)):
        net = pn.MLP([3, 4, 2], output=output, seed=0, backend="c")
        Yo = np.eye(2)[labels] if output == "softmax" else np.eye(2)[labels][:, ::-1].copy()
        p = make(net, O.SGD(0.1))
        p.track_accuracy = track_accuracy
        runs.append(p.epochs(X, Yo, None, batch, 2))
    for ref, got in zip(*runs):
        np.testing.assert_allclose(got.losses, ref.losses, rtol=1e-12)
        assert (got.correct, got.counted, got.diverged_batch) == (ref.correct, ref.counted, ref.diverged_batch)
        assert got.after_loss == pytest.approx(ref.after_loss, rel=1e-12)
        # every row seen: one answer per row (softmax), one per output (sigmoid)
        assert got.counted == 6 * (1 if output == "softmax" else 2)
        if not track_accuracy:
            assert got.correct == 0


@pytest.mark.parametrize("row", [0, 2])
def test_epochs_that_diverge_report_what_the_per_operation_plan_reports(row):
    # a linear unit, squared error: the row of x = 1e200 overflows the loss to inf at its batch
    Xd, Yd = np.ones((4, 1)), np.zeros((4, 1))
    Xd[row] = 1e200
    results = []
    for make in (per_operation, lambda net, opt: get_backend("c").train_plan(net, opt)):
        net = pn.MLP([1, 1], output="linear", seed=0, backend="c")
        p = make(net, O.SGD(0.1))
        runs = p.epochs(Xd, Yd, None, 1, 3)
        results.append(([(r.losses, r.diverged_batch, r.counted, r.after_loss) for r in runs], p.optimizer.t))
    assert results[1] == results[0]
    (runs, t) = results[1]
    assert len(runs) == 1 and runs[0][1] == row + 1 and len(runs[0][0]) == row + 1   # stopped at its batch
    assert math.isinf(runs[0][0][-1]) and t == row


# ---------------------------------------------------------------- an epoch, whole or step by step
class Recorder:
    """Batch callbacks (they make the C plan run one call per step): what they were told."""

    def __init__(self):
        self.calls = []

    def on_batch_begin(self, model, batch):
        self.calls.append(("begin", batch))

    def on_batch_end(self, model, batch, logs=None):
        self.calls.append(("end", batch, logs["loss"]))


RUN_CASES = {   # name -> (batch, order, learning rate per step or None, sample weights or None, track accuracy)
    "whole batches": (3, None, None, None, True),
    "a last partial batch": (4, None, None, None, False),
    "an order": (4, [5, 0, 3, 1, 4, 2], None, None, True),
    "a schedule": (2, None, lambda t: 0.1 / (1 + t), None, True),
    "a schedule and an order": (4, [1, 0, 3, 2, 5, 4], lambda t: 0.2 * 0.5 ** t, None, False),
    "sample weights": (4, None, None, [1.0, 2.0, 0.5, 1.0, 3.0, 1.0], True),
    "sample weights and an order": (4, [5, 4, 3, 2, 1, 0], None, [1.0, 2.0, 0.5, 1.0, 3.0, 1.0], False),
}


def run_on(make, case, by_steps, dropout=0.0, epochs=2):
    batch, order, lr_for_step, weights, track = RUN_CASES[case]
    net = pn.MLP([3, 4, 2], output="softmax", seed=0, backend="c", dropout=dropout)
    extras = {} if weights is None else {"sample_weight": np.array(weights)}
    p = make(net, O.SGD(0.1), **extras)
    p.track_accuracy = track
    recorder = Recorder()
    results = [p.epoch(X, Y, None if order is None else np.array(order), batch, lr_for_step,
                       [recorder] if by_steps else ()) for _ in range(epochs)]
    return net, p, recorder, results


@pytest.mark.parametrize("by_steps", [False, True], ids=["one call", "one call per step"])
@pytest.mark.parametrize("case", RUN_CASES)
def test_an_epoch_gives_what_the_per_operation_plan_gives(case, by_steps):
    ref_net, ref, ref_rec, ref_results = run_on(lambda n, o, **e: TrainPlan(get_backend("c"), n, o, **e), case, True)
    net, p, rec, results = run_on(lambda n, o, **e: get_backend("c").train_plan(n, o, **e), case, by_steps)
    assert type(p) is CTrainPlan
    for r, g in zip(ref_results, results):
        np.testing.assert_allclose(g.losses, r.losses, rtol=1e-12)
        assert (g.correct, g.counted, g.diverged_batch) == (r.correct, r.counted, r.diverged_batch)
        assert g.after_loss == pytest.approx(r.after_loss, rel=1e-12)
    for a, b in zip(net.get_weights(), ref_net.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    assert p.optimizer.t == ref.optimizer.t
    assert p.optimizer.lr == pytest.approx(ref.optimizer.lr, rel=1e-15)     # the last step's rate
    if by_steps:
        assert [c[:2] for c in rec.calls] == [c[:2] for c in ref_rec.calls]
        np.testing.assert_allclose([c[2] for c in rec.calls if c[0] == "end"],
                                   [c[2] for c in ref_rec.calls if c[0] == "end"], rtol=1e-12)


@pytest.mark.parametrize("by_steps", [False, True], ids=["one call", "one call per step"])
@pytest.mark.parametrize("case", ["whole batches", "a last partial batch", "an order"])
def test_an_epoch_with_dropout_gives_what_the_per_operation_plan_gives(case, by_steps):
    """The masks come from the model's generator in the per-operation plan's order."""
    ref_net, _, _, ref_results = run_on(lambda n, o, **e: TrainPlan(get_backend("c"), n, o, **e), case, True, 0.4)
    net, _, _, results = run_on(lambda n, o, **e: get_backend("c").train_plan(n, o, **e), case, by_steps, 0.4)
    for r, g in zip(ref_results, results):
        np.testing.assert_allclose(g.losses, r.losses, rtol=1e-12)
    for a, b in zip(net.get_weights(), ref_net.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    assert net.rng.random() == ref_net.rng.random()          # the same numbers drawn


def test_the_per_batch_buffers_are_kept_between_epochs_and_grown_for_more_batches():
    p = plan()
    p.epoch(X, Y, None, 3)                    # 2 batches
    buffers = p._c_out
    for batch in (3, 6, 3):                   # as many batches or fewer: the same buffers
        result = p.epoch(X, Y, None, batch)
        assert p._c_out is buffers
        assert len(result.losses) == 6 // batch and result.diverged_batch is None   # none from a longer epoch
    p.epoch(X, Y, None, 2)                    # 3 batches
    assert p._c_out is not buffers


@pytest.mark.parametrize("by_steps", [False, True], ids=["one call", "one call per step"])
def test_an_epoch_of_sigmoid_outputs_counts_one_answer_per_output(by_steps):
    results = []
    for make in (lambda n, o: TrainPlan(get_backend("c"), n, o), lambda n, o: get_backend("c").train_plan(n, o)):
        net = pn.MLP([3, 4, 2], output="sigmoid", seed=0, backend="c")
        p = make(net, O.SGD(0.1))
        p.track_accuracy = True
        results.append(p.epoch(X, Y, None, 4, None, [Recorder()] if by_steps else ()))
    ref, got = results
    assert got.counted == ref.counted == 12           # 6 rows x 2 outputs
    assert got.correct == ref.correct


@pytest.mark.parametrize("by_steps", [False, True], ids=["one call", "one call per step"])
def test_masks_handed_in_for_one_layer_and_drawn_for_another_as_on_the_per_operation_plan(by_steps):
    def fixed_masks(shape):                       # keeps alternate units of each row
        return (np.arange(shape[0] * shape[1]).reshape(shape) % 2).astype(float)

    runs = []
    for make in (lambda n, o: TrainPlan(get_backend("c"), n, o), lambda n, o: get_backend("c").train_plan(n, o)):
        net = pn.MLP([3, 5, 4, 2], output="softmax", seed=0, backend="c", dropout=0.4)
        net.layers[1].mask_source = fixed_masks   # layer 2 handed in, layer 1 from the generator
        p = make(net, O.SGD(0.1))
        results = [p.epoch(X, Y, None, 4, None, [Recorder()] if by_steps else ()) for _ in range(2)]
        runs.append((net, results))
    (ref_net, ref), (net, got) = runs
    for r, g in zip(ref, got):
        np.testing.assert_allclose(g.losses, r.losses, rtol=1e-12)
    for a, b in zip(net.get_weights(), ref_net.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    assert net.rng.random() == ref_net.rng.random()


def test_a_learning_rate_changed_between_epochs_reaches_c_whatever_its_value():
    # 2.0 is also the number of batches of the epoch before: the rate, not the count, decides
    runs = []
    for make in (lambda n, o: TrainPlan(get_backend("c"), n, o), lambda n, o: get_backend("c").train_plan(n, o)):
        net = pn.MLP([3, 4, 2], output="softmax", seed=0, backend="c")
        p = make(net, O.SGD(0.5))
        p.epoch(X, Y, None, 3)                    # 2 batches at 0.5
        p.optimizer.lr = 2.0
        p.epoch(X, Y, None, 3)                    # 2 batches at 2.0
        runs.append(net.get_weights())
    for a, b in zip(*runs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def test_a_schedule_after_an_epoch_at_a_constant_rate_reaches_c():
    runs = []
    for make in (lambda n, o: TrainPlan(get_backend("c"), n, o), lambda n, o: get_backend("c").train_plan(n, o)):
        net = pn.MLP([3, 4, 2], output="softmax", seed=0, backend="c")
        p = make(net, O.SGD(0.1))
        p.epoch(X, Y, None, 3)                                    # 2 batches at 0.1
        p.epoch(X, Y, None, 3, lambda t: 0.5 / (1 + t))           # 2 batches at 0.5/3, 0.5/4
        runs.append(net.get_weights())
        assert p.optimizer.lr == 0.5 / 4
    for a, b in zip(*runs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("by_steps", [False, True], ids=["one call", "one call per step"])
@pytest.mark.parametrize("row", [0, 2])
def test_an_epoch_that_diverges_reports_what_the_per_operation_plan_reports(row, by_steps):
    Xd, Yd = np.ones((4, 1)), np.zeros((4, 1))
    Xd[row] = 1e200                                  # the loss overflows to inf at its batch
    results = []
    for make in (lambda n, o: TrainPlan(get_backend("c"), n, o), lambda n, o: get_backend("c").train_plan(n, o)):
        net = pn.MLP([1, 1], output="linear", seed=0, backend="c")
        p = make(net, O.SGD(0.1))
        r = p.epoch(Xd, Yd, None, 1, None, [Recorder()] if by_steps else ())
        results.append((r.losses, r.diverged_batch, r.counted, r.after_loss, p.optimizer.t))
    assert results[1] == results[0]
    assert len(results[1][0]) == row + 1 and results[1][1] == row + 1 and math.isinf(results[1][0][-1])


def test_epochs_report_each_batchs_penalty_as_the_per_operation_plan_does():
    runs = []
    for make in (lambda n, o: TrainPlan(get_backend("c"), n, o, 0.01, 0.1),
                 lambda n, o: get_backend("c").train_plan(n, o, 0.01, 0.1)):
        net = pn.MLP([3, 4, 2], output="softmax", seed=0, backend="c")
        runs.append(make(net, O.SGD(0.1)).epochs(X, Y, None, 4, 3))
    for ref, got in zip(*runs):
        assert len(got.penalties) == len(ref.penalties) == 2
        np.testing.assert_allclose(got.penalties, ref.penalties, rtol=1e-12)
        np.testing.assert_allclose(got.losses, ref.losses, rtol=1e-12)


@pytest.mark.parametrize("second", ["epoch", "epochs"])
def test_the_same_rate_for_more_batches_than_before_reaches_every_batch(second):
    runs = []
    for make in (lambda n, o: TrainPlan(get_backend("c"), n, o), lambda n, o: get_backend("c").train_plan(n, o)):
        net = pn.MLP([3, 4, 2], output="softmax", seed=0, backend="c")
        p = make(net, O.SGD(0.1))
        p.epoch(X, Y, None, 3)                    # 2 batches
        if second == "epoch":
            p.epoch(X, Y, None, 2)                # 3 batches, the same rate
        else:
            p.epochs(X, Y, None, 1, 2)            # 6 batches an epoch
        runs.append(net.get_weights())
    for a, b in zip(*runs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def test_a_new_rate_written_for_one_batch_is_written_again_for_more():
    runs = []
    for make in (lambda n, o: TrainPlan(get_backend("c"), n, o), lambda n, o: get_backend("c").train_plan(n, o)):
        net = pn.MLP([3, 4, 2], output="softmax", seed=0, backend="c")
        p = make(net, O.SGD(0.1))
        p.epoch(X, Y, None, 2)                    # 3 batches at 0.1
        p.optimizer.lr = 0.2
        p.epoch(X, Y, None, 6)                    # 1 batch at 0.2
        p.epoch(X, Y, None, 2)                    # 3 batches at 0.2: not 0.2 then 0.1, 0.1
        runs.append(net.get_weights())
    for a, b in zip(*runs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
