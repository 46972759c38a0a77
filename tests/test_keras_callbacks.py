"""Keras-style callbacks: hooks (epoch, logs) with self.model, the adapter for the earlier
(model, epoch, logs) hooks, and the built-ins on both sides of each branch."""
from __future__ import annotations

import csv
import math
import warnings

import numpy as np
import pytest

import pyneuron as pn
from pyneuron.callbacks import CSVLogger, ModelCheckpoint, ReduceLROnPlateau, TerminateOnNaN
from pyneuron.training import Callback

X = np.random.default_rng(0).normal(size=(20, 2))
Y = (X[:, 0] > 0).astype(int)


def net(backend="numpy"):
    return pn.MLP([2, 4, 1], activation="tanh", seed=1, backend=backend)


def test_keras_form_and_earlier_form_both_run(backend):
    calls = []

    class KerasStyle(Callback):
        def on_train_begin(self, logs=None):
            calls.append(("k-begin", self.model is model))

        def on_epoch_end(self, epoch, logs=None):
            calls.append(("k-epoch", epoch, round(logs["loss"], 12)))

        def on_batch_end(self, batch, logs=None):
            calls.append(("k-batch", batch))

    class EarlierStyle(Callback):
        def on_train_begin(self, model_, logs=None):
            calls.append(("e-begin", model_ is model))

        def on_epoch_end(self, model_, epoch, logs=None):
            calls.append(("e-epoch", epoch, round(logs["loss"], 12)))

    model = net(backend)
    h = model.fit(X, Y, epochs=2, batch_size=10, callbacks=[KerasStyle(), EarlierStyle()])
    losses = [round(v, 12) for v in h["loss"]]
    assert calls == [("k-begin", True), ("e-begin", True),
                     ("k-batch", 0), ("k-batch", 1), ("k-epoch", 1, losses[0]), ("e-epoch", 1, losses[0]),
                     ("k-batch", 0), ("k-batch", 1), ("k-epoch", 2, losses[1]), ("e-epoch", 2, losses[1])]


def test_stop_training_from_a_keras_callback():
    class StopAt2(Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 2:
                self.model.stop_training = True

    h = net().fit(X, Y, epochs=9, callbacks=[StopAt2()])
    assert h.epoch == [1, 2] and h.stopped_epoch == 2


# ---------------------------------------------------------------- ModelCheckpoint
def drive(cb, model, values, key="val_loss"):
    cb.set_model(model)
    cb.on_train_begin()
    states = {}
    for epoch, v in enumerate(values, 1):
        for p in model.parameters():
            p += 0.125               # a different model each epoch
        states[epoch] = [p.copy() for p in model.parameters()]
        cb.on_epoch_end(epoch, {key: v, "loss": 1.0})
    return states


def test_checkpoint_saves_only_improvements_and_the_file_is_that_model(tmp_path):
    model = net()
    cb = ModelCheckpoint(tmp_path / "best-{epoch}", monitor="val_loss")
    states = drive(cb, model, [1.0, 1.5, 0.5, 0.5, math.nan])
    assert [p.rsplit("/", 1)[-1] for p in cb.saved] == ["best-1.npz", "best-3.npz"]
    assert cb.best == 0.5
    saved = pn.load(cb.saved[-1])
    for a, b in zip(saved.parameters(), states[3]):
        np.testing.assert_array_equal(a, b)


def test_checkpoint_max_mode_and_every_epoch(tmp_path):
    model = net()
    best = ModelCheckpoint(tmp_path / "acc", monitor="val_accuracy")
    drive(best, model, [0.5, 0.4, 0.9], key="val_accuracy")
    assert best.mode == "max" and len(best.saved) == 2
    every = ModelCheckpoint(tmp_path / "e{epoch:02d}-{val_loss:.1f}", save_best_only=False)
    drive(every, model, [3.0, 4.0])
    assert [p.rsplit("/", 1)[-1] for p in every.saved] == ["e01-3.0.npz", "e02-4.0.npz"]


def test_checkpoint_in_fit_and_its_errors(tmp_path):
    cb = ModelCheckpoint(tmp_path / "m", monitor="loss")
    net().fit(X, Y, epochs=3, callbacks=[cb])
    assert cb.saved and all(p == str(tmp_path / "m.npz") for p in cb.saved)
    with pytest.raises(ValueError, match=r"filepath: .*'nope'.*\(loss, val_loss\)"):
        drive(ModelCheckpoint(str(tmp_path / "{nope}"), save_best_only=False), net(), [1.0])
    with pytest.raises(ValueError, match=r"monitor 'val_f1' is not recorded; available: \['loss', 'val_loss'\]"):
        drive(ModelCheckpoint(tmp_path / "x", monitor="val_f1"), net(), [1.0])
    with pytest.raises(TypeError, match="filepath"):
        ModelCheckpoint(3)
    with pytest.raises(ValueError, match="ModelCheckpoint: monitors 'val_loss' but there is no validation"):
        net().fit(X, Y, epochs=1, callbacks=[ModelCheckpoint(tmp_path / "y")])


# ---------------------------------------------------------------- ReduceLROnPlateau
def lr_trace(cb, values, lr=1.0, key="val_loss", record=lambda model, cb: model.optimizer.lr):
    """``record(model, cb)`` after each epoch's ``cb.on_epoch_end`` with ``{key: value}``
    (default: the learning rate), on a model with SGD at ``lr``."""
    model = net()
    model.optimizer = pn.optimizers.SGD(lr=lr)
    cb.set_model(model)
    cb.on_train_begin()
    out = []
    for epoch, v in enumerate(values, 1):
        cb.on_epoch_end(epoch, {key: v})
        out.append(record(model, cb))
    return out


def test_reduce_lr_waits_patience_epochs_then_multiplies():
    trace = lr_trace(ReduceLROnPlateau(factor=0.5, patience=2), [1.0, 1.0, 1.0, 0.5, 0.6, 0.6])
    assert trace == [1.0, 1.0, 0.5, 0.5, 0.5, 0.25]


def test_reduce_lr_min_delta_cooldown_and_floor():
    # 0.99995 is no improvement with min_delta 1e-4; cooldown 1 skips counting for one epoch
    trace = lr_trace(ReduceLROnPlateau(factor=0.1, patience=1, cooldown=1, min_lr=0.005),
                     [1.0, 0.99995, 0.9999, 0.9998, 0.9998, 0.9998, 0.9998])
    assert trace == pytest.approx([1.0, 0.1, 0.1, 0.1, 0.01, 0.01, 0.005])


def test_reduce_lr_changes_training_and_refuses_a_schedule():
    cb = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_delta=10.0)   # never improves
    h = net().fit(X, Y, epochs=4, lr=0.8, callbacks=[cb])
    assert h["lr"] == [0.8, 0.8, 0.4, 0.2]     # epoch 1 sets the best; each later one cuts
    with pytest.raises(ValueError, match="ReduceLROnPlateau sets the learning rate"):
        net().fit(X, Y, epochs=1, callbacks=[ReduceLROnPlateau(monitor="loss")],
                  lr_schedule=pn.schedules.StepDecay())
    for factor in (1.5, 1.0, 0.0):          # a cut must cut, and leave a rate above 0
        with pytest.raises(ValueError, match="factor"):
            ReduceLROnPlateau(factor=factor)


# ---------------------------------------------------------------- CSVLogger
def read(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_csv_logger_writes_the_history_and_appends(tmp_path):
    path = tmp_path / "log.csv"
    model = net()
    h1 = model.fit(X, Y, epochs=2, callbacks=[CSVLogger(path)])
    rows = read(path)
    assert rows[0] == ["epoch", "loss", "accuracy", "lr"]
    assert [int(r[0]) for r in rows[1:]] == [1, 2]
    assert [float(r[1]) for r in rows[1:]] == h1["loss"]        # repr of a float round-trips
    h2 = model.fit(X, Y, epochs=2, callbacks=[CSVLogger(path, append=True)])
    rows = read(path)
    assert len(rows) == 5 and [int(r[0]) for r in rows[1:]] == [1, 2, 3, 4]
    assert [float(r[1]) for r in rows[3:]] == h2["loss"]
    model.fit(X, Y, epochs=1, callbacks=[CSVLogger(path, separator=";")])     # append=False: anew
    assert read(path)[0] == ["epoch;loss;accuracy;lr"] and len(read(path)) == 2
    with pytest.raises(ValueError, match="separator"):
        CSVLogger(path, separator=";;")


# ---------------------------------------------------------------- TerminateOnNaN
def diverging():
    model = pn.MLP([2, 4, 1], output="linear", seed=0)
    return model, dict(X=X, y=X[:, 0] * 1e30, epochs=3, lr=1e30)


def test_without_terminate_on_nan_divergence_raises():
    model, kw = diverging()
    with pytest.raises(pn.TrainingDivergedError):
        model.fit(kw.pop("X"), kw.pop("y"), **kw)


def test_terminate_on_nan_stops_quietly_with_good_weights():
    model, kw = diverging()
    cb = TerminateOnNaN()
    with pytest.warns(RuntimeWarning, match="TerminateOnNaN: training diverged"):
        h = model.fit(kw.pop("X"), kw.pop("y"), callbacks=[cb], **kw)
    assert h.stopped_epoch == cb.stopped_epoch and cb.stopped_epoch is not None
    assert all(np.all(np.isfinite(p)) for p in model.parameters())
    assert len(h.epoch) == cb.stopped_epoch - 1


def test_terminate_on_nan_watches_the_logged_values():
    model = net()
    cb = TerminateOnNaN()
    cb.set_model(model)
    model.stop_training = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cb.on_epoch_end(1, {"loss": 0.5, "val_loss": 0.7})
    assert not model.stop_training
    with pytest.warns(RuntimeWarning, match="val_loss"):
        cb.on_epoch_end(2, {"loss": 0.5, "val_loss": math.inf})
    assert model.stop_training and cb.stopped_epoch == 2


# ---------------------------------------------------------------- the adapter, hook by hook
def test_every_hook_in_either_form(backend):
    keras, earlier = [], []

    class Keras(Callback):
        def on_train_begin(self, logs=None): keras.append(("train_begin", logs))
        def on_train_end(self, logs=None): keras.append(("train_end", logs))
        def on_epoch_begin(self, epoch, logs=None): keras.append(("epoch_begin", epoch))
        def on_epoch_end(self, epoch, logs=None): keras.append(("epoch_end", epoch))
        def on_batch_begin(self, batch, logs=None): keras.append(("batch_begin", batch))
        def on_batch_end(self, batch, logs=None): keras.append(("batch_end", batch, sorted(logs)))

    class Earlier(Callback):
        def on_train_begin(self, model, logs=None): earlier.append(("train_begin", model is m))
        def on_train_end(self, model, logs=None): earlier.append(("train_end", model is m))
        def on_epoch_begin(self, model, epoch, logs=None): earlier.append(("epoch_begin", epoch, model is m))
        def on_epoch_end(self, model, epoch, logs=None): earlier.append(("epoch_end", epoch, model is m))
        def on_batch_begin(self, model, batch, logs=None): earlier.append(("batch_begin", batch, model is m))
        def on_batch_end(self, model, batch, logs=None): earlier.append(("batch_end", batch, model is m))

    m = net(backend)
    m.fit(X, Y, epochs=1, batch_size=10, callbacks=[Keras(), Earlier()])
    assert keras == [("train_begin", None), ("epoch_begin", 1), ("batch_begin", 0), ("batch_end", 0, ["loss"]),
                     ("batch_begin", 1), ("batch_end", 1, ["loss"]), ("epoch_end", 1), ("train_end", None)]
    assert earlier == [("train_begin", True), ("epoch_begin", 1, True), ("batch_begin", 0, True),
                       ("batch_end", 0, True), ("batch_begin", 1, True), ("batch_end", 1, True),
                       ("epoch_end", 1, True), ("train_end", True)]


def test_a_hook_of_any_signature_is_called_keras_style():
    seen = []

    class Unreadable:                       # inspect.signature cannot read it
        @property
        def __signature__(self):
            raise ValueError("no signature")

        def __call__(self, *args):
            seen.append(("unreadable", args[0]))

    class Star(Callback):
        def on_epoch_end(self, *args):
            seen.append(("star", args[0]))

    cb = Star()
    cb.on_epoch_begin = Unreadable()
    net().fit(X, Y, epochs=1, callbacks=[cb])
    assert seen == [("unreadable", 1), ("star", 1)]


def test_only_batch_begin_still_runs_per_batch(backend):
    count = []

    class BeginOnly(Callback):
        def on_batch_begin(self, batch, logs=None):
            count.append(batch)

    class EndOnly(Callback):
        def on_batch_end(self, batch, logs=None):
            count.append(-batch - 1)

    net(backend).fit(X, Y, epochs=2, batch_size=5, callbacks=[BeginOnly(), EndOnly()])
    assert count == [0, -1, 1, -2, 2, -3, 3, -4] * 2


def test_an_ordinary_callback_lets_divergence_raise():
    model, kw = diverging()
    with pytest.raises(pn.TrainingDivergedError):
        model.fit(kw.pop("X"), kw.pop("y"), callbacks=[Callback()], **kw)


# ---------------------------------------------------------------- EarlyStopping by hand
def es_trace(cb, values, key="val_loss"):
    """``model.stop_training`` after each epoch's ``cb.on_epoch_end`` with ``{key: value}``
    (the model has an SGD optimizer at lr 1.0 for callbacks that change the rate)."""
    model = net()
    model.stop_training = False
    model.optimizer = pn.optimizers.SGD(lr=1.0)
    cb.set_model(model)
    cb.on_train_begin()
    stops = []
    for epoch, v in enumerate(values, 1):
        cb.on_epoch_end(epoch, {key: v})
        stops.append(model.stop_training)
    return stops


def test_early_stopping_counts_patience_epochs_in_a_row():
    assert es_trace(pn.EarlyStopping(patience=2), [1.0, 1.0, 1.0]) == [False, False, True]
    assert es_trace(pn.EarlyStopping(patience=2), [1.0, 1.0, 0.5, 0.7, 0.7]) == [False] * 4 + [True]
    # a NaN first epoch is no improvement: it counts
    assert es_trace(pn.EarlyStopping(patience=2), [math.nan]) == [False]
    assert es_trace(pn.EarlyStopping(patience=2), [math.nan, math.nan]) == [False, True]


def test_early_stopping_min_delta_in_max_mode():
    # val_accuracy: 'auto' is max; an improvement must exceed best + min_delta
    assert es_trace(pn.EarlyStopping(monitor="val_accuracy", patience=1, min_delta=0.1),
                    [0.5, 0.6], key="val_accuracy") == [False, True]
    assert es_trace(pn.EarlyStopping(monitor="val_accuracy", patience=1, min_delta=0.1),
                    [0.5, 0.65], key="val_accuracy") == [False, False]
    assert es_trace(pn.EarlyStopping(monitor="val_accuracy", patience=1, min_delta=0.1),
                    [0.5, 0.45], key="val_accuracy") == [False, True]


def test_early_stopping_defaults_and_checks():
    es = pn.EarlyStopping()
    assert (es.monitor, es.patience, es.min_delta, es.restore_best_weights, es.mode) == \
        ("val_loss", 10, 0.0, True, "min")
    with pytest.raises(TypeError, match="monitor"):
        pn.EarlyStopping(monitor=3)
    with pytest.raises(ValueError, match="mode: expected 'auto', 'min' or 'max', got 'best'"):
        pn.EarlyStopping(mode="best")


@pytest.mark.parametrize("restore", [True, False])
def test_early_stopping_restores_the_best_weights_only_when_asked(restore):
    model = net()
    es = pn.EarlyStopping(monitor="loss", patience=1, min_delta=10.0, restore_best_weights=restore)
    seen = {}

    class Keep(Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen[epoch] = [p.copy() for p in self.model.parameters()]

    h = model.fit(X, Y, epochs=5, lr=0.5, callbacks=[Keep()], early_stopping=es)
    assert h.epoch == [1, 2] and h.best_epoch == 1
    expected = seen[1] if restore else seen[2]
    for a, b in zip(model.parameters(), expected):
        np.testing.assert_array_equal(a, b)


def test_reduce_lr_defaults_and_a_nan_first_epoch():
    cb = ReduceLROnPlateau()
    assert (cb.monitor, cb.factor, cb.patience, cb.min_delta, cb.cooldown, cb.min_lr) == \
        ("val_loss", 0.1, 10, 1e-4, 0, 0.0)
    assert lr_trace(ReduceLROnPlateau(patience=1, factor=0.5), [math.nan, math.nan]) == [0.5, 0.25]
    assert lr_trace(ReduceLROnPlateau(patience=2, factor=0.5), [math.nan, math.nan]) == [1.0, 0.5]
    fresh = ReduceLROnPlateau(patience=1, factor=0.5)            # driven without on_train_begin
    model = net()
    model.optimizer = pn.optimizers.SGD(lr=1.0)
    fresh.set_model(model)
    fresh.on_epoch_end(1, {"val_loss": math.nan})
    assert model.optimizer.lr == 0.5


def test_csv_logger_checks_and_order(tmp_path):
    with pytest.raises(TypeError, match="filename"):
        CSVLogger(3)
    logger = CSVLogger(tmp_path / "x.csv")
    with pytest.raises(RuntimeError, match="before on_train_begin"):
        logger.on_epoch_end(1, {"loss": 1.0})
    logger.on_train_begin()
    handle = logger._file
    logger.on_train_end()
    assert handle.closed                     # the file is closed at the end of training
    logger.on_train_end()                    # a second end is harmless
    assert read(tmp_path / "x.csv") == []


def test_early_stopping_without_a_best_epoch_leaves_the_weights():
    es = pn.EarlyStopping(patience=5)
    model = net()
    before = [p.copy() for p in model.parameters()]
    es.set_model(model)
    es.on_train_begin()
    for epoch in (1, 2):                    # never improved: no best weights to restore
        es.on_epoch_end(epoch, {"val_loss": math.nan})
    es.on_train_end()
    assert es.best_epoch is None
    for a, b in zip(model.parameters(), before):
        np.testing.assert_array_equal(a, b)


def test_csv_logger_append_to_an_empty_file_writes_the_header(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    net().fit(X, Y, epochs=1, metrics=(), callbacks=[CSVLogger(path, append=True)])
    assert read(path)[0] == ["epoch", "loss", "lr"] and len(read(path)) == 2
