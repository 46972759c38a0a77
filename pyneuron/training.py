"""The training loop: mini-batches, optimizer steps, history, callbacks.

One epoch visits every training sample once, in ``batch_size`` slices of a
fresh permutation drawn from the model's generator (so a seed gives the same
order on every backend). Each batch: forward (training graph), loss,
backward, optional regularization gradients and clipping, one optimizer step.

``history["loss"]`` holds, per epoch, the mean over the epoch's batches of each
batch's loss computed on its forward pass *before* its update (Keras's
convention; with ``batch_size=None`` it is the loss before the epoch's single
step). It includes the L1/L2 penalty when one is set; ``history["val_loss"]``
is the data loss alone on the validation set after the epoch (no penalty), so
it compares across regularization strengths.
"""
from __future__ import annotations

import math
import sys

import numpy as np

from . import optimizers as opt
from .metrics import output_accuracy
from .schedules import Schedule
from .validation import check_number, check_positive_int


class TrainingDivergedError(FloatingPointError):
    """The loss became NaN or infinite. ``epoch`` (1-based) and ``batch`` say where;
    the model has been put back to the last weights whose epoch ended finite."""

    def __init__(self, message, epoch, batch, history):
        super().__init__(message)
        self.epoch, self.batch, self.history = epoch, batch, history


class History:
    """What happened during ``fit``: ``history["loss"]``, ``history["val_loss"]``,
    ``history["accuracy"]`` … one value per epoch; ``epoch`` lists the epochs (1-based)."""

    def __init__(self):
        self.history = {}
        self.epoch = []
        self.stopped_epoch = None
        self.best_epoch = None

    def append(self, epoch, logs):
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

    def __getitem__(self, key):
        return self.history[key]

    def __contains__(self, key):
        return key in self.history

    def __repr__(self):
        last = {k: round(v[-1], 4) for k, v in self.history.items() if v}
        return f"History(epochs={len(self.epoch)}, last={last})"


class Callback:
    """Hooks called by ``fit``. ``logs`` is a dict (batch: ``loss``; epoch: the
    history entries of that epoch). Set ``model.stop_training = True`` to stop."""

    def on_train_begin(self, model, logs=None): pass
    def on_train_end(self, model, logs=None): pass
    def on_epoch_begin(self, model, epoch, logs=None): pass
    def on_epoch_end(self, model, epoch, logs=None): pass
    def on_batch_begin(self, model, batch, logs=None): pass
    def on_batch_end(self, model, batch, logs=None): pass


def snapshot(model):
    """Copies of every array that defines the model's predictions."""
    arrays = []
    for layer in model.layers:
        arrays += [p.copy() for p in layer.parameters()]
        if layer.batch_norm:
            arrays += [layer.running_mean.copy(), layer.running_var.copy()]
    return arrays


def restore(model, arrays):
    it = iter(arrays)
    for layer in model.layers:
        targets = layer.parameters() + ([layer.running_mean, layer.running_var] if layer.batch_norm else [])
        for target in targets:
            target[...] = next(it)


class EarlyStopping(Callback):
    """Stop once ``monitor`` has gone ``patience`` epochs in a row without improving
    by more than ``min_delta`` (as Keras and the tutorials count); with ``restore_best_weights`` the model ends with the
    weights of its best epoch (``history.best_epoch``)."""

    def __init__(self, monitor="val_loss", patience=10, min_delta=0.0, restore_best_weights=True, mode="auto"):
        self.monitor = monitor
        self.patience = check_positive_int(patience, "patience", minimum=1)
        self.min_delta = check_number(min_delta, "min_delta", 0.0)
        self.restore_best_weights = restore_best_weights
        if mode == "auto":
            mode = "max" if "acc" in monitor or monitor.endswith(("f1", "r2")) else "min"
        if mode not in ("min", "max"):
            raise ValueError(f"mode: expected 'auto', 'min' or 'max', got {mode!r}")
        self.mode = mode

    def __repr__(self):
        return (f"EarlyStopping(monitor={self.monitor!r}, patience={self.patience}, "
                f"min_delta={self.min_delta}, restore_best_weights={self.restore_best_weights})")

    def on_train_begin(self, model, logs=None):
        self.best, self.best_epoch, self.wait, self.best_weights = None, None, 0, None

    def _improved(self, value):
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, model, epoch, logs=None):
        if self.monitor not in logs:
            raise ValueError(f"EarlyStopping: monitor {self.monitor!r} is not recorded; "
                             f"available: {sorted(logs)}")
        value = logs[self.monitor]
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = snapshot(model)
        else:
            self.wait += 1
            if self.wait >= self.patience:  # `patience` epochs in a row without improvement
                model.stop_training = True

    def on_train_end(self, model, logs=None):
        if model.history is not None:
            model.history.best_epoch = self.best_epoch
        if self.restore_best_weights and self.best_weights is not None:
            restore(model, self.best_weights)


def _split_validation(model, X, Y, validation_split, validation_data):
    if validation_data is not None:
        if validation_split:
            raise ValueError("validation_split: give either validation_split or validation_data, not both")
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ValueError(f"validation_data: expected a tuple (X_val, y_val), got {type(validation_data).__name__}")
        Xv = model.check_X(validation_data[0], "validation_data[0]")
        return X, Y, Xv, model.encode_y(validation_data[1], Xv.shape[0], "validation_data[1]")
    if not validation_split:
        return X, Y, None, None
    check_number(validation_split, "validation_split", 0.0, 1.0, low_open=True, high_open=True)
    n_val = int(round(X.shape[0] * validation_split))
    if n_val < 1 or n_val >= X.shape[0]:
        raise ValueError(f"validation_split: {validation_split} of {X.shape[0]} samples leaves "
                         f"{n_val} for validation; need at least 1 and fewer than all")
    # A random hold-out (from the model's generator): data sorted by class
    # would otherwise give a validation set of one class.
    order = model.rng.permutation(X.shape[0])
    val, train = order[:n_val], order[n_val:]
    return X[train], Y[train], X[val], Y[val]


def _clip(grads, clip_value, clip_norm):
    if clip_value is not None:
        for g in grads:
            np.clip(g, -clip_value, clip_value, out=g)
    if clip_norm is not None:
        norm = math.sqrt(sum(float(np.sum(g * g)) for g in grads))
        if norm > clip_norm:
            for g in grads:
                g *= clip_norm / norm


def fit(model, X, y, epochs=100, batch_size=32, lr=None, optimizer=None, shuffle=True, verbose=0,
        l2=0.0, l1=0.0, validation_split=0.0, validation_data=None, early_stopping=None,
        callbacks=None, clip_value=None, clip_norm=None, lr_schedule=None, metrics="auto"):
    """Train ``model`` on ``(X, y)``; returns a :class:`History`.

    Parameters
    ----------
    epochs : int
    batch_size : int or None — ``None`` = full batch, ``1`` = stochastic.
    lr : float — learning rate of the default optimizer ``SGD(lr)`` (default 0.01), or of
        an optimizer given by name; an optimizer object carries its own.
    optimizer : Optimizer or name — e.g. ``pyneuron.optimizers.Adam(lr=0.001)`` or ``"adam"``.
    shuffle : bool — a new order every epoch, from the model's generator.
    verbose : 0 silent, 1 a progress bar (tqdm), 2 one line per epoch.
    l2, l1 : penalties ``λ₂/(2m)·ΣW² + λ₁/m·Σ|W|`` on weights (not biases), m = batch size.
    validation_split : fraction held out at random; or ``validation_data=(X_val, y_val)``.
    early_stopping : an :class:`EarlyStopping`.
    callbacks : list of :class:`Callback`.
    clip_value, clip_norm : clip each gradient element, or the global gradient norm.
    lr_schedule : a :class:`~pyneuron.schedules.Schedule`.
    metrics : ``"auto"`` (accuracy for classifiers) or ``()`` for none.
    """
    epochs = check_positive_int(epochs, "epochs")
    Xc = model.check_X(X)
    Y = model.encode_y(y, Xc.shape[0])
    X_tr, Y_tr, X_val, Y_val = _split_validation(model, Xc, Y, validation_split, validation_data)
    m = X_tr.shape[0]
    batch = m if batch_size is None else check_positive_int(batch_size, "batch_size")
    batch = min(batch, m)
    if model.batch_norm and batch < 2:
        raise ValueError(f"batch_size: batch normalization needs at least 2 samples per batch "
                         f"(it normalizes with the batch's variance), got batches of {batch}")
    if optimizer is None:
        optimizer = opt.SGD(lr=0.01 if lr is None else lr)
    elif isinstance(optimizer, str):
        optimizer = opt.get(optimizer, lr)          # fit(optimizer="adam", lr=0.01)
    else:
        if lr is not None:
            raise ValueError("lr: give the learning rate to the optimizer "
                             f"(e.g. {type(optimizer).__name__}(lr={lr})), not to fit, when an optimizer is given")
        optimizer = opt.get(optimizer)
    if verbose not in (0, 1, 2):
        raise ValueError(f"verbose: expected 0, 1 or 2, got {verbose!r}")
    l2 = check_number(l2, "l2", 0.0)
    l1 = check_number(l1, "l1", 0.0)
    if clip_value is not None:
        clip_value = check_number(clip_value, "clip_value", 0.0, low_open=True)
    if clip_norm is not None:
        clip_norm = check_number(clip_norm, "clip_norm", 0.0, low_open=True)
    if lr_schedule is not None and not isinstance(lr_schedule, Schedule):
        raise TypeError(f"lr_schedule: expected a pyneuron.schedules.Schedule, got {type(lr_schedule).__name__}")
    track_accuracy = metrics == "auto" and model.is_classifier
    if metrics not in ("auto", (), [], None):
        raise ValueError(f"metrics: expected 'auto' or (), got {metrics!r}")
    callbacks = list(callbacks or [])
    if early_stopping is not None:
        callbacks.append(early_stopping)
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"callbacks: expected pyneuron Callback objects, got {type(cb).__name__}")
        if getattr(cb, "monitor", "").startswith("val_") and X_val is None:
            raise ValueError(f"{type(cb).__name__}: monitors {cb.monitor!r} but there is no validation "
                             "data; pass validation_split or validation_data, or monitor='loss'")

    model.optimizer = optimizer
    model.history = history = History()
    model.stop_training = False
    fused = (type(optimizer) is opt.SGD and optimizer.momentum == 0 and not (l1 or l2)
             and not model.batch_norm and not any(model.dropout) and clip_value is None and clip_norm is None)
    kernels = model.kernels
    progress = None
    if verbose == 1:
        from tqdm.auto import tqdm
        progress = tqdm(total=epochs, desc="training", unit="epoch", file=sys.stderr)

    for cb in callbacks:
        cb.on_train_begin(model)
    for epoch in range(1, epochs + 1):
        if lr_schedule is not None and lr_schedule.per == "epoch":
            optimizer.lr = lr_schedule(optimizer.initial_lr, epoch - 1)
        for cb in callbacks:
            cb.on_epoch_begin(model, epoch)
        last_good = snapshot(model)
        order = model.rng.permutation(m) if shuffle else np.arange(m)
        batch_losses = []
        for b, start in enumerate(range(0, m, batch)):
            idx = order[start:start + batch]
            Xb, Yb = (X_tr, Y_tr) if len(idx) == m and not shuffle else (X_tr[idx], Y_tr[idx])
            for cb in callbacks:
                cb.on_batch_begin(model, b)
            if lr_schedule is not None and lr_schedule.per == "step":
                optimizer.lr = lr_schedule(optimizer.initial_lr, optimizer.t)
            try:
                # Overflow is detected below as a non-finite loss and reported with
                # its epoch; NumPy's warnings on the way there would only be noise.
                with np.errstate(over="ignore", invalid="ignore"):
                    if fused:
                        optimizer.t += 1
                        value = kernels.sgd_train_step(
                            Xb, Yb, [l.W for l in model.layers], [l.b for l in model.layers],
                            model.activations, model.loss_name, optimizer.lr, model.alpha)
                    else:
                        value = _train_batch(model, kernels, optimizer, Xb, Yb, l1, l2, clip_value, clip_norm)
            except OverflowError:  # Python floats (scalar backend) raise instead of giving inf
                value = math.inf
            if not math.isfinite(value):
                restore(model, last_good)
                if progress is not None:
                    progress.close()
                raise TrainingDivergedError(
                    f"training diverged: the loss became {value} at epoch {epoch}, batch {b + 1}. "
                    f"The model keeps the weights from the start of epoch {epoch}. "
                    f"Try a smaller learning rate (it was {optimizer.lr}), scaled inputs, or clip_norm.",
                    epoch, b + 1, history)
            batch_losses.append(value)
            for cb in callbacks:
                cb.on_batch_end(model, b, {"loss": value})
        logs = {"loss": float(np.mean(batch_losses))}
        if track_accuracy:
            logs["accuracy"] = output_accuracy(model._forward(X_tr), Y_tr, model.loss_name)
        if X_val is not None:
            A_val = model._forward(X_val)
            logs["val_loss"] = model._data_loss(A_val, Y_val)
            if track_accuracy:
                logs["val_accuracy"] = output_accuracy(A_val, Y_val, model.loss_name)
        logs["lr"] = optimizer.lr
        history.append(epoch, logs)
        for cb in callbacks:
            cb.on_epoch_end(model, epoch, logs)
        shown = {k: f"{v:.4f}" for k, v in logs.items() if k != "lr"}
        if progress is not None:
            progress.set_postfix(shown, refresh=False)
            progress.update(1)
        elif verbose == 2:
            print(f"epoch {epoch}/{epochs} - " + " - ".join(f"{k}: {v}" for k, v in shown.items()), flush=True)
        if model.stop_training:
            history.stopped_epoch = epoch
            break
    if progress is not None:
        progress.close()
    for cb in callbacks:
        cb.on_train_end(model)
    return history


def _train_batch(model, kernels, optimizer, Xb, Yb, l1, l2, clip_value, clip_norm):
    """One generic step: forward (training graph), loss (+ penalty), backward, update."""
    A = model._forward(Xb, batch_stats=model.batch_norm, rng=model.rng)
    value = model._data_loss(A, Yb)
    m = Xb.shape[0]
    if l1 or l2:
        value += sum(kernels.penalty(layer.W, l1, l2, m) for layer in model.layers)
    if not math.isfinite(value):
        return value
    model._backward(Yb)
    if l1 or l2:
        for layer in model.layers:
            layer.grads["dW"] = layer.grads["dW"] + kernels.penalty_gradient(layer.W, l1, l2, m)
    grads = [g for layer in model.layers for g in layer.gradients()]
    if clip_value is not None or clip_norm is not None:
        grads = [g.copy() for g in grads]
        _clip(grads, clip_value, clip_norm)
    optimizer.step(kernels, model.parameters(), grads)
    return value
