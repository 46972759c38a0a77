"""The training loop's features (issue 5): validation, early stopping,
callbacks, progress, clipping, divergence, and the tutorials' full runs."""
import numpy as np
import pytest

import pyneuron as pn

from helpers import assert_close


@pytest.fixture
def moons():
    return pn.datasets.make_moons(200, noise=0.2, seed=0)


def test_validation_split_and_data(moons):
    X, y = moons
    model = pn.MLP([2, 8, 1], seed=0)
    h = model.fit(X, y, epochs=3, validation_split=0.25)
    assert set(h.history) >= {"loss", "val_loss", "accuracy", "val_accuracy", "lr"}
    assert all(len(v) == 3 for v in h.history.values())
    # validation_data: val_loss is exactly the model's loss on that data after the epoch
    model = pn.MLP([2, 8, 1], seed=0)
    h = model.fit(X[:150], y[:150], epochs=2, validation_data=(X[150:], y[150:]))
    assert h["val_loss"][-1] == pytest.approx(model.loss(X[150:], y[150:]), rel=1e-12)
    with pytest.raises(ValueError, match="validation_split"):
        model.fit(X, y, epochs=1, validation_split=1.5)
    with pytest.raises(ValueError, match="validation_split: give either"):
        model.fit(X, y, epochs=1, validation_split=0.2, validation_data=(X, y))


def test_early_stopping_stops_and_restores_the_best_weights(moons):
    X, y = moons
    seen = {}

    class Record(pn.Callback):
        def on_epoch_end(self, model, epoch, logs=None):
            seen[epoch] = model.get_weights()

    model = pn.MLP([2, 64, 64, 1], seed=0)
    stopper = pn.EarlyStopping(monitor="val_loss", patience=5)
    # a large learning rate makes validation loss bounce, so it stops early
    h = model.fit(X[:40], y[:40], epochs=500, batch_size=4, lr=0.5, validation_data=(X[40:], y[40:]),
                  early_stopping=stopper, callbacks=[Record()])
    assert h.stopped_epoch is not None and h.stopped_epoch < 500
    best = int(np.argmin(h["val_loss"])) + 1
    assert h.best_epoch == best
    # it stops after `patience` epochs in a row without improvement
    assert h.stopped_epoch - best == stopper.patience
    for a, b in zip(model.get_weights(), seen[best]):
        assert_close(a, b, rtol=0, atol=0)
    assert model.loss(X[40:], y[40:]) == pytest.approx(h["val_loss"][best - 1], rel=1e-12)


def test_early_stopping_needs_its_monitor(moons):
    X, y = moons
    with pytest.raises(ValueError, match="no validation"):
        pn.MLP([2, 4, 1]).fit(X, y, epochs=2, early_stopping=pn.EarlyStopping())
    h = pn.MLP([2, 4, 1], seed=0).fit(X, y, epochs=3, early_stopping=pn.EarlyStopping(monitor="loss"))
    assert len(h.epoch) == 3


def test_callbacks_are_called_in_order(moons):
    X, y = moons
    calls = []

    class Spy(pn.Callback):
        def on_train_begin(self, model, logs=None): calls.append("train_begin")
        def on_epoch_begin(self, model, epoch, logs=None): calls.append(f"epoch_begin{epoch}")
        def on_batch_begin(self, model, batch, logs=None): calls.append("b")
        def on_batch_end(self, model, batch, logs=None): calls.append("B") if logs["loss"] > 0 else None
        def on_epoch_end(self, model, epoch, logs=None): calls.append(f"epoch_end{epoch}")
        def on_train_end(self, model, logs=None): calls.append("train_end")

    pn.MLP([2, 4, 1], seed=0).fit(X[:100], y[:100], epochs=2, batch_size=50, callbacks=[Spy()])
    assert calls == ["train_begin", "epoch_begin1", "b", "B", "b", "B", "epoch_end1",
                     "epoch_begin2", "b", "B", "b", "B", "epoch_end2", "train_end"]


def test_a_callback_can_stop_training(moons):
    X, y = moons

    class StopAt2(pn.Callback):
        def on_epoch_end(self, model, epoch, logs=None):
            if epoch == 2:
                model.stop_training = True

    h = pn.MLP([2, 4, 1]).fit(X, y, epochs=10, callbacks=[StopAt2()])
    assert h.epoch == [1, 2] and h.stopped_epoch == 2


def test_verbose_modes(moons, capsys):
    X, y = moons
    pn.MLP([2, 4, 1]).fit(X, y, epochs=3, verbose=0)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""
    pn.MLP([2, 4, 1]).fit(X, y, epochs=3, verbose=2)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and lines[0].startswith("epoch 1/3") and "loss:" in lines[0]
    pn.MLP([2, 4, 1]).fit(X, y, epochs=3, verbose=1)
    err = capsys.readouterr().err
    assert "3/3" in err and "epoch" in err   # tqdm's bar on stderr
    with pytest.raises(ValueError, match="verbose"):
        pn.MLP([2, 4, 1]).fit(X, y, epochs=1, verbose=3)


def test_gradient_clipping_by_value_and_norm(moons):
    X, y = moons
    model = pn.MLP([2, 8, 1], seed=0)
    before = model.get_weights()
    model.fit(X, y, epochs=1, batch_size=None, lr=1.0, clip_value=1e-3)
    for a, b in zip(model.get_weights(), before):
        assert np.max(np.abs(a - b)) <= 1e-3 + 1e-15
    model = pn.MLP([2, 8, 1], seed=0)
    grads = model.gradients(X, y)
    full = np.sqrt(sum(np.sum(g ** 2) for g in grads))
    model.fit(X, y, epochs=1, batch_size=None, lr=1.0, clip_norm=full / 10)
    step = np.sqrt(sum(np.sum((a - b) ** 2) for a, b in zip(model.get_weights(), before)))
    assert step == pytest.approx(full / 10, rel=1e-9)


def test_divergence_is_caught_and_weights_stay_finite():
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 3000, size=(64, 3))          # unscaled inputs, as in seed 001's house prices
    y = X @ np.array([100.0, 20.0, 3.0])
    model = pn.MLP([3, 8, 1], activation="linear", output="linear", seed=0)
    with pytest.raises(pn.TrainingDivergedError, match="epoch") as info:
        model.fit(X, y, epochs=50, batch_size=16, lr=0.1)
    assert info.value.epoch >= 1
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())
    assert isinstance(info.value, FloatingPointError)


def test_full_batch_loss_is_the_loss_before_the_step(moons):
    X, y = moons
    model = pn.MLP([2, 5, 1], seed=2)
    before = model.loss(X, y)
    h = model.fit(X, y, epochs=2, batch_size=None, lr=0.1)
    assert h["loss"][0] == pytest.approx(before, rel=1e-12)


def tutorial_circles(n_samples=2000, seed=42):
    """Seed 000's 'complex' set: radius and angle uniform, class 0 inside r = 0.5,
    class 1 outside, then Gaussian noise 0.1 on both coordinates."""
    rng = np.random.default_rng(seed)
    radius = rng.random(n_samples)
    angle = 2 * np.pi * rng.random(n_samples)
    X = np.c_[radius * np.cos(angle), radius * np.sin(angle)] + rng.normal(0, 0.1, (n_samples, 2))
    return X, (radius >= 0.5).astype(int)


@pytest.mark.slow
def test_seed_000_complete_pipeline():
    # 2-32-16-8-1 relu, dropout 0.2, L2 0.01, Adam 0.001, batch 32, early stopping patience 30
    X, y = tutorial_circles()
    model = pn.MLP([2, 32, 16, 8, 1], activation="relu", dropout=0.2, seed=0)
    h = model.fit(X, y, epochs=400, batch_size=32, optimizer=pn.optimizers.Adam(lr=0.001), l2=0.01,
                  validation_split=0.2, early_stopping=pn.EarlyStopping(patience=30))
    assert h["val_accuracy"][h.best_epoch - 1] >= 0.88


@pytest.mark.slow
def test_seed_002_digits_classifier():
    sk = pytest.importorskip("sklearn.datasets")
    digits = sk.load_digits()
    X, y = digits.data, digits.target
    X_tr, X_te, y_tr, y_te = pn.datasets.train_test_split(X, y, test_size=0.2, seed=3)
    scaler = pn.datasets.Standardizer().fit(X_tr)
    # seed 002: 64-64-32-10 relu/softmax, Xavier init, plain SGD lr 0.01, batch 32 (it runs
    # 500 epochs; 300 reach 97-98 % on seeds 0-2 here, where 100 leave seed 0 at 96.1 %)
    model = pn.MLP([64, 64, 32, 10], activation="relu", output="softmax", init="xavier_normal",
                   seed=0, backend="c" if "c" in pn.available_backends() else "numpy")
    model.fit(scaler.transform(X_tr), y_tr, epochs=300, batch_size=32, lr=0.01, metrics=())
    assert model.score(scaler.transform(X_te), y_te) >= 0.96


def test_divergence_is_caught_on_every_backend(backend):
    X = np.array([[1000.0, -2000.0], [3000.0, 500.0], [-1500.0, 2500.0], [2000.0, 2000.0]])
    y = np.array([1e5, -2e5, 3e5, 1e5])
    model = pn.MLP([2, 3, 1], activation="linear", output="linear", seed=0, backend=backend)
    with pytest.raises(pn.TrainingDivergedError) as info:
        model.fit(X, y, epochs=100, batch_size=None, lr=0.5)
    assert info.value.epoch > 1   # the first epoch's loss (before its step) is finite
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())
    assert f"epoch {info.value.epoch}" in str(info.value)
