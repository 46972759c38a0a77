"""pyneuron.training's fit on both sides of each branch (issue 15 item 10: the mutation run
of pyneuron/training.py): the validation split is a partition of the data and its edges,
validation data with weights, every argument check with its message, the optimizer
chosen, per-step and per-epoch learning rates, penalties in the history (also on a plan
that does not record them), the printed lines, divergence in either place with its
message, and what fit leaves on the model. The numbers are a 1 -> 1 linear unit's by hand
(mse: L = mean (w x + b − y)², dL/dw = mean 2 r x, dL/db = mean 2 r with r = w x + b − y)."""
import math
import sys

import numpy as np
import pytest

import pyneuron as pn
from pyneuron import optimizers as O
from pyneuron import schedules as S
from pyneuron.callbacks import ReduceLROnPlateau, TerminateOnNaN
from pyneuron.training import History, TrainingDivergedError, _split_validation
from pyneuron.training_plan import TrainPlan

X2, Y2 = np.array([[1.0], [2.0]]), np.array([1.0, 0.0])
X3, Y3 = np.array([[1.0], [2.0], [3.0]]), np.array([1.0, 0.0, 1.0])


def unit(backend="numpy", w=0.5, b=0.0):
    model = pn.MLP([1, 1], output="linear", backend=backend)
    model.set_weights([np.array([[w]]), np.array([b])])
    return model


def params(model):
    return float(model.layers[0].W[0, 0]), float(model.layers[0].b[0])


def sgd_by_hand(batches, lrs, w=0.5, b=0.0, X=X2, Y=Y2):
    """Plain SGD on the unit: one step per batch of row indices, at the given rates."""
    losses = []
    for rows, lr in zip(batches, lrs):
        x, y = X[rows, 0], Y[rows]
        r = w * x + b - y
        losses.append(float(np.mean(r * r)))
        w, b = w - lr * float(np.mean(2 * r * x)), b - lr * float(np.mean(2 * r))
    return losses, w, b


# ---- History and the error ----------------------------------------------------------------

def test_history_repr_rounds_the_last_values_and_skips_empty_lists():
    h = History()
    assert repr(h) == "History(epochs=0, last={})"
    h.append(1, {"loss": 0.123456, "lr": 0.1})
    h.append(2, {"loss": 0.654321, "lr": 0.1})
    h.history["never"] = []
    assert repr(h) == "History(epochs=2, last={'loss': 0.6543, 'lr': 0.1})"
    assert h["loss"] == [0.123456, 0.654321] and h.epoch == [1, 2]
    assert "loss" in h and "accuracy" not in h
    assert h.stopped_epoch is None and h.best_epoch is None and h.initial_epoch == 0


# ---- the validation split -------------------------------------------------------------------

def test_the_split_is_a_random_partition_from_the_models_generator():
    X = np.arange(10.0)[:, None]
    Y = 2 * X
    w = np.arange(1.0, 11.0)
    order = pn.MLP([1, 1], seed=3).rng.permutation(10)     # a twin's first draw
    X_tr, Y_tr, w_tr, X_val, Y_val, w_val = _split_validation(pn.MLP([1, 1], seed=3), X, Y, w, 0.3, None)
    np.testing.assert_array_equal(X_val[:, 0], order[:3])
    np.testing.assert_array_equal(X_tr[:, 0], order[3:])
    np.testing.assert_array_equal(np.sort(np.r_[X_tr[:, 0], X_val[:, 0]]), np.arange(10.0))
    np.testing.assert_array_equal(Y_tr, 2 * X_tr)
    np.testing.assert_array_equal(Y_val, 2 * X_val)
    np.testing.assert_array_equal(w_tr, order[3:] + 1.0)
    np.testing.assert_array_equal(w_val, order[:3] + 1.0)
    # no split: everything trains, nothing validates
    assert _split_validation(pn.MLP([1, 1]), X, Y, w, 0.0, None)[3:] == (None, None, None)


@pytest.mark.parametrize("fraction, n_val", [(0.1, 1), (0.9, 9), (0.25, 2), (0.35, 4)])
def test_the_split_holds_out_round_m_times_the_fraction(fraction, n_val):
    X = np.arange(10.0)[:, None]
    out = _split_validation(pn.MLP([1, 1], seed=0), X, X, None, fraction, None)
    assert (out[0].shape[0], out[3].shape[0]) == (10 - n_val, n_val)
    assert out[2] is None and out[5] is None


@pytest.mark.parametrize("fraction, n_val", [(0.04, 0), (0.96, 10)])
def test_a_split_that_leaves_no_sample_on_one_side_is_refused(fraction, n_val):
    X = np.arange(10.0)[:, None]
    with pytest.raises(ValueError, match=rf"validation_split: {fraction} of 10 samples leaves {n_val} for "
                                         r"validation; need at least 1 and fewer than all"):
        pn.MLP([1, 1], output="linear").fit(X, X[:, 0], epochs=1, validation_split=fraction)


@pytest.mark.parametrize("fraction, message", [(-1e-9, "> 0.0, got -1e-09"), (1.0, "< 1.0, got 1.0"),
                                               (1.5, "< 1.0, got 1.5")])
def test_the_fraction_must_lie_strictly_between_0_and_1(fraction, message):
    X = np.arange(10.0)[:, None]
    with pytest.raises(ValueError, match=f"^validation_split: expected a number {message}$"):
        _split_validation(pn.MLP([1, 1]), X, X, None, fraction, None)


def test_weights_of_the_split():
    X = np.arange(4.0)[:, None]
    order = pn.MLP([1, 1], seed=5).rng.permutation(4)
    val, train = order[:2], order[2:]
    w = np.ones(4)
    w[val] = 0.0                       # the held-out rows weigh nothing: validation unweighted
    out = _split_validation(pn.MLP([1, 1], seed=5), X, X, w, 0.5, None)
    np.testing.assert_array_equal(out[2], np.ones(2))
    assert out[5] is None
    w = np.ones(4)
    w[train] = 0.0
    with pytest.raises(ValueError, match="sample_weight: every row left for training after "
                                         "validation_split weighs 0"):
        _split_validation(pn.MLP([1, 1], seed=5), X, X, w, 0.5, None)
    w = np.ones(4)
    w[train[0]] = 0.0                  # one training row of weight 0 is allowed
    w[val[0]] = 3.0
    out = _split_validation(pn.MLP([1, 1], seed=5), X, X, w, 0.5, None)
    np.testing.assert_array_equal(out[2], w[train])
    np.testing.assert_array_equal(out[5], w[val])
    w = np.full(4, 0.5)                # weights below 1 are weights too
    out = _split_validation(pn.MLP([1, 1], seed=5), X, X, w, 0.5, None)
    np.testing.assert_array_equal(out[2], [0.5, 0.5])
    np.testing.assert_array_equal(out[5], [0.5, 0.5])


def test_validation_data_with_and_without_weights(backend):
    Xv, yv, wv = np.array([[1.0], [3.0]]), np.array([0.0, 1.0]), np.array([1.0, 3.0])
    model = unit(backend)
    h = model.fit(X2, Y2, epochs=1, batch_size=None, lr=0.1, validation_data=(Xv, yv, wv), shuffle=False)
    _, w, b = sgd_by_hand([[0, 1]], [0.1])
    r = w * Xv[:, 0] + b - yv
    assert h["val_loss"] == [pytest.approx(float(np.sum(wv * r * r) / np.sum(wv)), rel=1e-12)]
    for data in [(Xv, yv), (Xv, yv, None)]:
        h = unit(backend).fit(X2, Y2, epochs=1, batch_size=None, lr=0.1, validation_data=data, shuffle=False)
        assert h["val_loss"] == [pytest.approx(float(np.mean(r * r)), rel=1e-12)]


@pytest.mark.parametrize("data, what", [
    ((X2,), "tuple of length 1"), ((X2, Y2, None, None), "tuple of length 4"), ([X2], "list of length 1"),
    (X2, "ndarray"), ({"X": X2}, "dict")])
def test_validation_data_of_the_wrong_form_is_refused(data, what):
    with pytest.raises(ValueError, match=rf"validation_data: expected a tuple \(X_val, y_val\) or \(X_val, "
                                         rf"y_val, sample_weight_val\), got {what}$"):
        unit().fit(X2, Y2, epochs=1, validation_data=data)


def test_validation_data_and_a_split_are_not_both_given():
    with pytest.raises(ValueError, match="give either validation_split or validation_data"):
        unit().fit(X3, Y3, epochs=1, validation_split=0.5, validation_data=(X2, Y2))


# ---- the optimizer of the fit ---------------------------------------------------------------

def test_the_optimizer_chosen():
    model = unit()
    model.fit(X2, Y2, epochs=1)
    assert type(model.optimizer) is O.SGD and model.optimizer.lr == 0.01
    model = unit()
    model.fit(X2, Y2, epochs=1, lr=0.3)
    first = model.optimizer
    assert type(first) is O.SGD and first.lr == 0.3
    model.fit(X2, Y2, epochs=1, lr=0.2)           # the model's own optimizer, its rate set
    assert model.optimizer is first and (first.lr, first.initial_lr) == (0.2, 0.2)
    model.fit(X2, Y2, epochs=1)                   # kept as is
    assert model.optimizer is first and first.lr == 0.2
    with pytest.raises(ValueError, match="lr: expected a number > 0.0, got 0.0"):
        model.fit(X2, Y2, epochs=1, lr=0.0)
    model.fit(X2, Y2, epochs=1, optimizer="adam", lr=0.05)
    assert type(model.optimizer) is O.Adam and model.optimizer.lr == 0.05
    with pytest.raises(ValueError, match=r"lr: give the learning rate to the optimizer \(e.g. "
                                         r"Momentum\(lr=0.5\)\), not to fit, when an optimizer is given"):
        model.fit(X2, Y2, epochs=1, optimizer=O.Momentum(lr=0.1), lr=0.5)


# ---- the argument checks --------------------------------------------------------------------

@pytest.mark.parametrize("kw, error, message", [
    ({"epochs": 0}, ValueError, "epochs: expected an integer >= 1, got 0"),
    ({"initial_epoch": -1}, ValueError, "initial_epoch: expected an integer >= 0, got -1"),
    ({"shuffle": "yes"}, TypeError, r"shuffle: expected True, False or a callable \(epoch, n\) -> order, got str"),
    ({"dropout_masks": 1}, TypeError, r"dropout_masks: expected None or a callable \(layer_index, shape\) -> "
                                      "0/1 mask, got int"),
    ({"clip_value": 0.0}, ValueError, "clip_value: expected a number > 0.0, got 0.0"),
    ({"clip_norm": 0.0}, ValueError, "clip_norm: expected a number > 0.0, got 0.0"),
    ({"clip_norm": -1.0}, ValueError, "clip_norm: expected a number > 0.0, got -1.0"),
    ({"lr_schedule": lambda lr, k: lr}, TypeError, "lr_schedule: expected a pyneuron.schedules.Schedule, got function"),
    ({"metrics": ["accuracy"]}, ValueError, r"metrics: expected 'auto' or \(\), got \['accuracy'\]"),
    ({"metrics": "accuracy"}, ValueError, r"metrics: expected 'auto' or \(\), got 'accuracy'"),
    ({"callbacks": [3]}, TypeError, "callbacks: expected pyneuron Callback objects, got int"),
    ({"optimizer": O.SGD(lr=0.1, decay=0.5), "lr_schedule": S.Constant()}, ValueError,
     r"lr_schedule: the optimizer already decays its learning rate \(decay=0.5\); give one or the other"),
    ({"callbacks": [ReduceLROnPlateau(monitor="loss")], "lr_schedule": S.Constant()}, ValueError,
     "callbacks: ReduceLROnPlateau sets the learning rate, and so does lr_schedule; give one"),
    ({"callbacks": [ReduceLROnPlateau(monitor="loss")], "optimizer": O.SGD(lr=0.1, decay=0.5)}, ValueError,
     "callbacks: ReduceLROnPlateau sets the learning rate, and so does the optimizer decay; give one"),
    ({"callbacks": [ReduceLROnPlateau()]}, ValueError,
     "ReduceLROnPlateau: monitors 'val_loss' but there is no validation data"),
    ({"early_stopping": pn.EarlyStopping(monitor="val_accuracy")}, ValueError,
     "EarlyStopping: monitors 'val_accuracy' but there is no validation data"),
])
def test_each_argument_check(kw, error, message):
    model = unit()
    before = params(model)
    with pytest.raises(error, match=message):
        model.fit(X2, Y2, **kw)
    assert params(model) == before


def test_what_the_checks_let_through(backend):
    """The other side of each check: these fits run."""
    model = unit(backend)
    model.fit(X2, Y2, epochs=1, initial_epoch=0, clip_value=1e-9, clip_norm=1e-9, metrics=None)
    model.fit(X2, Y2, epochs=1, metrics=[], shuffle=np.bool_(True))
    h = model.fit(X2, Y2, epochs=1, callbacks=[ReduceLROnPlateau(monitor="loss"), pn.Callback()],
                  early_stopping=pn.EarlyStopping(monitor="loss"), lr_schedule=None)
    assert h.epoch == [3]
    model.fit(X2, Y2, epochs=1, validation_data=(X2, Y2), callbacks=[ReduceLROnPlateau()])


def test_batch_norm_needs_two_samples_per_batch():
    X = np.array([[1.0], [2.0], [4.0]])
    y = np.array([0, 1, 1])
    with pytest.raises(ValueError, match="batch_size: batch normalization needs at least 2 samples per batch "
                                         r"\(it normalizes with the batch's variance\), got batches of 1"):
        pn.MLP([1, 2, 1], batch_norm=True, seed=0).fit(X, y, epochs=1, batch_size=1)
    with pytest.raises(ValueError, match="got batches of 1"):   # full batch of one row
        pn.MLP([1, 2, 1], batch_norm=True, seed=0).fit(X[:1], y[:1], epochs=1, batch_size=None)
    h = pn.MLP([1, 2, 1], batch_norm=True, seed=0).fit(X[:2], y[:2], epochs=2, batch_size=2)
    assert len(h["loss"]) == 2
    h = pn.MLP([1, 2, 1], batch_norm=True, seed=0).fit(X[:2], y[:2], epochs=1, batch_size=100)
    assert len(h["loss"]) == 1                       # a batch larger than the data is the whole of it


def test_a_batch_larger_than_the_data_is_one_full_batch(backend):
    model = unit(backend)
    h = model.fit(X3, Y3, epochs=1, batch_size=50, lr=0.1, shuffle=False)
    losses, w, b = sgd_by_hand([[0, 1, 2]], [0.1], X=X3, Y=Y3)
    assert h["loss"] == [pytest.approx(losses[0], rel=1e-13)]
    assert params(model) == pytest.approx((w, b), rel=1e-13)
    model = unit(backend)
    model.fit(X3, Y3, epochs=1, batch_size=None, lr=0.1, shuffle=False)
    assert params(model) == pytest.approx((w, b), rel=1e-13)


# ---- orders, rates, penalties ---------------------------------------------------------------

def test_shuffle_false_keeps_the_rows_in_order_and_a_callable_sets_it(backend):
    model = unit(backend)
    h = model.fit(X3, Y3, epochs=1, batch_size=1, lr=0.1, shuffle=False)
    losses, w, b = sgd_by_hand([[0], [1], [2]], [0.1] * 3, X=X3, Y=Y3)
    assert h["loss"] == [pytest.approx(np.mean(losses), rel=1e-13)]
    assert params(model) == pytest.approx((w, b), rel=1e-13)
    calls = []

    def order(epoch, n):
        calls.append((epoch, n))
        return np.array([2, 0, 1], dtype=np.uint8)      # unsigned integers are accepted
    model = unit(backend)
    model.fit(X3, Y3, epochs=2, batch_size=1, lr=0.1, shuffle=order, initial_epoch=4)
    assert calls == [(5, 3), (6, 3)]
    _, w, b = sgd_by_hand([[2], [0], [1]], [0.1] * 3, X=X3, Y=Y3)
    _, w, b = sgd_by_hand([[2], [0], [1]], [0.1] * 3, w, b, X=X3, Y=Y3)
    assert params(model) == pytest.approx((w, b), rel=1e-13)


@pytest.mark.parametrize("order, message", [
    (lambda e, n: np.arange(n + 1), r"permutation of range\(3\) \(integers, shape \(3,\)\), got int64 of shape \(4,\)"),
    (lambda e, n: np.arange(n, dtype=float), r"permutation of range\(3\) \(integers, shape \(3,\)\), got float64"),
    (lambda e, n: np.array([0, 0, 1]), r"permutation of range\(3\), got indices repeated or outside it"),
    (lambda e, n: np.array([0, 1, 3]), r"permutation of range\(3\), got indices repeated or outside it"),
])
def test_a_shuffle_callable_must_give_a_permutation(order, message):
    with pytest.raises(ValueError, match="shuffle: expected the callable to return a " + message):
        unit().fit(X3, Y3, epochs=1, shuffle=order)


def test_per_epoch_schedule_sets_each_epochs_rate(backend):
    model = unit(backend)
    h = model.fit(X2, Y2, epochs=3, lr=0.1, lr_schedule=S.StepDecay(step_size=1, gamma=0.5))
    assert h["lr"] == [0.1, 0.05, 0.025]
    h = model.fit(X2, Y2, epochs=1, lr_schedule=S.StepDecay(step_size=1, gamma=0.5))   # epoch 4: k = 3
    assert h["lr"] == [0.0125]


@pytest.mark.parametrize("how", ["schedule", "decay"])
def test_per_step_rates(backend, how):
    """StepDecay(1, 0.5) per step and decay 1.0 (η₀/(1 + t)) both give 0.1 then 0.05."""
    model = unit(backend)
    if how == "schedule":
        model.fit(X2, Y2, epochs=1, batch_size=1, lr=0.1, shuffle=False,
                  lr_schedule=S.StepDecay(step_size=1, gamma=0.5, per="step"))
    else:
        model.fit(X2, Y2, epochs=1, batch_size=1, shuffle=False, optimizer=O.SGD(lr=0.1, decay=1.0))
    _, w, b = sgd_by_hand([[0], [1]], [0.1, 0.05])
    assert params(model) == pytest.approx((w, b), rel=1e-13)
    assert model.optimizer.lr == pytest.approx(0.05, rel=1e-15)


class NoDecayAttribute(O.Optimizer):
    """An optimizer of its own that never sets ``decay`` (fit reads it with a default):
    plain SGD written out."""

    def __init__(self, lr):
        self.lr = self.initial_lr = lr
        self.t, self.state = 0, []

    def step(self, kernels, params, grads):
        for p, g in zip(params, grads):
            p -= self.lr * g
        self.t += 1


def test_an_optimizer_without_a_decay_attribute_has_a_constant_rate(backend):
    model = unit(backend)
    model.fit(X2, Y2, epochs=1, batch_size=1, shuffle=False, optimizer=NoDecayAttribute(0.1))
    _, w, b = sgd_by_hand([[0], [1]], [0.1, 0.1])
    assert params(model) == pytest.approx((w, b), rel=1e-13)
    model = unit(backend)        # and it takes a schedule or ReduceLROnPlateau
    h = model.fit(X2, Y2, epochs=2, optimizer=NoDecayAttribute(0.1), lr_schedule=S.StepDecay(1, 0.5))
    assert h["lr"] == [0.1, 0.05]
    model.fit(X2, Y2, epochs=1, optimizer=NoDecayAttribute(0.1), callbacks=[ReduceLROnPlateau(monitor="loss")])


@pytest.mark.parametrize("l2", [0.2, {"W": 0.2}])
def test_penalty_and_data_loss_in_the_history(backend, l2):
    """Full batch, "mean": P = λ/(2m)·w² = 0.2/4·0.25 = 0.0125; data loss 0.625."""
    model = unit(backend)
    h = model.fit(X2, Y2, epochs=1, batch_size=None, lr=0.1, l2=l2)
    assert h["penalty"] == [pytest.approx(0.0125, rel=1e-13)]
    assert h["data_loss"] == [pytest.approx(0.625, rel=1e-13)]
    assert h["loss"] == [pytest.approx(0.6375, rel=1e-13)]
    h = unit(backend).fit(X2, Y2, epochs=1, batch_size=None, lr=0.1)
    assert "penalty" not in h and "data_loss" not in h


class NotRecording(TrainPlan):
    """A plan with its own epoch that does not record penalties: fit reads them itself."""
    records_penalties = False

    def epoch(self, *args, **kwargs):
        return super().epoch(*args, **kwargs)


@pytest.mark.parametrize("own_plan", [False, True])
def test_the_penalty_of_a_short_last_batch(backend, own_plan, monkeypatch):
    """m = 3 in batches of 2 and 1, W frozen at 0.5: P = 0.2/(2·2)·0.25 = 0.0125 then
    0.2/(2·1)·0.25 = 0.025, mean 0.01875, in every epoch."""
    model = unit(backend)
    model.freeze("W")
    if own_plan:
        monkeypatch.setattr(model.kernels, "train_plan",
                            lambda model, optimizer, **kw: NotRecording(model.kernels, model, optimizer, **kw),
                            raising=False)
    h = model.fit(X3, Y3, epochs=2, batch_size=2, lr=0.1, l2=0.2, shuffle=False)
    assert h["penalty"] == [pytest.approx(0.01875, rel=1e-13)] * 2
    for loss, data, pen in zip(h["loss"], h["data_loss"], h["penalty"]):
        assert data == pytest.approx(loss - pen, rel=1e-13)


def test_accuracy_only_for_classifiers_with_auto_metrics(backend):
    X = np.array([[1.0], [-1.0]])
    y = np.array([1, 0])
    model = pn.MLP([1, 1], backend=backend)
    model.set_weights([np.array([[2.0]]), np.array([0.0])])
    h = model.fit(X, y, epochs=1, batch_size=None, lr=1e-9, validation_data=(X, 1 - y))
    assert h["accuracy"] == [1.0] and h["val_accuracy"] == [0.0]
    h = model.fit(X, y, epochs=1, batch_size=None, lr=1e-9, validation_data=(X, y), metrics=())
    assert "accuracy" not in h and "val_accuracy" not in h and "val_loss" in h
    h = unit(backend).fit(X2, Y2, epochs=1)
    assert "accuracy" not in h and "val_accuracy" not in h


# ---- printing -------------------------------------------------------------------------------

def test_verbose_2_prints_one_line_per_epoch_numbered_on(backend, capsys):
    model = unit(backend)
    model.fit(X2, Y2, epochs=1, batch_size=None, lr=0.1, verbose=2, initial_epoch=2)
    assert capsys.readouterr().out == "epoch 3/3 - loss: 0.6250\n"
    model.fit(X2, Y2, epochs=1, batch_size=None, lr=0.1, verbose=0)
    assert capsys.readouterr() == ("", "")


def test_verbose_1_is_a_bar_not_lines(capsys):
    pytest.importorskip("tqdm")
    unit().fit(X2, Y2, epochs=2, verbose=1)
    out, err = capsys.readouterr()
    assert out == "" and "training" in err and "2/2" in err and "loss=" in err and "lr=" not in err


# ---- divergence -----------------------------------------------------------------------------

@pytest.mark.parametrize("verbose", [0, 1])
def test_a_batch_whose_loss_is_infinite(backend, verbose):
    """w = 1e200: the first batch's loss (1e200)² is inf."""
    model = unit(backend, w=1e200)
    with pytest.raises(TrainingDivergedError, match=r"^training diverged: the loss became inf at epoch 1, "
                       r"batch 1\. The model keeps the weights from the start of epoch 1\. Try a smaller "
                       r"learning rate \(it was 0.5\), scaled inputs, or clip_norm\.$") as info:
        model.fit(X2[:1], Y2[:1], epochs=3, lr=0.5, verbose=verbose)
    assert (info.value.epoch, info.value.batch) == (1, 1)
    assert info.value.history is model.history and info.value.history.epoch == []
    assert params(model) == (1e200, 0.0)


def test_the_last_update_of_an_epoch_overflows(backend):
    """w = 1e152, x = 10, y = 0, lr 1: r = 1e153 finite (r² = 1e306); the step makes
    r' = r − 200 r − 2 r = −201 r, whose square is inf; epochs numbered after 3."""
    model = unit(backend, w=1e152)
    with pytest.raises(TrainingDivergedError, match=r"^training diverged: the last update of epoch 4 \(batch 1\) "
                       r"made the loss inf \(or a parameter non-finite\)\. The model keeps the weights from "
                       r"the start of epoch 4\. Try a smaller learning rate \(it was 1.0\)") as info:
        model.fit(np.array([[10.0]]), np.array([0.0]), epochs=2, lr=1.0, batch_size=None, initial_epoch=3)
    assert (info.value.epoch, info.value.batch) == (4, 1)
    assert params(model) == (1e152, 0.0)


def test_terminate_on_nan_stops_with_the_epoch_and_the_good_weights(backend):
    """r = 10·201^k after k epochs: epoch 66's update leaves r² = 1e306, epoch 67's makes it inf."""
    model = unit(backend, w=1.0)
    with pytest.warns(RuntimeWarning):
        h = model.fit(np.array([[10.0]]), np.array([0.0]), epochs=80, lr=1.0, batch_size=None,
                      callbacks=[TerminateOnNaN()])
    assert h.stopped_epoch == 67 and h.epoch == list(range(1, 67))
    w, b = params(model)
    assert abs(10 * w + b) == pytest.approx(10 * 201.0 ** 66, rel=1e-12)


# ---- what fit leaves ------------------------------------------------------------------------

def test_fit_sets_the_models_state_and_leaves_no_cache(backend):
    seen = []

    class Watch(pn.Callback):
        def on_train_begin(self, logs=None):
            seen.append(("begin", self.model.stop_training, self.model.history.initial_epoch))

        def on_epoch_end(self, epoch, logs=None):
            seen.append(("epoch", epoch, sorted(logs)))

        def on_train_end(self, logs=None):
            seen.append(("end",))

    model = unit(backend)
    model.stop_training = True                 # left over: reset at the start of fit
    h = model.fit(X2, Y2, epochs=2, lr=0.1, callbacks=[Watch()], initial_epoch=1)
    assert seen == [("begin", False, 1), ("epoch", 2, ["loss", "lr"]), ("epoch", 3, ["loss", "lr"]), ("end",)]
    assert model.history is h and h.epoch == [2, 3] and h.stopped_epoch is None
    assert all(layer.cache == {} for layer in model.layers)


def test_stop_training_ends_after_that_epoch(backend):
    class Stop(pn.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 2:
                self.model.stop_training = True

    h = unit(backend).fit(X2, Y2, epochs=5, callbacks=[Stop()])
    assert h.epoch == [1, 2] and h.stopped_epoch == 2


def test_dropout_masks_reach_only_the_dropout_layers_during_fit():
    seen = []

    class Look(pn.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append([layer.mask_source is not None for layer in self.model.layers])

    model = pn.MLP([2, 3, 1], dropout=0.5, seed=0, backend="numpy")
    X = np.array([[1.0, 2.0], [0.0, -1.0]])
    masks = []

    def keep_all(index, shape):
        masks.append((index, shape))
        return np.ones(shape)
    model.fit(X, [0, 1], epochs=1, batch_size=None, dropout_masks=keep_all, callbacks=[Look()])
    assert seen == [[True, False]] and masks == [(0, (2, 3))]
    assert all(layer.mask_source is None for layer in model.layers)
    model.fit(X, [0, 1], epochs=1, callbacks=[Look()])
    assert seen[-1] == [False, False]


def test_the_defaults_of_training_fit(capsys):
    """pyneuron.training.fit called with no options: 100 epochs in batches of 32 (33 rows:
    two batches), shuffled, silent, no penalty, no validation."""
    import pyneuron.training as T
    X = np.linspace(-1.0, 1.0, 33)[:, None]
    y = 0.3 - X[:, 0]
    batches = []

    class Count(pn.Callback):
        def on_batch_end(self, batch, logs=None):
            batches.append(batch)

    model = unit("numpy")
    model.rng = np.random.default_rng(7)
    h = T.fit(model, X, y, callbacks=[Count()])
    assert h.epoch == list(range(1, 101)) and batches[:3] == [0, 1, 0] and len(batches) == 200
    assert sorted(h.history) == ["loss", "lr"]
    assert capsys.readouterr() == ("", "")
    shuffled, in_order = unit("numpy"), unit("numpy")
    shuffled.rng = np.random.default_rng(7)
    T.fit(shuffled, X, y, shuffle=True, callbacks=[Count()])
    T.fit(in_order, X, y, shuffle=False)
    assert params(model) == params(shuffled) != params(in_order)


def test_the_penalty_of_a_weighted_batch_divides_by_its_weight_sum(backend):
    """sample_weight [2, 2]: the "mean" penalty's m is the weight sum 4 (not the 2 rows):
    P = 0.2/(2·4)·0.25 = 0.00625; the weighted data loss of equal weights is 0.625."""
    h = unit(backend).fit(X2, Y2, epochs=1, batch_size=None, lr=0.1, l2=0.2, sample_weight=[2.0, 2.0])
    assert h["penalty"] == [pytest.approx(0.00625, rel=1e-13)]
    assert h["data_loss"] == [pytest.approx(0.625, rel=1e-13)]


@pytest.mark.parametrize("strengths, expected", [
    ({"l2": 0.2}, (0.0, 0.2)), ({"l1": 0.3, "l2": 0.2}, (0.3, 0.2)),
    ({"l2": {"b": 0.2}}, (0.0, 0.0)),                 # not the classic form: only the Penalty carries it
    ({}, (0.0, 0.0))])
def test_what_fit_hands_the_backends_plan(monkeypatch, strengths, expected):
    """Backend.train_plan gets l1/l2 when the penalty is one strength on every weight
    matrix ("mean"), zeros otherwise, and always the Penalty itself."""
    model = unit()
    seen = []
    original = type(model.kernels).train_plan

    def spy(model_, optimizer, l1=0.0, l2=0.0, **kw):
        seen.append((l1, l2, kw["penalty"]))
        return original(model.kernels, model_, optimizer, l1, l2, **kw)
    monkeypatch.setattr(model.kernels, "train_plan", spy, raising=False)
    model.fit(X2, Y2, epochs=1, **strengths)
    (l1, l2, penalty), = seen
    assert (l1, l2) == expected and bool(penalty) == bool(strengths)


class SetWeightAtBatchBegin(pn.Callback):
    def on_batch_begin(self, batch, logs=None):
        self.model.layers[0].W[...] = 1.0


def test_the_penalty_is_of_the_weights_the_step_sees(backend):
    """A batch callback sets w = 1 before the step: the step's loss is data 2.0 (r = [0, 2])
    plus P = 0.2/(2·2)·1 = 0.05, and the history says so."""
    h = unit(backend).fit(X2, Y2, epochs=1, batch_size=None, lr=0.1, l2=0.2, callbacks=[SetWeightAtBatchBegin()])
    assert (h["loss"], h["penalty"], h["data_loss"]) == ([pytest.approx(2.05, rel=1e-13)],
                                                         [pytest.approx(0.05, rel=1e-13)],
                                                         [pytest.approx(2.0, rel=1e-13)])


def test_the_penalty_recorder_reads_the_weights_the_step_sees(backend, monkeypatch):
    model = unit(backend)
    monkeypatch.setattr(model.kernels, "train_plan",
                        lambda model, optimizer, **kw: NotRecording(model.kernels, model, optimizer, **kw),
                        raising=False)
    h = model.fit(X2, Y2, epochs=1, batch_size=None, lr=0.1, l2=0.2, callbacks=[SetWeightAtBatchBegin()])
    assert h["penalty"] == [pytest.approx(0.05, rel=1e-13)]
    assert h["data_loss"] == [pytest.approx(2.0, rel=1e-13)]


def test_an_infinite_validation_loss_is_logged_not_raised(backend):
    """w = 4: the validation input 1e308 gives the output 4e308 = inf; training stays finite
    (lr 1e-12), val_loss is inf, and TerminateOnNaN can stop on it."""
    Xv, yv = np.array([[1e308]]), np.array([0.0])
    h = unit(backend, w=4.0).fit(X2, Y2, epochs=1, lr=1e-12, validation_data=(Xv, yv))
    assert h["val_loss"] == [math.inf] and math.isfinite(h["loss"][0])
    with pytest.warns(RuntimeWarning, match="val_loss"):
        h = unit(backend, w=4.0).fit(X2, Y2, epochs=5, lr=1e-12, validation_data=(Xv, yv),
                                     callbacks=[TerminateOnNaN()])
    assert h.epoch == [1] and h.stopped_epoch == 1


class FakeBar:
    made = []

    def __init__(self, **kw):
        self.kw, self.calls = kw, []
        FakeBar.made.append(self)

    def set_postfix(self, values, refresh=True):
        self.calls.append(("postfix", dict(values), refresh))

    def update(self, n):
        self.calls.append(("update", n))

    def close(self):
        self.calls.append(("close",))


def test_verbose_1_drives_one_bar(monkeypatch):
    import tqdm.auto
    monkeypatch.setattr(tqdm.auto, "tqdm", FakeBar)
    FakeBar.made = []
    h = unit().fit(X2, Y2, epochs=2, batch_size=None, lr=0.1, verbose=1)
    bar, = FakeBar.made
    assert bar.kw == {"total": 2, "desc": "training", "unit": "epoch", "file": sys.stderr}
    shown = [{"loss": f"{v:.4f}"} for v in h["loss"]]
    assert bar.calls == [("postfix", shown[0], False), ("update", 1), ("postfix", shown[1], False), ("update", 1),
                         ("close",)]
    FakeBar.made = []
    with pytest.raises(TrainingDivergedError):
        unit(w=1e200).fit(X2[:1], Y2[:1], epochs=2, verbose=1)
    assert FakeBar.made[0].calls == [("close",)]


class Flushes:
    """A stand-in standard output that notes what had been written at each flush."""

    def __init__(self):
        self.text, self.flushed = "", []

    def write(self, s):
        self.text += s
        return len(s)

    def flush(self):
        self.flushed.append(self.text)


def test_verbose_2_flushes_each_line_as_its_epoch_ends(monkeypatch):
    out = Flushes()
    monkeypatch.setattr(sys, "stdout", out)
    unit().fit(X2, Y2, epochs=2, batch_size=None, lr=0.1, verbose=2)
    monkeypatch.undo()
    first = out.text.splitlines(keepends=True)[0]
    assert out.text.count("\n") == 2 and out.flushed[0] == first
