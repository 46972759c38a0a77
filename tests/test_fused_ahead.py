"""fit hands the plan its epochs at once when nothing runs between them (issue 10).

With no callbacks, validation, printing, learning rates set from Python, own shuffle or
dropout, ``fit`` draws the epochs' orders first and calls ``plan.epochs`` (the C plan runs
them in one C call, ``pyn_fit_epochs``). The reference here is the same backend's epoch
by epoch loop, forced by a callback that does nothing (a callback makes fit run epoch by
epoch) or by training one epoch per ``fit`` call: the run must be the very same -- the
same losses, accuracies, weights, step count and the generator left in the same state --
also when an epoch diverges, and when the orders are drawn in several chunks.
"""
from __future__ import annotations

import io
import math
import sys

import numpy as np
import pytest

import pyneuron as pn
from pyneuron import optimizers as O
from pyneuron import training
from pyneuron.backends import get as get_backend
from pyneuron.callbacks import Callback

from helpers import require_backend

RNG = np.random.default_rng(11)
X = RNG.standard_normal((23, 3))
LABELS = RNG.integers(0, 3, 23)
WEIGHTS = RNG.uniform(0.2, 2.0, 23)


class Nothing(Callback):
    """A callback with no hooks of its own: fit then runs epoch by epoch."""


def make(backend, output="softmax", **model_kw):
    n_out = 3 if output == "softmax" else 1
    return pn.MLP([3, 5, 4, n_out], activation="tanh", output=output, seed=5, backend=backend,
                  **model_kw)


def targets(output):
    return LABELS if output == "softmax" else (LABELS == 1).astype(float)


# name -> (output, model options, fit options); every one of them runs ahead
RUNS = {
    "sgd": ("sigmoid", {}, dict(optimizer=lambda: O.SGD(0.1))),
    "adam+l2+weights": ("softmax", {}, dict(optimizer=lambda: O.Adam(0.01), l2=0.05,
                                             sample_weight=WEIGHTS)),
    "momentum+l1+bn+in-order": ("softmax", {"batch_norm": True, "bias": True},
                                dict(optimizer=lambda: O.Momentum(0.1), l1=0.01, shuffle=False)),
}


def fit(backend, name, epochs=4, batch_size=5, callbacks=None):
    output, model_kw, fit_kw = RUNS[name]
    fit_kw = dict(fit_kw, optimizer=fit_kw["optimizer"]())
    model = make(backend, output, **model_kw)
    history = model.fit(X, targets(output), epochs=epochs, batch_size=batch_size,
                        callbacks=callbacks, **fit_kw)
    return model, history


def assert_same_run(a, b):
    (model_a, history_a), (model_b, history_b) = a, b
    assert history_a.history == history_b.history
    for la, lb in zip(model_a.layers, model_b.layers):
        for pa, pb in zip(la.parameters(), lb.parameters()):
            np.testing.assert_array_equal(pa, pb)
    assert model_a.optimizer.t == model_b.optimizer.t
    assert model_a.rng.random() == model_b.rng.random()     # the generator drew the same


def test_permuted_rows_are_the_permutations_drawn_one_by_one():
    """The claim _ahead rests on (NumPy's Generator: permuted shuffles row after row)."""
    one, rows = np.random.default_rng(3), np.random.default_rng(3)
    expected = np.stack([one.permutation(9) for _ in range(5)])
    got = rows.permuted(np.broadcast_to(np.arange(9), (5, 9)), axis=1)
    np.testing.assert_array_equal(got, expected)
    assert one.random() == rows.random()


@pytest.mark.parametrize("name", sorted(RUNS))
@pytest.mark.parametrize("batch_size", [5, 23], ids=["partial-last", "full"])
def test_epochs_ahead_are_the_epoch_by_epoch_run(backend, name, batch_size, monkeypatch):
    calls = []
    original = type(get_backend(backend).train_plan(make(backend), O.SGD())).epochs
    monkeypatch.setattr(type(get_backend(backend).train_plan(make(backend), O.SGD())), "epochs",
                        lambda self, *a: calls.append(a[-1]) or original(self, *a))
    ahead = fit(backend, name, batch_size=batch_size)
    assert calls == [4]
    calls.clear()
    loop = fit(backend, name, batch_size=batch_size, callbacks=[Nothing()])
    assert calls == []
    assert len(ahead[1].history["loss"]) == 4
    assert_same_run(ahead, loop)


def test_orders_drawn_in_chunks_give_the_same_run(monkeypatch):
    require_backend("c")
    for indices in (2 * 23 + 5, 7):     # two epochs a chunk; fewer indices than one epoch's
        whole = fit("c", "adam+l2+weights", epochs=5)
        monkeypatch.setattr(training, "AHEAD_INDICES", indices)
        assert_same_run(fit("c", "adam+l2+weights", epochs=5), whole)
        monkeypatch.undo()


class Blowup(Callback):
    """Forces the epoch-by-epoch loop, and remembers the weights it saw at each epoch end."""

    def __init__(self):
        self.seen = []

    def on_epoch_end(self, epoch, logs=None):
        self.seen.append(self.model.layers[0].W.copy())


@pytest.mark.parametrize("chunk", [None, 3 * 23], ids=["one-chunk", "chunks-of-3"])
def test_a_diverging_epoch_ahead_stops_as_the_loop_does(backend, chunk, monkeypatch):
    """SGD at lr 0.06 on targets scaled by 4 blows up in epoch 4 (on numpy; the first of
    the second chunk of 3): the same error, the weights from the start of that epoch,
    the generator as after that epoch's order."""
    if chunk:
        monkeypatch.setattr(training, "AHEAD_INDICES", chunk)
    outcomes = []
    for callbacks in (None, [Blowup()]):
        model = pn.MLP([3, 8, 3], activation="relu", output="linear", seed=3, backend=backend)
        with pytest.raises(pn.TrainingDivergedError) as info:
            model.fit(X * 4, np.eye(3)[LABELS] * 4, epochs=30, batch_size=4,
                      optimizer=O.SGD(0.06), callbacks=callbacks)
        outcomes.append((info.value.epoch, info.value.batch, info.value.history.history,
                         [p.copy() for p in model.parameters()], model.optimizer.t, model.rng.random()))
    (epoch, batch, history, params, t, draw), loop = outcomes
    assert epoch > 3 and (epoch, batch) == loop[:2]
    assert history == loop[2] and len(history["loss"]) == epoch - 1
    for p, q in zip(params, loop[3]):
        np.testing.assert_array_equal(p, q)
    assert (t, draw) == loop[4:]


def test_a_diverging_run_in_order_leaves_the_generator_alone(backend):
    """shuffle=False draws no orders: the generator is as the model made it."""
    model = pn.MLP([3, 8, 3], activation="relu", output="linear", seed=3, backend=backend)
    untouched = pn.MLP([3, 8, 3], activation="relu", output="linear", seed=3, backend=backend)
    with pytest.raises(pn.TrainingDivergedError) as info:
        model.fit(X * 4, np.eye(3)[LABELS] * 4, epochs=30, batch_size=4, optimizer=O.SGD(0.2),
                  shuffle=False)
    assert info.value.epoch >= 1
    assert model.rng.random() == untouched.rng.random()


# What makes fit run epoch by epoch: each of these must see (or change) the model between
# epochs. The reference trains one epoch per fit call (the model's optimizer continues).
def between_epochs(kind):
    model_kw, fit_kw = {}, {}
    if kind == "dropout":              # masks are drawn after each epoch's order
        model_kw["dropout"] = 0.3
    elif kind == "validation":         # val_loss after each epoch
        fit_kw["validation_data"] = (X[:7], LABELS[:7])
    elif kind == "per-step rates":
        fit_kw["optimizer"] = O.SGD(0.2, decay=0.3)
    return model_kw, fit_kw


@pytest.mark.parametrize("kind", ["dropout", "validation", "per-step rates"])
def test_what_runs_between_epochs_sees_each_epoch(kind):
    require_backend("c")
    model_kw, fit_kw = between_epochs(kind)
    whole = make("c", **model_kw)
    history = whole.fit(X, LABELS, epochs=3, batch_size=5, **{"optimizer": O.SGD(0.2), **fit_kw})
    one_by_one = make("c", **model_kw)
    logs = []
    for e in range(3):
        kw = {"optimizer": O.SGD(0.2), **between_epochs(kind)[1]} if e == 0 else between_epochs(kind)[1]
        kw.pop("optimizer", None) if e else None
        logs.append(one_by_one.fit(X, LABELS, epochs=1, batch_size=5, **kw).history)
    for key in history.history:
        np.testing.assert_allclose(history[key], [log[key][0] for log in logs], rtol=1e-12, err_msg=key)
    np.testing.assert_array_equal(whole.layers[0].W, one_by_one.layers[0].W)


def test_each_epoch_is_printed_when_it_is_done(monkeypatch):
    """verbose=2 prints an epoch's line after that epoch, not after the whole run."""
    require_backend("c")
    model = make("c")
    seen = []

    class Out(io.StringIO):
        def write(self, text):
            if text.startswith("epoch"):
                seen.append(model.layers[0].W.copy())
            return super().write(text)

    monkeypatch.setattr(sys, "stdout", Out())
    model.fit(X, LABELS, epochs=3, batch_size=5, optimizer=O.SGD(0.2), verbose=2)
    assert len(seen) == 3
    assert not np.array_equal(seen[0], seen[1]) and not np.array_equal(seen[1], seen[2])


def test_the_c_plan_epochs_contract():
    require_backend("c")
    model = make("c")
    Y = model.encode_y(LABELS, 23)
    plan = get_backend("c").train_plan(model, O.SGD(0.1), track_accuracy=True)
    before = [p.copy() for p in model.parameters()]
    with pytest.raises(ValueError, match=r"orders: expected 2 permutations of range\(23\), shape \(2, 23\), got shape \(23,\)"):
        plan.epochs(X, Y, np.arange(23), 5, 2)
    bad = np.tile(np.arange(23), (2, 1))
    bad[1, 4] = 23                     # outside X, in the second epoch: nothing is written
    with pytest.raises(ValueError, match="order: expected row indices in range"):
        plan.epochs(X, Y, bad, 5, 2)
    for p, q in zip(model.parameters(), before):
        np.testing.assert_array_equal(p, q)
    # in order (None), two epochs: what two epoch calls give
    twin = make("c")
    twin_plan = get_backend("c").train_plan(twin, O.SGD(0.1), track_accuracy=True)
    runs = plan.epochs(X, Y, None, 5, 2)
    expected = [twin_plan.epoch(X, Y, None, 5) for _ in range(2)]
    assert [vars(r) for r in runs] == [vars(r) for r in expected]
    assert runs[0].counted == 23 and len(runs[0].losses) == 5 and math.isfinite(runs[1].after_loss)
    assert plan.optimizer.t == twin_plan.optimizer.t == 10
    for p, q in zip(model.parameters(), twin.parameters()):
        np.testing.assert_array_equal(p, q)
    # go_back after epochs: the weights the last epoch run started from
    start = [p.copy() for p in model.parameters()]
    plan.epochs(X, Y, None, 5, 1)
    plan.go_back()
    for p, q in zip(model.parameters(), start):
        np.testing.assert_array_equal(p, q)


def test_the_c_plan_runs_dropout_epochs_one_call_each():
    """With dropout the masks of each epoch are drawn after its order: epochs() is then
    the default loop, which draws them epoch by epoch as fit's loop does."""
    require_backend("c")
    runs, models = [], []
    for by_epochs in (True, False):
        model = make("c", dropout=0.4)
        Y = model.encode_y(LABELS, 23)
        plan = get_backend("c").train_plan(model, O.SGD(0.1), track_accuracy=True)
        orders = np.stack([np.arange(23)[::-1], np.arange(23)])
        if by_epochs:
            runs.append(plan.epochs(X, Y, orders, 5, 2))
        else:
            runs.append([plan.epoch(X, Y, order, 5) for order in orders])
        models.append(model)
    assert [vars(r) for r in runs[0]] == [vars(r) for r in runs[1]]
    np.testing.assert_array_equal(models[0].layers[0].W, models[1].layers[0].W)
    assert models[0].rng.random() == models[1].rng.random()


def test_an_epoch_wrapped_on_the_plan_sees_every_epoch():
    """pn.trace wraps a fused plan's epoch to record each one: epochs() then calls it."""
    require_backend("c")
    model = make("c")
    Y = model.encode_y(LABELS, 23)
    plan = get_backend("c").train_plan(model, O.SGD(0.1))
    seen, epoch = [], plan.epoch
    plan.epoch = lambda *a, **k: seen.append(1) or epoch(*a, **k)
    assert len(plan.epochs(X, Y, None, 5, 3)) == 3 and len(seen) == 3
    with pn.trace() as t:
        model.fit(X, LABELS, epochs=2, batch_size=5, lr=0.1)
    assert len(t.filter(kernel="train_plan.epoch")) == 2
