"""pyneuron.callbacks on both sides of each branch (issue 15 item 10: the mutation run of
pyneuron/callbacks.py): the "auto" mode of each monitor, snapshot reusing or replacing its
arrays (batch-norm statistics included), the built-ins' argument checks with their
messages, ReduceLROnPlateau at its floor, CSVLogger's missing values and new files, and
TerminateOnNaN's answer to divergence. Values are driven by hand, epoch by epoch."""
import math

import numpy as np
import pytest

import pyneuron as pn
from pyneuron.callbacks import (Callback, CSVLogger, EarlyStopping, Hooks, ModelCheckpoint, ReduceLROnPlateau,
                                TerminateOnNaN, has_batch_hooks, restore, snapshot)

from test_keras_callbacks import es_trace as monitor_trace
from test_keras_callbacks import lr_trace as keras_lr_trace


def net(**kw):
    return pn.MLP([2, 3, 1], activation="tanh", seed=1, backend="numpy", **kw)


@pytest.mark.parametrize("monitor, mode", [
    ("val_loss", "min"), ("loss", "min"), ("accuracy", "max"), ("val_accuracy", "max"), ("val_f1", "max"),
    ("r2", "max"), ("val_r2", "max"), ("f1_loss", "min"), ("r2_error", "min")])
def test_auto_mode_is_max_for_accuracy_f1_and_r2(monitor, mode):
    for cls in (EarlyStopping, ReduceLROnPlateau):
        assert cls(monitor=monitor).mode == mode
    assert ModelCheckpoint("x", monitor=monitor).mode == mode
    other = {"min": "max", "max": "min"}[mode]
    assert EarlyStopping(monitor=monitor, mode=other).mode == other


def test_monitor_and_min_delta_are_checked():
    with pytest.raises(TypeError, match="monitor: expected the name of a logged value such as 'val_loss', got 3"):
        ReduceLROnPlateau(monitor=3)
    with pytest.raises(ValueError, match="min_delta: expected a number >= 0.0, got -0.1"):
        EarlyStopping(min_delta=-0.1)
    assert EarlyStopping(min_delta=0.0).min_delta == 0.0
    with pytest.raises(ValueError, match="mode: expected 'auto', 'min' or 'max', got 'up'"):
        ModelCheckpoint("x", mode="up")




def test_improvement_needs_more_than_min_delta_in_min_mode():
    # best 1.0: 0.9 is not below 1.0 − 0.1 (equal up to rounding? 0.9 < 0.9 is False); 0.85 is
    assert monitor_trace(EarlyStopping(monitor="loss", patience=1, min_delta=0.1), [1.0, 0.95], "loss") == \
        [False, True]
    assert monitor_trace(EarlyStopping(monitor="loss", patience=1, min_delta=0.1), [1.0, 0.85], "loss") == \
        [False, False]
    assert monitor_trace(EarlyStopping(monitor="loss", patience=1), [1.0, 1.0], "loss") == [False, True]
    assert monitor_trace(EarlyStopping(monitor="accuracy", patience=1), [0.5, 0.5], "accuracy") == [False, True]


def test_early_stopping_patience_and_repr():
    with pytest.raises(ValueError, match="patience: expected an integer >= 1, got 0"):
        EarlyStopping(patience=0)
    assert monitor_trace(EarlyStopping(monitor="loss", patience=1), [1.0, 2.0], "loss") == [False, True]
    assert monitor_trace(EarlyStopping(monitor="loss", patience=3), [1.0, 2.0, 2.0, 2.0], "loss") == \
        [False, False, False, True]
    with pytest.raises(TypeError, match="restore_best_weights: expected True or False"):
        EarlyStopping(restore_best_weights=1)
    assert repr(EarlyStopping(monitor="loss", patience=3, min_delta=0.5, restore_best_weights=False)) == \
        "EarlyStopping(monitor='loss', patience=3, min_delta=0.5, restore_best_weights=False)"


def test_early_stopping_sets_the_best_epoch_only_with_a_history():
    model = net()
    es = EarlyStopping(monitor="loss", patience=2)
    h = model.fit(np.zeros((4, 2)), [0, 1, 0, 1], epochs=1, early_stopping=es)
    assert h.best_epoch == 1
    es = EarlyStopping(monitor="loss")
    model = net()
    assert model.history is None
    es.set_model(model)
    es.on_train_begin()
    es.on_epoch_end(1, {"loss": 1.0})
    es.on_train_end()                          # no history to write into: nothing fails
    assert es.best_epoch == 1


def test_snapshot_reuses_its_arrays_only_when_they_match():
    model = net(batch_norm=True)
    model.layers[0].running_mean[:] = [1.0, 2.0, 3.0]
    model.layers[0].running_var[:] = [4.0, 5.0, 6.0]
    first = snapshot(model)
    # W, gamma, beta (no bias under batch norm) and the two running statistics of layer 0; W, b of layer 1
    assert len(first) == 7
    np.testing.assert_array_equal(first[3], [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(first[4], [4.0, 5.0, 6.0])
    kept = [a for a in first]
    for p in model.parameters():
        p += 1.0
    model.layers[0].running_var[:] = 9.0
    again = snapshot(model, into=first)
    assert again is first and all(a is b for a, b in zip(again, kept))
    np.testing.assert_array_equal(again[4], [9.0, 9.0, 9.0])
    np.testing.assert_array_equal(again[0], model.layers[0].W)
    restore_to = [a.copy() for a in again]
    for p in model.parameters():
        p -= 5.0
    model.layers[0].running_mean[:] = 0.0
    restore(model, restore_to)
    np.testing.assert_array_equal(model.layers[0].running_mean, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(model.layers[1].W, restore_to[5])
    np.testing.assert_array_equal(model.layers[0].running_var, [9.0, 9.0, 9.0])


@pytest.mark.parametrize("change", ["length", "shape", "dtype"])
def test_snapshot_makes_new_arrays_when_the_old_ones_do_not_fit(change):
    model = net()
    old = snapshot(model)
    if change == "length":
        old = old[:-1]
    elif change == "shape":
        old[1] = np.zeros(4)
    else:
        old[2] = old[2].astype(np.float32)
    new = snapshot(model, into=old)
    assert new is not old and len(new) == 4
    for a, p in zip(new, model.parameters()):
        assert a.dtype == p.dtype and a is not p
        np.testing.assert_array_equal(a, p)
    assert snapshot(model, into=None) is not new


def test_has_batch_hooks_either_hook():
    class Begin(Callback):
        def on_batch_begin(self, batch, logs=None): pass

    class End(Callback):
        def on_batch_end(self, batch, logs=None): pass

    class Epoch(Callback):
        def on_epoch_end(self, epoch, logs=None): pass

    assert has_batch_hooks(Begin()) and has_batch_hooks(End())
    assert not has_batch_hooks(Epoch()) and not has_batch_hooks(Callback())


def test_hooks_tell_the_forms_apart_by_positional_parameters():
    seen = []

    class Mixed(Callback):
        def on_epoch_end(self, epoch, logs=None, *, extra=1):        # keyword-only: Keras form
            seen.append(("keras", epoch, logs))

        def on_train_begin(self, model, logs=None):                  # one more: the earlier form
            seen.append(("earlier", model))

    model = object()
    hooks = Hooks(Mixed(), model)
    hooks.call("on_epoch_end", model, 3, logs={"loss": 1.0})
    hooks.call("on_train_begin", model)
    assert seen == [("keras", 3, {"loss": 1.0}), ("earlier", model)]


def test_checkpoint_checks_and_a_new_fit_forgets_the_best(tmp_path):
    with pytest.raises(TypeError, match="save_best_only: expected True or False"):
        ModelCheckpoint(tmp_path / "m", save_best_only="yes")
    with pytest.raises(TypeError, match="filepath: expected a path \\(str or os.PathLike\\), got int"):
        ModelCheckpoint(3)
    cb = ModelCheckpoint(tmp_path / "m-{epoch}", monitor="loss", min_delta=0.5)
    assert cb.filepath == str(tmp_path / "m-{epoch}") and cb.best is None and cb.saved == []
    model = net()
    cb.set_model(model)
    cb.on_train_begin()
    cb.on_epoch_end(1, {"loss": 2.0})
    cb.on_epoch_end(2, {"loss": 1.6})             # not better by more than 0.5
    cb.on_epoch_end(3, {"loss": 1.4})
    assert [p.rsplit("-", 1)[-1] for p in cb.saved] == ["1.npz", "3.npz"] and cb.best == 1.4
    cb.on_train_begin()
    assert cb.best is None
    cb.on_epoch_end(4, {"loss": 5.0})             # the first epoch of a new fit always improves
    assert cb.saved[-1].endswith("m-4.npz")
    with pytest.raises(ValueError, match=r"filepath: '.*\{0\}' names .* which is neither 'epoch' nor a logged "
                                         r"value \(loss\)"):
        every = ModelCheckpoint(str(tmp_path / "{0}"), save_best_only=False)
        every.set_model(model)
        every.on_epoch_end(1, {"loss": 1.0})


def test_reduce_lr_checks():
    for kw, message in [({"patience": 0}, "patience: expected an integer >= 1, got 0"),
                        ({"cooldown": -1}, "cooldown: expected an integer >= 0, got -1"),
                        ({"min_lr": -1.0}, "min_lr: expected a number >= 0.0, got -1.0"),
                        ({"factor": 1.0}, "factor: expected a number < 1.0, got 1.0"),
                        ({"factor": 0.0}, "factor: expected a number > 0.0, got 0.0")]:
        with pytest.raises(ValueError, match=message):
            ReduceLROnPlateau(**kw)
    cb = ReduceLROnPlateau(cooldown=0, min_lr=0.0, patience=1)
    assert (cb.best, cb.wait, cb.cooling) == (None, 0, 0)


def lr_trace(cb, values):
    """(lr, initial_lr, wait, cooling) after each epoch, monitoring "loss"."""
    return keras_lr_trace(cb, values, key="loss", record=lambda model, cb: (
        model.optimizer.lr, model.optimizer.initial_lr, cb.wait, cb.cooling))


def test_reduce_lr_at_its_floor_stops_cutting():
    cb = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_lr=0.25, cooldown=2, min_delta=0.0)
    trace = lr_trace(cb, [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    assert trace == [(1.0, 1.0, 0, 0),        # the best
                     (0.5, 0.5, 0, 2),        # a cut, then two epochs of cooldown
                     (0.5, 0.5, 0, 1), (0.5, 0.5, 0, 0),
                     (0.25, 0.25, 0, 2),      # cut to the floor
                     (0.25, 0.25, 0, 1), (0.25, 0.25, 0, 0),
                     (0.25, 0.25, 1, 0)]      # at the floor: waiting, no cut
    cb = ReduceLROnPlateau(monitor="loss", factor=0.1, patience=1, min_lr=0.3)
    assert [t[0] for t in lr_trace(cb, [1.0, 1.0])] == [1.0, 0.3]        # max(0.1, 0.3)
    cb = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_delta=0.0)
    assert [t[0] for t in lr_trace(cb, [1.0, 0.5, 0.5])] == [1.0, 1.0, 0.5]


def test_csv_logger_fills_missing_values_and_starts_new_files(tmp_path):
    with pytest.raises(ValueError, match="separator: expected one character, got 3"):
        CSVLogger(tmp_path / "x.csv", separator=3)
    with pytest.raises(ValueError, match="separator: expected one character, got ''"):
        CSVLogger(tmp_path / "x.csv", separator="")
    with pytest.raises(TypeError, match="append: expected True or False"):
        CSVLogger(tmp_path / "x.csv", append="yes")
    path = tmp_path / "new.csv"                # append=True to a file that does not exist yet
    logger = CSVLogger(path, append=True)
    logger.on_train_begin()
    logger.on_epoch_end(1, {"loss": 0.5, "val_loss": 0.25})
    logger.on_epoch_end(2, {"loss": 0.125})
    logger.on_train_end()
    assert path.read_text() == "epoch,loss,val_loss\n1,0.5,0.25\n2,0.125,\n"
    logger = CSVLogger(path, append=True)      # a file with lines: no second header
    logger.on_train_begin()
    logger.on_epoch_end(3, {"loss": 0.0625, "val_loss": 0.5})
    logger.on_train_end()
    assert path.read_text().endswith("2,0.125,\n3,0.0625,0.5\n")
    logger = CSVLogger(path)
    logger.on_train_begin()
    logger.on_epoch_end(1, None)
    logger.on_train_end()
    assert path.read_text() == "epoch\n1\n"


def test_terminate_on_nan_answers_divergence():
    cb = TerminateOnNaN()
    assert cb.stopped_epoch is None
    with pytest.warns(RuntimeWarning, match="TerminateOnNaN: boom"):
        assert cb.on_train_diverged(ValueError("boom")) is True
    assert cb.stopped_epoch is None
    error = pn.TrainingDivergedError("diverged", epoch=7, batch=2, history=None)
    with pytest.warns(RuntimeWarning, match="TerminateOnNaN: diverged"):
        assert cb.on_train_diverged(error) is True
    assert cb.stopped_epoch == 7
    assert Callback().on_train_diverged(error) is False
    model = net()
    model.stop_training = False
    cb.set_model(model)
    with pytest.warns(RuntimeWarning, match="TerminateOnNaN: epoch 3 logged non-finite loss, val_loss; "
                                            "training stopped"):
        cb.on_epoch_end(3, {"val_loss": math.nan, "loss": -math.inf, "lr": 0.1})
    assert model.stop_training and cb.stopped_epoch == 3


def test_terminate_on_nan_warns_at_its_caller():
    """stacklevel 2: the warning names the line that called the hook (here, this file)."""
    cb = TerminateOnNaN()
    model = net()
    model.stop_training = False
    cb.set_model(model)
    with pytest.warns(RuntimeWarning) as seen:
        cb.on_epoch_end(1, {"loss": math.nan})
        cb.on_train_diverged(ValueError("x"))
    assert [w.filename for w in seen] == [__file__, __file__]


def test_csv_logger_append_to_a_one_byte_file_adds_no_header(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("\n")
    logger = CSVLogger(path, append=True)
    logger.on_train_begin()
    logger.on_epoch_end(1, {"loss": 0.5})
    logger.on_train_end()
    assert path.read_text() == "\n1,0.5\n"
