"""A second fit continues (Keras's habit): the model's optimizer with its state, the epoch
count and the learning-rate schedules -- also after pn.load. Two fits of 2 epochs are
checked against one fit of 4, bit for bit, on every backend."""
from __future__ import annotations

import numpy as np
import pytest

import pyneuron as pn
from pyneuron import optimizers as opt
from pyneuron import schedules

X = np.random.default_rng(0).normal(size=(24, 3))
Y = (X[:, 0] * X[:, 1] > 0).astype(int)


def net(backend):
    return pn.MLP([3, 6, 1], activation="tanh", seed=4, backend=backend)


def same_weights(a, b):
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p, q)


@pytest.mark.parametrize("make, schedule", [
    (lambda: opt.Adam(lr=0.01), schedules.StepDecay(step_size=1, gamma=0.5)),
    (lambda: opt.SGD(lr=0.1, momentum=0.9, decay=0.05), None),
    (lambda: opt.RMSprop(lr=0.01), schedules.ExponentialDecay(gamma=0.9, per="step")),
])
def test_two_fits_are_one_longer_fit(backend, make, schedule):
    once, twice = net(backend), net(backend)
    h = once.fit(X, Y, epochs=4, batch_size=5, optimizer=make(), lr_schedule=schedule)
    twice.fit(X, Y, epochs=2, batch_size=5, optimizer=make(), lr_schedule=schedule)
    first_optimizer = twice.optimizer
    h2 = twice.fit(X, Y, epochs=2, batch_size=5, lr_schedule=schedule)   # no optimizer: the model's
    assert twice.optimizer is first_optimizer and twice.optimizer.t == once.optimizer.t == 4 * 5
    same_weights(once, twice)
    assert h2.epoch == [3, 4] and h2["loss"] == h["loss"][2:] and h2["lr"] == h["lr"][2:]
    assert twice.epochs_trained == 4


def test_after_load_training_goes_on_as_if_never_saved(backend, tmp_path):
    once, first = net(backend), net(backend)
    once.fit(X, Y, epochs=4, batch_size=5, optimizer=opt.Adam(lr=0.02),
             lr_schedule=schedules.StepDecay(step_size=2, gamma=0.5))
    first.fit(X, Y, epochs=2, batch_size=5, optimizer=opt.Adam(lr=0.02),
              lr_schedule=schedules.StepDecay(step_size=2, gamma=0.5))
    loaded = pn.load(first.save(tmp_path / "half"))
    assert isinstance(loaded.optimizer, opt.Adam) and loaded.optimizer.t == 10
    # the file keeps the epoch count, so the schedule goes on where it stood
    assert loaded.epochs_trained == 2 and repr(loaded).count("epochs_trained=2") == 1
    h = loaded.fit(X, Y, epochs=2, batch_size=5, lr_schedule=schedules.StepDecay(step_size=2, gamma=0.5))
    assert h.epoch == [3, 4] and h["lr"] == [0.01, 0.01]
    same_weights(once, loaded)
    assert pn.load(loaded.save(tmp_path / "whole")).epochs_trained == 4


def test_a_model_never_trained_loads_at_epoch_zero(tmp_path):
    assert pn.load(net("numpy").save(tmp_path / "new")).epochs_trained == 0


def with_optimizer_record(model, tmp_path, change):
    """The model saved, its optimizer record rewritten by ``change(meta)``; the new file's path."""
    import json
    with np.load(model.save(tmp_path / "m")) as npz:
        arrays = {k: npz[k] for k in npz.files}
    meta = json.loads(str(arrays["optimizer"]))
    change(meta)
    arrays["optimizer"] = np.array(json.dumps(meta))
    np.savez(tmp_path / "changed.npz", **arrays)
    return tmp_path / "changed.npz"


@pytest.mark.parametrize("bad", [-1, 1.5, "2", True, None])
def test_a_bad_epoch_count_in_a_file_is_refused(tmp_path, bad):
    model = net("numpy")
    model.fit(X, Y, epochs=1)
    path = with_optimizer_record(model, tmp_path, lambda meta: meta.update(epochs=bad))
    with pytest.raises(pn.ModelFileError, match="epoch count 'epochs': expected an integer >= 0"):
        pn.load(path)


def test_a_file_from_before_the_epoch_count_loads_at_zero(tmp_path):
    model = net("numpy")
    model.fit(X, Y, epochs=3)
    old = pn.load(with_optimizer_record(model, tmp_path, lambda meta: meta.pop("epochs")))
    assert old.epochs_trained == 0 and old.optimizer.t == model.optimizer.t


def test_lr_without_optimizer_sets_the_continued_optimizers_rate():
    model = net("numpy")
    model.fit(X, Y, epochs=1, optimizer="adam", lr=0.01)
    adam = model.optimizer
    model.fit(X, Y, epochs=1, lr=0.003)
    assert model.optimizer is adam and adam.lr == adam.initial_lr == 0.003 and adam.t == 2 * 1


def test_a_named_or_given_optimizer_starts_fresh():
    model = net("numpy")
    model.fit(X, Y, epochs=1, optimizer="adam")
    model.fit(X, Y, epochs=1, optimizer="adam")
    assert model.optimizer.t == 1                   # a name makes a new optimizer
    sgd = opt.SGD(lr=0.05)
    model.fit(X, Y, epochs=1, optimizer=sgd)
    assert model.optimizer is sgd and sgd.t == 1


def test_first_fit_without_optimizer_is_sgd_at_001():
    model = net("numpy")
    model.fit(X, Y, epochs=1)
    assert type(model.optimizer) is opt.SGD and model.optimizer.lr == 0.01


def test_initial_epoch_numbers_the_epochs_and_callbacks():
    seen = []

    class Record(pn.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            seen.append(epoch)

    model = net("numpy")
    h = model.fit(X, Y, epochs=3, initial_epoch=10, callbacks=[Record()])
    assert h.epoch == [11, 12, 13] and seen == [11, 12, 13] and model.epochs_trained == 13
    assert model.fit(X, Y, epochs=1).epoch == [14]


def test_a_diverged_second_fit_keeps_the_epoch_count():
    model = pn.MLP([3, 6, 1], output="linear", seed=0)
    model.fit(X, X[:, 0], epochs=2)
    with pytest.raises(pn.TrainingDivergedError) as err:
        model.fit(X, X[:, 0] * 1e30, epochs=3, lr=1e30)
    assert err.value.epoch in (3, 4, 5)            # numbered on from the first fit
    assert model.epochs_trained == err.value.epoch - 1   # the weights from before that epoch


@pytest.mark.parametrize("bad", [-1, 1.5, "2", True])
def test_initial_epoch_is_checked(bad):
    with pytest.raises((ValueError, TypeError), match="initial_epoch"):
        net("numpy").fit(X, Y, epochs=1, initial_epoch=bad)
